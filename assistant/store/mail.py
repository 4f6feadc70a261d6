"""Mailboxes (mbox files, Maildir folders) read into documents: one per message, the writer's own words only.

The standard library's :mod:`mailbox` and :mod:`email` read the messages; :mod:`assistant.store.mailtext` keeps
the writer's words of each body. Nothing here writes: :meth:`DocumentStore.import_paths` stores what
:func:`read_mailbox` returns and reports every message that was left out or damaged.
"""

from __future__ import annotations

import email
import email.policy
import email.utils
import mailbox
import re
from collections import Counter
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path

from assistant.store.mailtext import html_to_text, own_words, paragraphs
from assistant.store.textfile import NotText, decode_document

MBOX_SUFFIXES = frozenset({".mbox", ".mbx"})
"""Suffixes of mbox files picked up inside a folder being imported (a file named explicitly is looked at
whatever its suffix)."""

_FROM_LINE = re.compile(rb"^From \S+ +\S.*\d\d?:\d\d(?::\d\d)?.*\d{4}\s*$")
_HEADER = re.compile(rb"^[\x21-\x39\x3b-\x7e]+:")

SIGNATURE_REPEATS = 3
"""A closing paragraph that ends this many of the writer's messages is a signature block: its copies go."""


@dataclass(frozen=True)
class MailMessage:
    """One message's document."""

    name: str
    """``YYYY-MM-DD subject.txt`` (the date it was sent, then its subject)."""
    text: str
    """The writer's own paragraphs."""
    source: str
    """Where it came from: the mailbox path, ``#`` and the Message-ID (or the message's key)."""
    note: str = ""
    """Something about it worth a line in the report (a damaged part, an unknown charset)."""


@dataclass
class MailboxRead:
    """Everything found in one mailbox."""

    kind: str
    """``mbox`` or ``maildir``."""
    messages: list[MailMessage] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)
    """Why messages were left out (reason -> how many)."""
    problems: list[str] = field(default_factory=list)
    """Messages that could not be read, one line each."""


def mailbox_kind(path: Path) -> str | None:
    """``maildir`` for a folder with ``cur`` and ``new``, ``mbox`` for a file starting with an mbox ``From ``
    line and a header, else None."""
    try:
        if path.is_dir():
            return "maildir" if (path / "cur").is_dir() and (path / "new").is_dir() else None
        if not path.is_file():
            return None
        with path.open("rb") as f:
            head = f.read(4096)
    except OSError:
        return None
    lines = head.lstrip(b"\r\n").split(b"\n")
    if len(lines) < 2 or not _FROM_LINE.match(lines[0].rstrip(b"\r")):
        return None
    return "mbox" if _HEADER.match(lines[1]) else None


def read_mailbox(path: Path, kind: str, senders: Collection[str] = (), max_bytes: int = 5_000_000) -> MailboxRead:
    """The documents of a mailbox; with ``senders``, only messages sent from one of those addresses."""
    wanted = {s.strip().lower() for s in senders if s.strip()}
    result = MailboxRead(kind)
    kept: list[tuple[str, str, list[str], str]] = []
    for key, raw in _raw_messages(path, kind, result):
        where = f"message {key}"
        if len(raw) > max_bytes:
            result.problems.append(f"{where}: larger than {max_bytes:,} bytes; left out")
            continue
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        if not isinstance(msg, EmailMessage) or not _looks_like_mail(msg):
            result.problems.append(f"{where}: not a mail message (no From, Date or Subject header); left out")
            continue
        sender = _address(msg)
        if wanted and sender not in wanted:
            result.skipped["not sent from your addresses"] += 1
            continue
        body, note = _body(msg)
        if body is None:
            result.skipped["no text part"] += 1
            continue
        own = paragraphs(own_words(body))
        if not own:
            result.skipped["no words of the writer's own (only quotes or a forward)"] += 1
            continue
        notes = [note] if note else []
        if _truncated(msg):
            notes.append("the message ends early (a truncated mailbox?); kept what was there")
        ident = str(msg.get("Message-ID", "") or "").strip() or key
        kept.append((_name(msg), ident, own, "; ".join(notes)))
    closings = Counter(own[-1] for _, _, own, _ in kept if len(own) > 1)
    for name, ident, own, note in kept:
        if len(own) > 1 and closings[own[-1]] >= SIGNATURE_REPEATS:
            own = own[:-1]
        result.messages.append(MailMessage(name, "\n\n".join(own) + "\n", f"{path.absolute()}#{ident}", note))
    return result


