"""The service layer on real tiny models and real files: the model provider, user spaces, the fine-tune (in a
thread and in a child process) and how its outcome is reported."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from assistant.personal.finetune import FinetuneJob, FinetuneOutcome, FinetuneProcess
from assistant.personal.models import BASE, ModelProvider
from assistant.personal.outcome import chat_report, held_out_gain, notice, summary_lines
from assistant.personal.space import Layout, UserSpace
from assistant.personal.users import UserSpaces, user_key
from assistant.store.documents import DocumentStore
from assistant.store.models import ModelRegistry, VersionInfo
from assistant.store.paths import Paths
from tests.support.finetune import FAST, user_text


def test_the_base_model_is_loaded_and_quantised_once_and_shared(tiny_model_dir: Path, tmp_path: Path) -> None:
    provider = ModelProvider()
    a = UserSpace.at(Paths.at(tmp_path / "a"), tiny_model_dir, provider)
    b = UserSpace.at(Paths.at(tmp_path / "b"), tiny_model_dir, provider)
    model = a.model()
    assert model is b.model() and model.name == BASE
    assert model.network is not model.lm.model  # the int8 copy
    pa, pb = a.predictor(), b.predictor(model)
    assert pa.network is pb.network is model.network and pa is not pb
    assert pa.model.gru is pb.model.gru is model.network.gru  # each runs the shared GRU (its own output layer)
    pa.suggest("the cat sat on the ", 3)
    assert pb.cache is not pa.cache  # each predictor keeps its own state
    assert ModelProvider(quantize=False).base(tiny_model_dir).network is not model.network


def test_reading_a_space_creates_nothing_and_every_change_goes_through_it(tiny_model_dir: Path, tmp_path: Path):
    space = UserSpace(Layout.inside(tmp_path / "user"), tiny_model_dir)
    assert space.texts() == {} and space.active_version() == BASE and space.model().name == BASE
    assert not (tmp_path / "user").exists()
    space.save("a.txt", "one")
    space.rename("a.txt", "b.txt")
    [result] = space.import_paths([_write(tmp_path / "c.txt", "two")], 10_000)
    assert result.status == "imported"
    assert space.texts() == {"b.txt": "one", "c.txt": "two"}
    space.remove("b.txt")
    assert list(space.texts()) == ["c.txt"]
    assert space.delete() and not (tmp_path / "user").exists() and not space.delete()
    with pytest.raises(ValueError, match="no folder"):
        UserSpace.at(Paths.at(tmp_path / "home"), tiny_model_dir).delete()


def test_a_model_option_falls_back_to_the_personal_model_with_a_warning(tiny_model_dir: Path, tmp_path: Path):
    space = UserSpace.at(Paths.at(tmp_path), tiny_model_dir)
    assert space.choose("base") == (space.model(), [])
    model, warnings = space.choose(str(tmp_path / "nowhere"))
    assert model.name == BASE and len(warnings) == 1 and "cannot be loaded" in warnings[0]
    folder, warnings = space.choose(str(tiny_model_dir))
    assert folder.name == str(tiny_model_dir) and warnings == []


def test_each_user_has_a_space_of_their_own(tiny_model_dir: Path, tmp_path: Path) -> None:
    users = UserSpaces(tmp_path / "users", tiny_model_dir)
    ann, bob = users.space("ann"), users.space("bob")
    assert users.space("ann") is ann and ann is not bob
    assert ann.layout.folder == tmp_path / "users" / user_key("ann")
    with users.predictor("ann") as p_ann, users.predictor("bob") as p_bob:
        assert p_ann is not p_bob and p_ann.network is p_bob.network  # the base network, shared
    ann.save("x.txt", "hello")
    assert users.forget("ann") and users.space("ann") is not ann and users.space("ann").texts() == {}
    assert not users.forget("carl")


@pytest.mark.parametrize("kind", ["thread", "process"])
def test_background_job_reports_progress_and_cancels(base_dir: Path, tmp_path: Path, kind: str) -> None:
    Job = FinetuneJob if kind == "thread" else FinetuneProcess
    store = DocumentStore(tmp_path / "home" / "documents")
    store.save("tales.txt", user_text(paragraphs=300))
    registry = ModelRegistry(tmp_path / "home" / "models", base_dir)
    journal = tmp_path / "logs" / "finetune.log"
    seen: list[int] = []
    done = []
    job = Job(store, registry, tmp_path / "work", FAST, lambda p: seen.append(p.step), done.append, journal=journal)
    job.start()
    deadline = time.time() + 60
    while not seen and time.time() < deadline:
        time.sleep(0.01)
    job.cancel()
    assert job.join(60)
    assert job.outcome is not None and job.outcome.status == "cancelled"
    assert done == [job.outcome] and seen
    finish = Job(store, registry, tmp_path / "work", FAST, journal=journal)
    finish.start()
    assert finish.join(120) and finish.error is None
    assert finish.outcome.status == "accepted", finish.outcome.message
    [doc] = store.list()
    assert doc.seen_by == {"v0001": doc.sha256}
    records = [json.loads(line) for line in journal.read_text().splitlines()]
    assert [r["status"] for r in records] == ["cancelled", "accepted"] and records[1]["metrics"]


@pytest.mark.slow
def test_a_killed_fine_tuning_process_is_reported_and_the_next_run_resumes(base_dir: Path, tmp_path: Path) -> None:
    store = DocumentStore(tmp_path / "home" / "documents")
    store.save("tales.txt", user_text(paragraphs=300))
    registry = ModelRegistry(tmp_path / "home" / "models", base_dir)
    seen: list[int] = []
    done: list[object] = []
    job = FinetuneProcess(store, registry, tmp_path / "work", FAST, lambda p: seen.append(p.step), done.append)
    job.start()
    deadline = time.time() + 60
    while len(seen) < 2 and time.time() < deadline:
        time.sleep(0.01)
    job._process.kill()  # out of memory, or killed by the user
    assert job.join(30)
    assert isinstance(job.error, RuntimeError) and "resumes" in str(job.error)
    assert done == [job.error]
    assert registry.versions() == []
    again = FinetuneProcess(store, registry, tmp_path / "work", FAST)
    again.start()
    assert again.join(120) and again.error is None
    assert again.outcome is not None and again.outcome.status == "accepted", again.outcome


def test_an_outcome_is_described_the_same_way_everywhere() -> None:
    metrics = {
        "holdout_bpc_before": 2.0,
        "holdout_bpc_after": 1.5,
        "general_bpc_before": 1.0,
        "general_bpc_after": 1.01,
        "general_bpc_base": 1.0,
    }
    version = VersionInfo("v0002", "accepted", "better", parent="v0001", metrics=metrics)
    accepted = FinetuneOutcome("accepted", "v0002 accepted: better", version)
    assert held_out_gain(metrics) == 25.0 and held_out_gain({}) is None
    assert notice(accepted) == (
        "Learned your style: model v0002, +25.0% on your held-out text (2.000 -> 1.500 bits/char)",
        "information",
    )
    assert notice(FinetuneOutcome("cancelled", "x"))[0] == "Learning paused; it resumes next time"
    assert notice(RuntimeError("disk full")) == ("Learning failed: disk full", "error")
    assert "+25.0% gain" in chat_report(accepted) and "now use it" in chat_report(accepted)
    assert chat_report(FinetuneOutcome("too-little", "3 words")).endswith("(too-little): 3 words")
    assert summary_lines(accepted)[1].startswith("held-out text: 2.0000 -> 1.5000 bits/char")
    assert summary_lines(FinetuneOutcome("nothing-new", "nothing new")) == ["nothing new"]


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path
