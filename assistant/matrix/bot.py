"""The Matrix bot: ``matrix-nio`` events in, :class:`~assistant.chat.commands.ChatCommands` answers out.

- It joins the rooms it is invited to and answers each command once, as an ``m.notice`` in reply to the asking
  message (a transaction id made from that message's id, so a retried send is not a second answer).
- What was said before it started is never answered: the first sync's timeline is skipped, and in a room joined
  later, what came before its own join.
- A continuation asked for in a room goes to the sender in a direct message (it comes from their personal
  model); the room is told so.
- After a password login the access token and device id are saved (``login.json``, 0600, in ``data_dir``) and
  reused on the next start, so a restart is the same device; a token the homeserver no longer takes
  (``M_UNKNOWN_TOKEN``) means a password login again, on the same device id.
- The homeserver going away is waited out: nio retries a failed request with a doubling wait (up to
  ``max_retry_wait_s``) and a 429 after the ``retry_after_ms`` it names; a sync that fails otherwise is tried
  again with the same backoff.
- An end-to-end encrypted room cannot be read (no ``matrix-nio[e2e]`` here): the bot says so once per room and
  sender, in the room, and answers nothing there.
- Messages of one sender are handled in order, different senders' side by side on a pool of ``workers``
  threads (torch on one thread each), so the event loop only syncs and sends. Each answered message's timing
  (queued, worked, sent) is kept in :attr:`MatrixBot.timings` and logged at DEBUG, without its text.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from nio import (
    AsyncClient,
    AsyncClientConfig,
    InviteMemberEvent,
    JoinError,
    LoginResponse,
    MatrixRoom,
    MegolmEvent,
    RoomCreateResponse,
    RoomMemberEvent,
    RoomMessageText,
    RoomPreset,
    RoomSendResponse,
    SyncError,
    SyncResponse,
    WhoamiError,
)

from assistant.chat.commands import Answer, ChatCommands, Limits
from assistant.chat.users import ChatUsers, user_key
from assistant.matrix.config import MatrixSettings
from assistant.matrix.login import SavedLogin, forget_login, load_login, login_path, save_login
from assistant.matrix.timing import KEPT, CommandTiming
from assistant.personal.models import use_threads
from assistant.shipped import base_model_dir

log = logging.getLogger(__name__)

SYNC_TIMEOUT_MS = 30_000
"""How long one sync waits on the homeserver for news."""
FIRST_BACKOFF_S = 0.5
UNKNOWN_TOKEN = "M_UNKNOWN_TOKEN"
"""The homeserver's error for an access token it does not take (logged out, expired, deleted device)."""
HANDLED_KEPT = 10_000
"""Event ids remembered, so an event delivered twice is answered once."""
SYNC_FILTER: dict[str, Any] = {
    "presence": {"types": []},
    "account_data": {"types": []},
    "room": {"ephemeral": {"types": []}, "account_data": {"types": []}, "timeline": {"limit": 100}},
}
"""What a sync brings: room timelines and state only (no presence, typing, receipts or account data, which the
bot never reads), up to 100 events a room (the homeserver's default of 10 would drop commands in a busy room)."""

ENCRYPTED_ROOM = (
    "This room is end-to-end encrypted, and I cannot read encrypted messages, so I answer nothing here. "
    "Talk to me in a room without encryption, or in a direct message without encryption."
)


class LoginFailed(RuntimeError):
    """The homeserver refused the bot's login (the message holds no secret)."""


