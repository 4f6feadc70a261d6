"""Errbot commands over the assistant's predictor: suggest, continue, and opt-in personal learning per chat user."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from typing import Any

from assistant_options import DEFAULTS, Settings, settings_from
from errbot import BotPlugin, CommandError, Message, ValidationException, botcmd
from errbot.templating import tenv

from assistant.chat import replies
from assistant.chat.markdown import continued
from assistant.chat.options import UsageError, parse_continue, percent, suggest_text
from assistant.chat.users import ChatUsers, MessageTooLong, set_learning
from assistant.shipped import base_model_dir
from assistant.store.blocklist import ControlsError

PRIVATE_REPLY = "I sent you the continuation privately: it comes from your personal model."
"""The room's answer to `!continue`; the continuation itself goes to the sender alone."""

HOST_LOGGER = "errbot.core"
"""Errbot's logger that writes every command's parameters (the user's text) at INFO."""

_COMMAND_LINE = re.compile(r'^(Processing command "[^"]*") with parameters ".*?" (from .*)$', re.DOTALL)


class KeepTextOut(logging.Filter):
    """Drops the parameters (what the user wrote) from Errbot's INFO line about each command."""

    def filter(self, record: logging.LogRecord) -> bool:
        match = _COMMAND_LINE.match(record.getMessage())
        if match:
            record.msg, record.args = f"{match[1]} (parameters not logged) {match[2]}", None
        return True


def user_id(msg: Message) -> str:
    """The sender's chat id (the person, also when they write in a room). A backend's occupant may hold a
    person identifier rather than a string (the Text backend's does): unwrap it down to the string."""
    person: Any = msg.frm.person
    while not isinstance(person, str) and getattr(person, "person", person) is not person:
        person = person.person
    return str(person)


