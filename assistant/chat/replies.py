"""What the chat bots say, in words a chat user understands: the same replies on every chat network.

No reply repeats a word the user asked to forget: the fine-tune replies give counts, never message text.
"""

from __future__ import annotations

from assistant.chat.users import Learnable, UserStatus
from assistant.personal.finetune import FinetuneOutcome
from assistant.personal.memory import PersonalMemory
from assistant.personal.outcome import held_out_gain
from assistant.personal.users import FinetuneTicket
from assistant.store.blocklist import Controls

LEARN_ON = "Learning is on: your messages (not commands) go into your private corpus. `!learn off` stops it."
LEARN_OFF = "Learning is off: your messages are no longer stored. `!forget` deletes what was stored."
LEARN_USAGE = "usage: !learn on | off | status"
VOCAB_USAGE = "usage: !vocab [N] (N from 1 to 200)"

COMMANDS: tuple[tuple[str, str], ...] = (
    ("!suggest TEXT", "completions of the last word; end with ` _` for the next word"),
    ("!continue [--words N] [--temperature T] [--top-k K] [--top-p P] [--beam W] [--seed S] TEXT", "go on"),
    ("!learn on | off | status", "opt in to (or out of) learning from your own messages; what is stored"),
    ("!vocab [N]", "your most used learned words, and what you blocked and forgot"),
    ("!block WORD_OR_PHRASE / !unblock WORD_OR_PHRASE", "never (again) suggest it to you"),
    ("!forget WORD", "stop learning from your messages that hold WORD"),
    ("!forget", "delete everything stored for you: corpus, models, the opt-in"),
    ("!finetune", "fine-tune your own model on your messages (queued; I tell you when it is done)"),
    ("!help", "this list"),
)
"""Every chat command and what it does (``!help``'s text)."""


def help_text() -> str:
    """The commands, one a line."""
    return "Commands:\n" + "\n".join(f"{usage}: {what}" for usage, what in COMMANDS)


def learn_status(status: UserStatus) -> str:
    """``!learn status`` as plain text."""
    running = " (fine-tuning now)" if status.finetuning else ""
    return (
        f"Learning from your messages: {'on' if status.learning else 'off'}\n"
        f"Words stored: {status.words:,} in {status.documents} document(s)\n"
        f"Model: {status.version}{running}"
    )


def vocab_lines(memory: PersonalMemory | None, controls: Controls, n: int) -> list[str]:
    """``!vocab N``: the user's most used learned words, then what they blocked and forgot."""
    learned = memory.vocabulary(n) if memory is not None else []
    lines = [f"Your {len(learned)} most used learned words:" if learned else "Nothing learned from you yet."]
    lines += [f"{i}. {w} ({c}x)" for i, (w, c) in enumerate(learned, 1)]
    lines.append("Blocked: " + (", ".join(controls.blocked()) or "-"))
    lines.append("Forgotten: " + (", ".join(controls.forgotten()) or "-"))
    return lines


def nothing_to_learn(status: UserStatus, learnable: Learnable) -> str | None:
    """Why ``!finetune`` has nothing to start on, or None when it has something."""
    if learnable.words:
        return None
    if learnable.forgotten:
        return (
            "Nothing to learn from: every message of yours that is stored holds a word you asked me to forget. "
            "Write more with learning on, then `!finetune` again."
        )
    if not status.learning:
        return "Nothing to learn from yet: learning is off. `!learn on`, then write as you usually do."
    return "Nothing to learn from yet: write a few messages as you usually do (learning is on), then `!finetune`."


def _source(learnable: Learnable) -> str:
    left_out = (
        f"; {learnable.forgotten} message(s) holding a word you asked me to forget are left out"
        if learnable.forgotten
        else ""
    )
    return f"{learnable.words:,} words in {learnable.messages} of your messages{left_out}"


def finetune_queued(ticket: FinetuneTicket, learnable: Learnable) -> str:
    """The answer to ``!finetune``: what it learns from and where the user stands in the queue."""
    if ticket.again and ticket.place == 0:
        return "Your fine-tune is already running (one at a time per person); I will tell you when it is done."
    if ticket.again:
        return (
            f"You are already in the fine-tune queue, number {ticket.place}; that is your one run. "
            "I will tell you when it starts and when it is done."
        )
    if ticket.place == 0:
        return (
            f"Fine-tuning your model now, in the background, on {_source(learnable)}. "
            "Only what is new since your last fine-tune is trained on. I will tell you when it is done."
        )
    ahead = ticket.place - 1
    return (
        f"Your fine-tune is queued: you are number {ticket.place} in line ({ahead} ahead of you). It will learn "
        f"from {_source(learnable)}. I will tell you when it starts and when it is done."
    )


FINETUNE_STARTED = "Your fine-tune is starting now; I will tell you when it is done."


def finetune_done(outcome: FinetuneOutcome | BaseException) -> str:
    """What the user is told when their fine-tune ends, in plain words (no message text)."""
    if isinstance(outcome, BaseException):
        return f"Fine-tuning failed: {outcome}"
    if outcome.status == "nothing-new":
        return (
            "Fine-tuning did nothing: your model has already learned from every message of yours it may learn "
            "from. Write more with learning on, then `!finetune` again."
        )
    if outcome.status == "too-little":
        return f"Fine-tuning did nothing: not enough new text yet ({outcome.message}). Write more, then ask again."
    if outcome.status == "cancelled":
        return "Fine-tuning was paused because the bot stopped; `!finetune` resumes it."
    if outcome.version is None:
        return f"Fine-tuning did not finish: {outcome.message}"
    m = outcome.version.metrics
    gain = held_out_gain(m) or 0.0
    scores = (
        f"On messages of yours it had not seen: {m['holdout_bpc_before']:.3f} -> {m['holdout_bpc_after']:.3f} "
        f"bits per character ({gain:+.1f}%, lower is better); general English: {m['general_bpc_before']:.3f} "
        f"-> {m['general_bpc_after']:.3f}."
    )
    if outcome.status == "accepted":
        return f"Fine-tuning done: your suggestions now come from your new model {outcome.version.name}. {scores}"
    return (
        f"Fine-tuning done, but your suggestions keep the model you had ({outcome.version.parent}): the new one "
        f"was not better on your unseen messages, or was worse on general English. {scores}"
    )
