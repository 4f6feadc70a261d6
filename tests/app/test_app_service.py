"""The app's suggestion service: one thread answers the newest question; older ones waiting are dropped."""

from __future__ import annotations

import time
from pathlib import Path

from assistant.app.service import SuggestionService, load_active
from assistant.personal.space import UserSpace
from assistant.store.paths import Paths


def test_the_newest_question_is_answered_and_a_waiting_older_one_is_dropped(tmp_path: Path) -> None:
    service = SuggestionService()
    assert service.ask("The meeting has been mov", 5, False).wait(0.0, lambda _: None) is None  # no model yet
    service.install(load_active(UserSpace.at(Paths.at(tmp_path / "home")), 0.45))
    try:
        late: list[object] = []
        questions = [
            service.ask(text, 5, False) for text in ("The meet", "The meeting has", "The meeting has been mov")
        ]
        answers = [q.wait(60.0, late.append) for q in questions]
        assert answers[-1] is not None and answers[-1].words[0].word == "moved"
        # each older one was answered, or dropped when a newer one came before its turn (None): none is left
        assert all(a is None or a.words for a in answers[:2]) and late == [] and not service.pending
    finally:
        service.close()


def test_between_questions_the_predictor_learns_the_document(tmp_path: Path) -> None:
    """While no keystroke waits, the service's thread gives the predictor time to learn (dynamic evaluation)."""
    service = SuggestionService()
    loaded = load_active(UserSpace.at(Paths.at(tmp_path / "home")), 0.45)
    service.install(loaded)
    text = "The release notes list every change to the build scripts and the test runner. " * 4
    try:
        assert service.ask(text + "The rel", 5, False).wait(60.0, lambda _: None) is not None
        learner = loaded.predictor.learner
        assert learner is not None
        deadline = time.monotonic() + 60
        while learner.steps < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert learner.steps >= 2  # its 60 finished words are learned in several short calls
        answer = service.ask(text + "The rel", 5, False).wait(60.0, lambda _: None)
        assert answer is not None and answer.words[0].word == "release"
    finally:
        service.close()
