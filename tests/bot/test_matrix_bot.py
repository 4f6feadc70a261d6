"""The Matrix bot against a real Synapse on 127.0.0.1, with real matrix-nio clients as its users.

One Synapse serves the whole module (started once, about 10 s); each test starts its own bot on a fresh data
folder. Users: alice, bob and carol (people), bot (the assistant), admin (for the rate-limit override).
"""

from __future__ import annotations

import hashlib
import json
import logging
import stat
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

pytest.importorskip("nio")
pytest.importorskip("synapse")

from assistant.chat.commands import PRIVATE_REPLY
from assistant.matrix.bot import ENCRYPTED_ROOM
from assistant.matrix.config import MatrixConfigError, load_settings
from assistant.matrix.harness import PASSWORD, BotThread, Person, bot_settings
from assistant.matrix.localserver import Synapse
from assistant.matrix.timing import parse

pytestmark = pytest.mark.slow

NAMES = ("alice", "bob", "carol", "bot")


@pytest.fixture(scope="module")
def synapse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synapse]:
    server = Synapse(tmp_path_factory.mktemp("synapse"))
    server.start()
    try:
        for name in NAMES:
            server.register(name, PASSWORD)
        server.admin_token = server.register("admin", PASSWORD, admin=True)  # type: ignore[attr-defined]
        yield server
    finally:
        server.stop()


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ASSISTANT_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("ASSISTANT_BASE_MODEL", raising=False)
    return tmp_path / "home"


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "matrix"


@pytest.fixture
def bot(synapse: Synapse, data_dir: Path) -> Iterator[BotThread]:
    thread = BotThread(bot_settings(synapse, data_dir)).start()
    yield thread
    thread.stop()


@pytest.fixture
async def people(synapse: Synapse) -> AsyncIterator[dict[str, Person]]:
    logged = {name: await Person(synapse, name).login() for name in ("alice", "bob", "carol")}
    yield logged
    for person in logged.values():
        await person.close()


def user_folder(data_dir: Path, user_id: str) -> Path:
    return data_dir / hashlib.sha256(user_id.encode()).hexdigest()[:20]


async def room_with_bot(owner: Person, *others: Person, **kwargs: object) -> str:
    """A room of ``owner``, ``others`` and the bot, everyone joined."""
    bot_id = owner.server.user_id("bot")
    room = await owner.create_room(*others, **kwargs)
    await owner.client.room_invite(room, bot_id)
    for person in others:
        assert await person.invited() == room
    await owner.joined(room, bot_id)
    return room


KESTREL = [f"The Kestrelwhip plan {i} is ready for review by Thursday." for i in range(6)]


async def test_three_users_in_two_rooms_and_a_direct_chat(
    bot: BotThread, people: dict[str, Person], data_dir: Path
) -> None:
    alice, bob, carol = people["alice"], people["bob"], people["carol"]
    bot_id = alice.server.user_id("bot")
    lobby = await room_with_bot(alice, bob, carol)
    garden = await room_with_bot(bob, carol)
    direct = await room_with_bot(alice, direct=True)

    reply = await carol.ask_event(garden, "!suggest The meeting has been mov")
    assert reply["content"]["msgtype"] == "m.notice" and reply["sender"] == bot_id
    assert 'Completions of "mov"' in reply["content"]["body"] and "1. moved" in reply["content"]["body"]

    # Opt-in learning: alice opts in (in her direct chat) and writes in the lobby; bob writes there without it.
    assert "Learning is on" in await alice.ask(direct, "!learn on")
    for line in KESTREL:
        await alice.say(lobby, line)
    for line in KESTREL:
        await bob.say(lobby, line.replace("Kestrelwhip", "Zorblatt"))
    assert "Words stored: 60 in 1 document(s)" in await alice.ask(direct, "!learn status")
    assert "Learning from your messages: off" in await bob.ask(lobby, "!learn status")
    assert "Kestrelwhip (6x)" in await alice.ask(direct, "!vocab 50")
    assert "Nothing learned from you yet." in await carol.ask(garden, "!vocab")
    assert not user_folder(data_dir, bob.user_id).exists()  # nothing stored for who never opted in
    assert "Zorblatt" not in (await alice.ask(direct, "!vocab 200"))

    # Isolation: alice's word completes for her alone.
    assert "Kestrelwhip" in await alice.ask(lobby, "!suggest Review the Kestrelw")
    assert "Kestrelwhip" not in await bob.ask(lobby, "!suggest Review the Kestrelw")
    assert "Kestrelwhip" not in await carol.ask(garden, "!suggest Review the Kestrelw")

    # The continuation asked in a room goes to alice privately, in her direct chat with the bot.
    before = len(alice.notices(direct, bot_id))
    assert await alice.ask(lobby, "!continue --words 4 The Kestrelwhip plan") == PRIVATE_REPLY
    private = await alice.wait(lambda: alice.notices(direct, bot_id)[before:], "the private continuation")
    assert private[0].startswith("The Kestrelwhip plan")
    await bob.sync()
    assert not any(body.startswith("The Kestrelwhip plan") for body in bob.notices(lobby, bot_id))

    # Each command was answered exactly once.
    for person in (alice, bob, carol):
        await person.sync()
        for _, event in person.events:
            if event.get("sender") == person.user_id and event.get("content", {}).get("body", "").startswith("!"):
                assert len(person.replies_to(event["event_id"])) == 1, event["content"]["body"]
    assert "!finetune" in await carol.ask(garden, "!help")
    assert "Nothing to learn from yet: learning is off" in await carol.ask(garden, "!finetune")


