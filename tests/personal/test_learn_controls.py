"""What the service layer learns under the user's controls: a "do not learn" document changes neither the
personal memory nor the model; private mode starts no memory sync and no fine-tune."""

from __future__ import annotations

from pathlib import Path

from assistant.personal.models import BASE
from assistant.personal.space import Layout, UserSpace
from tests.support.finetune import FAST, user_text


def test_a_do_not_learn_document_changes_neither_memory_nor_model(base_dir: Path, tmp_path: Path) -> None:
    space = UserSpace(Layout.inside(tmp_path / "user"), base_dir)
    space.save("kept.txt", "The zorblax glows.")
    space.controls().set_no_learn("diary.txt")
    space.save("diary.txt", user_text() + "\n\nThe quuxlet sings.\n")
    memory = space.memory()
    assert memory is not None and "zorblax" in memory and "quuxlet" not in memory
    before = memory.state()
    space.save("diary.txt", user_text(seed=2) + "\n\nThe quuxlet dances.\n")
    assert memory.state() == before
    outcome = space.run_finetune(FAST)
    assert outcome.status == "too-little" and space.active_version() == BASE  # only kept.txt's three words
    space.controls().set_no_learn("diary.txt", False)
    space.sync_memory(save=True)
    assert "quuxlet" in memory  # learned from again: the control, not the document, kept it out


def test_private_mode_syncs_no_memory_and_starts_no_finetune(base_dir: Path, tmp_path: Path) -> None:
    space = UserSpace(Layout.inside(tmp_path / "user"), base_dir)
    space.save("a.txt", "The zorblax glows.")
    memory = space.memory()
    space.private = True
    space.save("b.txt", user_text())
    assert memory is not None and "wizard" not in memory
    assert space.start_finetune(FAST) is None and not space.finetuning
    space.close()
    assert "wizard" not in type(memory).load(memory.path)  # type: ignore[arg-type]
    space.private = False
    space.sync_memory(save=True)
    assert "wizard" in memory


def test_a_damaged_controls_file_never_breaks_a_save_or_a_keystroke(base_dir: Path, tmp_path: Path) -> None:
    space = UserSpace(Layout.inside(tmp_path / "user"), base_dir)
    space.save("a.txt", "The zorblax glows. The zorblax hums.")
    memory = space.memory()
    assert memory is not None and "zorblax" in memory
    predictor = space.predictor()
    (space.data_dir / "controls.json").write_text("{ damaged", encoding="utf-8")
    space.save("b.txt", "The quuxlet sings.")  # the document is saved; the memory waits
    assert space.store.read("b.txt") == "The quuxlet sings."
    assert "quuxlet" not in memory
    assert any("controls.json" in n for n in space.notices)
    answer = predictor.suggest("It is the zorb", 3)  # the guard still answers (secrets only)
    assert answer.words and answer.words[0].word == "zorblax"
