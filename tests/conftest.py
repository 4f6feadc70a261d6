"""Shared fixtures: a small English-like corpus, a real SentencePiece model and a real tiny GRU trained on it."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
import torch
from textual.widgets import Input, TextArea

from assistant.lm.io import save_model
from assistant.lm.model import GRUConfig
from assistant.text.tokenizer import Tokenizer
from assistant.train.data import MixSource, TokenData, build_token_data
from assistant.train.trainer import TrainConfig, train_model

DATA = Path(__file__).parent / "data"


@pytest.fixture(autouse=True)
def frozen_cursor_blink(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every TextArea and Input (and their subclasses) starts with a steady cursor: no blink timer toggles it.

    A blinking cursor is drawn or not depending on when the screen is captured, so a busy machine changed the
    snapshots; a steady one is drawn exactly when the widget has focus.
    """
    for widget in (TextArea, Input):
        monkeypatch.setattr(widget.__dict__["cursor_blink"], "_default", False)


def make_corpus(seed: int = 7, paragraphs: int = 300) -> str:
    """Grammatical sentences from small word lists: enough structure for a tiny model to learn quickly."""
    rng = random.Random(seed)
    subjects = [
        "the cat",
        "my friend",
        "our team",
        "the old man",
        "a young woman",
        "the teacher",
        "everyone",
        "the manager",
        "my sister",
        "the doctor",
        "this report",
        "the meeting",
        "the children",
        "my brother",
        "the neighbours",
        "our director",
        "the students",
        "his father",
        "her mother",
        "the committee",
    ]
    verbs = [
        "sends",
        "reads",
        "writes",
        "finds",
        "likes",
        "moves",
        "sees",
        "takes",
        "opens",
        "checks",
        "remembers",
        "describes",
        "prepares",
        "discusses",
        "forgets",
        "signs",
        "answers",
        "paints",
        "carries",
        "follows",
    ]
    objects = [
        "the letter",
        "a book",
        "the report",
        "some coffee",
        "the window",
        "a new plan",
        "the garden",
        "the schedule",
        "an email",
        "the results",
        "the door",
        "a small gift",
        "the budget",
        "a long story",
        "the contract",
        "the question",
        "a beautiful picture",
        "the invitation",
        "the newspaper",
        "our proposal",
    ]
    tails = [
        "today",
        "every morning",
        "on Monday",
        "after lunch",
        "in the evening",
        "with care",
        "again",
        "before the meeting",
        "at home",
        "at work",
        "and it's fine",
        "but she doesn't mind",
        "in 2024",
        "at 9 o'clock",
        "without hesitation",
        "during the weekend",
        "as usual",
        "for the first time",
    ]
    out = []
    for _ in range(paragraphs):
        sentences = []
        for _ in range(rng.randint(2, 5)):
            s = f"{rng.choice(subjects)} {rng.choice(verbs)} {rng.choice(objects)} {rng.choice(tails)}"
            if rng.random() < 0.3:
                s += f", and {rng.choice(subjects)} {rng.choice(verbs)} {rng.choice(objects)}"
            sentences.append(s[0].upper() + s[1:] + rng.choice([".", ".", ".", "!", "?"]))
        out.append(" ".join(sentences))
    return "\n\n".join(out) + "\n"


@pytest.fixture(scope="session")
def corpus_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("corpus") / "corpus.txt"
    path.write_text(make_corpus(), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def tokenizer(corpus_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Tokenizer:
    prefix = tmp_path_factory.mktemp("tok") / "tok"
    extra = (DATA / "unicode_sample.txt").read_text(encoding="utf-8")
    text = corpus_file.read_text(encoding="utf-8") + extra
    return Tokenizer.train_from_text(text, prefix, vocab_size=480, input_sentence_size=0)


@pytest.fixture(scope="session")
def token_data(tokenizer: Tokenizer, corpus_file: Path) -> TokenData:
    return build_token_data(tokenizer, [MixSource(corpus_file, 1.0)], val_fraction=0.05)


TINY = dict(embed_dim=32, hidden_dim=64, num_layers=1, dropout=0.0)


def tiny_config(tokenizer: Tokenizer, **over: object) -> GRUConfig:
    return GRUConfig(vocab_size=tokenizer.vocab_size, **{**TINY, **over})  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def tiny_model_dir(tokenizer: Tokenizer, token_data: TokenData, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real GRU trained for a few seconds on the corpus, saved as a model folder."""
    torch.set_num_threads(1)
    run = tmp_path_factory.mktemp("run")
    cfg = TrainConfig(
        batch_size=8,
        seq_len=32,
        lr=1e-2,
        warmup_steps=20,
        max_steps=400,
        eval_every=400,
        checkpoint_every=1000,
        device="cpu",
    )
    result = train_model(tiny_config(tokenizer), cfg, token_data, run, progress=False, log=lambda _: None)
    out = tmp_path_factory.mktemp("model") / "tiny"
    save_model(out, result.model, tokenizer.path, training=result.summary())
    return out
