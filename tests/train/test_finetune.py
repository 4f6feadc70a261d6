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

from assistant.store.models import ModelRegistry
from assistant.train.finetune import GENERAL_SAMPLE, FinetuneConfig, finetune, make_plan
from tests.support.finetune import FAST, user_text

ROOT = Path(__file__).parents[2]


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


@pytest.mark.slow
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


def test_a_second_finetune_of_the_same_store_is_refused_while_one_runs(registry: ModelRegistry, tmp_path: Path) -> None:
    import threading

    from assistant.train.finetune import FinetuneBusy

    inside, release = threading.Event(), threading.Event()

    def on_step(step: int, total: int, loss: float) -> None:
        inside.set()
        release.wait(60)

    docs = {"t.txt": user_text()}
    outcomes: list[object] = []
    first = threading.Thread(target=lambda: outcomes.append(finetune(registry, docs, tmp_path / "w", FAST, on_step)))
    first.start()
    assert inside.wait(120)
    try:
        with pytest.raises(FinetuneBusy, match="already learning"):
            finetune(ModelRegistry(registry.root, registry.base_dir), docs, tmp_path / "w2", FAST)
    finally:
        release.set()
        first.join(120)
    assert [o.status for o in outcomes] == ["accepted"]  # type: ignore[attr-defined]
    assert [v.name for v in registry.versions()] == ["v0001"]


# -- issue 15 item 5: a corrupt or stale checkpoint never blocks fine-tuning --------------------------------------
def _cancel_after(n: int):
    calls = {"n": 0}

    def stop() -> bool:
        calls["n"] += 1
        return calls["n"] >= n

    return stop


@pytest.mark.parametrize("damage", ["shared", "pointer", "state"])
def test_a_corrupt_checkpoint_is_discarded_with_a_message(registry: ModelRegistry, tmp_path: Path, damage: str) -> None:
    from assistant.train.checkpoint import latest

    docs = {"t.txt": user_text()}
    work = tmp_path / "w"
    assert finetune(registry, docs, work, FAST, should_stop=_cancel_after(3)).status == "cancelled"
    [run] = list(work.glob("run-*"))
    folder = latest(run)
    if damage == "shared":
        (folder / "shared.safetensors").write_bytes(b"garbage")
    elif damage == "pointer":
        (run / "latest").write_bytes(os.urandom(40))
    else:
        (folder / "state.json").write_text('{"model_config": {}}')
    messages: list[str] = []
    done = finetune(registry, docs, work, FAST, log=messages.append)
    assert done.status == "accepted"
    assert any("discarding" in m for m in messages)
    assert not list(work.glob("run-*"))  # cleaned after the run


def test_checkpoints_of_runs_that_cannot_resume_are_removed(registry: ModelRegistry, tmp_path: Path) -> None:
    work = tmp_path / "w"
    assert finetune(registry, {"t.txt": user_text()}, work, FAST, should_stop=_cancel_after(3)).status == "cancelled"
    (registry.root / ".staging-v0001").mkdir()  # a run that died while saving its version
    assert list(work.glob("run-*"))
    changed = {"t.txt": user_text() + "\n\nA new paragraph the first run never saw, with enough words in it."}
    assert finetune(registry, changed, work, FAST).status == "accepted"
    assert not list(work.glob("run-*")) and not list(registry.root.glob(".staging-*"))
    assert [v.name for v in registry.versions()] == ["v0001"]


# -- issue 15 item 7: a resumed fine-tune is the run it resumes ---------------------------------------------------
def test_a_resumed_finetune_ends_where_an_uninterrupted_one_does(base_dir: Path, tmp_path: Path) -> None:
    from dataclasses import replace

    cfg = replace(FAST, patience=2, evals_per_epoch=4, regulariser="kl")
    docs = {"t.txt": user_text()}
    whole = finetune(ModelRegistry(tmp_path / "a", base_dir), docs, tmp_path / "wa", cfg)
    parted = ModelRegistry(tmp_path / "b", base_dir)
    assert finetune(parted, docs, tmp_path / "wb", cfg, should_stop=_cancel_after(7)).status == "cancelled"
    resumed = finetune(parted, docs, tmp_path / "wb", cfg)
    assert whole.version is not None and resumed.version is not None
    for key in ("holdout_bpc_after", "general_bpc_after", "steps"):
        assert resumed.version.metrics[key] == whole.version.metrics[key], key
    a, b = digest(tmp_path / "a" / "v0001"), digest(tmp_path / "b" / "v0001")
    assert a["model.safetensors"] == b["model.safetensors"]


# -- issue 15 item 10: private files; a removed document's words leave the lexicon --------------------------------
def test_everything_written_is_private_and_removed_words_leave(registry: ModelRegistry, tmp_path: Path) -> None:
    import stat

    from assistant.text.lexicon import Lexicon

    docs = {"t.txt": user_text(), "s.txt": "Zorblaxian notes.\n"}
    work = tmp_path / "cache" / "finetune"
    assert finetune(registry, docs, work, FAST, should_stop=_cancel_after(3)).status == "cancelled"
    for path in [*work.rglob("*"), work]:
        assert stat.S_IMODE(path.stat().st_mode) == (0o700 if path.is_dir() else 0o600), path
    assert finetune(registry, docs, work, FAST).status == "accepted"
    version = registry.folder("v0001")
    for path in [version, *version.iterdir(), registry.root / "active"]:
        assert stat.S_IMODE(path.stat().st_mode) == (0o700 if path.is_dir() else 0o600), path
    assert "Zorblaxian" in Lexicon.load(version / "lexicon.txt")
    assert registry.refresh_lexicons([docs["t.txt"]]) == 1
    after = Lexicon.load(version / "lexicon.txt")
    assert "Zorblaxian" not in after and "wizard" in after


def test_created_folders_are_private_up_to_the_root(tmp_path: Path) -> None:
    import stat

    from assistant.store.paths import Paths

    paths = Paths.at(tmp_path / "home")
    paths.ensure(paths.cache / "finetune")
    for folder in (tmp_path / "home", paths.cache, paths.cache / "finetune"):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder


# -- issue 15 item 11: a missing or binary general sample is a message --------------------------------------------
@pytest.mark.parametrize("content", [None, b"\x00\x01\x02\xff" * 100, b""])
def test_an_unusable_general_sample_is_a_clear_error(
    registry: ModelRegistry, tmp_path: Path, content: bytes | None
) -> None:
    from assistant.train.finetune import FinetuneError

    sample = registry.base_dir / GENERAL_SAMPLE
    if content is None:
        sample.unlink()
    else:
        sample.write_bytes(content)
    with pytest.raises(FinetuneError, match="general sample"):
        finetune(registry, {"t.txt": user_text()}, tmp_path / "w", FAST)


# -- issue 14 item 6: a document without blank lines is many units --------------------------------------------------
def test_a_document_without_blank_lines_is_split_for_training_and_holdout() -> None:
    lines = "\n".join(f"Line {i}: my sister paints the garden every morning." for i in range(2000))
    one_line = " ".join(f"Sentence {i} is short and plain." for i in range(3000))
    for text in (lines, one_line):
        plan = make_plan({"a.txt": text}, {}, "base", FinetuneConfig())
        units = len(plan.train) + len(plan.holdout)
        assert units >= 40 and 0 < len(plan.holdout) < units / 4
        assert all(len(p) <= 2000 for p in plan.train + plan.holdout)
        assert sum(len(p.split()) for p in plan.train + plan.holdout) == len(text.split())