async def test_an_encrypted_room_gets_a_clear_word_once(bot: BotThread, people: dict[str, Person]) -> None:
    alice = people["alice"]
    encryption = {"type": "m.room.encryption", "state_key": "", "content": {"algorithm": "m.megolm.v1.aes-sha2"}}
    room = await room_with_bot(alice, initial_state=[encryption])
    content = {"algorithm": "m.megolm.v1.aes-sha2", "sender_key": "k", "ciphertext": "AAAA", "session_id": "s"}
    content["device_id"] = "DEVICE"
    first = (await alice.client.room_send(room, "m.room.encrypted", content)).event_id
    await alice.client.room_send(room, "m.room.encrypted", content)
    reply = await alice.wait(lambda: alice.replies_to(first), "the word about encryption")
    assert reply[0]["content"]["body"] == ENCRYPTED_ROOM
    marker = await alice.say(room, "!help")  # unreadable to a real e2e bot; here plain text, answered
    await alice.wait(lambda: alice.replies_to(marker), "the reply after")
    assert alice.notices(room, alice.server.user_id("bot")).count(ENCRYPTED_ROOM) == 1


async def test_a_synapse_restart_mid_conversation(synapse: Synapse, bot: BotThread, people: dict[str, Person]) -> None:
    alice = people["alice"]
    room = await room_with_bot(alice, direct=True)
    assert "1. moved" in await alice.ask(room, "!suggest The meeting has been mov")
    synapse.restart()
    assert "Learning is on" in await alice.ask(room, "!learn on")
    assert "Learning from your messages: on" in await alice.ask(room, "!learn status")
    await alice.sync()
    notices = alice.notices(room, synapse.user_id("bot"))
    assert len(notices) == 3, notices  # no answer lost, none repeated


async def test_a_bot_restart_does_not_replay_history(
    synapse: Synapse, data_dir: Path, people: dict[str, Person]
) -> None:
    alice = people["alice"]
    first = BotThread(bot_settings(synapse, data_dir)).start()
    try:
        room = await room_with_bot(alice, direct=True)
        assert "Learning is on" in await alice.ask(room, "!learn on")
    finally:
        first.stop()
    unheard = await alice.say(room, "!learn off")  # said while no bot listens
    second = BotThread(bot_settings(synapse, data_dir)).start()
    try:
        assert "Learning from your messages: on" in await alice.ask(room, "!learn status")
        assert second.bot.answered == 1
    finally:
        second.stop()
    await alice.sync()
    assert alice.replies_to(unheard) == []
    assert len(alice.notices(room, synapse.user_id("bot"))) == 2


