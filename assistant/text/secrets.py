"""Secrets are never learned nor suggested: find API keys, tokens, private keys, passwords, card numbers, IBANs,
one-time codes and other high-entropy strings in text.

These kinds of span are found: tokens of known shapes (AWS, GitHub, GitLab, Slack, Stripe, Google, OpenAI-style
``sk-...``, JWTs, PEM private-key blocks, the password of a URL), the value after a label such as ``password:`` or
``API_KEY=``, the value in prose such as ``the wifi key hunter7`` or ``the door code is 4821``, payment card
numbers (Luhn checksum, also spaced or dashed), IBANs (mod-97 checksum and the country's format, also spaced),
runs of one-time or backup codes, and long strings that look random (high entropy, many character-class changes).
``redact`` removes them from text that is about to be learned; ``secret_in`` and ``is_secret`` check a suggestion
before it is shown, with ``partial=True``: there the start of a card number, an IBAN or a run of codes that the
suggestion would continue counts too (its checksum cannot be known yet). The checksums come from python-stdnum;
no model, no I/O.
"""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter
from dataclasses import dataclass
from functools import cache

from stdnum import iban as _iban
from stdnum import luhn as _luhn
from stdnum import numdb as _numdb

RULES_VERSION = 2
"""Bumped when the detector finds more: what was learned under older rules is learned again (2: card numbers,
IBANs, one-time codes, key/code/PIN prose)."""

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

_STRONG = (
    r"(?:wi-?fi|wlan|network|router|door|gate|alarm|access|entry|garage|safe|locker|lock|bike|phone|sim|atm"
    r"|bank|card|guest)\s+(?:key|code|password|pin)|pin(?:\s+code|\s+number)?|passcode|pass\s+code|passphrase"
    r"|password|passwd|combination|backup\s+codes?|recovery\s+codes?|one-time\s+(?:codes?|passwords?)"
    r"|2fa\s+codes?|otp(?:\s+codes?)?|verification\s+code|security\s+code|cvv|cvc|card\s+number"
)
"""Words after which the next word is a secret (``the wifi key hunter7``, ``my PIN is 4821``)."""
_WEAK = r"key|code"
"""Words after which the next word is a secret only if it looks like one (``the key is 7hunter``, not
``the key is simple``)."""
_PROSE_RE = re.compile(
    r"(?i)\b(?<![\w-])(?:(?P<strong>" + _STRONG + r")|(?P<weak>" + _WEAK + r"))"
    r"(?P<link>\s+(?:is|was|are|were)\s*:?|\s*[:=]|\s+(?:is\s+)?now)?[ \t]+"
    r"(?P<value>[^\s\"',;]+)"
)
_PROSE_WORDS = _PROSE_AFTER_LABEL | {
    "on",
    "in",
    "at",
    "of",
    "for",
    "to",
    "and",
    "or",
    "but",
    "is",
    "was",
    "be",
    "been",
    "being",
    "it",
    "this",
    "that",
    "these",
    "those",
    "my",
    "your",
    "our",
    "their",
    "his",
    "her",
    "its",
    "same",
    "different",
    "changed",
    "expired",
    "written",
    "taped",
    "printed",
    "stored",
    "kept",
    "here",
    "there",
    "below",
    "above",
    "somewhere",
    "inside",
    "under",
    "with",
    "without",
    "from",
    "by",
    "as",
    "if",
    "when",
    "because",
    "so",
    "then",
    "you",
    "we",
    "they",
    "i",
    "he",
    "she",
    "one",
    "ones",
    "number",
    "numbers",
    "code",
    "codes",
    "key",
    "keys",
    "reset",
    "sent",
    "needed",
    "missing",
    "lost",
    "set",
    "easy",
    "hard",
    "long",
    "short",
    "secret",
    "private",
    "safe",
}
"""Words after a prose label that go on with the sentence instead of giving the value."""
_CODE_RUN_RE = re.compile(r"(?<![\w.-])\d{6,10}(?:[ \t]*[,;]?[ \t]*\n?[ \t]*(?:\d+[.)][ \t]+)?\d{6,10})+(?![\w-])")
"""Numbers of 6-10 digits one after another (a list of one-time or backup codes)."""
_DIGIT_RUN_RE = re.compile(r"(?<![\w.-])\d+(?:[ -]\d+)*(?![\w-])")
_IBAN_RUN_RE = re.compile(r"(?<![A-Za-z0-9])[A-Z]{2}\d{2}[A-Z0-9]*(?: [A-Z0-9]+)*(?![A-Za-z0-9])")


def _credential_like(value: str) -> bool:
    """Whether a word reads as a password or code: a digit, an inner symbol, or mixed case after the first."""
    return len(value) >= 4 and (
        any(c.isdigit() for c in value)
        or any(not c.isalnum() for c in value[1:-1])
        or (any(c.isupper() for c in value[1:]) and any(c.islower() for c in value))
    )


