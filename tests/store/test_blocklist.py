"""Blocked words and phrases, rejected suggestions, forgotten words and "do not learn" documents: persisted in
the user's store, applied to real predictors and a real tiny fine-tune."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from assistant.engine.guard import SuggestionGuard
from assistant.engine.predictor import PhraseSettings, Predictor
from assistant.lm.io import copy_model, load_model
from assistant.store.blocklist import CONTROLS_FILE, Controls, ControlsError, context_key, normalise
from assistant.store.models import ModelRegistry
from assistant.store.privacy import LearnFilter
from assistant.store.settings import Settings
from assistant.train.finetune import GENERAL_SAMPLE, FinetuneConfig, finetune, paragraph_hash, paragraphs
from tests.support.corpus import make_corpus
from tests.support.finetune import user_text


@pytest.fixture
def controls(tmp_path: Path) -> Controls:
    return Controls.at(tmp_path / "data")


def test_block_and_unblock_persist_privately_and_survive_a_restart(controls: Controls, tmp_path: Path) -> None:
    assert controls.block("  Best   Regards, ") == "best regards"
    assert controls.block("Wizard") == "wizard"
    path = tmp_path / "data" / CONTROLS_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = Controls.at(tmp_path / "data")  # another process, or the next start
    assert again.blocked() == ["best regards", "wizard"]
    assert normalise("WIZARD") in again.blocked() and normalise("best regards") in again.blocked()
    assert again.unblock("wizard") and not again.unblock("wizard")
    assert controls.blocked() == ["best regards"]  # the first instance sees the other's change
    with pytest.raises(ValueError, match="holds no word"):
        controls.block(" ,.; ")


def test_a_damaged_controls_file_is_reported_not_overwritten(controls: Controls) -> None:
    controls.path.parent.mkdir(parents=True, exist_ok=True)
    controls.path.write_text("{not json", encoding="utf-8")
    with pytest.raises(ControlsError, match="damaged"):
        controls.blocked()
    with pytest.raises(ControlsError):
        controls.block("x")
    assert controls.path.read_text(encoding="utf-8") == "{not json"
    controls.path.write_text(json.dumps({"version": 99}), encoding="utf-8")
    with pytest.raises(ControlsError, match="version 1"):
        controls.blocked()


def test_blocked_phrases_are_found_where_a_suggestion_completes_them(controls: Controls) -> None:
    controls.block("best regards")
    controls.block("wizard")
    assert controls.first_blocked("Thanks,\n\n", "Best regards, Ann") == 1
    assert controls.first_blocked("Thanks,\n\nBest ", "regards") == 0
    assert controls.first_blocked("Thanks,\n\nBest ", "wishes") is None
    assert controls.first_blocked("", "the old wizard said") == 2
    assert controls.first_blocked("", "regards") is None


def test_a_blocked_word_is_never_suggested_by_any_model_version(
    controls: Controls, tiny_model_dir: Path, tmp_path: Path
) -> None:
    base = load_model(tiny_model_dir)
    predictors = [Predictor(base), Predictor(base, quantize=False)]  # two model variants
    text = "My sister sends the "
    best = predictors[0].suggest(text, 5).words[0].word
    guard = SuggestionGuard(controls)
    assert best in [c.word for c in guard.apply(text, predictors[0].suggest(text, 5)).words]
    controls.block(best)
    for p in predictors:
        for typed in ("", best[:1], best[:2]):
            s = guard.apply(text + typed, p.suggest(text + typed, 5))
            assert best.casefold() not in [c.word.casefold() for c in s.words]
            assert s.phrase is None or best not in (typed + s.phrase.text).split()
    controls.unblock(best)
    assert best in [c.word for c in guard.apply(text, predictors[0].suggest(text, 5)).words]


def test_a_blocked_phrase_is_never_shown_in_ghost_text(controls: Controls, tiny_model_dir: Path) -> None:
    predictor = Predictor(load_model(tiny_model_dir))
    guard = SuggestionGuard(controls)
    text = "My sister paints a beautiful "
    raw = predictor.suggest(text, 5)
    assert raw.phrase is not None and raw.phrase.text.startswith("picture")  # the tiny model is sure here
    controls.block("a beautiful picture")
    for typed in ("", "p", "pic"):
        out = guard.apply(text + typed, predictor.suggest(text + typed, 5))
        assert out.phrase is None and "picture" not in [c.word for c in out.words]
    other = "Everyone likes some "  # the word alone is still offered elsewhere
    assert "picture" in [c.word for c in guard.apply(other, predictor.suggest(other, 5)).words]


def test_a_rejected_suggestion_is_not_offered_again_in_that_context(controls: Controls, tiny_model_dir: Path) -> None:
    predictor = Predictor(load_model(tiny_model_dir))
    guard = SuggestionGuard(controls)
    text = "The doctor reads "
    other = "My brother reads "
    first = guard.apply(text, predictor.suggest(text, 5)).words[0].word
    assert not controls.reject(text, first, block_after=3)
    assert first not in [c.word for c in guard.apply(text, predictor.suggest(text, 5)).words]
    assert first not in [c.word for c in guard.apply("Then the doctor reads ", predictor.suggest(text, 5)).words]
    assert first in [c.word for c in guard.apply(other, predictor.suggest(other, 5)).words]  # another context
    assert controls.rejections() == {normalise(first): 1}
    assert not controls.reject("a b c ", first, block_after=3)
    assert controls.reject("d e f ", first, block_after=3)  # the third rejection blocks it
    assert normalise(first) in controls.blocked()
    assert first not in [c.word for c in guard.apply(other, predictor.suggest(other, 5)).words]
    assert context_key("Then the doctor reads ") == "doctor reads"


def test_a_rejected_ghost_phrase_is_dropped_in_its_context(controls: Controls, tiny_model_dir: Path) -> None:
    always = PhraseSettings(word_threshold=1e-9, phrase_threshold=1e-9)  # the tiny model always shows a phrase
    predictor = Predictor(load_model(tiny_model_dir), phrase_settings=always)
    guard = SuggestionGuard(controls)
    text = "My sister paints "
    s = predictor.suggest(text, 5)
    assert s.phrase is not None
    controls.reject(text, s.prefix + s.phrase.text, block_after=5)
    assert guard.apply(text, predictor.suggest(text, 5)).phrase is None
    assert guard.apply(text, predictor.suggest(text, 5)).words  # the words themselves stay


def test_settings_have_a_privacy_table(tmp_path: Path) -> None:
    (tmp_path / "settings.toml").write_text(
        "[privacy]\nfilter_secrets = false\nblock_after_rejections = 0\n", encoding="utf-8"
    )
    s = Settings.load(tmp_path)
    assert s.privacy.filter_secrets is False
    assert s.privacy.block_after_rejections == 3 and "block_after_rejections" in s.problems[0]
    assert Settings().privacy.filter_secrets is True


# -- forgotten words and "do not learn" documents in a real fine-tune -----------------------------------------


def test_paragraphs_holding_a_forgotten_word_are_left_out(controls: Controls) -> None:
    controls.forget("Wizard")
    assert controls.is_forgotten("wizard") and controls.forgotten() == ["wizard"]
    assert controls.paragraph_is_forgotten("The WIZARD paints.")
    assert not controls.paragraph_is_forgotten("The wizards paint.")  # whole words only
    text = "One.\n\nThe wizard paints.\n\nTwo.\n"
    assert LearnFilter(True, controls).text(text) == "One.\n\nTwo.\n"
    with pytest.raises(ValueError, match="more than one word"):
        controls.forget("two words")
    assert controls.unforget("wizard") and LearnFilter(True, controls).text(text) == text


def test_no_learn_marks_follow_renames(controls: Controls) -> None:
    assert controls.set_no_learn("diary.txt") and not controls.set_no_learn("diary.txt")
    assert controls.is_no_learn("diary.txt") and controls.no_learn() == ["diary.txt"]
    controls.rename_document("diary.txt", "journal.txt")
    assert controls.no_learn() == ["journal.txt"]
    assert controls.set_no_learn("journal.txt", False) and not controls.is_no_learn("journal.txt")


@pytest.fixture
def registry(tiny_model_dir: Path, tmp_path: Path) -> ModelRegistry:
    base = copy_model(tiny_model_dir, tmp_path / "base")
    (base / GENERAL_SAMPLE).write_text(make_corpus(seed=99, paragraphs=20), encoding="utf-8")
    return ModelRegistry(tmp_path / "data" / "models", base)


FAST = FinetuneConfig(epochs=2, min_words=50, holdout_every=5, lr=2e-3, patience=0, max_general_worsening=10.0)


def test_forget_and_no_learn_keep_text_out_of_a_fine_tune(
    controls: Controls, registry: ModelRegistry, tmp_path: Path
) -> None:
    tales = user_text()  # 'the wizard' appears in about a third of its sentences
    plain = make_corpus(seed=44, paragraphs=30)
    docs = {"tales.txt": tales, "diary.txt": "My diary mentions Zanzibarians daily.\n\n" * 30 + plain}
    controls.forget("wizard")
    controls.set_no_learn("diary.txt")
    learn = LearnFilter(True, controls)  # what the user's space hands down
    out = finetune(registry, docs, tmp_path / "work", FAST, learn=learn)
    assert out.version is not None, out.message
    lexicon = load_model(registry.folder(out.version.name)).lexicon
    assert "wizard" not in lexicon and "Zanzibarians" not in lexicon
    seen = out.version.documents
    assert "diary.txt" not in seen
    wizard = {paragraph_hash(p) for p in paragraphs(tales) if "wizard" in p}
    assert wizard and not wizard & set(seen["tales.txt"])
    assert finetune(registry, docs, tmp_path / "work", FAST, learn=learn).status == "nothing-new"
    # Unforgetting brings the paragraphs back into the next fine-tune.
    controls.unforget("wizard")
    again = finetune(registry, docs, tmp_path / "work", FAST, learn=learn)
    assert again.version is not None and "wizard" in load_model(registry.folder(again.version.name)).lexicon


def test_rejections_keep_the_spelling_they_were_offered_in(controls: Controls) -> None:
    controls.reject("Yesterday", "I")
    controls.reject("and then", "i")  # the same rejection, offered in lower case this time
    controls.reject("The meeting is on", "Thursday")
    assert controls.rejections() == {"i": 2, "thursday": 1}  # compared case-folded
    assert controls.rejections_as_offered() == {"i": 2, "Thursday": 1}  # shown as last offered


def test_the_start_of_a_blocked_word_is_not_offered(controls: Controls) -> None:
    from assistant.engine.predictor import Suggestions
    from assistant.engine.predictor import WordCandidate as Candidate

    controls.block("Gwendolyn")
    controls.block("red panda")
    guard = SuggestionGuard(controls)
    words = ["Gwend", "Gwendol", "Gwendolyn", "Gwen", "Gw", "red"]
    offered = Suggestions("Gw", [Candidate(w, 0.1) for w in words], None)
    kept = [c.word for c in guard.apply("ask Gw", offered).words]
    assert kept == ["Gwen", "Gw", "red"]  # half the word or more leaks it; a short start and a phrase's word do not
    assert [c.word for c in guard.apply("a re", Suggestions("re", [Candidate("red", 0.5)], None)).words] == ["red"]
