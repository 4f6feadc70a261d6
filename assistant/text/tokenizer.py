"""SentencePiece tokenizer that gives back any Unicode string exactly.

The model is trained with the identity normalisation, no whitespace squeezing, no dummy prefix and byte
fallback, so every string encodes. SentencePiece still rewrites one character on its own: the meta symbol
``▁`` (U+2581) stands for a space, so a literal ``▁`` in the user's text would come back as a space. The
wrapper encodes that character as its three UTF-8 byte pieces instead, and decodes pieces itself, so
``decode(encode(s)) == s`` for every string ``s``.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import sentencepiece as spm

from assistant.atomic import private_dir

META = "\u2581"
"""SentencePiece's visible stand-in for a space."""

_META_BYTES = META.encode("utf-8")

THREADED_BATCH = 256
"""Batches of at least this many strings go to SentencePiece in one multi-threaded call."""


class TokenizerError(RuntimeError):
    """A tokenizer file is missing, unreadable or not a SentencePiece model."""


@dataclass(frozen=True)
class TokenizerTrainingOptions:
    """Options for training a SentencePiece model (see SentencePiece's trainer flags)."""

    vocab_size: int = 8000
    """Number of pieces, including the byte pieces and the special ids."""
    model_type: str = "unigram"
    """``unigram`` or ``bpe``."""
    character_coverage: float = 0.9995
    """Share of characters covered by pieces; the rest fall back to bytes."""
    input_sentence_size: int = 2_000_000
    """Lines sampled from the input (0 = all)."""
    max_sentence_length: int = 16384
    """Longest line in bytes that the trainer reads."""
    split_digits: bool = True
    """Every digit is its own piece, so numbers are spelled out."""
    seed_sentencepiece_size: int = 1_000_000
    """Seed vocabulary size for the unigram trainer."""
    num_threads: int = 2
    """Trainer threads."""


def train_tokenizer(
    inputs: Sequence[str | os.PathLike[str]],
    model_prefix: str | os.PathLike[str],
    options: TokenizerTrainingOptions | None = None,
) -> Path:
    """Train a SentencePiece model from text files; return the path of the ``.model`` file."""
    opts = options or TokenizerTrainingOptions()
    files = [str(Path(p)) for p in inputs]
    for f in files:
        if not Path(f).is_file():
            raise TokenizerError(f"training text not found: {f}")
    prefix = Path(model_prefix)
    private_dir(prefix.parent)
    try:
        _run_trainer(files, prefix, opts)
    except RuntimeError as exc:
        raise TokenizerError(f"SentencePiece could not train on {', '.join(files)}: {exc}") from exc
    return prefix.with_suffix(".model")


def _run_trainer(files: list[str], prefix: Path, opts: TokenizerTrainingOptions) -> None:
    spm.SentencePieceTrainer.train(
        input=files,
        model_prefix=str(prefix),
        vocab_size=opts.vocab_size,
        model_type=opts.model_type,
        character_coverage=opts.character_coverage,
        input_sentence_size=opts.input_sentence_size,
        shuffle_input_sentence=True,
        max_sentence_length=opts.max_sentence_length,
        normalization_rule_name="identity",
        remove_extra_whitespaces=False,
        add_dummy_prefix=False,
        byte_fallback=True,
        split_digits=opts.split_digits,
        allow_whitespace_only_pieces=True,
        split_by_whitespace=True,
        # Newline and tab are ordinary text for a writing assistant; give them their own pieces.
        user_defined_symbols=["\n", "\t"],
        unk_id=0,
        bos_id=-1,
        eos_id=-1,
        pad_id=-1,
        seed_sentencepiece_size=opts.seed_sentencepiece_size,
        num_threads=opts.num_threads,
        minloglevel=2,
    )


