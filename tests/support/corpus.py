"""Small texts and tiny model configs the tests train on."""

from __future__ import annotations

import random
from pathlib import Path

from assistant.lm.model import GRUConfig
from assistant.text.tokenizer import Tokenizer

DATA = Path(__file__).parents[1] / "data"


def make_corpus(seed: int = 7, paragraphs: int = 300) -> str:
    """Grammatical sentences from small word lists: enough structure for a tiny model to learn quickly."""
    rng = random.Random(seed)
    subjects = [
        "the cat",
        "my friend",
        "our team",
        "the old man",
        "a young woman",
        "the teacher",
        "everyone",
        "the manager",
        "my sister",
        "the doctor",
        "this report",
        "the meeting",
        "the children",
        "my brother",
        "the neighbours",
        "our director",
        "the students",
        "his father",
        "her mother",
        "the committee",
    ]
    verbs = [
        "sends",
        "reads",
        "writes",
        "finds",
        "likes",
        "moves",
        "sees",
        "takes",
        "opens",
        "checks",
        "remembers",
        "describes",
        "prepares",
        "discusses",
        "forgets",
        "signs",
        "answers",
        "paints",
        "carries",
        "follows",
    ]
    objects = [
        "the letter",
        "a book",
        "the report",
        "some coffee",
        "the window",
        "a new plan",
        "the garden",
        "the schedule",
        "an email",
        "the results",
        "the door",
        "a small gift",
        "the budget",
        "a long story",
        "the contract",
        "the question",
        "a beautiful picture",
        "the invitation",
        "the newspaper",
        "our proposal",
    ]
    tails = [
        "today",
        "every morning",
        "on Monday",
        "after lunch",
        "in the evening",
        "with care",
        "again",
        "before the meeting",
        "at home",
        "at work",
        "and it's fine",
        "but she doesn't mind",
        "in 2024",
        "at 9 o'clock",
        "without hesitation",
        "during the weekend",
        "as usual",
        "for the first time",
    ]
    out = []
    for _ in range(paragraphs):
        sentences = []
        for _ in range(rng.randint(2, 5)):
            s = f"{rng.choice(subjects)} {rng.choice(verbs)} {rng.choice(objects)} {rng.choice(tails)}"
            if rng.random() < 0.3:
                s += f", and {rng.choice(subjects)} {rng.choice(verbs)} {rng.choice(objects)}"
            sentences.append(s[0].upper() + s[1:] + rng.choice([".", ".", ".", "!", "?"]))
        out.append(" ".join(sentences))
    return "\n\n".join(out) + "\n"


TINY = dict(embed_dim=32, hidden_dim=64, num_layers=1, dropout=0.0)


def tiny_config(tokenizer: Tokenizer, **over: object) -> GRUConfig:
    return GRUConfig(vocab_size=tokenizer.vocab_size, **{**TINY, **over})  # type: ignore[arg-type]
