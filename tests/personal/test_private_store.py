"""Private mode is kept by the store, not by one process: what the app writes while it is on is marked in the
user's controls, so another user space (the command line, the language server, the bot) learns none of it, in
its memory or a fine-tune, until private mode ends; and, if the writer chooses, never."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.lm.io import copy_model
from assistant.personal.space import UserSpace
from assistant.store.paths import Paths
from assistant.train.finetune import GENERAL_SAMPLE, FinetuneConfig, make_plan
from tests.support.corpus import make_corpus

SECRET = "Snorkelwhip is our secret codename. Snorkelwhip starts on Monday."
BEFORE = "We met at noon about the garden."


@pytest.fixture
def base(tiny_model_dir: Path, tmp_path: Path) -> Path:
    folder = copy_model(tiny_model_dir, tmp_path / "base")
    (folder / GENERAL_SAMPLE).write_text(make_corpus(seed=99, paragraphs=20), encoding="utf-8")
    return folder


@pytest.fixture
def paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Paths:
    monkeypatch.setenv("ASSISTANT_HOME", str(tmp_path / "home"))
    return Paths.default()


def _learnable(space: UserSpace) -> dict[str, str]:
    """What a fine-tune of this space would be given."""
    return space.learn_filter().documents(space.texts())


def test_what_is_written_in_private_mode_is_learned_by_no_other_space_until_it_ends(paths: Paths, base: Path) -> None:
    app = UserSpace.at(paths, base)
    app.save("plan.txt", BEFORE + "\n")
    assert app.memory() is not None
    app.private = True
    app.save("plan.txt", f"{BEFORE}\n\n{SECRET}\n")  # an autosave while private mode is on
    app.save("new.txt", SECRET + "\n")

    other = UserSpace.at(paths, base)  # another front end on the same user
    memory = other.memory()
    assert memory is not None and "garden" in memory and "Snorkelwhip" not in memory
    answer = other.predictor().suggest("Then the Snork", 5)
    assert "Snorkelwhip" not in [c.word for c in answer.words]
    learnable = _learnable(other)
    assert "garden" in learnable["plan.txt"] and all("Snorkelwhip" not in t for t in learnable.values())
    plan = make_plan(learnable, {}, "base", FinetuneConfig())
    assert not any("Snorkelwhip" in p for p in plan.train + plan.holdout)

    app.private = False  # private mode ends: the other space learns it at its next sync
    other.sync_memory(save=True)
    assert "Snorkelwhip" in memory
    assert "Snorkelwhip" in _learnable(UserSpace.at(paths, base))["new.txt"]


def test_the_writer_can_keep_what_was_written_in_private_mode_out_for_good(paths: Paths, base: Path) -> None:
    app = UserSpace.at(paths, base)
    app.save("plan.txt", BEFORE + "\n")
    app.private = True
    app.save("plan.txt", f"{BEFORE}\n\n{SECRET}\n")
    assert app.controls().held_private() == 1
    assert app.end_private(learn=False) == 1 and not app.private
    app.save("plan.txt", f"{BEFORE}\n\n{SECRET}\n\nLater text, learned as usual.\n")
    other = UserSpace.at(paths, base)
    memory = other.memory()
    assert memory is not None and "Later" in memory and "Snorkelwhip" not in memory
    assert "Snorkelwhip" not in _learnable(other)["plan.txt"]


def test_another_process_neither_suggests_nor_lists_a_private_word(paths: Paths, base: Path, tmp_path: Path) -> None:
    app = UserSpace.at(paths, base)
    app.save("plan.txt", BEFORE + "\n")
    app.private = True
    app.save("plan.txt", f"{BEFORE}\n\n{SECRET}\n")
    env = {**os.environ, "ASSISTANT_HOME": str(tmp_path / "home")}
    run = [sys.executable, "-m", "assistant"]
    vocab = subprocess.run([*run, "vocab", "--json"], env=env, capture_output=True, text=True, timeout=300)
    assert vocab.returncode == 0, vocab.stderr
    learned = [w["word"] for w in json.loads(vocab.stdout)["learned"]]
    assert "garden" in learned and "Snorkelwhip" not in learned
    suggest = subprocess.run(
        [*run, "suggest", "--json", "--model", str(base), "the Snork"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert suggest.returncode == 0, suggest.stderr
    assert "Snorkelwhip" not in [w["word"] for w in json.loads(suggest.stdout)["words"]]
    docs = subprocess.run([*run, "docs"], env=env, capture_output=True, text=True, timeout=300)
    assert "1 paragraph written in private mode" in docs.stdout
