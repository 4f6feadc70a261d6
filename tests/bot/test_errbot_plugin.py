"""The chat-bot plugin on Errbot's own test backend, with the shipped base model and real files under a temporary
``ASSISTANT_HOME``."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import random
import sys
import time
from pathlib import Path
from queue import Empty
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from errbot.backends.test import TestBot

ROOT = Path(__file__).parents[2]
PLUGIN_DIR = ROOT / "plugins" / "errbot"
sys.path.insert(0, str(PLUGIN_DIR))

from assistant_options import UsageError, parse_continue, settings_from  # noqa: E402

pytest_plugins = ["errbot.backends.test"]
extra_plugin_dir = str(PLUGIN_DIR)
loglevel = logging.INFO

FAST_FINETUNE = {"epochs": 1.0, "min_words": 50, "holdout_every": 5, "patience": 0, "evals_per_epoch": 1, "lr": 2e-3}


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private ASSISTANT_HOME, set before the bot (and so the plugin) starts."""
    monkeypatch.setenv("ASSISTANT_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("ASSISTANT_BASE_MODEL", raising=False)
    return tmp_path / "home"


def folder(home: Path, user: str) -> Path:
    return home / "data" / "errbot" / hashlib.sha256(user.encode()).hexdigest()[:20]


def say(bot: TestBot, user: str, text: str, timeout: float = 10) -> str:
    """Send ``text`` as ``user`` and return the bot's first reply."""
    bot.bot.sender = bot.bot.build_identifier(user)
    bot.push_message(text)
    return bot.pop_message(timeout=timeout)


def tell(bot: TestBot, user: str, *messages: str) -> str:
    """Send plain messages as ``user``; returns their ``!learn status`` afterwards (so all were handled)."""
    bot.bot.sender = bot.bot.build_identifier(user)
    for m in messages:
        bot.push_message(m)
    return say(bot, user, "!learn status")


def continuation(reply: str, text: str) -> str:
    first = reply.splitlines()[0]
    assert first.startswith(text), reply
    return first[len(text) :]


def test_suggest_completes_the_last_word_with_probabilities(testbot: TestBot) -> None:
    started = time.perf_counter()
    reply = say(testbot, "alice", "!suggest The meeting has been mov")
    assert 'Completions of "mov"' in reply
    assert "1. moved" in reply and "%" in reply
    warm = time.perf_counter()
    say(testbot, "alice", "!suggest The meeting has been mov")
    print(f"!suggest round trip: first {warm - started:.3f} s, warm {time.perf_counter() - warm:.3f} s")


def test_suggest_next_word_after_the_mark(testbot: TestBot) -> None:
    reply = say(testbot, "alice", "!suggest The meeting has been moved to _")
    assert reply.startswith("Next word:")
    assert "1. the" in reply
    assert "usage" in say(testbot, "alice", "!suggest")


def test_continue_greedy_is_bounded_by_words(testbot: TestBot) -> None:
    text = "The meeting has been moved to"
    long = continuation(say(testbot, "alice", f"!continue {text}"), text)
    assert len(long.split()) >= 3
    short_reply = say(testbot, "alice", f"!continue --words 2 {text}")
    assert "(greedy, at most 2 words)" in short_reply
    short = continuation(short_reply, text)
    assert 1 <= len(short.split()) <= 2 and long.startswith(short)


def test_continue_sampling_and_beam(testbot: TestBot) -> None:
    text = "Once upon a time"
    first = say(testbot, "alice", f"!continue --temperature 0.8 --top-k 20 --seed 3 --words 6 {text}")
    again = say(testbot, "alice", f"!continue --temperature 0.8 --top-k 20 --seed 3 --words 6 {text}")
    assert "(sample, at most 6 words)" in first and first == again
    beam = say(testbot, "alice", f"!continue --beam 3 --words 5 {text}")
    assert "(beam, at most 5 words)" in beam and continuation(beam, text).strip()


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        ("--words zero hello", "--words needs a whole number"),
        ("--frobnicate 1 hello", "unknown option --frobnicate"),
        ("--beam 2 --temperature 0.5 hello", "cannot be combined"),
        ("--top-p 1.5 hello", "top-p must be in (0, 1]"),
        ("--words 5", "some text to continue"),
        ("hello --words", "--words needs a value"),
        ("--temperature nan hello", "needs a finite number"),
        ("--beam 500 hello", "--beam must be between 1 and 16"),
    ],
)
def test_continue_bad_arguments_get_usage(testbot: TestBot, args: str, problem: str) -> None:
    reply = say(testbot, "alice", f"!continue {args}")
    assert problem in reply and "usage: !continue" in reply


