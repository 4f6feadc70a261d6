"""Requests with invalid params get a JSON-RPC error reply, never silence: a raw client over the server's stdio."""

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
            [sys.executable, "-m", "assistant", "lsp"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=ROOT, env=env
        )
        self.messages: queue.Queue[dict[str, Any]] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

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
        body = json.dumps({"jsonrpc": "2.0", **message}).encode()
        assert self.proc.stdin is not None
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
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

    def close(self) -> None:
        self.send({"id": 999, "method": "shutdown"})
        self.reply(999)
        self.send({"method": "exit"})
        self.proc.wait(timeout=30)
        if self.proc.poll() is None:
            self.proc.kill()


@pytest.fixture
def client(tmp_path: Path, tiny_model_dir: Path):
    c = RawClient(tmp_path / "home", tiny_model_dir)
    c.send({"id": 1, "method": "initialize", "params": {"processId": None, "rootUri": None, "capabilities": {}}})
    assert "result" in c.reply(1)
    c.send({"method": "initialized", "params": {}})
    doc = {"uri": "file:///n.txt", "languageId": "plaintext", "version": 1, "text": "The cat sat on the"}
    c.send({"method": "textDocument/didOpen", "params": {"textDocument": doc}})
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
