"""What a finished fine-tune is reported as: every front end's wording in one place."""

from __future__ import annotations

from typing import Any

from assistant.train.finetune import FinetuneOutcome

Severity = str
"""``information``, ``warning`` or ``error``."""


def held_out_gain(metrics: dict[str, Any] | None) -> float | None:
    """How much better a version predicts the user's held-out text than its parent, in % of bits per character."""
    if not metrics:
        return None
    before, after = metrics.get("holdout_bpc_before"), metrics.get("holdout_bpc_after")
    if not before or after is None:
        return None
    return 100 * (before - after) / before


def notice(outcome: FinetuneOutcome | BaseException) -> tuple[str, Severity]:
    """A one-line message and its severity for a finished fine-tune (the app's notification)."""
    if isinstance(outcome, BaseException):
        return f"Learning failed: {outcome}", "error"
    if outcome.status == "accepted" and outcome.version is not None:
        m = outcome.version.metrics
        gain = held_out_gain(m)
        detail = ""
        if gain is not None:
            before, after = m["holdout_bpc_before"], m["holdout_bpc_after"]
            detail = f", {gain:+.1f}% on your held-out text ({before:.3f} -> {after:.3f} bits/char)"
        return f"Learned your style: model {outcome.version.name}{detail}", "information"
    if outcome.status in ("nothing-new", "too-little"):
        return outcome.message, "information"
    if outcome.status == "cancelled":
        return "Learning paused; it resumes next time", "information"
    return outcome.message, "warning"


def chat_report(outcome: FinetuneOutcome | BaseException) -> str:
    """What the chat bot tells the user when their fine-tune ends."""
    if isinstance(outcome, BaseException):
        return f"Fine-tuning failed: {outcome}"
    if outcome.version is None:
        return f"Fine-tuning did not make a new version ({outcome.status}): {outcome.message}"
    m = outcome.version.metrics
    before, after = m["holdout_bpc_before"], m["holdout_bpc_after"]
    gain = (before - after) / before if before else 0.0
    verdict = (
        "your suggestions now use it"
        if outcome.status == "accepted"
        else f"your suggestions keep the previous model ({outcome.version.parent})"
    )
    return (
        f"Fine-tuning done: {outcome.version.name} {outcome.status} ({outcome.version.reason}); {verdict}.\n"
        f"Held-out text of yours: {before:.3f} -> {after:.3f} bits/char ({gain:+.1%} gain); "
        f"general text: {m['general_bpc_before']:.3f} -> {m['general_bpc_after']:.3f} bits/char."
    )


def summary_lines(outcome: FinetuneOutcome) -> list[str]:
    """What ``assistant finetune`` prints: the message, then the metrics of a new version."""
    lines = [outcome.message]
    if outcome.version is not None:
        m = outcome.version.metrics
        lines.append(
            f"held-out text: {m['holdout_bpc_before']:.4f} -> {m['holdout_bpc_after']:.4f} bits/char; "
            f"general sample: {m['general_bpc_before']:.4f} -> {m['general_bpc_after']:.4f} "
            f"(base {m['general_bpc_base']:.4f})"
        )
    return lines
