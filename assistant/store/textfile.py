"""Reading a file the user wants to import: decide whether it is text and decode it, or say clearly why not."""

from __future__ import annotations

import codecs
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
    """``utf-8``, ``utf-8-sig``, ``utf-16`` (with BOM) or ``latin-1``."""


def decode_document(data: bytes) -> DecodedText:
    """Decode file bytes as UTF-8, UTF-16 with a BOM or Latin-1; refuse binary and empty content."""
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
    return DecodedText(_check_text(data.decode("latin-1")), "latin-1")


def _check_text(text: str) -> str:
    """Refuse decoded content that is mostly control characters (a binary format that happens to decode)."""
    sample = text[:65536]
    bad = sum(1 for ch in sample if (ord(ch) < 32 and ch not in _CONTROL_OK) or 0x7F <= ord(ch) < 0xA0)
    if bad > max(8, len(sample) // 100):
        raise NotText("binary (too many control characters for text)")
    return text.replace("\r\n", "\n")


def read_document(path: Path, max_bytes: int) -> DecodedText:
    """Read and decode ``path``; :class:`NotText` says why it cannot be imported."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise NotText(f"cannot be read: {exc.strerror or exc}") from exc
    if size > max_bytes:
        raise NotText(f"larger than the import limit ({size:,} > {max_bytes:,} bytes; setting import.max_bytes)")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise NotText(f"cannot be read: {exc.strerror or exc}") from exc
    return decode_document(data)
