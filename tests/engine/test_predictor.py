"""The predictor on a real tiny model: word completion over subwords, next words, phrases, incremental state."""

from __future__ import annotations

import math
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assistant.decode.wordsearch import SearchLimits
from assistant.engine.lookahead import MIN_PROBABILITY
from assistant.engine.predictor import Predictor, split_text
from assistant.engine.window import MAX_CONTEXT_CHARS, context_window
from assistant.lm.io import LoadedModel, load_model

VERBS = {"sends", "reads", "writes", "finds", "likes", "moves", "sees", "takes", "opens", "checks"}


@pytest.fixture(scope="module")
def lm(tiny_model_dir: Path) -> LoadedModel:
    return load_model(tiny_model_dir)


@pytest.fixture(scope="module")
def predictor(lm: LoadedModel) -> Predictor:
    return Predictor(lm)


def test_completes_the_partial_word_without_repeating_it(predictor: Predictor) -> None:
    s = predictor.suggest("The cat se")
    assert s.prefix == "se"
    assert s.words, "expected completions"
    assert all(c.word.startswith("se") for c in s.words)
    assert "sends" in [c.word for c in s.words] or "sees" in [c.word for c in s.words]
    assert all(not c.word.startswith("sese") for c in s.words)
    assert s.completions == [c.word[2:] for c in s.words]


def test_prefix_ending_inside_a_piece(predictor: Predictor, lm: LoadedModel) -> None:
    # " report" is one piece; "rep" ends inside it and must still find the word.
    assert len(lm.tokenizer.encode(" report")) == 1
    words = [c.word for c in predictor.words("My friend reads the rep", 5)]
    assert words[0] == "report"


def test_next_words_after_a_separator(predictor: Predictor) -> None:
    words = [c.word for c in predictor.words("The teacher ", 5)]
    assert set(words[:3]) & VERBS


def test_capitalisation_follows_the_context_and_keeps_typed_case(predictor: Predictor) -> None:
    after_sentence = [c.word for c in predictor.words("The cat sends a book today. ", 3)]
    assert all(w[0].isupper() for w in after_sentence)
    typed_lower = [c.word for c in predictor.words("The cat sends a book today. t", 5)]
    assert typed_lower and all(w.startswith("t") for w in typed_lower)


def test_apostrophes_and_digits(predictor: Predictor) -> None:
    # The apostrophe is typed: the word must go on through it.
    words = [c.word for c in predictor.words("The doctor reads a book, but she doesn'", 5)]
    assert "doesn't" in words
    assert all(w.startswith("doesn'") for w in words)
    digits = predictor.words("The manager opens the door in 20", 5)
    assert all(c.word.startswith("20") for c in digits)


@pytest.mark.parametrize(
    "text",
    ["", "😀", "Ünïcödé naïve caf", "日本語の", "emoji 👍🏽 then wor", "\t\t", "\n\n\n", "a\ud800b", "x\udfff", "   "],
)
def test_unusual_text_is_answered_without_crash(predictor: Predictor, text: str) -> None:
    s = predictor.suggest(text)
    for c in s.words:
        assert 0 <= c.probability <= 1


def test_after_punctuation_the_next_word_is_predicted_as_if_the_space_were_typed(lm: LoadedModel) -> None:
    predictor = Predictor(lm)
    spaced = predictor.suggest("The cat sends a book today. ")
    glued = predictor.suggest("The cat sends a book today.")
    assert [c.word for c in glued.words] == [c.word for c in spaced.words]
    assert glued.words[0].word[0].isupper()  # a sentence start, not a word glued to the full stop
    assert glued.separator == " " and spaced.separator == ""
    assert glued.completions == [" " + c.word for c in glued.words]  # choosing a word brings the space
    if glued.phrase is not None:
        assert glued.phrase.text.startswith(" ")
    after_comma = [c.word for c in predictor.words("The cat sends a book,", 5)]
    assert after_comma == [c.word for c in predictor.words("The cat sends a book, ", 5)]
    assert predictor.words("The teacher (", 5) == predictor.words("The teacher (", 5)  # opening: no space added


def test_an_empty_text_is_a_paragraph_start(predictor: Predictor) -> None:
    assert predictor.words("", 5) == predictor.words("\n\n", 5)
    assert predictor.words("", 5) and all(c.word[0].isupper() for c in predictor.words("", 3))


def test_candidates_under_the_probability_floor_are_never_offered(lm: LoadedModel) -> None:
    assert Predictor(lm).min_probability == MIN_PROBABILITY > 0
    everything = Predictor(lm, min_probability=0.0)
    floored = Predictor(lm, min_probability=0.01)
    dropped = 0
    for text in ["The cat ", "The cat sends a book today.", "zq", "The cat s"]:
        found = everything.words(text, 10)
        kept = floored.suggest(text, 10).words
        assert all(c.probability >= 0.01 for c in kept)
        assert [c.word for c in kept] == [c.word for c in found if c.probability >= 0.01]
        dropped += len(found) - len(kept)
    assert dropped  # the floor did remove unlikely words


