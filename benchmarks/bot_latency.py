"""Chat-bot plugin latency with many users: ``!suggest`` and ``!continue`` round trips through Errbot's test backend.

    python benchmarks/bot_latency.py [--users 200] [--requests N] [--root CHECKOUT] [--profile] [FILE]

Starts Errbot's test bot with ``plugins/errbot`` in a fresh temporary ``ASSISTANT_HOME`` (shipped base model).
Every user opts in and writes a few chat lines (so each has a personal memory), then ``!suggest`` requests come
from users picked at random (far more users than the predictor cache holds, so many are answered after their
predictor was evicted), for cuts of a text (default: ../shared/data/eval/general/chat_heldout.txt) ending inside a
word or after a space (`` _``); then 12-word greedy ``!continue`` requests. Each is timed from the message pushed
to the reply popped. ``--root`` runs another checkout's plugin and package (main's, to compare in one run);
``--profile`` prints where the time of the ``!suggest`` requests went.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import json
import logging
import os
import pstats
import random
import resource
import sys
import tempfile
import time
from pathlib import Path
from queue import Empty

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_TEXT = ROOT.parent / "shared" / "data" / "eval" / "general" / "chat_heldout.txt"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", nargs="?", type=Path, default=DEFAULT_TEXT)
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--lines", type=int, default=5, help="chat lines each user writes first")
    parser.add_argument("--root", type=Path, default=ROOT, help="checkout whose plugin and package run")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    sys.path.insert(0, str(args.root))  # that checkout's `assistant` package
    from errbot.backends.test import TestBot

    from assistant.eval.metrics import latency_percentiles

    text = args.file.read_text(encoding="utf-8")
    rng = random.Random(1234)

    def cut(length: int = 200) -> str:
        at = rng.randrange(length, len(text) - 1)
        return " ".join(text[at - length : at].split())  # one chat line, as a client sends it

    with tempfile.TemporaryDirectory() as home:
        os.environ["ASSISTANT_HOME"] = home
        os.environ.pop("ASSISTANT_BASE_MODEL", None)
        bot = TestBot(extra_plugin_dir=str(args.root / "plugins" / "errbot"), loglevel=logging.WARNING)
        bot.start()

        def timed(user: str, message: str) -> float:
            with contextlib.suppress(Empty):
                while True:  # anything left from before is not this reply
                    bot.pop_message(timeout=0)
            bot.bot.sender = bot.bot.build_identifier(user)
            t0 = time.perf_counter()
            bot.push_message(message)
            bot.pop_message(timeout=60)
            return (time.perf_counter() - t0) * 1e3

        try:
            users = [f"user{i:03d}" for i in range(args.users)]
            first = timed(users[0], "!suggest The meeting has been mov")
            t0 = time.perf_counter()
            for user in users:
                timed(user, "!learn on")
                for _ in range(args.lines):
                    bot.push_message(cut(120))  # plain messages: learned, not answered
                # The test backend binds a message to the sender when it takes it from its queue: this reply
                # comes once every line above was taken as this user's.
                timed(user, "!learn status")
            setup_s = time.perf_counter() - t0
            profile = cProfile.Profile() if args.profile else None
            suggest: list[float] = []
            if profile:
                profile.enable()
            for _ in range(args.requests):
                seed = cut()
                if rng.random() < 0.5:
                    seed = seed.rsplit(" ", 1)[0] + " _"  # the next word
                suggest.append(timed(rng.choice(users), f"!suggest {seed}"))
            if profile:
                profile.disable()
            cont = [timed(rng.choice(users), f"!continue --words 12 {cut()}") for _ in range(args.requests // 8)]
        finally:
            bot.stop()
    result = {
        "root": str(args.root),
        "users": args.users,
        "first_request_ms": round(first, 1),
        "setup_s": round(setup_s, 1),
        "suggest_ms": latency_percentiles(suggest),
        "suggest_max_ms": round(max(suggest), 1),
        "continue_12_words_ms": latency_percentiles(cont),
        "requests": {"suggest": len(suggest), "continue": len(cont)},
        "max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }
    print(json.dumps(result, indent=1))
    if profile:
        pstats.Stats(profile).sort_stats("cumulative").print_stats(25)


if __name__ == "__main__":
    main()
