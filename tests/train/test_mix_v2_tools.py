"""The base model v2 tools in scripts/: pre-tokenised mix, the device grid's plan, the prose rules."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from assistant.text.tokenizer import Tokenizer
from assistant.train.data import PARAGRAPH_SEPARATOR, MixSource, build_token_data, read_units
from tests.support.corpus import make_corpus

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"
sys.path.insert(0, str(SCRIPTS))

import device_grid  # noqa: E402
from mixlib.tokens import SourceUnits, assemble, pack, unpack  # noqa: E402


def _units(path: Path, tokenizer: Tokenizer) -> SourceUnits:
    units = read_units(path)
    enc = tokenizer.encode_batch(units)
    ids = np.array([t for e in enc for t in e], dtype=np.uint16)
    return SourceUnits(path.stem, ids, np.array([len(e) for e in enc]), np.array([len(u) for u in units]))


def test_carried_ids_build_the_same_streams_as_the_trainer(tokenizer: Tokenizer, tmp_path: Path) -> None:
    weights = {"alpha": 1.0, "beta": 0.5, "gamma": 2.3, "zero": 0.0}
    paths = []
    for i, name in enumerate(sorted(weights)):
        path = tmp_path / f"{name}.txt"
        path.write_text(make_corpus(seed=i, paragraphs=40 + 10 * i), encoding="utf-8")
        paths.append(path)
    expected = build_token_data(tokenizer, [MixSource(p, weights[p.stem]) for p in paths if weights[p.stem] > 0])

    blob = pack([_units(p, tokenizer) for p in paths], tokenizer.encode(PARAGRAPH_SEPARATOR), {"note": "t"})
    header, sources = unpack(blob)
    assert header["note"] == "t" and [s.name for s in sources] == sorted(weights)
    train, val, train_chars, val_chars, report = assemble(sources, weights, header["sep"])

    assert torch.equal(torch.from_numpy(train), expected.train)
    assert torch.equal(torch.from_numpy(val), expected.val)
    assert (train_chars, val_chars) == (expected.train_chars, expected.val_chars)
    assert report == expected.sources and "zero" not in report


def test_unpack_refuses_another_format() -> None:
    import io
    import lzma

    buf = io.BytesIO()
    np.savez(buf, header=np.frombuffer(json.dumps({"format": "other"}).encode(), dtype=np.uint8))
    with pytest.raises(ValueError, match="not a mix token file"):
        unpack(lzma.compress(buf.getvalue()))


def test_dropout_follows_the_passes() -> None:
    assert device_grid.choose_dropout(1.5) == 0.0
    assert device_grid.choose_dropout(3.0) == 0.1
    assert device_grid.choose_dropout(9.0) == 0.2


def test_dry_run_plans_every_model_within_the_files_the_device_returns(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--dry-run", "--budget", "500", "--probe", "25", "--assume-rate", "40", "--assume-tokens", "40000000"]
    assert device_grid.main(argv) == 0
    plan = json.loads(capsys.readouterr().out)
    jobs = plan["plan"]
    assert len(jobs) == len(device_grid.GRIDS["v2"]) and len(jobs) + 3 <= device_grid.MAX_FILES
    for job in jobs:
        cmd = job["command"]
        assert cmd[1:3] == ["-m", "assistant.train"] and "--tokens" in cmd and "--fresh" in cmd
        assert cmd[cmd.index("--steps") + 1] == str(job["steps"])
        assert cmd[cmd.index("--dropout") + 1] == str(job["dropout"])
        assert job["dropout"] == device_grid.choose_dropout(job["passes"])
    steps = jobs[0]["steps"]
    assert steps == int(40 * (500 - 25 - 45) * 0.92)


def test_prose_rules_keep_sentences_and_drop_code_and_tables() -> None:
    pytest.importorskip("bs4")
    from mixlib.prose import OverlapFilter, html_paragraphs, is_prose

    assert is_prose("The quick brown fox jumps over the lazy dog.")
    assert not is_prose("Too short here.")
    assert not is_prose("This sentence has no final punctuation mark at all")
    assert not is_prose("x = foo(bar) if baz->qux else {a: b} and more words here.")
    page = (
        "<html><nav><p>Home and about and contact us now.</p></nav><body>"
        "<p>A paragraph of real prose that says something useful.</p>"
        "<pre>for i in range(10): print(i)</pre>"
        "<table><tr><td>Cell text that should never be kept here.</td></tr></table>"
        "<ul><li>A list item that is also a full sentence.</li></ul></body></html>"
    )
    assert list(html_paragraphs(page)) == [
        "A paragraph of real prose that says something useful.",
        "A list item that is also a full sentence.",
    ]
    f = OverlapFilter(["one two three four five six seven eight nine ten"])
    assert f.overlaps("Then: two three four five six seven eight nine, it said.")
    assert not f.overlaps("two three four five six seven eight and something else.")


def test_man_and_pod_extractors_keep_the_prose(tmp_path: Path) -> None:
    pytest.importorskip("bs4")
    from mixlib.extract import man, pod

    (tmp_path / "x.1").write_text(
        ".TH X 1\n.SH NAME\nx \\- do things\n.SH DESCRIPTION\n.B x\nreads the \\fIfile\\fP and writes it back.\n"
        ".PP\n.nf\ncode line\n.fi\nIt never changes a byte.\n",
        encoding="utf-8",
    )
    got = list(man(tmp_path, {"glob": "*.1"}))
    assert "x reads the file and writes it back." in got and "It never changes a byte." in got
    assert not any("code line" in g for g in got)
    (tmp_path / "y.pod").write_text(
        "=head1 NAME\n\nUse B<bold> and C<code> in I<prose>.\n\n    verbatim code\n", encoding="utf-8"
    )
    assert list(pod(tmp_path, {"glob": "*.pod"})) == ["Use bold and code in prose."]


def test_presampling_keeps_the_weighted_share_and_the_device_weighs_it_once(
    tokenizer: Tokenizer, tmp_path: Path
) -> None:
    import tokenise_mix

    (tmp_path / "half.txt").write_text(make_corpus(seed=3, paragraphs=100), encoding="utf-8")
    (tmp_path / "whole.txt").write_text(make_corpus(seed=4, paragraphs=30), encoding="utf-8")
    full = {s.name: s for s in tokenise_mix.tokenise(tmp_path, tokenizer, {"half": 0.5})}
    cut = {s.name: s for s in tokenise_mix.tokenise(tmp_path, tokenizer, {"half": 0.5}, presample=True)}
    assert len(cut["half"].lengths) == round(len(full["half"].lengths) * 0.5)
    assert len(cut["whole"].lengths) == len(full["whole"].lengths)
    again = {s.name: s for s in tokenise_mix.tokenise(tmp_path, tokenizer, {"half": 0.5}, presample=True)}
    assert np.array_equal(again["half"].ids, cut["half"].ids)  # seeded: the same share every time


def test_mix_file_weights_the_sources(tmp_path: Path) -> None:
    from assistant.train.base import parse_mix

    for name in ("a", "b", "c"):
        (tmp_path / f"{name}.txt").write_text("Some words here.\n", encoding="utf-8")
    mix = tmp_path / "mix.json"
    mix.write_text(json.dumps({"sources": [{"name": "a", "weight": 0.5}, {"name": "b", "weight": 0}]}))
    got = {s.name: s.weight for s in parse_mix(tmp_path, ["c=2"], mix)}
    assert got == {"a": 0.5, "c": 2.0}
    mix.write_text("{not json")
    with pytest.raises(SystemExit, match="--mix-file"):
        parse_mix(tmp_path, [], mix)
