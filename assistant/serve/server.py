"""``assistant lsp``: a language server (pygls, stdio) offering word completion and phrase ghost text.

One decorated function per LSP method: find the document, ask its predictor, convert, return ``None`` when there
is nothing to offer. Conversions live in :mod:`assistant.serve.positions` and :mod:`assistant.serve.items`.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable, Iterator
from typing import Any

from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pygls.lsp.server import LanguageServer
from pygls.protocol.language_server import LanguageServerProtocol, lsp_method

from assistant import __version__
from assistant.personal import PhraseSettings
from assistant.personal.models import PERSONAL, Model, use_threads
from assistant.personal.space import UserSpace
from assistant.serve.documents import OpenDocument
from assistant.serve.items import completion_list, inline_list
from assistant.serve.learning import learn
from assistant.serve.options import Options, parse_options
from assistant.serve.positions import UTF16
from assistant.serve.stdio import Inbox, document_of, serve
from assistant.store.documents import StoreError

log = logging.getLogger(__name__)


class _Protocol(LanguageServerProtocol):
    """pygls's protocol, minus its own copy of each document's text on ``didChange``.

    The server keeps the text itself (:class:`OpenDocument`, LSP line breaks only); pygls's copy would cost a
    per-character conversion of the edited line on every keystroke for nothing.
    """

    def structure_message(self, data: dict[str, Any]) -> Any:
        """pygls's, plus an error reply to a request whose params do not fit its method (``line: -1``,
        ``character: 2**31``, ``params: null``): pygls raises before it knows the id, so the client waited."""
        try:
            return super().structure_message(data)
        except JsonRpcException as exc:
            if isinstance(data, dict) and "id" in data and "method" in data:
                detail = f"invalid params for {data['method']}: {exc.__cause__ or exc}"
                self._send_response(data["id"], error=types.ResponseError(code=exc.code, message=detail))
            raise

    @lsp_method(types.TEXT_DOCUMENT_DID_CHANGE)
    def lsp_text_document__did_change(self, params: types.DidChangeTextDocumentParams) -> Iterator[Any]:
        if (handler := self.fm.features.get(types.TEXT_DOCUMENT_DID_CHANGE)) is not None:
            yield handler, (params,), None


class AssistantServer(LanguageServer):
    """The server's state: options, the user's space, the shared model, and the open documents."""

    def __init__(self) -> None:
        super().__init__(
            "assistant",
            __version__,
            text_document_sync_kind=types.TextDocumentSyncKind.Incremental,
            protocol_cls=_Protocol,
        )
        self.options = Options()
        self.space: UserSpace | None = None
        self.model: Model | None = None
        """The model every open document's predictor runs (loaded at ``initialize``)."""
        self.phrase = PhraseSettings()
        self.documents: dict[str, OpenDocument] = {}
        self.pending: list[str] = []
        """Warnings from ``initialize``, sent to the client once it is ``initialized``."""
        self.inbox = Inbox()
        """Edits read from the client and not yet applied: a request for a document with one is out of date."""
        self.asked: str | None = None
        """The document suggestions were last asked for (the one :meth:`idle` works ahead on)."""

    def idle(self) -> bool:
        """Between messages: one bounded piece of work ahead on the document last asked about (its predictor
        learns it and reads its next read window ahead, ``Predictor.idle``); True if it did some."""
        doc = self.documents.get(self.asked or "")
        return doc is not None and doc.predictor.idle()

    def overtaken(self, uri: str) -> bool:
        """Whether the client has edited ``uri`` after the request being answered (it gets an empty answer at
        once, so the newest keystroke never waits behind stale ones)."""
        return self.inbox.behind(uri)

    def hold(self, data: Any) -> tuple[float, Callable[[], bool]] | None:
        """For a raw message: None to handle it now; for a suggestion request while ``debounceMs`` is set, the
        wait and a check, after it, that no edit came meanwhile (else it is answered empty)."""
        if self.options.debounce_ms <= 0 or not isinstance(data, dict) or "id" not in data:
            return None
        method, params = data.get("method"), data.get("params")
        if method not in SUGGESTIONS or not isinstance(params, dict):
            return None
        context = params.get("context")
        if (
            method == types.TEXT_DOCUMENT_INLINE_COMPLETION
            and isinstance(context, dict)
            and context.get("triggerKind") == 1
        ):
            return None  # asked for: answered now
        doc = self.documents.get(document_of(data) or "")
        if doc is None:
            return None
        edits = doc.edits
        return self.options.debounce_ms / 1000, lambda: doc.edits == edits and not self.overtaken(doc.uri)

    @property
    def encoding(self) -> str:
        """The position encoding agreed at ``initialize`` (UTF-16 unless the client offered another)."""
        encoding = self.workspace.position_encoding or UTF16
        return str(getattr(encoding, "value", encoding))

    def warn(self, message: str) -> None:
        """Tell the user (a message) and the client's log."""
        log.warning("%s", message)
        text = f"assistant: {message}"
        self.window_log_message(types.LogMessageParams(type=types.MessageType.Warning, message=text))
        self.window_show_message(types.ShowMessageParams(type=types.MessageType.Warning, message=text))


