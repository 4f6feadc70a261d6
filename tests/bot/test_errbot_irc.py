"""The Errbot plugin end to end over a real IRC server: miniircd on 127.0.0.1, Errbot's IRC backend in a child
process, and two people as plain IRC clients on sockets (the protocol is a few lines of text)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest

pytest.importorskip("irc")

from assistant.matrix.localserver import free_port

pytestmark = pytest.mark.slow

PLUGIN_DIR = Path(__file__).parents[2] / "plugins" / "errbot"
WAIT_S = 180.0
CHANNEL = "#team"


class IrcUser:
    """One person on the IRC server: every line received is kept."""

    everyone: ClassVar[list[IrcUser]] = []
    """Every client open: while one waits, the others read too (so none misses a ping)."""

    def __init__(self, port: int, nick: str) -> None:
        IrcUser.everyone.append(self)
        self.nick = nick
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=1)
        self.lines: list[str] = []
        self._buffer = b""
        self.send(f"NICK {nick}", f"USER {nick} 0 * :{nick}")
        self.wait(lambda line: " 001 " in line, "the welcome")
        self.send(f"JOIN {CHANNEL}")
        self.wait(lambda line: "JOIN" in line and line.startswith(f":{nick}!"), "joining")

    def send(self, *lines: str) -> None:
        self.sock.sendall("".join(line + "\r\n" for line in lines).encode())

    def say(self, text: str, to: str = CHANNEL) -> None:
        self.send(f"PRIVMSG {to} :{text}")

    def pump(self) -> None:
        """Read what has come (and answer the server's pings)."""
        self._read()

    def _read(self) -> None:
        try:
            data = self.sock.recv(65536)
        except TimeoutError:
            return
        self._buffer += data
        *complete, self._buffer = self._buffer.split(b"\r\n")
        for raw in complete:
            line = raw.decode("utf-8", "replace")
            if line.startswith("PING"):
                self.send("PONG" + line[4:])
            self.lines.append(line)

    def wait(self, match, what: str, start: int = 0) -> str:
        deadline = time.monotonic() + WAIT_S
        while True:
            found = next((line for line in self.lines[start:] if match(line)), None)
            if found is not None:
                return found
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.nick} waited for {what}; saw {self.lines[-10:]}")
            self._read()
            for other in IrcUser.everyone:
                if other is not self:
                    other.sock.setblocking(False)
                    try:
                        other._read()
                    except BlockingIOError:
                        pass
                    finally:
                        other.sock.settimeout(1)

    def close(self) -> None:
        IrcUser.everyone.remove(self)
        self.sock.close()


@pytest.fixture
def ircd(tmp_path: Path) -> Iterator[int]:
    port = free_port()
    command = [str(Path(sys.executable).with_name("miniircd")), "--listen", "127.0.0.1", "--ports", str(port)]
    if os.geteuid() == 0:
        command += ["--setuid", "root"]  # miniircd refuses root unless told; CI runs as root
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"miniircd did not start: {server.stderr.read() if server.stderr else ''}") from None
            time.sleep(0.1)
    yield port
    server.terminate()
    server.wait(10)


def errbot_config(folder: Path, port: int) -> Path:
    (folder / "data").mkdir(parents=True)
    config = folder / "config.py"
    config.write_text(
        "import logging\n"
        'BACKEND = "IRC"\n'
        f"BOT_DATA_DIR = {str(folder / 'data')!r}\n"
        f"BOT_EXTRA_PLUGIN_DIR = {str(PLUGIN_DIR)!r}\n"
        f"BOT_LOG_FILE = {str(folder / 'errbot.log')!r}\n"
        "BOT_LOG_LEVEL = logging.INFO\n"
        'BOT_ADMINS = ("nobody!*@*",)\n'
        'BOT_PREFIX = "!"\n'
        f'BOT_IDENTITY = {{"nickname": "assistant", "server": "127.0.0.1", "port": {port}}}\n'
        f'CHATROOM_PRESENCE = ("{CHANNEL}",)\n'
        "IRC_CHANNEL_RATE = 0.1\n"
        "IRC_PRIVATE_RATE = 0.1\n"
        "CORE_PLUGINS = ('ACLs', 'Help', 'Plugins', 'Utils', 'Health', 'ChatRoom')\n"
    )
    return config


def test_the_plugin_over_irc_answers_in_the_channel_and_continues_privately(ircd: int, tmp_path: Path) -> None:
    alice, bob = IrcUser(ircd, "alice"), IrcUser(ircd, "bob")
    config = errbot_config(tmp_path, ircd)
    bot = subprocess.Popen(
        [str(Path(sys.executable).with_name("errbot")), "-c", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "ASSISTANT_HOME": str(tmp_path / "home")},
    )
    try:
        alice.wait(lambda line: line.startswith(":assistant!") and "JOIN" in line, "the bot to join")
        deadline = time.monotonic() + WAIT_S  # a command that comes before the plugins are active is dropped
        while "Plugin activation done" not in (tmp_path / "errbot.log").read_text():
            assert time.monotonic() < deadline and bot.poll() is None, "errbot did not activate its plugins"
            alice.pump()
            bob.pump()
        mark = len(alice.lines)
        alice.say("!suggest The meeting has been mov")
        alice.wait(
            lambda line: line.startswith(":assistant!") and f"PRIVMSG {CHANNEL}" in line and "moved" in line,
            "the suggestions",
            mark,
        )
        mark, bob_mark = len(alice.lines), len(bob.lines)
        alice.say("!continue --words 3 The meeting has been")
        alice.wait(lambda line: f"PRIVMSG {CHANNEL}" in line and "privately" in line, "the room's answer", mark)
        private = alice.wait(
            lambda line: line.startswith(":assistant!") and "PRIVMSG alice :" in line and "meeting" in line,
            "the private continuation",
            mark,
        )
        assert "The meeting has been" in private
        bob.wait(lambda line: "privately" in line, "the room's answer", bob_mark)
        from_bot = [line for line in bob.lines if line.startswith(":assistant!") and "PRIVMSG" in line]
        assert not any("PRIVMSG bob" in line or "The meeting has been" in line for line in from_bot), from_bot
    finally:
        bot.terminate()
        try:
            bot.wait(30)
        except subprocess.TimeoutExpired:
            bot.kill()
        alice.close()
        bob.close()
    log = (tmp_path / "errbot.log").read_text()
    assert 'Processing command "continue" (parameters not logged)' in log
    assert "The meeting has been" not in log
