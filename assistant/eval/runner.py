"""``assistant eval``: replay texts through a predictor (the GRU or the n-gram baseline) and report the metrics.

Which model answers is the service layer's business (:func:`assistant.personal.evaluation.run_eval`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from assistant.eval.metrics import EvalReport, WordPredictor, keystroke_savings, text_bpc
from assistant.lm.io import LoadedModel
from assistant.text.words import word_spans


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


def evaluate_texts(
    texts: list[tuple[Path, str]],
    predictor: WordPredictor,
    scorer: LoadedModel | None = None,
    max_words: int | None = None,
    progress: bool = True,
) -> dict[str, Any]:
    """Replay every text through ``predictor`` and return the ``eval --json`` object (with per-file results when
    several); ``scorer`` (the model's float weights) adds bits per character."""
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
        if scorer is not None and scored:
            bits = text_bpc(scorer.model, scorer.tokenizer, scored) * len(scored)
        report.add(result, bits, len(scored))
        total.add(result, bits, len(scored))
        per_file[path.name] = report.to_json()
    out = total.to_json()
    out["model"] = "ngram" if scorer is None else str(scorer.path)
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
    ghost = report.get("ghost")
    if ghost is not None:
        lines.append(
            f"ghost text: shown past the word at {ghost['shown']:.1%} of keystrokes, first word right "
            f"{ghost['first_word_right']:.1%}, all right {ghost['all_right']:.1%}; Tab on a wholly right one saves "
            f"{ghost['saved_chars']:,} characters ({ghost['saved_share']:.1%})"
        )
    else:
        lines.append("ghost text: n/a (the predictor shows none)")
    lat = report["latency_ms"]
    lines.append(f"latency ms: p50 {lat['p50']:.2f}, p95 {lat['p95']:.2f}, p99 {lat['p99']:.2f}")
    return "\n".join(lines)