SUGGESTIONS = {types.TEXT_DOCUMENT_COMPLETION, types.TEXT_DOCUMENT_INLINE_COMPLETION}
"""Requests the timing options apply to."""
NOTHING_YET = types.CompletionList(is_incomplete=True, items=[])
"""The answer to a completion request that is out of date or not wanted now (incomplete: ask again)."""
NO_GHOST = types.InlineCompletionList(items=[])


def empty_answer(data: Any) -> Any:
    """The empty answer for a raw suggestion request (as JSON)."""
    if data.get("method") == types.TEXT_DOCUMENT_COMPLETION:
        return {"isIncomplete": True, "items": []}
    return {"items": []}


server = AssistantServer()


@server.feature(types.INITIALIZE)
def initialize(ls: AssistantServer, params: types.InitializeParams) -> None:
    from assistant.store.paths import Paths
    from assistant.store.settings import Settings

    settings = Settings.load(Paths.default().config)
    defaults = Options(candidates=settings.suggest.words)
    ls.options, warnings = parse_options(params.initialization_options, defaults)
    ls.phrase = PhraseSettings(phrase_threshold=settings.suggest.phrase_threshold)
    ls.space = UserSpace.default()
    ls.model, model_warnings = ls.space.choose(ls.options.model)
    ls.pending = [*settings.problems, *warnings, *model_warnings]
    log.info("model %s, options %s", ls.model.name, ls.options)


@server.feature(types.INITIALIZED)
def initialized(ls: AssistantServer, params: types.InitializedParams) -> None:
    for message in ls.pending:
        ls.warn(message)
    ls.pending = []


@server.feature(types.TEXT_DOCUMENT_DID_OPEN)
def did_open(ls: AssistantServer, params: types.DidOpenTextDocumentParams) -> None:
    if ls.space is not None and ls.model is not None:
        doc = params.text_document
        ls.documents[doc.uri] = OpenDocument(doc.uri, doc.text, ls.space.predictor(ls.model, ls.phrase))


@server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
def did_change(ls: AssistantServer, params: types.DidChangeTextDocumentParams) -> None:
    doc = ls.documents.get(params.text_document.uri)
    if doc is not None:
        doc.edit(params.content_changes, ls.encoding)


@server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
def did_close(ls: AssistantServer, params: types.DidCloseTextDocumentParams) -> None:
    ls.documents.pop(params.text_document.uri, None)


