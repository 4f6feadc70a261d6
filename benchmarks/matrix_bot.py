"""The Matrix bot under load: many users over a real Synapse on 127.0.0.1, reply times and the bot's memory.

    python benchmarks/matrix_bot.py [--users 50] [--requests 6] [--cache-size 16] [FILE]

Starts Synapse (SQLite, a free port, in a temporary folder), registers the bot and ``--users`` users, and runs
``assistant matrix --config`` as its own process (the shipped base model, a fresh ``ASSISTANT_HOME``). Every user
opens a direct chat with the bot, opts in (``!learn on``) and writes a few lines, so each has a personal memory;
then all users at once send ``--requests`` ``!suggest`` requests each (cuts of FILE, default
../shared/data/eval/general/chat_heldout.txt), each after a pause of 0.2-1 s, timing send -> reply seen by the
user's own client. Prints p50/p95/max reply times and the bot's resident memory (VmRSS, and its peak VmHWM)
after set-up and at the end; with ``--cache-size`` below ``--users``, predictors and idle spaces are evicted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from assistant.eval.metrics import latency_percentiles  # noqa: E402
from assistant.matrix.harness import PASSWORD, Person  # noqa: E402
from assistant.matrix.localserver import Synapse  # noqa: E402

DEFAULT_TEXT = ROOT.parent / "shared" / "data" / "eval" / "general" / "chat_heldout.txt"


def rss_mb(pid: int) -> dict[str, float]:
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return {k: round(int(fields[k].split()[0]) / 1024, 1) for k in ("VmRSS", "VmHWM")}


async def load(server: Synapse, names: list[str], text: str, requests: int, bot_pid: int) -> dict[str, object]:
    rng = random.Random(1234)

    def cut(length: int = 160) -> str:
        at = rng.randrange(length, len(text) - 1)
        return " ".join(text[at - length : at].split())

    people = [await Person(server, name).login() for name in names]
    bot_id = server.user_id("bot")
    rooms = []
    for person in people:
        room = await person.create_room(direct=True)
        await person.client.room_invite(room, bot_id)
        rooms.append(room)
    for person, room in zip(people, rooms, strict=True):
        await person.joined(room, bot_id)
        await person.ask(room, "!learn on")
        for _ in range(3):
            await person.say(room, cut(120))
        await person.ask(room, "!learn status")  # its lines are stored
    after_setup = rss_mb(bot_pid)
    times: list[float] = []

    async def user(person: Person, room: str, seed: int) -> None:
        pause = random.Random(seed)
        for _ in range(requests):
            await asyncio.sleep(pause.uniform(0.2, 1.0))
            words = cut()
            if pause.random() < 0.5:
                words = words.rsplit(" ", 1)[0] + " _"
            t0 = time.perf_counter()
            await person.ask(room, f"!suggest {words}")
            times.append((time.perf_counter() - t0) * 1e3)

    t0 = time.perf_counter()
    await asyncio.gather(*(user(p, r, i) for i, (p, r) in enumerate(zip(people, rooms, strict=True))))
    elapsed = time.perf_counter() - t0
    for person in people:
        await person.close()
    return {
        "suggest_ms": latency_percentiles(times),
        "suggest_max_ms": round(max(times), 1),
        "requests": len(times),
        "requests_per_s": round(len(times) / elapsed, 1),
        "bot_memory_after_setup_mb": after_setup,
        "bot_memory_at_end_mb": rss_mb(bot_pid),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", nargs="?", type=Path, default=DEFAULT_TEXT)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--requests", type=int, default=6, help="!suggest requests per user")
    parser.add_argument("--cache-size", type=int, default=16, help="users whose predictors stay loaded")
    args = parser.parse_args()
    text = args.file.read_text(encoding="utf-8")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        server = Synapse(folder / "synapse")
        server.start()
        bot = None
        try:
            names = [f"user{i:03d}" for i in range(args.users)]
            for name in ["bot", *names]:
                server.register(name, PASSWORD)
            config = folder / "bot.toml"
            config.write_text(
                f'homeserver = "{server.url}"\nuser_id = "{server.user_id("bot")}"\n'
                f'data_dir = "{folder / "matrix"}"\ncache_size = {args.cache_size}\n'
            )
            config.chmod(0o600)
            env = {**os.environ, "ASSISTANT_HOME": str(folder / "home"), "ASSISTANT_MATRIX_PASSWORD": PASSWORD}
            env.pop("ASSISTANT_BASE_MODEL", None)
            bot = subprocess.Popen(
                [sys.executable, "-m", "assistant", "matrix", "--config", str(config)],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=(folder / "bot.log").open("w"),
            )
            result = asyncio.run(load(server, names, text, args.requests, bot.pid))
        finally:
            if bot is not None:
                bot.terminate()
                bot.wait(60)
            server.stop()
    print(json.dumps({"users": args.users, "cache_size": args.cache_size, **result}, indent=1))


if __name__ == "__main__":
    main()
