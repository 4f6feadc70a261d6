"""The one key table: the app's bindings, the help screen, the palette and the README all come from it."""

from __future__ import annotations

from pathlib import Path

from assistant.app.app import WriterApp
from assistant.app.driving import wait_until
from assistant.app.editor import GhostEditor
from assistant.app.keys import COMMANDS, app_bindings, help_rows, markdown_table, palette_entries
from assistant.app.screens import HelpScreen, keys_table
from assistant.store.paths import Paths

ROOT = Path(__file__).parents[2]
SIZE = (100, 30)


def test_the_readme_key_table_is_the_apps() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert markdown_table() in readme, "README.md's key table differs: paste assistant.app.keys.markdown_table()"


def test_every_command_runs_an_action_of_the_app_and_every_key_is_bound_once() -> None:
    for c in COMMANDS:
        assert c.label or c.palette, c
        if c.action:
            assert callable(getattr(WriterApp, f"action_{c.action}", None)), c.action
    keys = [k for b in app_bindings() for k in b.key.split(",")]
    assert len(keys) == len(set(keys)) and {"ctrl+q", "f1", "alt+9"} <= set(keys)
    titles = [title for title, _, _ in palette_entries()]
    assert titles[0] == "New document" and "Stop learning" in titles and len(titles) == len(set(titles))
    editor_keys = {b.key for b in GhostEditor.BINDINGS}  # type: ignore[union-attr]
    assert {"ctrl+home", "ctrl+end"} <= editor_keys
    assert any(label.startswith("Ctrl+Home") for label, _ in help_rows())


async def test_the_help_screen_lists_every_key_and_ctrl_home_end_move_through_the_document(tmp_path: Path) -> None:
    app = WriterApp(Paths.at(tmp_path / "home"))
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.service.ready, 30, "the model")
        app.editor.load_text("first line\nsecond line\nthird line")
        app.editor.move_cursor((1, 3))
        await pilot.press("ctrl+end")
        assert app.editor.cursor_location == (2, 10)
        await pilot.press("ctrl+home")
        assert app.editor.cursor_location == (0, 0)
        await pilot.press("ctrl+shift+end")
        assert app.editor.selected_text == "first line\nsecond line\nthird line"
        await pilot.press("f1")
        assert isinstance(app.screen, HelpScreen)
        table = keys_table()
        assert list(table.columns[0].cells) == [label for label, _ in help_rows()]
