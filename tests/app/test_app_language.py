"""The status line names the open document's language when it is not English (issue 20 item 3)."""

from __future__ import annotations

from pathlib import Path

from assistant.app.app import WriterApp
from assistant.app.driving import settle, type_text
from assistant.store.paths import Paths

FRENCH = (
    "Bonjour à tous, la réunion de jeudi est déplacée à vendredi matin. Nous parlerons du budget de l'équipe et "
    "des prochaines étapes du projet. Merci de "
)


async def test_the_status_line_shows_a_language_other_than_english(tmp_path: Path) -> None:
    app = WriterApp(Paths.at(tmp_path / "home"))
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, app)
        await type_text(pilot, "The plan is ")
        await settle(pilot, app)
        label = app.status.query_one("#status-language")
        assert not label.display  # English: nothing shown
        app.editor.insert(FRENCH)
        await settle(pilot, app)
        await type_text(pilot, "conf")
        await settle(pilot, app)
        assert app.main.document_language == "French"
        assert label.display and "French" in str(label.render())
