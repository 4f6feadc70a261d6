"""Text: the SentencePiece tokenizer, the word rules shared by prediction and evaluation, the lexicon of words a
model may offer, and the secrets filter."""

from assistant.text.tokenizer import Tokenizer, TokenizerError, TokenizerTrainingOptions, train_tokenizer
from assistant.text.words import (
    WORD_RE,
    continues_word,
    count_words,
    partial_word,
    word_head,
    word_spans,
    words,
)

__all__ = [
    "WORD_RE",
    "Tokenizer",
    "TokenizerError",
    "TokenizerTrainingOptions",
    "continues_word",
    "count_words",
    "partial_word",
    "train_tokenizer",
    "word_head",
    "word_spans",
    "words",
]
