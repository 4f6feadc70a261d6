"""The writing app driven by Textual's Pilot: ghost text, candidates, documents, saving, learning, failures."""

from __future__ import annotations

import errno
import re
from pathlib import Path

import pytest

import assistant.store.documents as documents_module
from assistant.app.app import WriterApp
from assistant.app.driving import busy_workers, settle, type_text, wait_until
from assistant.app.instance import InstanceLock
from assistant.app.screens import ConfirmScreen, HelpScreen, PromptScreen, SettingsScreen
from assistant.app.state import AppState
from assistant.lm.io import copy_model
from assistant.shipped import base_model_dir
from assistant.store.documents import DocumentStore
from assistant.store.models import ModelRegistry, VersionInfo
from assistant.store.paths import Paths
from assistant.store.settings import Settings
from assistant.train.finetune import GENERAL_SAMPLE, FinetuneConfig
from tests.support.corpus import make_corpus
from tests.support.finetune import user_text

SIZE = (100, 30)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


def new_app(home: Path, **kwargs: object) -> WriterApp:
    app = WriterApp(Paths.at(home), **kwargs)  # type: ignore[arg-type]
    app.save_delay = 0.05
    app.save_retry = 0.2
    return app


def notes(app: WriterApp) -> list[str]:
    return [n.message for n in app._notifications]


async def test_ghost_text_appears_and_tab_accepts_it(home: Path) -> None:
    app = new_app(home)
    async with app.run_test(size=SIZE) as pilot:
        await type_text(pilot, "The meeting has been mov")
        await settle(pilot, app)
        assert app.editor.suggestion.startswith("ed")
        assert app.bar.suggestions.words[0].word == "moved"
        ghost = app.editor.suggestion
        await pilot.press("tab")
        assert app.editor.text == "The meeting has been mov" + ghost + " "
        assert app.editor.cursor_location == (0, len(app.editor.text))


async def test_typing_along_keeps_the_ghost_and_anything_else_replaces_it(home: Path) -> None:
    app = new_app(home)
    async with app.run_test(size=SIZE) as pilot:
        await type_text(pilot, "as soon as poss")
        await settle(pilot, app)
        assert app.editor.suggestion == "ible"
        await pilot.press("i")
        assert app.editor.suggestion == "ble"  # kept at once, before any model work
        await pilot.press("x")
        assert app.editor.suggestion == ""
        await pilot.press("backspace")
        await settle(pilot, app)
        assert app.editor.suggestion == "ble"


async def test_ctrl_right_accepts_one_word_of_a_phrase(home: Path) -> None:
    app = new_app(home)
    async with app.run_test(size=SIZE) as pilot:
        await type_text(pilot, "He was born in the Unit")
        await settle(pilot, app)
        assert app.editor.suggestion == "ed States"
        await pilot.press("ctrl+right")
        assert app.editor.text == "He was born in the United"
        assert app.editor.suggestion == " States"  # the rest stays on screen
        await pilot.press("ctrl+right")
        assert app.editor.text == "He was born in the United States "  # the last word comes with its separator


async def test_punctuation_after_an_accept_takes_the_place_of_its_space(home: Path) -> None:
    # Phone keyboards' rule: the space an accept adds gives way to punctuation, and a typed space is not doubled.
    app = new_app(home)
    async with app.run_test(size=SIZE) as pilot:
        await type_text(pilot, "The meeting has been mov")
        await settle(pilot, app)
        ghost = app.editor.suggestion
        await pilot.press("tab")
        await pilot.press("full_stop")
        assert app.editor.text == f"The meeting has been mov{ghost}."
        await pilot.press("space")
        await type_text(pilot, "It was mov")
        await settle(pilot, app)
        first = app.bar.suggestions.words[0].word
        await pilot.press("alt+1")
        await pilot.press("space")  # the accept's space is there already
        await pilot.press("t")
        assert app.editor.text == f"The meeting has been mov{ghost}. It was {first} t"
        await pilot.press("backspace", "backspace")
        await type_text(pilot, " He was born in the Unit")
        await settle(pilot, app)
        await pilot.press("ctrl+right", "ctrl+right", "comma")
        assert re.search(r" in the United \w+,$", app.editor.text)


