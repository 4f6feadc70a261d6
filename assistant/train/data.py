"""Text files -> one token stream (mixed by weight, with a validation slice) -> TBPTT batches.

Imports only torch, sentencepiece and safetensors (no numpy, textual or platformdirs), so the same code runs on a
bare GPU machine.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors.torch import load_file, save

from assistant.atomic import atomic_write_bytes
from assistant.text.tokenizer import Tokenizer

PARAGRAPH_SEPARATOR = "\n\n"
"""Text between paragraphs in the stream, as in the source files."""

_MAX_UNIT_CHARS = 20_000
"""Paragraphs longer than this are split at line breaks into units of about this size."""


@dataclass(frozen=True)
class MixSource:
    """One training text file and how much of it goes into an epoch."""

    path: Path
    weight: float = 1.0
    """Copies of the file per epoch; a fraction takes that share of its paragraphs (drawn with the seed)."""

    @property
    def name(self) -> str:
        """The file name without suffix (``chitchat`` for ``chitchat.txt``)."""
        return self.path.stem


@dataclass
class TokenData:
    """Token streams for training and validation, with what bits per character needs."""

    train: torch.Tensor
    """1-D int64 piece ids of the training stream."""
    val: torch.Tensor
    """1-D int64 piece ids of the validation stream."""
    val_chars: int
    """Characters of text that the validation stream encodes."""
    train_chars: int
    """Characters of text that the training stream encodes."""
    sources: dict[str, dict[str, float]]
    """Per source: weight, paragraphs, training tokens."""

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the streams as safetensors (int16 where the vocabulary fits) with the counts as metadata."""
        top = max(int(t.max()) for t in (self.train, self.val) if t.numel()) if self.train.numel() else 0
        dtype = torch.int16 if top < 32768 else torch.int32
        meta = {
            "val_chars": str(self.val_chars),
            "train_chars": str(self.train_chars),
            "sources": json.dumps(self.sources),
        }
        blob = save({"train": self.train.to(dtype), "val": self.val.to(dtype)}, metadata=meta)
        atomic_write_bytes(path, blob)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> TokenData:
        """Read streams written by :meth:`save`."""
        from safetensors import safe_open

        tensors = load_file(str(path))
        with safe_open(str(path), framework="pt") as f:
            meta = f.metadata() or {}
        return cls(
            train=tensors["train"].long(),
            val=tensors["val"].long(),
            val_chars=int(meta["val_chars"]),
            train_chars=int(meta["train_chars"]),
            sources=json.loads(meta["sources"]),
        )


_SENTENCE_END = re.compile("(?<=[.!?\u2026])\\s+|(?<=[.!?\u2026][\"'\u201d\u2019)\\]])\\s+")


def split_long(block: str, max_chars: int) -> list[str]:
    """``block`` cut into pieces of about ``max_chars`` at most: at line breaks, then (for a longer line) after
    sentence ends, then (for a longer sentence) at spaces; a block that fits is returned whole."""
    if len(block) <= max_chars:
        return [block]
    for pattern, joiner in ((re.compile(r"\n"), "\n"), (_SENTENCE_END, " ")):
        parts = [p for p in pattern.split(block) if p.strip()]
        if len(parts) > 1:
            return [piece for group in _group(parts, max_chars, joiner) for piece in split_long(group, max_chars)]
    cut = block.rfind(" ", 0, max_chars)
    cut = cut if cut > 0 else max_chars
    return [block[:cut], *split_long(block[cut:].lstrip(" "), max_chars)]


def _group(parts: list[str], max_chars: int, joiner: str) -> list[str]:
    """Consecutive ``parts`` joined into groups of at most ``max_chars`` (a longer part stays alone)."""
    groups: list[str] = []
    buf: list[str] = []
    size = 0
    for part in parts:
        if buf and size + len(joiner) + len(part) > max_chars:
            groups.append(joiner.join(buf))
            buf, size = [], 0
        size += len(part) + (len(joiner) if buf else 0)
        buf.append(part)
    if buf:
        groups.append(joiner.join(buf))
    return groups


