"""A running front end follows the active model: when another process makes another version active (a fine-tune
in another shell, ``model use``, a rollback, a reset), the user space notices (one ``stat`` of the pointer) and the
app, the language server and the bot's spaces load it, as after a fine-tune of their own."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from assistant.app.app import WriterApp
from assistant.app.driving import settle, wait_until
from assistant.engine.predictor import Predictor
from assistant.lm.io import copy_model, load_model
from assistant.personal.models import BASE
from assistant.personal.space import UserSpace
from assistant.personal.users import UserSpaces, user_key
from assistant.shipped import base_model_dir
from assistant.store.models import ModelRegistry, VersionInfo
from assistant.store.paths import Paths
from tests.support.lsp import lsp_server


def add_version(models: Path, base: Path, model: Path, name: str = "v0001") -> None:
    """What another process's accepted fine-tune leaves: a new version, made active."""
    registry = ModelRegistry(models, base)
    staged = copy_model(model, models / f".staging-{name}")
    registry.add(staged, VersionInfo(name, "accepted", "better", parent=BASE, metrics={}))


@pytest.fixture
def paths(tmp_path: Path) -> Paths:
    return Paths.at(tmp_path / "home")


def test_a_space_notices_a_version_another_space_activates_and_nothing_else(paths: Paths, tiny_model_dir: Path) -> None:
    space = UserSpace.at(paths, tiny_model_dir)
    space.model_check_s = 0
    assert not space.model_changed()  # nothing loaded yet: nothing to follow
    assert space.model().name == BASE and not space.model_changed()
    add_version(paths.models, tiny_model_dir, tiny_model_dir)  # "assistant finetune" in another shell
    assert space.model_changed()
    assert space.model().name == "v0001" and not space.model_changed()
    other = UserSpace.at(paths, tiny_model_dir)
    other.registry.use("v0001")  # rewritten with the same name: nothing to load
    assert not space.model_changed()
    other.registry.rollback()  # back to the base model
    assert space.model_changed() and space.model().name == BASE
    other.registry.use("v0001")
    space.model_check_s = 3600  # looked at a moment ago: no stat until the interval has passed
    assert not space.model_changed()
    space.model_check_s = 0
    assert space.model_changed()


def test_the_bots_users_get_the_version_another_process_activated(tmp_path: Path, tiny_model_dir: Path) -> None:
    spaces = UserSpaces(tmp_path / "users", tiny_model_dir)
    with spaces.predictor("ann") as predictor:
        assert predictor.suggest("The teacher reads the rep", 3).words
    assert spaces._slots[user_key("ann")].version == BASE
    folder = tmp_path / "users" / user_key("ann")
    add_version(folder / "models", tiny_model_dir, tiny_model_dir)  # another process's fine-tune of ann's model
    with spaces.predictor("ann") as predictor:
        assert predictor.suggest("The teacher reads the rep", 3).words
    assert spaces._slots[user_key("ann")].version == "v0001"
    ModelRegistry(folder / "models", tiny_model_dir).reset()
    with spaces.predictor("ann"):
        pass
    assert spaces._slots[user_key("ann")].version == BASE


async def test_the_app_loads_a_version_activated_in_another_shell(paths: Paths, tiny_model_dir: Path) -> None:
    app = WriterApp(paths, base_dir=tiny_model_dir)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, app)
        assert app.service.version == BASE
        add_version(paths.models, tiny_model_dir, tiny_model_dir)
        await wait_until(pilot, lambda: app.service.version == "v0001", timeout=60, what="the new version")
        ModelRegistry(paths.models, tiny_model_dir).reset()
        await wait_until(pilot, lambda: app.service.version == BASE, timeout=60, what="the base model again")


async def test_the_language_server_answers_with_a_version_activated_in_another_shell(
    tmp_path: Path, tiny_model_dir: Path
) -> None:
    text = "The teacher reads the rep"
    uri = "file:///notes/f.md"
    tiny = [c.word for c in Predictor(load_model(tiny_model_dir)).suggest(text, 3, phrase=False).words]
    home = tmp_path / "home"
    async with lsp_server(home, {"candidates": 3}) as s:
        s.open(uri, text)
        first = await s.complete(uri, 0, len(text))
        assert first is not None and [i.label for i in first.items] != tiny  # the shipped base model
        add_version(Paths.at(home).models, base_model_dir(), tiny_model_dir)
        deadline = time.monotonic() + 60
        labels: list[str] = []
        while labels != tiny:
            assert time.monotonic() < deadline, f"the server still answers {labels}, not {tiny}"
            await asyncio.sleep(0.2)
            result = await s.complete(uri, 0, len(text))
            labels = [i.label for i in result.items] if result is not None else []
    assert not s.warnings()