async def test_the_accepts_space_rule_ends_with_any_other_key(home: Path) -> None:
    app = new_app(home)
    async with app.run_test(size=SIZE) as pilot:
        await type_text(pilot, "The meeting has been mov")
        await settle(pilot, app)
        await pilot.press("tab")
        text = app.editor.text
        await pilot.press("left", "right", "full_stop")  # the cursor moved away and back: a plain '.'
        assert app.editor.text == text + "."
        await pilot.press("space", "space")
        assert app.editor.text == text + ".  "  # typed spaces are all kept


async def test_tab_with_no_ghost_completes_the_word_or_does_nothing(home: Path) -> None:
    app = new_app(home)
    async with app.run_test(size=SIZE) as pilot:
        await type_text(pilot, "The meeting has been mov")
        await settle(pilot, app)
        top = app.bar.suggestions.words[0].word
        app.editor.hide_ghost()  # as when the best word is not likely enough for ghost text
        await pilot.press("tab")
        await pilot.pause()
        assert app.editor.text == f"The meeting has been {top} "
        await type_text(pilot, "today. ")
        await settle(pilot, app)
        app.editor.hide_ghost()
        await pilot.press("tab")
        await pilot.pause()
        assert app.editor.text == f"The meeting has been {top} today. "  # no spaces, no invisible word
        assert app.editor.has_focus


async def test_tab_indents_when_the_setting_says_so(home: Path) -> None:
    config = Paths.at(home).config
    config.mkdir(parents=True)
    (config / "settings.toml").write_text("[app]\ntab_indents = true\n")
    app = new_app(home)
    async with app.run_test(size=SIZE) as pilot:
        await type_text(pilot, "Notes")
        await settle(pilot, app)
        app.editor.hide_ghost()
        await pilot.press("tab")
        assert app.editor.text.startswith("Notes ")
        assert app.editor.text.strip() == "Notes"


async def test_moving_the_cursor_or_selecting_clears_the_ghost(home: Path) -> None:
    app = new_app(home)
    async with app.run_test(size=SIZE) as pilot:
        await type_text(pilot, "for the first ti")
        await settle(pilot, app)
        assert app.editor.suggestion == "me"
        await pilot.press("left")
        assert app.editor.suggestion == ""
        await settle(pilot, app)
        assert app.editor.suggestion == ""  # inside a word: nothing to suggest
        await pilot.press("end")
        await settle(pilot, app)
        assert app.editor.suggestion == "me"
        await pilot.press("shift+left")
        assert app.editor.suggestion == ""
        await pilot.press("end")
        await settle(pilot, app)
        await pilot.press("escape")
        assert app.editor.suggestion == ""
        assert app.editor.text == "for the first ti"


async def test_alt_number_inserts_that_candidate(home: Path) -> None:
    app = new_app(home)
    async with app.run_test(size=SIZE) as pilot:
        await type_text(pilot, "The meeting has been mov")
        await settle(pilot, app)
        second = app.bar.suggestions.words[1].word
        assert second != "moved"
        await pilot.press("alt+2")
        assert app.editor.text == f"The meeting has been {second} "
        await settle(pilot, app)
        assert app.bar.suggestions.prefix == ""  # now the next word is being predicted


async def test_after_a_full_stop_the_bar_offers_next_words_and_a_pick_brings_the_space(home: Path) -> None:
    app = new_app(home)
    async with app.run_test(size=SIZE) as pilot:
        await type_text(pilot, "The plan was approved.")
        await settle(pilot, app)
        shown = app.bar.suggestions
        assert shown.separator == " " and shown.words
        assert all(c.word[0].isupper() and c.probability >= 0.001 for c in shown.words)  # sentence starts
        await pilot.press("alt+1")
        assert app.editor.text == f"The plan was approved. {shown.words[0].word} "


async def test_alt_digit_sent_as_escape_digit_picks_too(home: Path) -> None:
    # xterm-like terminals and tmux send Alt+2 as ESC 2, which Textual reads as the character '™' (Option+2).
    app = new_app(home)
    async with app.run_test(size=SIZE) as pilot:
        await type_text(pilot, "The meeting has been mov")
        await settle(pilot, app)
        second = app.bar.suggestions.words[1].word
        await pilot.press("™")
        assert app.editor.text == f"The meeting has been {second} "


