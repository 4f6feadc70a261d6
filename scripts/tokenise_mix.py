"""Tokenise the v2 mix with the shipped tokenizer into one compressed file for the device's ``carry/``.

    python scripts/tokenise_mix.py [--text runs/mix/text] [--out carry/mix_v2.npz.xz] [--limit N]

Each source's paragraphs are cut into units exactly as the trainer's ``read_units`` cuts them and encoded once
(weights are applied on the device by ``scripts/device_grid.py``, as ``build_token_data`` would). ``--limit``
keeps only the first N units of each source (toy runs and tests).
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT))

from mixlib.tokens import SourceUnits, pack  # noqa: E402

from assistant.text.tokenizer import Tokenizer  # noqa: E402
from assistant.train.base import read_mix_file  # noqa: E402
from assistant.train.data import PARAGRAPH_SEPARATOR, read_units  # noqa: E402

SOURCES = ROOT / "scripts" / "mix_sources.json"


def tokenise(
    text_dir: Path, tokenizer: Tokenizer, weights: dict[str, float], limit: int = 0, presample: bool = False
) -> list[SourceUnits]:
    """Encoded units of every source file in ``text_dir`` that the weights keep (weight > 0).

    ``presample``: a source weighted below 1 keeps only a seeded random share of its units equal to its weight
    (it is then trained on with weight 1), which makes the file smaller at the same expected mix.
    """
    out = []
    for path in sorted(text_dir.glob("*.txt")):
        weight = weights.get(path.stem, 1.0)
        if weight <= 0:
            continue
        units = read_units(path)
        if limit:
            units = units[:limit]
        if presample and weight < 1:
            keep = sorted(random.Random(f"presample:{path.stem}").sample(range(len(units)), round(len(units) * weight)))
            units = [units[i] for i in keep]
        encoded = tokenizer.encode_batch(units)
        lengths = np.array([len(e) for e in encoded], dtype=np.int64)
        ids = np.fromiter((t for e in encoded for t in e), dtype=np.uint16, count=int(lengths.sum()))
        out.append(SourceUnits(path.stem, ids, lengths, np.array([len(u) for u in units], dtype=np.int64)))
        print(f"{path.stem}: {len(units):,} units, {int(lengths.sum()):,} pieces", file=sys.stderr, flush=True)
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--text", type=Path, default=ROOT / "runs" / "mix" / "text")
    p.add_argument("--sources", type=Path, default=SOURCES, help="weights (sources weighted 0 are left out)")
    p.add_argument("--tokenizer", type=Path, default=ROOT / "models" / "base" / "tokenizer.model")
    p.add_argument("--out", type=Path, default=ROOT / "carry" / "mix_v2.npz.xz")
    p.add_argument("--limit", type=int, default=0, help="first N units of each source only")
    p.add_argument("--preset", type=int, default=9, help="xz preset (0-9)")
    p.add_argument("--presample", action="store_true", help="store only the share of each source its weight uses")
    args = p.parse_args(argv)
    t0 = time.time()
    tokenizer = Tokenizer(args.tokenizer)
    if tokenizer.vocab_size > 65536:
        raise SystemExit("ids are stored as uint16: the vocabulary must have at most 65,536 pieces")
    weights = read_mix_file(args.sources)
    sources = tokenise(args.text, tokenizer, weights, args.limit, args.presample)
    if not sources:
        raise SystemExit(f"no .txt files in {args.text}")
    meta = {
        "tokenizer_sha256": tokenizer.sha256,
        "separator_chars": len(PARAGRAPH_SEPARATOR),
        "presampled": {s.name: weights[s.name] for s in sources if args.presample and weights.get(s.name, 1.0) < 1},
    }
    blob = pack(sources, tokenizer.encode(PARAGRAPH_SEPARATOR), meta, preset=args.preset)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(blob)
    pieces = sum(int(s.lengths.sum()) for s in sources)
    print(
        f"{args.out}: {len(blob) / 2**20:.1f} MiB for {pieces:,} pieces "
        f"({8 * len(blob) / max(1, pieces):.2f} bits/piece), {time.time() - t0:.0f} s",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
