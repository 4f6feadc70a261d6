"""Secrets are never learned nor suggested: find API keys, tokens, private keys, passwords and other
high-entropy strings in text.

Three kinds of span are found: tokens of known shapes (AWS, GitHub, GitLab, Slack, Stripe, Google, OpenAI-style
``sk-...``, JWTs, PEM private-key blocks, the password of a URL), the value after a label such as ``password:`` or
``API_KEY=``, and long strings that look random (high entropy, many character-class changes). ``redact`` removes
them from text that is about to be learned; ``secret_in`` and ``is_secret`` check a suggestion before it is shown.
Pure standard library: no model, no I/O.
"""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter
from dataclasses import dataclass

_KNOWN: list[tuple[str, str]] = [
    ("aws-access-key", r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|ABIA|ACCA)[A-Z0-9]{16}\b"),
    ("github-token", r"\bgh[pousr]_[A-Za-z0-9]{30,255}\b"),
    ("github-pat", r"\bgithub_pat_[A-Za-z0-9_]{22,255}\b"),
    ("gitlab-token", r"\bgl(?:pat|ptt|dt|rt|cbt|oas|soat|ft|imt|agent)-[A-Za-z0-9_\-]{20,}"),
    ("slack-token", r"\bxox[abposre]-[A-Za-z0-9\-]{10,}"),
    ("slack-webhook", r"https://hooks\.slack\.com/(?:services|workflows)/[A-Za-z0-9/_\-]+"),
    ("stripe-key", r"\b(?:sk|rk|pk|whsec)_(?:live|test)_[A-Za-z0-9]{10,}\b"),
    ("google-api-key", r"\bAIza[0-9A-Za-z_\-]{35}"),
    ("google-oauth-token", r"\bya29\.[0-9A-Za-z_\-]{20,}"),
    ("openai-style-key", r"\bsk-(?:[A-Za-z0-9]+-){0,3}[A-Za-z0-9_\-]{20,}"),
    ("jwt", r"\beyJ[A-Za-z0-9_\-]{4,}\.eyJ[A-Za-z0-9_\-]{4,}\.[A-Za-z0-9_\-]*"),
    (
        "private-key",
        r"-----BEGIN[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----(?:.*?-----END[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|.*\Z)",
    ),
    ("url-password", r"(?<=[a-zA-Z0-9+.\-]://)[^\s/:@]+:[^\s/@]+(?=@)"),
]
_KNOWN_RE = [(kind, re.compile(p, re.S)) for kind, p in _KNOWN]

_LABELS = (
    r"password|passwd|passphrase|pwd|secret|token|api[_\-]?key|apikey|access[_\-]?key|private[_\-]?key"
    r"|client[_\-]?secret|auth[_\-]?token|credentials"
)
_LABEL_RE = re.compile(
    r"(?i)(?<![A-Za-z0-9_.\-])(?:[A-Za-z0-9]+[_.\-])*"  # DB_PASSWORD, github_token, secret_key (not Secretary)
    r"(?:(?:" + _LABELS + r")(?:[_.\-][A-Za-z0-9]+)*[\"']?\s*(?:[:=]|:=|=>)"  # any label with : = := =>
    r"|(?:password|passwd|passphrase)\s+is\b)[ \t]*"  # 'my password is ...'
    r"(?:\"(?P<dq>[^\"\n]+)\"|'(?P<sq>[^'\n]+)'|(?P<bare>[^\s\"',;]+))"
)
"""A label and its value; the value (group ``dq``, ``sq`` or ``bare``) is the secret."""
_PROSE_AFTER_LABEL = {"a", "an", "the", "not", "no", "now", "still", "too", "very", "required", "wrong", "correct"}
"""Words after 'password is' / 'token:' that start prose, not a value (``the password is wrong``)."""