class WritingAssistant(BotPlugin):
    """Word suggestions and continuations from the assistant's language model, with opt-in personal models."""

    settings: Settings
    users: ChatUsers

    def get_configuration_template(self) -> Mapping[str, Any]:
        return dict(DEFAULTS)

    def check_configuration(self, configuration: Mapping[str, Any]) -> None:
        try:
            settings_from(configuration)
        except ValueError as exc:
            raise ValidationException(str(exc)) from exc

    def configure(self, configuration: Mapping[str, Any] | None) -> None:
        super().configure({**DEFAULTS, **(configuration or {})})

    def activate(self) -> None:
        self.settings = settings_from(self.config)
        self.users = ChatUsers(
            self.settings.data_dir,
            base_model_dir(),
            self.settings.max_chars,
            self.settings.finetune,
            max_finetunes=self.settings.max_finetunes,
        )
        self._keep_text_out = KeepTextOut()
        logging.getLogger(HOST_LOGGER).addFilter(self._keep_text_out)
        super().activate()

    def deactivate(self) -> None:
        self.users.close()
        logging.getLogger(HOST_LOGGER).removeFilter(self._keep_text_out)
        super().deactivate()

    @botcmd(template="suggest")
    def suggest(self, msg: Message, args: str) -> dict[str, Any]:
        """Complete the last word: `!suggest The meeting has been mov`; next word: end with ` _`.

        `!suggest The meeting has been _` lists words to follow "been" (chat clients trim a trailing space)."""
        try:
            text = suggest_text(args)
        except UsageError as exc:
            raise CommandError(str(exc)) from None
        self._check_size(text)
        result = self.users.suggest(user_id(msg), text, self.settings.suggestions)
        return {
            "prefix": result.prefix,
            "words": [{"word": c.word, "percent": percent(c.probability)} for c in result.words],
            "phrase": result.phrase.text if result.phrase else "",
            "phrase_percent": percent(result.phrase.confidence) if result.phrase else "",
        }

    @botcmd(name="continue", template="continue")
    def continue_(self, msg: Message, args: str) -> dict[str, Any]:
        """Continue a text: `!continue [--words N] <text>`; also --temperature, --top-k, --top-p, --beam, --seed.

        Greedy by default; --temperature T, --top-k K or --top-p P sample (--seed S repeats a sample);
        --beam W runs beam search of width W."""
        try:
            text, config = parse_continue(args, self.settings.continue_words, self.settings.max_continue_words)
        except UsageError as exc:
            raise CommandError(str(exc)) from None
        self._check_size(text)
        result = self.users.continue_text(user_id(msg), text, config)
        reply = {
            "text": text,
            "continuation": result.text,
            "shown": continued(text, result.text),
            "strategy": config.strategy,
            "words": config.max_words,
        }
        if msg.is_group:  # it comes from the sender's personal model, which is theirs alone: not for the room
            text = tenv().get_template("continue.md").render(**reply)
            self._bot.send_simple_reply(msg, text, private=True)  # the backend's own way to reach the person
            return PRIVATE_REPLY
        return reply

    @botcmd(template="learn")
    def learn(self, msg: Message, args: str) -> dict[str, Any] | str:
        """Learn from your messages: `!learn on`, `!learn off`, `!learn status`.

        Opt-in and private to you: your plain messages (not commands) go into your own corpus, which
        `!finetune` trains your own model on. Status says whether it is on, the words stored and your model."""
        choice = args.strip().lower()
        space = self.users.space(user_id(msg))
        if choice == "on":
            set_learning(space, True)
            return replies.LEARN_ON
        if choice == "off":
            set_learning(space, False)
            return replies.LEARN_OFF
        if choice in ("", "status"):
            status = self.users.status(user_id(msg))
            return {
                "learning": status.learning,
                "words": status.words,
                "documents": status.documents,
                "version": status.version,
                "finetuning": status.finetuning,
            }
        raise CommandError(replies.LEARN_USAGE)

    @botcmd
    def forget(self, msg: Message, args: str) -> str:
        """Delete everything stored for you: your corpus and your models (learning is then off).

        `!forget WORD` forgets one word instead: the messages holding it are no longer learned from."""
        if args.strip():
            return self._forget_word(msg, args.strip())
        uid = user_id(msg)
        stopped = " (your running fine-tune was stopped)" if self.users.finetuning(uid) else ""
        if self.users.forget(uid):
            return f"Done: your corpus and your personal models are deleted{stopped}, and learning is off."
        return "Nothing was stored for you; there is nothing to delete."

    @botcmd
    def vocab(self, msg: Message, args: str) -> str:
        """Your learned words, most frequent first: `!vocab [N]` (default 20); also what you blocked and forgot."""
        n = args.strip() or "20"
        if not n.isdigit() or not 1 <= int(n) <= 200:
            raise CommandError(replies.VOCAB_USAGE)
        space = self.users.space(user_id(msg))
        return "\n".join(replies.vocab_lines(space.memory(), space.controls(), int(n)))

    @botcmd
    def block(self, msg: Message, args: str) -> str:
        """Never suggest a word or phrase to you again: `!block WORD_OR_PHRASE`."""
        space = self.users.space(user_id(msg))
        item = self._control(lambda: space.controls().block(args), "usage: !block WORD_OR_PHRASE")
        return f"Blocked for you: {item}. `!unblock {item}` allows it again."

    @botcmd
    def unblock(self, msg: Message, args: str) -> str:
        """Allow a blocked word or phrase again: `!unblock WORD_OR_PHRASE`."""
        space = self.users.space(user_id(msg))
        done = self._control(lambda: space.controls().unblock(args), "usage: !unblock WORD_OR_PHRASE")
        return f"Unblocked for you: {args.strip()}." if done else f"{args.strip()!r} was not blocked."

    def _forget_word(self, msg: Message, word: str) -> str:
        space = self.users.space(user_id(msg))
        item = self._control(lambda: space.controls().forget(word), "usage: !forget [WORD] (one word)")
        space.sync_memory(save=True)  # the memory re-applies your messages under the new controls
        return f"Forgotten: {item}. Messages holding it are no longer learned from (`!forget` alone deletes all)."

    @staticmethod
    def _control(change: Callable[[], Any], usage: str) -> Any:
        """Apply a change to the user's privacy controls; bad input gets ``usage`` and the reason."""
        try:
            return change()
        except (ValueError, ControlsError) as exc:
            raise CommandError(f"{usage}: {exc}") from None

    @botcmd
    def finetune(self, msg: Message, args: str) -> str:
        """Fine-tune your own model on your messages, in the background: I say what it learns from, your place
        in the queue (one run at a time per person), when it starts and how it ended."""
        uid = user_id(msg)
        learnable = self.users.learnable(uid)
        nothing = replies.nothing_to_learn(self.users.status(uid), learnable)
        if nothing:
            raise CommandError(nothing)
        frm = msg.frm
        ticket = self.users.request_finetune(
            uid,
            on_done=lambda outcome: self.send(frm, replies.finetune_done(outcome)),
            on_start=lambda: self.send(frm, replies.FINETUNE_STARTED),
        )
        return replies.finetune_queued(ticket, learnable)

    def callback_message(self, msg: Message) -> None:
        """Store the plain messages of users who opted in (commands are never stored)."""
        if self._is_command(msg):
            return
        try:
            self.users.learn(user_id(msg), msg.body)
        except MessageTooLong as exc:
            self.send(msg.frm, f"Not learned: {exc}.")

    def _is_command(self, msg: Message) -> bool:
        cfg = self.bot_config
        text = msg.body.lstrip()
        if text.startswith(cfg.BOT_PREFIX):
            return True
        alt = tuple(cfg.BOT_ALT_PREFIXES)
        if cfg.BOT_ALT_PREFIX_CASEINSENSITIVE:
            text, alt = text.lower(), tuple(p.lower() for p in alt)
        if alt and text.startswith(alt):
            return True
        if msg.is_direct and cfg.BOT_PREFIX_OPTIONAL_ON_CHAT:
            first = text.split(maxsplit=1)[0] if text.split() else ""
            return first in self._bot.all_commands
        return False

    def _check_size(self, text: str) -> None:
        """Refuse a text over the size limit with a clear message."""
        try:
            self.users.check_size(text)
        except MessageTooLong as exc:
            raise CommandError(f"Sorry, {exc}.") from None
