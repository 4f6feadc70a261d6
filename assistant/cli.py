"""The ``assistant`` command line."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from assistant import __version__
from assistant.heap import return_large_blocks

Handler = Callable[[argparse.Namespace], int]


class CliError(Exception):
    """A user-facing error: printed without a traceback, exit status 2."""


MAX_SUGGESTIONS = 9
"""The most words ``suggest --n`` lists: the range of the ``suggest.words`` setting (``store.settings.MAX_WORDS``;
a test keeps the two equal without importing the settings at start-up)."""

SEED_TAIL_CHARS = 8192
"""What a seed or text read from standard input keeps: its end, as much as the model reads (the predictor's
window), so a large input costs neither its size in memory nor its length in model time."""


def _count(low: int, high: int | None = None) -> Callable[[str], int]:
    """An argparse type: a whole number in ``[low, high]``; argparse names the option in its message."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"must be at least {low}, not {value}")
        if high is not None and value > high:
            raise argparse.ArgumentTypeError(f"must be at most {high}, not {value}")
        return value

    return parse


def _number(check: Callable[[float], bool], rule: str) -> Callable[[str], float]:
    """An argparse type: a number for which ``check`` holds (``rule`` says which)."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if not check(value):
            raise argparse.ArgumentTypeError(f"must be {rule}, not {text}")
        return value

    return parse


def _without_final_newline(text: str) -> str:
    """Text from a pipe without the one line end ``echo`` (or an editor) puts after it."""
    if text.endswith("\r\n"):
        return text[:-2]
    return text[:-1] if text.endswith("\n") else text


def read_tail(stream, limit: int = SEED_TAIL_CHARS, echo=None) -> str:
    """The last ``limit`` characters of ``stream``, read in chunks (each written to ``echo`` when given)."""
    tail = ""
    while chunk := stream.read(65536):
        if echo is not None:
            echo.write(chunk)
        tail = (tail + chunk)[-limit:]
    return tail


_SPACES: list = []
"""The spaces this command opened: what they found and did (a rebuilt memory file) is printed at the end."""


def _space():
    """The user's space (documents, models) over the shipped base model."""
    from assistant.personal.space import UserSpace

    space = UserSpace.default()
    _SPACES.append(space)
    return space


def _print_notices() -> None:
    """Warn about what opening the user's files found and did (each message once)."""
    shown = set()
    for space in _SPACES:
        for notice in space.notices:
            if notice not in shown:
                shown.add(notice)
                print(f"assistant: warning: {notice}", file=sys.stderr)
    _SPACES.clear()


def _load(model_dir: Path | None):
    """The model in ``model_dir``, else the active personal model, else the shipped base model."""
    from assistant.personal.models import ModelLoadError, use_threads

    use_threads(1)
    space = _space()
    try:
        model = space.provider.folder(model_dir) if model_dir is not None else space.model()
    except ModelLoadError as exc:
        raise CliError(str(exc)) from exc
    if model.warning:
        print(f"assistant: warning: {model.warning}", file=sys.stderr)
    return space, model


SAMPLING_DEFAULTS = {"temperature": 0.8, "top_k": 0, "top_p": 0.95}
"""``generate``'s sampling options when not given (giving one without ``--strategy`` means sampling)."""


def generation_strategy(args: argparse.Namespace) -> str:
    """``--strategy``, else ``sample`` when a sampling option (temperature, top-k, top-p) is given, else greedy."""
    if args.strategy is not None:
        return args.strategy
    return "sample" if any(getattr(args, k) is not None for k in SAMPLING_DEFAULTS) else "greedy"