def test_probabilities_are_real_and_ranked(predictor: Predictor) -> None:
    for text in ["The cat ", "My sister wr", "Our team reads the re", "Everyone"]:
        cands = predictor.words(text, 8)
        probs = [c.probability for c in cands]
        assert probs == sorted(probs, reverse=True)
        assert sum(probs) <= 1 + 1e-6
        assert len({c.word for c in cands}) == len(cands)


def test_a_huge_paste_is_answered(predictor: Predictor) -> None:
    text = "The cat sends a book today. " * 180_000  # about 5 MB
    t0 = time.perf_counter()
    s = predictor.suggest(text + "My friend wr")
    assert s.words and s.words[0].word.startswith("wr")
    assert time.perf_counter() - t0 < 120  # a bound against a hang, not a speed target (59 s on a slow 2-core VM)
    assert len(context_window(text)) <= MAX_CONTEXT_CHARS


def test_phrase_shows_when_confident_and_survives_typing_along(lm: LoadedModel) -> None:
    predictor = Predictor(lm)
    s = predictor.suggest("The teacher sends the lett")
    assert s.words[0].word == "letter"
    assert s.phrase is not None and s.phrase.text.startswith("er")
    assert s.phrase.confidence >= predictor.phrase_settings.phrase_threshold
    kept = predictor.suggest("The teacher sends the lette")
    assert kept.phrase is not None and kept.phrase.text == s.phrase.text[1:]


def test_split_text() -> None:
    s = split_text("I will send you the rep")
    assert (s.context, s.tail, s.prefix) == ("I will send you the", " rep", "rep")
    s = split_text("Hello,  ")
    assert (s.context, s.tail, s.prefix) == ("Hello", ",  ", "")


# -- incremental state ---------------------------------------------------------------------------------------

ALPHABET = "the cat sends a book. My friend reads, writes today\n'2"

edits = st.lists(
    st.tuples(
        st.sampled_from(["insert", "delete", "replace_all", "undo", "type"]),
        st.integers(0, 400),
        st.integers(0, 30),
        st.text(alphabet=ALPHABET, max_size=12),
    ),
    min_size=1,
    max_size=12,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edits=edits, start=st.text(alphabet=ALPHABET, max_size=80))
def test_incremental_answers_equal_answers_from_scratch(lm: LoadedModel, edits, start: str) -> None:
    # Float weights: int8 rounds activations per batch, so there equality holds only up to quantisation noise.
    live = Predictor(lm, quantize=False)
    scratch = Predictor(lm, quantize=False)
    text = start
    history = [text]
    for kind, pos, length, chunk in edits:
        pos = pos % (len(text) + 1)
        if kind == "insert":
            text = text[:pos] + chunk + text[pos:]
        elif kind == "delete":
            text = text[:pos] + text[pos + length :]
        elif kind == "replace_all":
            text = chunk
        elif kind == "undo" and len(history) > 1:
            history.pop()
            text = history[-1]
        else:
            text = text + chunk
        history.append(text)
        cursor = len(text) if kind == "type" else pos
        got = live.words(text[:cursor], 5)
        scratch.reset()
        want = scratch.words(text[:cursor], 5)
        assert [c.word for c in got] == [c.word for c in want]
        assert all(abs(a.probability - b.probability) < 1e-5 for a, b in zip(got, want, strict=True))


def test_typing_at_the_end_costs_only_the_new_words(lm: LoadedModel) -> None:
    p = Predictor(lm)
    text = "The cat sends a book today. " * 20
    p.words(text, 3)
    before = p.cache.tokens_fed
    p.words(text + "My friend ", 3)
    assert p.cache.tokens_fed - before <= 6


def test_pruning_unlikely_spellings_keeps_the_answers_and_saves_work(lm: LoadedModel) -> None:
    pruned, full = Predictor(lm), Predictor(lm, limits=SearchLimits(margin=math.inf))
    text = "The cat sends a book today. My friend reads the letters and writes"
    for cursor in range(len("The cat sends"), len(text) + 1):
        got = {c.word: c.probability for c in pruned.words(text[:cursor], 5)}
        want = {c.word: c.probability for c in full.words(text[:cursor], 5) if c.probability > 0.02}
        assert all(abs(got.get(w, 0.0) - p) < 0.01 for w, p in want.items()), (text[:cursor], got, want)
    assert pruned.search.rows_stepped < 0.8 * full.search.rows_stepped
