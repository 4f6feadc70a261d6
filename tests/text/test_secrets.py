"""Secrets are never learned nor suggested: the detector, redaction, the suggestion guard, and a real tiny
fine-tune on documents holding planted (fake) secrets."""

from __future__ import annotations

import random
import string
from pathlib import Path

import pytest
from stdnum import iban, luhn

from assistant.engine.guard import SuggestionGuard
from assistant.engine.predictor import Phrase, Predictor, Suggestions
from assistant.lm.io import copy_model, load_model
from assistant.personal.space import UserSpace
from assistant.store.models import ModelRegistry
from assistant.store.paths import Paths
from assistant.store.privacy import LearnFilter
from assistant.store.settings import Settings
from assistant.text.secrets import find_secrets, is_secret, looks_random, redact
from assistant.text.words import word_spans, words
from assistant.train.finetune import GENERAL_SAMPLE, FinetuneConfig, finetune, paragraphs
from tests.support.corpus import make_corpus

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


def _card(first: str = "4") -> str:
    """A random 16-digit number that passes the Luhn check (the shape of a payment card number)."""
    body = first + _rand(14, string.digits)
    return body + luhn.calc_check_digit(body)


def _iban(country: str = "GB") -> str:
    """A random IBAN of ``country`` with correct check digits (a UK one: 4 letters, 14 digits)."""
    bban = _rand(4, string.ascii_uppercase) + _rand(14, string.digits)
    return country + iban.calc_check_digits(country + "00" + bban) + bban


def _spaced(number: str, sep: str = " ") -> str:
    return sep.join(number[i : i + 4] for i in range(0, len(number), 4))


CARD, IBAN = _card(), _iban()
PLANTED.update(
    {
        "card": CARD,
        "card-spaced": _spaced(_card("5")),
        "card-dashed": _spaced(_card("4"), "-"),
        "iban": IBAN,
        "iban-spaced": _spaced(_iban()),
        "backup-codes": " ".join(_rand(6, "123456789") for _ in range(5)),
    }
)
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


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("Guests use the wifi key hunter7 at the door.", "hunter7"),
        ("The door code is 4821.", "4821"),
        ("my PIN is 4821, don't tell", "4821"),
        ("The key is 7hunter", "7hunter"),
        ("the wifi password is kestrel", "kestrel"),
        ("Alarm code: 9031", "9031"),
        ("My backup codes:\n1. 482913\n2. 550271\n3. 119384", "482913\n2. 550271\n3. 119384"),
    ],
)
def test_a_key_code_pin_or_password_in_prose_is_a_secret(text: str, value: str) -> None:
    assert value in [text[s.start : s.end] for s in find_secrets(text)]
    assert value not in LearnFilter().text(text)


@pytest.mark.parametrize(
    "text",
    [
        "Call me on +44 20 7946 0958 or at 555-0100, or (415) 555-2671.",
        "Your order number is 100234871 and the tracking number 1Z999AA10123456784.",
        "Order " + CARD[:-1] + str((int(CARD[-1]) + 1) % 10) + " shipped.",  # fails the Luhn check
        "Wire it to " + IBAN[:2] + f"{(int(IBAN[2:4]) + 1) % 100:02d}" + IBAN[4:] + " today.",  # wrong check digits
        "The meeting is on 2024-05-01, 12/03/2026 and 3 December 2026 at 09:30.",
        "In 2023 and 2024 we grew, as in 1999 2000 2001, and invoice 2024-0042 is paid.",
        "ISBN 978-0-306-40615-7, page 12345678.",
        "The key is to start early. The code is clean and the key point is speed.",
        "The wifi password changed yesterday; the door code is on the fridge.",
        "Pin it to the board. The key to the shed is under the mat.",
    ],
)
def test_near_misses_stay_learnable(text: str) -> None:
    assert find_secrets(text) == [], [text[s.start : s.end] for s in find_secrets(text)]
    assert LearnFilter().text(text) == text


@pytest.mark.parametrize(
    ("before", "word"),
    [
        ("The corporate card ", CARD),
        ("My card number is " + PLANTED["card-spaced"][:5], PLANTED["card-spaced"][5:9]),
        ("Wire it to ", IBAN),
        ("Wire it to " + PLANTED["iban-spaced"][:5], PLANTED["iban-spaced"][5:9]),
        ("My backup codes: 482913 ", "550271"),
        ("Guests use the wifi key ", "hunter7"),
    ],
)
def test_a_suggestion_that_would_continue_a_card_iban_or_codes_is_refused(before: str, word: str) -> None:
    from assistant.decode.wordsearch import WordCandidate

    assert is_secret(word, before)
    raw = Suggestions(word[:2], [WordCandidate(word, 0.9), WordCandidate(word[:2] + "th", 0.05)], None)
    assert [c.word for c in SuggestionGuard().apply(before + word[:2], raw).words] == [word[:2] + "th"]


@pytest.mark.parametrize(
    ("before", "word"),
    [("Call me on 555 ", "0100"), ("In 2023 ", "2024"), ("Your order number is ", "100234871"), ("on ", "2024")],
)
def test_numbers_that_are_no_secret_may_still_be_suggested(before: str, word: str) -> None:
    assert not is_secret(word, before)


def test_a_card_number_in_a_document_is_not_in_the_personal_memory(tmp_path: Path) -> None:
    from assistant.personal.space import UserSpace

    space = UserSpace.at(Paths.at(tmp_path / "home"))
    spaced = PLANTED["card-spaced"]
    space.save("mail.txt", f"The corporate card {CARD} is for travel.\n\nMy card {spaced} expires.\n\nOrder 100234871.")
    memory = space.memory()
    assert memory is not None and "corporate" in memory and "100234871" in memory
    assert CARD not in memory and not any(group in memory for group in spaced.split())


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


def test_a_memory_learned_under_older_rules_is_learned_again(tmp_path: Path) -> None:
    from assistant.store import privacy

    now = LearnFilter().fingerprint()
    assert LearnFilter(filter_secrets=False).fingerprint() != now
    old = privacy.RULES_VERSION
    try:
        privacy.RULES_VERSION = old - 1  # what a memory saved by the last release carries
        assert LearnFilter().fingerprint() != now
    finally:
        privacy.RULES_VERSION = old