def _raw_messages(path: Path, kind: str, result: MailboxRead) -> Iterator[tuple[str, bytes]]:
    """``(key, bytes)`` of every message; one that cannot be read becomes a line in ``result.problems``."""
    box: mailbox.Mailbox
    try:
        box = (
            mailbox.Maildir(path, factory=None, create=False) if kind == "maildir" else mailbox.mbox(path, create=False)
        )
        keys = sorted(box.keys(), key=str) if kind == "maildir" else list(box.keys())
    except (OSError, mailbox.Error) as exc:
        result.problems.append(f"the mailbox cannot be read: {exc}")
        return
    try:
        for n, key in enumerate(keys, 1):
            label = str(n) if kind == "mbox" else str(key)
            try:
                yield label, box.get_bytes(key)
            except (OSError, KeyError, mailbox.Error) as exc:
                result.problems.append(f"message {label}: cannot be read ({exc}); left out")
    finally:
        box.close()


def _looks_like_mail(msg: EmailMessage) -> bool:
    return any(msg.get(h) is not None for h in ("From", "Date", "Subject", "Message-ID"))


def _address(msg: EmailMessage) -> str:
    try:
        pairs = email.utils.getaddresses([str(msg.get("From", "") or "")])
    except (TypeError, ValueError):
        return ""
    return pairs[0][1].strip().lower() if pairs else ""


def _body(msg: EmailMessage) -> tuple[str | None, str]:
    """The text/plain part (else the HTML part reduced to text) and a note when its charset was unusable."""
    try:
        part = msg.get_body(preferencelist=("plain", "html"))
    except (KeyError, ValueError, TypeError):
        part = None
    if part is None:
        return None, ""
    text, note = _decode(part)
    if part.get_content_subtype() == "html":
        text = html_to_text(text)
    return text, note


def _decode(part: EmailMessage) -> tuple[str, str]:
    """A part's text; an unknown or wrong charset falls back to the store's decoder (UTF-8, cp1252, Latin-1)."""
    try:
        content = part.get_content()
        if isinstance(content, str) and "\ufffd" not in content:
            return content, ""
    except (LookupError, UnicodeError, ValueError, AssertionError, KeyError):
        pass
    charset = part.get_content_charset() or "none given"
    payload = part.get_payload(decode=True)
    data = payload if isinstance(payload, bytes) else str(part.get_payload()).encode("utf-8", "replace")
    try:
        decoded = decode_document(data)
    except NotText:
        return "", f"charset {charset!r} could not be read"
    return decoded.text, f"charset {charset!r} did not fit; read as {decoded.encoding}"


def _truncated(msg: EmailMessage) -> bool:
    names = {type(d).__name__ for part in msg.walk() for d in getattr(part, "defects", ())}
    return bool(names & {"CloseBoundaryNotFoundDefect", "StartBoundaryNotFoundDefect", "InvalidBase64PaddingDefect"})


def _name(msg: EmailMessage) -> str:
    """``YYYY-MM-DD subject.txt`` (``undated`` / ``no subject`` when missing)."""
    try:
        sent = email.utils.parsedate_to_datetime(str(msg.get("Date", "")))
        day = sent.strftime("%Y-%m-%d")
    except (TypeError, ValueError, IndexError, OverflowError):
        day = "undated"
    try:
        subject = " ".join(str(msg.get("Subject", "") or "").replace(":", " ").split())
    except (TypeError, ValueError):
        subject = ""
    return f"{day} {subject or 'no subject'}"[:100] + ".txt"
