"""Save and load a model folder: ``model.safetensors`` + ``config.json`` + ``tokenizer.model``. No pickle."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save

from assistant.atomic import atomic_write_bytes, atomic_write_text, private_dir
from assistant.lm.model import GRUConfig, GRULanguageModel
from assistant.text.lexicon import LEXICON_FILE, Lexicon
from assistant.text.tokenizer import Tokenizer, TokenizerError, file_sha256

FORMAT = "assistant-gru-lm"
FORMAT_VERSION = 1
WEIGHTS_FILE = "model.safetensors"
CONFIG_FILE = "config.json"
TOKENIZER_FILE = "tokenizer.model"
WEIGHTS_SHA_KEY = "weights_sha256"
"""``config.json`` field: SHA-256 of ``model.safetensors``, checked when loading (flipped bytes load no model)."""


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
    out = private_dir(folder)
    tok_src = Path(tokenizer_path)
    tok_dst = out / TOKENIZER_FILE
    if tok_src.resolve() != tok_dst.resolve():
        atomic_write_bytes(tok_dst, tok_src.read_bytes())
    state = {k: v.detach().to("cpu", torch.float32).contiguous() for k, v in model.state_dict().items()}
    blob = save(state, metadata={"format": FORMAT})
    atomic_write_bytes(out / WEIGHTS_FILE, blob)
    meta: dict[str, Any] = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "model": model.config.to_dict(),
        "parameters": model.num_parameters(),
        "tokenizer": {"file": TOKENIZER_FILE, "sha256": file_sha256(tok_dst)},
        WEIGHTS_SHA_KEY: hashlib.sha256(blob).hexdigest(),
        "training": training or {},
    }
    if extra:
        meta.update(extra)
    atomic_write_text(out / CONFIG_FILE, json.dumps(meta, indent=2, sort_keys=False) + "\n")
    return out


def read_config(folder: str | os.PathLike[str]) -> dict[str, Any]:
    """Parse and check a model folder's ``config.json`` (every field the loader uses has its type and range)."""
    path = Path(folder) / CONFIG_FILE
    if not path.is_file():
        raise ModelLoadError(f"model config not found: {path}")
    try:
        meta = json.loads(path.read_bytes().decode("utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelLoadError(f"{path} is not valid JSON: {exc}") from exc
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ModelLoadError(f"{path} does not describe an assistant GRU model (format {FORMAT!r} expected)")
    version = meta.get("format_version", 0)
    if not isinstance(version, int) or isinstance(version, bool):
        raise ModelLoadError(f"{path} has a bad format_version: {version!r}")
    if version > FORMAT_VERSION:
        raise ModelLoadError(f"{path} was written by a newer version of assistant; upgrade to load it")
    problem = _config_problem(meta)
    if problem:
        raise ModelLoadError(f"{path} is damaged: {problem}")
    return meta


_SIZE_LIMITS = {"vocab_size": 1 << 20, "embed_dim": 1 << 14, "hidden_dim": 1 << 14, "num_layers": 16}


def _config_problem(meta: dict[str, Any]) -> str:
    """What is wrong with a parsed config (empty when nothing)."""
    arch = meta.get("model")
    if not isinstance(arch, dict):
        return "'model' is not an object"
    unknown = sorted(set(arch) - {*_SIZE_LIMITS, "dropout"})
    if unknown:
        return f"'model' has unknown fields {unknown}"
    for key, top in _SIZE_LIMITS.items():
        value = arch.get(key)
        required = key == "vocab_size" or key in arch
        if required and (not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= top):
            return f"model.{key} must be a whole number from 1 to {top}, not {value!r}"
    dropout = arch.get("dropout", 0.0)
    if not isinstance(dropout, (int, float)) or isinstance(dropout, bool) or not 0.0 <= dropout < 1.0:
        return f"model.dropout must be a number from 0 to below 1, not {dropout!r}"
    tok = meta.get("tokenizer")
    if not isinstance(tok, dict):
        return "'tokenizer' is not an object"
    name = tok.get("file", TOKENIZER_FILE)
    if not isinstance(name, str) or not name or Path(name).name != name or name.startswith("."):
        return f"tokenizer.file must be a file name in the model folder, not {name!r}"
    if not isinstance(tok.get("sha256"), str):
        return f"tokenizer.sha256 must be a hex string, not {tok.get('sha256')!r}"
    digest = meta.get(WEIGHTS_SHA_KEY)
    if digest is not None and not isinstance(digest, str):
        return f"{WEIGHTS_SHA_KEY} must be a hex string, not {digest!r}"
    return ""


_DIGESTS: dict[tuple[str, int, int], str] = {}
_DIGESTS_LOCK = threading.Lock()


def weights_sha256(path: Path) -> str:
    """SHA-256 of a weights file, computed once per file, size and modification time."""
    st = path.stat()
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    with _DIGESTS_LOCK:
        if key in _DIGESTS:
            return _DIGESTS[key]
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    digest = h.hexdigest()
    with _DIGESTS_LOCK:
        _DIGESTS[key] = digest
    return digest


def load_model(folder: str | os.PathLike[str], device: str | torch.device = "cpu") -> LoadedModel:
    """Load a model folder for inference, checking that every file is present, intact and consistent."""
    root = Path(folder)
    meta = read_config(root)
    tok_path = root / meta["tokenizer"].get("file", TOKENIZER_FILE)
    try:
        tokenizer = Tokenizer(tok_path)
    except TokenizerError as exc:
        raise ModelLoadError(str(exc)) from exc
    expected = meta["tokenizer"]["sha256"]
    if expected != tokenizer.sha256:
        raise ModelLoadError(
            f"{tok_path} does not match the model in {root / CONFIG_FILE}: the model was trained with a "
            f"tokenizer of hash {str(expected)[:12]}…, this one has {tokenizer.sha256[:12]}…"
        )
    config = GRUConfig(**{**meta["model"], "dropout": float(meta["model"].get("dropout", 0.0))})
    if config.vocab_size != tokenizer.vocab_size:
        raise ModelLoadError(f"{tok_path} has {tokenizer.vocab_size} pieces but the model expects {config.vocab_size}")
    weights = root / WEIGHTS_FILE
    if not weights.is_file():
        raise ModelLoadError(f"model weights not found: {weights}")
    recorded = meta.get(WEIGHTS_SHA_KEY)
    if recorded is not None and weights_sha256(weights) != recorded:
        raise ModelLoadError(f"{weights} is damaged: its SHA-256 differs from the one recorded in {root / CONFIG_FILE}")
    try:
        state = load_file(str(weights), device="cpu")
    except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
        raise ModelLoadError(f"{weights} is corrupt or truncated: {exc}") from exc
    try:
        model = GRULanguageModel(config)
    except (ValueError, TypeError, RuntimeError) as exc:
        raise ModelLoadError(f"{root / CONFIG_FILE} describes a model that cannot be built: {exc}") from exc
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
    out = private_dir(dst)
    for name in (TOKENIZER_FILE, WEIGHTS_FILE, CONFIG_FILE, LEXICON_FILE):
        if name != LEXICON_FILE or (Path(src) / name).is_file():
            shutil.copyfile(Path(src) / name, out / name)
            os.chmod(out / name, 0o600)
    return out
