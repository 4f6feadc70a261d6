"""Choose the v2 base model from the unpacked grid: best development KSR@3 whose int8 keystroke p95 <= 5 ms.

    python scripts/select_grid.py [--grid runs/grid] [--baseline models/base] [--max-words N] [--chars N]
                                  [--json runs/grid/selection.json]

For every model folder in ``--grid`` and the current model (``--baseline``): keystroke latency with int8 weights
(``benchmarks/latency.py``, one thread, the first ``--chars`` characters of each development text), then
bits/char and KSR@1/3/5 on each development text (``../shared/data/eval/general/*.txt``, the first
``--max-words`` words; ``assistant.eval.runner.run_eval``, as ``benchmarks/quality.py``). Prints a markdown table,
names the chosen model, and says whether it beats the current one on both texts in bits/char and KSR@3 (the
condition for shipping it). Reads the shared evaluation texts, as benchmarks may.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from assistant.eval.runner import run_eval  # noqa: E402

EVAL_DIR = ROOT.parent / "shared" / "data" / "eval" / "general"
P95_BUDGET_MS = 5.0


def latency(model: Path, chars: int) -> dict:
    """``benchmarks/latency.py``'s JSON for one model (int8 weights)."""
    cmd = [sys.executable, str(ROOT / "benchmarks" / "latency.py"), "--model", str(model), "--chars", str(chars)]
    out = subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True, text=True).stdout
    return json.loads(out[out.index("{") :])


def measure(model: Path, texts: list[Path], max_words: int | None, chars: int) -> dict:
    """Latency, bits/char and KSR of one model on each development text."""
    row: dict = {"model": str(model), "latency": latency(model, chars), "texts": {}}
    for path in texts:
        r = run_eval([path], model_dir=model, max_words=max_words, progress=False)
        row["texts"][path.stem] = {"bpc": r["bpc"], "ksr": r["ksr"], "words": r["words"]}
    row["ksr3_mean"] = round(sum(t["ksr"]["3"] for t in row["texts"].values()) / len(texts), 4)
    return row


def beats(new: dict, old: dict) -> bool:
    """Better on every text in both bits/char (lower) and KSR@3 (higher)."""
    return all(
        new["texts"][t]["bpc"] < old["texts"][t]["bpc"] and new["texts"][t]["ksr"]["3"] > old["texts"][t]["ksr"]["3"]
        for t in old["texts"]
    )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--grid", type=Path, default=ROOT / "runs" / "grid")
    p.add_argument("--baseline", type=Path, default=ROOT / "models" / "base")
    p.add_argument("--eval-dir", type=Path, default=EVAL_DIR)
    p.add_argument("--max-words", type=int, default=None, help="KSR over the first N words of each text")
    p.add_argument("--chars", type=int, default=5000, help="characters typed per text for latency")
    p.add_argument("--json", type=Path, default=None)
    args = p.parse_args(argv)
    texts = sorted(args.eval_dir.glob("*.txt"))
    if not texts:
        raise SystemExit(f"no development texts in {args.eval_dir}")
    models = sorted(d for d in args.grid.iterdir() if (d / "config.json").is_file())
    rows = {"current": measure(args.baseline, texts, args.max_words, args.chars)}
    for model in models:
        rows[model.name] = measure(model, texts, args.max_words, args.chars)
        print(model.name, json.dumps(rows[model.name]["texts"]), file=sys.stderr, flush=True)
    names = [t.stem for t in texts]
    head = " | ".join(f"{n} bpc | {n} KSR@3" for n in names)
    print(f"| model | params | p50 ms | p95 ms | {head} |")
    print("|---|---|---|---|" + "---|---|" * len(names))
    for name, r in rows.items():
        params = json.loads((Path(r["model"]) / "config.json").read_text()).get("parameters", "")
        cells = " | ".join(f"{r['texts'][n]['bpc']:.3f} | {r['texts'][n]['ksr']['3']:.3f}" for n in names)
        lat = r["latency"]
        print(f"| {name} | {params:,} | {lat['p50_ms']:.2f} | {lat['p95_ms']:.2f} | {cells} |")
    fit = {k: v for k, v in rows.items() if k != "current" and v["latency"]["p95_ms"] <= P95_BUDGET_MS}
    chosen = max(fit, key=lambda k: fit[k]["ksr3_mean"]) if fit else None
    ship = chosen is not None and beats(rows[chosen], rows["current"])
    print(f"\nchosen: {chosen}; beats the current model on both texts in bits/char and KSR@3: {ship}")
    if args.json:
        args.json.write_text(json.dumps({"rows": rows, "chosen": chosen, "ship": ship}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
