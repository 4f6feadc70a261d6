"""The command line, run as a user runs it: a real subprocess of the console entry point."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.cli import run_cli

ROOT = Path(__file__).parents[2]


def test_help_lists_the_commands() -> None:
    proc = run_cli("--help")
    assert proc.returncode == 0
    for command in ("generate", "train-base"):
        assert command in proc.stdout


def test_generate_with_a_model_folder(tiny_model_dir: Path) -> None:
    proc = run_cli("generate", "The cat", "--model", str(tiny_model_dir), "--max-words", "5", "--json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["seed"] == "The cat" and out["continuation"].strip()
    assert out["logprob"] < 0


def test_generate_sampling_is_reproducible_with_a_seed(tiny_model_dir: Path) -> None:
    args = (
        "generate",
        "My friend",
        "--model",
        str(tiny_model_dir),
        "--strategy",
        "sample",
        "--seed",
        "7",
        "--temperature",
        "1.0",
        "--top-k",
        "20",
    )
    a, b = run_cli(*args), run_cli(*args)
    assert a.returncode == 0 and a.stdout == b.stdout


def test_corrupt_model_gives_a_clear_error(tiny_model_dir: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    broken.mkdir()
    for f in tiny_model_dir.iterdir():
        (broken / f.name).write_bytes(f.read_bytes())
    (broken / "model.safetensors").write_bytes(b"oops")
    proc = run_cli("generate", "hi", "--model", str(broken))
    assert proc.returncode == 2
    assert "model.safetensors" in proc.stderr and "Traceback" not in proc.stderr


def test_bad_generation_option_is_refused(tiny_model_dir: Path) -> None:
    proc = run_cli("generate", "hi", "--model", str(tiny_model_dir), "--strategy", "sample", "--temperature", "0")
    assert proc.returncode == 2 and "temperature" in proc.stderr


def test_the_shipped_base_model_continues_text() -> None:
    proc = run_cli("generate", "The meeting has been moved to", "--max-words", "8")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("The meeting has been moved to")
    assert len(proc.stdout.split()) > 6


@pytest.mark.parametrize("command", ["suggest", "generate", "eval"])
def test_model_help_names_the_real_default(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    from assistant.cli import build_parser

    with pytest.raises(SystemExit):
        build_parser().parse_args([command, "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "your active personal model, else the shipped base model" in text
    assert "default: the shipped base model" not in text