_CANDIDATE_RE = re.compile(r"[A-Za-z0-9+/=_\-]{20,}")
MIN_RANDOM_CHARS = 20
"""Strings without separators at least this long are checked for randomness."""
MIN_ENTROPY_BITS = 3.3
"""Shannon entropy per character (of the string without ``_`` and ``-``) from which a string looks random."""
MIN_CLASS_CHANGES = 0.34
"""Share of neighbouring characters of different classes (lower, upper, digit, symbol) in a random string
(random base62: 0.62, hex: 0.47; ``getUserAccountSettingsForAdministrator``: 0.27)."""


@dataclass(frozen=True)
class Secret:
    """One secret found in a text."""

    start: int
    end: int
    kind: str
    """``aws-access-key``, ``jwt``, ``labelled-value``, ``high-entropy``, ..."""


def _entropy(s: str) -> float:
    counts = Counter(s)
    return -sum(c / len(s) * math.log2(c / len(s)) for c in counts.values())


def _cls(c: str) -> int:
    return 0 if c.islower() else 1 if c.isupper() else 2 if c.isdigit() else 3


def looks_random(token: str) -> bool:
    """Whether a string without spaces is long and random enough to be a key or a password hash."""
    core = token.replace("_", "").replace("-", "").strip("=")
    if len(core) < MIN_RANDOM_CHARS:
        return False
    classes = {_cls(c) for c in core}
    if len(classes - {3}) < 2:  # letters only of one case, or digits only
        return False
    changes = sum(_cls(a) != _cls(b) for a, b in itertools.pairwise(core)) / (len(core) - 1)
    return changes >= MIN_CLASS_CHANGES and _entropy(core) >= MIN_ENTROPY_BITS


def find_secrets(text: str) -> list[Secret]:
    """Every secret in ``text``, by position (overlapping finds merged into one span)."""
    found: list[Secret] = []
    for kind, pattern in _KNOWN_RE:
        found.extend(Secret(m.start(), m.end(), kind) for m in pattern.finditer(text))
    for m in _LABEL_RE.finditer(text):
        group = next(g for g in ("dq", "sq", "bare") if m.group(g) is not None)
        value = m.group(group)
        if group == "bare" and (value.lower() in _PROSE_AFTER_LABEL or not any(c.isalnum() for c in value)):
            continue
        found.append(Secret(m.start(group), m.end(group), "labelled-value"))
    for m in _CANDIDATE_RE.finditer(text):
        if looks_random(m.group()):
            found.append(Secret(m.start(), m.end(), "high-entropy"))
    found.sort(key=lambda s: (s.start, -s.end))
    merged: list[Secret] = []
    for s in found:
        if merged and s.start < merged[-1].end:
            last = merged[-1]
            merged[-1] = Secret(last.start, max(last.end, s.end), last.kind)
        else:
            merged.append(s)
    return merged


def redact(text: str, mask: str = "") -> str:
    """``text`` with every secret replaced by ``mask`` (default: removed); paragraph breaks are kept, so the
    paragraphs of the result line up with those of ``text``."""
    out: list[str] = []
    pos = 0
    for s in find_secrets(text):
        out.append(text[pos : s.start])
        breaks = text.count("\n\n", s.start, s.end)  # a PEM block may hold blank lines
        out.append(mask + "\n\n" * breaks)
        pos = s.end
    out.append(text[pos:])
    return "".join(out)


def secret_in(text: str, start: int, end: int | None = None) -> bool:
    """Whether a secret of ``text`` overlaps ``text[start:end]`` (the part a suggestion would add)."""
    end = len(text) if end is None else end
    return any(s.start < end and s.end > start for s in find_secrets(text))


def is_secret(word_or_phrase: str, before: str = "") -> bool:
    """Whether ``word_or_phrase``, written after ``before`` (the text before it, e.g. ``password: ``), is or
    contains a secret. ``before`` is only context: a secret wholly inside it does not count."""
    tail = before[-256:]
    return secret_in(tail + word_or_phrase, len(tail))
