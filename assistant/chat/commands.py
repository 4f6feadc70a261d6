"""The chat commands as text in, text out, for a chat front end with no command framework of its own (Matrix).

``ChatCommands.handle(sender, body, in_room, tell)`` answers one message: None for a plain message (stored if
the sender opted in) and an :class:`Answer` for a command. The Errbot plugin has Errbot's own dispatch, over the
same :class:`~assistant.chat.users.ChatUsers`, options and replies.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from assistant.chat import replies
from assistant.chat.options import UsageError, parse_continue, percent, suggest_text
from assistant.chat.users import ChatUsers, MessageTooLong, set_learning, user_key
from assistant.store.blocklist import ControlsError

log = logging.getLogger(__name__)

PREFIX = "!"
PRIVATE_REPLY = "I sent you the continuation privately: it comes from your personal model."
"""The room's answer to ``!continue``; the continuation itself goes to the sender alone."""


@dataclass(frozen=True)
class Answer:
    """What to send for one command."""

    text: str
    """The reply where the command was asked."""
    private: str | None = None
    """Sent to the sender alone (a direct message), if anything."""


@dataclass(frozen=True)
class Limits:
    """How much the commands may answer."""

    suggestions: int = 5
    continue_words: int = 12
    max_continue_words: int = 100


class CommandFailed(Exception):
    """A command that cannot be done; its message is the reply."""


