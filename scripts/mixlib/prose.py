"""The prose rules of ``../shared/data/README.md``, shared by every extractor of ``scripts/build_mix.py``.

A kept paragraph has 5+ words, ends in punctuation and is mostly words (no code, tables or navigation).
"""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Iterable, Iterator

from bs4 import BeautifulSoup, Tag

WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*[.,;:!?\"'”’)\]]*$")
"""A token that counts as a word: letters (inner apostrophes) with trailing punctuation allowed."""
END_PUNCT = ".!?:;\"'”’)»…"
CODE_CHARS = re.compile(r"[{}<>|\\=$#@~`^*_]|::|->|\(\)|\w\.\w+\(")
SHINGLE = 8
"""Words per shingle in the evaluation-overlap filter."""


def clean_space(text: str) -> str:
    """One line: runs of whitespace become one space."""
    return " ".join(text.split())


def is_prose(par: str, min_words: int = 5, word_share: float = 0.8) -> bool:
    """Whether a one-line paragraph passes the prose rules."""
    tokens = par.split()
    if len(tokens) < min_words or par[-1] not in END_PUNCT:
        return False
    if len(CODE_CHARS.findall(par)) > 1:
        return False
    words = sum(1 for t in tokens if WORD.match(t.lstrip("\"'“‘(")))
    return words >= word_share * len(tokens)


def split_blocks(text: str) -> Iterator[str]:
    """Blank-line separated blocks of ``text``, each joined into one line."""
    for block in re.split(r"\n\s*\n", text):
        line = clean_space(block)
        if line:
            yield line


_CHROME = re.compile(
    r"(?i)^(nav|navbar|navigation|menu|sidebar|sphinxsidebar|toc|toctree-wrapper|breadcrumbs?|footer|header|"
    r"related|headerlink|wy-nav-side|bd-sidebar.*|bd-toc.*|sub-nav.*|top-nav.*)$"
)
"""Classes of page chrome (navigation, sidebars, headers); matched per class name, not inside longer names."""
_BLOCK_TAGS = ["p", "li", "dd", "dt", "blockquote", "td"]
_SKIP_PARENTS = {"pre", "table", "nav", "header", "footer", "code", "script", "style", "form", "select"}


def html_paragraphs(markup: str) -> Iterator[str]:
    """Prose paragraphs of an HTML page: paragraph and list text; code blocks, tables and navigation dropped."""
    soup = BeautifulSoup(markup, "html.parser")
    for bad in soup(["script", "style", "pre", "table", "nav", "header", "footer", "head"]):
        bad.decompose()
    for div in soup.find_all(["div", "ul", "span", "a"], class_=_CHROME):
        if isinstance(div, Tag) and not div.decomposed:
            div.decompose()
    for el in soup.find_all(lambda t: t.name in _BLOCK_TAGS or (t.name == "div" and "block" in t.get("class", []))):
        if el.find(["p", "li", "dd", "ul", "ol", "div", "blockquote"]):
            continue  # its inner blocks are taken instead
        if any(getattr(p, "name", None) in _SKIP_PARENTS for p in el.parents):
            continue
        text = clean_space(el.get_text(" "))
        text = re.sub(r"\s+([.,;:!?)])", r"\1", text).replace("( ", "(")
        if text:
            yield text


def strip_markup(text: str) -> str:
    """Text of an XML/HTML fragment (tags removed, entities decoded)."""
    return html.unescape(re.sub(r"<[^>]+>", "", text))


def norm_key(par: str) -> bytes:
    """Hash of a paragraph for exact de-duplication (case and spacing ignored)."""
    return hashlib.blake2b(clean_space(par).lower().encode(), digest_size=12).digest()


_TOKEN = re.compile(r"\w+(?:['’]\w+)*")


def shingles(text: str, n: int = SHINGLE) -> Iterator[int]:
    """Hashes of every run of ``n`` consecutive words (lower case)."""
    words = _TOKEN.findall(text.lower())
    for i in range(len(words) - n + 1):
        yield hash(tuple(words[i : i + n]))


class OverlapFilter:
    """Rejects paragraphs that share an ``SHINGLE``-word run with the evaluation texts."""

    def __init__(self, texts: Iterable[str]) -> None:
        self.seen: set[int] = set()
        for t in texts:
            self.seen.update(shingles(t))

    def overlaps(self, par: str) -> bool:
        """Whether ``par`` repeats any run of the evaluation texts."""
        return any(h in self.seen for h in shingles(par))