async def test_autosave_writes_the_store_and_the_document_survives_quit_and_reopen(home: Path) -> None:
    app = new_app(home)
    async with app.run_test(size=SIZE) as pilot:
        await type_text(pilot, "Dear Anna,\nthe report is ready.")
        store = DocumentStore(Paths.at(home).documents)
        await wait_until(pilot, lambda: not app.dirty, what="autosave")
        assert store.read(app.document) == "Dear Anna,\nthe report is ready."
        name = app.document
        await pilot.press("up", "home", "right", "right")
        cursor = app.editor.cursor_location
        await type_text(pilot, "x")  # unsaved when quitting: quit saves it
        await pilot.press("ctrl+q")
    assert store.read(name) == "Dexar Anna,\nthe report is ready."
    again = new_app(home)
    async with again.run_test(size=SIZE) as pilot:
        assert again.document == name
        assert again.editor.text == "Dexar Anna,\nthe report is ready."
        assert again.editor.cursor_location == (cursor[0], cursor[1] + 1)


async def test_text_typed_just_before_any_kind_of_exit_is_saved(home: Path) -> None:
    app = new_app(home)
    app.save_delay = 60.0  # no autosave: only the exit can save it
    async with app.run_test(size=SIZE) as pilot:
        await type_text(pilot, "Last words before the terminal closed")
        name = app.document
    # The app ended without Ctrl+Q (as when its terminal is closed).
    assert DocumentStore(Paths.at(home).documents).read(name) == "Last words before the terminal closed"
    assert AppState.load(Paths.at(home).data).cursors[name] == (0, 37)


async def test_documents_new_rename_delete_with_confirmation(home: Path) -> None:
    app = new_app(home)
    store = DocumentStore(Paths.at(home).documents)
    async with app.run_test(size=SIZE) as pilot:
        await type_text(pilot, "first text")
        await pilot.press("ctrl+n")
        assert isinstance(app.screen, PromptScreen)
        await pilot.press("ctrl+a", "ctrl+k")  # clear the proposed name
        await type_text(pilot, "Letter\n")
        assert app.document == "Letter"
        assert store.read("Untitled") == "first text"  # switching saved the first one
        await type_text(pilot, "second")
        await pilot.press("f2")
        await pilot.press("ctrl+a", "ctrl+k")
        await type_text(pilot, "Letter to Anna\n")
        assert app.document == "Letter to Anna"
        await pilot.press("f8")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("escape")
        assert "Letter to Anna" in [d.name for d in store.list()]
        await pilot.press("f8")
        await pilot.click("#yes")
        assert [d.name for d in store.list()] == ["Untitled"]
        assert app.document == "Untitled"
        assert app.editor.text == "first text"


async def test_import_reports_unreadable_files(home: Path, tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "notes.txt").write_text("Notes about the garden.", encoding="utf-8")
    (tmp_path / "in" / "image.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    app = new_app(home)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f3")
        await type_text(pilot, f"{tmp_path / 'in'}\n")
        await wait_until(pilot, lambda: app.document == "notes.txt", what="the imported document")
        assert app.editor.text == "Notes about the garden."
        assert any("image.txt" in n and "binary" in n for n in notes(app)), notes(app)


async def test_a_second_instance_is_read_only(home: Path) -> None:
    DocumentStore(Paths.at(home).documents).save("Plan", "Keep this text.")
    other = InstanceLock(Paths.at(home).data)
    assert other.acquire()
    try:
        app = new_app(home)
        async with app.run_test(size=SIZE) as pilot:
            assert app.read_only
            assert any("read-only" in n for n in notes(app))
            await type_text(pilot, "typing here")
            await pilot.press("f8")
            assert not isinstance(app.screen, ConfirmScreen)
            assert app.editor.text == "Keep this text."
        assert DocumentStore(Paths.at(home).documents).read("Plan") == "Keep this text."
    finally:
        other.release()
    assert InstanceLock(Paths.at(home).data).acquire()  # the read-only app did not keep a lock


