"""Shared fixtures: a small English-like corpus, a real SentencePiece model and a real tiny GRU trained on it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
from textual.widgets import Input, TextArea

from assistant.lm.io import copy_model, save_model
from assistant.text.tokenizer import Tokenizer
from assistant.train.data import MixSource, TokenData, build_token_data
from assistant.train.finetune import GENERAL_SAMPLE
from assistant.train.trainer import TrainConfig, train_model
from tests.support.corpus import DATA, make_corpus, tiny_config


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Captured output with a lone surrogate (a chat library logging an odd chat id) is escaped in the report, so
    a pytest-xdist worker can send it to the controller (its channel encodes UTF-8 strictly)."""
    outcome = yield
    report = outcome.get_result()
    report.sections = [(title, text.encode("utf-8", "backslashreplace").decode()) for title, text in report.sections]


@pytest.fixture(autouse=True)
def frozen_cursor_blink(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every TextArea and Input (and their subclasses) starts with a steady cursor: no blink timer toggles it.

    A blinking cursor is drawn or not depending on when the screen is captured, so a busy machine changed the
    snapshots; a steady one is drawn exactly when the widget has focus.
    """
    for widget in (TextArea, Input):
        monkeypatch.setattr(widget.__dict__["cursor_blink"], "_default", False)


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


@pytest.fixture
def base_dir(tiny_model_dir: Path, tmp_path: Path) -> Path:
    folder = copy_model(tiny_model_dir, tmp_path / "base")
    (folder / GENERAL_SAMPLE).write_text(make_corpus(seed=99, paragraphs=20), encoding="utf-8")
    return folder
