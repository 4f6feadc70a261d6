"""Snapshots (pytest-textual-snapshot) of the app at 80x24: ghost text on the main screen, help, palette.

After a deliberate change of the UI: ``pytest tests/test_app_snapshots.py --snapshot-update``, then look at the
SVGs under ``tests/__snapshots__`` before committing them.

Determinism: conftest's autouse fixture gives every TextArea and Input a steady cursor, the autosave timer is
set far off, and each capture waits (``quiet``) for the suggestions of the current text, for every worker to
finish and for the screen to draw, so a busy machine captures the same screen as an idle one.
"""

from __future__ import annotations

from pathlib import Path

from textual.command import CommandList
from textual.pilot import Pilot
from textual.widgets import Input

from assistant.app.app import WriterApp
from assistant.app.driving import quiet, started, type_text, wait_until
from assistant.store.documents import DocumentStore
from assistant.store.paths import Paths

SIZE = (80, 24)


def make_app(home: Path) -> WriterApp:
    store = DocumentStore(Paths.at(home).documents)
    store.save("Letter to Anna", "Dear Anna,\n\nThank you for your message.\n\n")
    store.save("Notes", "Ideas for the garden.\n")
    app = WriterApp(Paths.at(home))
    app.save_delay = 3600.0  # no autosave worker starts while a snapshot is taken
    return app


def steady_cursors(pilot: Pilot) -> None:
    """The autouse fixture froze the blink of every text widget on screen (the snapshot would flicker otherwise)."""
    widgets = [*pilot.app.screen.query(Input), *pilot.app.query("#editor")]
    assert widgets and not any(w.cursor_blink for w in widgets)


async def ghost_on_screen(pilot: Pilot) -> None:
    app = pilot.app
    assert isinstance(app, WriterApp)
    await started(pilot, app)
    app.editor.move_cursor(app.editor.document.end)
    await type_text(pilot, "I hope to see you there as soon as poss")
    await quiet(pilot, app)
    assert app.editor.suggestion.startswith("ible")
    steady_cursors(pilot)


def test_main_screen_with_ghost_text(snap_compare, tmp_path: Path) -> None:
    assert snap_compare(make_app(tmp_path), run_before=ghost_on_screen, terminal_size=SIZE)


def test_help_screen(snap_compare, tmp_path: Path) -> None:
    async def open_help(pilot: Pilot) -> None:
        await quiet(pilot, pilot.app)  # type: ignore[arg-type]
        await pilot.press("f1")
        await quiet(pilot, pilot.app)  # type: ignore[arg-type]
        steady_cursors(pilot)

    assert snap_compare(make_app(tmp_path), run_before=open_help, terminal_size=SIZE)


def test_command_palette(snap_compare, tmp_path: Path) -> None:
    async def search_palette(pilot: Pilot) -> None:
        await quiet(pilot, pilot.app)  # type: ignore[arg-type]
        await pilot.press("ctrl+p")
        await type_text(pilot, "model")
        hits = lambda: pilot.app.screen.query_one(CommandList).option_count  # noqa: E731
        await wait_until(pilot, lambda: hits() >= 2, what="palette hits")
        await quiet(pilot, pilot.app)  # type: ignore[arg-type]  # the palette's search workers are done too
        steady_cursors(pilot)

    assert snap_compare(make_app(tmp_path), run_before=search_palette, terminal_size=SIZE)
