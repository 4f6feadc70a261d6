"""Work between messages: the server's loop calls its idle hook after each batch, again while it does work, and
a message that arrives meanwhile is served first; the server's hook makes the document's predictor learn."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

from pygls.lsp.server import LanguageServer

from assistant.engine.dynamic import DynamicSettings
from assistant.engine.predictor import Predictor
from assistant.lm.io import load_model
from assistant.serve.documents import OpenDocument
from assistant.serve.server import AssistantServer
from assistant.serve.stdio import Inbox, serve
from tests.support.lsp_raw import frame


def wait_for(check, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def test_the_loop_works_between_messages_and_stops_when_there_is_nothing_left() -> None:
    ls = LanguageServer("idle-test", "0")
    seen: list[str] = []

    @ls.feature("custom/mark")
    def mark(server: LanguageServer, params: object) -> None:
        seen.append("message")

    budget = {"pieces": 3}

    def idle() -> bool:
        if budget["pieces"] <= 0:
            return False
        budget["pieces"] -= 1
        seen.append("work")
        if len(seen) == 2:
            raise RuntimeError("a bug in the idle work")  # serving goes on
        return True

    stdin_r, stdin_w = os.pipe()
    stdout_r, stdout_w = os.pipe()
    with open(stdin_r, "rb") as stdin, open(stdout_w, "wb") as stdout:
        thread = threading.Thread(target=serve, args=(ls.protocol, Inbox(), stdin, stdout), kwargs={"idle": idle})
        thread.start()
        try:
            os.write(stdin_w, frame({"method": "custom/mark", "params": {}}))
            assert wait_for(lambda: seen == ["message", "work"])  # its failure ended that round of work
            time.sleep(0.2)
            assert seen == ["message", "work"]
            os.write(stdin_w, frame({"method": "custom/mark", "params": {}}))
            assert wait_for(lambda: seen == ["message", "work", "message", "work", "work"])
            budget["pieces"] = 0
            time.sleep(0.2)
            assert seen.count("work") == 3  # no work left: the loop waits for the next message
        finally:
            os.close(stdin_w)
            thread.join(timeout=20)
    os.close(stdout_r)
    assert not thread.is_alive()


def test_the_servers_idle_work_makes_the_asked_documents_predictor_learn(tiny_model_dir: Path) -> None:
    lm = load_model(tiny_model_dir)
    server = AssistantServer()
    text = "Zorblax quintessa velmorun tarquin. " * 6
    predictor = Predictor(lm, dynamic=DynamicSettings(learning_rate=0.5, chunk=8, max_steps=2))
    server.documents["file:///a.txt"] = OpenDocument("file:///a.txt", text, predictor)
    assert not server.idle()  # nothing asked yet
    predictor.suggest(text)
    server.asked = "file:///a.txt"
    steps = 0
    while server.idle():
        steps += 1
    assert predictor.learner is not None and predictor.learner.steps >= 2 and steps >= 1
