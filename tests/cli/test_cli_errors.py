"""Bad arguments, empty texts, closed pipes and interrupts on the command line: a clear message each, no traceback."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from assistant.lm.io import copy_model
from assistant.train.finetune import GENERAL_SAMPLE
from tests.support.cli import ROOT, run_cli
from tests.support.corpus import make_corpus


def _env(tmp_path: Path, model: Path) -> dict[str, str]:
    return {**os.environ, "ASSISTANT_HOME": str(tmp_path / "home"), "ASSISTANT_BASE_MODEL": str(model)}


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (("suggest", "The", "--n", "100"), "--n: must be at most 9"),
        (("generate", "The", "--top-k", "-1"), "--top-k: must be at least 0"),
        (("generate", "The", "--beam-width", "0"), "--beam-width: must be at least 1"),
        (("generate", "The", "--max-words", "0"), "--max-words: must be at least 1"),
        (("generate", "The", "--max-tokens", "0"), "--max-tokens: must be at least 1"),
        (("generate", "The", "--temperature", "0"), "--temperature: must be > 0"),
    ],
)
def test_each_bad_count_gets_its_own_message(args: tuple[str, ...], named: str) -> None:
    proc = run_cli(*args)
    assert proc.returncode == 2 and named in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr


def test_max_tokens_caps_generation(tiny_model_dir: Path) -> None:
    proc = run_cli("generate", "The cat", "--model", str(tiny_model_dir), "--max-tokens", "1", "--json")
    assert proc.returncode == 0, proc.stderr
    assert len(proc.stdout) < 400


def test_model_list_refuses_a_stray_argument(tmp_path: Path, tiny_model_dir: Path) -> None:
    proc = run_cli("model", "list", "extra", env=_env(tmp_path, tiny_model_dir))
    assert proc.returncode == 2 and "'model list' takes no VERSION (got 'extra')" in proc.stderr


def test_eval_of_an_empty_text_is_an_error(tmp_path: Path, tiny_model_dir: Path) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_text("  \n\n", encoding="utf-8")
    proc = run_cli("eval", str(empty), "--model", str(tiny_model_dir), "--json", env=_env(tmp_path, tiny_model_dir))
    assert proc.returncode == 2 and "no words to evaluate" in proc.stderr, proc.stderr
    assert "100" not in proc.stdout


def test_eval_with_a_bad_model_is_a_message(tmp_path: Path, tiny_model_dir: Path) -> None:
    text = tmp_path / "t.txt"
    text.write_text("The cat sat on the mat.\n", encoding="utf-8")
    proc = run_cli("eval", str(text), "--model", str(tmp_path / "nowhere"), env=_env(tmp_path, tiny_model_dir))
    assert proc.returncode == 2 and proc.stderr.startswith("assistant: error:"), proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_closed_pipe_ends_quietly(tmp_path: Path, tiny_model_dir: Path) -> None:
    read, write = os.pipe()
    os.close(read)  # the reader is gone before anything is written, as with '| head -c 10' after 10 bytes
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "assistant", "paths", "--json"],
            stdout=write,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
            cwd=ROOT,
            env=_env(tmp_path, tiny_model_dir),
        )
    finally:
        os.close(write)
    assert "Traceback" not in proc.stderr and "BrokenPipe" not in proc.stderr, proc.stderr
    assert proc.returncode == 141


def test_generate_reads_only_the_end_of_a_large_seed(tmp_path: Path, tiny_model_dir: Path) -> None:
    seed = "The cat sat on the mat. " * 40_000 + "My friend"  # about 1 MB
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "assistant", "generate", "-", "--model", str(tiny_model_dir), "--max-words", "3"],
        input=seed,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env=_env(tmp_path, tiny_model_dir),
    )
    took = time.perf_counter() - start
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(seed) and len(proc.stdout) > len(seed)  # the whole input is passed through
    assert took < 20


def test_ctrl_c_during_finetune_says_a_rerun_resumes(tmp_path: Path, tiny_model_dir: Path) -> None:
    base = copy_model(tiny_model_dir, tmp_path / "base")
    (base / GENERAL_SAMPLE).write_text(make_corpus(seed=99, paragraphs=20), encoding="utf-8")
    env = _env(tmp_path, base)
    docs = tmp_path / "notes.txt"
    docs.write_text(make_corpus(seed=3, paragraphs=3000), encoding="utf-8")  # a fine-tune long enough to stop
    assert run_cli("import", str(docs), env=env).returncode == 0
    proc = subprocess.Popen(
        [sys.executable, "-m", "assistant", "finetune"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=env,
    )
    assert proc.stderr is not None
    seen = []
    for line in proc.stderr:  # into the training loop: its first step's line
        seen.append(line)
        if "step " in line:
            break
    assert proc.poll() is None, seen
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    err = "".join(seen) + err
    assert proc.returncode == 130, (out, err)
    assert "interrupted" in err and "resumes" in err, err
    assert "Traceback" not in err
