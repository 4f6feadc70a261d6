"""Bad input never silences the server: invalid params get an error reply, a bad frame costs only itself, stale
completions do not queue, and ``shutdown``/``exit`` end it cleanly. A raw client over the server's stdio."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).parents[1]


class RawClient:
    """Content-Length framed JSON-RPC over a subprocess's pipes, nothing more (so any bytes can be sent)."""

    def __init__(self, home: Path, model: Path) -> None:
        env = {**os.environ, "ASSISTANT_HOME": str(home), "ASSISTANT_BASE_MODEL": str(model)}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "assistant", "lsp"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=ROOT,
            env=env,
        )
        self.messages: queue.Queue[dict[str, Any]] = queue.Queue()
        self.stderr: list[str] = []
        self.skipped: list[dict[str, Any]] = []
        """Messages :meth:`reply` passed over (notifications, other replies)."""
        threading.Thread(target=self._read, daemon=True).start()
        self._errors = threading.Thread(target=self._read_stderr, daemon=True)
        self._errors.start()

    def _read_stderr(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.stderr.append(line.decode("utf-8", "replace").rstrip("\n"))

    def stderr_lines(self) -> list[str]:
        """Everything the server wrote on stderr (complete once it has exited)."""
        self._errors.join(timeout=30)
        return self.stderr

    def _read(self) -> None:
        assert self.proc.stdout is not None
        while True:
            length = 0
            while (line := self.proc.stdout.readline()) not in (b"\r\n", b""):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            if not length:
                return
            self.messages.put(json.loads(self.proc.stdout.read(length)))

    def send(self, message: dict[str, Any]) -> None:
        self.send_raw(frame(message))

    def send_raw(self, data: bytes) -> None:
        """Bytes as they are, in one write (under the pipe's atomic size, the server reads them all at once)."""
        assert self.proc.stdin is not None
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def reply(self, request_id: int, timeout: float = 30) -> dict[str, Any]:
        """The response to ``request_id`` (notifications and other messages are skipped); fails on silence."""
        while True:
            try:
                message = self.messages.get(timeout=timeout)
            except queue.Empty:
                raise AssertionError(f"no reply to request {request_id} in {timeout} s") from None
            if message.get("id") == request_id and "method" not in message:
                return message
            self.skipped.append(message)

    def close(self) -> int:
        """``shutdown`` then ``exit``; the exit status."""
        if self.proc.poll() is None:
            self.send({"id": 999, "method": "shutdown"})
            self.reply(999)
            self.send({"method": "exit"})
        try:
            return self.proc.wait(timeout=30)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()

    def start(self, options: dict[str, Any] | None = None, text: str = "The cat sat on the") -> None:
        """``initialize`` (with ``options``), ``initialized``, and open ``file:///n.txt`` with ``text``."""
        params = {"processId": None, "rootUri": None, "capabilities": {}, "initializationOptions": options}
        self.send({"id": 1, "method": "initialize", "params": params})
        assert "result" in self.reply(1)
        self.send({"method": "initialized", "params": {}})
        doc = {"uri": URI, "languageId": "plaintext", "version": 1, "text": text}
        self.send({"method": "textDocument/didOpen", "params": {"textDocument": doc}})


URI = "file:///n.txt"


def frame(message: dict[str, Any], length_error: int = 0) -> bytes:
    """One framed message (``length_error`` added to its true Content-Length)."""
    body = json.dumps({"jsonrpc": "2.0", **message}).encode()
    return b"Content-Length: %d\r\n\r\n" % (len(body) + length_error) + body


@pytest.fixture
def client(tmp_path: Path, tiny_model_dir: Path):
    c = RawClient(tmp_path / "home", tiny_model_dir)
    c.start()
    yield c
    c.close()


@pytest.mark.parametrize(
    "params",
    [
        {"textDocument": {"uri": "file:///n.txt"}, "position": {"line": -1, "character": 0}},
        {"textDocument": {"uri": "file:///n.txt"}, "position": {"line": 0, "character": 2**31}},
        None,
    ],
)
@pytest.mark.parametrize("method", ["textDocument/completion", "textDocument/inlineCompletion"])
def test_invalid_params_get_an_error_reply(client: RawClient, method: str, params: Any) -> None:
    if params is not None and method.endswith("inlineCompletion"):
        params = {**params, "context": {"triggerKind": 1}}
    client.send({"id": 7, "method": method, "params": params})
    answer = client.reply(7, timeout=10)
    assert answer["error"]["code"] == -32602 and "invalid params" in answer["error"]["message"], answer
    client.send(
        {
            "id": 8,
            "method": "textDocument/completion",
            "params": {"textDocument": {"uri": "file:///n.txt"}, "position": {"line": 0, "character": 18}},
        }
    )
    assert "result" in client.reply(8)  # and the server goes on serving


def completion(request_id: int, character: int, line: int = 0) -> dict[str, Any]:
    position = {"line": line, "character": character}
    return {
        "id": request_id,
        "method": "textDocument/completion",
        "params": {"textDocument": {"uri": URI}, "position": position},
    }


def change(version: int, character: int, text: str, removed: int = 0) -> dict[str, Any]:
    """Replace ``removed`` characters at ``character`` on line 0 by ``text``."""
    edit = {
        "range": {"start": {"line": 0, "character": character}, "end": {"line": 0, "character": character + removed}}
    }
    params = {"textDocument": {"uri": URI, "version": version}, "contentChanges": [{**edit, "text": text}]}
    return {"method": "textDocument/didChange", "params": params}


@pytest.fixture
def start(tmp_path: Path, tiny_model_dir: Path):
    """Start servers (``start(options)``); each is shut down at the end if still running."""
    clients: list[RawClient] = []

    def make(options: dict[str, Any] | None = None, text: str = "The cat sat on the") -> RawClient:
        c = RawClient(tmp_path / f"home{len(clients)}", tiny_model_dir)
        clients.append(c)
        c.start(options, text)
        return c

    yield make
    for c in clients:
        c.close()


def bad_lines(lines: list[str]) -> list[str]:
    return [line for line in lines if "bad message" in line]


def test_a_frame_one_byte_short_costs_only_itself(start) -> None:
    c = start()
    c.send_raw(frame(completion(5, 18), length_error=-1) + frame(completion(6, 18)))
    answer = c.reply(5, timeout=10)  # its id could be read: an error, not silence
    assert answer["error"]["code"] == -32700, answer
    assert c.reply(6, timeout=10)["result"]["items"]
    assert c.close() == 0  # shutdown is answered, exit is clean
    lines = c.stderr_lines()
    assert len(bad_lines(lines)) == 1 and "not JSON" in lines[0], lines
    assert not any("Traceback" in line for line in lines), lines


def test_a_bad_content_length_costs_only_its_frame(start) -> None:
    c = start()
    body = json.dumps({"jsonrpc": "2.0", **completion(5, 18)}).encode()
    c.send_raw(b"Content-Length: abc\r\n\r\n" + body + frame(completion(6, 18)))
    assert c.reply(6, timeout=10)["result"]["items"]
    c.send_raw(b"}garbage\r\n\r\n" + frame(completion(7, 18)))  # junk before a header
    assert c.reply(7, timeout=10)["result"]["items"]
    assert c.close() == 0
    lines = c.stderr_lines()
    assert len(bad_lines(lines)) == 2 and "Content-Length" in lines[0], lines
    assert not any("Traceback" in line for line in lines), lines


def test_invalid_params_leave_one_line_on_stderr(start) -> None:
    c = start()
    c.send({"id": 5, "method": "textDocument/completion", "params": None})
    assert c.reply(5, timeout=10)["error"]["code"] == -32602
    assert c.close() == 0
    lines = c.stderr_lines()
    assert len(lines) == 1 and "invalid params" in lines[0], lines


def test_shutdown_and_exit_are_clean(start) -> None:
    """Neovim's ``:wq`` (issue 18 item 16): shutdown, exit, status 0 and nothing on stderr."""
    c = start()
    c.send_raw(frame(change(2, 18, " m")) + frame(completion(5, 20)))
    assert c.reply(5)["result"]["items"]
    assert c.close() == 0
    assert c.stderr_lines() == []


def test_exit_without_shutdown_has_status_1(start) -> None:
    c = start()
    c.send({"method": "exit"})
    assert c.proc.wait(timeout=30) == 1
    assert c.stderr_lines() == []


def test_a_completion_overtaken_by_an_edit_is_answered_empty_at_once(start) -> None:
    c = start()
    # One write, so the server reads all three together: the first completion's text has moved on.
    c.send_raw(frame(completion(5, 18)) + frame(change(2, 18, " m")) + frame(completion(6, 20)))
    assert c.reply(5)["result"] == {"isIncomplete": True, "items": []}
    items = c.reply(6)["result"]["items"]
    assert items and all(i["label"].startswith("m") for i in items)


def test_pipelined_keystrokes_are_all_answered_in_order_and_the_last_is_real(start) -> None:
    c = start(text="")
    typed = ("The cat sat on the mat and the dog sat on the log. " * 40)[:2000]
    data = b"".join(frame(change(i + 2, i, ch)) + frame(completion(100 + i, i + 1)) for i, ch in enumerate(typed))
    c.send_raw(data)
    ids = []
    while len(ids) < len(typed):
        message = c.messages.get(timeout=120)
        if "id" in message and "method" not in message:
            ids.append(message["id"])
            last = message
    assert ids == [100 + i for i in range(len(typed))]
    c.send(completion(9000, len(typed)))
    assert last["result"] == c.reply(9000)["result"]  # the newest keystroke got the real answer
    assert c.close() == 0
