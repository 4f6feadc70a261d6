"""LSP base-protocol framing (``Content-Length`` headers) that survives bad frames: one line per problem, then
on at the next valid header.

Hand-written because pygls's reader loop never resynchronises: after a frame whose length is one byte short it
reads the rest of the stream as garbage, and a ``Content-Length: abc`` swallows the next message. Here:

- a header block that is not ``Name: value`` lines with a whole-number ``Content-Length`` is reported and skipped
  up to the next ``Content-Length:`` in the stream (junk before a header, such as the last byte of a short frame,
  is skipped the same way);
- a body that is not JSON is reported (with the request's id, when one can be seen in it, so the client can be
  answered) and the reading goes on after it;
- a body longer than its JSON (a length too large) gives back the bytes after the JSON, the start of the next
  header.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

MAX_BODY = 256 * 1024 * 1024
"""The largest message taken (a 5 MB document is a few MB of JSON; 256 MiB is a client's bug)."""
MAX_HEADER = 8192
"""Bytes without a blank line after which what is buffered cannot be a header."""
_LENGTH = re.compile(rb"content-length:", re.IGNORECASE)
_NAME = re.compile(rb"[A-Za-z0-9-]+")
_ID = re.compile(rb'"id"\s*:\s*(-?\d{1,15}|"[^"\\]{0,200}")')
_DECODER = json.JSONDecoder()


@dataclass(frozen=True)
class Message:
    """One well-framed JSON message."""

    data: Any


@dataclass(frozen=True)
class Problem:
    """What was wrong with the bytes just skipped, in one line; ``request_id`` when a request's id was seen."""

    text: str
    request_id: int | str | None = None


class Framer:
    """Bytes in (any chunks), messages and problems out, in stream order."""

    def __init__(self) -> None:
        self.buffer = bytearray()
        self._length: int | None = None
        """The body length of the header block already consumed, while its body is incomplete."""
        self._lost = False
        """After a problem: what comes before the next ``Content-Length:`` is dropped without another word."""

    def feed(self, data: bytes) -> Iterator[Message | Problem]:
        """Take ``data`` and give every complete message (or problem) it finishes."""
        self.buffer += data
        while True:
            if self._length is None:
                head = self._header()
                if head is None:
                    return
                if isinstance(head, Problem):
                    yield head
                    continue
                self._length = head
            if len(self.buffer) < self._length:
                return
            body = bytes(self.buffer[: self._length])
            del self.buffer[: self._length]
            self._length = None
            yield self._body(body)

    def _header(self) -> int | Problem | None:
        """The next header block's ``Content-Length`` (consumed), a problem (the bad bytes consumed), or None
        when more bytes are needed."""
        if self._lost:
            if not self._resync():
                return None
            self._lost = False
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            if len(self.buffer) <= MAX_HEADER:
                return None
            return self._skip(1, f"{len(self.buffer)} bytes without a header")
        lines = bytes(self.buffer[:end]).split(b"\r\n")
        length: int | None = None
        for line in lines:
            name, colon, value = line.partition(b":")
            if not colon or _NAME.fullmatch(name.strip()) is None:
                return self._skip(1, f"not a header: {_show(line)}")
            if name.strip().lower() == b"content-length":
                text = value.strip()
                if not text.isdigit() or int(text) > MAX_BODY:
                    return self._skip(end + 4, f"bad Content-Length {_show(text)}")
                length = int(text)
        if length is None:
            return self._skip(1, f"a header without Content-Length: {_show(bytes(self.buffer[:end]))}")
        del self.buffer[: end + 4]
        return length

    def _skip(self, drop: int, why: str) -> Problem:
        """Drop ``drop`` bytes (at least one) and what follows up to the next ``Content-Length:``."""
        del self.buffer[: max(1, drop)]
        self._lost = True
        return Problem(f"{why}; skipped to the next Content-Length header")

    def _resync(self) -> bool:
        """Drop the buffer up to the next ``Content-Length:``; False (keeping a tail that could start one) when
        there is none yet."""
        m = _LENGTH.search(self.buffer)
        if m is None:
            tail = bytes(self.buffer[-(len(b"content-length:") - 1) :])
            self.buffer[:] = tail[tail.rfind(b"\n") + 1 :]
            return False
        del self.buffer[: m.start()]
        return True

    def _body(self, body: bytes) -> Message | Problem:
        """A body as a message; a problem when it is not one JSON value (trailing bytes go back to the buffer)."""
        try:
            text = body.decode("utf-8")
            data, end = _DECODER.raw_decode(text)
        except (UnicodeDecodeError, ValueError) as exc:
            m = _ID.search(body)
            request_id = json.loads(m.group(1)) if m and b'"method"' in body else None
            self._lost = True  # a body of the wrong length: what follows it may not start with a header
            return Problem(f"a message of {len(body)} bytes that is not JSON ({_reason(exc)})", request_id)
        rest = text[end:]
        if rest.strip():
            self.buffer[:0] = rest.lstrip().encode("utf-8")
        return Message(data)


def _reason(exc: Exception) -> str:
    """An exception's message, first line only."""
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def _show(data: bytes) -> str:
    """Bytes for a one-line message, shortened."""
    text = repr(bytes(data[:60]))[2:-1]
    return text + ("..." if len(data) > 60 else "")
