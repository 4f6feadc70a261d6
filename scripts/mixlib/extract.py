"""Extractors: an unpacked package folder -> candidate paragraphs (one line each), before the prose rules.

Each takes the package root and the source's ``extract`` options from ``scripts/mix_sources.json``.
"""

from __future__ import annotations

import gzip
import os
import re
import struct
import zlib
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from mixlib.prose import clean_space, html_paragraphs, split_blocks, strip_markup

Options = dict[str, Any]
EXCLUDE_PATH = re.compile(r"(?i)sqlite|(^|[/_.-])git([/_.-]|$)|perlgit|rust")
"""Files never read (sources reserved for evaluation: git's, Rust's and SQLite's documentation)."""


def _files(root: Path, opts: Options) -> list[Path]:
    found: set[Path] = set()
    for pattern in opts["glob"] if isinstance(opts["glob"], list) else [opts["glob"]]:
        found.update(p for p in root.glob(pattern) if p.is_file())
    skip = re.compile(opts["exclude"]) if opts.get("exclude") else None
    return sorted(
        p
        for p in found
        if not EXCLUDE_PATH.search(str(p.relative_to(root))) and not (skip and skip.search(str(p.relative_to(root))))
    )


def _read(path: Path) -> str:
    data = path.read_bytes()
    if path.suffix == ".gz" or data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    return data.decode("utf-8", errors="replace")


def _html_file(path: Path) -> list[str]:
    return list(html_paragraphs(_read(path)))


def html(root: Path, opts: Options) -> Iterator[str]:
    """Paragraph and list text of HTML pages (parsed by ``MIX_JOBS`` processes, default 2, in file order)."""
    files = _files(root, opts)
    jobs = int(os.environ.get("MIX_JOBS", "2"))
    if jobs <= 1 or len(files) < 50:
        for path in files:
            yield from _html_file(path)
        return
    with ProcessPoolExecutor(jobs) as pool:
        for pars in pool.map(_html_file, files, chunksize=16):
            yield from pars


_POD_CODE = re.compile(r"[A-Z]<<+\s(.*?)\s>>+|[A-Z]<([^<>]*)>", re.S)


def _pod_inline(text: str) -> str:
    for _ in range(4):
        new = _POD_CODE.sub(lambda m: (m.group(1) or m.group(2) or "").split("|")[0], text)
        if new == text:
            break
        text = new
    return text.replace("E<gt>", ">").replace("E<lt>", "<")


def pod(root: Path, opts: Options) -> Iterator[str]:
    """Ordinary paragraphs of Perl POD (commands and verbatim blocks dropped)."""
    for path in _files(root, opts):
        for block in re.split(r"\n\s*\n", _read(path)):
            if not block.strip() or block[0] in " \t=":
                continue
            yield clean_space(_pod_inline(block))


_ROFF_ESC = [
    (re.compile(r"\\f(\[[^\]]*\]|\(..|.)"), ""),
    (re.compile(r"\\\(em|\\\[em\]"), "—"),
    (re.compile(r"\\\(en|\\\[en\]"), "–"),
    (re.compile(r"\\\((aq|cq)|\\\[aq\]"), "'"),
    (re.compile(r"\\\((dq|lq|rq)|\\\[(dq|lq|rq)\]"), '"'),
    (re.compile(r"\\[-&%:|^]"), lambda m: "-" if m.group(0) == "\\-" else ""),
    (re.compile(r"\\e"), "\\\\"),
    (re.compile(r"\\s[-+]?\d"), ""),
    (re.compile(r"\\\*(\(..|\[[^\]]*\]|.)"), ""),
    (re.compile(r"\\\(..|\\\[[^\]]*\]"), ""),
    (re.compile(r"\\ "), " "),
]
_ROFF_FONT = {".B", ".I", ".SM", ".SB"}
_ROFF_ALT = {".BR", ".RB", ".IR", ".RI", ".BI", ".IB"}
_ROFF_BREAK = {".PP", ".P", ".LP", ".TP", ".IP", ".SH", ".SS", ".HP", ".TQ", ".sp", ".br", ".RS", ".RE", ".in"}


def _roff_text(line: str) -> str:
    for pattern, repl in _ROFF_ESC:
        line = pattern.sub(repl, line)
    return line


def man(root: Path, opts: Options) -> Iterator[str]:
    """Prose paragraphs of man pages (roff requests and examples dropped, font changes removed)."""
    for path in _files(root, opts):
        text = _read(path)
        if text.startswith(".so "):
            continue  # a link to another page
        buf: list[str] = []
        skipping = False
        for raw in text.splitlines():
            req = raw.split(" ", 1)[0]
            if req in (".nf", ".EX", ".TS", ".EQ", ".PS"):
                skipping = True
            elif req in (".fi", ".EE", ".TE", ".EN", ".PE"):
                skipping = False
                continue
            if skipping or raw.startswith(('.\\"', "'\\\"")):
                continue
            if not raw.strip() or req in _ROFF_BREAK:
                if buf:
                    yield clean_space(" ".join(buf))
                buf = []
                continue
            if raw.startswith("."):
                args = raw[len(req) :].strip()
                if req in _ROFF_FONT:
                    buf.append(_roff_text(args.replace('"', "")))
                elif req in _ROFF_ALT:
                    parts = re.findall(r'"[^"]*"|\S+', args)
                    buf.append(_roff_text("".join(p.strip('"') for p in parts)))
                continue
            buf.append(_roff_text(raw))
        if buf:
            yield clean_space(" ".join(buf))


