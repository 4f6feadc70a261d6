"""Raw JSON-RPC frames to the language server (for malformed input and pipelining)."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


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
