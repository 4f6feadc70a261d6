"""The language server's pieces in process: position conversions, options, store names, shared predictors."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st
from lsprotocol import types as t

from assistant.engine.predictor import Predictor
from assistant.lm.io import load_model
from assistant.lm.quantize import quantize_for_inference
from assistant.personal.space import UserSpace
from assistant.serve.learning import document_name, learn
from assistant.serve.options import Options, parse_options
from assistant.serve.positions import UTF8, UTF16, UTF32, apply_change, to_offset, to_position, units
from assistant.store.paths import Paths

ENCODINGS = [UTF8, UTF16, UTF32]
CHARS = st.sampled_from(["a", " ", "é", "😀", "中", "\n", "\r", "\r\n", "\u2028", "\x0c", "\t"])
TEXTS = st.lists(CHARS, max_size=30).map("".join)


def reference_position(text: str, offset: int, encoding: str) -> t.Position:
    """LSP lines end at \\n, \\r\\n or \\r only; columns count the encoding's code units."""
    line, start, i = 0, 0, 0
    while i < offset:
        if text[i] == "\r" and i + 1 < len(text) and text[i + 1] == "\n":
            i += 1  # \r\n is one break
        if text[i] in "\r\n":
            line, start = line + 1, i + 1
        i += 1
    codec = {UTF8: "utf-8", UTF16: "utf-16-le", UTF32: "utf-32-le"}[encoding]
    size = {UTF8: 1, UTF16: 2, UTF32: 4}[encoding]
    return t.Position(line, len(text[start:offset].encode(codec)) // size)


def offsets(text: str) -> list[int]:
    """Every offset a cursor can have (not between the two characters of \\r\\n)."""
    return [i for i in range(len(text) + 1) if not (0 < i < len(text) and text[i - 1 : i + 1] == "\r\n")]


@given(TEXTS)
def test_positions_round_trip_in_every_encoding(text: str) -> None:
    for encoding in ENCODINGS:
        for offset in offsets(text):
            position = to_position(text, offset, encoding)
            assert position == reference_position(text, offset, encoding)
            assert to_offset(text, position, encoding) == offset


@given(TEXTS, st.data())
def test_ranged_changes_edit_the_text_like_slicing(text: str, data: st.DataObject) -> None:
    cursor = offsets(text)
    a, b = sorted(data.draw(st.lists(st.sampled_from(cursor), min_size=2, max_size=2)))
    new = data.draw(TEXTS)
    for encoding in ENCODINGS:
        edit = t.Range(to_position(text, a, encoding), to_position(text, b, encoding))
        change = t.TextDocumentContentChangePartial(range=edit, text=new)
        assert apply_change(text, change, encoding) == text[:a] + new + text[b:]
    assert apply_change(text, t.TextDocumentContentChangeWholeDocument(text=new)) == new


def test_out_of_range_positions_clamp() -> None:
    text = "ab😀\ncd"
    assert to_offset(text, t.Position(0, 99)) == 3  # past the line end: the line end
    assert to_offset(text, t.Position(0, 3)) == 2  # inside the emoji's surrogate pair: its start
    assert to_offset(text, t.Position(7, 0)) == len(text)  # past the last line: the end
    assert to_offset("ab\n", t.Position(1, 5)) == 3
    assert units("😀", UTF16) == 2 and units("😀", UTF8) == 4 and units("😀", UTF32) == 1


def test_options_are_checked_one_by_one() -> None:
    options, warnings = parse_options({"model": "base", "candidates": 8, "learnOnSave": True})
    assert options == Options(model="base", candidates=8, learn_on_save=True) and warnings == []
    options, warnings = parse_options(
        {"model": "", "candidates": True, "learnOnSave": 1, "x": 0}, Options(candidates=3)
    )
    assert options == Options(candidates=3)
    assert len(warnings) == 4 and "using 3" in warnings[1] and "'x'" in warnings[3]
    assert parse_options(None) == (Options(), [])
    options, warnings = parse_options(["model", "base"])
    assert options == Options() and "should be an object" in warnings[0]


def test_store_names_come_from_the_file_name_and_stay_unique(tmp_path: Path) -> None:
    space = UserSpace.at(Paths.at(tmp_path))
    store = space.store
    assert learn("file:///home/me/notes.md", "one", space) == "notes.md"
    assert learn("file:///home/me/notes.md", "one, edited", space) == "notes.md"  # the same file, the same name
    assert learn("file:///home/me/work/notes.md", "two", space) == "notes (2).md"
    assert learn("file:///home/me/..%2F..%2Fetc%2Fpasswd", "three", space) == "passwd"
    assert store.read("notes.md") == "one, edited" and store.read("notes (2).md") == "two"
    assert sorted(p.name for p in store.root.iterdir() if not p.name.startswith(".")) == [
        "notes (2).md",
        "notes.md",
        "passwd",
    ]
    assert document_name("untitled:Untitled-1", store.list()) == "Untitled-1"


def test_predictors_can_share_one_quantised_network(tiny_model_dir: Path) -> None:
    lm = load_model(tiny_model_dir)
    network = quantize_for_inference(lm.model)
    a, b = Predictor(lm, model=network), Predictor(lm, model=network)
    assert a.model is network and b.model is network
    alone = Predictor(lm)
    a.suggest("The teacher reads the letter every mor")  # a's state must not leak into b
    for text in ["The cat sends the rep", "My friend likes "]:
        assert b.suggest(text) == alone.suggest(text)


def test_an_open_document_is_answered_from_all_of_its_text(tiny_model_dir: Path, corpus_file: Path) -> None:
    """A long document's answers are the engine's on the whole text before the cursor, as in the app: its
    document memory holds a name from the first line even when the network's read window is far past it."""
    from assistant.engine.dynamic import DynamicSettings
    from assistant.engine.window import MAX_CONTEXT_CHARS, WINDOW_STEP
    from assistant.serve.documents import OpenDocument

    lm = load_model(tiny_model_dir)
    filler = corpus_file.read_text(encoding="utf-8")[: MAX_CONTEXT_CHARS + 3 * WINDOW_STEP]
    head = "Dear Quillithorne, the letter. Quillithorne reads. " * 3 + "\n"
    engine = Predictor(lm, dynamic=DynamicSettings())
    doc = OpenDocument("file:///long.md", "", Predictor(lm, dynamic=DynamicSettings()))
    for typed in (head + filler + "Dear Quill", head + filler + filler[:3000] + " Dear Quill"):
        doc.text = typed
        line = typed.count("\n")
        position = t.Position(line=line, character=len(typed) - typed.rfind("\n") - 1)
        _, answer = doc.suggest(position, 5, phrase=False, encoding=UTF32)
        assert answer == engine.suggest(typed, 5, phrase=False)
        assert answer.words and answer.words[0].word == "Quillithorne"
