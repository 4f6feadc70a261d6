"""Generated text inside the chat bots' Markdown replies: escaped, and bolded line by line so no text can break it."""

from __future__ import annotations

import re

_SPECIAL = re.compile(r"([\\`*_\[\]<>#|~])")
"""Characters Markdown could read as markup anywhere in a line (a line's own start is always our ``**``)."""

LINE_BREAK = "  \n"
"""A hard line break: the continuation's own line breaks stay line breaks."""


def escape(text: str) -> str:
    """``text`` as literal Markdown text."""
    return _SPECIAL.sub(r"\\\1", text)


def _bold(text: str) -> str:
    core = text.strip()
    return f"**{escape(core)}**" if core else ""


def continued(seed: str, continuation: str) -> str:
    """The seed as plain text followed by the continuation in bold, whatever either holds (asterisks, tabs,
    line breaks, trailing spaces): each line's words are bolded on their own, with no space inside the marks and
    no indentation that Markdown would read as a code block."""
    seed_lines = [escape(line.strip()) for line in seed.splitlines()] or [""]
    first, *rest = continuation.split("\n")
    head = seed_lines[-1] + (" " if first[:1].isspace() and seed_lines[-1] else "") + _bold(first)
    lines = [*seed_lines[:-1], head, *(_bold(line) for line in rest)]
    while lines and not lines[-1]:
        lines.pop()
    return LINE_BREAK.join(lines)