def file_sha256(path: str | os.PathLike[str]) -> str:
    """Hex SHA-256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


class Tokenizer:
    """Encode text to piece ids and decode ids back to the exact text."""

    def __init__(self, model_path: str | os.PathLike[str]) -> None:
        path = Path(model_path)
        if not path.is_file():
            raise TokenizerError(f"tokenizer model not found: {path}")
        data = path.read_bytes()
        self.path = path
        self.sha256 = hashlib.sha256(data).hexdigest()
        """SHA-256 of the model file; models record it to refuse a mismatched tokenizer."""
        self._sp = spm.SentencePieceProcessor()
        try:
            self._sp.LoadFromSerializedProto(data)
        except Exception as exc:  # sentencepiece raises RuntimeError/OSError variants
            raise TokenizerError(f"{path} is not a valid SentencePiece model: {exc}") from exc
        n = self._sp.GetPieceSize()
        self.vocab_size = n
        self._byte_id: list[int] = [0] * 256
        self._piece_bytes: list[bytes] = []
        found = 0
        for i in range(n):
            piece = self._sp.IdToPiece(i)
            if self._sp.IsByte(i):
                value = int(piece[3:5], 16)  # "<0xAB>"
                self._byte_id[value] = i
                self._piece_bytes.append(bytes([value]))
                found += 1
            elif self._sp.IsControl(i) or self._sp.IsUnknown(i):
                self._piece_bytes.append(b"")
            else:
                self._piece_bytes.append(piece.replace(META, " ").encode("utf-8"))
        if found != 256:
            raise TokenizerError(f"{path} was trained without byte_fallback; retrain it with this package")
        self._meta_ids = [self._byte_id[b] for b in _META_BYTES]

    @classmethod
    def train(
        cls,
        inputs: Sequence[str | os.PathLike[str]],
        model_prefix: str | os.PathLike[str],
        options: TokenizerTrainingOptions | None = None,
    ) -> Tokenizer:
        """Train a model (see :func:`train_tokenizer`) and load it."""
        return cls(train_tokenizer(inputs, model_prefix, options))

    @classmethod
    def train_from_text(cls, text: str, model_prefix: str | os.PathLike[str], **options: object) -> Tokenizer:
        """Train from an in-memory string (small models for tests and tools)."""
        with tempfile.TemporaryDirectory() as tmp:
            src = Path(tmp) / "train.txt"
            src.write_text(text, encoding="utf-8")
            return cls.train([src], model_prefix, TokenizerTrainingOptions(**options))  # type: ignore[arg-type]

    def encode(self, text: str) -> list[int]:
        """Piece ids for ``text``; :meth:`decode` gives ``text`` back exactly."""
        if META not in text:
            return self._sp.EncodeAsIds(text) if text else []
        ids: list[int] = []
        for i, part in enumerate(text.split(META)):
            if i:
                ids.extend(self._meta_ids)
            if part:
                ids.extend(self._sp.EncodeAsIds(part))
        return ids

    def encode_batch(self, texts: Iterable[str]) -> list[list[int]]:
        """Encode many strings: a large batch in one multi-threaded call into SentencePiece, a small one string
        by string (a list call starts a thread pool, 0.1-1 ms, against a few microseconds per short string)."""
        items = list(texts)
        if len(items) < THREADED_BATCH or any(META in t for t in items):
            return [self.encode(t) for t in items]
        return self._sp.EncodeAsIds(items)

    def piece_bytes(self, piece_id: int) -> bytes:
        """The UTF-8 bytes a piece stands for (a byte piece stands for one byte)."""
        return self._piece_bytes[piece_id]

    def decode_bytes(self, ids: Iterable[int]) -> bytes:
        """The raw bytes of a piece sequence (may end inside a multi-byte character)."""
        table = self._piece_bytes
        return b"".join(table[i] for i in ids)

    def decode(self, ids: Iterable[int]) -> str:
        """Text of a piece sequence; incomplete UTF-8 from byte pieces becomes U+FFFD."""
        return self.decode_bytes(ids).decode("utf-8", errors="replace")

    def is_byte(self, piece_id: int) -> bool:
        """Whether the piece is a byte-fallback piece."""
        return self._sp.IsByte(piece_id)

    def __len__(self) -> int:
        return self.vocab_size
