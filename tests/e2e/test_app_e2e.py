"""End to end: the installed ``assistant`` command in a real terminal (tmux), typed into as a person would.

The app runs in a detached tmux session on a private server (its own socket, no user config), with a fixed window
size and ``TERM=xterm-256color``. The test types with ``send-keys``, reads the screen with ``capture-pane`` (with
``-e`` for the colours and styles), accepts the ghost text with Tab, quits with Ctrl+Q and reads the document that
the app left on disk.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

ASSISTANT = Path(sys.executable).parent / "assistant"
TMUX = shutil.which("tmux")
WIDTH, HEIGHT = 100, 30
DEADLINE_S = 30.0
"""How long any one thing may take to show up (the model load is the slowest, a few seconds on a busy CPU)."""

TYPED = "The meeting has been mov"
SHOWN = "The meeting has been moved"

pytestmark = [
    pytest.mark.skipif(TMUX is None, reason="tmux is not installed (CI installs it for this test)"),
    pytest.mark.skipif(not ASSISTANT.exists(), reason=f"the assistant command is not installed at {ASSISTANT}"),
]

_SGR = r"(?:\x1b\[[0-9;:]*m)"
GHOST_RE = re.compile(rf"mov({_SGR}+)e{_SGR}*d")
"""``mov`` and the ghost ``ed`` with at least one style change (SGR escape) between them (the blinking cursor
may be drawn on the ``e``, in a style of its own)."""


class Terminal:
    """A tmux server of its own with one session that runs ``command``; killed by :meth:`close`.

    The command's exit status goes to ``status_file`` (tmux's ``#{pane_dead_status}`` is not to be relied on: its
    3.3 server sometimes leaves the exited process a zombie, so the pane is dead without a status).
    """

    def __init__(self, command: list[str], status_file: Path) -> None:
        assert TMUX is not None
        self.status_file = status_file
        self.base = [TMUX, "-L", f"assistant-e2e-{os.getpid()}-{uuid.uuid4().hex[:8]}", "-f", os.devnull]
        self.target = "e2e"
        self.last_screen = ""
        self.tmux(
            "new-session", "-d", "-s", self.target, "-x", str(WIDTH), "-y", str(HEIGHT),
            shlex.join(["sh", "-c", f'{shlex.join(command)}; echo $? > {shlex.quote(str(status_file))}']),
            ";", "set-option", "-t", self.target, "remain-on-exit", "on",
        )  # fmt: skip
        self.socket = Path(self.pane("#{socket_path}"))

    def tmux(self, *args: str) -> str:
        done = subprocess.run([*self.base, *args], capture_output=True, text=True, timeout=10, check=False)
        if done.returncode != 0:
            raise AssertionError(f"tmux {' '.join(args)} failed: {done.stderr.strip()}\n{self.describe()}")
        return done.stdout

    def screen(self, styles: bool = False) -> str:
        """What the pane shows now (with ``styles``, the SGR escapes too)."""
        text = self.tmux("capture-pane", "-p", *(["-e"] if styles else []), "-t", self.target)
        if not styles:
            self.last_screen = text
        return text

    def send_text(self, text: str) -> None:
        self.tmux("send-keys", "-t", self.target, "-l", text)

    def send_key(self, key: str) -> None:
        self.tmux("send-keys", "-t", self.target, key)

    def pane(self, fmt: str) -> str:
        return self.tmux("display-message", "-p", "-t", self.target, fmt).strip()

    def wait_for(self, what: str, ready: Callable[[str], bool], deadline_s: float = DEADLINE_S) -> str:
        """Poll the screen until ``ready(screen)``; fail with the last screen after ``deadline_s``."""
        end = time.monotonic() + deadline_s
        while True:
            screen = self.screen()
            if ready(screen):
                return screen
            if time.monotonic() > end:
                raise AssertionError(f"timed out after {deadline_s:.0f} s waiting for {what}\n{self.describe()}")
            time.sleep(0.1)

    def wait_exit(self, deadline_s: float = DEADLINE_S) -> int:
        """Wait until the command in the pane has exited; its exit status."""
        end = time.monotonic() + deadline_s
        while True:
            written = self.status_file.read_text() if self.status_file.exists() else ""
            if written.endswith("\n"):
                return int(written)
            if time.monotonic() > end:
                self.screen()
                raise AssertionError(f"the app did not exit within {deadline_s:.0f} s\n{self.describe()}")
            time.sleep(0.1)

    def describe(self) -> str:
        return f"last screen:\n{'-' * WIDTH}\n{self.last_screen.rstrip()}\n{'-' * WIDTH}"

    def close(self) -> None:
        subprocess.run([*self.base, "kill-server"], capture_output=True, timeout=10, check=False)
        self.socket.unlink(missing_ok=True)  # tmux 3.3 leaves it behind


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def terminal(home: Path, tmp_path: Path) -> Iterator[Terminal]:
    """The assistant app started in a fresh tmux terminal, with ``home`` as ASSISTANT_HOME."""
    # tmux hands the test process's environment on, and COLUMNS/LINES there (80/24 under pytest, as seen on Linux)
    # would override the window size; NO_COLOR would drop the styles that tell ghost text from typed text.
    unset = [arg for name in ("NO_COLOR", "COLUMNS", "LINES") for arg in ("-u", name)]
    command = ["env", *unset, f"ASSISTANT_HOME={home}", "TERM=xterm-256color", "COLORTERM=", str(ASSISTANT)]
    term = Terminal(command, tmp_path / "exit_status")
    try:
        term.wait_for("the model to load ('model base' in the status line)", lambda s: "model base" in s)
        yield term
    finally:
        term.close()


def wait_for_file(path: Path, content: str, deadline_s: float = DEADLINE_S) -> None:
    end = time.monotonic() + deadline_s
    while not (path.exists() and path.read_text(encoding="utf-8") == content):
        if time.monotonic() > end:
            found = path.read_text(encoding="utf-8") if path.exists() else "(no file)"
            raise AssertionError(f"{path} should hold {content!r}, holds {found!r}")
        time.sleep(0.1)


def line_with(screen: str, text: str) -> str:
    return next((line for line in screen.splitlines() if text in line), "")


def test_type_see_ghost_text_accept_it_quit_and_find_the_document(terminal: Terminal, home: Path) -> None:
    document = home / "data" / "documents" / "Untitled"

    terminal.send_text(TYPED)
    terminal.wait_for(f"the ghost text: {SHOWN!r} on screen", lambda s: SHOWN in s)
    wait_for_file(document, TYPED)  # autosaved: the "ed" on screen is not in the text

    styled = line_with(terminal.screen(styles=True), "The meeting has been")
    match = GHOST_RE.search(styled)
    assert match, f"the ghost 'ed' should be drawn in another style than 'mov': {styled!r}\n{terminal.describe()}"
    assert SHOWN not in styled, f"'moved' should not be drawn in one style: {styled!r}"

    terminal.send_key("Tab")
    # Accepted: "moved" is now typed text, drawn in one style (whatever ghost follows comes after the space).
    terminal.wait_for(
        f"{SHOWN!r} drawn as typed text after Tab",
        lambda _: SHOWN in line_with(terminal.screen(styles=True), "The meeting has been"),
    )

    terminal.send_key("C-q")
    status = terminal.wait_exit()
    assert status == 0, f"the app exited with status {status}\n{terminal.describe()}"
    assert document.read_text(encoding="utf-8") == SHOWN + " "


def test_alt_digit_from_a_real_terminal_picks_that_candidate(terminal: Terminal, home: Path) -> None:
    # tmux sends Alt+2 as ESC 2, as xterm does; the app must take it as "candidate 2", not type a character.
    terminal.send_text(TYPED)
    screen = terminal.wait_for("the suggestion bar", lambda s: re.search(r"\b1 moved\b", s) is not None)
    second = re.search(r"\b2 (\w+)", line_with(screen, "1 moved"))
    assert second, f"no second candidate on the bar\n{terminal.describe()}"
    terminal.send_key("M-2")
    expected = f"The meeting has been {second.group(1)} "
    terminal.wait_for(f"{expected!r} after Alt+2", lambda s: expected.rstrip() in s)
    terminal.send_key("C-q")
    assert terminal.wait_exit() == 0
    assert (home / "data" / "documents" / "Untitled").read_text(encoding="utf-8") == expected
