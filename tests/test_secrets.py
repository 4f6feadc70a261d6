"""Secrets are never learned nor suggested: the detector, redaction, the suggestion guard, and a real tiny
fine-tune on documents holding planted (fake) secrets."""

from __future__ import annotations

import random
import string
from pathlib import Path

import pytest

from assistant.engine.guard import SuggestionGuard
from assistant.engine.predictor import Phrase, Predictor, Suggestions
from assistant.lm.io import copy_model, load_model
from assistant.personal.space import UserSpace
from assistant.store.models import ModelRegistry
from assistant.store.paths import Paths
from assistant.store.settings import Settings
from assistant.text.secrets import find_secrets, is_secret, looks_random, redact
from assistant.text.words import word_spans, words
from assistant.train.finetune import GENERAL_SAMPLE, FinetuneConfig, finetune, paragraphs
from tests.conftest import make_corpus

_RNG = random.Random(12)
ALNUM = string.ascii_letters + string.digits


def _rand(n: int, alphabet: str = ALNUM) -> str:
    return "".join(_RNG.choice(alphabet) for _ in range(n))


# Fake secrets of several shapes, built at run time (no key-shaped literal in the repository).
PLANTED = {
    "aws": "AKIA" + _rand(16, string.ascii_uppercase + string.digits),
    "github": "ghp_" + _rand(36),
    "gitlab": "glpat-" + _rand(20),
    "slack": "xoxb-" + _rand(12, string.digits) + "-" + _rand(24),
    "stripe": "sk_" + "live_" + _rand(24),
    "google": "AIza" + _rand(35),
    "openai": "sk-proj-" + _rand(40),
    "jwt": "eyJ" + _rand(20) + ".eyJ" + _rand(30) + "." + _rand(43),
    "random": _rand(32),
    "hex": _rand(40, "0123456789abcdef"),
}
PEM = "-----BEGIN RSA PRIVATE KEY-----\n" + "\n".join(_rand(64) for _ in range(4)) + "\n-----END RSA PRIVATE KEY-----"


@pytest.mark.parametrize("kind", sorted(PLANTED))
def test_every_known_shape_is_found_in_prose(kind: str) -> None:
    secret = PLANTED[kind]
    text = f"Here it is: {secret} and then more words."
    spans = [(s.start, s.end) for s in find_secrets(text)]
    start = text.index(secret)
    assert (start, start + len(secret)) in spans
    assert redact(text) == "Here it is:  and then more words."


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("my password: hunter2", "hunter2"),
        ("passwd=tulip77 for the box", "tulip77"),
        ('DB_PASSWORD="correct horse battery"', "correct horse battery"),
        ("github_token: abc123xyz", "abc123xyz"),
        ("X-Api-Key: zzz999", "zzz999"),
        ("secret = 's3cret!'", "s3cret!"),
        ("The wifi password is Blue-Cat-9", "Blue-Cat-9"),
        ("login with https://bob:Sw0rdfish@example.com/db", "bob:Sw0rdfish"),
    ],
)
def test_the_value_after_a_label_is_a_secret(text: str, value: str) -> None:
    found = [text[s.start : s.end] for s in find_secrets(text)]
    assert value in found
    assert value not in redact(text)


def test_a_private_key_block_is_removed_whole_and_paragraphs_stay_aligned() -> None:
    text = f"Dear Ann,\n\nthe key:\n{PEM}\n\nBest regards, Bob\n"
    out = redact(text)
    assert "PRIVATE KEY" not in out and not any(line in out for line in PEM.splitlines()[1:-1])
    assert out.count("\n\n") == text.count("\n\n")
    assert paragraphs(out)[0] == "Dear Ann," and paragraphs(out)[-1] == "Best regards, Bob"
    assert find_secrets("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmU")  # unterminated


@pytest.mark.parametrize(
    "text",
    [
        "The password is wrong, and the token is valid.",
        "Secretary: Jane Doe. Author: John Smith.",
        "internationalization getUserAccountSettingsForAdministrator user_id_2024_report_final_version",
        "See https://example.com/path/to/page?query=1 for details.",
        "Call me at 555-0100 on 2024-05-01 at 09:30.",
        make_corpus(seed=3, paragraphs=30),
    ],
)
def test_ordinary_text_is_left_alone(text: str) -> None:
    assert find_secrets(text) == []
    assert redact(text) == text


def test_randomness_needs_length_mixed_classes_and_entropy() -> None:
    assert looks_random(_rand(24))
    assert not looks_random(_rand(12))
    assert not looks_random("a" * 30)
    assert not looks_random(string.ascii_lowercase)


def test_is_secret_reads_the_context_before_the_suggestion() -> None:
    assert is_secret("hunter2", before="my password: ")
    assert not is_secret("hunter2")
    assert is_secret("EXAMPLE", before="AKIA" + "IOSFODNN7")
    assert not is_secret("regards", before="password: hunter2\n\nBest ")  # the secret lies wholly before


def test_the_guard_drops_secret_candidates_and_cuts_ghost_text() -> None:
    from assistant.decode.wordsearch import WordCandidate

    guard = SuggestionGuard()
    key = PLANTED["github"]
    text = "token " + key[:6]
    raw = Suggestions(key[:6], [WordCandidate(key, 0.9), WordCandidate(key[:6] + "x", 0.05)], Phrase(key[6:], 0.9))
    out = guard.apply(text, raw)
    assert [c.word for c in out.words] == [key[:6] + "x"] and out.phrase is None
    text = "I said my"
    raw = Suggestions("my", [WordCandidate("my", 0.9)], Phrase(" password: hunter2 again", 0.8))
    out = guard.apply(text, raw)
    assert out.phrase == Phrase(" password:", 0.8)
    assert SuggestionGuard(filter_secrets=False).apply(text, raw) == raw


