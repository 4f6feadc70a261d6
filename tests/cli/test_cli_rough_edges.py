"""The command line's rough edges a new user tripped over (issue 18 items 11-13, issue 19 item 4): sampling options
mean sampling, a pipe's final newline, a command's own usage, one candidate range, whole log lines, documents kept
out of learning marked, and a damaged controls file that stops a fine-tune with a message."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.cli import MAX_SUGGESTIONS, _without_final_newline, build_parser, generation_strategy, main
from assistant.lm.io import copy_model
from assistant.store.settings import MAX_WORDS, Settings
from assistant.train.finetune import GENERAL_SAMPLE
from tests.support.corpus import make_corpus

ROOT = Path(__file__).parents[2]


def cli(*args: str, env: dict[str, str], stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "assistant", *args],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
        env=env,
        input=stdin,
    )


@pytest.fixture
def base(tiny_model_dir: Path, tmp_path: Path) -> Path:
    folder = copy_model(tiny_model_dir, tmp_path / "base")
    (folder / GENERAL_SAMPLE).write_text(make_corpus(seed=99, paragraphs=20), encoding="utf-8")
    return folder


@pytest.fixture
def env(tmp_path: Path, base: Path) -> dict[str, str]:
    return {**os.environ, "ASSISTANT_HOME": str(tmp_path / "home"), "ASSISTANT_BASE_MODEL": str(base)}


def test_a_sampling_option_without_a_strategy_means_sampling(env: dict[str, str]) -> None:
    parse = build_parser().parse_args
    assert generation_strategy(parse(["generate", "x"])) == "greedy"
    for option in (["--temperature", "1.5"], ["--top-k", "5"], ["--top-p", "0.5"]):
        assert generation_strategy(parse(["generate", "x", *option])) == "sample"
    assert generation_strategy(parse(["generate", "x", "--temperature", "1.5", "--strategy", "beam"])) == "beam"
    runs = [
        cli("generate", "My friend", "--temperature", "1.5", "--seed", str(seed), "--max-words", "12", env=env)
        for seed in (1, 2, 1)
    ]
    assert all(r.returncode == 0 for r in runs), runs[0].stderr
    assert runs[0].stdout != runs[1].stdout and runs[0].stdout == runs[2].stdout


def test_greedy_text_that_ends_early_says_so(env: dict[str, str]) -> None:
    proc = cli("generate", "The cat", "--max-words", "200", "--max-tokens", "400", "--json", env=env)
    assert proc.returncode == 0, proc.stderr
    written = len(json.loads(proc.stdout)["continuation"].split())
    assert written < 200 and "ends the paragraph after" in proc.stderr and "--strategy sample" in proc.stderr


def test_one_final_newline_from_a_pipe_is_not_part_of_the_text(env: dict[str, str]) -> None:
    assert _without_final_newline("the Kes\n") == "the Kes"
    assert _without_final_newline("the Kes\r\n") == "the Kes"
    assert _without_final_newline("the Kes\n\n") == "the Kes\n"  # only the one the pipe added
    assert _without_final_newline("the Kes") == "the Kes"
    proc = cli("suggest", "-", "--json", stdin="The teacher reads the rep\n", env=env)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["prefix"] == "rep"


def test_an_unknown_option_shows_the_commands_own_usage(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["suggest", "--bogus", "x"])
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and "usage: assistant suggest" in err and "--bogus" in err


def test_generates_positional_is_not_named_like_its_seed_option(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["generate", "--help"])
    text = capsys.readouterr().out
    assert "--seed SEED" in text and " TEXT" in text and "\n  SEED " not in text
    assert text.split("\n\n")[0].rstrip().endswith("TEXT")  # the usage line ends with the positional


def test_settings_and_suggest_n_agree_on_the_candidate_range(tmp_path: Path, env: dict[str, str]) -> None:
    assert MAX_SUGGESTIONS == MAX_WORDS
    config = tmp_path / "config"
    config.mkdir()
    (config / "settings.toml").write_text(f"[suggest]\nwords = {MAX_WORDS + 1}\n", encoding="utf-8")
    settings = Settings.load(config)
    assert settings.suggest.words == 5 and f"above {MAX_WORDS}" in " ".join(settings.problems)
    (config / "settings.toml").write_text(f"[suggest]\nwords = {MAX_WORDS}\n", encoding="utf-8")
    assert Settings.load(config).suggest.words == MAX_WORDS
    with pytest.raises(SystemExit):
        build_parser().parse_args(["suggest", "x", "--n", str(MAX_SUGGESTIONS + 1)])
    assert build_parser().parse_args(["suggest", "x", "--n", str(MAX_SUGGESTIONS)]).n == MAX_SUGGESTIONS


def test_docs_marks_documents_kept_out_of_learning(tmp_path: Path, env: dict[str, str]) -> None:
    for name in ("diary.txt", "notes.txt"):
        (tmp_path / name).write_text(f"The {name} text.\n", encoding="utf-8")
        assert cli("import", str(tmp_path / name), env=env).returncode == 0
    assert cli("docs", "--no-learn", "diary.txt", env=env).returncode == 0
    lines = cli("docs", env=env).stdout.splitlines()
    assert [line for line in lines if "kept out of learning" in line] == [
        next(line for line in lines if line.startswith("diary.txt"))
    ]
    listing = json.loads(cli("docs", "--json", env=env).stdout)
    assert {d["name"]: d["learned"] for d in listing} == {"diary.txt": False, "notes.txt": True}


@pytest.mark.parametrize("damage", ["", "{ not json"])
def test_a_damaged_controls_file_stops_finetune_like_vocab(tmp_path: Path, env: dict[str, str], damage: str) -> None:
    doc = tmp_path / "notes.txt"
    doc.write_text(make_corpus(seed=3, paragraphs=40), encoding="utf-8")
    assert cli("import", str(doc), env=env).returncode == 0
    (tmp_path / "home" / "data" / "controls.json").write_text(damage, encoding="utf-8")
    vocab, finetune = cli("vocab", env=env), cli("finetune", env=env)
    assert vocab.returncode == finetune.returncode == 2
    assert "Traceback" not in finetune.stderr
    assert finetune.stderr.strip().splitlines()[-1] == vocab.stderr.strip().splitlines()[-1]
    assert "controls.json" in finetune.stderr and "fix or delete it" in finetune.stderr


def test_finetune_log_lines_are_whole_on_a_narrow_terminal(tmp_path: Path, env: dict[str, str]) -> None:
    doc = tmp_path / "notes.txt"
    doc.write_text(make_corpus(seed=3, paragraphs=40), encoding="utf-8")
    assert cli("import", str(doc), env=env).returncode == 0
    proc = cli("finetune", env={**env, "COLUMNS": "50"})
    assert proc.returncode == 0, proc.stderr
    output = proc.stdout + proc.stderr
    first = next(line for line in output.splitlines() if "to learn from" in line)
    assert "held out to judge the result; measuring them with base…" in first
