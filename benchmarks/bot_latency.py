"""Chat-bot plugin latency: ``!suggest`` and ``!continue`` round trips through Errbot's own test backend.

    python benchmarks/bot_latency.py [--requests N] [FILE]

Starts Errbot's test bot with ``plugins/errbot`` in a fresh temporary ``ASSISTANT_HOME`` (shipped base model),
then sends ``!suggest`` for N cuts of a text (default: ../shared/data/eval/general/chat_heldout.txt), each cut
ending inside a word or after a space (`` _``), and N 12-word greedy ``!continue`` requests, timing each from
the message pushed to the reply popped. The first request (loading and quantising the model) is reported apart.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import tempfile
import time
from pathlib import Path

from errbot.backends.test import TestBot

from assistant.eval.metrics import latency_percentiles

ROOT = Path(__file__).resolve().parents[1]
PLUGIN_DIR = ROOT / "plugins" / "errbot"
DEFAULT_TEXT = ROOT.parent / "shared" / "data" / "eval" / "general" / "chat_heldout.txt"


def timed(bot: TestBot, text: str) -> tuple[float, str]:
    """Milliseconds from pushing ``text`` to popping the reply, and the reply."""
    t0 = time.perf_counter()
    bot.push_message(text)
    reply = bot.pop_message(timeout=30)
    return (time.perf_counter() - t0) * 1e3, reply


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", nargs="?", type=Path, default=DEFAULT_TEXT)
    parser.add_argument("--requests", type=int, default=100)
    args = parser.parse_args()
    text = args.file.read_text(encoding="utf-8")
    rng = random.Random(1234)
    with tempfile.TemporaryDirectory() as home:
        os.environ["ASSISTANT_HOME"] = home
        os.environ.pop("ASSISTANT_BASE_MODEL", None)
        bot = TestBot(extra_plugin_dir=str(PLUGIN_DIR), loglevel=logging.WARNING)
        bot.start()
        try:
            bot.bot.sender = bot.bot.build_identifier("bench-user")
            first, _ = timed(bot, "!suggest The meeting has been mov")
            suggest: list[float] = []
            for _ in range(args.requests):
                cut = rng.randrange(200, len(text) - 1)
                seed = " ".join(text[cut - 200 : cut].split())  # one chat line, as a client sends it
                if rng.random() < 0.5:
                    seed = seed.rsplit(" ", 1)[0] + " _"  # the next word
                ms, _ = timed(bot, f"!suggest {seed}")
                suggest.append(ms)
            cont: list[float] = []
            for _ in range(args.requests // 4):
                cut = rng.randrange(200, len(text) - 1)
                seed = " ".join(text[cut - 200 : cut].split())
                ms, _ = timed(bot, f"!continue --words 12 {seed}")
                cont.append(ms)
        finally:
            bot.stop()
    result = {
        "file": args.file.name,
        "first_request_ms": round(first, 1),
        "suggest_ms": latency_percentiles(suggest),
        "continue_12_words_ms": latency_percentiles(cont),
        "requests": {"suggest": len(suggest), "continue": len(cont)},
    }
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