async def test_a_bot_restart_reuses_its_saved_login_and_logs_in_again_when_it_is_refused(
    synapse: Synapse, data_dir: Path, people: dict[str, Person], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="assistant")
    alice = people["alice"]
    first = BotThread(bot_settings(synapse, data_dir)).start()
    try:
        room = await room_with_bot(alice, direct=True)
        assert "1. moved" in await alice.ask(room, "!suggest The meeting has been mov")
        device = first.bot.client.device_id
    finally:
        first.stop()
    saved = data_dir / "login.json"
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600 and stat.S_IMODE(data_dir.stat().st_mode) == 0o700
    token = json.loads(saved.read_text())["access_token"]
    devices = synapse.devices(token)
    assert device in devices

    second = BotThread(bot_settings(synapse, data_dir)).start()  # the saved login: no new device
    try:
        assert second.bot.client.device_id == device and second.bot.client.access_token == token
        assert "1. moved" in await alice.ask(room, "!suggest The meeting has been mov")
    finally:
        second.stop()
    assert synapse.devices(token) == devices

    synapse.logout(token)  # the homeserver forgets the token (and the device)
    third = BotThread(bot_settings(synapse, data_dir)).start()
    try:
        renewed = json.loads(saved.read_text())["access_token"]
        assert renewed != token and third.bot.client.device_id == device  # the password again, same device
        assert "1. moved" in await alice.ask(room, "!suggest The meeting has been mov")
    finally:
        third.stop()
    assert sorted(synapse.devices(renewed)) == sorted(devices)
    assert token not in caplog.text and renewed not in caplog.text and "1. moved" not in caplog.text
    assert "reuses its saved login" in caplog.text


async def test_the_bot_times_each_command_without_its_text(bot: BotThread, people: dict[str, Person]) -> None:
    alice = people["alice"]
    room = await room_with_bot(alice, direct=True)
    await alice.ask(room, "!suggest The meeting has been mov")
    await alice.ask(room, "!nosuchcommand secret words")
    timing = [t for t in bot.bot.timings if t.command in ("suggest", "other")]
    assert [t.command for t in timing] == ["suggest", "other"]
    assert all(t.worked_ms > 0 and t.sent_ms > 0 and t.delivered_ms >= 0 for t in timing)
    assert parse("\n".join(t.line() for t in timing)) == timing


async def test_a_rate_limited_bot_answers_every_command_once(
    synapse: Synapse, bot: BotThread, people: dict[str, Person]
) -> None:
    alice = people["alice"]
    room = await room_with_bot(alice, direct=True)
    synapse.override_ratelimit(synapse.admin_token, "bot", per_second=1, burst=1)  # type: ignore[attr-defined]
    try:
        asked = [await alice.say(room, f"!suggest The meeting number {i} has been mov") for i in range(4)]
        for event_id in asked:
            await alice.wait(lambda event_id=event_id: alice.replies_to(event_id), "every reply")
    finally:
        synapse.override_ratelimit(synapse.admin_token, "bot", None)  # type: ignore[attr-defined]
    assert [len(alice.replies_to(e)) for e in asked] == [1, 1, 1, 1]


def test_settings_keep_secrets_private(tmp_path: Path) -> None:
    settings = tmp_path / "bot.toml"
    settings.write_text('homeserver = "http://127.0.0.1:1"\nuser_id = "@bot:localhost"\npassword = "hunter2"\n')
    settings.chmod(0o644)
    with pytest.raises(MatrixConfigError, match="chmod 600") as refused:
        load_settings(settings, {})
    assert "hunter2" not in str(refused.value)
    settings.chmod(0o600)
    loaded = load_settings(settings, {})
    assert "hunter2" not in repr(loaded)
    from_env = load_settings(
        None,
        {
            "ASSISTANT_MATRIX_HOMESERVER": "http://127.0.0.1:1",
            "ASSISTANT_MATRIX_USER": "@bot:localhost",
            "ASSISTANT_MATRIX_TOKEN": "syt_secret",
        },
    )
    assert from_env.access_token == "syt_secret" and "syt_secret" not in repr(from_env)
    settings.write_text('homeserver = "http://127.0.0.1:1"\nuser_id = "@bot:localhost"\npassword = 5\n')
    with pytest.raises(MatrixConfigError, match="password") as bad:
        load_settings(settings, {})
    assert "5" not in str(bad.value).replace("'password'", "")
    with pytest.raises(MatrixConfigError, match="password or access_token"):
        load_settings(None, {"ASSISTANT_MATRIX_HOMESERVER": "http://x", "ASSISTANT_MATRIX_USER": "@b:x"})
