"""The lexicon keeps suggestion slots for real words."""

from __future__ import annotations

from pathlib import Path

from assistant.engine.predictor import UNKNOWN_WORD_MIN, Predictor
from assistant.lm.io import copy_model, load_model
from assistant.text.lexicon import Lexicon
from tests.support.corpus import make_corpus


def test_membership_is_case_tolerant_and_counts_matter(tmp_path: Path) -> None:
    lex = Lexicon.from_texts(["the cat the cat the cat, a dog"], min_count=2)
    assert "the" in lex and "The" in lex and "CAT" in lex and "1984" in lex
    assert "dog" not in lex and "Dog" not in lex
    lex.save(tmp_path / "l.txt")
    assert len(Lexicon.load(tmp_path / "l.txt")) == 2


def test_predictor_offers_only_known_or_sure_words(tiny_model_dir: Path, tmp_path: Path) -> None:
    folder = copy_model(tiny_model_dir, tmp_path / "m")
    lexicon = Lexicon.from_texts([make_corpus()], min_count=1)
    lexicon.save(folder / "lexicon.txt")
    lm = load_model(folder)
    assert lm.lexicon is not None
    p = Predictor(lm)
    for text in ["The cat ", "My friend re", "Our team sends the rep", "Everyone wr", "The doctor q"]:
        for c in p.words(text, 5):
            assert c.word in lexicon or c.probability >= UNKNOWN_WORD_MIN or c.word in text, (text, c)
