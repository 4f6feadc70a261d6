"""The Matrix bot under load: many users over a real Synapse on 127.0.0.1, reply times and the bot's memory.

    python benchmarks/matrix_bot.py [--users 50] [--phases 2 5 10 burst] [--requests 4] [--burst-requests 6]
                                    [--cache-size 16] [FILE]

Starts Synapse (SQLite, a free port, in a temporary folder), registers the bot and ``--users`` users, and runs
``assistant matrix --config --debug`` as its own process (the shipped base model, a fresh ``ASSISTANT_HOME``).
Every user opens a direct chat with the bot, opts in (``!learn on``) and writes a few lines, so each has a
personal memory. Then, phase by phase, the users send ``!suggest`` requests (cuts of FILE, default
../shared/data/eval/general/chat_heldout.txt, half of them asking for the next word), timed from the send to
the reply seen by the user's own client (a long-polling sync):

- a number R: a paced load of R requests a second in all, ``--requests`` per user: the send times are a
  Poisson process of rate R dealt out to the users in turn, so each user asks about every ``users / R`` seconds,
  like a person (and, like a person, not before the reply to their previous request has come).
- ``burst``: all users at once, ``--burst-requests`` each, 0.2-1 s apart (far more than the machine serves).

For each phase: p50/p95/p99/max reply time, offered and served rates, the bot's own timings of the same requests
(from its DEBUG log: queued, worked, sent; see ``assistant/matrix/timing.py``), the bot's resident memory (peak
during the phase, at its end, and VmHWM), the CPU each party used (in cores) and the load average. With
``--cache-size`` below ``--users``, predictors and idle spaces are evicted.
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
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

from assistant.eval.metrics import latency_percentiles  # noqa: E402
from assistant.matrix.harness import PASSWORD, Person  # noqa: E402
from assistant.matrix.localserver import Synapse  # noqa: E402
from assistant.matrix.timing import CommandTiming, parse  # noqa: E402

DEFAULT_TEXT = ROOT.parent / "shared" / "data" / "eval" / "general" / "chat_heldout.txt"
POLL_MS = 30_000
"""A user's sync waits this long for news, as a chat client's does (it returns when the reply comes)."""
TICK = os.sysconf("SC_CLK_TCK")


def memory_mb(pid: int) -> dict[str, float]:
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return {k: round(int(fields[k].split()[0]) / 1024, 1) for k in ("VmRSS", "VmHWM")}


def cpu_s(pid: int) -> float:
    """User and system CPU seconds of ``pid`` so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def load_average() -> float:
    return float(Path("/proc/loadavg").read_text().split()[0])


class Watch:
    """Samples the bot's memory and the load average while a phase runs."""

    def __init__(self, bot_pid: int) -> None:
        self.bot_pid = bot_pid
        self.peak_rss = 0.0
        self.peak_load = 0.0
        self._task: asyncio.Task[None] | None = None

    async def _sample(self) -> None:
        while True:
            self.peak_rss = max(self.peak_rss, memory_mb(self.bot_pid)["VmRSS"])
            self.peak_load = max(self.peak_load, load_average())
            await asyncio.sleep(0.25)

    def __enter__(self) -> Watch:
        self._task = asyncio.get_running_loop().create_task(self._sample())
        return self

    def __exit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()


def bot_figures(timings: list[CommandTiming]) -> dict[str, Any]:
    """The bot's own view of the ``suggest`` requests (ms)."""
    mine = [t for t in timings if t.command == "suggest"]
    if not mine:
        return {}
    return {
        "requests_seen": len(mine),
        "bot_ms": latency_percentiles([t.bot_ms for t in mine], 1),
        "queued_ms": latency_percentiles([t.queued_ms for t in mine], 1),
        "worked_ms": latency_percentiles([t.worked_ms for t in mine], 1),
        "sent_ms": latency_percentiles([t.sent_ms for t in mine], 1),
        "delivered_ms": latency_percentiles([t.delivered_ms for t in mine], 1),
    }


def poisson_plans(rng: random.Random, rate: float, users: int, requests: int) -> list[list[float]]:
    """Send times of ``users * requests`` requests arriving as a Poisson process of ``rate`` a second, dealt out
    to the users in turn (each user's requests about ``users / rate`` seconds apart, like a person's)."""
    plans: list[list[float]] = [[] for _ in range(users)]
    at = 0.0
    for k in range(users * requests):
        at += rng.expovariate(rate)
        plans[k % users].append(at)
    return plans