def test_learning_is_opt_in_and_skips_commands(testbot: TestBot, home: Path) -> None:
    tell(testbot, "alice", "Nothing of this is kept.")
    assert not folder(home, "alice").exists()
    assert "Learning is on" in say(testbot, "alice", "!learn on")
    status = tell(testbot, "alice", "The quarterly figures look promising.", "Let us ship it on Friday.")
    assert "Learning from your messages: on" in status and "Words stored: 11" in status
    assert "Model: base" in status
    corpus = "".join(p.read_text() for p in (folder(home, "alice") / "corpus").glob("chat-*.txt"))
    assert "quarterly figures" in corpus and "ship it on Friday" in corpus
    assert "!learn" not in corpus and "Nothing of this" not in corpus
    assert "Learning is off" in say(testbot, "alice", "!learn off")
    status = tell(testbot, "alice", "A secret plan.")
    assert "Learning from your messages: off" in status and "Words stored: 11" in status
    assert "usage: !learn" in say(testbot, "alice", "!learn maybe")


def test_oversize_messages_are_refused_and_not_stored(testbot: TestBot, home: Path) -> None:
    say(testbot, "alice", "!learn on")
    huge = "word " * 1000  # 5,000 characters; the default limit is 4,000
    testbot.push_message(huge)
    refusal = testbot.pop_message(timeout=10)
    assert "Not learned" in refusal and "limit is 4,000" in refusal
    assert "Words stored: 0" in say(testbot, "alice", "!learn status")
    assert "limit is 4,000" in say(testbot, "alice", f"!suggest {huge}")
    assert "limit is 4,000" in say(testbot, "alice", f"!continue {huge}")


def test_forget_deletes_the_users_folder(testbot: TestBot, home: Path) -> None:
    say(testbot, "alice", "!learn on")
    tell(testbot, "alice", "Remember this sentence, please.")
    assert folder(home, "alice").is_dir()
    assert "deleted" in say(testbot, "alice", "!forget")
    assert not folder(home, "alice").exists()
    assert "Nothing was stored" in say(testbot, "alice", "!forget")
    assert "Learning from your messages: off" in tell(testbot, "alice", "Not kept any more.")
    assert not folder(home, "alice").exists()


def wizard_messages(n: int = 30, seed: int = 1) -> list[str]:
    """Alice's habits: names and phrases the base model finds unlikely, always combined the same way."""
    rng = random.Random(seed)
    who = ["Gandalf the wizard", "the wizard Radagast", "my brother Frodo"]
    does = ["paints", "describes", "enchants"]
    what = ["a glowing picture", "the hobbit garden"]
    when = ["every morning", "in the evening"]
    return [
        " ".join(f"{rng.choice(who)} {rng.choice(does)} {rng.choice(what)} {rng.choice(when)}." for _ in range(3))
        for _ in range(n)
    ]


PROBES = ["!suggest Yesterday the wiz", "!suggest My brother Frodo paints the hob", "!continue --words 6 Gandalf"]


def test_finetune_is_private_to_its_user(testbot: TestBot, home: Path) -> None:
    config = say(testbot, "gbin@localhost", f"!plugin config WritingAssistant {{'FINETUNE': {FAST_FINETUNE!r}}}")
    assert "configuration done" in config.lower(), config
    bob_before = [say(testbot, "bob", p) for p in PROBES]
    alice_before = [say(testbot, "alice", p) for p in PROBES]
    assert alice_before == bob_before  # both on the base model

    assert "Nothing to learn" in say(testbot, "alice", "!finetune")
    say(testbot, "alice", "!learn on")
    tell(testbot, "alice", *wizard_messages())
    assert "in the background" in say(testbot, "alice", "!finetune")
    # The bot stays responsive while the job runs.
    assert "fine-tuning now" in say(testbot, "alice", "!learn status")
    assert "already running" in say(testbot, "alice", "!finetune")  # one run per person
    assert say(testbot, "bob", PROBES[0]) == bob_before[0]

    report = testbot.pop_message(timeout=120)
    assert "Fine-tuning done: your suggestions now come from your new model v0001" in report, report
    assert "bits per character" in report
    assert "Model: v0001" in say(testbot, "alice", "!learn status")
    alice_after = [say(testbot, "alice", p) for p in PROBES]
    assert alice_after != alice_before
    assert [say(testbot, "bob", p) for p in PROBES] == bob_before
    assert not folder(home, "bob").exists()
    user_folders = list((home / "data" / "errbot").iterdir())
    assert user_folders == [folder(home, "alice")]
    assert not any("alice" in str(p) for p in user_folders[0].rglob("*"))


