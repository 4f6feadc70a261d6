"""No silent fallback: a damaged ``active`` pointer or memory file is repaired or worked around, and the user is
told what happened and what was done (in the model's warning, the space's notices and on the command line)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.personal.space import UserSpace
from assistant.store.paths import Paths

ROOT = Path(__file__).parents[2]


def _cli(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ASSISTANT_HOME": str(home)}
    return subprocess.run(
        [sys.executable, "-m", "assistant", *args], capture_output=True, text=True, timeout=300, cwd=ROOT, env=env
    )


@pytest.mark.parametrize("garbage", [b"\x00\xffnot a version", b"", b"v12 and more\n"])
def test_garbage_in_the_active_pointer_is_reported(tmp_path: Path, tiny_model_dir: Path, garbage: bytes) -> None:
    paths = Paths.at(tmp_path / "home")
    space = UserSpace.at(paths, base_dir=tiny_model_dir)
    space.save("a.txt", "The cat sat on the mat.\n")
    space.registry.reset()
    (paths.models / "active").write_bytes(garbage)
    problem = space.registry.pointer_problem()
    assert "is damaged (it names no version)" in problem and "using the base model" in problem
    model = space.model()
    assert model.name == "base" and model.warning == problem
    listing = _cli(tmp_path / "home", "model", "list")
    assert listing.returncode == 0 and f"warning: {problem}" in listing.stderr and "* base" in listing.stdout


def test_a_sound_pointer_says_nothing(tmp_path: Path, tiny_model_dir: Path) -> None:
    paths = Paths.at(tmp_path / "home")
    space = UserSpace.at(paths, base_dir=tiny_model_dir)
    space.registry.reset()
    assert space.registry.pointer_problem() == "" and space.model().warning == ""


@pytest.mark.parametrize("damage", ["truncate", "garbage"])
def test_a_damaged_memory_file_is_rebuilt_and_the_command_says_so(
    tmp_path: Path, tiny_model_dir: Path, damage: str
) -> None:
    home = tmp_path / "home"
    space = UserSpace.at(Paths.at(home), base_dir=tiny_model_dir)
    space.save("a.txt", "The Kestrel plan is ready.\n\nThe Kestrel team meets on Monday.\n")
    space.close()
    memory_file = home / "data" / "personal_memory.json.gz"
    raw = memory_file.read_bytes()
    memory_file.write_bytes(raw[: len(raw) // 2] if damage == "truncate" else b"not a memory at all")
    proc = _cli(home, "suggest", "--model", str(tiny_model_dir), "the Kes")
    assert proc.returncode == 0, proc.stderr
    assert "warning: personal memory" in proc.stderr and "is damaged" in proc.stderr
    assert "rebuilding it from the documents" in proc.stderr
    assert "Kestrel" in proc.stdout  # rebuilt: the words are back at once
    again = _cli(home, "suggest", "--model", str(tiny_model_dir), "the Kes")
    assert again.returncode == 0 and "damaged" not in again.stderr  # said once: the file is sound now


def test_the_app_shows_a_rebuilt_memory_with_the_model_warning(tmp_path: Path, tiny_model_dir: Path) -> None:
    from assistant.app.service import load_active

    home = tmp_path / "home"
    space = UserSpace.at(Paths.at(home), base_dir=tiny_model_dir)
    space.save("a.txt", "The Kestrel plan is ready.\n")
    space.close()
    (home / "data" / "personal_memory.json.gz").write_bytes(b"garbage")
    fresh = UserSpace.at(Paths.at(home), base_dir=tiny_model_dir)
    loaded = load_active(fresh, 0.45)
    assert "personal memory" in loaded.warning and "rebuilding it from the documents" in loaded.warning
    assert load_active(fresh, 0.45).warning == ""  # shown once
