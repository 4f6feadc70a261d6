"""Save and load a model folder: ``model.safetensors`` + ``config.json`` + ``tokenizer.model``. No pickle."""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save

from assistant.atomic import atomic_write_bytes, atomic_write_text
from assistant.lm.model import GRUConfig, GRULanguageModel
from assistant.text.lexicon import LEXICON_FILE, Lexicon
from assistant.text.tokenizer import Tokenizer, TokenizerError, file_sha256

FORMAT = "assistant-gru-lm"
FORMAT_VERSION = 1
WEIGHTS_FILE = "model.safetensors"
CONFIG_FILE = "config.json"
TOKENIZER_FILE = "tokenizer.model"


class ModelLoadError(RuntimeError):
    """A model folder is missing a file, holds a corrupt one, or does not match its tokenizer."""


@dataclass
class LoadedModel:
    """A model ready for inference with its tokenizer and metadata."""

    model: GRULanguageModel
    tokenizer: Tokenizer
    path: Path
    meta: dict[str, Any] = field(default_factory=dict)
    """The whole ``config.json`` (architecture, tokenizer hash, training summary, metrics)."""
    lexicon: Lexicon | None = None
    """Words the model may offer (``lexicon.txt`` beside the weights), if the folder has one."""


def save_model(
    folder: str | os.PathLike[str],
    model: GRULanguageModel,
    tokenizer_path: str | os.PathLike[str],
    training: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
) -> Path:
    """Write a model folder atomically file by file; copy the tokenizer in when it lives elsewhere."""
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    tok_src = Path(tokenizer_path)
    tok_dst = out / TOKENIZER_FILE
    if tok_src.resolve() != tok_dst.resolve():
        atomic_write_bytes(tok_dst, tok_src.read_bytes(), mode=0o644)
    state = {k: v.detach().to("cpu", torch.float32).contiguous() for k, v in model.state_dict().items()}
    atomic_write_bytes(out / WEIGHTS_FILE, save(state, metadata={"format": FORMAT}), mode=0o644)
    meta: dict[str, Any] = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "model": model.config.to_dict(),
        "parameters": model.num_parameters(),
        "tokenizer": {"file": TOKENIZER_FILE, "sha256": file_sha256(tok_dst)},
        "training": training or {},
    }
    if extra:
        meta.update(extra)
    atomic_write_text(out / CONFIG_FILE, json.dumps(meta, indent=2, sort_keys=False) + "\n", mode=0o644)
    return out


def read_config(folder: str | os.PathLike[str]) -> dict[str, Any]:
    """Parse and check a model folder's ``config.json``."""
    path = Path(folder) / CONFIG_FILE
    if not path.is_file():
        raise ModelLoadError(f"model config not found: {path}")
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelLoadError(f"{path} is not valid JSON: {exc}") from exc
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ModelLoadError(f"{path} does not describe an assistant GRU model (format {FORMAT!r} expected)")
    if meta.get("format_version", 0) > FORMAT_VERSION:
        raise ModelLoadError(f"{path} was written by a newer version of assistant; upgrade to load it")
    return meta


def load_model(folder: str | os.PathLike[str], device: str | torch.device = "cpu") -> LoadedModel:
    """Load a model folder for inference, checking that every file is present, intact and consistent."""
    root = Path(folder)
    meta = read_config(root)
    tok_path = root / meta.get("tokenizer", {}).get("file", TOKENIZER_FILE)
    try:
        tokenizer = Tokenizer(tok_path)
    except TokenizerError as exc:
        raise ModelLoadError(str(exc)) from exc
    expected = meta.get("tokenizer", {}).get("sha256")
    if expected != tokenizer.sha256:
        raise ModelLoadError(
            f"{tok_path} does not match the model in {root / CONFIG_FILE}: the model was trained with a "
            f"tokenizer of hash {str(expected)[:12]}…, this one has {tokenizer.sha256[:12]}…"
        )
    try:
        config = GRUConfig(**meta["model"])
    except (KeyError, TypeError) as exc:
        raise ModelLoadError(f"{root / CONFIG_FILE} has a bad 'model' section: {exc}") from exc
    if config.vocab_size != tokenizer.vocab_size:
        raise ModelLoadError(f"{tok_path} has {tokenizer.vocab_size} pieces but the model expects {config.vocab_size}")
    weights = root / WEIGHTS_FILE
    if not weights.is_file():
        raise ModelLoadError(f"model weights not found: {weights}")
    try:
        state = load_file(str(weights), device="cpu")
    except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
        raise ModelLoadError(f"{weights} is corrupt or truncated: {exc}") from exc
    model = GRULanguageModel(config)
    expected_shapes = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    got_shapes = {k: tuple(v.shape) for k, v in state.items()}
    if expected_shapes != got_shapes:
        missing = sorted(set(expected_shapes) - set(got_shapes))
        wrong = sorted(k for k in expected_shapes.keys() & got_shapes.keys() if expected_shapes[k] != got_shapes[k])
        raise ModelLoadError(f"{weights} does not fit {root / CONFIG_FILE}: missing {missing}, wrong shape {wrong}")
    model.load_state_dict(state)
    if not all(torch.isfinite(t).all() for t in state.values()):
        raise ModelLoadError(f"{weights} holds non-finite weights")
    model.to(device).eval()
    lexicon = None
    if (root / LEXICON_FILE).is_file():
        try:
            lexicon = Lexicon.load(root / LEXICON_FILE)
        except (OSError, UnicodeDecodeError) as exc:
            raise ModelLoadError(f"{root / LEXICON_FILE} is unreadable: {exc}") from exc
    return LoadedModel(model=model, tokenizer=tokenizer, path=root, meta=meta, lexicon=lexicon)


def copy_model(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> Path:
    """Copy a model folder's three files to ``dst``."""
    out = Path(dst)
    out.mkdir(parents=True, exist_ok=True)
    for name in (TOKENIZER_FILE, WEIGHTS_FILE, CONFIG_FILE, LEXICON_FILE):
        if name != LEXICON_FILE or (Path(src) / name).is_file():
            shutil.copyfile(Path(src) / name, out / name)
    return out
