"""What the secrets check costs per call: ``find_secrets`` on the 256 characters before a suggestion plus the
suggested word (what the suggestion guard reads for each candidate), over the base model's general sample.

    .venv/bin/python benchmarks/secrets_filter.py [--rounds 3]

Another version of the code: run it with ``PYTHONPATH`` pointing at that checkout.
"""

from __future__ import annotations

import argparse
import inspect
import timeit

from assistant.shipped import base_model_dir
from assistant.text.secrets import find_secrets


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    text = (base_model_dir() / "general_sample.txt").read_text(encoding="utf-8")
    tails = [text[i : i + 256] + "candidate" for i in range(0, min(len(text) - 256, 40_000), 97)]
    modes = (False, True) if "partial" in inspect.signature(find_secrets).parameters else (False,)  # older code
    for r in range(args.rounds):
        for partial in modes:
            kw = {"partial": True} if partial else {}
            t = timeit.timeit(lambda kw=kw: [find_secrets(x, **kw) for x in tails], number=5)
            print(f"round {r}: partial={partial}: {t / (5 * len(tails)) * 1e6:.1f} us per call ({len(tails)} tails)")


if __name__ == "__main__":
    main()