@server.feature(types.TEXT_DOCUMENT_DID_SAVE, types.SaveOptions(include_text=False))
def did_save(ls: AssistantServer, params: types.DidSaveTextDocumentParams) -> None:
    doc = ls.documents.get(params.text_document.uri)
    if not ls.options.learn_on_save or doc is None or ls.space is None or not doc.text.strip():
        return
    try:
        name = learn(doc.uri, doc.text, ls.space)
    except (OSError, StoreError) as exc:
        ls.warn(f"could not learn from {doc.uri}: {exc}")
        return
    message = f"assistant: stored {doc.uri} as document {name!r} for your personal model"
    ls.window_log_message(types.LogMessageParams(type=types.MessageType.Info, message=message))


@server.feature(
    types.TEXT_DOCUMENT_COMPLETION,
    types.CompletionOptions(resolve_provider=False, trigger_characters=[" "]),  # after a space: the next word
)
def completion(ls: AssistantServer, params: types.CompletionParams) -> types.CompletionList | None:
    follow_active_model(ls)
    doc = ls.documents.get(params.text_document.uri)
    if doc is None:
        return None
    if ls.overtaken(doc.uri) or (ls.options.on_demand and _by_trigger_character(params)):
        return NOTHING_YET
    cursor, result = doc.suggest(params.position, ls.options.candidates, phrase=False, encoding=ls.encoding)
    ls.asked = doc.uri
    if len(result.prefix) < ls.options.min_chars:
        return NOTHING_YET
    return completion_list(cursor, result, ls.encoding)


@server.feature(types.TEXT_DOCUMENT_INLINE_COMPLETION, types.InlineCompletionOptions())
def inline_completion(ls: AssistantServer, params: types.InlineCompletionParams) -> types.InlineCompletionList | None:
    follow_active_model(ls)
    doc = ls.documents.get(params.text_document.uri)
    if doc is None:
        return None
    automatic = params.context.trigger_kind != types.InlineCompletionTriggerKind.Invoked
    unwanted = ls.options.on_demand or (doc.deleted and not ls.options.after_delete)
    if ls.overtaken(doc.uri) or (automatic and unwanted):
        return NO_GHOST
    cursor, result = doc.suggest(params.position, ls.options.candidates, phrase=True, encoding=ls.encoding)
    ls.asked = doc.uri
    return inline_list(cursor, result, ls.encoding)


def _by_trigger_character(params: types.CompletionParams) -> bool:
    """Whether a completion request came from typing a trigger character (not from the user asking)."""
    kind = params.context.trigger_kind if params.context is not None else None
    return kind == types.CompletionTriggerKind.TriggerCharacter


class _OneLine(logging.Filter):
    """pygls logs a traceback for each message it cannot structure; the loop reports those in one line."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Unable to deserialize message")


def follow_active_model(ls: AssistantServer) -> None:
    """Reload hook, before a request (at most one ``stat`` a second): when another process made another version
    active (a fine-tune, a rollback, a reset), every open document's predictor runs it from now on."""
    if ls.space is None or ls.options.model != PERSONAL or not ls.space.model_changed():
        return
    ls.model, warnings = ls.space.choose(PERSONAL)
    for message in warnings:
        ls.warn(message)
    for doc in ls.documents.values():
        doc.predictor = ls.space.predictor(ls.model, ls.phrase)
    log.info("model %s is active now", ls.model.name)


def run() -> int:
    """Serve on standard input and output until the client says ``exit``; the exit status is 0 after
    ``shutdown`` (LSP's rule).

    The protocol writes to its own copy of standard output, and file descriptor 1 then points at standard error:
    closing the protocol at ``exit`` leaves ``sys.stdout`` open for the command line's last flush, and a stray
    ``print`` in a library cannot corrupt the stream."""
    use_threads(1)
    logging.basicConfig(level=logging.WARNING, format="assistant lsp: %(levelname)s: %(message)s")
    logging.getLogger("pygls.protocol.json_rpc").addFilter(_OneLine())
    sys.stdout.flush()
    out = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    return serve(
        server.protocol, server.inbox, sys.stdin.buffer, out, hold=server.hold, empty=empty_answer, idle=server.idle
    )
