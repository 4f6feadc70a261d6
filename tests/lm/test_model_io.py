"""Saving and loading model folders: exact round trip, clear errors, no pickle."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch

from assistant.lm.io import ModelLoadError, load_model, save_model
from assistant.lm.model import GRUConfig, GRULanguageModel
from assistant.text.tokenizer import Tokenizer


@pytest.fixture
def saved(tokenizer: Tokenizer, tmp_path: Path) -> tuple[GRULanguageModel, Path]:
    torch.manual_seed(0)
    model = GRULanguageModel(GRUConfig(tokenizer.vocab_size, 16, 24, 2, 0.1)).eval()
    folder = save_model(tmp_path / "m", model, tokenizer.path, training={"steps": 3})
    return model, folder


def test_round_trip_gives_identical_predictions(saved: tuple[GRULanguageModel, Path]) -> None:
    model, folder = saved
    loaded = load_model(folder)
    x = torch.randint(0, model.config.vocab_size, (2, 7))
    a, ha = model(x)
    b, hb = loaded.model(x)
    assert torch.equal(a, b) and torch.equal(ha, hb)
    assert loaded.model.config == model.config
    assert loaded.meta["training"] == {"steps": 3}
    assert loaded.meta["tokenizer"]["sha256"] == loaded.tokenizer.sha256


def test_weights_are_safetensors_not_pickle(saved: tuple[GRULanguageModel, Path]) -> None:
    _, folder = saved
    raw = (folder / "model.safetensors").read_bytes()
    header_len = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8 : 8 + header_len])
    assert "embedding.weight" in header
    assert not raw.startswith(b"\x80") and b"PK\x03\x04" not in raw[:16]


def test_step_matches_forward(saved: tuple[GRULanguageModel, Path]) -> None:
    model, _ = saved
    x = torch.randint(0, model.config.vocab_size, (1, 5))
    logits, _ = model(x)
    h = None
    for t in range(5):
        lp, h = model.step(x[:, t], h)
    assert torch.allclose(lp, torch.log_softmax(logits[:, -1], -1), atol=1e-5)
    assert torch.allclose(model.next_logprobs(h), lp, atol=1e-6)


def test_tokenizer_mismatch_is_refused(saved: tuple[GRULanguageModel, Path], corpus_file: Path, tmp_path: Path) -> None:
    _, folder = saved
    other = Tokenizer.train_from_text(corpus_file.read_text()[:20000], tmp_path / "other", vocab_size=300)
    shutil.copyfile(other.path, folder / "tokenizer.model")
    with pytest.raises(ModelLoadError, match=r"tokenizer\.model does not match"):
        load_model(folder)


def test_truncated_weights_name_the_file(saved: tuple[GRULanguageModel, Path]) -> None:
    _, folder = saved
    path = folder / "model.safetensors"
    path.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(ModelLoadError, match=r"model\.safetensors is (corrupt or truncated|damaged)"):
        load_model(folder)


def test_garbage_weights_name_the_file(saved: tuple[GRULanguageModel, Path]) -> None:
    _, folder = saved
    (folder / "model.safetensors").write_bytes(b"\x00" * 64)
    with pytest.raises(ModelLoadError, match=r"model\.safetensors"):
        load_model(folder)


def test_bad_config_and_missing_files(saved: tuple[GRULanguageModel, Path], tmp_path: Path) -> None:
    _, folder = saved
    with pytest.raises(ModelLoadError, match="config not found"):
        load_model(tmp_path / "empty")
    cfg = folder / "config.json"
    meta = json.loads(cfg.read_text())
    meta["model"]["hidden_dim"] = 99
    cfg.write_text(json.dumps(meta))
    with pytest.raises(ModelLoadError, match="does not fit"):
        load_model(folder)
    cfg.write_text("{not json")
    with pytest.raises(ModelLoadError, match="not valid JSON"):
        load_model(folder)
    (folder / "config.json").unlink()
    with pytest.raises(ModelLoadError, match=r"config\.json"):
        load_model(folder)


def test_missing_weights(saved: tuple[GRULanguageModel, Path]) -> None:
    _, folder = saved
    (folder / "model.safetensors").unlink()
    with pytest.raises(ModelLoadError, match="weights not found"):
        load_model(folder)


def test_the_int8_copy_agrees_with_the_float_model_and_shares_its_embedding(
    saved: tuple[GRULanguageModel, Path],
) -> None:
    from assistant.lm.quantize import quantize_for_inference

    model, _ = saved
    model.eval()
    q = quantize_for_inference(model)
    assert q is not model and q.embedding.weight is model.embedding.weight  # one copy of the largest table
    ids = torch.tensor([[5, 17, 42, 9]])
    with torch.no_grad():
        exact, _ = model.advance(ids, None)
        approx, _ = q.advance(ids, None)
    assert float((exact.exp() - approx.exp()).abs().max()) < 0.05
