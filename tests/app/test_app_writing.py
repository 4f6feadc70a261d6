"""Writing in the app, driven by Textual's Pilot: undo after an accept, accepting to the end of the line, and the
settings that say when it suggests (a debounce, nothing after a deletion, on demand)."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.app.app import WriterApp
from assistant.app.driving import answered, busy_workers, settle, started, type_text, wait_until
from assistant.store.paths import Paths

SIZE = (100, 30)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


def new_app(home: Path, settings: str = "") -> WriterApp:
    if settings:
        config = Paths.at(home).config
        config.mkdir(parents=True, exist_ok=True)
        (config / "settings.toml").write_text(settings, encoding="utf-8")
    app = WriterApp(Paths.at(home))
    app.save_delay = 3600.0  # no autosave worker: "no worker is busy" means no suggestion is being made
    return app


def suggesting(app: WriterApp) -> bool:
    return app.service.pending


async def test_one_undo_after_tab_takes_back_the_accept_and_only_it(home: Path) -> None:
    app = new_app(home)
    async with app.run_test(size=SIZE) as pilot:
        await type_text(pilot, "Thank you very m")
        await settle(pilot, app)
        assert app.editor.suggestion == "uch"
        await pilot.press("tab")
        assert app.editor.text == "Thank you very much "
        await pilot.press("ctrl+z")
        assert app.editor.text == "Thank you very m"
        await settle(pilot, app)
        assert app.editor.suggestion == ""  # visibly undone: the accepted text does not come back as ghost text
        assert app.bar.suggestions.words[0].word == "much"  # the bar still offers it
        await pilot.press("ctrl+y")
        assert app.editor.text == "Thank you very much "
        await pilot.press("ctrl+z", "u")
        assert app.editor.text == "Thank you very mu"
        await settle(pilot, app)
        assert app.editor.suggestion == "ch"  # typing on brings the ghost text back


async def test_ctrl_down_accepts_the_ghost_text_to_the_end_of_its_line(home: Path) -> None:
    app = new_app(home)
    async with app.run_test(size=SIZE) as pilot:
        await type_text(pilot, "He was born in the Unit")
        await settle(pilot, app)
        assert app.editor.suggestion == "ed States"
        await pilot.press("ctrl+down")
        assert app.editor.text == "He was born in the United States "  # all of a one-line ghost, as Tab
        await settle(pilot, app)
        app.settings.suggest.enabled = False  # no answer replaces the ghost text set here
        app.editor.show_ghost("and lived in Ohio.\nThen he moved.")  # a ghost text of two lines
        await pilot.press("ctrl+down")
        assert app.editor.text == "He was born in the United States and lived in Ohio."
        assert app.editor.suggestion == "\nThen he moved."  # the next line stays on offer


async def test_a_debounce_asks_only_after_a_pause_in_typing(home: Path) -> None:
    app = new_app(home, "[suggest]\ndebounce_ms = 3600000\n")
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, app)
        await wait_until(pilot, lambda: app.service.ready, what="the model")
        await type_text(pilot, "as soon as poss")
        await pilot.pause()
        assert not suggesting(app) and app.shown_key is None  # an hour's debounce: nothing asked yet
    app = new_app(home.parent / "second", "[suggest]\ndebounce_ms = 30\n")
    async with app.run_test(size=SIZE) as pilot:
        await type_text(pilot, "as soon as poss")
        await settle(pilot, app)  # the pause came: the answer follows
        assert app.editor.suggestion == "ible"


async def test_after_delete_false_shows_no_ghost_text_right_after_a_deletion(home: Path) -> None:
    app = new_app(home, "[suggest]\nafter_delete = false\n")
    async with app.run_test(size=SIZE) as pilot:
        await type_text(pilot, "as soon as possx")
        await pilot.press("backspace")
        await settle(pilot, app)
        assert app.editor.suggestion == ""
        assert "possible" in [c.word for c in app.bar.suggestions.words]  # the bar still answers
        await pilot.press("i")
        await settle(pilot, app)
        assert app.editor.suggestion == "ble"


async def test_on_demand_suggests_only_on_ctrl_space(home: Path) -> None:
    app = new_app(home, "[suggest]\non_demand = true\n")
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, app)
        await wait_until(pilot, lambda: app.service.ready, what="the model")
        await type_text(pilot, "as soon as poss")
        await wait_until(pilot, lambda: not busy_workers(app) and not suggesting(app), what="no work")
        await pilot.pause()
        assert app.editor.suggestion == "" and not (app.bar.suggestions and app.bar.suggestions.words)
        await pilot.press("ctrl+space")
        await wait_until(pilot, lambda: answered(app), what="the asked-for suggestions")
        await pilot.pause()
        assert app.editor.suggestion == "ible"
        await pilot.press("space")
        await wait_until(pilot, lambda: not busy_workers(app) and not suggesting(app), what="no work")
        await pilot.pause()
        assert not app.bar.suggestions or not app.bar.suggestions.words  # moved on: asked for nothing new


async def test_the_editors_line_cache_draws_what_textual_draws(home: Path) -> None:
    # The editor keeps lines away from the cursor across keystrokes (Textual redraws them all); after any edit,
    # cursor move, selection or scroll every visible line must be what Textual itself renders.
    import random

    from textual.widgets import TextArea

    rng = random.Random(7)
    app = new_app(home)
    async with app.run_test(size=(60, 20)) as pilot:
        await started(pilot, app)
        editor = app.editor
        editor.load_text("\n".join(f"line {i} (" + "word " * rng.randint(0, 25) + ")" for i in range(40)))
        for step in range(120):
            rows = editor.document.line_count
            row = rng.randrange(rows)
            col = rng.randint(0, len(editor.document[row]))
            action = rng.random()
            if action < 0.4:
                editor.insert(rng.choice(["x", " more", "\n", "(", "long " * 12]), (row, col))
            elif action < 0.6:
                editor.move_cursor((row, col))
            elif action < 0.75:
                editor.move_cursor((row, col), select=True)
            elif action < 0.85:
                editor.scroll_to(y=rng.randint(0, 30), animate=False)
            else:
                editor.show_ghost(rng.choice(["", "ghost text", " and so on"]))
            await pilot.pause()
            for y in range(editor.size.height):
                ours = list(editor.render_line(y))
                editor._line_cache.clear()
                assert ours == list(TextArea.render_line(editor, y)), (step, y)


async def test_ctrl_space_as_a_terminal_sends_it_asks_too(home: Path) -> None:
    app = new_app(home, "[suggest]\non_demand = true\n")
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, app)
        await wait_until(pilot, lambda: app.service.ready, what="the model")
        await type_text(pilot, "as soon as poss")
        await pilot.press("ctrl+@")  # what Textual reads for the NUL a terminal sends for Ctrl+Space
        await wait_until(pilot, lambda: answered(app), what="the asked-for suggestions")
        await pilot.pause()
        assert app.editor.suggestion == "ible"
