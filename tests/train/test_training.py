"""Training: TBPTT batches, the schedule, learning, exact resume and clear checkpoint errors."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from assistant.lm.model import GRULanguageModel
from assistant.lm.scoring import stream_nll
from assistant.text.tokenizer import Tokenizer
from assistant.train.checkpoint import CheckpointError, latest
from assistant.train.data import TBPTTBatches, TokenData, read_units
from assistant.train.trainer import TrainConfig, TrainHooks, lr_at, train_model
from tests.support.corpus import tiny_config

QUIET = dict(progress=False, log=lambda _: None)


def test_tbptt_chunks_continue_each_other() -> None:
    stream = torch.arange(1000)
    b = TBPTTBatches(stream, batch_size=4, seq_len=10)
    x0, y0 = b.chunk(0)
    x1, _ = b.chunk(1)
    assert x0.shape == (4, 10)
    assert torch.equal(y0[:, :-1], x0[:, 1:])  # targets are the next pieces
    assert torch.equal(x1[:, 0], x0[:, -1] + 1)  # chunk 1 follows chunk 0 in every column
    assert len(b) == (250 - 1) // 10


def test_tbptt_shards_are_disjoint_per_rank() -> None:
    stream = torch.arange(1000)
    r0 = TBPTTBatches(stream, 2, 10, rank=0, world_size=2).columns
    r1 = TBPTTBatches(stream, 2, 10, rank=1, world_size=2).columns
    assert set(r0.flatten().tolist()).isdisjoint(r1.flatten().tolist())
    with pytest.raises(ValueError, match="too few"):
        TBPTTBatches(torch.arange(20), 4, 10)


def test_schedule_warms_up_then_decays_to_the_floor() -> None:
    cfg = TrainConfig(lr=1.0, warmup_steps=10, max_steps=110, min_lr_ratio=0.1)
    assert lr_at(0, cfg) == pytest.approx(0.1)
    assert lr_at(9, cfg) == pytest.approx(1.0)
    assert lr_at(60, cfg) == pytest.approx(0.55)
    assert lr_at(110, cfg) == pytest.approx(0.1)
    assert TrainConfig().clip_grad > 0  # clipping is on by default


def test_read_units_keeps_paragraphs_and_splits_huge_blocks(tmp_path: Path) -> None:
    f = tmp_path / "t.txt"
    f.write_text("one\ntwo\n\n\nthree\n\n" + "\n".join(["x" * 100] * 500))
    units = read_units(f)
    assert units[:2] == ["one\ntwo", "three"]
    assert len(units) > 3 and all(len(u) <= 20_000 for u in units)


def test_a_tiny_model_learns(tokenizer: Tokenizer, token_data: TokenData, tmp_path: Path) -> None:
    torch.manual_seed(0)
    cfg = TrainConfig(
        batch_size=8,
        seq_len=32,
        lr=1e-2,
        warmup_steps=5,
        max_steps=60,
        eval_every=1000,
        checkpoint_every=1000,
        device="cpu",
    )
    model_cfg = tiny_config(tokenizer)
    from assistant.lm.model import GRULanguageModel

    torch.manual_seed(cfg.seed)
    untrained = GRULanguageModel(model_cfg)
    before, n = stream_nll(untrained, token_data.val)
    result = train_model(model_cfg, cfg, token_data, tmp_path / "run", **QUIET)
    after, n2 = stream_nll(result.model, token_data.val)
    assert n == n2
    assert after / n < 0.75 * (before / n)
    assert result.steps == 60 and result.tokens == 60 * 8 * 32
    assert result.history and result.history[-1]["val_bpc"] == result.final_val_bpc


def test_resume_reproduces_an_uninterrupted_run(tokenizer: Tokenizer, token_data: TokenData, tmp_path: Path) -> None:
    # Dropout on, so the random generator state must be restored exactly too.
    model_cfg = tiny_config(tokenizer, dropout=0.2)
    cfg = TrainConfig(
        batch_size=4,
        seq_len=16,
        lr=5e-3,
        warmup_steps=3,
        max_steps=40,
        eval_every=20,
        checkpoint_every=10,
        device="cpu",
    )
    whole = train_model(model_cfg, cfg, token_data, tmp_path / "a", **QUIET)
    first = train_model(model_cfg, cfg, token_data, tmp_path / "b", stop_after=25, **QUIET)
    assert first.steps == 25 and first.stopped_early
    assert latest(tmp_path / "b").name == "step-00000025"
    resumed = train_model(model_cfg, cfg, token_data, tmp_path / "b", **QUIET)
    assert resumed.steps == 40
    for (name, a), (_, b) in zip(whole.model.state_dict().items(), resumed.model.state_dict().items(), strict=True):
        assert torch.equal(a, b), name
    timeless = [{k: v for k, v in h.items() if k != "elapsed"} for h in whole.history]
    assert [{k: v for k, v in h.items() if k != "elapsed"} for h in resumed.history] == timeless


def test_resume_refuses_another_architecture(tokenizer: Tokenizer, token_data: TokenData, tmp_path: Path) -> None:
    cfg = TrainConfig(batch_size=4, seq_len=16, max_steps=10, checkpoint_every=5, eval_every=100, device="cpu")
    train_model(tiny_config(tokenizer), cfg, token_data, tmp_path / "r", stop_after=5, **QUIET)
    with pytest.raises(CheckpointError, match="another model"):
        train_model(tiny_config(tokenizer, hidden_dim=48), cfg, token_data, tmp_path / "r", **QUIET)


def test_corrupt_checkpoint_is_reported(tokenizer: Tokenizer, token_data: TokenData, tmp_path: Path) -> None:
    cfg = TrainConfig(batch_size=4, seq_len=16, max_steps=10, checkpoint_every=5, eval_every=100, device="cpu")
    train_model(tiny_config(tokenizer), cfg, token_data, tmp_path / "r", stop_after=5, **QUIET)
    (latest(tmp_path / "r") / "shared.safetensors").write_bytes(b"garbage")
    with pytest.raises(CheckpointError, match="corrupt"):
        train_model(tiny_config(tokenizer), cfg, token_data, tmp_path / "r", **QUIET)


def test_token_data_round_trips_through_safetensors(token_data: TokenData, tmp_path: Path) -> None:
    token_data.save(tmp_path / "t.safetensors")
    back = TokenData.load(tmp_path / "t.safetensors")
    assert torch.equal(back.train, token_data.train) and torch.equal(back.val, token_data.val)
    assert back.val_chars == token_data.val_chars and back.sources == token_data.sources


@pytest.mark.parametrize(
    "variant",
    [dict(num_layers=1), dict(num_layers=2, dropout=0.2), dict(embed_dim=24, hidden_dim=40, num_layers=3)],
)
def test_one_batch_dry_run_then_generation(
    tokenizer: Tokenizer, token_data: TokenData, tmp_path: Path, variant: dict
) -> None:
    from assistant.decode.generate import GenerationConfig, generate

    cfg = TrainConfig(batch_size=2, seq_len=8, max_steps=1, warmup_steps=1, eval_every=1, device="cpu")
    result = train_model(tiny_config(tokenizer, **variant), cfg, token_data, tmp_path / "dry", **QUIET)
    assert result.steps == 1 and result.final_val_bpc is not None
    out = generate(result.model.eval(), tokenizer, "The cat", GenerationConfig(strategy="sample", seed=1, max_words=3))
    assert tokenizer.decode(out.ids) == out.text


SHORT = TrainConfig(
    batch_size=4, seq_len=16, lr=5e-3, warmup_steps=3, max_steps=40, eval_every=5, checkpoint_every=10, device="cpu"
)


def _other(tokenizer: Tokenizer, seed: int) -> GRULanguageModel:
    torch.manual_seed(seed)
    return GRULanguageModel(tiny_config(tokenizer)).eval()


def test_both_regularisers_count(tokenizer: Tokenizer, token_data: TokenData, tmp_path: Path) -> None:
    """Issue 10 item 4: with the KL and the L2 pull on, the objective holds both terms."""
    teacher, anchor = _other(tokenizer, 1), _other(tokenizer, 2).state_dict()
    cfg = TrainConfig(batch_size=4, seq_len=16, max_steps=4, eval_every=100, checkpoint_every=100, device="cpu")

    def run(tag: str, kl: float, l2: float) -> dict[str, torch.Tensor]:
        hooks = TrainHooks(teacher=teacher, kl_weight=kl, anchor=anchor, anchor_weight=l2)
        return train_model(
            tiny_config(tokenizer), cfg, token_data, tmp_path / tag, hooks=hooks, **QUIET
        ).model.state_dict()

    both, kl_only, l2_only = run("both", 3.0, 0.5), run("kl", 3.0, 0.0), run("l2", 0.0, 0.5)
    assert not all(torch.equal(both[k], l2_only[k]) for k in both)  # the KL term counts
    assert not all(torch.equal(both[k], kl_only[k]) for k in both)  # the pull counts


def test_resume_with_a_teacher_and_early_stopping_is_the_same_run(
    tokenizer: Tokenizer, token_data: TokenData, tmp_path: Path
) -> None:
    """Issue 15 item 7: the teacher's hidden state and the early-stopping state are part of the checkpoint."""
    teacher = _other(tokenizer, 1)

    def hooks() -> TrainHooks:
        return TrainHooks(teacher=teacher, kl_weight=2.0, patience=4)

    model_cfg = tiny_config(tokenizer, dropout=0.2)
    whole = train_model(model_cfg, SHORT, token_data, tmp_path / "a", hooks=hooks(), **QUIET)
    first = train_model(model_cfg, SHORT, token_data, tmp_path / "b", stop_after=13, hooks=hooks(), **QUIET)
    assert first.steps == 13
    resumed = train_model(model_cfg, SHORT, token_data, tmp_path / "b", hooks=hooks(), **QUIET)
    assert resumed.steps == whole.steps
    for (name, a), (_, b) in zip(whole.model.state_dict().items(), resumed.model.state_dict().items(), strict=True):
        assert torch.equal(a, b), name
    timeless = [{k: v for k, v in h.items() if k != "elapsed"} for h in whole.history]
    assert [{k: v for k, v in h.items() if k != "elapsed"} for h in resumed.history] == timeless


def test_a_run_that_stopped_early_does_not_train_on_when_resumed(
    tokenizer: Tokenizer, token_data: TokenData, tmp_path: Path
) -> None:
    hooks = TrainHooks(keep_best=True, patience=1, acceptable=lambda m: False)  # never better: stops at once
    done = train_model(tiny_config(tokenizer), SHORT, token_data, tmp_path / "r", hooks=hooks, **QUIET)
    assert done.steps == 5 and done.stopped_early
    again = train_model(tiny_config(tokenizer), SHORT, token_data, tmp_path / "r", hooks=hooks, **QUIET)
    assert again.steps == 5 and again.stopped_early
