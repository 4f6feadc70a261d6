"""Pipelined keystrokes through the language server: how long until the newest one is answered.

    python benchmarks/lsp_pipelined.py [--keys 2000] [--server-root DIR ...]

Sends ``--keys`` didChange + completion pairs in one write over a raw JSON-RPC pipe (as a client that types faster
than the server answers) and reports the seconds until the last completion's reply, and how many replies were
empty (stale requests answered at once). ``--server-root`` also runs another checkout's server (main's, unpacked
with ``git archive``), one after the other in the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
URI = "file:///pipelined.txt"
TEXT = "The meeting has been moved to Thursday afternoon because the room was taken. "


def frame(message: dict[str, Any]) -> bytes:
    body = json.dumps({"jsonrpc": "2.0", **message}).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def run(root: Path, keys: int) -> tuple[float, int, int]:
    """Seconds until the newest keystroke's reply, replies, empty replies."""
    home = tempfile.mkdtemp(prefix="lsp-pipelined-")
    env = {**os.environ, "PYTHONPATH": str(root), "ASSISTANT_HOME": home}
    proc = subprocess.Popen(
        [sys.executable, "-m", "assistant", "lsp"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        cwd=root,
        env=env,
    )
    assert proc.stdin is not None and proc.stdout is not None
    replies: dict[int, tuple[float, dict[str, Any]]] = {}
    arrived = threading.Condition()

    def read() -> None:
        assert proc.stdout is not None
        while True:
            length = 0
            while (line := proc.stdout.readline()) not in (b"\r\n", b""):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            if not length:
                return
            message = json.loads(proc.stdout.read(length))
            if "id" in message and "method" not in message:
                with arrived:
                    replies[message["id"]] = (time.perf_counter(), message)
                    arrived.notify_all()

    def wait_for(request_id: int) -> None:
        with arrived:
            arrived.wait_for(lambda: request_id in replies)

    def send(data: bytes) -> None:
        assert proc.stdin is not None
        proc.stdin.write(data)
        proc.stdin.flush()

    threading.Thread(target=read, daemon=True).start()
    params = {"processId": None, "rootUri": None, "capabilities": {}, "initializationOptions": {"model": "base"}}
    send(frame({"id": 0, "method": "initialize", "params": params}))
    wait_for(0)
    send(frame({"method": "initialized", "params": {}}))
    doc = {"uri": URI, "languageId": "plaintext", "version": 1, "text": ""}
    send(frame({"method": "textDocument/didOpen", "params": {"textDocument": doc}}))
    typed = (TEXT * (keys // len(TEXT) + 1))[:keys]
    data = bytearray()
    for i, ch in enumerate(typed):
        here = {"line": 0, "character": i}
        change = {"range": {"start": here, "end": here}, "text": ch}
        data += frame(
            {
                "method": "textDocument/didChange",
                "params": {"textDocument": {"uri": URI, "version": i + 2}, "contentChanges": [change]},
            }
        )
        position = {"line": 0, "character": i + 1}
        request = {"textDocument": {"uri": URI}, "position": position}
        data += frame({"id": 10 + i, "method": "textDocument/completion", "params": request})
    start = time.perf_counter()
    send(bytes(data))
    last = 10 + len(typed) - 1
    wait_for(last)
    seconds = replies[last][0] - start
    answered = [m for k, (_, m) in replies.items() if k >= 10]
    empty = sum(1 for m in answered if not (m.get("result") or {}).get("items"))
    send(frame({"id": 1, "method": "shutdown"}) + frame({"method": "exit"}))
    proc.wait(timeout=120)
    return seconds, len(answered), empty


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keys", type=int, default=2000)
    parser.add_argument("--server-root", type=Path, action="append", default=[])
    args = parser.parse_args(argv)
    for root in [ROOT, *args.server_root]:
        seconds, answered, empty = run(root, args.keys)
        print(f"{root}: newest keystroke answered after {seconds:.2f} s; {answered} replies, {empty} empty")
    return 0


if __name__ == "__main__":
    sys.exit(main())