def test_forget_stops_a_running_finetune(testbot: TestBot, home: Path) -> None:
    say(testbot, "alice", "!learn on")
    tell(testbot, "alice", *wizard_messages(n=20, seed=2))
    assert "in the background" in say(testbot, "alice", "!finetune")
    reply = say(testbot, "alice", "!forget", timeout=90)
    assert "deleted (your running fine-tune was stopped)" in reply
    assert not folder(home, "alice").exists()
    with pytest.raises(Empty):
        testbot.pop_message(timeout=1)  # no report for a forgotten job
    assert not folder(home, "alice").exists()


def test_bad_configuration_is_refused(testbot: TestBot) -> None:
    reply = say(testbot, "gbin@localhost", "!plugin config WritingAssistant {'SUGGESTIONS': 0}")
    assert "SUGGESTIONS must be a whole number" in reply
    reply = say(testbot, "gbin@localhost", "!plugin config WritingAssistant {'FINETUNE': {'epochz': 1}}")
    assert "unknown field(s) epochz" in reply


def test_parse_continue_options_stand_anywhere() -> None:
    text, cfg = parse_continue("The plan --words 3 is  ready --beam=2", 12, 100)
    assert text == "The plan is  ready" and cfg.strategy == "beam" and cfg.beam_width == 2 and cfg.max_words == 3
    text, cfg = parse_continue("--top-p 0.9 -- well", 12, 100)
    assert text == "-- well" and cfg.strategy == "sample" and cfg.top_p == 0.9
    with pytest.raises(UsageError, match="between 1 and 100"):
        parse_continue("--words 101 x", 12, 100)


def test_settings_merge_over_defaults(home: Path) -> None:
    s = settings_from({"FINETUNE": {"epochs": 1.0}})
    assert s.data_dir == home / "data" / "errbot" and s.max_chars == 4000
    assert s.finetune.epochs == 1.0 and s.finetune.threads == 1
    with pytest.raises(ValueError, match="unknown setting"):
        settings_from({"MAX_CHARS": 10})


def test_vocab_block_unblock_and_forget_a_word_affect_only_the_sender(testbot: TestBot, home: Path) -> None:
    say(testbot, "alice", "!learn on")
    tell(testbot, "alice", "The zorblax glows at night.", "A zorblax hums and the zorblax sings.")
    vocab = say(testbot, "alice", "!vocab 5")
    assert "1. zorblax (3x)" in vocab and "Blocked: -" in vocab
    assert "Nothing learned from you yet." in say(testbot, "bob", "!vocab")
    assert "usage: !vocab" in say(testbot, "alice", "!vocab lots")
    assert "zorblax" in say(testbot, "alice", "!suggest I saw the zorb")  # only alice's memory knows it

    assert "1. moved" in say(testbot, "alice", "!suggest The meeting has been mov")
    assert "Blocked for you: moved" in say(testbot, "alice", "!block Moved")
    assert "moved" not in say(testbot, "alice", "!suggest The meeting has been mov")
    assert "1. moved" in say(testbot, "bob", "!suggest The meeting has been mov")  # bob's space is untouched
    assert "Blocked: moved" in say(testbot, "alice", "!vocab")
    assert "usage: !block" in say(testbot, "alice", "!block , ,")
    assert "Unblocked for you" in say(testbot, "alice", "!unblock moved")
    assert "1. moved" in say(testbot, "alice", "!suggest The meeting has been mov")
    assert "was not blocked" in say(testbot, "bob", "!unblock moved")

    assert "Forgotten: zorblax" in say(testbot, "alice", "!forget Zorblax")
    assert "zorblax" not in say(testbot, "alice", "!suggest I saw the zorb")
    vocab = say(testbot, "alice", "!vocab 50")
    assert "zorblax (" not in vocab and "Forgotten: zorblax" in vocab
    assert "usage: !forget" in say(testbot, "alice", "!forget two words")
    assert not (folder(home, "bob") / "controls.json").exists()
    assert "deleted" in say(testbot, "alice", "!forget")  # bare !forget still deletes everything
    assert not folder(home, "alice").exists()