class ChatCommands:
    """Every chat command over one :class:`ChatUsers`."""

    def __init__(self, users: ChatUsers, limits: Limits | None = None) -> None:
        self.users = users
        self.limits = limits or Limits()
        self._commands: dict[str, Callable[[str, str, bool, Callable[[str], None]], Answer]] = {
            "suggest": self.suggest,
            "continue": self.continue_,
            "learn": self.learn,
            "vocab": self.vocab,
            "block": self.block,
            "unblock": self.unblock,
            "forget": self.forget,
            "finetune": self.finetune,
            "help": self.help,
        }

    @staticmethod
    def is_command(body: str) -> bool:
        return body.lstrip().startswith(PREFIX)

    def command_name(self, body: str) -> str:
        """The command ``body`` asks for: its name, ``message`` for a plain message, ``other`` for an unknown one
        (never the user's words, so it may be logged)."""
        if not self.is_command(body):
            return "message"
        name = body.lstrip()[len(PREFIX) :].partition(" ")[0].strip().lower()
        return name if name in self._commands else "other"

    def handle(self, sender: str, body: str, in_room: bool, tell: Callable[[str], None]) -> Answer | None:
        """Answer ``body`` from ``sender``; ``tell`` reaches the sender later (a fine-tune's news). None for a
        plain message, which is learned if the sender opted in (a refusal is answered)."""
        if not self.is_command(body):
            try:
                self.users.learn(sender, body)
            except MessageTooLong as exc:
                return Answer(f"Not learned: {exc}.")
            return None
        name, _, args = body.lstrip()[len(PREFIX) :].partition(" ")
        command = self._commands.get(name.strip().lower())
        if command is None:
            return Answer(f"I do not know {PREFIX}{name.strip()}; {PREFIX}help lists the commands.")
        log.info("command %s from user %s", name.strip().lower(), user_key(sender))
        try:
            return command(sender, args.strip("\n"), in_room, tell)
        except (CommandFailed, UsageError) as exc:
            return Answer(str(exc))
        except MessageTooLong as exc:
            return Answer(f"Sorry, {exc}.")
        except ControlsError as exc:
            return Answer(f"Your privacy controls file cannot be read ({exc}); nothing was changed.")

    # -- the commands ---------------------------------------------------------------------------------------------
    def suggest(self, sender: str, args: str, in_room: bool, tell: Callable[[str], None]) -> Answer:
        result = self.users.suggest(sender, suggest_text(args), self.limits.suggestions)
        if not result.words:
            return Answer("No suggestion for that text.")
        head = f'Completions of "{result.prefix}":' if result.prefix else "Next word:"
        lines = [head, *(f"{i}. {c.word} {percent(c.probability)}" for i, c in enumerate(result.words, 1))]
        if result.phrase:
            lines.append(f"Ghost text: …{result.prefix}{result.phrase.text} ({percent(result.phrase.confidence)})")
        return Answer("\n".join(lines))

    def continue_(self, sender: str, args: str, in_room: bool, tell: Callable[[str], None]) -> Answer:
        text, config = parse_continue(args, self.limits.continue_words, self.limits.max_continue_words)
        result = self.users.continue_text(sender, text, config)
        reply = f"{text}{result.text}\n({config.strategy}, at most {config.max_words} words)"
        if in_room:  # it comes from the sender's personal model, which is theirs alone: not for the room
            return Answer(PRIVATE_REPLY, private=reply)
        return Answer(reply)

    def learn(self, sender: str, args: str, in_room: bool, tell: Callable[[str], None]) -> Answer:
        choice = args.strip().lower()
        if choice == "on":
            set_learning(self.users.space(sender), True)
            return Answer(replies.LEARN_ON)
        if choice == "off":
            set_learning(self.users.space(sender), False)
            return Answer(replies.LEARN_OFF)
        if choice in ("", "status"):
            return Answer(replies.learn_status(self.users.status(sender)))
        raise CommandFailed(replies.LEARN_USAGE)

    def vocab(self, sender: str, args: str, in_room: bool, tell: Callable[[str], None]) -> Answer:
        n = args.strip() or "20"
        if not n.isdigit() or not 1 <= int(n) <= 200:
            raise CommandFailed(replies.VOCAB_USAGE)
        space = self.users.space(sender)
        return Answer("\n".join(replies.vocab_lines(space.memory(), space.controls(), int(n))))

    def block(self, sender: str, args: str, in_room: bool, tell: Callable[[str], None]) -> Answer:
        item = self._control(lambda: self.users.space(sender).controls().block(args), "!block WORD_OR_PHRASE")
        return Answer(f"Blocked for you: {item}. `!unblock {item}` allows it again.")

    def unblock(self, sender: str, args: str, in_room: bool, tell: Callable[[str], None]) -> Answer:
        done = self._control(lambda: self.users.space(sender).controls().unblock(args), "!unblock WORD_OR_PHRASE")
        return Answer(f"Unblocked for you: {args.strip()}." if done else f"{args.strip()!r} was not blocked.")

    def forget(self, sender: str, args: str, in_room: bool, tell: Callable[[str], None]) -> Answer:
        if args.strip():
            space = self.users.space(sender)
            item = self._control(lambda: space.controls().forget(args.strip()), "!forget [WORD] (one word)")
            space.sync_memory(save=True)  # the memory re-applies the messages under the new controls
            return Answer(
                f"Forgotten: {item}. Messages holding it are no longer learned from (`!forget` alone deletes all)."
            )
        stopped = " (your running fine-tune was stopped)" if self.users.finetuning(sender) else ""
        if self.users.forget(sender):
            return Answer(f"Done: your corpus and your personal models are deleted{stopped}, and learning is off.")
        return Answer("Nothing was stored for you; there is nothing to delete.")

    def finetune(self, sender: str, args: str, in_room: bool, tell: Callable[[str], None]) -> Answer:
        learnable = self.users.learnable(sender)
        nothing = replies.nothing_to_learn(self.users.status(sender), learnable)
        if nothing:
            raise CommandFailed(nothing)
        ticket = self.users.request_finetune(
            sender,
            on_done=lambda outcome: tell(replies.finetune_done(outcome)),
            on_start=lambda: tell(replies.FINETUNE_STARTED),
        )
        return Answer(replies.finetune_queued(ticket, learnable))

    def help(self, sender: str, args: str, in_room: bool, tell: Callable[[str], None]) -> Answer:
        return Answer(replies.help_text())

    @staticmethod
    def _control(change: Callable[[], object], usage: str) -> object:
        try:
            return change()
        except ValueError as exc:
            raise CommandFailed(f"usage: {usage}: {exc}") from None
