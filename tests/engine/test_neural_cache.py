"""The neural cache: a real tiny GRU's states over the document, mixed into the next-piece distribution, kept
right under edits like the hidden-state checkpoints."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assistant.engine.neuralcache import NeuralCacheSettings, PieceCache, cached_logprobs
from assistant.engine.predictor import Predictor
from assistant.eval.metrics import text_bpc, text_bpc_cached
from assistant.lm.io import LoadedModel, load_model
from tests.support.corpus import make_corpus

CACHE = NeuralCacheSettings(weight=0.3, theta=1.0, size=500, warmup=1)


@pytest.fixture(scope="module")
def lm(tiny_model_dir: Path) -> LoadedModel:
    return load_model(tiny_model_dir)


def test_a_full_cache_mixes_a_distribution() -> None:
    cache = PieceCache(4, CACHE)
    keys = torch.eye(4)[:3]
    cache.append(keys, torch.tensor([5, 6, 5]))
    net = torch.log_softmax(torch.zeros(1, 10), dim=-1)
    mixed = cache.mix(net, torch.tensor([[0.0, 0.0, 1.0, 0.0]]))
    assert float(mixed.exp().sum()) == pytest.approx(1.0, abs=1e-5)
    assert int(mixed.argmax()) == 5  # the row most like the query, and another, were followed by piece 5
    cache.truncate(1)
    assert cache.length == 1 and cache.mix(net, torch.zeros(1, 4)).argmax() == 5


def test_rows_match_the_whole_text_formula(lm: LoadedModel) -> None:
    """The incremental cache of the predictor gives each piece the probability the one-pass formula gives."""
    text = "The cat sends a book. The cat sends a book. My friend reads"
    ids = torch.tensor(lm.tokenizer.encode(text))
    rows = torch.randn(len(ids), lm.model.config.hidden_dim)
    net = torch.log_softmax(torch.randn(len(ids), len(lm.tokenizer)), dim=-1)
    one_pass = cached_logprobs(net.gather(1, ids[:, None])[:, 0], rows, ids, CACHE)
    cache = PieceCache(rows.shape[1], CACHE)
    for t in range(len(ids)):
        step = cache.mix(net[t : t + 1], rows[t : t + 1])[0, ids[t]]
        assert float(step) == pytest.approx(float(one_pass[t]), abs=1e-4)
        cache.append(rows[t : t + 1], ids[t : t + 1])


def test_the_cache_lowers_bits_per_char_of_a_repetitive_text(lm: LoadedModel) -> None:
    text = ("Zorblax quintessa velmorun Tarquin. " * 12).strip()
    plain = text_bpc(lm.model, lm.tokenizer, text)
    cached = text_bpc_cached(lm.model, lm.tokenizer, text, CACHE)
    assert cached < plain * 0.8


def test_a_repeated_unknown_name_becomes_likely_in_the_search(lm: LoadedModel) -> None:
    """The root distribution and the pieces the word search expands both come mixed with the cache."""
    text = "My friend Zorblax reads. " * 4 + "My friend"
    ids = lm.tokenizer.encode(" Zorblax")
    with_cache = Predictor(lm, neural=CACHE)
    without = Predictor(lm)
    lp_with, h_with = with_cache.cache.state(text)
    lp_without, h_without = without.cache.state(text)
    assert float(lp_with[ids[0]]) > float(lp_without[ids[0]])
    with_cache.search.candidates(lp_with, h_with, " Zo", 5)
    without.search.candidates(lp_without, h_without, " Zo", 5)
    assert with_cache.search.prefix_share > without.search.prefix_share
    if len(ids) > 1:  # a piece after the first is mixed too (the search's hook)
        (lp2, _), (lp2_plain, _) = (
            p.search._advance([(_root(lp, h), ids[0])])[0]
            for p, lp, h in ((with_cache, lp_with, h_with), (without, lp_without, h_without))
        )
        assert float(lp2[ids[1]]) > float(lp2_plain[ids[1]])


def _root(lp: torch.Tensor, h: torch.Tensor):
    from assistant.decode.wordsearch import _Node

    return _Node("", 0.0, lp, h)


ALPHABET = "the cat sends a book. My friend reads, writes today\n'2"
edits = st.lists(
    st.tuples(
        st.sampled_from(["insert", "delete", "replace_all", "type"]),
        st.integers(0, 300),
        st.integers(0, 30),
        st.text(alphabet=ALPHABET, max_size=12),
    ),
    min_size=1,
    max_size=10,
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edits=edits, start=st.text(alphabet=ALPHABET, max_size=80))
def test_after_any_edits_the_cache_equals_one_built_from_the_text(lm: LoadedModel, edits, start: str) -> None:
    live = Predictor(lm, quantize=False, neural=CACHE)
    scratch = Predictor(lm, quantize=False, neural=CACHE)
    text = start
    for kind, pos, length, chunk in edits:
        pos = pos % (len(text) + 1)
        if kind == "insert":
            text = text[:pos] + chunk + text[pos:]
        elif kind == "delete":
            text = text[:pos] + text[pos + length :]
        elif kind == "replace_all":
            text = chunk
        else:
            text = text + chunk
        cursor = len(text) if kind == "type" else pos
        got = live.words(text[:cursor], 5)
        scratch.reset()
        want = scratch.words(text[:cursor], 5)
        a, b = live.cache.neural, scratch.cache.neural
        assert a is not None and b is not None and a.length == b.length
        assert torch.allclose(a._keys[: a.length], b._keys[: b.length], atol=1e-5)
        assert torch.equal(a._ids[: a.length], b._ids[: b.length])
        assert [c.word for c in got] == [c.word for c in want]
        assert all(math.isclose(x.probability, y.probability, abs_tol=1e-5) for x, y in zip(got, want, strict=True))


def test_the_predictor_without_the_cache_is_unchanged(lm: LoadedModel) -> None:
    text = make_corpus(seed=3, paragraphs=2)[:300]
    assert Predictor(lm).cache.neural is None
    static = Predictor(lm, adaptive=False, neural=CACHE)
    assert static.cache.neural is None  # the bare model never mixes a cache
    assert static.words(text, 3)
