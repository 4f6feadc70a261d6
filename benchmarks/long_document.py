"""The engine on one very long document, as the app gives it (the whole text before the cursor).

    python benchmarks/long_document.py [--mb 5] [--keys 23] [FILE]

Makes a document of ``--mb`` megabytes from FILE repeated (default: ../shared/data/eval/general/wiki_heldout.txt),
asks the shipped predictor (personal memory and privacy controls of a fresh user folder) for suggestions at its
end, then types ``--keys`` characters there, one answer each. Prints the first answer's time (the document memory
is built over the part the engine takes, ``engine/window.given_start``) and the keystrokes' p50 and max. Run it
with ``PYTHONPATH`` set to another checkout to compare.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import torch
from benchdata import SHARED, require

TYPED = " the cat sat on the mat and the dog sat on the log"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("file", nargs="?", type=Path, default=SHARED / "eval" / "general" / "wiki_heldout.txt")
    parser.add_argument("--mb", type=float, default=5.0, help="the document's size in megabytes")
    parser.add_argument("--keys", type=int, default=23, help="keystrokes typed at its end")
    args = parser.parse_args()
    require([args.file])
    os.environ.setdefault("ASSISTANT_HOME", tempfile.mkdtemp(prefix="long-document-"))
    from assistant.eval.metrics import percentile
    from assistant.personal.space import UserSpace

    torch.set_num_threads(1)
    space = UserSpace.default()
    model, _ = space.choose("base")
    text = args.file.read_text(encoding="utf-8")
    size = int(args.mb * 1_000_000)
    doc = (text * (size // len(text) + 1))[:size]
    predictor = space.predictor(model)
    start = time.perf_counter()
    predictor.suggest(doc)
    first = time.perf_counter() - start
    times = []
    for ch in (TYPED * (args.keys // len(TYPED) + 1))[: args.keys]:
        doc += ch
        start = time.perf_counter()
        predictor.suggest(doc)
        times.append((time.perf_counter() - start) * 1000)
    print(
        f"{args.mb} MB document, {args.keys} keystrokes at its end: first answer {first:.1f} s, keystroke p50 "
        f"{percentile(times, 50):.1f} ms, max {max(times):.1f} ms"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
