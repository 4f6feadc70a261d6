"""Driving the real writing app in tests and benchmarks: user folders, typing, waiting for suggestions."""

from __future__ import annotations

import time
from collections.abc import Callable

from textual.pilot import Pilot

from assistant.app.app import WriterApp


async def wait_until(pilot: Pilot, condition: Callable[[], bool], timeout: float = 20.0, what: str = "") -> None:
    """Let the app run until ``condition()`` holds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or condition}")
        await pilot.pause(0.01)


def answered(app: WriterApp) -> bool:
    """True when the suggestions on screen answer the current text and cursor."""
    editor = app.editor
    return app.shown_key == (editor.text_version, editor.selection)


async def started(pilot: Pilot, app: WriterApp, timeout: float = 20.0) -> None:
    """Wait for the main screen's widgets (the app's ``ready`` may come before its screen is composed)."""
    await wait_until(pilot, lambda: bool(app.main.query("#editor")), timeout, "the main screen")


async def settle(pilot: Pilot, app: WriterApp, timeout: float = 20.0) -> None:
    """Wait for the model, then for the suggestions of the current text and cursor."""
    await started(pilot, app, timeout)
    await wait_until(pilot, lambda: app.service.ready, timeout, "the model")
    await wait_until(pilot, lambda: answered(app), timeout, "suggestions")
    await pilot.pause()


def busy_workers(app: WriterApp) -> list[str]:
    """Names of the app's workers still pending or running (saves, imports, the model; suggestions are answered
    on the suggestion service's own thread: ``app.service.pending``)."""
    return [w.name for w in app.workers if not w.is_finished]


async def quiet(pilot: Pilot, app: WriterApp, timeout: float = 20.0) -> None:
    """Settle, then wait until no worker is left and the screen has drawn everything: the moment to capture it."""
    await settle(pilot, app, timeout)
    await wait_until(pilot, lambda: not busy_workers(app), timeout, "the app's workers")
    await wait_until(pilot, lambda: answered(app), timeout, "suggestions")
    await pilot.wait_for_scheduled_animations()
    await pilot.pause()


async def type_text(pilot: Pilot, text: str) -> None:
    """Press the key of each character."""
    for ch in text:
        await pilot.press("enter" if ch == "\n" else ch)
