"""The writer's own phrases: variable-order memories, their phrases as ghost text (CLI and app), and the open
document counted once (issue 25 items 1-2, issue 18 items 2 and 7)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.app.app import WriterApp
from assistant.app.driving import settle, type_text, wait_until
from assistant.engine.memory import DocumentMemory
from assistant.personal.memory import PersonalMemory
from assistant.personal.space import UserSpace
from assistant.store.documents import DocumentStore
from assistant.store.paths import Paths

ROOT = Path(__file__).resolve().parents[2]

SIGN_OFF = "Best regards,\nAnna Keller\nRelease Engineering, Falcon\n"


def mail(i: int) -> str:
    return (
        f"Hi Tom,\n\nbuild {i} of the release is green and the notes are in the wiki. Could you read the latest "
        f"draft of the Kestrel plan when you have a moment? I will send the draft.\n\n{SIGN_OFF}"
    )


def write_mails(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(10):
        path = folder / f"mail{i}.txt"
        path.write_text(mail(i), encoding="utf-8")
        paths.append(path)
    return paths


def cli(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ASSISTANT_HOME": str(home)}
    return subprocess.run(
        [sys.executable, "-m", "assistant", *args], capture_output=True, text=True, timeout=180, cwd=ROOT, env=env
    )


def top(candidates: dict[str, float]) -> str:
    """The best of a memory's candidates (they come best first)."""
    return next(iter(candidates))


# -- variable order -------------------------------------------------------------------------------------------


def test_the_longest_context_with_evidence_decides() -> None:
    text = "the red fox runs home. the blue fox sleeps late. the red fox runs home. the blue fox sleeps late. "
    document = DocumentMemory()
    document.update(text + "the red fox")
    assert top(document.answer("", False, 3).words) == "runs"  # "fox" alone: runs and sleeps alike
    document.update(text + "the blue fox")
    assert top(document.answer("", False, 3).words) == "sleeps"
    personal = PersonalMemory.from_texts({"a.txt": text})
    assert top(personal.answer(["the", "red", "fox"], "", False, 3).words) == "runs"
    assert top(personal.answer(["the", "blue", "fox"], "", False, 3).words) == "sleeps"
    assert list(personal.answer(["blue", "fox"], "s", False, 3).words) == ["sleeps"]


def test_a_context_seen_once_counts_once_however_long_it_is() -> None:
    once = PersonalMemory.from_texts({"a.txt": "we will send the quarterly report to the board tomorrow"})
    tenfold = PersonalMemory.from_texts({f"{i}.txt": "Best regards, Anna Keller" for i in range(10)})
    p_once = once.probability("board", ["report", "to", "the"])
    p_ten = tenfold.probability("Keller", ["Best", "regards", "Anna"])
    assert 0.4 < p_once < 0.7  # one occurrence: about even odds, not certainty
    assert p_ten > 0.85


def test_changes_reach_the_personal_memory_at_once_and_equal_a_rebuild() -> None:
    memory = PersonalMemory.from_texts({"a.txt": "the red fox runs home"})
    memory.compact()
    memory.set_document("b.txt", "the red fox jumps high\n\nthe red fox jumps high")
    assert top(memory.answer(["the", "red", "fox"], "", False, 3).words) == "jumps"  # before any rebuild
    before = memory.answer(["red", "fox"], "", False, 5)
    memory.compact()
    assert memory.answer(["red", "fox"], "", False, 5).words == pytest.approx(before.words)


# -- phrases through the command line -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def mail_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("mail_home")
    paths = write_mails(home / "inbox")
    done = cli(home, "import", *map(str, paths))
    assert done.returncode == 0, done.stderr
    return home


def suggest(home: Path, text: str) -> dict:
    done = cli(home, "suggest", "--json", text)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_the_sign_off_comes_back_as_ghost_text_through_suggest(mail_home: Path) -> None:
    answer = suggest(mail_home, "Thanks Tom, that works for me.\n\nBest regards,\n")
    assert answer["words"][0]["word"] == "Anna"
    assert answer["phrase"]["text"] == "Anna Keller"  # the rest of its line, not the next one


def test_a_phrase_every_mail_says_beats_the_networks_guess(mail_home: Path) -> None:
    answer = suggest(mail_home, "Hi Sam,\n\nCould you read the latest draft of the Kestrel pl")
    assert answer["phrase"]["text"].startswith("an when you have a moment")


def test_a_guessed_next_word_alone_is_no_ghost_text_unless_it_is_as_likely_as_a_phrase(mail_home: Path) -> None:
    answer = suggest(mail_home, "The notes are ready. I will send the draft. ")
    phrase = answer["phrase"]
    assert phrase is None or phrase["confidence"] >= 0.45


# -- the open document counted once ---------------------------------------------------------------------------


def test_a_typo_saved_once_and_fixed_in_the_open_document_no_longer_leads(tmp_path: Path, tiny_model_dir: Path) -> None:
    space = UserSpace.at(Paths.at(tmp_path / "home"), tiny_model_dir)
    fixed = "We met before lunch and talked before the review. Thank you before the meeting."
    typo = fixed.replace("you before", "you bXXefore")
    space.save("notes.txt", typo)
    memory = space.memory()
    assert memory is not None and "bXXefore" in memory
    space.edit("notes.txt")  # reopened: the document memory follows the live text, fixed
    assert "bXXefore" not in memory  # its saved version does not speak while it is open
    predictor = space.predictor()
    cut = fixed.index("you before") + len("you b")
    assert predictor.suggest(fixed[:cut], 3).words[0].word == "before"
    space.save("notes.txt", fixed)
    space.edit(None)  # closed: the saved (fixed) text is counted
    assert "bXXefore" not in memory and memory.probability("before", ["Thank", "you"]) > 0.3
    space.close()


def test_a_document_open_elsewhere_is_counted_again_once_released(tmp_path: Path) -> None:
    store = DocumentStore(tmp_path / "data" / "documents")
    store.save("a.txt", "Zanzibar is far away.")
    memory = PersonalMemory.for_store(store)
    memory.sync(store, hold=["a.txt"])
    assert "Zanzibar" not in memory and memory.documents["a.txt"]  # held out, still recorded
    memory.sync(store)
    assert memory.unigrams["Zanzibar"] == 1
    memory.sync(store, hold=["a.txt"])
    memory.remove_document("a.txt")
    memory.sync(store)
    assert memory.unigrams["Zanzibar"] == 1  # counted once, not twice, not zero


# -- phrases in the app ---------------------------------------------------------------------------------------


async def test_the_sign_off_comes_back_as_ghost_text_in_the_app(tmp_path: Path) -> None:
    home = tmp_path / "home"
    paths = Paths.at(home)
    store = DocumentStore(paths.documents)
    for i in range(10):
        store.save(f"mail{i}.txt", mail(i))
    app = WriterApp(paths)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, app)
        await pilot.press("ctrl+n")
        await pilot.press("ctrl+a", "ctrl+k")
        await type_text(pilot, "Reply\n")
        await wait_until(pilot, lambda: app.document == "Reply" and app.editor.text == "", what="a new document")
        await type_text(pilot, "Thanks Tom.\n\nBest regards,\n")
        await settle(pilot, app)
        await wait_until(pilot, lambda: app.editor.suggestion == "Anna Keller", what="the sign-off as ghost text")
        assert app.bar.suggestions.words[0].word == "Anna"
