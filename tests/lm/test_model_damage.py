"""Damage to a model folder, the ``active`` pointer or a version record falls back with a message (issue 15, 3-4)."""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path

import pytest

from assistant.lm import io
from assistant.lm.io import ModelLoadError, copy_model, load_model
from assistant.store.models import ModelRegistry, VersionInfo


@pytest.fixture
def folder(tiny_model_dir: Path, tmp_path: Path) -> Path:
    return copy_model(tiny_model_dir, tmp_path / "m")


def _edit(folder: Path, change: dict[str, object], section: str | None = "model") -> None:
    path = folder / "config.json"
    meta = json.loads(path.read_text())
    (meta[section] if section else meta).update(change)
    path.write_text(json.dumps(meta))


@pytest.mark.parametrize(
    ("change", "section"),
    [
        ({"dropout": 5}, "model"),
        ({"hidden_dim": -5}, "model"),
        ({"num_layers": "2"}, "model"),
        ({"embed_dim": True}, "model"),
        ({"bogus": 1}, "model"),
        ({"tokenizer": "x"}, None),
        ({"model": [1, 2]}, None),
        ({"file": "../../etc/passwd"}, "tokenizer"),
        ({"format_version": "1"}, None),
        ({"weights_sha256": 7}, None),
    ],
)
def test_a_damaged_config_is_a_load_error(folder: Path, change: dict[str, object], section: str | None) -> None:
    _edit(folder, change, section)
    with pytest.raises(ModelLoadError, match=r"config\.json"):
        load_model(folder)


def test_the_weights_digest_is_recorded_and_checked(folder: Path) -> None:
    weights = folder / "model.safetensors"
    meta = json.loads((folder / "config.json").read_text())
    assert meta["weights_sha256"] == hashlib.sha256(weights.read_bytes()).hexdigest()
    load_model(folder)
    data = bytearray(weights.read_bytes())
    data[len(data) // 2] ^= 0x10  # one flipped bit inside a weight: the file still parses
    weights.write_bytes(bytes(data))
    os.utime(weights, ns=(time.time_ns(), time.time_ns() + 1_000_000))
    with pytest.raises(ModelLoadError, match="SHA-256"):
        load_model(folder)


def test_the_digest_is_computed_once_per_file_and_time(folder: Path) -> None:
    weights = folder / "model.safetensors"
    io._DIGESTS.clear()
    load_model(folder)
    load_model(folder)
    assert sum(k[0] == str(weights.resolve()) for k in io._DIGESTS) == 1


def test_the_shipped_base_model_records_its_weights_digest() -> None:
    from assistant.shipped import base_model_dir

    meta = json.loads((base_model_dir() / "config.json").read_text())
    digest = hashlib.sha256((base_model_dir() / "model.safetensors").read_bytes()).hexdigest()
    assert meta["weights_sha256"] == digest


@pytest.fixture
def registry(tiny_model_dir: Path, tmp_path: Path) -> ModelRegistry:
    reg = ModelRegistry(tmp_path / "models", tiny_model_dir)
    staged = copy_model(tiny_model_dir, tmp_path / "staged")
    reg.add(staged, VersionInfo(name="v0001", status="accepted", metrics={"steps": 3}))
    assert reg.active_name() == "v0001"
    return reg


@pytest.mark.parametrize("change", [{"dropout": 5}, {"hidden_dim": -5}, {"num_layers": "2"}, {"tokenizer": "x"}])
def test_a_damaged_active_config_falls_back_to_the_base(registry: ModelRegistry, change: dict[str, object]) -> None:
    _edit(registry.folder("v0001"), change, None if "tokenizer" in change else "model")
    active = registry.active()
    assert active.version == "base" and "v0001" in active.warning and "base model" in active.warning


def test_an_active_pointer_of_random_bytes_falls_back(registry: ModelRegistry) -> None:
    (registry.root / "active").write_bytes(os.urandom(64) + b"\xff")
    active = registry.active()
    assert active.version == "base" and "active" in active.warning
    assert registry.active_name() == "base"


@pytest.mark.parametrize("record", ['{"name": "v0001", "status": "accepted", "metrics": "x"}', "[1]", "\xff"])
def test_a_damaged_version_record_is_skipped(registry: ModelRegistry, record: str) -> None:
    (registry.folder("v0001") / "version.json").write_bytes(record.encode("latin-1"))
    assert registry.versions() == [] and registry.info("v0001") is None
    assert registry.active().version == "v0001"  # the model itself is fine


def test_versions_written_world_readable_before_are_made_private(registry: ModelRegistry) -> None:
    import stat

    version = registry.folder("v0001")
    os.chmod(version, 0o755)
    for f in version.iterdir():
        os.chmod(f, 0o644)
    ModelRegistry(registry.root, registry.base_dir)
    assert stat.S_IMODE(version.stat().st_mode) == 0o700
    assert {stat.S_IMODE(f.stat().st_mode) for f in version.iterdir()} == {0o600}
