"""Word rules shared by prediction and evaluation."""

from __future__ import annotations

import pytest

from assistant.decode.pieces import PieceTable
from assistant.engine.context import is_word_end, segment_ends
from assistant.text.tokenizer import Tokenizer
from assistant.text.words import (
    continues_word,
    count_words,
    partial_word,
    word_boundaries,
    word_head,
    word_spans,
    words,
)


def test_words_follow_the_design_definition() -> None:
    assert words("Don't stop—it's 3.14, isn’t it? l'homme") == [
        "Don't",
        "stop",
        "it's",
        "3",
        "14",
        "isn’t",
        "it",
        "l'homme",
    ]
    assert count_words("  'quoted'  ") == 1
    assert word_spans("a bc") == [(0, 1), (2, 4)]


@pytest.mark.parametrize(
    ("text", "context", "prefix"),
    [
        ("I will send you the rep", "I will send you the ", "rep"),
        ("I will send you the ", "I will send you the ", ""),
        ("", "", ""),
        ("don'", "", "don'"),
        ("say 'hi", "say '", "hi"),
        ("x, 42", "x, ", "42"),
    ],
)
def test_partial_word_splits_at_the_word_being_typed(text: str, context: str, prefix: str) -> None:
    assert partial_word(text) == (context, prefix)


def test_word_ends_and_segments() -> None:
    text = "don't stop, ok"
    assert is_word_end(text, 5) and not is_word_end(text, 3) and is_word_end(text, len(text))
    assert not is_word_end(text, 6)
    assert segment_ends(text) == [5, 10, 14]
    assert segment_ends("hello, ") == [5, 7]


def test_piece_table_and_boundaries(tokenizer: Tokenizer) -> None:
    table = PieceTable.build(tokenizer)
    ids = tokenizer.encode("The cat sends a book.")
    texts = [table.text[i] for i in ids]
    assert "".join(texts) == "The cat sends a book."
    starts = word_boundaries(texts)
    assert len(starts) == 5
    space_word = tokenizer.encode(" report")[0]
    assert table.breaks[space_word] and not table.continues[space_word]
    [comma] = tokenizer.encode(",")
    assert table.breaks[comma] and table.heads[comma] == ""
    apostrophe = tokenizer.encode("'")
    assert len(apostrophe) == 1 and table.continues[apostrophe[0]]


def test_word_heads() -> None:
    assert word_head("s,") == "s" and word_head("'s.") == "'s" and word_head(", x") == "" and word_head("ab'") == "ab"
    assert continues_word("n't") and not continues_word("n't.")
