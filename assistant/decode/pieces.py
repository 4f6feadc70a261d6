"""Per-piece word facts as tensors, indexed by piece id: what the word search needs to know about each piece."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from assistant.text.words import continues_word, is_word_char, word_head


@dataclass(frozen=True)
class PieceTable:
    """Per-piece word facts, indexed by piece id: what word-level search and evaluation need to know."""

    text: tuple[str, ...]
    """Surface text of each piece ('' for control pieces and bytes of multi-byte characters; an ASCII byte
    piece stands for its character)."""
    usable: torch.Tensor
    """False for pieces that never spell text: control pieces, and byte pieces whose character has a piece."""
    continues: torch.Tensor
    """The piece is all word characters (or apostrophes): after it the word goes on."""
    breaks: torch.Tensor
    """The piece starts with a non-word character: the word before it is complete."""
    heads: tuple[str, ...]
    """Word characters a piece adds before it breaks the word (``"s"`` for ``"s,"``); '' for break pieces."""
    is_byte: torch.Tensor
    """Byte-fallback pieces."""

    @classmethod
    def build(cls, tokenizer: object) -> PieceTable:
        """Build the table from a :class:`~assistant.text.tokenizer.Tokenizer`."""
        n = len(tokenizer)  # type: ignore[arg-type]
        texts: list[str] = []
        is_byte = torch.zeros(n, dtype=torch.bool)
        for i in range(n):
            raw = tokenizer.piece_bytes(i)  # type: ignore[attr-defined]
            if tokenizer.is_byte(i):  # type: ignore[attr-defined]
                is_byte[i] = True
                raw = raw if raw[0] < 0x80 else b""
            texts.append(raw.decode("utf-8", errors="replace"))
        regular = {t for i, t in enumerate(texts) if t and not is_byte[i]}
        usable = torch.tensor([bool(t) and not (is_byte[i] and t in regular) for i, t in enumerate(texts)])
        continues = torch.tensor([continues_word(t) for t in texts])
        breaks = torch.tensor(
            [bool(t) and not is_word_char(t[0]) and not continues_word(t) and not word_head(t) for t in texts]
        )
        return cls(tuple(texts), usable, continues, breaks, tuple(word_head(t) for t in texts), is_byte)
