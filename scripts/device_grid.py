"""Train a small grid of base models in one call (one GPU, or the CPU at toy scale) and leave them in ``--out``.

    python3 scripts/device_grid.py --carry carry/mix_v2.npz.xz --out "$OUT" [--budget 500] [--grid v2|toy]
                                   [--device cuda] [--dry-run]

1. Builds the training and validation streams from the pre-tokenised mix (``scripts/tokenise_mix.py``) with the
   weights of ``scripts/mix_sources.json``, exactly as ``build_token_data`` would from the text.
2. Probe: every model of the grid trains at once for ``--probe`` seconds, to measure its steps per second when
   sharing the device with the others.
3. The real runs, all at once again (``python -m assistant.train --tokens ...``), each with as many steps as fit
   the rest of ``--budget`` (so every cosine schedule ends in time) and a dropout chosen for the passes that
   makes; ``--time-limit`` stops any that would run over, cleanly, with its model saved.
4. Leaves in ``--out`` (at most 8 files, 16 MiB each: the device's limits): ``grid.log`` (every process's
   output, prefixed, streamed), ``curves.tsv`` (validation curve, streamed), ``summary.json`` and
   ``models/NAME.tar.xz`` (config.json + float16 model.safetensors; ``scripts/unpack_grid.py`` turns it back
   into a model folder here).

``--dry-run`` prints the plan (commands, steps, dropout) for an assumed speed without training.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import subprocess
import sys
import tarfile
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

from mixlib.tokens import assemble, unpack  # noqa: E402


@dataclass(frozen=True)
class Job:
    """One model of the grid."""

    name: str
    embed_dim: int
    hidden_dim: int
    layers: int = 1
    batch_size: int = 128
    seq_len: int = 64
    lr: float = 3e-3
    dropout: float | None = None
    """None: chosen from the passes the budget allows (:func:`choose_dropout`)."""


GRIDS: dict[str, list[Job]] = {
    "v2": [
        Job("g1x512e256", 256, 512, lr=3e-3),
        Job("g1x768e256", 256, 768, lr=2.5e-3),
        Job("g1x1024e256", 256, 1024, lr=2e-3),
        Job("g1x1024e384", 384, 1024, lr=2e-3),
        Job("g2x512e256", 256, 512, layers=2, lr=2.5e-3),
    ],
    "toy": [
        Job("t1x32e16", 16, 32, batch_size=4, seq_len=16),
        Job("t2x24e16", 16, 24, layers=2, batch_size=4, seq_len=16),
    ],
}
MAX_FILES = 8
"""What comes back from the device: at most 8 files (grid.log, curves.tsv, summary.json and 5 models)."""
STEP_LINE = re.compile(r"step (\d+): train loss ([\d.]+), val ([\d.]+) bits/char")


def choose_dropout(passes: float) -> float:
    """Dropout for a run that sees the mix ``passes`` times: none under 2 passes, then more as it repeats."""
    if passes < 2:
        return 0.0
    if passes < 5:
        return 0.1
    return 0.2


def load_weights(sources_file: Path) -> dict[str, float]:
    """Mix weights by source name from the sources file."""
    return {r["name"]: float(r["weight"]) for r in json.loads(sources_file.read_text())["sources"]}


def build_tokens(carry: Path, sources_file: Path, dest: Path, tokenizer: Path) -> dict:
    """Write the trainer's token streams (``TokenData`` safetensors) to ``dest``; returns their sizes."""
    import torch

    from assistant.text.tokenizer import file_sha256
    from assistant.train.data import TokenData

    header, sources = unpack(carry.read_bytes())
    if header.get("tokenizer_sha256") != file_sha256(tokenizer):
        raise SystemExit(f"{carry} was made with another tokenizer than {tokenizer}")
    weights = load_weights(sources_file)
    weights.update({name: 1.0 for name in header.get("presampled", {})})  # already cut to their weight's share
    train, val, train_chars, val_chars, report = assemble(
        sources, weights, header["sep"], sep_chars=header.get("separator_chars", 2)
    )
    data = TokenData(
        train=torch.from_numpy(train),
        val=torch.from_numpy(val),
        val_chars=val_chars,
        train_chars=train_chars,
        sources=report,
    )
    data.save(dest)
    return {
        "train_tokens": int(train.size),
        "val_tokens": int(val.size),
        "train_chars": train_chars,
        "presampled": header.get("presampled", {}),
    }


