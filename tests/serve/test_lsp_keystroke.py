"""A keystroke's cost in the language server does not grow with the document: positions are found from the last
line used, and only the predictor's window of text before the cursor is handed to it."""

from __future__ import annotations

import random
import re
import statistics
import time
from pathlib import Path

import pytest
from lsprotocol import types as t

from assistant.personal import PhraseSettings
from assistant.personal.space import UserSpace
from assistant.serve.documents import OpenDocument
from assistant.serve.positions import CHUNK, UTF8, UTF16, UTF32, LineIndex, apply_change, line_start, units


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


def reference_offset(text: str, line: int, character: int, encoding: str) -> int:
    """The offset of a position by reading the document from the start (the definition)."""
    starts = [0] + [m.end() for m in re.finditer(r"\r\n|\r|\n", text)]
    if line >= len(starts):
        return len(text)
    start = starts[line]
    end = (
        starts[line + 1] - (2 if text[starts[line + 1] - 2 : starts[line + 1]] == "\r\n" else 1)
        if line + 1 < len(starts)
        else len(text)
    )
    counted = 0
    for i in range(start, end):
        counted += units(text[i], encoding)
        if counted > character:
            return i
    return end


@pytest.mark.parametrize("encoding", [UTF16, UTF8, UTF32])
def test_positions_on_a_very_long_line_agree_with_a_full_scan_through_edits(encoding: str) -> None:
    """The column index walks from the remembered column (forwards or backwards, across chunks): wherever the
    cursor goes and whatever is typed or deleted, it finds what reading the line from its start finds."""
    rng = random.Random(7)
    text = "".join(rng.choice(["a", "b c", "é", "😀", "中"]) for _ in range(3 * CHUNK)) + "\nend\r\nx"
    doc_line = 0
    index = LineIndex()
    for _ in range(300):
        length = units(text.split("\n")[0], encoding)
        character = rng.choice([rng.randint(0, length + 3), length, max(0, length - rng.randint(0, 40))])
        line = rng.choice([doc_line, doc_line, 1, 2, 5])
        expected = reference_offset(text, line, character, encoding)
        assert index.locate(text, t.Position(line=line, character=character), encoding)[0] == expected
        if rng.random() < 0.5:  # an edit at a position on the long line
            removed = rng.choice([0, 0, 1, 3])
            start = reference_offset(text, 0, character, encoding)
            end = min(start + removed, text.index("\n"))
            new = rng.choice(["x", "😀", "", "é中", " "])
            begin = t.Position(0, units(text[:start], encoding))
            finish = t.Position(0, units(text[:end], encoding))
            change = t.TextDocumentContentChangePartial(range=t.Range(begin, finish), text=new)
            text_after = text[:start] + new + text[end:]
            assert apply_change(text, change, encoding, index) == text_after
            text = text_after
