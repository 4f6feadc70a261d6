"""Dynamic evaluation of the output layer: a real tiny GRU's predictor learns the document between keystrokes,
in its own copy of the network, and forgets it with the document."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from assistant.engine.dynamic import DynamicSettings
from assistant.engine.predictor import Predictor
from assistant.lm.io import LoadedModel, load_model

LEARN = DynamicSettings(learning_rate=0.5, chunk=8, max_steps=4)
PHRASE = "Zorblax quintessa velmorun tarquin. "


@pytest.fixture(scope="module")
def lm(tiny_model_dir: Path) -> LoadedModel:
    return load_model(tiny_model_dir)


def piece_logprob(predictor: Predictor, context: str, follower: str) -> float:
    """The network's log-probability (through the predictor's own copy) of ``follower``'s first piece."""
    logprobs, _ = predictor.cache.state(context)
    return float(logprobs[predictor.tokenizer.encode(follower)[0]])


def write(predictor: Predictor, text: str) -> None:
    """Type ``text`` word by word, giving the predictor its time to learn after each word, as ``eval`` does."""
    at = 0
    while at < len(text):
        nxt = text.find(" ", at + 1)
        at = len(text) if nxt < 0 else nxt + 1
        predictor.words(text[:at], 3)
        predictor.learn()


@pytest.mark.parametrize("quantize", [True, False])
def test_the_network_learns_the_documents_words(lm: LoadedModel, quantize: bool) -> None:
    predictor = Predictor(lm, quantize=quantize, dynamic=LEARN)
    context = PHRASE * 6 + "Zorblax "
    before = piece_logprob(predictor, context, "quintessa")
    write(predictor, PHRASE * 6)
    assert predictor.learner is not None and predictor.learner.steps >= 4
    after = piece_logprob(predictor, context, "quintessa")
    assert after > before + 0.5  # the document's own continuation is now much likelier
    if quantize:
        assert predictor.model.head is not lm.model.head and predictor.model.head is not None


def test_a_shared_network_is_left_as_it_was(lm: LoadedModel) -> None:
    plain = Predictor(lm)
    learning = Predictor(lm, model=plain.model, dynamic=LEARN)
    context = PHRASE * 6 + "Zorblax "
    before = piece_logprob(plain, context, "quintessa")
    write(learning, PHRASE * 6)
    plain.reset()
    assert piece_logprob(plain, context, "quintessa") == pytest.approx(before, abs=1e-6)
    assert piece_logprob(learning, context, "quintessa") > before + 0.5


def test_another_document_starts_from_the_network_as_shipped(lm: LoadedModel) -> None:
    predictor = Predictor(lm, dynamic=LEARN)
    context = "The cat sat on the "
    before = piece_logprob(predictor, context, "mat")
    write(predictor, PHRASE * 6)
    predictor.reset()
    assert predictor.learner is not None and predictor.learner.steps == 0
    assert piece_logprob(predictor, context, "mat") == pytest.approx(before, abs=1e-6)


def test_nothing_is_learned_before_a_chunk_of_finished_words(lm: LoadedModel) -> None:
    predictor = Predictor(lm, dynamic=LEARN)
    predictor.words("Zorblax quint", 3)
    assert not predictor.learn()  # one finished word: less than a chunk
    predictor.words(PHRASE * 3 + "Zorb", 3)
    assert predictor.learn()
    while predictor.learn():  # a long run is learned over several calls
        pass
    steps = predictor.learner.steps  # type: ignore[union-attr]
    assert not predictor.learn()  # nothing new since
    assert predictor.learner.steps == steps  # type: ignore[union-attr]


def test_learning_goes_on_after_an_edit_and_answers_stay_sane(lm: LoadedModel) -> None:
    predictor = Predictor(lm, dynamic=LEARN)
    write(predictor, PHRASE * 4)
    learner = predictor.learner
    assert learner is not None
    steps = learner.steps
    edited = PHRASE * 3 + "Another ending was written here instead of the last one. " * 2
    predictor.words(edited, 3)  # the last sentence rewritten: learning resumes from before it
    assert predictor.learn() and learner.steps > steps
    words = predictor.words(edited + "Zorblax ", 5)
    assert words and all(0.0 <= w.probability <= 1.0 for w in words)
    assert all(torch.isfinite(p).all() for p in learner._head.parameters())  # type: ignore[union-attr]


def test_without_dynamic_settings_learn_does_nothing(lm: LoadedModel) -> None:
    predictor = Predictor(lm)
    predictor.words(PHRASE * 6, 3)
    assert predictor.learner is None and not predictor.learn()


def test_another_text_in_the_same_predictor_starts_the_learning_again(lm: LoadedModel) -> None:
    predictor = Predictor(lm, dynamic=LEARN)
    context = "The cat "
    before = piece_logprob(predictor, context, "sat")
    write(predictor, PHRASE * 6)
    learner = predictor.learner
    assert learner is not None and learner.steps >= 4
    predictor.words(context, 3)  # another document opened: the learned one is gone
    assert predictor.learn() and learner.steps == 0  # what was learned is dropped
    assert not predictor.learn()  # and the new text is too short to learn from yet
    assert piece_logprob(predictor, context, "sat") == pytest.approx(before, abs=1e-6)
