"""The tokenizer: training, exact round trips of any Unicode text, and clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assistant.text.tokenizer import META, THREADED_BATCH, Tokenizer, TokenizerError

SPECIAL = [
    "",
    " ",
    "   leading and trailing   ",
    "tabs\tinside\t\t",
    "line one\nline two\n\n\nthree",
    "\r\n windows \r\n",
    "emoji 😀🎉👍🏽 and flags 🇫🇷",
    "中文文本 日本語 한국어",
    "control \x00 \x01 \x07 \x1b[0m \x7f",
    f"meta {META} symbol {META}{META}",
    "\u200b zero width \ufeff bom",
    "combining e\u0301 and precomposed é",
]


@pytest.mark.parametrize("text", SPECIAL)
def test_special_strings_round_trip(tokenizer: Tokenizer, text: str) -> None:
    assert tokenizer.decode(tokenizer.encode(text)) == text


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=200))
def test_any_unicode_round_trips(tokenizer: Tokenizer, text: str) -> None:
    assert tokenizer.decode(tokenizer.encode(text)) == text


def test_batch_encoding_matches_single(tokenizer: Tokenizer) -> None:
    texts = ["Hello world.", f"a{META}b", "", "The cat sends a book."]
    assert tokenizer.encode_batch(texts) == [tokenizer.encode(t) for t in texts]
    many = [f"{i} cats sent {i % 7} books." for i in range(THREADED_BATCH + 1)]  # one threaded call
    assert tokenizer.encode_batch(many) == [tokenizer.encode(t) for t in many]


def test_tokenizer_learned_the_corpus(tokenizer: Tokenizer, corpus_file: Path) -> None:
    # Pieces longer than a character: the corpus takes far fewer pieces than characters.
    text = corpus_file.read_text()
    assert len(tokenizer.encode(text)) < 0.6 * len(text)
    assert tokenizer.vocab_size == 480


def test_bpe_model_type_trains_and_round_trips(corpus_file: Path, tmp_path: Path) -> None:
    tok = Tokenizer.train_from_text(corpus_file.read_text(), tmp_path / "bpe", vocab_size=350, model_type="bpe")
    text = "The cat reads 😀 the report\tagain."
    assert tok.decode(tok.encode(text)) == text


def test_missing_and_corrupt_model_files_fail_clearly(tmp_path: Path) -> None:
    with pytest.raises(TokenizerError, match="not found"):
        Tokenizer(tmp_path / "nope.model")
    bad = tmp_path / "bad.model"
    bad.write_bytes(b"this is not a sentencepiece model")
    with pytest.raises(TokenizerError, match=str(bad)):
        Tokenizer(bad)


def test_training_text_must_exist(tmp_path: Path) -> None:
    with pytest.raises(TokenizerError, match="not found"):
        Tokenizer.train([tmp_path / "missing.txt"], tmp_path / "m")
