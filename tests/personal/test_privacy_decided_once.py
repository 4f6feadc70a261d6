"""Privacy is decided once, by the user's space: its learn filter and guard come from that user's own settings and
controls, never from the environment or from where a model folder happens to be, and the same filter travels to a
fine-tune's child process."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from assistant.personal.space import Layout, UserSpace
from assistant.store.blocklist import Controls
from assistant.store.paths import Paths
from assistant.store.privacy import LearnFilter
from assistant.store.settings import Settings

KEY = "AKIA" + "Q7RT2XW9PL3MZK8V"


def _settings(paths: Paths, filter_secrets: bool) -> None:
    settings = Settings()
    settings.privacy.filter_secrets = filter_secrets
    settings.save(paths.config)


def test_a_space_uses_its_own_users_settings_whatever_the_environment_says(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env_home, other = Paths.at(tmp_path / "env"), Paths.at(tmp_path / "other")
    _settings(env_home, True)
    _settings(other, False)
    monkeypatch.setenv("ASSISTANT_HOME", str(tmp_path / "env"))
    space = UserSpace.at(other, tmp_path / "base")
    assert space.learn_filter().filter_secrets is False and space.guard().filter_secrets is False
    assert UserSpace.default().learn_filter().filter_secrets is True
    chat_user = UserSpace(Layout.inside(tmp_path / "env" / "data"), tmp_path / "base")  # no settings of its own
    assert chat_user.learn_filter().filter_secrets is True


def test_the_spaces_controls_decide_and_one_object_serves_the_filter_and_the_guard(tmp_path: Path) -> None:
    space = UserSpace.at(Paths.at(tmp_path / "home"), tmp_path / "base")
    space.controls().set_no_learn("diary.txt")
    space.controls().forget("wizard")
    learn = space.learn_filter()
    assert learn.controls is space.controls() is space.guard().controls
    docs = {"diary.txt": "Dear diary.", "tales.txt": f"The wizard came.\n\nThe key is {KEY} now."}
    learnable = learn.documents(docs)
    assert set(learnable) == {"tales.txt"}  # the "do not learn" document is left out
    assert "wizard" not in learnable["tales.txt"] and "The key is" in learnable["tales.txt"]
    assert KEY not in learnable["tales.txt"]


def test_the_default_filter_below_the_space_infers_no_user(tmp_path: Path) -> None:
    """Without the space's filter, below it only secrets are removed: a controls file beside the documents is not
    looked for (no user is guessed from a path)."""
    Controls.at(tmp_path).forget("wizard")
    text = f"The wizard came.\n\nThe key is {KEY} now."
    kept = LearnFilter().text(text)
    assert "wizard" in kept and KEY not in kept


def test_the_filter_travels_to_a_child_process_with_the_same_controls(tmp_path: Path) -> None:
    space = UserSpace.at(Paths.at(tmp_path / "home"), tmp_path / "base")
    space.controls().forget("wizard")
    copy = pickle.loads(pickle.dumps(space.learn_filter()))
    assert copy.controls is not None and copy.controls.path == space.controls().path
    assert copy.controls.forgotten() == ["wizard"] and copy.fingerprint() == space.learn_filter().fingerprint()
