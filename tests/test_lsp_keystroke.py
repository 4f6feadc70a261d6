"""A keystroke's cost in the language server does not grow with the document: positions are found from the last
line used, and only the predictor's window of text before the cursor is handed to it."""

from __future__ import annotations

import random
import statistics
import time
from pathlib import Path

import pytest
from lsprotocol import types as t

from assistant.personal import PhraseSettings
from assistant.personal.space import UserSpace
from assistant.serve.documents import OpenDocument
from assistant.serve.positions import LineIndex, line_start


def test_the_line_index_agrees_with_a_full_scan_in_any_order() -> None:
    rng = random.Random(5)
    text = "".join(rng.choice(["ab", "c", "\n", "\r\n", "\r", "é", "\n\n"]) for _ in range(3000))
    index = LineIndex()
    for _ in range(500):
        line = rng.randint(0, 1200)
        assert index.start_of(text, line) == line_start(text, line), line


def keystroke_ms(doc: OpenDocument, line: int, keys: int = 12) -> float:
    times = []
    for col in range(keys):
        here = t.Position(line=line, character=col)
        start = time.perf_counter()
        doc.edit([t.TextDocumentContentChangePartial(range=t.Range(start=here, end=here), text="abcdefghijkl"[col])])
        doc.suggest(t.Position(line=line, character=col + 1), 5, phrase=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times[2:]) * 1000


def test_a_keystroke_in_a_5_mb_document_costs_what_it_costs_in_a_small_one(
    tiny_model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ASSISTANT_HOME", str(tmp_path / "home"))
    space = UserSpace.default()
    model = space.provider.folder(tiny_model_dir)
    line = "The cat sat on the mat and then it went away again. " * 2 + "\n"
    costs = {}
    for size in (50_000, 5_000_000):
        text = line * (size // len(line))
        doc = OpenDocument("file:///big.txt", text, space.predictor(model, PhraseSettings()))
        costs[size] = keystroke_ms(doc, text.count("\n"))
    assert costs[5_000_000] < 3 * costs[50_000] + 5, costs
