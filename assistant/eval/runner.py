"""``assistant eval``: replay texts through a predictor (the GRU or the n-gram baseline) and report the metrics."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from assistant.eval.metrics import EvalReport, WordPredictor, keystroke_savings, text_bpc
from assistant.text.words import word_spans

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_NGRAM_DATA = REPO_ROOT.parent / "shared" / "data" / "train"


def read_text(path: Path) -> str:
    """A UTF-8 text file, or a clear error naming it."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise OSError(f"cannot read {path}: {exc.strerror or exc}") from exc
    if b"\x00" in data[:8192]:
        raise ValueError(f"{path} looks binary (it holds NUL bytes), not text")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path} is not UTF-8 text (byte {exc.start}: {exc.reason})") from exc


def load_ngram(data_dir: Path | None, order: int) -> WordPredictor:
    """The Kneser-Ney baseline trained on the base training mix, cached under the user cache folder."""
    from assistant.eval.ngram import KneserNeyModel, mixed_paragraphs
    from assistant.store.paths import Paths
    from assistant.train.base import DEFAULT_MIX

    folder = data_dir or DEFAULT_NGRAM_DATA
    files = sorted(folder.glob("*.txt")) if folder.is_dir() else []
    if not files:
        raise ValueError(f"no n-gram training texts in {folder}; pass --ngram-data DIR (a folder of .txt files)")
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
    """Evaluate every file and return the ``eval --json`` object (with per-file results when several).

    The GRU predictor adapts as the replay types (document memory, and a personal memory of the ``personal``
    files and folders when given); ``static`` measures the bare model."""
    texts = [(f, read_text(f)) for f in files]
    lm = None
    if baseline == "ngram":
        predictor: WordPredictor = load_ngram(ngram_data, ngram_order)
    else:
        import torch

        from assistant.engine.predictor import Predictor
        from assistant.lm.io import load_model

        torch.set_num_threads(1)
        if model_dir is not None:
            lm = load_model(model_dir)
        else:
            from assistant.store.models import ModelRegistry

            lm = ModelRegistry.default().active().model
        from assistant.store.memory import PersonalMemory

        memory = PersonalMemory.from_files(personal) if personal and not static else None
        predictor = Predictor(lm, quantize=quantize, adaptive=not static, personal=memory)
    total = EvalReport()
    per_file: dict[str, Any] = {}
    for path, text in texts:
        spans = word_spans(text)[:max_words] if max_words else word_spans(text)
        scored = text[: spans[-1][1]] if spans else text
        report = EvalReport()
        if hasattr(predictor, "reset"):
            predictor.reset()  # type: ignore[attr-defined]
        result = _replay(predictor, text, len(spans), max_words, path.name, progress)
        bits = None
        if lm is not None and scored:
            bits = text_bpc(lm.model, lm.tokenizer, scored) * len(scored)
        report.add(result, bits, len(scored))
        total.add(result, bits, len(scored))
        per_file[path.name] = report.to_json()
    out = total.to_json()
    out["model"] = "ngram" if lm is None else str(lm.path)
    if len(texts) > 1:
        out["files"] = per_file
    return out


def _replay(predictor: WordPredictor, text: str, n_words: int, max_words: int | None, name: str, progress: bool):
    if not progress:
        return keystroke_savings(predictor, text, max_words=max_words)
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(TextColumn(name), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn()) as bar:
        task = bar.add_task(name, total=n_words)
        return keystroke_savings(predictor, text, max_words=max_words, progress=lambda k: bar.advance(task, k))


def format_report(report: dict[str, Any]) -> str:
    """A short human summary of an eval object."""
    lines = [f"model: {report['model']}", f"words: {report['words']:,}"]
    ksr = report["ksr"]
    acc = report["accuracy"]
    lines.append("keystroke savings: " + ", ".join(f"@{k} {v:.1%}" for k, v in ksr.items()))
    lines.append("next-word accuracy: " + ", ".join(f"@{k} {v:.1%}" for k, v in acc.items()))
    bpc = report["bpc"]
    lines.append(
        "bits per character: " + ("n/a (word model: no character probabilities)" if bpc is None else f"{bpc:.3f}")
    )
    lat = report["latency_ms"]
    lines.append(f"latency ms: p50 {lat['p50']:.2f}, p95 {lat['p95']:.2f}, p99 {lat['p99']:.2f}")
    return "\n".join(lines)