def cmd_generate(args: argparse.Namespace) -> int:
    """Continue a text with the model (greedy unless --strategy or a sampling option says otherwise)."""
    from assistant.personal import GenerationConfig, count_words

    sampling = {k: SAMPLING_DEFAULTS[k] if getattr(args, k) is None else getattr(args, k) for k in SAMPLING_DEFAULTS}
    strategy = generation_strategy(args)
    cfg = GenerationConfig(
        strategy=strategy,
        temperature=sampling["temperature"],
        top_k=sampling["top_k"],
        top_p=sampling["top_p"],
        beam_width=args.beam_width,
        max_words=args.max_words,
        seed=args.seed,
        max_tokens=args.max_tokens,
        no_repeat_ngram=args.no_repeat,
        repetition_penalty=args.repetition_penalty,
    )
    try:
        cfg.validate()
    except ValueError as exc:
        raise CliError(str(exc)) from exc
    space, model = _load(args.model)
    predictor = space.predictor(model)  # the service layer's way, as the bot's
    if args.seed_text == "-":  # only the end is kept; the plain output passes the whole input through
        seed_text = read_tail(sys.stdin, echo=None if args.json else sys.stdout)
        shown = ""
    else:
        seed_text = shown = args.seed_text
    result = predictor.continue_text(seed_text, cfg)
    if args.json:
        print(json.dumps({"seed": seed_text, "continuation": result.text, "logprob": result.logprob}))
    else:
        print(shown + result.text)
    written = count_words(result.text)
    if strategy == "greedy" and written < args.max_words and len(result.ids) < args.max_tokens:
        print(
            f"assistant: the most likely continuation ends the paragraph after {written} word"
            f"{'' if written == 1 else 's'}; --strategy sample (or --temperature) writes on",
            file=sys.stderr,
        )
    return 0


def cmd_suggest(args: argparse.Namespace) -> int:
    """Print the best completions of the word being typed (or the next words after a separator)."""
    from assistant.personal import PhraseSettings

    settings = _settings()
    n = settings.suggest.words if args.n is None else args.n
    text = args.text if args.text != "-" else _without_final_newline(read_tail(sys.stdin))
    if not 1 <= n <= MAX_SUGGESTIONS:  # the setting is checked here, --n by its parser
        raise CliError(f"suggest.words must be between 1 and {MAX_SUGGESTIONS}, not {n}")
    phrase = PhraseSettings(phrase_threshold=settings.suggest.phrase_threshold)
    space, model = _load(args.model)
    predictor = space.predictor(model, phrase)  # the space's guard checks every answer
    result = predictor.suggest(text, n, phrase=True)
    if args.json:
        print(
            json.dumps(
                {
                    "prefix": result.prefix,
                    "words": [{"word": c.word, "probability": c.probability} for c in result.words],
                    "phrase": None
                    if result.phrase is None
                    else {"text": result.phrase.text, "confidence": result.phrase.confidence},
                },
                ensure_ascii=False,
            )
        )
        return 0
    for c in result.words:
        print(f"{c.word}\t{c.probability:.4f}")
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    """Measure keystroke savings, next-word accuracy, bits per character and latency on text files."""
    from assistant.personal.evaluation import run_eval
    from assistant.personal.models import ModelLoadError

    try:
        report = run_eval(
            [Path(f) for f in args.files],
            model_dir=args.model,
            baseline=args.baseline,
            max_words=args.max_words,
            ngram_data=args.ngram_data,
            ngram_order=args.ngram_order,
            progress=not args.json,
            quantize=not args.float,
            static=args.static,
            personal=[Path(p) for p in args.personal] or None,
        )
    except (OSError, ValueError, UnicodeDecodeError, ModelLoadError) as exc:
        raise CliError(str(exc)) from exc
    if args.json:
        print(json.dumps(report))
    else:
        from assistant.eval.runner import format_report

        print(format_report(report))
    return 0


def _settings():
    """The user's settings; problems in the file are printed as warnings."""
    from assistant.store.paths import Paths
    from assistant.store.settings import Settings

    settings = Settings.load(Paths.default().config)
    for problem in settings.problems:
        print(f"assistant: warning: {problem}", file=sys.stderr)
    return settings


def _documents():
    """The user's space with its document store open (CliError when the store cannot be used)."""
    from assistant.store.documents import StoreError

    space = _space()
    try:
        space.store.list()  # opening repairs damage and clears leftovers; say what was found
    except (OSError, StoreError) as exc:
        raise CliError(str(exc)) from exc
    for notice in space.store.notices:
        print(f"assistant: warning: {notice}", file=sys.stderr)
    return space


