"""A fast fine-tune configuration and a 'user' text with habits."""

from __future__ import annotations

import random

from assistant.train.finetune import FinetuneConfig

FAST = FinetuneConfig(epochs=3, min_words=50, holdout_every=5, lr=2e-3, patience=0, max_general_worsening=10.0)


def user_text(seed: int = 1, paragraphs: int = 40) -> str:
    """The 'user' has habits: a few of the corpus's phrases, always combined the same way, and one new word."""
    rng = random.Random(seed)
    who = ["my sister", "the wizard", "my brother"]
    does = ["paints", "describes"]
    what = ["a beautiful picture", "the garden"]
    when = ["every morning", "in the evening"]
    out = []
    for _ in range(paragraphs):
        s = [
            f"{rng.choice(who)} {rng.choice(does)} {rng.choice(what)} {rng.choice(when)}."
            for _ in range(rng.randint(2, 4))
        ]
        out.append(" ".join(x[0].upper() + x[1:] for x in s))
    return "\n\n".join(out)
