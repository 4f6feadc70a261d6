"""Completion round-trip latency through the language server: pygls's client against ``assistant lsp``.

    python benchmarks/lsp_latency.py [--chars N] [--model base|personal|DIR] [--inline] [--json] [FILE]
    python benchmarks/lsp_latency.py --long-line MB [--chars N] [--server-root DIR ...] [FILE]

Replays typing a text character by character: each keystroke is one incremental ``didChange`` followed by a
``textDocument/completion`` request at the new cursor; the time from sending the change to receiving the items is
one sample (the server runs in its own process on one thread). The same keystrokes are then replayed on an
in-process ``Predictor`` for comparison, so the difference is the protocol's share. ``--inline`` also times a
``textDocument/inlineCompletion`` request after each completion. Default text: the first ``--chars`` characters
of ../shared/data/eval/general/wiki_heldout.txt (held out from the base model's training).

``--long-line MB`` times the other extreme: a document that is one line of MB megabytes (the text repeated, line
breaks made spaces) is opened, asked for a completion at its end (one sample: open and first completion), and
then ``--chars`` keystrokes are typed at its end, each one didChange + completion. ``--server-root`` (repeatable)
runs the server of another checkout (for example main's, unpacked with ``git archive``) in the same run,
alternating, so a busy machine affects both alike.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from pathlib import Path

import torch
from lsprotocol import types as t
from pygls.lsp.client import LanguageClient

from assistant.eval.metrics import latency_percentiles
from assistant.personal.models import ModelProvider, make_predictor
from assistant.shipped import base_model_dir

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_TEXT = ROOT.parent / "shared" / "data" / "eval" / "general" / "wiki_heldout.txt"
URI = "file:///benchmark/typed.txt"


def summary(samples_s: list[float]) -> dict[str, float]:
    """p50/p95/p99 and mean in milliseconds."""
    ms = [s * 1000 for s in samples_s]
    return {"n": len(ms), **latency_percentiles(ms, digits=3), "mean": sum(ms) / len(ms), "max": max(ms)}


async def start_server(model: str, root: Path = ROOT) -> LanguageClient:
    """A client talking to ``assistant lsp`` from the checkout at ``root``, initialised."""
    client = LanguageClient("lsp-latency", "0")
    env = {**os.environ, "PYTHONPATH": str(root)}
    await client.start_io(sys.executable, "-m", "assistant", "lsp", cwd=str(root), env=env)
    await client.initialize_async(
        t.InitializeParams(capabilities=t.ClientCapabilities(), initialization_options={"model": model})
    )
    client.initialized(t.InitializedParams())
    return client


async def replay_long_line(text: str, megabytes: float, keys: int, model: str, root: Path) -> dict[str, list[float]]:
    """Open one line of ``megabytes`` MB, complete at its end, then type ``keys`` characters there."""
    flat = " ".join(text.split())
    line = (flat + " ") * (int(megabytes * 1e6) // (len(flat) + 1) + 1)
    line = line[: int(megabytes * 1e6)]
    client = await start_server(model, root)
    doc = t.TextDocumentIdentifier(URI)
    col = len(line.encode("utf-16-le")) // 2
    start = time.perf_counter()
    client.text_document_did_open(t.DidOpenTextDocumentParams(t.TextDocumentItem(URI, "plaintext", 0, line)))
    await client.text_document_completion_async(t.CompletionParams(doc, t.Position(0, col)))
    samples: dict[str, list[float]] = {"open_and_first": [time.perf_counter() - start], "keystroke": []}
    for version, ch in enumerate(flat[:keys], start=1):
        here = t.Position(0, col)
        col += len(ch.encode("utf-16-le")) // 2
        start = time.perf_counter()
        client.text_document_did_change(
            t.DidChangeTextDocumentParams(
                t.VersionedTextDocumentIdentifier(uri=URI, version=version),
                [t.TextDocumentContentChangePartial(range=t.Range(here, here), text=ch)],
            )
        )
        await client.text_document_completion_async(t.CompletionParams(doc, t.Position(0, col)))
        samples["keystroke"].append(time.perf_counter() - start)
    await client.shutdown_async(None)
    client.exit(None)
    await client.stop()
    return samples


async def replay_lsp(text: str, model: str, inline: bool) -> dict[str, list[float]]:
    """Type ``text`` into the server; round-trip seconds per keystroke for each request kind."""
    client = LanguageClient("lsp-latency", "0")
    await client.start_io(sys.executable, "-m", "assistant", "lsp", cwd=str(ROOT))
    await client.initialize_async(
        t.InitializeParams(capabilities=t.ClientCapabilities(), initialization_options={"model": model})
    )
    client.initialized(t.InitializedParams())
    client.text_document_did_open(t.DidOpenTextDocumentParams(t.TextDocumentItem(URI, "plaintext", 0, "")))
    doc = t.TextDocumentIdentifier(URI)
    samples: dict[str, list[float]] = {"completion": [], "inline": []}
    line = col = 0
    for version, ch in enumerate(text, start=1):
        here = t.Position(line, col)
        line, col = (line + 1, 0) if ch == "\n" else (line, col + len(ch.encode("utf-16-le")) // 2)
        cursor = t.Position(line, col)
        start = time.perf_counter()
        client.text_document_did_change(
            t.DidChangeTextDocumentParams(
                t.VersionedTextDocumentIdentifier(uri=URI, version=version),
                [t.TextDocumentContentChangePartial(range=t.Range(here, here), text=ch)],
            )
        )
        await client.text_document_completion_async(t.CompletionParams(doc, cursor))
        samples["completion"].append(time.perf_counter() - start)
        if inline:
            start = time.perf_counter()
            context = t.InlineCompletionContext(t.InlineCompletionTriggerKind.Automatic)
            await client.text_document_inline_completion_async(t.InlineCompletionParams(context, doc, cursor))
            samples["inline"].append(time.perf_counter() - start)
    await client.shutdown_async(None)
    client.exit(None)
    await client.stop()
    return {k: v for k, v in samples.items() if v}


def replay_engine(text: str, model_dir: Path) -> list[float]:
    """The same keystrokes on an in-process predictor (words only, as the completion request asks)."""
    predictor = make_predictor(ModelProvider().folder(model_dir))
    samples = []
    for i in range(1, len(text) + 1):
        start = time.perf_counter()
        predictor.suggest(text[:i], 5, phrase=False)
        samples.append(time.perf_counter() - start)
    return samples


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("file", nargs="?", type=Path, default=DEFAULT_TEXT)
    parser.add_argument("--chars", type=int, default=600, help="characters typed (one request each)")
    parser.add_argument("--model", default="base", help="'base', 'personal' or a model folder (default base)")
    parser.add_argument("--inline", action="store_true", help="also time inlineCompletion after each keystroke")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--long-line", type=float, metavar="MB", help="one line of MB megabytes (see above)")
    parser.add_argument("--server-root", type=Path, action="append", default=[], help="another checkout's server")
    parser.add_argument("--rounds", type=int, default=2, help="--long-line: alternating rounds per server")
    args = parser.parse_args(argv)

    torch.set_num_threads(1)
    if args.long_line:
        return long_line_report(args)
    text = args.file.read_text(encoding="utf-8")[: args.chars]
    lsp = asyncio.run(replay_lsp(text, args.model, args.inline))
    report: dict[str, object] = {
        "text": str(args.file),
        "chars": len(text),
        "model": args.model,
        **{f"lsp_{kind}_ms": summary(v) for kind, v in lsp.items()},
    }
    model_dir = base_model_dir() if args.model == "base" else Path(args.model)
    if args.model != "personal":
        report["engine_words_ms"] = summary(replay_engine(text, model_dir))
    if args.json:
        print(json.dumps(report, indent=1))
        return 0
    print(f"{len(text)} keystrokes of {args.file.name}, model {args.model}")
    for key, value in report.items():
        if isinstance(value, dict):
            print(f"{key:<22} p50 {value['p50']:6.2f}  p95 {value['p95']:6.2f}  p99 {value['p99']:6.2f}  (ms)")
    return 0


def long_line_report(args: argparse.Namespace) -> int:
    """The ``--long-line`` case for this checkout and each ``--server-root``, in alternating rounds."""
    text = args.file.read_text(encoding="utf-8")
    roots = [ROOT, *args.server_root]
    keys = min(args.chars, 200)
    samples: dict[str, dict[str, list[float]]] = {str(r): {} for r in roots}
    for _ in range(args.rounds):
        for root in roots:
            got = asyncio.run(replay_long_line(text, args.long_line, keys, args.model, root))
            for kind, values in got.items():
                samples[str(root)].setdefault(kind, []).extend(values)
            if not args.json:  # as it goes: a slow server's round can take minutes
                first, key = summary(got["open_and_first"]), summary(got["keystroke"])
                print(
                    f"  round: {root}: open + first {first['mean']:.0f} ms, keystroke p50 {key['p50']:.2f} ms",
                    flush=True,
                )
    report = {root: {k: summary(v) for k, v in kinds.items()} for root, kinds in samples.items()}
    if args.json:
        print(json.dumps(report, indent=1))
        return 0
    print(f"one line of {args.long_line} MB, {keys} keystrokes at its end x {args.rounds} rounds, model {args.model}")
    for root, kinds in report.items():
        first = kinds["open_and_first"]
        key = kinds["keystroke"]
        print(
            f"{root}: open + first completion mean {first['mean']:.0f} ms; keystroke p50 {key['p50']:.2f} "
            f"p95 {key['p95']:.2f} max {key['max']:.2f} (ms)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
