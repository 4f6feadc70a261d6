"""The privacy controls on the command line: vocab --block/--forget, docs --no-learn, export, restore [--undo],
and suggest behind the guard; real subprocesses under a temporary ASSISTANT_HOME."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from tests.support.cli import run_cli


def _env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "ASSISTANT_HOME": str(tmp_path / "home")}


def test_vocab_block_forget_and_no_learn(tmp_path: Path, tiny_model_dir: Path) -> None:
    env = _env(tmp_path)
    doc = tmp_path / "diary.txt"
    doc.write_text("Dear diary, the wizard came.\n", encoding="utf-8")
    assert run_cli("import", str(doc), env=env).returncode == 0
    text = "My sister paints a beautiful "
    first = json.loads(run_cli("suggest", text, "--model", str(tiny_model_dir), "--json", env=env).stdout)
    best = first["words"][0]["word"]
    proc = run_cli("vocab", "--block", best.upper(), env=env)
    assert proc.returncode == 0 and f"blocked: {best.lower()}" in proc.stdout
    after = json.loads(run_cli("suggest", text, "--model", str(tiny_model_dir), "--json", env=env).stdout)
    assert best not in [w["word"] for w in after["words"]]
    assert after["phrase"] is None or best not in after["phrase"]["text"]
    assert run_cli("vocab", "--forget", "wizard", env=env).returncode == 0
    assert "now kept out of learning" in run_cli("docs", "--no-learn", "diary.txt", env=env).stdout
    bad = run_cli("docs", "--no-learn", "nope.txt", env=env)
    assert bad.returncode == 2 and "no document named" in bad.stderr
    listing = json.loads(run_cli("vocab", "--json", env=env).stdout)
    assert listing.pop("learned") == []  # the only document is kept out of learning
    assert listing == {"blocked": [best.lower()], "forgotten": ["wizard"], "rejected": {}, "no_learn": ["diary.txt"]}
    assert run_cli("vocab", "--unblock", best, env=env).returncode == 0
    assert run_cli("vocab", "--block", " , ", env=env).returncode == 2


def test_password_values_are_not_suggested(tmp_path: Path, tiny_model_dir: Path) -> None:
    env = _env(tmp_path)
    out = json.loads(run_cli("suggest", "password: hun", "--model", str(tiny_model_dir), "--json", env=env).stdout)
    assert out["words"] == [] and out["phrase"] is None


def test_export_wipe_restore_undo_and_a_refused_archive(tmp_path: Path) -> None:
    env = _env(tmp_path)
    home = tmp_path / "home"
    src = tmp_path / "notes.md"
    src.write_text("Meeting notes\n\nthe key is AKIA" + "Q" * 16 + " here\n", encoding="utf-8")
    assert run_cli("import", str(src), env=env).returncode == 0
    assert run_cli("vocab", "--block", "synergy", env=env).returncode == 0
    stored = (home / "data" / "documents" / "notes.md").read_bytes()
    archive = tmp_path / "backup.tar.gz"
    proc = run_cli("export", str(archive), env=env)
    assert proc.returncode == 0 and "exported" in proc.stdout, proc.stderr
    shutil.rmtree(home)
    proc = run_cli("restore", str(archive), env=env)
    assert proc.returncode == 0, proc.stderr
    assert (home / "data" / "documents" / "notes.md").read_bytes() == stored  # the secret kept in the document
    assert json.loads(run_cli("vocab", "--json", env=env).stdout)["blocked"] == ["synergy"]
    assert "notes.md" in run_cli("docs", env=env).stdout
    cut = tmp_path / "cut.tar.gz"
    cut.write_bytes(archive.read_bytes()[:-200])
    proc = run_cli("restore", str(cut), env=env)
    assert proc.returncode == 2 and "nothing was changed" in proc.stderr
    assert run_cli("restore", "--undo", env=env).returncode == 0  # back to the wiped state
    assert not (home / "data" / "documents" / "notes.md").exists()
    assert run_cli("restore", "--undo", env=env).returncode == 0  # and redone
    assert (home / "data" / "documents" / "notes.md").read_bytes() == stored


def test_vocab_lists_learned_words_and_forget_leaves_the_memory_at_once(tmp_path: Path, tiny_model_dir: Path) -> None:
    env = _env(tmp_path)
    doc = tmp_path / "notes.txt"
    doc.write_text("The zorblax glows.\n\nA zorblax hums and the zorblax sings.\n", encoding="utf-8")
    other = tmp_path / "other.txt"
    other.write_text("The lamp glows.\n", encoding="utf-8")
    assert run_cli("import", str(doc), str(other), env=env).returncode == 0
    listing = json.loads(run_cli("vocab", "--json", env=env).stdout)
    learned = {e["word"]: e for e in listing["learned"]}
    assert learned["zorblax"]["count"] == 3 and learned["zorblax"]["documents"] == ["notes.txt"]
    assert learned["glows"]["documents"] == ["notes.txt", "other.txt"] and learned["glows"]["last_seen"] > 0
    text = run_cli("vocab", env=env).stdout
    assert "zorblax\t3\t" in text and "notes.txt" in text

    def completions() -> list[str]:
        proc = run_cli("suggest", "the zorb", "--model", str(tiny_model_dir), "--json", env=env)
        return [w["word"] for w in json.loads(proc.stdout)["words"]]

    assert "zorblax" in completions()  # only the memory knows it
    proc = run_cli("vocab", "--forget", "Zorblax", env=env)
    assert proc.returncode == 0 and "out of the personal memory" in proc.stdout
    assert "zorblax" not in completions()  # each run is a fresh process: the memory file itself lost it
    after = {e["word"] for e in json.loads(run_cli("vocab", "--json", env=env).stdout)["learned"]}
    assert "zorblax" not in after and "lamp" in after
    assert run_cli("vocab", "--unforget", "zorblax", env=env).returncode == 0
    assert "zorblax" in completions()
    assert run_cli("vocab", "--top", "0", env=env).returncode == 2
