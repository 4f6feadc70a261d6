"""The app's Vocabulary screen and ``assistant vocab`` answer from one function, read afresh when shown."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Static

from assistant.app.app import WriterApp
from assistant.app.driving import settle, type_text, wait_until
from assistant.app.vocab_screen import VocabScreen
from assistant.personal.space import UserSpace
from assistant.personal.vocabulary import vocabulary
from assistant.store.blocklist import Controls
from assistant.store.documents import DocumentStore
from assistant.store.paths import Paths

SIZE = (100, 30)


def shown(screen: VocabScreen, part: str) -> str:
    return str(screen.query_one(f"#{part}", Static).render())


async def test_the_vocabulary_screen_shows_what_assistant_vocab_lists_and_is_read_when_shown(tmp_path: Path) -> None:
    paths = Paths.at(tmp_path / "home")
    store = DocumentStore(paths.documents)
    store.save("notes.txt", "")  # the one the app opens (the first by name)
    store.save("other.txt", "A private list.\n")
    controls = Controls.at(paths.data)
    controls.set_no_learn("other.txt", True)
    controls.forget("wizard")
    controls.reject("Yesterday", "I")
    app = WriterApp(paths)
    app.save_delay = 0.05
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        assert app.document == "notes.txt"
        await type_text(pilot, "The Kestrel plan is ready. The Kestrel team meets today.")
        await wait_until(pilot, lambda: not app.dirty, what="the autosave")
        await app.run_action("vocabulary")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, VocabScreen)
        fresh = vocabulary(UserSpace.at(paths))  # what `assistant vocab` reads, in a space of its own
        assert screen.vocabulary == fresh
        assert "Kestrel (2)" in shown(screen, "learned")  # the open document's saved text counts
        assert shown(screen, "rejected") == "I (1)"  # as it was offered, not case-folded
        assert shown(screen, "forgotten") == "wizard" and shown(screen, "no-learn") == "other.txt"
        await pilot.press("escape")
        controls.reject("The meeting is", "Thursday")
        await app.run_action("vocabulary")
        await pilot.pause()
        assert shown(app.screen, "rejected") == "I (1), Thursday (1)"  # read again when shown
