"""Pre-tokenised mix for the device: per-source paragraph ids in one xz-compressed ``.npz``, and the stream built
from it exactly as ``assistant.train.data.build_token_data`` builds it from the text files.

Ids are stored once per paragraph (weights are applied on the device), as two byte planes (low bytes, then
high bytes: that compresses better than interleaved uint16).
"""

from __future__ import annotations

import io
import json
import lzma
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

FORMAT = "assistant-mix-tokens/1"


@dataclass
class SourceUnits:
    """The encoded paragraphs ("units", as ``read_units`` cuts them) of one source file."""

    name: str
    ids: np.ndarray
    """All units' ids, concatenated (uint16)."""
    lengths: np.ndarray
    """Pieces per unit (int64)."""
    chars: np.ndarray
    """Characters per unit (int64)."""

    def unit(self, i: int, starts: np.ndarray) -> np.ndarray:
        """Ids of unit ``i`` (``starts`` from :func:`unit_starts`)."""
        return self.ids[starts[i] : starts[i] + self.lengths[i]]


def unit_starts(lengths: np.ndarray) -> np.ndarray:
    """Offset of each unit in the concatenated ids."""
    return np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)


def pack(sources: Sequence[SourceUnits], sep: Sequence[int], meta: Mapping[str, object], preset: int = 9) -> bytes:
    """The xz-compressed ``.npz`` holding every source (``meta`` goes in as JSON: tokenizer hash, ...)."""
    arrays: dict[str, np.ndarray] = {}
    for s in sources:
        ids = s.ids.astype(np.uint16)
        arrays[f"{s.name}.lo"] = (ids & 0xFF).astype(np.uint8)
        arrays[f"{s.name}.hi"] = (ids >> 8).astype(np.uint8)
        arrays[f"{s.name}.lengths"] = s.lengths.astype(np.uint32)
        arrays[f"{s.name}.chars"] = s.chars.astype(np.uint32)
    header = {"format": FORMAT, "sources": [s.name for s in sources], "sep": list(sep), **meta}
    arrays["header"] = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return lzma.compress(buf.getvalue(), preset=preset | lzma.PRESET_EXTREME)


def unpack(blob: bytes) -> tuple[dict, list[SourceUnits]]:
    """The header and sources written by :func:`pack`."""
    with np.load(io.BytesIO(lzma.decompress(blob))) as z:
        header = json.loads(bytes(z["header"]).decode())
        if header.get("format") != FORMAT:
            raise ValueError(f"not a mix token file (format {header.get('format')!r})")
        out = []
        for name in header["sources"]:
            ids = z[f"{name}.lo"].astype(np.uint16) | (z[f"{name}.hi"].astype(np.uint16) << 8)
            out.append(
                SourceUnits(name, ids, z[f"{name}.lengths"].astype(np.int64), z[f"{name}.chars"].astype(np.int64))
            )
    return header, out


def assemble(
    sources: Sequence[SourceUnits],
    weights: Mapping[str, float],
    sep: Sequence[int],
    sep_chars: int = 2,
    val_fraction: float = 0.01,
    max_val_units: int = 300,
    seed: int = 1234,
) -> tuple[np.ndarray, np.ndarray, int, int, dict[str, dict[str, float]]]:
    """Training and validation streams as ``build_token_data`` makes them from the same files and weights.

    Sources go in name order (as ``parse_mix`` sorts the files), sources weighted 0 are left out, and every
    random draw is the same one, so the ids equal those the trainer would build from the text.
    Returns ``(train, val, train_chars, val_chars, report)``.
    """
    rng = random.Random(seed)
    sep_arr = np.asarray(sep, dtype=np.int64)
    train_units: list[np.ndarray] = []
    val_parts: list[np.ndarray] = []
    val_chars = train_chars = 0
    report: dict[str, dict[str, float]] = {}
    for src in sorted(sources, key=lambda s: s.name):
        weight = float(weights.get(src.name, 1.0))
        if weight <= 0:
            continue
        n = len(src.lengths)
        starts = unit_starts(src.lengths)
        order = list(range(n))
        random.Random(f"{seed}:{src.name}").shuffle(order)
        n_val = min(max_val_units, int(n * val_fraction)) if n >= 20 else 0
        val_idx = set(order[:n_val])
        kept: list[int] = []
        for i in range(n):
            if i in val_idx:
                val_parts += [src.unit(i, starts).astype(np.int64), sep_arr]
                val_chars += int(src.chars[i]) + sep_chars
            else:
                kept.append(i)
        whole, frac = divmod(weight, 1.0)
        chosen = kept * int(whole) + rng.sample(kept, round(len(kept) * frac))
        n_tokens = 0
        for i in chosen:
            train_units.append(np.concatenate([src.unit(i, starts).astype(np.int64), sep_arr]))
            n_tokens += int(src.lengths[i]) + len(sep_arr)
            train_chars += int(src.chars[i]) + sep_chars
        report[src.name] = {"weight": weight, "paragraphs": n, "train_tokens": n_tokens}
    rng.shuffle(train_units)
    train = np.concatenate(train_units) if train_units else np.zeros(0, dtype=np.int64)
    val = np.concatenate(val_parts) if val_parts else np.zeros(0, dtype=np.int64)
    return train, val, train_chars, val_chars, report
