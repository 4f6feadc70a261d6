"""Write an SVG screenshot of the writing app with ghost text and suggestions (for docs/).

Usage: python scripts/app_screenshot.py [OUT.svg] [--size 100x30]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from assistant.app.app import WriterApp  # noqa: E402
from assistant.app.driving import settle, started, type_text  # noqa: E402
from assistant.store.documents import DocumentStore  # noqa: E402
from assistant.store.paths import Paths  # noqa: E402

LETTER = "Dear Anna,\n\nThank you for your message. I have read the report and I agree with most of it.\n\n"
TYPED = "The meeting has been moved to Thursday, and I hope to see you there as soon as poss"


async def shoot(out: Path, size: tuple[int, int]) -> None:
    with tempfile.TemporaryDirectory() as home:
        paths = Paths.at(Path(home))
        store = DocumentStore(paths.documents)
        store.save("Letter to Anna", LETTER)
        store.save("Notes", "Ideas for the garden.\n")
        store.save("Travel plans", "Trains to Lyon.\n")
        app = WriterApp(paths)
        async with app.run_test(size=size) as pilot:
            await started(pilot, app)
            app.editor.move_cursor(app.editor.document.end)
            await type_text(pilot, TYPED)
            await settle(pilot, app)
            app.save_screenshot(str(out))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", nargs="?", default=str(ROOT / "docs" / "app.svg"))
    parser.add_argument("--size", default="100x30", help="terminal columns x rows")
    args = parser.parse_args()
    cols, rows = (int(x) for x in args.size.split("x"))
    asyncio.run(shoot(Path(args.out), (cols, rows)))
    print(args.out)


if __name__ == "__main__":
    main()
