"""Single-token inference step latency on one CPU thread (the base-model size budget: median < 1.5 ms).

    python benchmarks/step_latency.py                 # the shipped base model
    python benchmarks/step_latency.py --grid          # candidate architectures (random weights)

Reads nothing from ../shared/data.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import torch

from assistant.lm.io import load_model
from assistant.lm.model import GRUConfig, GRULanguageModel
from assistant.lm.quantize import quantize_for_inference
from assistant.shipped import base_model_dir

GRID = [
    (4000, 256, 512, 1),
    (8000, 256, 512, 1),
    (8000, 256, 768, 1),
    (8000, 384, 768, 1),
    (8000, 256, 512, 2),
    (16000, 256, 512, 1),
]


def measure(model: GRULanguageModel, steps: int = 2000) -> dict[str, float]:
    """Median and p95 milliseconds of ``model.step`` for one piece, batch 1."""
    model.eval()
    h = model.init_hidden(1)
    x = torch.tensor([5])
    times = []
    for i in range(steps + 200):
        t0 = time.perf_counter()
        lp, h = model.step(x, h)
        dt = time.perf_counter() - t0
        x = lp.argmax(-1)
        if i >= 200:
            times.append(dt * 1e3)
    times.sort()
    return {"median_ms": statistics.median(times), "p95_ms": times[int(0.95 * len(times))]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--grid", action="store_true", help="measure candidate sizes instead of a model")
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--int8", action="store_true", help="dynamic int8 weights, as the predictor runs them")
    args = parser.parse_args()
    torch.set_num_threads(1)
    rows = []
    if args.grid:
        for v, e, h, layers in GRID:
            float_model = GRULanguageModel(GRUConfig(v, e, h, layers, 0.0))
            m = quantize_for_inference(float_model) if args.int8 else float_model
            rows.append(
                {
                    "vocab": v,
                    "embed": e,
                    "hidden": h,
                    "layers": layers,
                    "params": float_model.num_parameters(),
                    **measure(m, args.steps),
                }
            )
    else:
        lm = load_model(args.model or base_model_dir())
        c = lm.model.config
        rows.append(
            {
                "vocab": c.vocab_size,
                "embed": c.embed_dim,
                "hidden": c.hidden_dim,
                "layers": c.num_layers,
                "params": lm.model.num_parameters(),
                **measure(quantize_for_inference(lm.model) if args.int8 else lm.model, args.steps),
            }
        )
    print("| vocab | embed | hidden | layers | params | median ms | p95 ms |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['vocab']} | {r['embed']} | {r['hidden']} | {r['layers']} | {r['params']:,} | "
            f"{r['median_ms']:.3f} | {r['p95_ms']:.3f} |"
        )
    print(json.dumps(rows))


if __name__ == "__main__":
    main()
