"""The server's stdio loop: a thread frames standard input (:mod:`assistant.serve.framing`), the event loop
handles the messages in order, and the server can see which documents have edits still waiting to be applied.

Replaces pygls's ``start_io`` loop, which never recovered from a bad frame, printed a traceback for each, and read
one message at a time, so a completion could not know that the text had moved on after it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import threading
from collections import Counter
from collections.abc import Callable
from typing import Any, BinaryIO

from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pygls.io_ import StdoutWriter
from pygls.protocol import JsonRPCProtocol

from assistant.serve.framing import Framer, Message, Problem

log = logging.getLogger(__name__)

EDITS = {
    types.TEXT_DOCUMENT_DID_OPEN,
    types.TEXT_DOCUMENT_DID_CHANGE,
    types.TEXT_DOCUMENT_DID_CLOSE,
}
"""Notifications that change what a document's requests are answered from."""
READ_SIZE = 1 << 16


def document_of(data: Any) -> str | None:
    """The ``textDocument.uri`` of a raw message, if it has one."""
    params = data.get("params") if isinstance(data, dict) else None
    doc = params.get("textDocument") if isinstance(params, dict) else None
    uri = doc.get("uri") if isinstance(doc, dict) else None
    return uri if isinstance(uri, str) else None


def changes_nothing(data: dict[str, Any]) -> bool:
    """Whether ``data`` is a ``didChange`` that leaves the text as it was: no changes, or only empty insertions.

    Neovim 0.7 sends one right after a request when its debounce timer fired while the request flushed the same
    changes; it must not make that request out of date."""
    if data.get("method") != types.TEXT_DOCUMENT_DID_CHANGE:
        return False
    params = data.get("params")
    changes = params.get("contentChanges") if isinstance(params, dict) else None
    return isinstance(changes, list) and all(_empty_insertion(change) for change in changes)


def _empty_insertion(change: Any) -> bool:
    if not isinstance(change, dict) or change.get("text") != "":
        return False
    span = change.get("range")
    return isinstance(span, dict) and span.get("start") == span.get("end") and span.get("start") is not None


class Inbox:
    """Edits read from the client but not yet applied, per document (the reader thread counts them in, the
    event loop counts them out)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiting: Counter[str] = Counter()

    def arrived(self, data: Any) -> str | None:
        """Count ``data`` in if it edits a document; returns that document's uri."""
        if not isinstance(data, dict) or data.get("method") not in EDITS or "id" in data or changes_nothing(data):
            return None
        uri = document_of(data)
        if uri is not None:
            with self._lock:
                self._waiting[uri] += 1
        return uri

    def applied(self, uri: str) -> None:
        """One of ``uri``'s edits has been handled."""
        with self._lock:
            self._waiting[uri] -= 1
            if self._waiting[uri] <= 0:
                del self._waiting[uri]

    def behind(self, uri: str) -> bool:
        """Whether ``uri`` has an edit read after the message being handled now."""
        with self._lock:
            return self._waiting[uri] > 0


Hold = Callable[[Any], "tuple[float, Callable[[], bool]] | None"]
"""For a raw request: None to handle it now, or how long to hold it and a check, run after the wait, that says
whether it is still worth answering (else it gets the empty answer ``Empty``)."""
Empty = Callable[[Any], Any]
Idle = Callable[[], bool]
"""One bounded piece of work between messages; True if it did some (then it is called again)."""


def serve(
    protocol: JsonRPCProtocol,
    inbox: Inbox,
    stdin: BinaryIO,
    stdout: BinaryIO,
    hold: Hold | None = None,
    empty: Empty | None = None,
    idle: Idle | None = None,
) -> int:
    """Serve until ``exit`` (its status: 0 after ``shutdown``, else 1) or the end of input (0 after ``shutdown``).

    ``idle``: called between messages after each batch, again and again while it says it did some work; a
    message that arrives meanwhile is handled before its next call."""
    protocol.set_writer(StdoutWriter(stdout))
    try:
        asyncio.run(_main(protocol, inbox, stdin.fileno(), hold, empty, idle))
    except SystemExit as exc:  # pygls's ``exit`` handler
        return int(exc.code or 0)
    if protocol._shutdown:  # pygls keeps the flag there
        return 0
    log.warning("the client closed the connection without shutdown and exit")
    return 1


async def _main(
    protocol: JsonRPCProtocol, inbox: Inbox, fd: int, hold: Hold | None, empty: Empty | None, idle: Idle | None
) -> None:
    loop = asyncio.get_running_loop()
    ended = asyncio.Event()
    working = False

    def work() -> None:
        nonlocal working
        try:
            working = idle is not None and idle()
        except Exception:  # a bug in the idle work: serving goes on without it until the next message
            log.exception("the work between messages failed")
            working = False
        if working:
            loop.call_soon(work)  # after whatever the reader has queued meanwhile

    def handle(batch: list[tuple[Message | Problem, str | None]]) -> None:
        nonlocal working
        for item, uri in batch:
            if isinstance(item, Problem):
                problem(item)
                continue
            try:
                held = hold(item.data) if hold is not None else None
                if held is None:
                    dispatch(protocol, item.data)
                else:
                    delay, still = held
                    loop.call_later(delay, answer_held, item.data, still)
            except Exception:  # a bug in a handler pygls did not catch: the next messages still get served
                log.exception("could not handle %.80s", item.data)
            finally:
                if uri is not None:
                    inbox.applied(uri)
        if idle is not None and not working:
            working = True
            loop.call_soon(work)

    def answer_held(data: Any, still: Callable[[], bool]) -> None:
        if still() or empty is None:
            dispatch(protocol, data)
        else:
            protocol._send_response(data["id"], result=empty(data))

    def problem(p: Problem) -> None:
        log.warning("bad message from the client: %s", p.text)
        if p.request_id is not None:
            error = types.ResponseError(code=-32700, message=f"parse error: {p.text}")
            protocol._send_response(p.request_id, error=error)

    def read() -> None:
        framer = Framer()
        try:
            while chunk := os.read(fd, READ_SIZE):
                # Every edit in what was read is counted before any of it is handled: a request followed by an
                # edit of its document in the same read is known to be out of date.
                batch = [(m, inbox.arrived(m.data) if isinstance(m, Message) else None) for m in framer.feed(chunk)]
                if batch:
                    loop.call_soon_threadsafe(handle, batch)
        except OSError as exc:
            log.warning("cannot read from the client: %s", exc)
        finally:
            with contextlib.suppress(RuntimeError):  # the loop is already closed (after exit)
                loop.call_soon_threadsafe(ended.set)

    threading.Thread(target=read, name="lsp-reader", daemon=True).start()
    await ended.wait()


def dispatch(protocol: JsonRPCProtocol, data: Any) -> None:
    """Structure one raw message and hand it to pygls; a message that is not one leaves one line on stderr."""
    try:
        message = protocol.structure_message(data) if isinstance(data, dict) else None
    except JsonRpcException as exc:
        what = f"invalid params for {data.get('method')}" if exc.code == -32602 else "cannot read it"
        log.warning("bad message from the client: %s (%s)", what, _one_line(exc.__cause__ or exc))
        return
    if message is None or not hasattr(message, "jsonrpc"):
        log.warning("bad message from the client: not a JSON-RPC message: %.80s", data)
        return
    protocol.handle_message(message)


def _one_line(exc: BaseException) -> str:
    """An exception's message, first line only."""
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0]}" if text else type(exc).__name__
