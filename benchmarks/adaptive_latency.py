"""Latency and size of adaptive prediction: a 20,000-word document and a 1M-word personal memory, one thread.

    python benchmarks/adaptive_latency.py [--doc-words 20000] [--personal-words 1000000] [--chars 3000]
        [--neural] [--ngram DIR | --no-ngram] [--no-dynamic]

Reads ../shared/data/train/*.txt (the personal memory's text: paragraphs in file order until --personal-words)
and ../shared/data/eval/general/tech_heldout.txt (the document). Measures, in a temporary ASSISTANT_HOME-like
folder: building the memory from a store of 100 documents, its file size, loading it, one sync after one
paragraph of one document changed (in memory, then the file write). Then, in a fresh process that loads the
memory file as the app does (so the resident memory is the app's, not the build's): ``Predictor.suggest`` on
every keystroke of --chars characters typed after the first --doc-words words of the document (the predictor
has read them, as after opening it), with p50/p95/p99 and the resident memory. ``--neural`` turns the neural cache
on; the general n-gram beside the model (or ``--ngram DIR``) is a source unless ``--no-ngram``. After each
keystroke the predictor gets one ``idle`` call, as the app's answering thread gives it while no key waits: the
output layer's dynamic evaluation (unless ``--no-dynamic``) or reading the next read window ahead; timed apart,
``idle_ms`` for the calls that did some work. ``after_idle_ms`` are the keystrokes right after one,
``rows_stepped`` the search's GRU rows over the keystrokes (the work done, the same on any machine), ``slowest_ms``
the slowest keystroke (the window's moves, every 2,048 characters, fall between p99 and it).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch
from adaptive import DATA
from benchdata import require, texts_in
from latency import rss_mb

from assistant.engine.neuralcache import NeuralCacheSettings
from assistant.engine.ngramsource import NgramSource
from assistant.engine.predictor import Predictor
from assistant.eval.metrics import latency_percentiles
from assistant.heap import return_large_blocks
from assistant.lm.io import load_model
from assistant.personal.memory import FILE_NAME, PersonalMemory
from assistant.personal.models import DYNAMIC
from assistant.shipped import base_model_dir
from assistant.store.documents import DocumentStore
from assistant.text.paragraphs import paragraph_tail, paragraphs
from assistant.text.words import count_words, partial_word, word_spans, words

TRAIN = DATA.parent / "train"
DOCUMENT = DATA / "general" / "tech_heldout.txt"


def personal_paragraphs(limit: int) -> list[str]:
    """Paragraphs of the training mix, in file order, until ``limit`` words."""
    out: list[str] = []
    total = 0
    for path in sorted(TRAIN.glob("*.txt")):
        for p in paragraphs(path.read_text(encoding="utf-8")):
            out.append(p)
            total += count_words(p)
            if total >= limit:
                return out
    return out


def measure_in_fresh_process(memory_file: Path, args: argparse.Namespace) -> dict[str, object]:
    """:func:`keystrokes` in a new interpreter (this one holds the build's garbage), its figures."""
    argv = [sys.executable, __file__, "--memory-file", str(memory_file), "--doc-words", str(args.doc_words)]
    argv += ["--chars", str(args.chars)]
    argv += ["--static"] * args.static + ["--neural"] * args.neural + ["--no-ngram"] * args.no_ngram
    argv += ["--no-dynamic"] * args.no_dynamic
    argv += ["--ngram", str(args.ngram)] if args.ngram else []
    argv += ["--model", str(args.model)] if args.model else []
    done = subprocess.run(argv, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def keystrokes(memory_file: Path, args: argparse.Namespace) -> dict[str, object]:
    """Load the memory file, the model and the n-gram as the app does, open the document, type; the figures."""
    result: dict[str, object] = {}
    t0 = time.perf_counter()
    memory = PersonalMemory.load(memory_file)
    result["memory_load_fresh_s"] = round(time.perf_counter() - t0, 3)
    if hasattr(memory, "compact"):
        t0 = time.perf_counter()
        memory.compact()  # whatever index a background build would make after loading
        result["memory_index_fresh_s"] = round(time.perf_counter() - t0, 3)
    model_dir = args.model or base_model_dir()
    lm = load_model(model_dir)
    ngram = None if args.no_ngram else (NgramSource(args.ngram) if args.ngram else NgramSource.beside(model_dir))
    predictor = Predictor(
        lm,
        adaptive=not args.static,
        personal=None if args.static else memory,
        neural=NeuralCacheSettings() if args.neural else None,
        ngram=ngram,
        dynamic=None if args.no_dynamic else DYNAMIC,
    )
    doc = DOCUMENT.read_text(encoding="utf-8")
    spans = word_spans(doc)
    start = spans[min(args.doc_words, len(spans)) - 1][1]
    t0 = time.perf_counter()
    predictor.suggest(doc[:start])
    result["open_document_s"] = round(time.perf_counter() - t0, 2)
    latencies: list[float] = []
    idle: list[float] = []
    after_idle: list[float] = []  # the keystrokes right after an idle call that did some work
    rows_before = predictor.search.rows_stepped
    worked = False
    for i in range(start + 1, min(len(doc), start + args.chars) + 1):
        t0 = time.perf_counter()
        predictor.suggest(doc[:i])
        latencies.append((time.perf_counter() - t0) * 1e3)
        if worked:
            after_idle.append(latencies[-1])
        t0 = time.perf_counter()
        worked = predictor.idle()  # what the app's answering thread does before the next key comes
        if worked:
            idle.append((time.perf_counter() - t0) * 1e3)
    result["rows_stepped"] = predictor.search.rows_stepped - rows_before
    if not args.static and hasattr(memory, "chain"):  # the personal memory's own answer per keystroke
        answers: list[float] = []
        for i in range(start + 1, min(len(doc), start + args.chars) + 1):
            before, prefix = partial_word(doc[:i])
            context = words(paragraph_tail(before))[-5:]
            t0 = time.perf_counter()
            memory.answer(context, prefix, False, 7)
            answers.append((time.perf_counter() - t0) * 1e3)
        result["personal_answer_ms"] = latency_percentiles(answers, digits=3)
    result["keystrokes"] = len(latencies)
    result["latency_ms"] = latency_percentiles(latencies, digits=3)
    result["slowest_ms"] = round(max(latencies), 1) if latencies else None
    result["idle_calls"] = len(idle)
    result["idle_ms"] = latency_percentiles(idle, digits=2) if idle else None
    result["after_idle_ms"] = latency_percentiles(after_idle, digits=2) if after_idle else None
    result["rss_mb_after"] = round(rss_mb(), 1)
    result["ngram"] = ngram is not None
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--doc-words", type=int, default=20_000)
    parser.add_argument("--personal-words", type=int, default=1_000_000)
    parser.add_argument("--chars", type=int, default=3000, help="characters typed after the document's start")
    parser.add_argument("--static", action="store_true", help="the bare model (no memories) for comparison")
    parser.add_argument("--neural", action="store_true", help="with the neural cache")
    parser.add_argument("--ngram", type=Path, default=None, help="n-gram folder (default: the model's, if any)")
    parser.add_argument("--no-ngram", action="store_true", help="without the general n-gram")
    parser.add_argument("--no-dynamic", action="store_true", help="without the output layer's dynamic evaluation")
    parser.add_argument("--memory-file", type=Path, default=None, help=argparse.SUPPRESS)  # the fresh process
    args = parser.parse_args()
    require([DOCUMENT])
    return_large_blocks()  # as the app's entry point does
    if args.memory_file is not None:
        torch.set_num_threads(1)
        print(json.dumps(keystrokes(args.memory_file, args)))
        return
    texts_in(TRAIN)
    torch.set_num_threads(1)
    result: dict[str, object] = {}
    rss_start = rss_mb()
    with tempfile.TemporaryDirectory() as tmp:
        store = DocumentStore(Path(tmp) / "data" / "documents")
        paras = personal_paragraphs(args.personal_words)
        per_doc = max(1, len(paras) // 100)
        for i in range(0, len(paras), per_doc):
            store.save(f"doc{i // per_doc:03d}.txt", "\n\n".join(paras[i : i + per_doc]))
        t0 = time.perf_counter()
        memory = PersonalMemory.for_store(store)
        if hasattr(memory, "compact"):
            memory.compact()  # built: its index counts every document (a background build until then)
        result["memory_words"] = memory.total
        result["memory_build_s"] = round(time.perf_counter() - t0, 2)
        path = Path(tmp) / "data" / FILE_NAME
        result["memory_file_mb"] = round(path.stat().st_size / 1e6, 2)
        t0 = time.perf_counter()
        memory = PersonalMemory.load(path)
        result["memory_load_s"] = round(time.perf_counter() - t0, 3)
        name = store.list()[0].name
        text = store.read(name)
        store.save(name, text.replace("\n\n", "\n\nA new sentence in a changed paragraph.\n\n", 1))
        t0 = time.perf_counter()
        report = memory.sync(store, save=False)
        result["sync_one_paragraph_ms"] = round((time.perf_counter() - t0) * 1e3, 1)
        t0 = time.perf_counter()
        memory.save()
        result["save_file_ms"] = round((time.perf_counter() - t0) * 1e3, 1)
        result["sync_paragraphs_changed"] = report.paragraphs_added + report.paragraphs_removed
        if hasattr(memory, "compact"):  # the index rebuild a background thread does after a change
            t0 = time.perf_counter()
            memory.compact()
            result["rebuild_after_change_s"] = round(time.perf_counter() - t0, 2)
        result["rss_mb_memory"] = round(rss_mb() - rss_start, 1)
        result |= measure_in_fresh_process(path, args)
    result["mode"] = "static" if args.static else "adaptive"
    result["neural"] = args.neural
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
