"""A real 2-process torchrun (gloo, CPU) run trains and its ranks end with the same weights."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.lm.io import load_model
from assistant.text.tokenizer import Tokenizer
from assistant.train.data import TokenData

pytestmark = pytest.mark.slow  # two torchrun processes


def test_torchrun_two_ranks_agree(tokenizer: Tokenizer, token_data: TokenData, tmp_path: Path) -> None:
    tokens = tmp_path / "tokens.safetensors"
    token_data.save(tokens)
    out = tmp_path / "model"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MASTER_ADDR": "127.0.0.1"}
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--nproc_per_node",
        "2",
        "--master_port",
        "29531",
        "-m",
        "assistant.train",
        "--tokens",
        str(tokens),
        "--tokenizer",
        str(tokenizer.path),
        "--out",
        str(out),
        "--work",
        str(tmp_path / "work"),
        "--device",
        "cpu",
        "--threads",
        "1",
        "--embed-dim",
        "16",
        "--hidden-dim",
        "32",
        "--batch-size",
        "4",
        "--seq-len",
        "16",
        "--steps",
        "12",
        "--warmup-steps",
        "2",
        "--eval-every",
        "6",
        "--checkpoint-every",
        "6",
        "--no-progress",
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env, cwd=Path(__file__).parents[2])
    assert proc.returncode == 0, proc.stderr[-3000:]
    meta = json.loads((out / "config.json").read_text())
    training = meta["training"]
    assert training["ranks_agree"] is True
    assert training["steps"] == 12
    assert training["tokens"] == 12 * 4 * 16 * 2  # both ranks' shards count
    assert "x 2" in training["hardware"]
    # Each rank wrote its own state into the checkpoint.
    ckpt = tmp_path / "work" / "checkpoints" / "step-00000012"
    assert (ckpt / "rank0.safetensors").is_file() and (ckpt / "rank1.safetensors").is_file()
    load_model(out)