async def test_a_full_disk_keeps_the_text_and_the_save_retries(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_write = documents_module.atomic_write_text

    def disk_full(path: object, text: str, mode: int = 0o600) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    app = new_app(home)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        monkeypatch.setattr(documents_module, "atomic_write_text", disk_full)
        await type_text(pilot, "Important words.")
        await wait_until(pilot, lambda: app._save_failed, what="the failed save")
        assert any("No space left on device" in n for n in notes(app))
        assert "NOT SAVED" in str(app.status.query_one("#status-text").render())
        assert app.editor.text == "Important words."
        monkeypatch.setattr(documents_module, "atomic_write_text", real_write)
        await wait_until(pilot, lambda: not app.dirty, what="the retried save")
        assert DocumentStore(Paths.at(home).documents).read(app.document) == "Important words."


async def test_a_corrupt_personal_model_falls_back_to_the_base_model(home: Path, tmp_path: Path) -> None:
    registry = ModelRegistry(Paths.at(home).models, base_model_dir())
    staged = copy_model(base_model_dir(), tmp_path / "staged")
    (staged / "model.safetensors").write_bytes(b"not a model")
    registry.add(staged, VersionInfo(name="v0001", status="accepted", reason="test", parent="base", metrics={}))
    app = new_app(home)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        assert app.service.version == "base"
        assert any("v0001" in n and "cannot be loaded" in n for n in notes(app)), notes(app)


async def test_help_screen_and_settings(home: Path) -> None:
    app = new_app(home)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f1")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        await pilot.press("f9")
        assert isinstance(app.screen, SettingsScreen)
        await pilot.click("#enabled")
        await pilot.click("#save")
        assert not app.settings.suggest.enabled
        assert not Settings.load(Paths.at(home).config).suggest.enabled
        await wait_until(pilot, lambda: app.service.ready, what="the model")  # else nothing is asked anyway
        await type_text(pilot, "as soon as poss")
        await wait_until(pilot, lambda: not busy_workers(app), what="no suggestion worker")  # a wrong one answers
        await pilot.pause()
        assert app.editor.suggestion == ""
        assert app.bar.suggestions is None or not app.bar.suggestions.words
        app.theme = "textual-light"  # as the palette's theme picker does
    assert Settings.load(Paths.at(home).config).app.theme == "textual-light"
    again = new_app(home)
    async with again.run_test(size=SIZE):
        assert again.theme == "textual-light"


@pytest.fixture
def tiny_base(tiny_model_dir: Path, tmp_path: Path) -> Path:
    folder = copy_model(tiny_model_dir, tmp_path / "base")
    (folder / GENERAL_SAMPLE).write_text(make_corpus(seed=99, paragraphs=20), encoding="utf-8")
    return folder


async def test_background_learning_swaps_the_model_while_typing_goes_on(home: Path, tiny_base: Path) -> None:
    DocumentStore(Paths.at(home).documents).save("Diary", user_text(paragraphs=40))
    fast = FinetuneConfig(epochs=2, min_words=50, holdout_every=5, lr=2e-3, patience=0, max_general_worsening=10.0)
    app = new_app(home, base_dir=tiny_base, finetune_config=fast)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        assert app.service.version == "base"
        app.editor.move_cursor(app.editor.document.end)
        await pilot.press("f5")
        assert app.space.job is not None, notes(app)
        typed = "\n\nThe wizard paints"
        await type_text(pilot, typed)
        assert app.editor.text.endswith(typed)  # every key landed while learning ran
        await wait_until(pilot, lambda: app.service.version == "v0001", timeout=120, what="the new model")
        assert any("model v0001" in n for n in notes(app)), notes(app)
        await settle(pilot, app)
        status = str(app.status.query_one("#status-model").render())
        assert "model v0001 (" in status and "% on your text)" in status, status
    # The words typed while it learned were not in what it learned from: they count toward the next run.
    assert AppState.load(Paths.at(home).data).words_since_learn == 2  # "The", "wizard" ("paints" unfinished)


async def test_the_editors_faster_document_views_stay_exact_through_edits(home: Path) -> None:
    # The editor caches the joined text and counts wrapped lines instead of summing them (Textual recomputes both
    # for every line it draws); after any edit, undo or redo they must equal what Textual would compute.
    import random

    from textual.document._wrapped_document import WrappedDocument

    rng = random.Random(5)
    app = new_app(home)
    async with app.run_test(size=SIZE) as pilot:
        editor = app.editor
        editor.load_text("\n".join(f"line {i} " + "word " * rng.randint(0, 40) for i in range(60)))
        for _ in range(200):
            action = rng.random()
            rows = editor.document.line_count
            row = rng.randrange(rows)
            col = rng.randint(0, len(editor.document[row]))
            if action < 0.5:
                editor.insert(rng.choice(["x", " more words here", "\n", "a\nb\nc", "long " * 30]), (row, col))
            elif action < 0.8:
                end_row = min(rows - 1, row + rng.randint(0, 2))
                editor.delete((row, col), (end_row, rng.randint(0, len(editor.document[end_row]))))
            elif action < 0.9:
                editor.undo()
            else:
                editor.redo()
            assert editor.text == "\n".join(editor.document.lines)
            assert editor.wrapped_document.height == WrappedDocument.height.fget(editor.wrapped_document)
        await pilot.pause()
