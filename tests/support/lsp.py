"""The real language server over stdio, driven by pygls's client."""

from __future__ import annotations

import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lsprotocol import types as t
from pygls.lsp.client import LanguageClient

ROOT = Path(__file__).resolve().parents[2]


def utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


@dataclass
class Session:
    """A started server, with the messages it sent and helpers for the requests the tests make."""

    client: LanguageClient
    init: t.InitializeResult
    messages: list[t.ShowMessageParams | t.LogMessageParams] = field(default_factory=list)
    _versions: dict[str, int] = field(default_factory=dict)

    def warnings(self) -> list[str]:
        return [m.message for m in self.messages if isinstance(m, t.ShowMessageParams)]

    def logs(self) -> list[str]:
        return [m.message for m in self.messages if isinstance(m, t.LogMessageParams)]

    def open(self, uri: str, text: str) -> None:
        self._versions[uri] = 1
        self.client.text_document_did_open(t.DidOpenTextDocumentParams(t.TextDocumentItem(uri, "markdown", 1, text)))

    def change(self, uri: str, start: tuple[int, int], end: tuple[int, int], text: str) -> None:
        self._versions[uri] += 1
        edit = t.TextDocumentContentChangePartial(range=t.Range(t.Position(*start), t.Position(*end)), text=text)
        doc = t.VersionedTextDocumentIdentifier(uri=uri, version=self._versions[uri])
        self.client.text_document_did_change(t.DidChangeTextDocumentParams(doc, [edit]))

    async def complete(self, uri: str, line: int, character: int) -> t.CompletionList | None:
        params = t.CompletionParams(t.TextDocumentIdentifier(uri), t.Position(line, character))
        result = await self.client.text_document_completion_async(params)
        assert result is None or isinstance(result, t.CompletionList)
        return result

    async def inline(self, uri: str, line: int, character: int) -> t.InlineCompletionList | None:
        params = t.InlineCompletionParams(
            context=t.InlineCompletionContext(t.InlineCompletionTriggerKind.Automatic),
            text_document=t.TextDocumentIdentifier(uri),
            position=t.Position(line, character),
        )
        result = await self.client.text_document_inline_completion_async(params)
        assert result is None or isinstance(result, t.InlineCompletionList)
        return result


@asynccontextmanager
async def lsp_server(home: Path, options: Any = None, encodings: list[str] | None = None) -> AsyncIterator[Session]:
    """``python -m assistant lsp`` with ``ASSISTANT_HOME=home``, initialized with ``options``."""
    client = LanguageClient("assistant-tests", "0")
    messages: list[t.ShowMessageParams | t.LogMessageParams] = []

    @client.feature(t.WINDOW_SHOW_MESSAGE)
    def on_show(params: t.ShowMessageParams) -> None:
        messages.append(params)

    @client.feature(t.WINDOW_LOG_MESSAGE)
    def on_log(params: t.LogMessageParams) -> None:
        messages.append(params)

    env = {**os.environ, "ASSISTANT_HOME": str(home)}
    await client.start_io(sys.executable, "-m", "assistant", "lsp", env=env, cwd=str(ROOT))
    capabilities = t.ClientCapabilities(general=t.GeneralClientCapabilities(position_encodings=encodings))
    params = t.InitializeParams(capabilities=capabilities, initialization_options=options, process_id=os.getpid())
    try:
        init = await client.initialize_async(params)
        client.initialized(t.InitializedParams())
        yield Session(client, init, messages)
        await client.shutdown_async(None)
        client.exit(None)
    finally:
        await client.stop()