class MatrixBot:
    """One bot account on one homeserver, answering every user through their own space."""

    def __init__(self, settings: MatrixSettings, base_dir: Path | None = None) -> None:
        self.settings = settings
        self.users = ChatUsers(
            settings.data_dir,
            base_dir or base_model_dir(),
            settings.max_chars,
            settings.finetune,
            settings.cache_size,
            max_finetunes=settings.max_finetunes,
        )
        self.commands = ChatCommands(
            self.users, Limits(settings.suggestions, settings.continue_words, settings.max_continue_words)
        )
        config = AsyncClientConfig(
            backoff_factor=FIRST_BACKOFF_S,
            max_timeout_retry_wait_time=settings.max_retry_wait_s,
            max_limit_exceeded=None,  # a 429 is waited out for as long as the homeserver says
            max_timeouts=None,
        )
        self.client = AsyncClient(
            settings.homeserver, settings.user_id, device_id=settings.device_id or None, config=config
        )
        self.ready = threading.Event()
        """Set once the first sync is done: from then on, every new message is answered."""
        self.answered = 0
        """Commands answered so far."""
        self._handled: OrderedDict[str, None] = OrderedDict()
        self._chains: dict[str, asyncio.Task[None]] = {}
        self._direct: dict[str, str] = {}
        self._warned: set[tuple[str, str]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pool = ThreadPoolExecutor(settings.workers, thread_name_prefix="matrix-answer")
        self._login_path = login_path(settings.data_dir)
        self.timings: deque[CommandTiming] = deque(maxlen=KEPT)
        """The latest answered messages' timings (oldest first)."""

    # -- running --------------------------------------------------------------------------------------------------
    async def run(self) -> None:
        """Log in, skip what came before, then answer until cancelled."""
        self._loop = asyncio.get_running_loop()
        warming = self._loop.run_in_executor(self._pool, self._warm_up)  # while logging in
        try:
            await self._login()
            await self._first_sync()
            await warming
            self.ready.set()
            log.info("matrix bot %s is listening", self.settings.user_id)
            await self._sync_forever()
        finally:
            await self._close()

    def _warm_up(self) -> None:
        try:
            self.users.warm_up()
        except Exception:  # the first request will say what is wrong
            log.exception("the model could not be loaded ahead of the first request")

    async def _login(self) -> None:
        """The configured token; else the login saved after an earlier password login (while the homeserver
        takes it); else a password login, saved for the next start."""
        s = self.settings
        if s.access_token:
            self.client.restore_login(s.user_id, s.device_id, s.access_token)
            return
        saved = load_login(self._login_path, s.homeserver, s.user_id)
        if saved is not None and s.device_id in ("", saved.device_id):
            self.client.restore_login(s.user_id, saved.device_id, saved.access_token)
            check = await self.client.whoami()
            if not (isinstance(check, WhoamiError) and check.status_code == UNKNOWN_TOKEN):
                log.info("matrix bot reuses its saved login (device %s)", saved.device_id)
                return
            log.info("the saved login (device %s) is no longer valid; logging in with the password", saved.device_id)
        await self._password_login()

    async def _password_login(self) -> None:
        """Log in with the password (on the saved device, if one is known) and save the login."""
        s = self.settings
        self.client.access_token = ""
        resp = await self.client.login(s.password, device_name=s.device_name)
        if not isinstance(resp, LoginResponse):
            forget_login(self._login_path)
            raise LoginFailed(f"the homeserver refused the login of {s.user_id}: {resp.message}")
        save_login(self._login_path, SavedLogin(s.homeserver, s.user_id, resp.device_id, resp.access_token))
        log.info("matrix bot logged in with its password (device %s)", resp.device_id)

    async def _first_sync(self) -> None:
        """One sync whose timeline is history: it is not answered (invites waiting are accepted)."""
        while True:
            # Synapse answers an initial sync at once, whatever its timeout; a timeout of this start's own (at
            # most a long poll's) keeps it from answering from its sync cache (2 minutes, by request and device)
            # what it told the bot's last start, whose history would then come again as news once the bot
            # reuses its saved login.
            unique = time.time_ns() // 1_000_000 % SYNC_TIMEOUT_MS + 1
            resp = await self.client.sync(
                timeout=unique, full_state=True, sync_filter={"room": {"timeline": {"limit": 1}}}
            )
            if isinstance(resp, SyncResponse):
                break
            if isinstance(resp, SyncError) and resp.status_code == UNKNOWN_TOKEN:
                if not self.settings.password:
                    raise LoginFailed(f"the homeserver does not take the access token of {self.settings.user_id}")
                await self._password_login()
                continue
            await asyncio.sleep(FIRST_BACKOFF_S)
        for room_id in resp.rooms.invite:
            await self._join(room_id)

    async def _sync_forever(self) -> None:
        wait = FIRST_BACKOFF_S
        while True:
            try:
                resp = await self.client.sync(
                    timeout=SYNC_TIMEOUT_MS, since=self.client.next_batch, sync_filter=SYNC_FILTER
                )
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                resp = exc
            if isinstance(resp, SyncResponse):
                wait = FIRST_BACKOFF_S
                await self._on_sync(resp)
                continue
            if isinstance(resp, SyncError) and resp.status_code == UNKNOWN_TOKEN and self.settings.password:
                log.warning("the homeserver no longer takes the bot's login; logging in with the password again")
                await self._password_login()
                continue
            log.warning("sync failed (%s); trying again in %.1f s", type(resp).__name__, wait)
            await asyncio.sleep(wait)
            wait = min(wait * 2, self.settings.max_retry_wait_s)

    async def _close(self) -> None:
        for task in list(self._chains.values()):
            task.cancel()
        await asyncio.to_thread(self.users.close)
        self._pool.shutdown(wait=False, cancel_futures=True)
        await self.client.close()

    # -- events ---------------------------------------------------------------------------------------------------
    async def _on_sync(self, resp: SyncResponse) -> None:
        arrived, now_ms = time.monotonic(), time.time() * 1000
        for room_id, info in resp.rooms.invite.items():
            if any(isinstance(e, InviteMemberEvent) and e.state_key == self.client.user_id for e in info.invite_state):
                await self._join(room_id)
        for room_id, info in resp.rooms.join.items():
            events = list(info.timeline.events)
            for i, event in enumerate(events):  # what came before the bot joined is history
                if (
                    isinstance(event, RoomMemberEvent)
                    and event.state_key == self.client.user_id
                    and event.membership == "join"
                    and event.prev_membership != "join"
                ):
                    events = events[i + 1 :]
                    break
            room = self.client.rooms.get(room_id)
            if room is None:
                continue
            for event in events:
                self._on_event(room, event, arrived, now_ms - getattr(event, "server_timestamp", now_ms))

    def _on_event(self, room: MatrixRoom, event: Any, arrived: float = 0.0, delivered_ms: float = 0.0) -> None:
        sender = getattr(event, "sender", "")
        if not sender or sender == self.client.user_id or not self._first_time(event.event_id):
            return
        if isinstance(event, MegolmEvent) or getattr(event, "source", {}).get("type") == "m.room.encrypted":
            self._chain(sender, lambda: self._say_encrypted(room.room_id, sender, event.event_id))
            return
        if not isinstance(event, RoomMessageText):
            return
        relates = event.source.get("content", {}).get("m.relates_to") or {}
        if relates.get("rel_type") == "m.replace":
            return  # an edit of an earlier message: not a new message
        in_room = room.member_count > 2
        self._chain(
            sender,
            lambda: self._answer(room.room_id, event.event_id, sender, event.body, in_room, arrived, delivered_ms),
        )

    def _first_time(self, event_id: str) -> bool:
        if event_id in self._handled:
            return False
        self._handled[event_id] = None
        while len(self._handled) > HANDLED_KEPT:
            self._handled.popitem(last=False)
        return True

    def _chain(self, sender: str, work: Callable[[], Awaitable[None]]) -> None:
        """Run ``work`` after the sender's earlier messages (each sender's messages keep their order)."""
        before = self._chains.get(sender)

        async def step() -> None:
            if before is not None:
                with contextlib.suppress(Exception):
                    await before
            try:
                await work()
            except Exception:
                log.exception("a message of user %s could not be answered", user_key(sender))

        task = asyncio.get_running_loop().create_task(step())
        self._chains[sender] = task
        task.add_done_callback(lambda t: self._chains.pop(sender, None) if self._chains.get(sender) is t else None)

    async def _answer(
        self,
        room_id: str,
        event_id: str,
        sender: str,
        body: str,
        in_room: bool,
        arrived: float,
        delivered_ms: float,
    ) -> None:
        def tell(text: str) -> None:  # a fine-tune's news, from another thread
            if self._loop is not None and not self._loop.is_closed():
                asyncio.run_coroutine_threadsafe(self._notice(room_id, text, event_id, tag="news"), self._loop)

        def work() -> tuple[float, Answer | None]:
            return time.monotonic(), self.commands.handle(sender, body, in_room, tell)

        started, answer = await asyncio.get_running_loop().run_in_executor(self._pool, work)
        done = time.monotonic()
        if answer is not None:
            await self._send_answer(room_id, event_id, sender, answer)
            self.answered += 1
        timing = CommandTiming(
            self.commands.command_name(body),
            round(delivered_ms, 1),
            round((started - arrived) * 1e3 if arrived else 0.0, 1),
            round((done - started) * 1e3, 1),
            round((time.monotonic() - done) * 1e3 if answer is not None else 0.0, 1),
        )
        self.timings.append(timing)
        log.debug("%s", timing.line())

    async def _send_answer(self, room_id: str, event_id: str, sender: str, answer: Answer) -> None:
        if answer.private is not None:
            direct = await self._direct_room(sender)
            if direct is None:
                answer = Answer("I could not open a direct chat with you, so I cannot send the continuation.")
            else:
                await self._notice(direct, answer.private, None, tag=f"private-{event_id}")
        await self._notice(room_id, answer.text, event_id)

    async def _say_encrypted(self, room_id: str, sender: str, event_id: str) -> None:
        if (room_id, sender) in self._warned:
            return
        self._warned.add((room_id, sender))
        await self._notice(room_id, ENCRYPTED_ROOM, event_id)

    # -- sending --------------------------------------------------------------------------------------------------
    async def _notice(self, room_id: str, text: str, reply_to: str | None, tag: str = "reply") -> None:
        """Send ``text`` as an ``m.notice`` (in reply to ``reply_to``); nio waits out a 429 or an outage."""
        content: dict[str, Any] = {"msgtype": "m.notice", "body": text}
        if reply_to is not None:
            content["m.relates_to"] = {"m.in_reply_to": {"event_id": reply_to}}
        tx_id = f"{tag}-{reply_to}" if reply_to is not None and tag != "news" else None
        resp = await self.client.room_send(room_id, "m.room.message", content, tx_id=tx_id)
        if not isinstance(resp, RoomSendResponse):
            log.warning("a reply could not be sent: %s", getattr(resp, "status_code", type(resp).__name__))

    async def _direct_room(self, user_id: str) -> str | None:
        """A room of the bot and ``user_id`` alone (made, with an invitation, if there is none)."""
        known = self._direct.get(user_id)
        if known is not None and known in self.client.rooms:
            return known
        for room in self.client.rooms.values():
            members = set(room.users) | set(room.invited_users)
            if members == {self.client.user_id, user_id}:
                self._direct[user_id] = room.room_id
                return room.room_id
        resp = await self.client.room_create(is_direct=True, invite=[user_id], preset=RoomPreset.trusted_private_chat)
        if not isinstance(resp, RoomCreateResponse):
            log.warning("a direct room could not be made: %s", getattr(resp, "status_code", "?"))
            return None
        self._direct[user_id] = resp.room_id
        return resp.room_id

    async def _join(self, room_id: str) -> None:
        resp = await self.client.join(room_id)
        if isinstance(resp, JoinError):
            log.warning("could not join a room: %s", resp.status_code)


async def _until_stopped(bot: MatrixBot) -> None:
    """Run ``bot`` until it fails or SIGTERM/SIGINT comes (then running fine-tunes checkpoint and stop)."""
    task = asyncio.current_task()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, lambda: task.cancel() if task else None)
    with contextlib.suppress(asyncio.CancelledError):
        await bot.run()


def run(settings: MatrixSettings) -> int:
    """Run the bot until stopped (the ``assistant matrix`` command); torch runs one thread per worker."""
    use_threads(1)
    bot = MatrixBot(settings)
    try:
        asyncio.run(_until_stopped(bot))
    except LoginFailed as exc:
        log.error("%s", exc)
        return 2
    return 0