def vimhelp(root: Path, opts: Options) -> Iterator[str]:
    """Paragraphs of Vim help files (examples between ``>`` and ``<`` dropped; tags and links unwrapped)."""
    for path in _files(root, opts):
        kept: list[str] = []
        example = False
        for line in _read(path).splitlines():
            if example:
                if line.startswith("<") or (line and not line[0].isspace()):
                    example = False
                    line = line[1:] if line.startswith("<") else line
                else:
                    continue
            if line.endswith(" >") or line == ">":
                example = True
                line = line[:-1]
            if re.match(r"^[=-]{5,}", line) or "\t" in line.strip():
                kept.append("")
                continue
            line = re.sub(r"\*[^*\s]+\*", "", line)
            line = re.sub(r"\|([^|\s]+)\|", r"\1", line)
            kept.append(line)
        yield from split_blocks("\n".join(kept))


def dictd(root: Path, opts: Options) -> Iterator[str]:
    """Sense paragraphs of a dictd dictionary (headword lines, source tags and cross-reference braces dropped)."""
    for path in _files(root, opts):
        for block in split_blocks(_read(path)):
            if "\\" in block or block.startswith("00-database"):
                continue  # headword line with pronunciation and etymology
            block = re.sub(
                r"\[(1913 Webster|PJC|WordNet 1\.5|Century Dict\.|RHW|Webster 1913 Suppl\.|[A-Z]{2,4})\]", "", block
            )
            block = re.sub(r"^\d+\.\s+|^\([a-z]\)\s+", "", block.replace("{", "").replace("}", ""))
            yield clean_space(block)


_SWORD_PARA = re.compile(r'<div[^>]*type="x-p"[^>]*/>|<chapter[^>]*/>|<lb[^>]*/>|</?p>|<title[^>]*>.*?</title>', re.S)
_SWORD_DROP = re.compile(r"<note[^>]*>.*?</note>|<title[^>]*>.*?</title>", re.S)


