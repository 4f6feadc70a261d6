"""Turn what ``scripts/device_grid.py`` left in ``$OUT`` into model folders here.

    python scripts/unpack_grid.py FILES_AT [--dest runs/grid] [--lexicon runs/grid/lexicon.txt]

For each ``models/NAME.tar.xz``: ``DEST/NAME/`` with ``config.json``, ``model.safetensors`` (float32 again;
the device sent float16), the shipped ``tokenizer.model`` (its hash is checked against the config),
``lexicon.txt`` (copied from ``--lexicon``: build it once from the mix with
``python -m assistant.train --lexicon-only --data runs/mix/text --mix-file scripts/mix_sources.json --out DIR``)
and ``training_curve.png``. ``summary.json``, ``curves.tsv`` and ``grid.log`` are copied into ``DEST``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import torch
from safetensors.torch import load, save

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from assistant.lm.io import load_model  # noqa: E402
from assistant.text.tokenizer import file_sha256  # noqa: E402


def unpack_model(archive: Path, folder: Path, tokenizer: Path, lexicon: Path | None) -> Path:
    """One model folder from one archive; returns the folder (loaded once to prove it is whole)."""
    folder.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive, "r:xz") as tar:
        members = {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}  # type: ignore[union-attr]
    config = json.loads(members["config.json"])
    if config["tokenizer"]["sha256"] != file_sha256(tokenizer):
        raise SystemExit(f"{archive}: trained with another tokenizer than {tokenizer}")
    state = {k: v.to(torch.float32) for k, v in load(members["model.safetensors"]).items()}
    (folder / "model.safetensors").write_bytes(save(state, metadata={"format": "assistant-gru-lm"}))
    (folder / "config.json").write_bytes(members["config.json"])
    shutil.copyfile(tokenizer, folder / "tokenizer.model")
    if lexicon is not None:
        shutil.copyfile(lexicon, folder / "lexicon.txt")
    load_model(folder)
    plot = ROOT / "scripts" / "plot_training.py"
    subprocess.run([sys.executable, str(plot), str(folder), str(folder / "training_curve.png")], check=False)
    return folder


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("files_at", type=Path, help="the folder the device's files came back to")
    p.add_argument("--dest", type=Path, default=ROOT / "runs" / "grid")
    p.add_argument("--tokenizer", type=Path, default=ROOT / "models" / "base" / "tokenizer.model")
    p.add_argument("--lexicon", type=Path, default=None, help="lexicon.txt to put in every folder")
    args = p.parse_args(argv)
    archives = sorted((args.files_at / "models").glob("*.tar.xz"))
    if not archives:
        raise SystemExit(f"no models/*.tar.xz under {args.files_at}")
    args.dest.mkdir(parents=True, exist_ok=True)
    for name in ("summary.json", "curves.tsv", "grid.log"):
        if (args.files_at / name).is_file():
            shutil.copyfile(args.files_at / name, args.dest / name)
    for archive in archives:
        folder = unpack_model(archive, args.dest / archive.name.removesuffix(".tar.xz"), args.tokenizer, args.lexicon)
        print(folder)
    return 0


if __name__ == "__main__":
    sys.exit(main())
