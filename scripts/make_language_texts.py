"""Build the French, German and Spanish development texts from Debian's translated manual pages.

    python scripts/make_language_texts.py [--out work/languages]

Downloads ``manpages-fr``, ``manpages-de`` and ``manpages-es`` with ``apt-get download`` (no install), unpacks
them with ``dpkg-deb -x`` into the git-ignored ``--out`` folder, turns each section-1 page's roff into plain
prose paragraphs (macros, font escapes and option lists dropped) and writes per language ``<lang>/dev.txt``
(about 2,500 words: the pages after the personal ones) and ``<lang>/personal/*.txt`` (the first pages, about
30,000 words: "the writer's earlier text"). Pages are taken in sorted order, so a rebuild gives the same texts.
"""

from __future__ import annotations

import argparse
import gzip
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

PACKAGES = {"fr": "manpages-fr", "de": "manpages-de", "es": "manpages-es"}
DEV_WORDS = 2_500
PERSONAL_WORDS = 30_000
_WORD = re.compile(r"\w+(?:['’]\w+)*")

_NAMED = {
    "em": "—",
    "en": "–",
    "aq": "'",
    "lq": "“",
    "rq": "”",
    "Fo": "«",
    "Fc": "»",
    "bu": "•",
    "hy": "-",
    "co": "©",
    "oq": "‘",
    "cq": "’",
    "dq": '"',
    "ti": "~",
    "ha": "^",
    "rs": "\\",
}


def unescape(line: str) -> str:
    """Roff escapes of one text line replaced by the characters they stand for (fonts and sizes dropped)."""
    line = re.sub(r"\\f(?:\[[^\]]*\]|\(..|.)", "", line)
    line = re.sub(r"\\s[+-]?\d", "", line)
    line = re.sub(r"\\\((..)", lambda m: _NAMED.get(m.group(1), ""), line)
    line = re.sub(r"\\\[([^\]]*)\]", lambda m: _NAMED.get(m.group(1), ""), line)
    line = re.sub(r"\\\*(?:\(..|\[[^\]]*\]|.)", "", line)
    line = line.replace("\\-", "-").replace("\\e", "\\").replace("\\&", "").replace("\\ ", " ").replace("\\~", " ")
    line = re.sub(r"\\[|^%:/,c]", "", line)
    return re.sub(r"\\.", "", line)


def roff_paragraphs(source: str) -> list[str]:
    """The prose paragraphs of a manual page: runs of text lines between paragraph macros, at least 12 words,
    mostly letters (option lists, synopses and examples are left out)."""
    paragraphs: list[str] = []
    current: list[str] = []
    skip = False

    def close() -> None:
        text = " ".join(" ".join(current).split())
        letters = sum(c.isalpha() for c in text)
        if len(_WORD.findall(text)) >= 12 and letters > 0.7 * len(text.replace(" ", "")) and "--" not in text:
            paragraphs.append(text)
        current.clear()

    for raw in source.split("\n"):
        if raw.startswith(('.\\"', "'\\\"", '.\\"')):
            continue
        if raw.startswith((".", "'")):
            macro = raw[1:].split(" ", 1)[0]
            close()
            if macro in ("nf", "EX"):
                skip = True
            elif macro in ("fi", "EE"):
                skip = False
            elif macro in ("B", "I", "BR", "IR", "RB", "RI", "BI", "IB", "SM") and not skip:
                current.append(unescape(re.sub(r'"', "", raw.split(" ", 1)[1] if " " in raw else "")))
                continue
            continue
        if not skip and raw.strip():
            current.append(unescape(raw))
    close()
    return paragraphs


def pages(root: Path, language: str) -> list[tuple[str, list[str]]]:
    """``(page name, paragraphs)`` of every section-1 page of the unpacked package, sorted by name."""
    folder = root / "usr" / "share" / "man" / language / "man1"
    out = []
    for f in sorted(folder.glob("*.1*")):
        try:
            data = gzip.decompress(f.read_bytes()) if f.suffix == ".gz" else f.read_bytes()
        except OSError:
            continue
        paras = roff_paragraphs(data.decode("utf-8", "replace"))
        if paras:
            out.append((f.name.split(".")[0], paras))
    return out


def build(language: str, package: str, out: Path) -> None:
    target = out / language
    shutil.rmtree(target, ignore_errors=True)
    (target / "personal").mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["apt-get", "download", package], cwd=tmp, check=True, capture_output=True)
        deb = next(Path(tmp).glob("*.deb"))
        subprocess.run(["dpkg-deb", "-x", str(deb), str(Path(tmp) / "root")], check=True)
        found = pages(Path(tmp) / "root", language)
    seen: dict[str, int] = {}
    for _, paras in found:
        for p in set(paras):
            seen[p] = seen.get(p, 0) + 1
    personal, dev, dev_words = 0, [], 0
    for name, paras in found:
        # Credits (with mail addresses) and boilerplate repeated across pages are nobody's prose.
        paras = [p for p in paras if "@" not in p and seen[p] == 1]
        if personal < PERSONAL_WORDS:
            kept = []
            for p in paras:
                if personal >= PERSONAL_WORDS:
                    break
                kept.append(p)
                personal += len(_WORD.findall(p))
            if kept:
                (target / "personal" / f"{name}.txt").write_text("\n\n".join(kept) + "\n", encoding="utf-8")
            continue
        for p in paras:
            if dev_words >= DEV_WORDS:
                break
            dev.append(p)
            dev_words += len(_WORD.findall(p))
    (target / "dev.txt").write_text("\n\n".join(dev) + "\n", encoding="utf-8")
    print(f"{language}: dev {dev_words:,} words, personal {personal:,} words in {target}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("work/languages"))
    args = parser.parse_args()
    for language, package in PACKAGES.items():
        build(language, package, args.out)


if __name__ == "__main__":
    main()
