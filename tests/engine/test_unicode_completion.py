"""Word completion beyond ASCII: accented Latin, Greek and Cyrillic prefixes, on a real SentencePiece model and a
real tiny GRU trained on text in those scripts. The small vocabulary has no piece for these letters (as the
shipped one has none for most accented letters): the tokenizer spells them in byte pieces, and the search must
both match typed ones and propose them."""

from __future__ import annotations

import random

import pytest
import torch

from assistant.engine.predictor import Predictor
from assistant.lm.io import load_model, save_model
from assistant.text.lexicon import Lexicon
from assistant.text.tokenizer import Tokenizer
from assistant.train.data import MixSource, build_token_data
from assistant.train.trainer import TrainConfig, train_model
from tests.support.corpus import make_corpus, tiny_config

SENTENCES = [
    "Le café crème est très bon.",
    "Elle préfère le café crème.",
    "Nous aimons la crème brûlée.",
    "Η Αθήνα είναι μεγάλη πόλη.",
    "Μου αρέσει η Αθήνα.",
    "Москва большой город.",
    "Я люблю Москва и Москва любит меня.",
]


def corpus(lines: int = 1500) -> str:
    rng = random.Random(3)
    paragraphs = [" ".join(rng.choice(SENTENCES) for _ in range(5)) for _ in range(lines // 5)]
    return make_corpus(paragraphs=40) + "\n\n".join(paragraphs) + "\n"


@pytest.fixture(scope="module", params=["pieces", "bytes"])
def predictor(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Predictor:
    """A GRU trained on the mixed text, with a tokenizer trained on it ("pieces": the letters have pieces) or on
    English only ("bytes": every non-ASCII letter is spelled in byte pieces, as the shipped tokenizer spells
    most accented letters)."""
    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("unicode")
    text = corpus()
    vocabulary = text if request.param == "pieces" else make_corpus(paragraphs=100)
    tokenizer = Tokenizer.train_from_text(vocabulary, root / "tok", vocab_size=400, input_sentence_size=0)
    source = root / "corpus.txt"
    source.write_text(text, encoding="utf-8")
    data = build_token_data(tokenizer, [MixSource(source, 1.0)], val_fraction=0.05)
    cfg = TrainConfig(
        batch_size=8,
        seq_len=32,
        lr=1e-2,
        warmup_steps=20,
        max_steps=800,
        eval_every=800,
        checkpoint_every=1000,
        device="cpu",
    )
    result = train_model(tiny_config(tokenizer), cfg, data, root / "run", progress=False, log=lambda _: None)
    save_model(root / "model", result.model, tokenizer.path)
    return Predictor(load_model(root / "model"), min_probability=0.0)


@pytest.mark.parametrize(
    ("text", "word"),
    [
        ("Le café crè", "crème"),
        ("Le caf", "café"),
        ("Nous aimons la crème brû", "brûlée"),
        ("Μου αρέσει η Αθ", "Αθήνα"),
        ("Η Αθήνα είναι μεγ", "μεγάλη"),
        ("Я люблю Моск", "Москва"),
        ("Москва боль", "большой"),
    ],
)
def test_non_ascii_prefixes_complete(predictor: Predictor, text: str, word: str) -> None:
    found = [c.word for c in predictor.words(text, 5)]
    prefix = text.split()[-1]
    assert word in found
    assert all(w.startswith(prefix) for w in found)


def test_letters_without_a_piece_are_spelled_in_bytes_and_still_complete(predictor: Predictor) -> None:
    tokenizer = predictor.tokenizer
    in_bytes = [ch for ch in "èάМ" if all(tokenizer.is_byte(i) for i in tokenizer.encode(ch))]
    assert len(in_bytes) in (0, 3)  # the fixture's two tokenizers: all have pieces, or none has
    best = predictor.suggest("Le café crè")
    assert best.prefix == "crè" and best.words[0].word == "crème" and best.words[0].probability > 0.5


def test_an_english_lexicon_does_not_hide_words_of_other_scripts(predictor: Predictor) -> None:
    english = Lexicon.from_texts([make_corpus(paragraphs=100)])
    assert "crème" not in english and not english.knows_prefix("Αθ") and english.knows_prefix("The")
    predictor.lexicon = english
    try:
        assert "crème" in [c.word for c in predictor.words("Le café crè", 5)]
        assert "Αθήνα" in [c.word for c in predictor.words("Μου αρέσει η Αθ", 5)]
    finally:
        predictor.lexicon = None