def read_units(path: Path) -> list[str]:
    """Paragraphs of a text file (blank-line separated); long blocks split at line breaks (then sentences)."""
    text = path.read_text(encoding="utf-8", errors="replace").replace("\r\n", "\n")
    units: list[str] = []
    for block in text.split("\n\n"):
        block = block.strip("\n")
        if not block.strip():
            continue
        if len(block) <= _MAX_UNIT_CHARS:
            units.append(block)
        else:
            units.extend(split_long(block, _MAX_UNIT_CHARS // 5))
    return units


def build_token_data(
    tokenizer: Tokenizer,
    sources: Sequence[MixSource],
    val_fraction: float = 0.01,
    max_val_units: int = 300,
    seed: int = 1234,
) -> TokenData:
    """Encode the mix into a shuffled training stream and a validation stream held out per source."""
    rng = random.Random(seed)
    train_units: list[list[int]] = []
    val_ids: list[int] = []
    val_chars = 0
    train_chars = 0
    sep = tokenizer.encode(PARAGRAPH_SEPARATOR)
    report: dict[str, dict[str, float]] = {}
    for src in sources:
        units = read_units(src.path)
        order = list(range(len(units)))
        random.Random(f"{seed}:{src.name}").shuffle(order)
        n_val = min(max_val_units, int(len(units) * val_fraction)) if len(units) >= 20 else 0
        val_idx = set(order[:n_val])
        encoded = tokenizer.encode_batch(units)
        kept: list[int] = []
        for i, ids in enumerate(encoded):
            if i in val_idx:
                val_ids.extend(ids)
                val_ids.extend(sep)
                val_chars += len(units[i]) + len(PARAGRAPH_SEPARATOR)
            else:
                kept.append(i)
        whole, frac = divmod(src.weight, 1.0)
        chosen = kept * int(whole) + rng.sample(kept, round(len(kept) * frac))
        n_tokens = 0
        for i in chosen:
            train_units.append(encoded[i] + sep)
            n_tokens += len(encoded[i]) + len(sep)
            train_chars += len(units[i]) + len(PARAGRAPH_SEPARATOR)
        report[src.name] = {"weight": src.weight, "paragraphs": len(units), "train_tokens": n_tokens}
    rng.shuffle(train_units)
    flat = [t for unit in train_units for t in unit]
    return TokenData(
        train=torch.tensor(flat, dtype=torch.long),
        val=torch.tensor(val_ids, dtype=torch.long),
        val_chars=val_chars,
        train_chars=train_chars,
        sources=report,
    )


def token_data_key(tokenizer: Tokenizer, sources: Sequence[MixSource], val_fraction: float, seed: int) -> str:
    """A cache key that changes when the tokenizer, any file's size/time, a weight or the split changes."""
    h = hashlib.sha256(tokenizer.sha256.encode())
    for s in sources:
        st = s.path.stat()
        h.update(f"{s.path.resolve()}|{st.st_size}|{st.st_mtime_ns}|{s.weight}".encode())
    h.update(f"{val_fraction}|{seed}".encode())
    return h.hexdigest()[:16]


def load_or_build_token_data(
    tokenizer: Tokenizer,
    sources: Sequence[MixSource],
    cache_dir: str | os.PathLike[str],
    val_fraction: float = 0.01,
    seed: int = 1234,
) -> TokenData:
    """Build the token streams once and cache them as safetensors under ``cache_dir``."""
    key = token_data_key(tokenizer, sources, val_fraction, seed)
    path = Path(cache_dir) / f"tokens-{key}.safetensors"
    if path.is_file():
        return TokenData.load(path)
    data = build_token_data(tokenizer, sources, val_fraction=val_fraction, seed=seed)
    data.save(path)
    return data


class TBPTTBatches:
    """Contiguous batches for truncated backpropagation through time.

    The rank's shard of the stream is cut into ``batch_size`` parallel columns; chunk ``i`` of every column
    follows chunk ``i - 1`` in the text, so a hidden state carried from one batch to the next sees the context
    that really came before.
    """

    def __init__(self, stream: torch.Tensor, batch_size: int, seq_len: int, rank: int = 0, world_size: int = 1) -> None:
        shard_len = stream.numel() // world_size
        shard = stream[rank * shard_len : (rank + 1) * shard_len]
        col_len = shard.numel() // batch_size
        if col_len < seq_len + 1:
            raise ValueError(
                f"{stream.numel()} tokens are too few for {world_size} rank(s) x batch {batch_size} x "
                f"sequence {seq_len}; use a smaller batch or sequence length"
            )
        self.columns = shard[: col_len * batch_size].view(batch_size, col_len)  # (B, N)
        self.seq_len = seq_len
        self.num_chunks = (col_len - 1) // seq_len
        """Chunks per epoch."""

    def chunk(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Inputs and next-piece targets of chunk ``index``, each ``(B, T)``."""
        start = index * self.seq_len
        x = self.columns[:, start : start + self.seq_len]
        y = self.columns[:, start + 1 : start + 1 + self.seq_len]
        return x, y

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        for i in range(self.num_chunks):
            yield self.chunk(i)

    def __len__(self) -> int:
        return self.num_chunks
