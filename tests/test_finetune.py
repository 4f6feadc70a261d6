"""Personal fine-tuning: versions, gating, rollback, fallback, cancel and kill-and-resume, on real tiny models."""

from __future__ import annotations

import hashlib
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from assistant.lm.io import copy_model
from assistant.store.models import ModelRegistry
from assistant.train.finetune import GENERAL_SAMPLE, FinetuneConfig, finetune, make_plan
from tests.conftest import make_corpus

ROOT = Path(__file__).parents[1]
FAST = FinetuneConfig(epochs=3, min_words=50, holdout_every=5, lr=2e-3, patience=0, max_general_worsening=10.0)


def user_text(seed: int = 1, paragraphs: int = 40) -> str:
    """The 'user' has habits: a few of the corpus's phrases, always combined the same way, and one new word."""
    rng = random.Random(seed)
    who = ["my sister", "the wizard", "my brother"]
    does = ["paints", "describes"]
    what = ["a beautiful picture", "the garden"]
    when = ["every morning", "in the evening"]
    out = []
    for _ in range(paragraphs):
        s = [
            f"{rng.choice(who)} {rng.choice(does)} {rng.choice(what)} {rng.choice(when)}."
            for _ in range(rng.randint(2, 4))
        ]
        out.append(" ".join(x[0].upper() + x[1:] for x in s))
    return "\n\n".join(out)


@pytest.fixture
def base_dir(tiny_model_dir: Path, tmp_path: Path) -> Path:
    folder = copy_model(tiny_model_dir, tmp_path / "base")
    (folder / GENERAL_SAMPLE).write_text(make_corpus(seed=99, paragraphs=20), encoding="utf-8")
    return folder


@pytest.fixture
def registry(base_dir: Path, tmp_path: Path) -> ModelRegistry:
    return ModelRegistry(tmp_path / "home" / "models", base_dir)


def digest(folder: Path) -> dict[str, str]:
    return {f.name: hashlib.sha256(f.read_bytes()).hexdigest() for f in sorted(folder.iterdir()) if f.is_file()}


def test_plan_trains_only_new_paragraphs_and_holds_some_out() -> None:
    cfg = FinetuneConfig(holdout_every=3)
    docs = {"a.txt": "one two\n\nthree four\n\nfive six\n\nseven eight\n\nnine ten"}
    first = make_plan(docs, {}, "base", cfg)
    assert first.train and len(first.train) + len(first.holdout) == 5
    again = make_plan(docs, first.seen, "v0001", cfg)
    assert again.train == []
    docs["a.txt"] += "\n\neleven twelve thirteen"
    changed = make_plan(docs, first.seen, "v0001", cfg)
    assert changed.train in ([], ["eleven twelve thirteen"]) and not set(changed.train) & set(first.train)


def test_finetune_learns_the_users_text_and_versions(registry: ModelRegistry, tmp_path: Path) -> None:
    docs = {"tales.txt": user_text()}
    out = finetune(registry, docs, tmp_path / "work", FAST)
    assert out.status == "accepted", out.message
    m = out.version.metrics
    assert m["holdout_bpc_after"] < 0.8 * m["holdout_bpc_before"]
    assert registry.active_name() == "v0001"
    active = registry.active()
    assert active.version == "v0001" and "wizard" in active.model.lexicon
    assert finetune(registry, docs, tmp_path / "work", FAST).status == "nothing-new"
    docs["more.txt"] = user_text(seed=2, paragraphs=20)
    second = finetune(registry, docs, tmp_path / "work", FAST)
    assert second.version.parent == "v0001" and second.status in ("accepted", "rejected")


def test_gating_rejects_a_run_that_ruins_general_text(registry: ModelRegistry, tmp_path: Path) -> None:
    rng = random.Random(0)
    noise = "\n\n".join(
        " ".join("".join(rng.choice("qxzjkvw") for _ in range(rng.randint(2, 9))) for _ in range(30)) for _ in range(40)
    )
    reckless = FinetuneConfig(
        regulariser="none",
        epochs=8,
        lr=3e-2,
        anchor_weight=0.0,
        patience=0,
        min_words=50,
        holdout_every=5,
        max_general_worsening=0.02,
    )
    out = finetune(registry, {"noise.txt": noise}, tmp_path / "work", reckless)
    assert out.status == "rejected" and "general text" in out.message
    assert registry.active_name() == "base"
    assert [v.status for v in registry.versions()] == ["rejected"]


