"""When the server suggests (``initializationOptions``): ``debounceMs``, ``afterDelete``, ``minChars``, ``onDemand``.

A raw JSON-RPC client (tests/test_lsp_invalid.py) drives the real server; each option is shown against the
default on the same keystrokes.
"""

from __future__ import annotations

from typing import Any

from tests.support.lsp_raw import URI, change, completion, frame

AUTOMATIC, INVOKED = 2, 1  # InlineCompletionTriggerKind


def inline(request_id: int, character: int, kind: int = AUTOMATIC) -> dict[str, Any]:
    params = {
        "textDocument": {"uri": URI},
        "position": {"line": 0, "character": character},
        "context": {"triggerKind": kind},
    }
    return {"id": request_id, "method": "textDocument/inlineCompletion", "params": params}


def by_space(request_id: int, character: int) -> dict[str, Any]:
    """A completion request that typing the trigger character (a space) sent."""
    message = completion(request_id, character)
    message["params"]["context"] = {"triggerKind": 2, "triggerCharacter": " "}
    return message


def ask(c: Any, *messages: dict[str, Any]) -> Any:
    """Send ``messages`` (edits, then one request last) and wait for the request's result; one message at a
    time, so no request is overtaken by a later edit."""
    for message in messages:
        c.send(message)
    return c.reply(messages[-1]["id"])["result"]


def test_min_chars_holds_the_menu_until_that_many_letters(start) -> None:
    default, strict = start(), start({"minChars": 2})
    for c in (default, strict):
        c.one = ask(c, change(2, 18, " m"), completion(5, 20))
        c.two = ask(c, change(3, 20, "a"), completion(6, 21))
    assert default.one["items"] and default.two["items"]
    assert strict.one == {"isIncomplete": True, "items": []}  # one letter: not yet
    assert strict.two["items"]  # two letters: the menu


def test_on_demand_answers_only_when_asked(start) -> None:
    c = start({"onDemand": True})
    assert ask(c, change(2, 18, " "), by_space(5, 19))["items"] == []
    assert ask(c, completion(7, 19))["items"]  # asked for (no trigger character)
    assert ask(c, change(3, 19, "m"), inline(6, 20, AUTOMATIC))["items"] == []
    assert ask(c, inline(8, 20, INVOKED))["items"]
    usual = start()
    assert ask(usual, change(2, 18, " "), by_space(5, 19))["items"]


def test_after_delete_false_shows_no_ghost_text_right_after_a_deletion(start) -> None:
    quiet, default = start({"afterDelete": False}), start()
    for c in (quiet, default):
        # backspace: "The cat sat on the m"
        c.deleted = ask(c, change(2, 18, " ma"), change(3, 20, "", removed=1), inline(5, 20))
        c.asked = ask(c, inline(6, 20, INVOKED))
        c.typed = ask(c, change(4, 20, "a"), inline(7, 21))
    assert quiet.deleted["items"] == []
    assert quiet.asked["items"]  # asked for: shown
    assert quiet.typed["items"]  # typing again: shown
    assert default.deleted["items"]


def test_debounce_answers_a_request_overtaken_while_it_waited_empty(start) -> None:
    c = start({"debounceMs": 300})
    assert ask(c, completion(5, 18))["items"]  # nothing comes after it: answered after the wait
    # The edit arrives within the wait (the same write): the held request is answered empty, the next for real.
    c.send_raw(frame(completion(6, 18)) + frame(change(2, 18, " m")))
    assert c.reply(6)["result"] == {"isIncomplete": True, "items": []}
    assert ask(c, completion(7, 20))["items"]
    # An edit that changes nothing (Neovim 0.7 can send one right after a request) does not end the wait empty.
    c.send(completion(8, 20))
    c.send(change(3, 20, ""))
    assert c.reply(8)["result"]["items"]


def test_bad_timing_options_are_reported_and_defaults_used(start) -> None:
    c = start({"debounceMs": -5, "minChars": "two", "onDemand": 1, "afterDelete": None})
    assert ask(c, completion(5, 18))["items"]  # the defaults: answered
    shown = [m["params"]["message"] for m in c.skipped if m.get("method") == "window/showMessage"]
    for key in ("debounceMs", "minChars", "onDemand", "afterDelete"):
        assert any(f"option {key} should be" in m for m in shown), shown