def cmd_paths(args: argparse.Namespace) -> int:
    """Print every location the assistant reads or writes."""
    from assistant.shipped import base_model_dir
    from assistant.store.paths import Paths
    from assistant.store.settings import SETTINGS_FILE

    p = Paths.default()
    rows = {
        "documents": p.documents,
        "personal models": p.models,
        "settings": p.config / SETTINGS_FILE,
        "cache": p.cache,
        "logs": p.logs,
        "base model": base_model_dir(),
    }
    if args.json:
        print(json.dumps({k: str(v) for k, v in rows.items()}))
    else:
        width = max(map(len, rows))
        for k, v in rows.items():
            print(f"{k:<{width}}  {v}")
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    """Copy text documents (files or whole folders) into your document store; an mbox file or a Maildir folder
    gives one document per message, with only your own words (no quotes, headers or signatures)."""
    settings = _settings()
    space = _documents()
    senders = args.mail_from or settings.import_.mail_from
    results = space.import_paths([Path(p) for p in args.paths], settings.import_.max_bytes, senders)
    space.close()  # the personal memory serves the imported words from the next keystroke
    for r in results:
        print(f"{r.status:<9} {r.label}" + (f"  ({r.detail})" if r.status != "imported" else f"  -> {r.detail}"))
    counts = {
        s: sum(r.count for r in results if r.status == s) for s in ("imported", "duplicate", "refused", "skipped")
    }
    print(f"{counts['imported']} imported, {counts['duplicate']} duplicate, {counts['refused']} refused")
    if counts["skipped"]:
        print(f"{counts['skipped']} skipped (not text files, hidden folders, links, or mail that is not yours)")
    return 0 if counts["imported"] or not counts["refused"] else 1


def cmd_docs(args: argparse.Namespace) -> int:
    """List your documents (marking those kept out of learning), or remove one."""
    from assistant.store.blocklist import ControlsError

    space = _documents()
    if args.no_learn or args.learn:
        return _docs_no_learn(space, args.no_learn or args.learn, bool(args.no_learn))
    if args.remove:
        try:
            space.remove(args.remove)
            space.close()
        except KeyError as exc:
            raise CliError(str(exc.args[0])) from exc
        print(f"removed {args.remove}")
        return 0
    from assistant.text.language import name as language_name

    docs = space.store.list()
    languages = _document_languages(space.store, docs)
    controls = space.controls()
    try:
        kept_out, held = set(controls.no_learn()), controls.held_private()
    except ControlsError as exc:
        print(f"assistant: warning: {exc}", file=sys.stderr)
        kept_out, held = set(), 0
    if args.json:
        print(
            json.dumps(
                [
                    {
                        "name": d.name,
                        "size": d.size,
                        "modified": d.modified,
                        "sha256": d.sha256,
                        "learned": d.name not in kept_out,
                        "language": languages[d.name],
                    }
                    for d in docs
                ]
            )
        )
        return 0
    if not docs:
        print("no documents yet: 'assistant import PATH' adds some")
    for d in docs:
        language = language_name(languages[d.name]) if languages[d.name] else "-"
        print(f"{d.name}\t{d.size:,} bytes\t{language}" + ("\tkept out of learning" if d.name in kept_out else ""))
    if held:
        print(
            f"{held} paragraph{'s' if held != 1 else ''} written in private mode: not learned until private mode "
            "ends in the app"
        )
    return 0


def _document_languages(store: Any, docs: list[Any]) -> dict[str, str]:
    """Each document's language code ('' when too short to tell or unreadable)."""
    from assistant.text.language import MIN_WORDS, detect

    out = {}
    for d in docs:
        try:
            text = store.read(d.name)
        except (OSError, KeyError, UnicodeDecodeError):
            text = ""
        out[d.name] = detect(text).language if len(text.split()) >= MIN_WORDS else ""
    return out


