"""Metrics by hand, the n-gram baseline, and the eval command end to end."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from assistant.eval.metrics import keystroke_savings, next_word_accuracy, percentile
from assistant.eval.ngram import BOS, KneserNeyModel
from tests.support.corpus import make_corpus
from tests.support.evaluation import run_eval

ROOT = Path(__file__).parents[2]


@dataclass
class Offer:
    word: str


class ScriptedPredictor:
    """Offers the words of a fixed ranked list that start with the partial word (to check the arithmetic)."""

    ranked = ("sat", "the", "mat", "cat")

    def words(self, text_before_cursor: str, n: int = 5) -> list[Offer]:
        tail = text_before_cursor.split(" ")[-1]
        return [Offer(w) for w in self.ranked if w.startswith(tail)][:n]


def test_ksr_matches_the_hand_computed_numbers() -> None:
    text = "the cat sat on the mat"
    r = keystroke_savings(ScriptedPredictor(), text)
    # Without prediction: 4 + 4 + 4 + 3 + 4 + 4 keystrokes (letters and one separator per word).
    assert r.keystrokes_without == 23
    # N=1: the@t(2) cat@c(2) sat@first(1) on never(3) the(2) mat@m(2) = 12
    assert r.keystrokes_with[1] == 12
    # N=3: the(1) cat@c(2) sat(1) on(3) the(1) mat(1) = 9
    assert r.keystrokes_with[3] == 9
    # N=5: every word but "on" before its first letter = 1+1+1+3+1+1
    assert r.keystrokes_with[5] == 8
    assert r.ksr(3) == pytest.approx(1 - 9 / 23)
    assert r.first_hits == {1: 1, 3: 4}
    acc = next_word_accuracy(ScriptedPredictor(), text)
    assert acc.accuracy(1) == pytest.approx(1 / 6) and acc.accuracy(3) == pytest.approx(4 / 6)


def test_punctuation_and_extra_spaces_count_on_neither_side() -> None:
    plain = keystroke_savings(ScriptedPredictor(), "the cat sat")
    noisy = keystroke_savings(ScriptedPredictor(), "the cat sat!!\n")
    assert plain.keystrokes_without == noisy.keystrokes_without == 12


def test_percentile() -> None:
    assert percentile([1, 2, 3, 4, 5], 50) == 3
    assert percentile([], 95) == 0.0
    assert percentile(list(range(101)), 99) == 99


@pytest.fixture(scope="module")
def ngram() -> KneserNeyModel:
    return KneserNeyModel.train(make_corpus(seed=11).split("\n\n"), order=3)


def test_kneser_ney_is_a_proper_distribution(ngram: KneserNeyModel) -> None:
    every = np.arange(2, len(ngram.vocab))
    for context in ([BOS, BOS], [ngram._index["The"], ngram._index["cat"]], [ngram._index["sends"], 0]):
        total = float(ngram.prob(context, every).sum())
        assert 0.97 < total <= 1.0 + 1e-9


def test_ngram_predicts_and_round_trips(ngram: KneserNeyModel, tmp_path: Path) -> None:
    words = [c.word for c in ngram.words("The teacher ", 5)]
    assert set(words) & {"sends", "reads", "writes", "finds", "likes", "moves", "sees", "takes", "opens", "checks"}
    assert all(c.word.startswith("re") for c in ngram.words("My friend sends the re", 5))
    ngram.save(tmp_path / "ng.npz")
    back = KneserNeyModel.load(tmp_path / "ng.npz")
    assert [c.word for c in back.words("The teacher ", 5)] == words


def test_eval_command_reports_the_metrics(tiny_model_dir: Path, tmp_path: Path) -> None:
    text = tmp_path / "t.txt"
    text.write_text(make_corpus(seed=5, paragraphs=6), encoding="utf-8")
    proc = run_eval(str(text), "--json", "--model", str(tiny_model_dir), "--max-words", "40", home=tmp_path)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["words"] == 40
    assert set(out["ksr"]) == {"1", "3", "5"} and set(out["accuracy"]) == {"1", "3"}
    assert 0 < out["ksr"]["1"] <= out["ksr"]["3"] <= out["ksr"]["5"] < 1
    assert 0 <= out["accuracy"]["1"] <= out["accuracy"]["3"] <= 1
    assert 0 < out["bpc"] < 8
    assert out["latency_ms"]["p50"] <= out["latency_ms"]["p95"] <= out["latency_ms"]["p99"]


def test_eval_baseline_ngram(tmp_path: Path) -> None:
    data = tmp_path / "train"
    data.mkdir()
    (data / "corpus.txt").write_text(make_corpus(seed=3), encoding="utf-8")
    text = tmp_path / "t.txt"
    text.write_text(make_corpus(seed=5, paragraphs=6), encoding="utf-8")
    proc = run_eval(
        str(text),
        "--json",
        "--baseline",
        "ngram",
        "--ngram-data",
        str(data),
        "--ngram-order",
        "3",
        "--max-words",
        "40",
        home=tmp_path / "home",
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["model"] == "ngram" and out["bpc"] is None and out["ksr"]["3"] > 0.2
    assert list((tmp_path / "home" / "cache").glob("ngram3-*.npz"))  # cached for the next run


@pytest.mark.parametrize(("content", "message"), [(b"\xff\xfe\x00bin\x00ary", "binary"), (b"caf\xe9 latin-1", "UTF-8")])
def test_eval_refuses_bad_files_clearly(tiny_model_dir: Path, tmp_path: Path, content: bytes, message: str) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_bytes(content)
    proc = run_eval(str(bad), "--model", str(tiny_model_dir), home=tmp_path)
    assert proc.returncode == 2 and message in proc.stderr and "bad.txt" in proc.stderr


def test_suggest_command(tiny_model_dir: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "assistant", "suggest", "The teacher sends the lett", "--model", str(tiny_model_dir)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr
    first = proc.stdout.splitlines()[0].split("\t")
    assert first[0] == "letter" and 0 < float(first[1]) <= 1


def test_the_ngram_baseline_says_where_its_text_comes_from_and_takes_one_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from assistant.personal.evaluation import DEFAULT_NGRAM_DATA, load_ngram

    monkeypatch.setenv("ASSISTANT_HOME", str(tmp_path / "home"))
    with pytest.raises(ValueError) as exc:
        load_ngram(tmp_path / "no-such-data", 2)
    message = str(exc.value)
    assert "base model's training mix" in message and str(DEFAULT_NGRAM_DATA) in message
    assert "--ngram-data PATH" in message and "general_sample.txt" in message
    one = tmp_path / "words.txt"
    one.write_text("The cat sat on the mat.\n\nThe cat ran to the mat.\n", encoding="utf-8")
    assert [c.word for c in load_ngram(one, 2).words("The ", 1)] == ["cat"]
    readme = " ".join((Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8").split())
    assert "`../shared/data/train` beside a source checkout" in readme and "`--ngram-data PATH`" in readme