# -- a real tiny fine-tune on documents holding the planted secrets --------------------------------------------


def planted_documents() -> dict[str, str]:
    """Two documents whose paragraphs mix the tiny model's corpus with the planted secrets, many times each."""
    rng = random.Random(5)
    corpus = paragraphs(make_corpus(seed=21, paragraphs=60))
    labelled = {"pw": "password: Tulip" + _rand(6, string.digits)}
    secrets = [*PLANTED.values(), labelled["pw"], PEM]
    docs: dict[str, list[str]] = {"notes.txt": [], "mail.txt": []}
    for i, p in enumerate(corpus):
        s = secrets[i % len(secrets)]
        lead = rng.choice(["The key is", "Use this one:", "Deploy with"])
        docs["notes.txt" if i % 2 else "mail.txt"].append(f"{p} {lead} {s} now.")
    return {name: "\n\n".join(ps) + "\n" for name, ps in docs.items()}


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tiny_model_dir: Path) -> tuple[Paths, ModelRegistry]:
    monkeypatch.setenv("ASSISTANT_HOME", str(tmp_path / "home"))
    paths = Paths.default()
    base = copy_model(tiny_model_dir, tmp_path / "base")
    (base / GENERAL_SAMPLE).write_text(make_corpus(seed=99, paragraphs=20), encoding="utf-8")
    return paths, ModelRegistry(paths.models, base)


FAST = FinetuneConfig(epochs=3, min_words=50, holdout_every=5, lr=3e-3, patience=0, max_general_worsening=10.0)


def offers(predictor: Predictor, guard: SuggestionGuard | None, text: str, secret_word: str, secret: str) -> bool:
    """Whether, after ``text``, a candidate or the ghost text would complete the secret (or its current word)."""
    s = predictor.suggest(text, 5)
    if guard is not None:
        s = guard.apply(text, s)
    before = text[: len(text) - len(s.prefix)]
    shown = [before + c.word for c in s.words] + ([text + s.phrase.text] if s.phrase else [])
    return any(c.word == secret_word for c in s.words) or any(secret in x for x in shown)


def test_planted_secrets_are_neither_learned_nor_suggested(home: tuple[Paths, ModelRegistry], tmp_path: Path) -> None:
    _, registry = home
    docs = planted_documents()
    originals = dict(docs)
    out = finetune(registry, docs, tmp_path / "work", FAST)
    assert out.version is not None, out.message
    assert docs == originals  # the documents keep their secrets
    tuned = load_model(registry.folder(out.version.name))
    secrets = list(PLANTED.values())
    lexicon_words = set()
    for s in secrets:
        lexicon_words.update(w for w in words(s) if len(w) >= 8 and not w.isdigit())
    assert lexicon_words and [w for w in lexicon_words if w in tuned.lexicon] == []
    predictor = Predictor(tuned)
    guard = SuggestionGuard()
    for secret in secrets:
        spans = word_spans(secret)
        for k in range(1, len(secret)):
            word = next((secret[a:b] for a, b in spans if a <= k < b), "")
            # the fine-tuned model alone does not complete it, nor does it with the guard in front
            assert not offers(predictor, None, "The key is " + secret[:k], word, secret), (secret, k)
            assert not offers(predictor, guard, "The key is " + secret[:k], word, secret), (secret, k)

    # Even typing in a document that holds the secret (whose words the predictor may copy), the guard keeps it out.
    doc = docs["notes.txt"]
    for secret in secrets:
        if secret not in doc:
            continue
        at = doc.index(secret)
        for k in (1, 4, len(secret) // 2, len(secret) - 1):
            word = next((secret[a:b] for a, b in word_spans(secret) if a <= k < b), "")
            assert not offers(predictor, guard, doc[: at + k], word, secret), (secret, k)


@pytest.mark.parametrize("filter_secrets", [True, False])
def test_a_key_drilled_in_is_learned_only_without_the_filter(
    home: tuple[Paths, ModelRegistry], tmp_path: Path, filter_secrets: bool
) -> None:
    """The control that shows the test above can fail: a key in every paragraph, trained hard, is completed by
    the fine-tuned model when ``[privacy] filter_secrets = false``, and never when it is on."""
    paths, registry = home
    settings = Settings()
    settings.privacy.filter_secrets = filter_secrets
    settings.save(paths.config)
    learn = UserSpace.at(paths, registry.base_dir).learn_filter()  # the space reads the setting, once
    assert learn.filter_secrets is filter_secrets
    key = PLANTED["aws"]
    corpus = paragraphs(make_corpus(seed=21, paragraphs=60))
    docs = {"keys.txt": "\n\n".join(f"{p} The key is {key} now." for p in corpus)}
    hard = FinetuneConfig(epochs=8, min_words=50, holdout_every=5, lr=1e-2, patience=0, max_general_worsening=10.0)
    out = finetune(registry, docs, tmp_path / "work", hard, learn=learn)
    assert out.version is not None, out.message
    predictor = Predictor(load_model(registry.folder(out.version.name)))
    completed = [k for k in range(1, len(key)) if offers(predictor, None, "The key is " + key[:k], key, key)]
    assert bool(completed) is not filter_secrets
