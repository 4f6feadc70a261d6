"""Ghost text measured in the KSR replay: shown past the word, first word and all of it right, Tab savings."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from assistant.eval.metrics import EvalReport, ghost_right, keystroke_savings
from tests.support.corpus import make_corpus
from tests.support.evaluation import run_eval


@dataclass
class Offer:
    word: str


@dataclass
class Ghost:
    text: str


@dataclass
class Answer:
    words: list[Offer]
    phrase: Ghost | None
    prefix: str = ""
    completions: list[str] = field(default_factory=list)


class ScriptedGhost:
    """Offers no words; after "good " shows "morning to you" (right up to "to"), after "see " shows "you soon"
    (right), anywhere else nothing."""

    def words(self, text_before_cursor: str, n: int = 5) -> list[Offer]:
        return []

    def suggest(self, text_before_cursor: str, n: int = 5) -> Answer:
        if text_before_cursor.endswith("good "):
            return Answer([], Ghost("morning to you"))
        if text_before_cursor.endswith("see "):
            return Answer([], Ghost("you soon"))
        if text_before_cursor.endswith("good m"):
            return Answer([], Ghost("orning"))  # only the current word: not past it
        return Answer([], None)


def test_ghost_right_judges_against_the_text() -> None:
    text = "good morning to all, see you soon"
    assert ghost_right(text, 5, 5, "morning to you") == (True, True, False)
    assert ghost_right(text, 5, 5, "morning to") == (True, True, True)
    assert ghost_right(text, 5, 5, "morning t") == (True, False, False)  # stops inside a word: not right
    assert ghost_right(text, 5, 5, "morning") == (False, False, False)
    assert ghost_right(text, 6, 5, "orning of") == (True, False, False)


def test_replay_counts_shown_right_and_tab_savings() -> None:
    text = "good morning to all, see you soon"
    r = keystroke_savings(ScriptedGhost(), text)
    g = r.ghost
    assert g is not None
    # Every letter of every word is asked (no word is ever offered): 4+7+2+3+3+3+4 keystrokes.
    assert g.asked == 26
    # Past the current word: at "good |" and at "see |".
    assert g.shown == 2
    assert g.first_right == 2  # "morning to" / "see you"
    assert g.all_right == 1  # "you soon"
    assert g.accepted == 1 and g.saved_chars == len("you soon") - 1
    assert g.chars == len(text)
    out = g.to_json()
    assert out["shown"] == round(2 / 26, 4) and out["all_right"] == 0.5
    report = EvalReport()
    report.add(r, None, len(text))
    assert report.to_json()["ghost"]["saved_chars"] == 7


def test_words_only_predictor_has_no_ghost_figures() -> None:
    class WordsOnly:
        def words(self, text_before_cursor: str, n: int = 5) -> list[Offer]:
            return [Offer("all")]

    r = keystroke_savings(WordsOnly(), "to all")
    assert r.ghost is None
    report = EvalReport()
    report.add(r, None, 6)
    assert report.to_json()["ghost"] is None


def test_eval_json_reports_ghost_text(tiny_model_dir: Path, tmp_path: Path) -> None:
    text = tmp_path / "t.txt"
    text.write_text(make_corpus(seed=5, paragraphs=6), encoding="utf-8")
    proc = run_eval(str(text), "--json", "--model", str(tiny_model_dir), "--max-words", "40", home=tmp_path)
    assert proc.returncode == 0, proc.stderr
    ghost = json.loads(proc.stdout)["ghost"]
    assert set(ghost) == {"shown", "first_word_right", "all_right", "saved_chars", "saved_share", "accepted"}
    assert 0 <= ghost["all_right"] <= ghost["first_word_right"] <= 1 and 0 <= ghost["shown"] <= 1
    assert 0 <= ghost["saved_share"] < 1
    human = run_eval(str(text), "--model", str(tiny_model_dir), "--max-words", "40", home=tmp_path)
    assert human.returncode == 0 and "ghost text:" in human.stdout
