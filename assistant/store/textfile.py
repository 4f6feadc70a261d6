"""Reading a file the user wants to import: decide whether it is text and decode it, or say clearly why not."""

from __future__ import annotations

import codecs
import os
import stat
from dataclasses import dataclass
from pathlib import Path

TEXT_SUFFIXES = frozenset(
    {
        ".txt",
        ".text",
        ".md",
        ".markdown",
        ".rst",
        ".org",
        ".tex",
        ".adoc",
        ".asciidoc",
        ".textile",
        ".wiki",
        ".mdown",
        ".mkd",
        ".note",
        ".notes",
        ".log",
        ".csv",
        ".tsv",
        ".html",
        ".htm",
        ".xml",
        ".json",
        ".yaml",
        ".yml",
        ".eml",
        ".srt",
    }
)
"""Suffixes picked up when a whole folder is imported (a file named explicitly is tried whatever its suffix)."""

_CONTROL_OK = set("\t\n\r\f\v\x1b")


class NotText(ValueError):
    """The file cannot be imported as text; the message says why."""


@dataclass(frozen=True)
class DecodedText:
    """A decoded text file."""

    text: str
    encoding: str
    """``utf-8``, ``utf-8-sig``, ``utf-16`` (with BOM), ``windows-1252`` or ``latin-1``."""


def printable(text: str) -> str:
    """``text`` with undecodable bytes of a file name (surrogate escapes) shown as U+FFFD, safe to print."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def decode_document(data: bytes) -> DecodedText:
    """Decode file bytes as UTF-8, UTF-16 with a BOM, Windows-1252 or Latin-1; refuse binary and empty content.

    Bytes 0x80-0x9F are control characters in Latin-1 but smart quotes, dashes and the euro sign in
    Windows-1252 (what Windows editors write), so text holding them is read as Windows-1252.
    """
    if not data.strip():
        raise NotText("empty" if not data else "only whitespace")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return DecodedText(_check_text(data.decode("utf-16")), "utf-16")
        except UnicodeDecodeError as exc:
            raise NotText(f"has a UTF-16 byte-order mark but is not valid UTF-16 ({exc.reason})") from exc
    if b"\x00" in data:
        raise NotText("binary (it holds NUL bytes)")
    if data.startswith(codecs.BOM_UTF8):
        try:
            return DecodedText(_check_text(data[3:].decode("utf-8")), "utf-8-sig")
        except UnicodeDecodeError as exc:
            raise NotText(f"has a UTF-8 byte-order mark but is not valid UTF-8 ({exc.reason})") from exc
    try:
        return DecodedText(_check_text(data.decode("utf-8")), "utf-8")
    except UnicodeDecodeError:
        pass
    if any(0x80 <= b < 0xA0 for b in data):
        try:
            return DecodedText(_check_text(data.decode("cp1252")), "windows-1252")
        except UnicodeDecodeError:
            pass
    return DecodedText(_check_text(data.decode("latin-1")), "latin-1")


def _check_text(text: str) -> str:
    """Refuse decoded content that is mostly control characters (a binary format that happens to decode)."""
    sample = text[:65536]
    bad = sum(1 for ch in sample if (ord(ch) < 32 and ch not in _CONTROL_OK) or 0x7F <= ord(ch) < 0xA0)
    if bad > max(8, len(sample) // 100):
        raise NotText("binary (too many control characters for text)")
    return text.replace("\r\n", "\n")


def read_document(path: Path, max_bytes: int) -> DecodedText:
    """Read and decode ``path`` (a regular file of at most ``max_bytes``); :class:`NotText` says why not.

    The file is opened without blocking and checked with ``fstat`` before reading, so a FIFO, a device such as
    ``/dev/zero`` or a socket is refused at once instead of hanging or filling memory; no more than
    ``max_bytes + 1`` bytes are ever read.
    """
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except OSError as exc:
        raise NotText(f"cannot be read: {exc.strerror or exc}") from exc
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise NotText(f"not a regular file ({_kind(st.st_mode)})")
        if st.st_size > max_bytes:
            raise NotText(_too_large(st.st_size, max_bytes))
        chunks: list[bytes] = []
        got = 0
        while got <= max_bytes:
            chunk = os.read(fd, min(1 << 20, max_bytes + 1 - got))
            if not chunk:
                break
            chunks.append(chunk)
            got += len(chunk)
        if got > max_bytes:
            raise NotText(_too_large(got, max_bytes))
    except OSError as exc:
        raise NotText(f"cannot be read: {exc.strerror or exc}") from exc
    finally:
        os.close(fd)
    return decode_document(b"".join(chunks))


def _too_large(size: int, max_bytes: int) -> str:
    return f"larger than the import limit ({size:,} > {max_bytes:,} bytes; setting import.max_bytes)"


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISDIR(mode):
        return "a folder"
    return "not a plain file"
