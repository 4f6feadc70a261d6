"""Bad input never silences the server: invalid params get an error reply, a bad frame costs only itself, stale
completions do not queue, and ``shutdown``/``exit`` end it cleanly. A raw client over the server's stdio."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.support.lsp_raw import RawClient, change, completion, frame

ROOT = Path(__file__).parents[2]


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


def test_an_edit_that_changes_nothing_does_not_overtake_a_completion(start) -> None:
    """Neovim 0.7 can send a ``didChange`` with no changes right after a request (its debounce timer had fired
    while the request flushed the same changes): the request is still up to date."""
    c = start()
    nothing = change(3, 20, "")
    nothing["params"]["contentChanges"] = []
    c.send_raw(frame(change(2, 18, " m")) + frame(completion(5, 20)) + frame(nothing) + frame(change(3, 20, "")))
    items = c.reply(5)["result"]["items"]
    assert items and all(i["label"].startswith("m") for i in items)
    c.send_raw(frame(completion(6, 20)) + frame(change(4, 20, "a")))  # a real edit still overtakes it
    assert c.reply(6)["result"] == {"isIncomplete": True, "items": []}


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
