"""The privacy controls in the writing app, driven by Pilot: Ctrl+D rejects a suggestion where it stands, a
document marked "do not learn" leaves the personal memory, private mode learns nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Input, OptionList, Static

from assistant.app.app import WriterApp
from assistant.app.driving import settle, type_text, wait_until
from assistant.app.vocab_screen import VocabScreen
from assistant.personal.memory import FILE_NAME, PersonalMemory
from assistant.store.blocklist import Controls
from assistant.store.documents import DocumentStore
from assistant.store.paths import Paths

SIZE = (100, 30)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


def new_app(home: Path) -> WriterApp:
    app = WriterApp(Paths.at(home))
    app.save_delay = 0.05
    return app


def candidates(app: WriterApp) -> list[str]:
    return [c.word for c in app.bar.suggestions.words] if app.bar.suggestions else []


async def test_ctrl_d_rejects_the_suggestion_in_its_context_only(home: Path) -> None:
    app = new_app(home)
    async with app.run_test(size=SIZE) as pilot:
        await type_text(pilot, "The meeting has been mov")
        await settle(pilot, app)
        assert app.editor.suggestion and "moved" in candidates(app)
        for _ in range(4):  # the phrase first, then the word itself
            if "moved" not in candidates(app):
                break
            ghost = app.editor.suggestion
            await pilot.press("ctrl+d")
            await settle(pilot, app)
            assert app.editor.suggestion != ghost or not ghost  # the rejected ghost is not offered again
        assert "moved" not in candidates(app)
        assert app.editor.text == "The meeting has been mov"  # rejecting inserts nothing
        assert "moved" in Controls.at(Paths.at(home).data).rejections()
    app = new_app(home)
    async with app.run_test(size=SIZE) as pilot:  # after a restart: still not here, but elsewhere yes
        await settle(pilot, app)
        app.editor.load_text("")
        await type_text(pilot, "The date was mov")
        await settle(pilot, app)
        assert "moved" in candidates(app)
        await type_text(pilot, ". The meeting has been mov")
        await settle(pilot, app)
        assert "moved" not in candidates(app)


async def test_do_not_learn_and_private_mode(home: Path) -> None:
    paths = Paths.at(home)
    store = DocumentStore(paths.documents)
    store.save("notes.txt", "The zorblax glows.\n\nA zorblax hums and the zorblax sings.\n")
    store.save("other.txt", "")
    memory_file = paths.documents.parent / FILE_NAME
    app = new_app(home)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        app.open_document("other.txt")
        await type_text(pilot, "I saw the zorb")
        await settle(pilot, app)
        assert "zorblax" in candidates(app)  # only the memory knows it
        app.open_document("notes.txt")
        await pilot.pause()
        await app.run_action("toggle_no_learn")
        assert Controls.at(paths.data).no_learn() == ["notes.txt"]
        assert "zorblax" not in app.space.memory()
        app.open_document("other.txt")
        app.editor.load_text("")
        await type_text(pilot, "I saw the zorb")
        await settle(pilot, app)
        assert "zorblax" not in candidates(app)

        await app.run_action("toggle_private")
        await pilot.pause()
        assert "private" in app.main.model_state
        app.editor.load_text("")
        await type_text(pilot, "The quuxlet sings.\n")
        assert app._save_now()
        await wait_until(pilot, lambda: "quuxlet" in store.read("other.txt"), what="the save")
        app.open_document("notes.txt")  # closing other.txt would learn it, but not in private mode
        await pilot.pause()
        assert "quuxlet" not in app.space.memory()
        app.start_learning()
        assert not app.space.finetuning
    assert "quuxlet" not in PersonalMemory.load(memory_file)  # closing the app in private mode learned nothing
    app = new_app(home)
    async with app.run_test(size=SIZE) as pilot:  # private mode is per session: the next one learns it
        await settle(pilot, app)
        assert "quuxlet" in app.space.memory() and "zorblax" not in app.space.memory()
        assert "private" not in app.main.model_state


async def test_the_vocabulary_screen_lists_blocked_and_learned_words_and_unblocks(home: Path) -> None:
    paths = Paths.at(home)
    DocumentStore(paths.documents).save("notes.txt", "The zorblax glows.\n\nA zorblax hums and the zorblax sings.\n")
    controls = Controls.at(paths.data)
    controls.block("synergy")
    controls.block("moved")
    app = new_app(home)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await app.run_action("vocabulary")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, VocabScreen)
        learned = str(screen.query_one("#learned", Static).render())
        assert "zorblax (3)" in learned
        blocked = screen.query_one("#blocked", OptionList)
        assert [str(blocked.get_option_at_index(i).prompt) for i in range(blocked.option_count)] == [
            "moved",
            "synergy",
        ]
        await pilot.press("u")  # the first one is highlighted
        await pilot.pause()
        assert controls.blocked() == ["synergy"] and blocked.option_count == 1
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, VocabScreen)
        app.editor.load_text("")
        await type_text(pilot, "The meeting has been mov")
        await settle(pilot, app)
        assert "moved" in candidates(app)  # unblocked: suggested again


async def test_ctrl_d_in_a_prompt_is_the_inputs_delete_key(home: Path) -> None:
    app = new_app(home)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("f2")  # rename: a prompt with the name in an input
        await pilot.pause()
        field = app.screen.query_one(Input)
        field.value, field.cursor_position = "abcd", 0
        await pilot.press("ctrl+d")
        await pilot.pause()
        assert field.value == "bcd" and Controls.at(Paths.at(home).data).rejections() == {}
