"""Personal model versions: numbered model folders, each with its metrics and verdict, and an ``active`` pointer.

``v0001/`` ... hold ``model.safetensors``, ``config.json``, ``tokenizer.model`` (and ``lexicon.txt``) plus
``version.json`` (accepted or rejected, why, metrics, the document state it saw). The ``active`` file names the
version in use; no file (or ``base``) means the shipped base model. Pointer changes are atomic, so a crash at
any point leaves a loadable active model.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import stat
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from filelock import FileLock

from assistant.atomic import atomic_write_text, clean_leftovers, private_dir
from assistant.lm.io import LoadedModel, ModelLoadError, load_model
from assistant.store.archive import recover
from assistant.text.lexicon import LEXICON_FILE, Lexicon
from assistant.text.words import words

log = logging.getLogger(__name__)

ACTIVE = "active"
VERSION_FILE = "version.json"
BASE = "base"
_VERSION_RE = re.compile(r"^v\d{4,}$")


@dataclass
class VersionInfo:
    """The record of one fine-tuning result."""

    name: str
    status: str
    """``accepted`` or ``rejected``."""
    reason: str = ""
    parent: str = BASE
    """The version it was fine-tuned from."""
    created: float = field(default_factory=time.time)
    metrics: dict[str, Any] = field(default_factory=dict)
    documents: dict[str, list[str]] = field(default_factory=dict)
    """Document name -> hashes of the paragraphs this version (and its parents) have seen."""


@dataclass(frozen=True)
class ActiveModel:
    """The model to use, and what happened if the chosen one could not be loaded."""

    model: LoadedModel
    version: str
    """A version name or ``base``."""
    warning: str = ""


_INFO_TYPES: dict[str, tuple[type, ...]] = {
    "name": (str,),
    "status": (str,),
    "reason": (str,),
    "parent": (str,),
    "created": (int, float),
    "metrics": (dict,),
    "documents": (dict,),
}


def decode_info(raw: object) -> VersionInfo | None:
    """A version record from parsed ``version.json``, or None when any field has the wrong type."""
    if not isinstance(raw, dict) or not {"name", "status"} <= raw.keys():
        return None
    for key, value in raw.items():
        types = _INFO_TYPES.get(key)
        if types is None or not isinstance(value, types) or isinstance(value, bool):
            return None
    if raw["status"] not in ("accepted", "rejected") or not _VERSION_RE.match(raw["name"]):
        return None
    if "parent" in raw and raw["parent"] != BASE and not _VERSION_RE.match(raw["parent"]):
        return None
    if not all(isinstance(v, list) and all(isinstance(h, str) for h in v) for v in raw.get("documents", {}).values()):
        return None
    return VersionInfo(**raw)


def _make_private(root: Path) -> None:
    """Tighten what older versions wrote world-readable (0755 version folders, 0644 files) to 0700/0600."""
    for path in [root, *root.iterdir(), *(f for d in root.iterdir() if d.is_dir() for f in d.iterdir())]:
        try:
            st = path.lstat()
            if stat.S_ISLNK(st.st_mode) or not st.st_mode & 0o077:
                continue
            os.chmod(path, 0o700 if stat.S_ISDIR(st.st_mode) else 0o600)
        except OSError:
            continue


def user_lexicon(base: Lexicon | None, texts: Iterable[str]) -> Lexicon:
    """A version's lexicon: the base model's words plus those of the user's current documents (so the words of
    a removed document go with it)."""
    lexicon = Lexicon(base if base is not None else ())
    lexicon.add(w for t in texts for w in words(t))
    return lexicon


class ModelRegistry:
    """Versions under ``root`` (normally ``<user data>/models``)."""

    def __init__(self, root: Path, base_dir: Path) -> None:
        self.root = root
        self.base_dir = base_dir
        self.notices: list[str] = []
        """What opening the registry found and did (a damaged ``active`` file, a killed restore finished)."""
        finished = recover(root.parent)  # a restore killed mid-swap is finished before anything is read
        if finished:
            log.warning("%s", finished)
            self.notices.append(finished)
        private_dir(root)
        clean_leftovers(root)  # a half-written 'active' of a killed process
        self.lock = FileLock(str(root / ".lock"), timeout=60, mode=0o600)
        _make_private(root)

    def versions(self) -> list[VersionInfo]:
        """Every version, oldest first (folders without a readable record are skipped)."""
        out = []
        for folder in sorted(p for p in self.root.iterdir() if p.is_dir() and _VERSION_RE.match(p.name)):
            info = self.info(folder.name)
            if info is not None:
                out.append(info)
        return out

    def info(self, name: str) -> VersionInfo | None:
        """The record of version ``name`` (None if missing, unreadable or of the wrong shape)."""
        try:
            raw = json.loads((self.root / name / VERSION_FILE).read_bytes().decode("utf-8"))
        except (OSError, ValueError):
            return None
        return decode_info(raw)

    def folder(self, name: str) -> Path:
        """Model folder of a version (or the base model)."""
        return self.base_dir if name == BASE else self.root / name

    def active_name(self) -> str:
        """The active version's name, or ``base`` (also when the ``active`` file is damaged)."""
        return self._pointer()[0]

    def pointer_problem(self) -> str:
        """What is wrong with the ``active`` file, and what is done meanwhile ('' when nothing is)."""
        warning = self._pointer()[1]
        if not warning:
            return ""
        return f"{warning}using the base model until 'assistant model use VERSION' (or 'model reset') sets it again"

    def _pointer(self) -> tuple[str, str]:
        """The active name and, when the ``active`` file is damaged, what is wrong with it."""
        path = self.root / ACTIVE
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return BASE, ""
        except OSError as exc:
            return BASE, f"{path} cannot be read ({exc.strerror or exc}); "
        try:
            name = raw.decode("utf-8").strip()
        except UnicodeDecodeError:
            name = ""
        if name == BASE or _VERSION_RE.match(name):
            return name, ""
        return BASE, f"{path} is damaged (it names no version); "

    def active(self) -> ActiveModel:
        """Load the active model; if it is damaged, fall back to its parent chain and then the base, saying so."""
        name, warning = self._pointer()
        tried = set()
        while name != BASE and name not in tried:
            tried.add(name)
            try:
                return ActiveModel(load_model(self.folder(name)), name, warning)
            except ModelLoadError as exc:
                warning += f"personal model {name} cannot be loaded ({exc}); "
                info = self.info(name)
                name = info.parent if info else BASE
        model = load_model(self.base_dir)
        if warning:
            warning += "using " + ("the base model" if name == BASE else name)
        return ActiveModel(model, BASE, warning)

    def new_version_name(self) -> str:
        """The next free version name."""
        numbers = [int(p.name[1:]) for p in self.root.iterdir() if p.is_dir() and _VERSION_RE.match(p.name)]
        return f"v{(max(numbers) + 1) if numbers else 1:04d}"

    def add(self, staged: Path, info: VersionInfo) -> Path:
        """Move a finished model folder in as version ``info.name``; activate it if it was accepted."""
        with self.lock:
            target = self.root / info.name
            atomic_write_text(staged / VERSION_FILE, json.dumps(asdict(info), indent=1))
            staged.rename(target)
            if info.status == "accepted":
                self._set_active(info.name)
            return target

    def use(self, name: str) -> None:
        """Make version ``name`` (or ``base``) active."""
        with self.lock:
            if name != BASE:
                info = self.info(name)
                if info is None:
                    raise KeyError(f"no model version {name!r}")
                load_model(self.folder(name))  # refuse a damaged one now, not at the next start
            self._set_active(name)

    def rollback(self) -> str:
        """Activate the version the active one was trained from; returns its name."""
        with self.lock:
            current = self.active_name()
            if current == BASE:
                raise ValueError("the base model is active; there is nothing to roll back")
            info = self.info(current)
            parent = info.parent if info else BASE
            self._set_active(parent)
            return parent

    def reset(self) -> None:
        """Go back to the base model (versions are kept)."""
        with self.lock:
            self._set_active(BASE)

    def remove_rejected(self) -> int:
        """Delete rejected versions; returns how many."""
        n = 0
        with self.lock:
            for v in self.versions():
                if v.status == "rejected":
                    shutil.rmtree(self.root / v.name, ignore_errors=True)
                    n += 1
        return n

    def refresh_lexicons(self, texts: Iterable[str]) -> int:
        """Rewrite every version's word list as the base model's words plus the words of ``texts`` (the user's
        remaining documents): call after removing a document so its words leave the lexicon. Returns how many
        versions were rewritten."""
        base_file = self.base_dir / LEXICON_FILE
        base = Lexicon.load(base_file) if base_file.is_file() else None
        lexicon = user_lexicon(base, texts)
        n = 0
        with self.lock:
            for folder in sorted(p for p in self.root.iterdir() if p.is_dir() and _VERSION_RE.match(p.name)):
                if (folder / LEXICON_FILE).is_file():
                    lexicon.save(folder / LEXICON_FILE)
                    n += 1
        return n

    def _set_active(self, name: str) -> None:
        atomic_write_text(self.root / ACTIVE, name + "\n")
