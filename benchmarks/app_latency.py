"""Latency of the writing app as a user sees it, driven through Textual's Pilot (headless, the real app).

    python benchmarks/app_latency.py [--chars N] [--while-learning] [--json] [FILE]
    python benchmarks/app_latency.py --against DIR [--rounds N] [--chars N] [FILE]

``--against DIR`` measures this checkout's app and another one's (say main's, from ``git archive``) one after the
other with this harness, ``--rounds`` times each, in fresh processes, so that both meet the same machine load.
``--pause-ms`` waits after each answer before the next key, as a typist does (0, the default, sends the next key
as soon as the answer is on screen, so each key also waits for Textual's next frame slot).

Measures, with the shipped base model (or the active model of a fresh user folder):
- start: from creating the app to the first suggestions on screen, for a document that already has text;
- keystroke: from a key event entering the app (as Pilot sends it) to the screen update that shows the ghost text
  and suggestion bar for the new text (the app's answer applied, then the next frame written), replaying FILE
  character by character (default: ../shared/data/eval/general/chat_heldout.txt, first --chars characters).
  Pilot's own ``press`` waits for the whole process to go idle after every key, which adds tens of ms that a
  user never sees, so the keys are sent the way ``press`` sends them and the wait is timed here;
- resident memory of the process after the replay.

``--while-learning`` replays while a background fine-tune runs on an author's 20k words
(../shared/data/eval/personal/austen/train_small.txt), to show that typing does not wait for it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CODE_ENV = "APP_LATENCY_CODE"
ROOT = Path(os.environ.get(CODE_ENV) or Path(__file__).resolve().parents[1])
"""The checkout whose app is measured (this one, or the one ``--against`` names)."""
sys.path.insert(0, str(ROOT))

from textual import events  # noqa: E402
from textual.keys import _character_to_key  # noqa: E402

from assistant.app.app import WriterApp  # noqa: E402
from assistant.app.driving import answered, settle, wait_until  # noqa: E402
from assistant.eval.metrics import latency_percentiles  # noqa: E402
from assistant.store.documents import DocumentStore  # noqa: E402
from assistant.store.paths import Paths  # noqa: E402
from benchmarks.latency import rss_mb  # noqa: E402

EVAL = ROOT.parent / "shared" / "data" / "eval" / "general" / "chat_heldout.txt"
AUTHOR = ROOT.parent / "shared" / "data" / "eval" / "personal" / "austen"


def key_event(ch: str) -> events.Key | None:
    """The key event a terminal gives for a character (None: skip it)."""
    if ch == "\n":
        return events.Key("enter", "\r")
    if ch == "\t" or not ch.isprintable():
        return None
    return events.Key(_character_to_key(ch), ch)


class FrameClock:
    """When the app last wrote a screen update (wraps the app's display call)."""

    def __init__(self, app: WriterApp) -> None:
        self.last = 0.0
        display = app._display

        def timed(screen: object, renderable: object) -> None:
            display(screen, renderable)  # type: ignore[arg-type]
            if renderable is not None:
                self.last = time.perf_counter()

        app._display = timed  # type: ignore[method-assign]


def on_screen(app: WriterApp) -> tuple[str, str]:
    """What the answer changes: the ghost text and the suggestion bar."""
    return app.editor.suggestion, app.bar.render().plain


async def keystroke(app: WriterApp, event: events.Key, frames: FrameClock) -> tuple[float, float]:
    """Milliseconds from sending ``event`` to the first frame that shows the answer for the new text, and to the
    moment the app applied the answer (the rest is the wait for a frame).

    When the answer leaves the screen as the key's own edit left it (same ghost, same candidates), the frame
    that showed the edit already shows the answer.
    """
    version = app.editor.text_version
    t = time.perf_counter()
    app._driver.send_message(event)  # type: ignore[union-attr]
    while app.editor.text_version == version:
        await asyncio.sleep(0.0002)
    shown = on_screen(app)
    while not answered(app):
        await asyncio.sleep(0.0002)
    applied = app.shown_at  # not when this loop noticed: a frame may have been drawn in between
    needed = applied if on_screen(app) != shown else t  # unchanged: the edit's own frame shows the answer
    while frames.last < needed:
        await asyncio.sleep(0.0002)
    return (max(frames.last, applied) - t) * 1000, (applied - t) * 1000


async def replay(text: str, start_text: str, learn_text: str | None, pause_s: float = 0.0) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as home:
        paths = Paths.at(Path(home))
        store = DocumentStore(paths.documents)
        store.save("Draft", start_text)
        if learn_text:
            store.save("Learned", learn_text)
        t0 = time.perf_counter()
        app = WriterApp(paths)
        async with app.run_test(size=(100, 30)) as pilot:
            app.editor.move_cursor(app.editor.document.end)
            await wait_until(pilot, lambda: app.shown_key is not None, 60, "the first suggestions")
            await pilot.pause()
            start_s = time.perf_counter() - t0
            await settle(pilot, app)
            if learn_text:
                app.start_learning()
            frames = FrameClock(app)
            times: list[float] = []
            applied: list[float] = []
            for ch in text:
                event = key_event(ch)
                if event is not None:
                    total, answer = await asyncio.wait_for(keystroke(app, event, frames), 30)
                    times.append(total)
                    if pause_s:
                        await asyncio.sleep(pause_s)  # a typist's pause: the next key meets an idle screen
                    applied.append(answer)
            learning = app.space.finetuning if learn_text else None
            rss = rss_mb()
            app.space.stop_finetune(timeout=30)
    return {
        "keystrokes": len(times),
        "start_to_first_suggestion_s": round(start_s, 3),
        "keystroke_ms": latency_percentiles(times),
        "answer_applied_ms": latency_percentiles(applied),
        "max_ms": round(max(times), 2),
        "rss_mb": round(rss, 1),
        "learning_ran_throughout": learning,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("file", nargs="?", type=Path, default=EVAL)
    parser.add_argument("--chars", type=int, default=1500)
    parser.add_argument("--while-learning", action="store_true")
    parser.add_argument(
        "--document-chars", type=int, default=2000, help="size of the open document (FILE repeated as needed)"
    )
    parser.add_argument(
        "--pause-ms", type=float, default=0.0, help="wait this long after each answer before the next key (0: none)"
    )
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--against", type=Path, help="another checkout to alternate with (its own benchmark)")
    parser.add_argument("--rounds", type=int, default=3, help="runs of each checkout with --against")
    args = parser.parse_args()
    if args.against:
        alternate(args)
        return
    full = args.file.read_text(encoding="utf-8")
    start_text = (full * (args.document_chars // len(full) + 1))[: args.document_chars]
    text = full[2000 : 2000 + args.chars]
    learn_text = None
    if args.while_learning:
        learn_text = (AUTHOR / "train_small.txt").read_text(encoding="utf-8")
    result = {"file": args.file.name, **asyncio.run(replay(text, start_text, learn_text, args.pause_ms / 1000))}
    if args.json:
        print(json.dumps(result, indent=1))
        return
    ms = result["keystroke_ms"]
    print(f"{result['file']}: {result['keystrokes']} keystrokes through Pilot")
    print(f"  key press -> suggestions on screen: p50 {ms['p50']} / p95 {ms['p95']} / p99 {ms['p99']} ms")  # type: ignore[index]
    print(
        f"  start -> first suggestion: {result['start_to_first_suggestion_s']} s; resident memory {result['rss_mb']} MB"
    )
    if args.while_learning:
        print(f"  a fine-tune ran in the background throughout: {result['learning_ran_throughout']}")


def alternate(args: argparse.Namespace) -> None:
    """Run the benchmark of ``args.against`` and of this checkout in turn and print each run and the medians."""
    command = ["--json", "--chars", str(args.chars), "--document-chars", str(args.document_chars)]
    command += ["--pause-ms", str(args.pause_ms), str(args.file)]
    runs: dict[str, list[dict]] = {"this": [], str(args.against): []}
    for i in range(args.rounds):
        for label, root in ((str(args.against), args.against.resolve()), ("this", ROOT)):
            env = {**os.environ, CODE_ENV: str(root)}  # the same harness measures both apps
            out = subprocess.run(
                [sys.executable, __file__, *command], capture_output=True, text=True, check=True, env=env
            )
            result = json.loads(out.stdout)
            runs[label].append(result)
            ms = result["keystroke_ms"]
            print(
                f"round {i + 1} {label}: p50 {ms['p50']} / p95 {ms['p95']} / p99 {ms['p99']} ms, start "
                f"{result['start_to_first_suggestion_s']} s",
                flush=True,
            )
    for label, results in runs.items():
        med = {q: statistics.median(r["keystroke_ms"][q] for r in results) for q in ("p50", "p95", "p99")}
        start = statistics.median(r["start_to_first_suggestion_s"] for r in results)
        print(
            f"median of {len(results)} {label}: p50 {med['p50']:.1f} / p95 {med['p95']:.1f} / p99 "
            f"{med['p99']:.1f} ms, start {start:.2f} s"
        )


if __name__ == "__main__":
    main()
