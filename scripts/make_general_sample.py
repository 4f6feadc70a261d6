"""Write the general-English sample shipped beside the base model (the fine-tuning forgetting check).

    python scripts/make_general_sample.py ../shared/data/train models/base/general_sample.txt

It takes paragraphs that base training held out for validation (never trained on), a few from every file of
the mix, so the sample covers chat, prose, dialogue and documentation.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

from assistant.train.data import read_units

PER_FILE_CHARS = 3000
SEED = 1234  # the seed of base training's validation split


def main(data_dir: str, out: str) -> None:
    parts: list[str] = []
    for f in sorted(Path(data_dir).glob("*.txt")):
        units = read_units(f)
        order = list(range(len(units)))
        random.Random(f"{SEED}:{f.stem}").shuffle(order)
        n_val = min(300, int(len(units) * 0.01)) if len(units) >= 20 else 0
        taken = 0
        for i in order[:n_val]:
            if taken >= PER_FILE_CHARS:
                break
            unit = units[i][: PER_FILE_CHARS - taken]
            parts.append(unit)
            taken += len(unit)
    Path(out).write_text("\n\n".join(parts) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