def train_command(job: Job, args: argparse.Namespace, tokens: Path, steps: int, dropout: float, *, probe: bool) -> list:
    """The ``python -m assistant.train`` command of one run."""
    tag = "probe" if probe else "run"
    eval_every = 10**9 if probe else max(10, steps // 25)
    limit = args.probe if probe else None
    cmd = [
        sys.executable,
        "-m",
        "assistant.train",
        "--tokens",
        str(tokens),
        "--tokenizer",
        str(args.tokenizer),
        "--out",
        str(args.work / f"{job.name}-{tag}-model"),
        "--work",
        str(args.work / f"{job.name}-{tag}"),
        "--embed-dim",
        str(job.embed_dim),
        "--hidden-dim",
        str(job.hidden_dim),
        "--layers",
        str(job.layers),
        "--dropout",
        str(dropout),
        "--batch-size",
        str(job.batch_size),
        "--seq-len",
        str(job.seq_len),
        "--lr",
        str(job.lr),
        "--warmup-steps",
        str(min(300, max(1, steps // 20))),
        "--steps",
        str(steps),
        "--eval-every",
        str(eval_every),
        "--checkpoint-every",
        str(10**9 if probe else max(1, steps // 3)),
        "--max-val-tokens",
        str(args.max_val_tokens),
        "--device",
        args.device,
        "--threads",
        str(args.threads),
        "--fresh",
        "--no-progress",
    ]
    if limit:
        cmd += ["--time-limit", str(limit)]
    return cmd


class Streams:
    """Every process's output into one log (prefixed) and the validation lines into ``curves.tsv``."""

    def __init__(self, out: Path) -> None:
        self.lock = threading.Lock()
        self.log = (out / "grid.log").open("a", encoding="utf-8", buffering=1)
        self.curves = (out / "curves.tsv").open("a", encoding="utf-8", buffering=1)
        if self.curves.tell() == 0:
            self.curves.write("model\tphase\tstep\ttokens\ttrain_loss\tval_bpc\twall_s\n")
        self.t0 = time.monotonic()

    def say(self, line: str) -> None:
        """One line of the driver's own."""
        with self.lock:
            self.log.write(f"[{time.monotonic() - self.t0:6.0f}s grid] {line}\n")
        print(line, flush=True)

    def follow(self, name: str, phase: str, job: Job, proc: subprocess.Popen) -> threading.Thread:
        """Copy a process's output as it comes."""

        def pump() -> None:
            assert proc.stdout is not None
            for raw in proc.stdout:
                line = raw.rstrip("\n")
                wall = time.monotonic() - self.t0
                with self.lock:
                    self.log.write(f"[{wall:6.0f}s {name}] {line}\n")
                    m = STEP_LINE.search(line)
                    if m:
                        step = int(m.group(1))
                        tokens = step * job.batch_size * job.seq_len
                        self.curves.write(
                            f"{name}\t{phase}\t{step}\t{tokens}\t{m.group(2)}\t{m.group(3)}\t{wall:.0f}\n"
                        )
                if m or "error" in line.lower() or "Traceback" in line:
                    print(f"[{name}] {line}", flush=True)

        t = threading.Thread(target=pump, daemon=True)
        t.start()
        return t


def run_all(jobs: list[Job], commands: dict[str, list], streams: Streams, phase: str, timeout: float) -> dict[str, int]:
    """Run the commands at once; returns each one's exit code (killed ones: -9)."""
    env = dict(os.environ, PYTHONUNBUFFERED="1", PYTHONPATH=str(ROOT))
    procs = {}
    pumps = []
    for job in jobs:
        p = subprocess.Popen(
            commands[job.name], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        procs[job.name] = p
        pumps.append(streams.follow(job.name, phase, job, p))
    deadline = time.monotonic() + timeout
    codes = {}
    for name, p in procs.items():
        try:
            codes[name] = p.wait(timeout=max(1.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            p.kill()
            codes[name] = -9
            streams.say(f"{name}: killed at the {phase} deadline")
    for t in pumps:
        t.join(timeout=5)
    return codes


def pack_model(folder: Path, dest: Path) -> int:
    """``config.json`` + float16 ``model.safetensors`` of a model folder as one ``.tar.xz``; returns its size."""
    import torch
    from safetensors.torch import load_file, save

    state = {k: v.to(torch.float16) for k, v in load_file(str(folder / "model.safetensors")).items()}
    weights = save(state, metadata={"format": "assistant-gru-lm", "dtype": "float16"})
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(dest, "w:xz", preset=6) as tar:
        for name, blob in (("config.json", (folder / "config.json").read_bytes()), ("model.safetensors", weights)):
            info = tarfile.TarInfo(name)
            info.size = len(blob)
            tar.addfile(info, io.BytesIO(blob))
    return dest.stat().st_size


def plan_steps(rate: float, seconds: float) -> int:
    """Steps that fit ``seconds`` at ``rate`` steps/s, with 8% to spare for validation passes."""
    return max(10, int(rate * seconds * 0.92))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--carry", type=Path, default=ROOT / "carry" / "mix_v2.npz.xz")
    p.add_argument("--sources", type=Path, default=ROOT / "scripts" / "mix_sources.json")
    p.add_argument("--tokenizer", type=Path, default=ROOT / "models" / "base" / "tokenizer.model")
    p.add_argument("--out", type=Path, default=Path(os.environ.get("OUT", "runs/grid-out")))
    p.add_argument("--work", type=Path, default=Path("/tmp/grid"))
    p.add_argument("--grid", choices=sorted(GRIDS), default="v2")
    p.add_argument("--only", nargs="*", help="these models of the grid only")
    p.add_argument("--device", default="cuda", choices=["cuda", "cpu", "auto"])
    p.add_argument("--budget", type=float, default=420.0, help="seconds for the whole script")
    p.add_argument("--probe", type=float, default=25.0, help="seconds of probe training per model")
    p.add_argument("--reserve", type=float, default=45.0, help="seconds kept for start-up, saving and packing")
    p.add_argument("--threads", type=int, default=2, help="CPU threads per training process")
    p.add_argument("--max-val-tokens", type=int, default=100_000)
    p.add_argument("--dry-run", action="store_true", help="print the plan for --assume-rate steps/s and stop")
    p.add_argument("--assume-rate", type=float, default=20.0, help="steps/s per model in a dry run")
    p.add_argument("--assume-tokens", type=int, default=45_000_000, help="training pieces per epoch in a dry run")
    args = p.parse_args(argv)
    t_start = time.monotonic()
    jobs = [j for j in GRIDS[args.grid] if not args.only or j.name in args.only]
    if not jobs:
        raise SystemExit(f"no model of grid {args.grid!r} is named by --only")
    if len(jobs) + 3 > MAX_FILES:
        raise SystemExit(f"{len(jobs)} models + 3 logs exceed the {MAX_FILES} files the device gives back")
    tokens_file = args.work / "tokens.safetensors"

    if args.dry_run:
        seconds = args.budget - args.probe - args.reserve
        plan = []
        for job in jobs:
            steps = plan_steps(args.assume_rate, seconds)
            passes = steps * job.batch_size * job.seq_len / args.assume_tokens
            dropout = job.dropout if job.dropout is not None else choose_dropout(passes)
            plan.append(
                {
                    "job": asdict(job),
                    "steps": steps,
                    "passes": round(passes, 2),
                    "dropout": dropout,
                    "command": train_command(job, args, tokens_file, steps, dropout, probe=False),
                }
            )
        print(json.dumps({"grid": args.grid, "train_seconds": seconds, "plan": plan}, indent=1))
        return 0

    args.out.mkdir(parents=True, exist_ok=True)
    args.work.mkdir(parents=True, exist_ok=True)
    streams = Streams(args.out)
    streams.say(f"grid {args.grid}: {[j.name for j in jobs]} on {args.device}, budget {args.budget:.0f} s")
    sizes = build_tokens(args.carry, args.sources, tokens_file, args.tokenizer)
    streams.say(f"token streams {sizes} in {time.monotonic() - t_start:.0f} s")

    # Probe: all at once, as they will run, for a measured speed.
    probe_cmds = {j.name: train_command(j, args, tokens_file, 10**7, 0.0, probe=True) for j in jobs}
    t_probe = time.monotonic()
    run_all(jobs, probe_cmds, streams, "probe", timeout=args.probe + 120)
    startup = 0.0
    rates: dict[str, float] = {}
    for job in jobs:
        cfg = json.loads((args.work / f"{job.name}-probe-model" / "config.json").read_text())["training"]
        rates[job.name] = cfg["steps"] / max(1e-6, cfg["wall_seconds"])
        startup = max(startup, time.monotonic() - t_probe - cfg["wall_seconds"])
    streams.say(f"probe: steps/s {json.dumps({k: round(v, 2) for k, v in rates.items()})}, start-up {startup:.0f} s")

    left = args.budget - (time.monotonic() - t_start)
    train_seconds = left - args.reserve - startup
    if train_seconds < 10:
        raise SystemExit(f"only {left:.0f} s left after the probe: raise --budget or lower --probe")
    plans = {}
    for job in jobs:
        steps = plan_steps(rates[job.name], train_seconds)
        passes = steps * job.batch_size * job.seq_len / sizes["train_tokens"]
        dropout = job.dropout if job.dropout is not None else choose_dropout(passes)
        plans[job.name] = {"steps": steps, "passes": round(passes, 2), "dropout": dropout}
        cmd = train_command(job, args, tokens_file, steps, dropout, probe=False)
        plans[job.name]["command"] = [*cmd, "--time-limit", str(round(train_seconds, 1))]
    brief = {k: {kk: v[kk] for kk in ("steps", "passes", "dropout")} for k, v in plans.items()}
    streams.say(f"runs: {train_seconds:.0f} s of training each: {json.dumps(brief)}")
    codes = run_all(jobs, {k: v["command"] for k, v in plans.items()}, streams, "run", timeout=left - args.reserve / 2)

    summary = {"grid": args.grid, "device": args.device, "tokens": sizes, "probe_steps_per_s": rates, "models": {}}
    for job in jobs:
        folder = args.work / f"{job.name}-run-model"
        entry = {"job": asdict(job), **{k: v for k, v in plans[job.name].items() if k != "command"}}
        entry["exit_code"] = codes.get(job.name)
        entry["command"] = " ".join(str(c) for c in plans[job.name]["command"])
        if (folder / "config.json").is_file():
            training = json.loads((folder / "config.json").read_text())["training"]
            entry.update({k: training.get(k) for k in ("steps", "tokens", "wall_seconds", "final_val_bpc")})
            entry["stopped_early"] = training.get("stopped_early")
            history = training.get("history") or []
            entry["last_val_bpc"] = history[-1]["val_bpc"] if history else None
            entry["archive_bytes"] = pack_model(folder, args.out / "models" / f"{job.name}.tar.xz")
        else:
            entry["error"] = "no model folder (see grid.log)"
        summary["models"][job.name] = entry
        streams.say(f"{job.name}: {json.dumps({k: entry.get(k) for k in ('steps', 'final_val_bpc', 'exit_code')})}")
    summary["wall_seconds"] = round(time.monotonic() - t_start, 1)
    (args.out / "summary.json").write_text(json.dumps(summary, indent=1))
    streams.say(f"done in {summary['wall_seconds']:.0f} s")
    return 0 if all(c == 0 for c in codes.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