def _sword_entries(folder: Path, testament: str) -> Iterator[str]:
    for letter in "bc":
        index = folder / f"{testament}.{letter}zv"
        if index.exists():
            break
    else:
        return
    blocks = (folder / f"{testament}.{letter}zs").read_bytes()
    verses = index.read_bytes()
    data = (folder / f"{testament}.{letter}zz").read_bytes()
    size = _entry_size(verses, len(blocks) // 12)
    wide = size == 12
    cache: dict[int, bytes] = {}
    for i in range(0, len(verses) - size + 1, size):
        if wide:
            b, off, n = struct.unpack("<III", verses[i : i + size])
        else:
            b, off, n = struct.unpack("<IIH", verses[i : i + size])
        if n == 0:
            continue
        if b not in cache:
            start, length, _ = struct.unpack("<III", blocks[b * 12 : b * 12 + 12])
            cache = {b: zlib.decompress(data[start : start + length])}
        yield cache[b][off : off + n].decode("utf-8", errors="replace")


def _entry_size(verses: bytes, n_blocks: int) -> int:
    """Bytes per verse-index entry: 12 (zCom4: 32-bit sizes) or 10 (zText, zCom), whichever reads sensibly."""
    for size, fmt in ((12, "<III"), (10, "<IIH")):
        if len(verses) % size:
            continue
        entries = [struct.unpack(fmt, verses[i : i + size]) for i in range(0, min(len(verses), size * 500), size)]
        if all(b < n_blocks for b, _, n in entries if n):
            return size
    raise ValueError("unrecognised SWORD verse index")


def sword(root: Path, opts: Options) -> Iterator[str]:
    """Paragraphs of a SWORD module (zText / zCom / zCom4: zlib blocks of OSIS), split at its paragraph marks."""
    folder = root / opts["module"]
    text = " ".join(e for t in ("ot", "nt") for e in _sword_entries(folder, t))
    text = _SWORD_DROP.sub(" ", text)
    for part in _SWORD_PARA.split(text):
        par = clean_space(strip_markup(part))
        if par:
            yield par


def crawl(root: Path, opts: Options) -> Iterator[str]:
    """Entries of Dungeon Crawl's text databases (``%%%%``-separated; key line and comments dropped)."""
    for path in _files(root, opts):
        for entry in _read(path).split("%%%%"):
            lines = [ln for ln in entry.strip("\n").splitlines() if not ln.startswith("#")]
            body = "\n".join(lines[1:])
            for par in split_blocks(body):
                if "@" not in par and "$" not in par:
                    yield par


_QUOTED = re.compile(r'\b_\s*\(?\s*"((?:[^"\\]|\\.)*)"\)?|\b_\s*\(?\s*\[\[(.*?)\]\]', re.S)


def gettext(root: Path, opts: Options) -> Iterator[str]:
    """Translatable strings (``_("...")``, ``_"..."``, ``_[[...]]``) of game data and scripts."""
    for path in _files(root, opts):
        for m in _QUOTED.finditer(_read(path)):
            text = m.group(1) if m.group(1) is not None else m.group(2)
            text = text.replace('\\"', '"').replace("\\n", "\n").replace("\\\n", "\n")
            text = re.sub(r"\[/?[a-z]+[^\]]*\]|</?[a-z]+[^>]*>|%[sd]|\$\w+", "", text)
            yield from split_blocks(text)


def keyvalue(root: Path, opts: Options) -> Iterator[str]:
    """String values of ``KEY = "..."`` or ``key: "..."`` lines (rulesets, stringtables, configs)."""
    pattern = re.compile(opts["pattern"], re.S | re.M)
    for path in _files(root, opts):
        for m in pattern.finditer(_read(path)):
            text = m.group(1).replace('\\"', '"').replace("\\n", "\n")
            text = re.sub(r"\[/?[a-z]+[^\]]*\]|</?[a-z]+[^>]*>|%[sd]|\$\w+", "", text)
            yield from split_blocks(text)


def text(root: Path, opts: Options) -> Iterator[str]:
    """Blank-line separated paragraphs of plain text files (``drop_key``: a first line that is a KEY is dropped)."""
    for path in _files(root, opts):
        body = _read(path)
        if opts.get("drop_key"):
            body = re.sub(r"(?m)^[A-Z][A-Z0-9_]+$", "", body)
        if opts.get("rst"):
            body = _rst_inline(body)
        yield from split_blocks(body)


_RST_ROLE = re.compile(r":[\w:+-]+:`([^`<]*?)(?:\s*<[^>]*>)?`")
_RST_LINK = re.compile(r"`([^`<]+?)\s*<[^>]*>`__?")


def _rst_inline(body: str) -> str:
    """reStructuredText inline markup reduced to its text; directive and literal blocks dropped."""
    body = re.sub(r"(?m)^([^\n]*::)[ \t]*\n\n(?:[ \t]+[^\n]*\n|\n)+", r"\1\n\n", body)
    body = _RST_ROLE.sub(lambda m: m.group(1).strip("~!"), body)
    body = _RST_LINK.sub(r"\1", body)
    body = re.sub(r"``([^`]+)``", r"\1", body)
    body = re.sub(r"`([^`]+)`_{0,2}", r"\1", body)
    body = re.sub(r"(?m)^\.\. .*$|^[=\-~^\"'`#*+]{3,}$", "", body)
    return body


def lyx(root: Path, opts: Options) -> Iterator[str]:
    """Standard paragraphs of LyX documents (insets, commands and their arguments dropped)."""
    for path in _files(root, opts):
        depth = 0
        buf: list[str] = []
        inside = False
        for line in _read(path).splitlines():
            if line.startswith("\\begin_inset"):
                depth += 1
            elif line.startswith("\\end_inset"):
                depth -= 1
            elif line.startswith("\\begin_layout"):
                inside = line.split()[1:2] == ["Standard"] and depth == 0
                buf = []
            elif line.startswith("\\end_layout"):
                if inside and buf:
                    yield clean_space(re.sub(r"\\SpecialChar\s*|\\\S+", "", " ".join(buf)))
                inside = False
            elif inside and depth == 0 and not line.startswith("\\"):
                buf.append(line)


EXTRACTORS: dict[str, Callable[[Path, Options], Iterator[str]]] = {
    "html": html,
    "pod": pod,
    "man": man,
    "vimhelp": vimhelp,
    "dictd": dictd,
    "sword": sword,
    "crawl": crawl,
    "gettext": gettext,
    "keyvalue": keyvalue,
    "text": text,
    "lyx": lyx,
}


def wordnet(root: Path, opts: Options) -> Iterator[str]:
    """WordNet glosses as sentences: ``word: definition.`` (the quoted examples are left out)."""
    for path in _files(root, opts):
        for line in _read(path).splitlines():
            if line.startswith("  ") or "|" not in line:
                continue  # licence header
            fields, _, gloss = line.partition("|")
            head = fields.split()[4].replace("_", " ")
            definition = re.sub(r'"[^"]*"', "", gloss).strip(" ;")
            if definition:
                word = re.sub(r"\(.*?\)$", "", head)
                yield f"{word}: {definition}."


EXTRACTORS["wordnet"] = wordnet
