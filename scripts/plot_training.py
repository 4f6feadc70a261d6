"""Plot a model's training curve (validation bits per character against tokens seen) from its config.json.

python scripts/plot_training.py models/base models/base/training_curve.png
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt


def main(model_dir: str, out: str) -> None:
    meta = json.loads((Path(model_dir) / "config.json").read_text())
    history = meta["training"]["history"]
    tokens = [h["tokens"] / 1e6 for h in history]
    fig, ax = plt.subplots(figsize=(7, 4), dpi=110)
    ax.plot(tokens, [h["val_bpc"] for h in history], marker="o", ms=3, label="validation bits/char")
    ax.set_xlabel("training tokens (millions)")
    ax.set_ylabel("validation bits per character")
    ax2 = ax.twinx()
    ax2.plot(tokens, [h["lr"] for h in history], color="tab:gray", ls="--", lw=1, label="learning rate")
    ax2.set_ylabel("learning rate")
    c = meta["model"]
    ax.set_title(f"GRU {c['num_layers']}x{c['hidden_dim']}, embed {c['embed_dim']}, vocab {c['vocab_size']}")
    ax.grid(alpha=0.3)
    fig.legend(loc="upper right", bbox_to_anchor=(0.88, 0.88))
    fig.tight_layout()
    fig.savefig(out)


if __name__ == "__main__":
    main(*sys.argv[1:3])
