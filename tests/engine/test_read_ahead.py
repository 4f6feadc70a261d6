"""The next read window is read between keystrokes: the keystroke that moves the window finds its states
ready, and every answer is the same as without reading ahead (a real tiny GRU)."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.engine.predictor import Predictor
from assistant.engine.window import (
    GIVEN_STEP,
    GIVEN_STEPS,
    MAX_CONTEXT_CHARS,
    READ_AHEAD_CHARS,
    WINDOW_STEP,
    context_window,
    given_start,
    next_window_start,
    window_start,
)
from assistant.lm.io import LoadedModel, load_model
from tests.support.corpus import make_corpus


@pytest.fixture(scope="module")
def lm(tiny_model_dir: Path) -> LoadedModel:
    return load_model(tiny_model_dir)


def long_text(chars: int) -> str:
    text = ""
    seed = 0
    while len(text) < chars:
        text += make_corpus(seed=seed, paragraphs=20)
        seed += 1
    return text[:chars]


def word_ends(text: str, lo: int, hi: int) -> list[int]:
    """Offsets just after each space in ``text[lo:hi]`` (a writer at the start of the next word)."""
    return [i + 1 for i in range(lo, hi) if text[i] == " " and text[i - 1] != " "]


def test_the_window_moves_in_steps_and_is_announced_before_it_does() -> None:
    text = long_text(MAX_CONTEXT_CHARS + 3 * WINDOW_STEP)
    moves = [
        n for n in range(MAX_CONTEXT_CHARS - 10, len(text)) if window_start(text[:n]) != window_start(text[: n - 1])
    ]
    assert len(moves) == 3
    for n in moves:
        announced = next_window_start(text[: n - READ_AHEAD_CHARS])
        assert announced == window_start(text[:n])  # known a thousand characters before the move
        assert next_window_start(text[: n - READ_AHEAD_CHARS - 1]) is None


def test_the_moved_window_is_read_ahead_and_answers_the_same(lm: LoadedModel) -> None:
    text = long_text(MAX_CONTEXT_CHARS + WINDOW_STEP + 400)
    move = MAX_CONTEXT_CHARS + WINDOW_STEP  # the first length whose window starts a step further
    assert window_start(text[:move]) > window_start(text[: move - 1])
    reading, plain = Predictor(lm), Predictor(lm)
    opened = text[: move - READ_AHEAD_CHARS + 200]
    opened = opened[: opened.rindex(" ") + 1]
    for p in (reading, plain):
        p.suggest(opened)
    calls = 0
    while reading.idle():
        calls += 1
    assert calls >= 10  # the next window's 5,000-odd characters, a bounded piece per call
    ahead = reading.read_ahead.cache
    assert ahead is not None
    moved = []
    for cursor in word_ends(text, len(opened), len(text) - 1):
        before = text[:cursor]
        fed, plain_fed = ahead.tokens_fed, plain.cache.tokens_fed
        got = reading.suggest(before)
        want = plain.suggest(before)
        if cursor >= move and not moved:  # the keystroke that moved the window
            moved.append(cursor)
            assert reading.cache is ahead  # the states read ahead took over
            assert ahead.tokens_fed - fed < 50  # only the last words were left to read
            assert plain.cache.tokens_fed - plain_fed > 500  # without: the whole window again
        assert [(c.word, round(c.probability, 5)) for c in got.words] == [
            (c.word, round(c.probability, 5)) for c in want.words
        ]
        while reading.idle():
            pass
    assert moved and reading.read_ahead.cache is None


def test_a_text_over_a_megabyte_is_taken_from_a_start_that_keeps_the_read_window() -> None:
    """Up to 1 MB the engine takes the whole text; past that, a later start that leaves the network's window as
    on the whole text and moves only every ``GIVEN_STEP`` characters (a 5 MB document stays affordable)."""
    base = long_text(300_000)
    text = (base * 18)[: 5_000_000 - 7]
    assert given_start(GIVEN_STEP * GIVEN_STEPS - 1) == 0
    starts = set()
    for length in [*range(1_048_576 - 3, 1_048_576 + 3), *range(4_900_000, len(text), 4_999)]:
        start = given_start(length)
        assert 0.75 * 2**20 <= length - start <= 2**20 or start == 0
        assert context_window(text[start:length]) == context_window(text[:length])
        starts.add(start)
    assert starts == {0, GIVEN_STEP, 4_194_304 - GIVEN_STEP, 4_194_304}