class Load:
    """The users, the bot's process and its log, ready for phases."""

    def __init__(self, server: Synapse, people: list[Person], rooms: list[str], text: str, bot_pid: int, log: Path):
        self.server, self.people, self.rooms, self.text = server, people, rooms, text
        self.bot_pid, self.log = bot_pid, log
        self.rng = random.Random(1234)

    def cut(self, length: int = 160) -> str:
        at = self.rng.randrange(length, len(self.text) - 1)
        return " ".join(self.text[at - length : at].split())

    def request(self, pause: random.Random) -> str:
        words = self.cut()
        if pause.random() < 0.5:
            words = words.rsplit(" ", 1)[0] + " _"
        return f"!suggest {words}"

    async def phase(self, name: str, plans: list[list[float]], paced: bool) -> dict[str, Any]:
        """User ``i`` sends ``len(plans[i])`` requests, each waiting for the reply to the one before. Paced: at
        the times ``plans[i]`` (seconds from the start; at once if the reply came later); else each after a pause
        of ``plans[i][k]`` seconds from the previous reply."""
        times: list[float] = []
        sends: list[float] = []
        log_at = self.log.stat().st_size
        cpu0 = {"bot": cpu_s(self.bot_pid), "synapse": cpu_s(self.server.process.pid), "users": time.process_time()}
        start = time.perf_counter()

        async def user(person: Person, room: str, plan: list[float], seed: int) -> None:
            rng = random.Random(seed)
            for at in plan:
                await asyncio.sleep(max(0.0, start + at - time.perf_counter()) if paced else at)
                body = self.request(rng)
                t0 = time.perf_counter()
                sends.append(t0)
                await person.ask(room, body)
                times.append((time.perf_counter() - t0) * 1e3)

        with Watch(self.bot_pid) as watch:
            users = zip(self.people, self.rooms, plans, strict=True)
            await asyncio.gather(*(user(p, r, plan, i) for i, (p, r, plan) in enumerate(users)))
            elapsed = time.perf_counter() - start
        cpu1 = {"bot": cpu_s(self.bot_pid), "synapse": cpu_s(self.server.process.pid), "users": time.process_time()}
        await asyncio.sleep(0.5)  # the last timing lines reach the log
        with self.log.open(encoding="utf-8") as f:
            f.seek(log_at)
            timings = parse(f.read())
        offered = len(sends) / max(max(sends) - min(sends), 1e-9)
        return {
            "phase": name,
            "requests": len(times),
            "seconds": round(elapsed, 1),
            "offered_per_s": round(offered, 1),
            "served_per_s": round(len(times) / elapsed, 1),
            "reply_ms": latency_percentiles(times, 0),
            "reply_max_ms": round(max(times)),
            "bot": bot_figures(timings),
            "bot_rss_mb": {"peak": watch.peak_rss, **memory_mb(self.bot_pid)},
            "cpu_cores": {k: round((cpu1[k] - cpu0[k]) / elapsed, 2) for k in cpu0},
            "load_average": {"end": load_average(), "peak": watch.peak_load},
        }


async def run(
    server: Synapse, names: list[str], text: str, args: argparse.Namespace, bot_pid: int, log: Path
) -> dict[str, Any]:
    people = [await Person(server, name).login() for name in names]
    bot_id = server.user_id("bot")
    rooms = []
    for person in people:
        room = await person.create_room(direct=True)
        await person.client.room_invite(room, bot_id)
        rooms.append(room)
    load = Load(server, people, rooms, text, bot_pid, log)
    for person, room in zip(people, rooms, strict=True):
        await person.joined(room, bot_id)
        await person.ask(room, "!learn on")
        for _ in range(3):
            await person.say(room, load.cut(120))
        await person.ask(room, "!learn status")  # its lines are stored
        person.poll_ms = POLL_MS
    result: dict[str, Any] = {"bot_memory_after_setup_mb": memory_mb(bot_pid), "phases": []}
    for phase in args.phases:
        rng = random.Random(phase)
        if phase == "burst":
            plans = [[rng.uniform(0.2, 1.0) for _ in range(args.burst_requests)] for _ in people]
            report = await load.phase("burst", plans, paced=False)
        else:
            plans = poisson_plans(rng, float(phase), len(people), args.requests)
            report = await load.phase(f"{phase}/s", plans, paced=True)
        print(json.dumps(report), file=sys.stderr, flush=True)
        result["phases"].append(report)
    for person in people:
        await person.close()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", nargs="?", type=Path, default=DEFAULT_TEXT)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--phases", nargs="+", default=["2", "5", "10", "burst"], help="rates (requests/s), burst")
    parser.add_argument("--requests", type=int, default=4, help="!suggest requests per user in a paced phase")
    parser.add_argument("--burst-requests", type=int, default=6, help="!suggest requests per user in the burst")
    parser.add_argument("--cache-size", type=int, default=16, help="users whose predictors stay loaded")
    args = parser.parse_args()
    text = args.file.read_text(encoding="utf-8")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        server = Synapse(folder / "synapse")
        server.start()
        bot = None
        log = folder / "bot.log"
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
                [sys.executable, "-m", "assistant", "matrix", "--config", str(config), "--debug"],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=log.open("w"),
            )
            result = asyncio.run(run(server, names, text, args, bot.pid, log))
        finally:
            if bot is not None:
                bot.terminate()
                bot.wait(60)
            server.stop()
    print(json.dumps({"users": args.users, "cache_size": args.cache_size, **result}, indent=1))


if __name__ == "__main__":
    main()
