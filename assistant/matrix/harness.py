"""Helpers for the Matrix tests and benchmark: the bot in a thread of its own, and chat users as real nio clients."""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nio import AsyncClient, LoginResponse, RoomCreateResponse, SyncResponse

from assistant.matrix.bot import MatrixBot
from assistant.matrix.config import MatrixSettings, load_settings
from assistant.matrix.localserver import Synapse

PASSWORD = "correct horse battery staple"
WAIT_S = 90.0
"""Longest a test waits for something to happen (generous: CI is a busy machine)."""


def bot_settings(
    server: Synapse, data_dir: Path, finetune: dict[str, Any] | None = None, **extra: Any
) -> MatrixSettings:
    """Settings as a user writes them: a 0600 TOML file, with the password in the environment."""
    lines = [
        f'homeserver = "{server.url}"',
        f'user_id = "{server.user_id("bot")}"',
        f'data_dir = "{data_dir}"',
        "max_retry_wait_s = 1.0",
        *(f"{key} = {value!r}" for key, value in extra.items()),
    ]
    if finetune:
        lines += ["[finetune]", *(f"{key} = {value!r}" for key, value in finetune.items())]
    settings_file = data_dir.parent / f"{data_dir.name}.toml"
    settings_file.write_text("\n".join(lines) + "\n")
    return load_settings(settings_file, {"ASSISTANT_MATRIX_PASSWORD": PASSWORD})


class BotThread:
    """A :class:`MatrixBot` running on its own event loop in a thread."""

    def __init__(self, settings: MatrixSettings) -> None:
        self.bot = MatrixBot(settings)
        self.loop = asyncio.new_event_loop()
        self.task: asyncio.Task[None] | None = None
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.task = self.loop.create_task(self.bot.run())
        try:
            self.loop.run_until_complete(self.task)
        except asyncio.CancelledError:
            pass
        except BaseException as exc:
            self.error = exc
        finally:
            self.loop.close()

    def start(self) -> BotThread:
        self.thread.start()
        deadline = time.monotonic() + WAIT_S
        while not self.bot.ready.wait(0.1):
            if self.error is not None or not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the bot did not start: {self.error!r}")
        return self

    def stop(self) -> None:
        if self.thread.is_alive():
            self.loop.call_soon_threadsafe(lambda: self.task.cancel() if self.task else None)
            self.thread.join(60)


@dataclass
class Person:
    """A chat user: a real nio client that remembers every event it has seen."""

    server: Synapse
    name: str
    client: AsyncClient = field(init=False)
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    """(room id, raw event) in the order seen."""
    poll_ms: int = 1000
    """How long one sync of :meth:`wait` waits on the homeserver for news (it returns as soon as some come)."""

    @property
    def user_id(self) -> str:
        return self.server.user_id(self.name)

    async def login(self) -> Person:
        self.client = AsyncClient(self.server.url, self.user_id)
        resp = await self.client.login(PASSWORD)
        assert isinstance(resp, LoginResponse), resp
        await self.sync(0)
        return self

    async def sync(self, timeout_ms: int = 1000) -> None:
        resp = await self.client.sync(timeout=timeout_ms, since=self.client.next_batch)
        if not isinstance(resp, SyncResponse):
            return
        for room_id, info in resp.rooms.join.items():
            self.events += [(room_id, e.source) for e in info.timeline.events]
        for room_id in resp.rooms.invite:
            self.events.append((room_id, {"type": "invite"}))

    async def create_room(self, *invite: Person, direct: bool = False, **kwargs: Any) -> str:
        resp = await self.client.room_create(is_direct=direct, invite=[p.user_id for p in invite], **kwargs)
        assert isinstance(resp, RoomCreateResponse), resp
        return resp.room_id

    async def join(self, room_id: str) -> None:
        await self.client.join(room_id)

    async def say(self, room_id: str, text: str) -> str:
        resp = await self.client.room_send(room_id, "m.room.message", {"msgtype": "m.text", "body": text})
        return resp.event_id

    def replies_to(self, event_id: str) -> list[dict[str, Any]]:
        return [
            e
            for _, e in self.events
            if e.get("content", {}).get("m.relates_to", {}).get("m.in_reply_to", {}).get("event_id") == event_id
        ]

    def notices(self, room_id: str, sender: str) -> list[str]:
        return [
            e["content"]["body"]
            for r, e in self.events
            if r == room_id and e.get("sender") == sender and e.get("content", {}).get("msgtype") == "m.notice"
        ]

    async def wait(self, done: Any, what: str, timeout: float = WAIT_S) -> Any:
        """Sync until ``done()`` gives something true; returns it."""
        deadline = time.monotonic() + timeout
        while True:
            result = done()
            if result:
                return result
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.name} waited {timeout:.0f} s for {what}")
            await self.sync(self.poll_ms)

    async def ask_event(self, room_id: str, text: str) -> dict[str, Any]:
        """Send ``text`` and wait for the bot's reply to it; returns the reply event."""
        event_id = await self.say(room_id, text)
        reply = await self.wait(lambda: self.replies_to(event_id), f"the reply to {text!r}")
        return reply[0]

    async def ask(self, room_id: str, text: str) -> str:
        """Send ``text`` and wait for the bot's reply to it; returns the reply's body."""
        return (await self.ask_event(room_id, text))["content"]["body"]

    async def invited(self) -> str:
        """Wait for an invitation, join it; returns the room id."""
        room = await self.wait(
            lambda: next((r for r, e in self.events if e.get("type") == "invite"), None), "an invitation"
        )
        self.events = [(r, e) for r, e in self.events if not (r == room and e.get("type") == "invite")]
        await self.join(room)
        return room

    async def joined(self, room_id: str, user_id: str) -> None:
        """Wait until ``user_id`` has joined ``room_id``."""

        def seen() -> bool:
            return any(
                r == room_id
                and e.get("type") == "m.room.member"
                and e.get("state_key") == user_id
                and e.get("content", {}).get("membership") == "join"
                for r, e in self.events
            )

        await self.wait(seen, f"{user_id} to join")

    async def close(self) -> None:
        await self.client.close()