_PROSE_HINTS = ("key", "code", "pin", "pass", "combination", "cvv", "cvc", "otp", "card number")
"""Every prose label ends in one of these: a quick test that a text can hold one at all (most text cannot)."""
_IBAN_HINT = re.compile(r"[A-Z]{2}\d\d")
_FOUR_DIGITS = re.compile(r"\d{4}")
_SIX_DIGITS = re.compile(r"\d{6}")


def _prose_values(text: str) -> list[Secret]:
    found: list[Secret] = []
    low = text.lower()
    if not any(hint in low for hint in _PROSE_HINTS):
        return found
    for m in _PROSE_RE.finditer(text):
        value = m.group("value").rstrip(".!?:)")
        if not value or value.lower() in _PROSE_WORDS or not any(c.isalnum() for c in value):
            continue
        if (m.group("weak") or not m.group("link")) and not _credential_like(value):
            continue  # "the key is simple", "the wifi password changed"
        found.append(Secret(m.start("value"), m.start("value") + len(value), "labelled-value"))
    return found


def _cards(text: str, partial: bool) -> list[Secret]:
    """Card numbers: 13-19 digits passing the Luhn check, in one block or in groups with one kind of separator;
    with ``partial``, also two or more groups of four at the end of the text (a number being written)."""
    found: list[Secret] = []
    if not _FOUR_DIGITS.search(text):  # every card number written as people write them has a group of four
        return found
    for m in _DIGIT_RUN_RE.finditer(text):
        run = m.group()
        groups = [(g.start() + m.start(), g.end() + m.start()) for g in re.finditer(r"\d+", run)]
        seps = {c for c in run if not c.isdigit()}
        if len(seps) > 1:
            continue
        best = None
        for i in range(len(groups)):
            digits = ""
            for j in range(i, len(groups)):
                digits += text[groups[j][0] : groups[j][1]]
                if len(digits) > 19:
                    break
                if len(digits) >= 13 and digits[0] in "23456" and _luhn.is_valid(digits):
                    best = (groups[i][0], groups[j][1])
            if best:
                break
        if best:
            found.append(Secret(*best, "card-number"))
        elif partial and m.end() == len(text):
            tail = groups[-4:] if len(groups) >= 2 else []
            while tail and any(b - a != 4 for a, b in tail):
                tail = tail[1:]
            if len(tail) >= 2 and text[tail[0][0]] in "3456":
                found.append(Secret(tail[0][0], tail[-1][1], "card-number"))
    return found


@cache
def _iban_country(code: str) -> bool:
    info = _numdb.get("iban").info(code)
    return bool(info) and "country" in info[0][1]


def _ibans(text: str, partial: bool) -> list[Secret]:
    """IBANs (stdnum: the country's format and the mod-97 check digits), compact or in groups; with ``partial``,
    also a known country's code, check digits and at least one more group at the end of the text."""
    found: list[Secret] = []
    if not _IBAN_HINT.search(text):
        return found
    for m in _IBAN_RUN_RE.finditer(text):
        parts = [(g.start() + m.start(), g.end() + m.start()) for g in re.finditer(r"\S+", m.group())]
        compact, best = "", None
        for a, b in parts:
            compact += text[a:b]
            if len(compact) > 34:
                break
            if len(compact) >= 15 and _iban.is_valid(compact):
                best = (m.start(), b)
        if best:
            found.append(Secret(*best, "iban"))
        elif partial and m.end() == len(text) and _iban_country(m.group()[:2]) and len(m.group()) > 4:
            found.append(Secret(m.start(), m.end(), "iban"))
    return found


def _codes(text: str, partial: bool) -> list[Secret]:
    """Runs of one-time or backup codes: three or more numbers of one length (6-10 digits) in a row; with
    ``partial``, two at the end of the text."""
    found: list[Secret] = []
    if not _SIX_DIGITS.search(text):
        return found
    for m in _CODE_RUN_RE.finditer(text):
        codes = [g for g in re.finditer(r"\d+", m.group()) if len(g.group()) >= 6]
        same = len({len(g.group()) for g in codes}) == 1
        if same and (len(codes) >= 3 or (partial and len(codes) == 2 and m.end() == len(text))):
            found.append(Secret(m.start(), m.end(), "one-time-codes"))
    return found


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


def find_secrets(text: str, partial: bool = False) -> list[Secret]:
    """Every secret in ``text``, by position (overlapping finds merged into one span); with ``partial`` (a
    suggestion's check), also the start of a card number, an IBAN or a run of codes that ends the text."""
    found: list[Secret] = [*_prose_values(text), *_cards(text, partial), *_ibans(text, partial)]
    found.extend(_codes(text, partial))
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
    return any(s.start < end and s.end > start for s in find_secrets(text[:end], partial=True))


def is_secret(word_or_phrase: str, before: str = "") -> bool:
    """Whether ``word_or_phrase``, written after ``before`` (the text before it, e.g. ``password: ``), is or
    contains a secret. ``before`` is only context: a secret wholly inside it does not count."""
    tail = before[-256:]
    return secret_in(tail + word_or_phrase, len(tail))
