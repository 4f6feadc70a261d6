"""The general n-gram as a source: count pruning keeps proper distributions, the shipped folder is mapped (no
pickle), the predictor mixes it with the others over any number of sources."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from assistant.engine.memory import MemoryAnswer
from assistant.engine.mixing import SOURCES, MixSettings, em_weights, mix
from assistant.engine.ngram import BOS, KneserNeyModel
from assistant.engine.ngramsource import NgramSource
from assistant.engine.predictor import Predictor
from assistant.lm.io import LoadedModel, load_model
from tests.support.corpus import make_corpus


@pytest.fixture(scope="module")
def full() -> KneserNeyModel:
    return KneserNeyModel.train(make_corpus(seed=11).split("\n\n"), order=4)


@pytest.fixture(scope="module")
def folder(full: KneserNeyModel, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("model") / "ngram"
    full.prune([1, 2, 2]).save_folder(out, {"about": "test"})
    return out


@pytest.fixture(scope="module")
def lm(tiny_model_dir: Path) -> LoadedModel:
    return load_model(tiny_model_dir)


def test_pruning_keeps_every_distribution_proper_and_drops_rare_grams(full: KneserNeyModel) -> None:
    pruned = full.prune([2, 3, 3])
    assert all(len(p.keys) < len(f.keys) for p, f in zip(pruned.orders, full.orders, strict=True))
    every = np.arange(2, len(full.vocab))
    for words in (["<s>", "<s>", "<s>"], ["The", "cat", "sends"], ["My", "friend", "reads"], ["the", "zebra", "x"]):
        ctx = [full._index.get(w, 0) if w != "<s>" else BOS for w in words]
        total = float(pruned.prob(ctx, every).sum())
        assert total == pytest.approx(float(full.prob(ctx, every).sum()), abs=1e-4)  # float32 tables
        assert 0.97 < total <= 1.0 + 1e-6


def test_the_folder_is_mapped_not_read_and_answers_the_same(full: KneserNeyModel, folder: Path) -> None:
    back = KneserNeyModel.load_folder(folder)
    assert isinstance(back.orders[0].keys, np.memmap)
    pruned = full.prune([1, 2, 2])
    assert [c.word for c in back.words("The teacher ", 5)] == [c.word for c in pruned.words("The teacher ", 5)]
    assert not list(folder.glob("*.pkl")) and (folder / "vocab.txt").is_file()
    np.load(folder / "o0_keys.npy", allow_pickle=False)  # plain arrays: loading never needs pickle


def test_a_damaged_folder_is_refused_clearly(folder: Path, tmp_path: Path) -> None:
    bad = tmp_path / "ngram"
    bad.mkdir()
    (bad / "ngram.json").write_text('{"format": "something else"}')
    with pytest.raises(ValueError, match="not an n-gram folder"):
        KneserNeyModel.load_folder(bad)


def test_source_answers_like_a_memory(folder: Path) -> None:
    source = NgramSource.beside(folder.parent)
    assert source is not None and NgramSource.beside(folder) is None
    after = source.answer(["My", "friend"], "", False, 5)
    assert after.mass == 1.0 and set(after.words) & {"sends", "reads", "writes", "finds", "likes", "sees"}
    typed = source.answer(["My", "friend"], "re", False, 5)
    assert typed.words and all(w.startswith("re") for w in typed.words)
    assert sum(typed.words.values()) == pytest.approx(1.0) and 0 < typed.mass <= 1
    start = source.answer([], "T", True, 5)
    assert "The" in start.words  # the n-gram's "the" is offered capitalised at a sentence start
    assert 0 < source.probability("reads", ["My", "friend"]) < 1
    assert source.probability("zzzunknown", ["My"]) == 0.0


def test_mixing_takes_any_number_of_sources() -> None:
    s = MixSettings()
    assert len(s.prior_of(len(SOURCES))) == len(SOURCES) >= 4
    good_ngram = np.array([[0.01, 0.0, 0.0, 0.5]] * 100)
    w = em_weights(good_ngram, (True, True, False, True), s)
    assert w[3] > 0.8 and w[2] == 0 and w.sum() == pytest.approx(1)
    off = s.only("document")
    assert off.prior_of(4)[2] == off.prior_of(4)[3] == 0 and off.prior_of(4)[1] == s.prior_of(4)[1]
    assert em_weights(good_ngram, (True, True, True, True), off)[3] == 0  # a source with prior 0 stays off
    answers = [MemoryAnswer({}, 0.0), MemoryAnswer({}, 0.0), MemoryAnswer({"reads": 1.0}, 0.5)]
    mixed = mix(np.array([0.5, 0.2, 0.0, 0.3]), {"sends": 1.0}, 1.0, answers)
    assert sum(mixed.values()) == pytest.approx(1.0) and mixed["reads"] == pytest.approx(0.15 / 0.65)
    with pytest.raises(ValueError, match="unknown sources"):
        s.only("cache")


def test_predictor_with_the_ngram_stays_incremental(lm: LoadedModel, folder: Path) -> None:
    source = NgramSource(folder)
    live = Predictor(lm, quantize=False, ngram=source)
    scratch = Predictor(lm, quantize=False, ngram=source)
    text = make_corpus(seed=4, paragraphs=3)[:400]
    for cut in (120, 60, 200, 90, 400, 300):
        got = live.words(text[:cut], 5)
        scratch.reset()
        want = scratch.words(text[:cut], 5)
        assert [c.word for c in got] == [c.word for c in want]
        assert all(abs(a.probability - b.probability) < 1e-6 for a, b in zip(got, want, strict=True))
    weights = live._mix_weights("x", text[:400].rsplit(" ", 1)[0], None)
    assert weights[3] > 0 and weights[2] == 0
    assert Predictor(lm, adaptive=False, ngram=source).ngram is None


def test_predictors_get_the_ngram_of_their_base_model_only(
    tiny_model_dir: Path, folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    from assistant.personal.models import general_ngram

    lm = load_model(tiny_model_dir)
    monkeypatch.setenv("ASSISTANT_BASE_MODEL", str(tmp_path / "nowhere"))
    assert general_ngram(lm) is None  # a model of its own with no n-gram and no base beside it
    base = tmp_path / "base"
    shutil.copytree(tiny_model_dir, base)
    shutil.copytree(folder, base / "ngram")
    monkeypatch.setenv("ASSISTANT_BASE_MODEL", str(base))
    found = general_ngram(lm)  # same tokenizer as the base: a fine-tune of it
    assert found is not None and found.folder == (base / "ngram").resolve()
    assert general_ngram(load_model(base)) is found  # one shared source per folder
