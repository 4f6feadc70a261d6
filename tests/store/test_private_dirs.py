"""Every folder the program creates is private to the user (0700), each missing level, under a usual umask; one
helper (``assistant.atomic.private_dir``) creates them all."""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.atomic import private_dir
from assistant.personal.finetune import FinetuneConfig
from assistant.personal.space import UserSpace
from assistant.store.archive import export
from assistant.store.blocklist import Controls
from assistant.store.paths import Paths

ROOT = Path(__file__).parents[2]


@pytest.fixture
def usual_umask() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def _modes(top: Path) -> dict[str, int]:
    return {str(p.relative_to(top)): stat.S_IMODE(p.stat().st_mode) for p in [top, *top.rglob("*")] if p.is_dir()}


def test_private_dir_makes_every_missing_level_private(tmp_path: Path, usual_umask: None) -> None:
    (tmp_path / "mine").mkdir(mode=0o755)
    private_dir(tmp_path / "mine" / "a" / "b" / "c")
    assert _modes(tmp_path / "mine" / "a") == {".": 0o700, "b": 0o700, "b/c": 0o700}
    assert stat.S_IMODE((tmp_path / "mine").stat().st_mode) == 0o755  # an existing folder is left as it is


def test_the_users_folders_are_all_private(tmp_path: Path, usual_umask: None, tiny_model_dir: Path) -> None:
    home = tmp_path / "home"
    paths = Paths.at(home)
    space = UserSpace.at(paths, base_dir=tiny_model_dir)
    space.save("a.txt", "The cat sat on the mat.\n")
    Controls.at(paths.data).block("wizard")
    space.run_finetune(FinetuneConfig(min_words=10_000))  # creates its work folder under the cache, then stops
    backups = tmp_path / "backups"
    backups.mkdir(mode=0o700)
    export(paths, backups)
    modes = _modes(home)
    assert {"data", "data/documents", "data/models", "cache", "cache/finetune"} <= set(modes), sorted(modes)
    assert {name: oct(mode) for name, mode in modes.items() if mode != 0o700} == {}


def test_no_folder_is_created_but_through_the_one_helper() -> None:
    made = re.compile(r"\.mkdir\(|os\.makedirs\(|os\.mkdir\(")
    found = [
        f"{path.relative_to(ROOT)}:{n}"
        for top in ("assistant", "plugins")
        for path in sorted((ROOT / top).rglob("*.py"))
        if path.name != "atomic.py"
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if made.search(line)
    ]
    assert found == [], "create folders with assistant.atomic.private_dir: " + ", ".join(found)