def cmd_finetune(args: argparse.Namespace) -> int:
    """Train your personal model on what is new or changed in your documents (resumes an interrupted run)."""
    import signal
    import threading

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from assistant.personal.finetune import OK_STATUSES, FinetuneConfig, FinetuneError
    from assistant.personal.outcome import summary_lines
    from assistant.store.blocklist import ControlsError

    space = _documents()
    if not space.store.list():
        raise CliError("no documents yet: 'assistant import PATH' adds some")
    cfg = FinetuneConfig(threads=args.threads)
    with Progress(
        TextColumn("fine-tuning"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("loss {task.fields[loss]}"),
        TimeRemainingColumn(),
        transient=True,
    ) as bar:
        task = bar.add_task("ft", total=None, loss="-")

        def on_step(step: int, total: int, loss: float) -> None:
            bar.update(task, completed=step, total=total, loss=f"{loss:.3f}")

        def say(message: str) -> None:  # one line each: the terminal wraps it, rich does not cut it mid-sentence
            bar.console.print(message, soft_wrap=True, markup=False, highlight=False)

        interrupted = threading.Event()

        def on_interrupt(signum: int, frame: object) -> None:
            # Also remembered: a KeyboardInterrupt raised where Python ignores exceptions (a finaliser that
            # runs mid-step) would be lost, and the run would go on to its end; the trainer polls this one.
            interrupted.set()
            raise KeyboardInterrupt

        previous = signal.signal(signal.SIGINT, on_interrupt)
        outcome = None
        try:
            outcome = space.run_finetune(cfg, on_step=on_step, log=say, should_stop=interrupted.is_set)
        except (FinetuneError, ControlsError) as exc:
            raise CliError(str(exc)) from exc
        except KeyboardInterrupt:
            pass
        finally:
            signal.signal(signal.SIGINT, previous)
        if outcome is None or outcome.status == "cancelled":  # a run that ended anyway says how it ended
            bar.stop()
            print(
                "assistant: fine-tuning interrupted; 'assistant finetune' again resumes where it stopped",
                file=sys.stderr,
            )
            return 130
    for line in summary_lines(outcome):
        print(line)
    return 0 if outcome.status in OK_STATUSES else 1


def cmd_model(args: argparse.Namespace) -> int:
    """Manage personal model versions: list, use VERSION, rollback, reset."""
    from assistant.personal.models import ModelLoadError

    if args.version and args.action != "use":
        raise CliError(f"'model {args.action}' takes no VERSION (got {args.version!r})")
    reg = _space().registry
    try:
        if args.action == "use":
            if not args.version:
                raise CliError("'model use' needs a VERSION (see 'assistant model list')")
            reg.use(args.version)
            print(f"active model: {args.version}")
        elif args.action == "rollback":
            print(f"active model: {reg.rollback()}")
        elif args.action == "reset":
            reg.reset()
            print("active model: base")
        else:
            active = reg.active_name()
            if reg.pointer_problem():
                print(f"assistant: warning: {reg.pointer_problem()}", file=sys.stderr)
            print(f"{'*' if active == 'base' else ' '} base      shipped base model ({reg.base_dir})")
            for v in reg.versions():
                mark = "*" if v.name == active else " "
                m = v.metrics
                print(
                    f"{mark} {v.name}  {v.status:<8}  held-out {m.get('holdout_bpc_before', 0):.3f} -> "
                    f"{m.get('holdout_bpc_after', 0):.3f} bits/char, from {v.parent}: {v.reason}"
                )
    except (KeyError, ValueError, ModelLoadError) as exc:
        raise CliError(str(exc.args[0]) if exc.args else str(exc)) from exc
    return 0


def cmd_lsp(args: argparse.Namespace) -> int:
    """Run the language server on standard input and output (editors start it; see plugins/)."""
    from assistant.serve.server import run

    return run()


def cmd_matrix(args: argparse.Namespace) -> int:
    """Run the Matrix chat bot: it joins the rooms it is invited to and answers !suggest, !continue, !learn,
    !vocab, !block, !unblock, !forget, !finetune and !help (see the README's "Matrix" section)."""
    import logging

    try:
        from assistant.matrix.bot import run
        from assistant.matrix.config import MatrixConfigError, load_settings
    except ImportError as exc:
        raise CliError(f"the Matrix bot needs matrix-nio: pip install 'assistant[matrix]' ({exc})") from exc
    try:
        settings = load_settings(Path(args.config).expanduser() if args.config else None)
    except MatrixConfigError as exc:
        raise CliError(str(exc)) from exc
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("nio").setLevel(logging.WARNING)  # not a line for every event the bot sees
    if args.debug:
        logging.getLogger("assistant").setLevel(logging.DEBUG)
    return run(settings)


def _docs_no_learn(space, name: str, no_learn: bool) -> int:
    if name not in {d.name for d in space.store.list()}:
        raise CliError(f"no document named {name!r}")
    changed = space.controls().set_no_learn(name, no_learn)
    state = "kept out of learning" if no_learn else "learned from"
    print(f"{name} is {'now' if changed else 'already'} {state}")
    return 0


def cmd_vocab(args: argparse.Namespace) -> int:
    """Block or unblock words and phrases (never suggested), forget words (the paragraphs holding them are left
    out of later fine-tunes), or list what you blocked, forgot and rejected."""
    from assistant.store.blocklist import ControlsError

    if args.top < 1:
        raise CliError(f"--top must be at least 1 (got {args.top})")
    space = _space()
    controls = space.controls()
    try:
        if args.block:
            print(f"blocked: {controls.block(args.block)}")
        elif args.unblock:
            item = args.unblock
            print(f"unblocked: {item}" if controls.unblock(item) else f"{item!r} was not blocked")
        elif args.forget:
            forgotten = controls.forget(args.forget)
            space.sync_memory(save=True)  # the memory re-applies every document under the new controls
            print(f"forgotten: {forgotten} (out of the personal memory now, left out of later fine-tunes)")
        elif args.unforget:
            item = args.unforget
            again = controls.unforget(item)
            space.sync_memory(save=True)
            print(f"learned again: {item}" if again else f"{item!r} was not forgotten")
        else:
            from dataclasses import asdict

            from assistant.personal.vocabulary import vocabulary

            vocab = vocabulary(space, args.top)  # the app's Vocabulary screen shows the same
            listing = {
                "blocked": vocab.blocked,
                "forgotten": vocab.forgotten,
                "rejected": vocab.rejected,
                "no_learn": vocab.no_learn,
            }
            learned = [asdict(w) for w in vocab.learned]
            if args.json:
                print(json.dumps({**listing, "learned": learned}, ensure_ascii=False))
                return 0
            for key, values in listing.items():
                shown = [f"{k} ({v}x)" for k, v in values.items()] if isinstance(values, dict) else values
                print(f"{key}: " + (", ".join(shown) if shown else "-"))
            import time as _time

            print(f"learned (top {args.top}):" if learned else "learned: -")
            for entry in learned:
                seen = (
                    _time.strftime("%Y-%m-%d %H:%M", _time.localtime(entry["last_seen"])) if entry["last_seen"] else "-"
                )
                print(f"  {entry['word']}\t{entry['count']}\t{seen}\t{', '.join(entry['documents'])}")
    except (ValueError, ControlsError) as exc:
        raise CliError(str(exc)) from exc
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    """Write one archive of your documents, personal models, memory, settings and blocked words."""
    from assistant.store.archive import ArchiveError, export
    from assistant.store.paths import Paths

    try:
        summary = export(Paths.default(), Path(args.file))
    except (ArchiveError, OSError) as exc:
        raise CliError(str(exc)) from exc
    print(f"exported {summary.files} files ({summary.bytes:,} bytes) to {summary.path}")
    return 0


def _warn(notes: list[str]) -> None:
    for note in notes:
        print(f"assistant: warning: {note}", file=sys.stderr)


def cmd_restore(args: argparse.Namespace) -> int:
    """Replace your files with those of an archive (verified first; what it replaces is kept for --undo)."""
    from assistant.store.archive import ArchiveError, Limits, restore, undo
    from assistant.store.paths import Paths

    paths = Paths.default()
    notes: list[str] = []
    try:
        if args.undo:
            undo(paths, notes)
            _warn(notes)
            print("put back the files the last restore replaced (--undo again redoes it)")
            return 0
        if not args.file:
            raise CliError("'restore' needs a FILE (or --undo)")
        rules = _settings().import_
        summary = restore(paths, Path(args.file), Limits(rules.max_bytes, rules.max_archive_bytes), notes)
    except ArchiveError as exc:
        _warn(notes)
        raise CliError(str(exc)) from exc
    _warn(notes)
    print(f"restored {summary.files} files ({summary.bytes:,} bytes) from {summary.path}; 'restore --undo' undoes it")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="assistant",
        description="A personal writing assistant: a GRU language model suggests how your text goes on.",
    )
    parser.add_argument("--version", action="version", version=f"assistant {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    parser.set_defaults(command_parsers=sub.choices)  # main() shows a command's usage for its unknown options

    g = sub.add_parser("generate", help="continue a text with the model", description=cmd_generate.__doc__)
    g.add_argument("seed_text", metavar="TEXT", help="text to continue ('-' reads standard input)")
    g.add_argument(
        "--strategy",
        choices=["greedy", "sample", "beam"],
        default=None,
        help="default: sample when --temperature, --top-k or --top-p is given, else greedy",
    )
    g.add_argument(
        "--temperature", type=_number(lambda v: v > 0, "> 0"), default=None, help="sampling temperature (> 0; 0.8)"
    )
    g.add_argument(
        "--top-k", type=_count(0), default=None, help="sample among the k most likely pieces (0 = all, the default)"
    )
    g.add_argument(
        "--top-p", type=_number(lambda v: 0 < v <= 1, "in (0, 1]"), default=None, help="nucleus sampling mass (0.95)"
    )
    g.add_argument("--beam-width", type=_count(1), default=4)
    g.add_argument("--max-words", type=_count(1), default=20)
    g.add_argument("--max-tokens", type=_count(1), default=200, help="hard cap on generated pieces (default 200)")
    g.add_argument("--seed", type=int, default=None, help="random seed for sampling")
    g.add_argument("--no-repeat", type=_count(0), default=3, help="never repeat a run of N pieces (0 = off; default 3)")
    g.add_argument(
        "--repetition-penalty",
        type=_number(lambda v: v >= 1, ">= 1"),
        default=1.0,
        help="above 1, written pieces are less likely",
    )
    g.add_argument(
        "--model", type=Path, help="model folder (default: your active personal model, else the shipped base model)"
    )
    g.add_argument("--json", action="store_true", help="print a JSON object")
    g.set_defaults(handler=cmd_generate)

    s = sub.add_parser(
        "suggest", help="complete the word being typed, or predict the next words", description=cmd_suggest.__doc__
    )
    s.add_argument("text", metavar="TEXT", help="text before the cursor ('-' reads standard input)")
    s.add_argument(
        "--n",
        type=_count(1, MAX_SUGGESTIONS),
        default=None,
        help=f"how many words, 1 to {MAX_SUGGESTIONS} (default: setting suggest.words, 5)",
    )
    s.add_argument(
        "--model", type=Path, help="model folder (default: your active personal model, else the shipped base model)"
    )
    s.add_argument("--json", action="store_true", help="print a JSON object with the phrase too")
    s.set_defaults(handler=cmd_suggest)

    e = sub.add_parser(
        "eval", help="keystroke savings, accuracy, bits/char and latency on text files", description=cmd_eval.__doc__
    )
    e.add_argument("files", nargs="+", metavar="FILE")
    e.add_argument("--json", action="store_true", help="print one JSON object")
    e.add_argument("--max-words", type=int, default=None, help="evaluate the first N words of each file")
    e.add_argument(
        "--model", type=Path, help="model folder (default: your active personal model, else the shipped base model)"
    )
    e.add_argument("--baseline", choices=["ngram"], help="evaluate the Kneser-Ney n-gram baseline instead")
    e.add_argument(
        "--ngram-data",
        type=Path,
        metavar="PATH",
        help="the n-gram's training text: a folder of .txt files or one file (default: the base training mix, "
        "../shared/data/train beside a source checkout)",
    )
    e.add_argument("--ngram-order", type=int, default=4, choices=[2, 3, 4])
    e.add_argument("--float", action="store_true", help="run the GRU in float32 (default: int8 on CPU)")
    e.add_argument("--static", action="store_true", help="the bare model: no document or personal memory")
    e.add_argument(
        "--personal",
        action="append",
        default=[],
        metavar="PATH",
        help="seed the personal memory from a text file or folder (repeatable; the user's store is not touched)",
    )
    e.set_defaults(handler=cmd_eval)

    pa = sub.add_parser(
        "paths", help="print where documents, models, settings and caches live", description=cmd_paths.__doc__
    )
    pa.add_argument("--json", action="store_true")
    pa.set_defaults(handler=cmd_paths)

    im = sub.add_parser("import", help="copy text documents into your store", description=cmd_import.__doc__)
    im.add_argument("paths", nargs="+", metavar="PATH", help="files or folders, mbox files or Maildir folders")
    im.add_argument(
        "--from",
        dest="mail_from",
        action="append",
        metavar="ADDRESS",
        help="keep only mail sent from this address (repeatable; default: the import.mail_from setting)",
    )
    im.set_defaults(handler=cmd_import)

    d = sub.add_parser("docs", help="list your documents (or --remove one)", description=cmd_docs.__doc__)
    d.add_argument("--remove", metavar="NAME", help="delete this document")
    d.add_argument("--no-learn", metavar="NAME", help="keep this document out of learning (memory and fine-tunes)")
    d.add_argument("--learn", metavar="NAME", help="learn from this document again")
    d.add_argument("--json", action="store_true")
    d.set_defaults(handler=cmd_docs)

    f = sub.add_parser(
        "finetune", help="train your personal model on new or changed documents", description=cmd_finetune.__doc__
    )
    f.add_argument("--threads", type=int, default=1, help="CPU threads (default 1: typing stays responsive)")
    f.set_defaults(handler=cmd_finetune)

    mo = sub.add_parser(
        "model", help="personal model versions: list | use VERSION | rollback | reset", description=cmd_model.__doc__
    )
    mo.add_argument("action", nargs="?", default="list", choices=["list", "use", "rollback", "reset"])
    mo.add_argument("version", nargs="?")
    mo.set_defaults(handler=cmd_model)

    ls = sub.add_parser("lsp", help="language server for editors (stdio)", description=cmd_lsp.__doc__)
    ls.set_defaults(handler=cmd_lsp)

    mx = sub.add_parser("matrix", help="run the Matrix chat bot", description=cmd_matrix.__doc__)
    mx.add_argument(
        "--config", metavar="FILE", help="settings file (TOML, mode 0600); ASSISTANT_MATRIX_* variables also work"
    )
    mx.add_argument(
        "--debug", action="store_true", help="also log each command's timings (queued, worked, sent; never its text)"
    )
    mx.set_defaults(handler=cmd_matrix)

    vo = sub.add_parser(
        "vocab", help="block, unblock or forget words; list what you blocked and forgot", description=cmd_vocab.__doc__
    )
    what = vo.add_mutually_exclusive_group()
    what.add_argument("--block", metavar="WORD_OR_PHRASE", help="never suggest this again")
    what.add_argument("--unblock", metavar="WORD_OR_PHRASE")
    what.add_argument("--forget", metavar="WORD", help="leave paragraphs holding it out of later fine-tunes")
    what.add_argument("--unforget", metavar="WORD")
    vo.add_argument("--json", action="store_true")
    vo.add_argument("--top", type=int, default=50, metavar="N", help="learned words listed (default 50)")
    vo.set_defaults(handler=cmd_vocab)

    ex = sub.add_parser("export", help="write a backup archive of everything", description=cmd_export.__doc__)
    ex.add_argument("file", metavar="FILE")
    ex.set_defaults(handler=cmd_export)

    re_ = sub.add_parser("restore", help="restore a backup archive (or --undo one)", description=cmd_restore.__doc__)
    re_.add_argument("file", metavar="FILE", nargs="?")
    re_.add_argument("--undo", action="store_true", help="put back what the last restore replaced")
    re_.set_defaults(handler=cmd_restore)

    t = sub.add_parser(
        "train-base",
        help="train a base model from text files (see 'assistant train-base --help')",
        add_help=False,
    )
    t.add_argument("rest", nargs=argparse.REMAINDER)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``assistant`` console script."""
    return_large_blocks()  # a long-running process gives back what its rebuilds free
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["train-base"]:  # the trainer owns its arguments (and its --help)
        from assistant.train.base import main as train_main

        return train_main(argv[1:])
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra:  # the command's own usage, not the top level's
        command = args.command_parsers.get(getattr(args, "command", None) or "", parser)
        command.error(f"unrecognized arguments: {' '.join(extra)}")
    handler: Handler | None = getattr(args, "handler", None)
    if handler is None:  # no command: the writing app
        from assistant.app.app import run

        return run()
    try:
        status = handler(args)
        sys.stdout.flush()  # a closed pipe shows here, not at exit
        _print_notices()
        return status
    except CliError as exc:
        _print_notices()
        print(f"assistant: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return _broken_pipe()


def _broken_pipe() -> int:
    """The reader of standard output went away (``| head``): stop quietly, as tools killed by SIGPIPE do.

    Python's documented way: point standard output at devnull so the flush at exit cannot fail again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    return 128 + 13  # SIGPIPE


if __name__ == "__main__":
    sys.exit(main())