def test_a_secret_in_the_users_messages_is_never_suggested(testbot: TestBot) -> None:
    secret = "AKIA" + "QZ7" * 5 + "X"  # an AWS access key id
    say(testbot, "alice", "!learn on")
    tell(testbot, "alice", *[f"The vault key {secret} opens the zorblax." for _ in range(3)])
    assert "zorblax" in say(testbot, "alice", "!suggest It opens the zorb")  # alice's memory is used
    assert "AKIAQ" not in say(testbot, "alice", "!suggest The vault key AKIA")
    assert "AKIAQ" not in say(testbot, "alice", "!continue --words 4 The vault key")


@pytest.mark.parametrize(
    "generated",
    [", he spent\n\t\t-- Cheers\n", " the **best** of times ", "ing *a* _b_ `c` [d](e) <f>\n\n# g\n- h", "\n\n"],
)
def test_a_continuation_cannot_break_the_markdown(generated: str) -> None:
    from assistant_markdown import continued
    from errbot.rendering import text as text_renderer
    from errbot.rendering import xhtml

    shown = continued("Once upon a *time", generated)
    plain = text_renderer().convert(shown)
    html = xhtml().convert(shown)
    assert (
        plain.count("**") == generated.count("**") and "<code>" not in html and "<h1>" not in html and "<a " not in html
    )
    assert plain.startswith("Once upon a *time")
    for word in generated.replace("\t", " ").split():
        if word.strip("*_`[]()<>#-"):
            assert word.strip("*_`[]()<>#-,") in plain, (word, plain)
    if generated.strip():
        assert html.count("<strong>") == sum(bool(line.strip()) for line in generated.split("\n"))


def test_a_chat_id_with_a_lone_surrogate_has_its_own_space(testbot: TestBot, home: Path) -> None:
    from assistant.personal.users import user_key

    odd = "zo\udce9"  # a chat network's id is any string, not always valid Unicode
    assert user_key(odd) != user_key("zo\udce8") and user_key("zoé") == folder(home, "zoé").name
    reply = say(testbot, odd, "!learn on")
    assert "Learning is on" in reply, reply
    assert (home / "data" / "errbot" / user_key(odd)).is_dir()


def test_continue_in_a_room_answers_the_sender_privately(testbot: TestBot) -> None:
    from errbot.backends.base import Message
    from errbot.backends.test import TestOccupant, TestRoom

    plugin = testbot.bot.plugin_manager.get_plugin_obj_by_name("WritingAssistant")
    room = TestRoom("#team", bot=testbot.bot)
    msg = Message("!continue --words 3 The meeting has been", frm=TestOccupant("alice", room), to=room)
    assert msg.is_group
    answer = plugin.continue_(msg, "--words 3 The meeting has been")
    assert answer == "I sent you the continuation privately: it comes from your personal model."
    private = testbot.pop_message()
    assert private.startswith("The meeting has been") and "(greedy, at most 3 words)" in private


@pytest.mark.slow
def test_finetunes_wait_in_one_queue_and_a_second_ask_is_the_same_run(testbot: TestBot) -> None:
    config = say(testbot, "gbin@localhost", f"!plugin config WritingAssistant {{'FINETUNE': {FAST_FINETUNE!r}}}")
    assert "configuration done" in config.lower(), config
    for user, seed in (("alice", 3), ("bob", 4)):
        say(testbot, user, "!learn on")
        tell(testbot, user, *wizard_messages(n=20, seed=seed))
    first = say(testbot, "alice", "!finetune")
    assert ("Fine-tuning your model now" in first and "on 6" in first) or "words in 20 of your messages" in first
    queued = say(testbot, "bob", "!finetune")
    assert "you are number 1 in line (0 ahead of you)" in queued, queued
    assert "already in the fine-tune queue, number 1" in say(testbot, "bob", "!finetune")
    plugin = testbot.bot.plugin_manager.get_plugin_obj_by_name("WritingAssistant")
    assert plugin.users.spaces.queue_place("alice") == 0 and plugin.users.spaces.queue_place("bob") == 1
    news = [testbot.pop_message(timeout=180) for _ in range(3)]  # alice's result; bob's start and result
    assert sum("Fine-tuning done" in n for n in news) == 2, news
    assert replies_started() in news
    assert plugin.users.spaces.queue_place("bob") is None


