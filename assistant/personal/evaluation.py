"""``assistant eval`` over the service layer: the model to replay (a folder, the active personal model or the
Kneser-Ney baseline), then :func:`assistant.eval.runner.evaluate_texts`."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from assistant.eval.metrics import WordPredictor
from assistant.eval.ngram import KneserNeyModel
from assistant.eval.runner import evaluate_texts, read_text
from assistant.personal.memory import PersonalMemory
from assistant.personal.models import ModelProvider, make_predictor, use_threads
from assistant.personal.space import UserSpace
from assistant.store.paths import Paths
from assistant.train.base import DEFAULT_MIX
from assistant.train.data import read_units
from assistant.train.finetune import GENERAL_SAMPLE

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_NGRAM_DATA = REPO_ROOT.parent / "shared" / "data" / "train"


def mixed_paragraphs(files: Sequence[Path], weights: dict[str, float], seed: int = 1234) -> list[str]:
    """Paragraphs of the training mix with the same per-file weights as the GRU's base training."""
    rng = random.Random(seed)
    out: list[str] = []
    for f in files:
        units = read_units(f)
        w = weights.get(f.stem, 1.0)
        whole, frac = divmod(w, 1.0)
        out.extend(units * int(whole))
        out.extend(rng.sample(units, round(len(units) * frac)))
    return out


def load_ngram(data_dir: Path | None, order: int) -> KneserNeyModel:
    """The Kneser-Ney baseline trained on the base training mix, cached under the user cache folder."""
    folder = data_dir or DEFAULT_NGRAM_DATA
    files = [folder] if folder.is_file() else sorted(folder.glob("*.txt")) if folder.is_dir() else []
    if not files:
        raise ValueError(
            f"no n-gram training texts in {folder}: the n-gram baseline is trained on the base model's training "
            f"mix, by default the .txt files of {DEFAULT_NGRAM_DATA} (the project's shared data, beside a source "
            "checkout); pass --ngram-data PATH, a folder of .txt files or one text file (for a quick look, the "
            f"base model's {GENERAL_SAMPLE} in the folder 'assistant paths' names)"
        )
    h = hashlib.sha256(f"{order}|uint64-keys".encode())
    for f in files:
        st = f.stat()
        h.update(f"{f.name}|{st.st_size}|{st.st_mtime_ns}|{DEFAULT_MIX.get(f.stem, 1.0)}".encode())
    paths = Paths.default()
    cache = paths.ensure(paths.cache) / f"ngram{order}-{h.hexdigest()[:16]}.npz"
    if cache.is_file():
        return KneserNeyModel.load(cache)
    model = KneserNeyModel.train(mixed_paragraphs(files, DEFAULT_MIX), order=order)
    model.save(cache)
    return model


def run_eval(
    files: list[Path],
    model_dir: Path | None = None,
    baseline: str | None = None,
    max_words: int | None = None,
    ngram_data: Path | None = None,
    ngram_order: int = 4,
    progress: bool = True,
    quantize: bool = True,
    static: bool = False,
    personal: list[Path] | None = None,
) -> dict[str, Any]:
    """Evaluate every file with the model in ``model_dir`` (default: the active personal model) or the n-gram
    baseline, and return the ``eval --json`` object (with per-file results when several).

    The GRU predictor adapts as the replay types (document memory, and a personal memory of the ``personal``
    files and folders when given); ``static`` measures the bare model."""
    texts = [(f, read_text(f)) for f in files]
    for f, text in texts:
        if not text.split():  # nothing to type: savings and bits per character would be meaningless
            raise ValueError(f"{f}: no words to evaluate (the text is empty)")
    if baseline == "ngram":
        predictor: WordPredictor = load_ngram(ngram_data, ngram_order)
        return evaluate_texts(texts, predictor, None, max_words, progress)
    use_threads(1)
    provider = ModelProvider(quantize=quantize)
    model = (
        provider.folder(model_dir)
        if model_dir is not None
        else UserSpace.at(Paths.default(), provider=provider).model()
    )
    memory = PersonalMemory.from_files(personal) if personal and not static else None
    predictor = make_predictor(model, personal=memory, adaptive=not static)
    return evaluate_texts(texts, predictor, model.lm, max_words, progress)