def test_rollback_restores_the_previous_version_byte_for_byte(registry: ModelRegistry, tmp_path: Path) -> None:
    docs = {"tales.txt": user_text()}
    assert finetune(registry, docs, tmp_path / "w", FAST).status == "accepted"
    v1 = digest(registry.folder("v0001"))
    docs["more.txt"] = user_text(seed=5)
    finetune(registry, docs, tmp_path / "w", FinetuneConfig(**{**FAST.__dict__, "max_general_worsening": 10.0}))
    assert registry.active_name() == "v0002"
    assert registry.rollback() == "v0001"
    assert registry.active_name() == "v0001" and digest(registry.folder("v0001")) == v1
    registry.reset()
    assert registry.active().version == "base"
    registry.use("v0002")
    assert registry.active_name() == "v0002"
    with pytest.raises(KeyError):
        registry.use("v0042")


def test_a_corrupt_active_model_falls_back_with_a_message(registry: ModelRegistry, tmp_path: Path) -> None:
    assert finetune(registry, {"t.txt": user_text()}, tmp_path / "w", FAST).status == "accepted"
    (registry.folder("v0001") / "model.safetensors").write_bytes(b"garbage")
    active = registry.active()
    assert active.version == "base"
    assert "v0001" in active.warning and "model.safetensors" in active.warning


def test_cancel_then_resume(registry: ModelRegistry, tmp_path: Path) -> None:
    calls = {"n": 0}

    def stop() -> bool:
        calls["n"] += 1
        return calls["n"] >= 5

    docs = {"t.txt": user_text()}
    cancelled = finetune(registry, docs, tmp_path / "w", FAST, should_stop=stop)
    assert cancelled.status == "cancelled" and registry.active_name() == "base"
    messages: list[str] = []
    done = finetune(registry, docs, tmp_path / "w", FAST, log=messages.append)
    assert any("resumed from" in m for m in messages)
    assert done.status == "accepted"


def test_sigkill_mid_finetune_leaves_a_loadable_model_and_resumes(base_dir: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = {**os.environ, "ASSISTANT_HOME": str(home), "ASSISTANT_BASE_MODEL": str(base_dir)}
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "tales.txt").write_text(user_text(paragraphs=400), encoding="utf-8")

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "assistant", *args], capture_output=True, text=True, timeout=600, cwd=ROOT, env=env
        )

    assert cli("import", str(docs)).returncode == 0
    proc = subprocess.Popen(
        [sys.executable, "-m", "assistant", "finetune"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    work = home / "cache" / "finetune"
    deadline = time.time() + 120
    while time.time() < deadline and not list(work.glob("run-*/latest")):
        time.sleep(0.1)
    assert list(work.glob("run-*/latest")), "no checkpoint appeared"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    gen = cli("generate", "The wizard", "--max-words", "3")
    assert gen.returncode == 0, gen.stderr  # the active (base) model still loads
    rerun = cli("finetune")
    assert rerun.returncode == 0, rerun.stderr
    assert "resumed from" in rerun.stdout + rerun.stderr
    assert "v0001" in rerun.stdout
    listing = cli("model", "list").stdout
    assert "v0001" in listing
    log = (home / "logs" / "finetune.log").read_text().splitlines()
    assert log and '"status"' in log[-1]


def test_kl_regulariser_forgets_less_than_none(registry: ModelRegistry, base_dir: Path, tmp_path: Path) -> None:
    docs = {"tales.txt": user_text()}
    loose = FinetuneConfig(**{**FAST.__dict__, "regulariser": "none", "lr": 5e-3})
    kl = FinetuneConfig(**{**FAST.__dict__, "regulariser": "kl", "kl_weight": 2.0, "lr": 5e-3})
    a = finetune(ModelRegistry(tmp_path / "a", base_dir), docs, tmp_path / "wa", loose).version.metrics
    b = finetune(ModelRegistry(tmp_path / "b", base_dir), docs, tmp_path / "wb", kl).version.metrics
    assert b["general_bpc_after"] < a["general_bpc_after"]
    assert b["holdout_bpc_after"] < b["holdout_bpc_before"]