def replies_started() -> str:
    from assistant.chat.replies import FINETUNE_STARTED

    return FINETUNE_STARTED


def test_finetune_messages_say_what_is_learned_and_never_a_forgotten_word(testbot: TestBot) -> None:
    config = say(testbot, "gbin@localhost", "!plugin config WritingAssistant {'FINETUNE': {'min_words': 100000}}")
    assert "configuration done" in config.lower(), config
    assert "learning is off" in say(testbot, "alice", "!finetune")
    say(testbot, "alice", "!learn on")
    tell(testbot, "alice", "Zephyrine called about the roof.", "The roof needs new tiles before winter.")
    say(testbot, "alice", "!forget Zephyrine")
    started = say(testbot, "alice", "!finetune")
    assert "7 words in 1 of your messages" in started, started
    assert "1 message(s) holding a word you asked me to forget are left out" in started
    done = testbot.pop_message(timeout=120)
    assert "did nothing: not enough new text yet" in done, done
    assert "Zephyrine" not in started + done and "zephyrine" not in (started + done).lower()


def test_the_host_log_keeps_what_users_write_out(testbot: TestBot, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO):
        say(testbot, "alice", "!suggest ask Gwendolyn about the mov")
        say(testbot, "alice", "!forget Zephyrine")
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert 'Processing command "suggest" (parameters not logged)' in logged
    assert "Gwendolyn" not in logged and "Zephyrine" not in logged


def test_the_text_backend_answers_continue_in_a_room(tmp_path: Path, home: Path) -> None:
    """The Text backend's room occupant holds a person object, not a string (issue 18 item 17)."""
    import os
    import subprocess

    (tmp_path / "data").mkdir()
    (tmp_path / "config.py").write_text(
        "import logging\n"
        'BACKEND = "Text"\n'
        f"BOT_DATA_DIR = {str(tmp_path / 'data')!r}\n"
        f"BOT_EXTRA_PLUGIN_DIR = {str(PLUGIN_DIR)!r}\n"
        "BOT_LOG_FILE = None\n"
        "BOT_LOG_LEVEL = logging.WARNING\n"
        'BOT_ADMINS = ("@me",)\n'
        'BOT_PREFIX = "!"\n'
        "CORE_PLUGINS = ('ACLs', 'Help', 'Plugins', 'Utils', 'Health', 'TextCmds')\n"
    )
    errbot = Path(sys.executable).with_name("errbot")
    proc = subprocess.Popen(
        [str(errbot), "-c", str(tmp_path / "config.py")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "ASSISTANT_HOME": str(home)},
    )
    import queue
    import threading

    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in proc.stdout], daemon=True).start()
    seen: list[str] = []

    def until(text: str) -> None:
        deadline = time.monotonic() + 240
        while not any(text in line for line in seen):
            assert time.monotonic() < deadline and proc.poll() is None, "".join(seen)
            with contextlib.suppress(Empty):
                seen.append(lines.get(timeout=1))

    try:
        for command, answer in (
            ("!inroom", "Joined Room"),
            ("!continue --words 3 The meeting has been moved to", "privately"),
            ("!learn status", "Learning from your messages"),
        ):
            proc.stdin.write(command + "\n")
            proc.stdin.flush()
            until(answer)
        proc.stdin.close()
        proc.wait(60)
    finally:
        if proc.poll() is None:
            proc.kill()
    out = "".join(seen)
    assert "object has no attribute" not in out and "Traceback" not in out, out
    assert "I sent you the continuation privately" in out, out
    assert "The meeting has been moved to" in out.split("I sent you the continuation privately")[0], out
    assert "Learning from your messages" in out


def test_the_plugin_readme_lists_every_command() -> None:
    import re

    source = (PLUGIN_DIR / "assistant_bot.py").read_text()
    commands = re.findall(r"@botcmd(?:\([^)]*?name=\"(\w+)\"[^)]*\)|\([^)]*\))?\n    def (\w+)", source)
    names = {named or func for named, func in commands}
    readme = (PLUGIN_DIR / "README.md").read_text()
    assert names >= {"suggest", "continue", "learn", "forget", "vocab", "block", "unblock", "finetune"}
    assert all(f"`!{name}" in readme for name in names), sorted(n for n in names if f"`!{n}" not in readme)
    assert "`!forget WORD`" in readme
