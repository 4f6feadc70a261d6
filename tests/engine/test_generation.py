"""Generation strategies behave as defined, on a real tiny model."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from assistant.decode.generate import (
    REPEAT_WINDOW,
    GenerationConfig,
    beam_tokens,
    generate,
    greedy_tokens,
    prime,
)
from assistant.decode.sampling import banned_by_ngrams, control_repetition, filtered_logprobs, sample_next
from assistant.lm.io import LoadedModel, load_model
from assistant.text.words import count_words, words
from tests.support.corpus import make_corpus

SEEDS = ["The cat", "My friend sends", "Our team reads the report", "Everyone"]


@pytest.fixture(scope="module")
def lm(tiny_model_dir: Path) -> LoadedModel:
    return load_model(tiny_model_dir)


def test_greedy_is_deterministic_and_learned_the_corpus(lm: LoadedModel) -> None:
    cfg = GenerationConfig(strategy="greedy", max_words=8)
    a = generate(lm.model, lm.tokenizer, "The cat", cfg)
    b = generate(lm.model, lm.tokenizer, "The cat", cfg)
    assert a == b
    assert 1 <= count_words(a.text) <= 8
    corpus_words = set(words(make_corpus()))
    generated = words(a.text)
    assert sum(w in corpus_words for w in generated) >= len(generated) / 2


def test_each_token_is_fed_back_with_the_carried_state(lm: LoadedModel) -> None:
    # Greedy generation equals re-reading seed + generated text from scratch at every step.
    lp, h = prime(lm.model, lm.tokenizer, "My friend")
    ids, _ = greedy_tokens(lm.model, lp, h, 6)
    for k in range(6):
        prefix_ids = lm.tokenizer.encode("\n\nMy friend") + ids[:k]
        logits, _ = lm.model(torch.tensor([prefix_ids]))
        assert int(logits[0, -1].argmax()) == ids[k]


def test_near_zero_temperature_equals_greedy(lm: LoadedModel) -> None:
    for seed_text in SEEDS:
        greedy = generate(lm.model, lm.tokenizer, seed_text, GenerationConfig(strategy="greedy", max_words=10))
        cold = generate(
            lm.model,
            lm.tokenizer,
            seed_text,
            GenerationConfig(strategy="sample", temperature=1e-4, top_p=1.0, max_words=10, seed=3),
        )
        assert cold.ids == greedy.ids


def test_top_k_never_leaves_the_k_best(lm: LoadedModel) -> None:
    lp, h = prime(lm.model, lm.tokenizer, "The teacher")
    gen = torch.Generator().manual_seed(0)
    for _ in range(40):
        nxt = sample_next(lp, temperature=1.5, top_k=3, generator=gen)
        assert nxt in torch.topk(lp, 3).indices.tolist()
        out, h = lm.model.step(torch.tensor([nxt]), h)
        lp = out[0]


def test_top_p_keeps_the_smallest_nucleus() -> None:
    lp = torch.log(torch.tensor([0.5, 0.3, 0.15, 0.05]))
    kept = filtered_logprobs(lp, top_p=0.7).exp()
    assert kept[2] == 0 and kept[3] == 0
    assert torch.allclose(kept[:2], torch.tensor([0.625, 0.375]))
    assert filtered_logprobs(lp, top_p=0.01).exp()[0] == 1.0  # the best piece always survives


def test_a_seed_reproduces_a_sample_and_seeds_differ(lm: LoadedModel) -> None:
    cfg = GenerationConfig(strategy="sample", temperature=1.2, max_words=15, seed=42)
    a = generate(lm.model, lm.tokenizer, "Everyone", cfg)
    b = generate(lm.model, lm.tokenizer, "Everyone", cfg)
    assert a == b
    others = {
        tuple(
            generate(
                lm.model,
                lm.tokenizer,
                "Everyone",
                GenerationConfig(strategy="sample", temperature=1.2, max_words=15, seed=s),
            ).ids
        )
        for s in range(5)
    }
    assert len(others) > 1


@pytest.mark.parametrize("seed_text", SEEDS)
def test_beam_scores_at_least_greedy(lm: LoadedModel, seed_text: str) -> None:
    lp, h = prime(lm.model, lm.tokenizer, seed_text)
    _, g_score = greedy_tokens(lm.model, lp, h, 8)
    b_ids, b_score = beam_tokens(lm.model, lp, h, 8, width=5)
    assert len(b_ids) == 8
    assert b_score >= g_score - 1e-4
    # The reported score is the sequence's real log-probability.
    ids = torch.tensor([lm.tokenizer.encode("\n\n" + seed_text) + b_ids])
    with torch.no_grad():
        logits, _ = lm.model(ids)
    lps = torch.log_softmax(logits[0, :-1], -1).gather(1, ids[0, 1:, None])[:, 0]
    assert abs(float(lps[-8:].sum()) - b_score) < 1e-3


def test_beam_generation_respects_word_limit(lm: LoadedModel) -> None:
    out = generate(lm.model, lm.tokenizer, "The doctor", GenerationConfig(strategy="beam", beam_width=3, max_words=4))
    assert 1 <= count_words(out.text) <= 4


def test_bad_options_are_rejected() -> None:
    with pytest.raises(ValueError, match="temperature"):
        GenerationConfig(strategy="sample", temperature=0).validate()
    with pytest.raises(ValueError, match="strategy"):
        GenerationConfig(strategy="nope").validate()
    with pytest.raises(ValueError, match="top-p"):
        GenerationConfig(top_p=1.5).validate()


def repeated_ngrams(ids: list[int], n: int) -> int:
    """How many ``n``-grams of ``ids`` occurred earlier in it."""
    seen: set[tuple[int, ...]] = set()
    repeats = 0
    for i in range(len(ids) - n + 1):
        gram = tuple(ids[i : i + n])
        repeats += gram in seen
        seen.add(gram)
    return repeats


def test_banned_pieces_are_those_that_would_repeat_an_ngram() -> None:
    assert banned_by_ngrams([1, 2, 3, 1, 2], 3) == [3]
    assert banned_by_ngrams([1, 2, 3, 1, 2, 4, 1, 2], 3) == [3, 4]
    assert banned_by_ngrams([1, 2, 3], 0) == [] and banned_by_ngrams([1, 2], 3) == []
    lp = torch.log_softmax(torch.tensor([2.0, 1.0, 0.5, 0.1]), dim=0)
    controlled = control_repetition(lp, [0, 1, 0], 2, 1.0)  # after "0 1 0" the piece 1 would repeat "0 1"
    assert controlled[1] == float("-inf") and torch.isclose(controlled.exp().sum(), torch.tensor(1.0))
    penalised = control_repetition(lp, [0], 0, 1.5)
    assert penalised[0] < lp[0] and penalised[3] > lp[3]
    assert torch.equal(control_repetition(lp, [0, 1, 0], 0, 1.0), lp)


@pytest.mark.parametrize("strategy", ["greedy", "beam"])
def test_generation_does_not_loop_by_default(lm: LoadedModel, strategy: str) -> None:
    seed = "The cat sends a book today."
    looping = generate(
        lm.model,
        lm.tokenizer,
        seed,
        GenerationConfig(strategy=strategy, max_words=60, stop_at_paragraph=False, no_repeat_ngram=0),
    )
    assert repeated_ngrams(looping.ids, 3) > 0  # the tiny model's greedy text loops without the control
    out = generate(
        lm.model, lm.tokenizer, seed, GenerationConfig(strategy=strategy, max_words=60, stop_at_paragraph=False)
    )
    assert GenerationConfig().no_repeat_ngram == 3
    assert repeated_ngrams(lm.tokenizer.encode(seed)[-REPEAT_WINDOW:] + out.ids, 3) == 0
    assert count_words(out.text) >= 10  # it goes on, with new text


def test_repetition_options_are_checked() -> None:
    with pytest.raises(ValueError, match="no-repeat"):
        GenerationConfig(no_repeat_ngram=-1).validate()
    with pytest.raises(ValueError, match="repetition penalty"):
        GenerationConfig(repetition_penalty=0.5).validate()
