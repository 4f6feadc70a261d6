"""``assistant lsp`` end to end: pygls's own LanguageClient talking to the real server in a subprocess."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
import pytest_asyncio
import torch
from lsprotocol import types as t

from assistant.engine.ngramsource import NgramSource
from assistant.engine.predictor import Predictor
from assistant.lm.io import load_model
from assistant.shipped import base_model_dir
from tests.support.lsp import Session, lsp_server, utf16

ROOT = Path(__file__).resolve().parents[2]
TYPED = "The meeting has been mov"
pytestmark = pytest.mark.asyncio(loop_scope="module")  # one event loop, so one server serves several tests
EMOJI = "😀😀 "


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def base(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Session]:
    """One server on the shipped model for the tests that only read (each uses its own documents)."""
    async with lsp_server(tmp_path_factory.mktemp("home"), {"model": "base"}) as session:
        yield session


@pytest.fixture(scope="module")
def base_predictor() -> Predictor:
    """The shipped model in this process, to check the server's answers against the engine's."""
    torch.set_num_threads(1)
    return Predictor(load_model(base_model_dir()), ngram=NgramSource.shared(base_model_dir()))  # as make_predictor


def probability(item: t.CompletionItem) -> float:
    assert item.detail and item.detail.endswith("%")
    return float(item.detail[:-1]) / 100


async def test_completion_replaces_the_partial_word_best_first(base: Session, base_predictor: Predictor) -> None:
    assert base.init.capabilities.position_encoding == "utf-16"
    sync = base.init.capabilities.text_document_sync
    assert isinstance(sync, t.TextDocumentSyncOptions) and sync.change == t.TextDocumentSyncKind.Incremental
    base.open("file:///notes/a.md", f"Dear team,\n{TYPED} to Friday.")
    result = await base.complete("file:///notes/a.md", 1, len(TYPED))
    assert result is not None and result.is_incomplete
    expected = base_predictor.suggest(f"Dear team,\n{TYPED}", 5, phrase=False).words
    assert [i.label for i in result.items] == [c.word for c in expected]
    assert "moved" in [i.label for i in result.items]
    assert [i.sort_text for i in result.items] == sorted(i.sort_text or "" for i in result.items)
    probs = [probability(i) for i in result.items]
    assert probs == sorted(probs, reverse=True)
    assert probs[0] == pytest.approx(expected[0].probability, rel=1e-2)
    for item in result.items:
        assert item.label.startswith("mov") and item.filter_text == item.label
        assert isinstance(item.text_edit, t.TextEdit) and item.text_edit.new_text == item.label
        assert item.text_edit.range == t.Range(t.Position(1, len(TYPED) - 3), t.Position(1, len(TYPED)))


async def test_next_words_after_a_space_insert_at_the_cursor(base: Session, base_predictor: Predictor) -> None:
    assert list(base.init.capabilities.completion_provider.trigger_characters) == [" "]  # editors ask after a space
    text = "Thank you for your "
    base.open("file:///notes/b.txt", text)
    result = await base.complete("file:///notes/b.txt", 0, len(text))
    assert result is not None
    assert [i.label for i in result.items] == [c.word for c in base_predictor.suggest(text, 5, phrase=False).words]
    for item in result.items:
        assert isinstance(item.text_edit, t.TextEdit)
        assert item.text_edit.range == t.Range(t.Position(0, len(text)), t.Position(0, len(text)))


def typing(final: str) -> list[str]:
    """Keystrokes that type ``final`` with one typo fixed by backspace ('' is a backspace)."""
    keys = list(final)
    return [*keys[:14], "x", "", *keys[14:]]


async def test_incremental_edits_answer_like_a_fresh_open(base: Session) -> None:
    final_line = f"{EMOJI}{TYPED}"
    typed, fresh = "file:///notes/typed.md", "file:///notes/fresh.md"
    base.open(typed, "Hello,\n\n")
    line = ""
    for key in typing(final_line):
        if key:
            base.change(typed, (2, utf16(line)), (2, utf16(line)), key)
            line += key
        else:
            base.change(typed, (2, utf16(line) - 1), (2, utf16(line)), "")
            line = line[:-1]
        if len(line) % 5 == 0:
            await base.complete(typed, 2, utf16(line))  # the predictor's cache follows the typing
    base.change(typed, (0, 0), (0, 5), "Dear all")  # an edit above: the cache must notice the context changed
    incremental = await base.complete(typed, 2, utf16(line))
    inline_incremental = await base.inline(typed, 2, utf16(line))
    base.open(fresh, f"Dear all,\n\n{final_line}")
    reference = await base.complete(fresh, 2, utf16(final_line))
    inline_reference = await base.inline(fresh, 2, utf16(final_line))
    assert line == final_line
    assert incremental is not None and reference is not None
    assert [(i.label, i.detail, i.text_edit) for i in incremental.items] == [
        (i.label, i.detail, i.text_edit) for i in reference.items
    ]
    assert inline_incremental is not None and inline_incremental == inline_reference


def check_emoji_line(result: t.CompletionList | None, count: Callable[[str], int]) -> None:
    """Items for the cursor after ``😀😀 The meeting has been mov`` replace ``mov``, in ``count`` units."""
    before = f"{EMOJI}{TYPED}"
    assert result is not None and "moved" in [i.label for i in result.items]
    for item in result.items:
        assert item.label.startswith("mov")
        assert isinstance(item.text_edit, t.TextEdit)
        assert item.text_edit.range == t.Range(t.Position(0, count(before[:-3])), t.Position(0, count(before)))


async def test_utf16_positions_on_a_line_with_emoji(base: Session) -> None:
    before = f"{EMOJI}{TYPED}"
    assert utf16(before) == len(before) + 2
    base.open("file:///notes/emoji.md", f"{before} today 🎉\n")
    check_emoji_line(await base.complete("file:///notes/emoji.md", 0, utf16(before)), utf16)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-32"])
async def test_positions_in_the_encoding_the_client_prefers(tmp_path: Path, encoding: str) -> None:
    def count(text: str) -> int:
        return len(text.encode("utf-8")) if encoding == "utf-8" else len(text)

    before = f"{EMOJI}{TYPED}"
    async with lsp_server(tmp_path, {"model": "base"}, [encoding, "utf-16"]) as s:
        assert s.init.capabilities.position_encoding == encoding
        s.open("file:///notes/emoji.md", "")
        s.change("file:///notes/emoji.md", (0, 0), (0, 0), f"{before} today 🎉\n")
        s.change("file:///notes/emoji.md", (0, count(before)), (0, count(before + " today")), " next week")
        check_emoji_line(await s.complete("file:///notes/emoji.md", 0, count(before)), count)
        inline = await s.inline("file:///notes/emoji.md", 0, count(before))
    assert inline is not None and inline.items[0].range == t.Range(
        t.Position(0, count(before[:-3])), t.Position(0, count(before))
    )


async def test_inline_completion_continues_the_text(base: Session, base_predictor: Predictor) -> None:
    base.open("file:///notes/c.md", f"{EMOJI}{TYPED}")
    result = await base.inline("file:///notes/c.md", 0, utf16(EMOJI + TYPED))
    assert result is not None and len(result.items) == 1
    item = result.items[0]
    assert isinstance(item.insert_text, str) and item.insert_text.startswith("mov") and len(item.insert_text) > 3
    assert item.range == t.Range(t.Position(0, utf16(EMOJI + TYPED) - 3), t.Position(0, utf16(EMOJI + TYPED)))
    expected = base_predictor.suggest(EMOJI + TYPED, 5).phrase
    assert expected is not None and item.insert_text == "mov" + expected.text
    assert await base.inline("file:///notes/never-opened.md", 0, 0) is None


async def test_learn_on_save_stores_the_document_only_when_asked(tmp_path: Path) -> None:
    text = "Minutes of the garden committee.\nThe hedges were trimmed on Tuesday.\n"
    for learn in (False, True):
        home = tmp_path / str(learn)
        uri = f"file://{tmp_path}/my%20notes.md"
        async with lsp_server(home, {"model": "base", "learnOnSave": learn}) as s:
            s.open(uri, text)
            s.client.text_document_did_save(t.DidSaveTextDocumentParams(t.TextDocumentIdentifier(uri)))
            await s.complete(uri, 1, 3)  # answered after the save was handled
        stored = home / "data" / "documents" / "my notes.md"
        assert stored.exists() == learn
        if learn:
            assert stored.read_text(encoding="utf-8") == text
            manifest = json.loads((stored.parent / ".manifest.json").read_text(encoding="utf-8"))
            assert [d["source"] for d in manifest["documents"]] == [uri]
            assert any("my notes.md" in m for m in s.logs())


async def test_bad_options_warn_and_fall_back_to_defaults(tmp_path: Path) -> None:
    options = {"model": str(tmp_path / "no-such-model"), "candidates": 0, "learnOnSave": "yes", "colour": "blue"}
    async with lsp_server(tmp_path, options) as s:
        s.open("file:///notes/e.md", TYPED)
        result = await s.complete("file:///notes/e.md", 0, len(TYPED))
        s.client.text_document_did_save(t.DidSaveTextDocumentParams(t.TextDocumentIdentifier("file:///notes/e.md")))
        await s.complete("file:///notes/e.md", 0, len(TYPED))
    warnings = "\n".join(s.warnings())
    assert "no-such-model" in warnings and "cannot be loaded" in warnings
    assert "candidates" in warnings and "learnOnSave" in warnings and "'colour'" in warnings
    assert result is not None and len(result.items) == 5  # the default
    assert not (tmp_path / "data" / "documents" / "e.md").exists()  # learnOnSave stayed off


async def test_a_model_folder_by_path(tmp_path: Path, tiny_model_dir: Path) -> None:
    text = "The teacher reads the rep"
    async with lsp_server(tmp_path, {"model": str(tiny_model_dir), "candidates": 3}) as s:
        s.open("file:///notes/f.md", text)
        result = await s.complete("file:///notes/f.md", 0, len(text))
    assert not s.warnings()
    expected = Predictor(load_model(tiny_model_dir)).suggest(text, 3, phrase=False).words
    assert result is not None and [i.label for i in result.items] == [c.word for c in expected]
    assert "report" in [i.label for i in result.items]
