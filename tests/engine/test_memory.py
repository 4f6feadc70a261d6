"""Document and personal memories, and the adaptive mixing, on real stores, files and a real tiny model."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assistant.engine.memory import DocumentMemory
from assistant.engine.mixing import MixSettings, em_weights
from assistant.engine.predictor import Predictor
from assistant.lm.io import LoadedModel, load_model
from assistant.personal.memory import FILE_NAME, PersonalMemory
from assistant.store.documents import DocumentStore
from assistant.text.paragraphs import paragraphs


@pytest.fixture(scope="module")
def lm(tiny_model_dir: Path) -> LoadedModel:
    return load_model(tiny_model_dir)


# -- document memory ------------------------------------------------------------------------------------------

WORDS = "the cat sends a book. My friend reads, writes today\n'2"


@settings(max_examples=60, deadline=None)
@given(
    start=st.text(alphabet=WORDS, max_size=60),
    edits=st.lists(
        st.tuples(st.integers(0, 200), st.integers(0, 20), st.text(alphabet=WORDS, max_size=15)), max_size=8
    ),
)
def test_document_memory_after_edits_equals_one_built_from_the_text(start: str, edits) -> None:
    live = DocumentMemory()
    text = start
    for pos, length, chunk in edits:
        pos %= len(text) + 1
        text = text[:pos] + chunk + text[pos + length :]
        live.update(text.rstrip(" .,\n'"))
    context = text.rstrip(" .,\n'")
    live.update(context)
    fresh = DocumentMemory()
    fresh.update(context)
    assert live.words == fresh.words
    assert live.unigrams == fresh.unigrams
    assert live.ngrams == fresh.ngrams and live._totals == fresh._totals  # the same counts, stored the same way
    assert live.recorded == pytest.approx(fresh.recorded) and live.gaps == fresh.gaps
    assert live.recorded == pytest.approx(fresh.recorded)
    for prefix in ("", "t", "wr", "M"):
        a, b = live.answer(prefix, False, 5), fresh.answer(prefix, False, 5)
        assert a.words == pytest.approx(b.words) and a.mass == pytest.approx(b.mass)


def test_document_memory_probabilities_follow_the_text() -> None:
    memory = DocumentMemory()
    memory.update("Emma Woodhouse, handsome, clever, and rich. Miss Woodhouse")
    answer = memory.answer("Wood", False, 3)
    assert list(answer.words) == ["Woodhouse"]
    assert answer.words["Woodhouse"] == pytest.approx(1.0)
    assert 0 < answer.mass < 1
    at_start = memory.answer("", True, 20)
    assert "Emma" in at_start.words and all(w[0].isupper() for w in at_start.words)


def test_a_lower_case_start_typed_at_a_sentence_start_is_completed_as_written() -> None:
    memory = DocumentMemory()
    memory.update("Set chemin_sortie first. The chemin_sortie folder is made.\n\n")
    # a line starting with an identifier (or a writer who does not capitalise): the typed case is meant
    assert list(memory.answer("che", True, 3).words) == ["chemin_sortie"]
    assert list(memory.answer("Che", True, 3).words) == ["Chemin_sortie"]
    assert all(w[0].isupper() for w in memory.answer("", True, 3).words)


# -- personal memory ------------------------------------------------------------------------------------------

PARAGRAPH = st.lists(
    st.sampled_from(["falcon", "ship", "any", "questions", "Anna", "the", "café", "crème"]), min_size=1, max_size=6
).map(" ".join)
DOC_TEXT = st.lists(PARAGRAPH, min_size=1, max_size=4).map("\n\n".join)
ACTIONS = st.lists(
    st.tuples(st.sampled_from(["save", "remove", "sync"]), st.sampled_from(["a.txt", "b.txt", "c.txt"]), DOC_TEXT),
    min_size=1,
    max_size=10,
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(actions=ACTIONS)
def test_personal_memory_after_any_changes_equals_one_rebuilt(actions) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        store = DocumentStore(Path(tmp) / "data" / "documents")
        memory = PersonalMemory.for_store(store)
        for kind, name, text in actions:
            if kind == "save":
                store.save(name, text)
            elif kind == "remove" and name in {d.name for d in store.list()}:
                store.remove(name)
            else:
                memory.sync(store)
        memory.sync(store)
        rebuilt = PersonalMemory.from_texts({d.name: store.read(d.name) for d in store.list()})
        assert memory.state()[1:] == rebuilt.state()[1:]
        assert set(memory.documents) == {d.name for d in store.list()}
        for context in ([], ["the"], ["Anna", "the"], ["falcon", "ship", "any"], ["ship", "any", "questions"]):
            for word in ("falcon", "ship", "the", "café", "questions"):
                assert memory.probability(word, context) == pytest.approx(rebuilt.probability(word, context))
            for prefix in ("", "c", "q"):
                got, want = memory.answer(context, prefix, False, 20), rebuilt.answer(context, prefix, False, 20)
                assert got.words == pytest.approx(want.words) and got.mass == pytest.approx(want.mass)
        reloaded = PersonalMemory.load(Path(tmp) / "data" / FILE_NAME)
        assert reloaded.state() == memory.state()


def test_sync_applies_only_the_changed_paragraphs(tmp_path: Path) -> None:
    store = DocumentStore(tmp_path / "data" / "documents")
    store.save("mail.txt", "Dear Anna,\n\nThe Falcon ships today.\n\nAny questions?")
    memory = PersonalMemory.for_store(store)
    assert memory.unigrams["Falcon"] == 1
    store.save("mail.txt", "Dear Anna,\n\nThe Falcon ships on Monday.\n\nAny questions?")
    report = memory.sync(store)
    assert report.changed == ["mail.txt"]
    assert (report.paragraphs_added, report.paragraphs_removed) == (1, 1)
    assert memory.unigrams["Monday"] == 1 and "today" not in memory
    store.remove("mail.txt")
    assert memory.sync(store).removed == ["mail.txt"]
    assert not memory.unigrams and memory.total == 0


def test_the_gap_between_two_words_is_found_only_inside_a_paragraph_and_after_a_word_start(tmp_path: Path) -> None:
    store = DocumentStore(tmp_path / "data" / "documents")
    store.save("a.txt", "Ends with regards\n\nAnna starts here.\n\nXBest, regards to you.")
    memory = PersonalMemory.for_store(store)
    assert memory.gap("regards", "Anna") is None  # the paragraph break is not a gap
    assert memory.gap("Best", "regards") is None  # "XBest" is another word
    store.save("b.txt", "Best regards,\nAnna Keller")
    memory.sync(store)
    assert memory.gap("Best", "regards") == " "
    assert memory.gap("regards", "Anna") == ",\n"  # found after the change too


@pytest.mark.parametrize(
    "damage",
    [
        lambda p: p.write_bytes(b"not gzip at all"),
        lambda p: p.write_bytes(p.read_bytes()[:20]),
        lambda p: p.write_bytes(
            gzip.compress(json.dumps({"format": "assistant-personal-memory", "version": 0}).encode())
        ),
        lambda p: p.write_bytes(
            gzip.compress(b'{"format": "assistant-personal-memory", "version": 1, "documents": 3}')
        ),
    ],
    ids=["garbage", "truncated", "old-version", "bad-entries"],
)
def test_a_damaged_or_old_memory_file_is_rebuilt_with_a_message(tmp_path: Path, damage) -> None:
    store = DocumentStore(tmp_path / "data" / "documents")
    store.save("notes.txt", "Grüße aus München.\n\nDie Straßenbahn fährt pünktlich.")
    PersonalMemory.for_store(store)
    path = tmp_path / "data" / FILE_NAME
    damage(path)
    before = {d.name: store.read(d.name) for d in store.list()}
    messages: list[str] = []
    memory = PersonalMemory.for_store(store, notify=messages.append)
    assert len(messages) == 1 and str(path) in messages[0] and "rebuilding" in messages[0]
    assert memory.unigrams["Straßenbahn"] == 1
    assert {d.name: store.read(d.name) for d in store.list()} == before
    assert PersonalMemory.load(path).state() == memory.state()  # the rebuilt file is good again


def test_paragraphs_split_at_blank_lines() -> None:
    assert paragraphs("One.\n\n\n  Two\nlines.\n \n--\n\nThree") == ["One.", "  Two\nlines.", "--", "Three"]


def test_two_users_memories_never_mix(tmp_path: Path, lm: LoadedModel) -> None:
    anna = DocumentStore(tmp_path / "anna" / "data" / "documents")
    ben = DocumentStore(tmp_path / "ben" / "data" / "documents")
    anna.save("a.txt", "Zanzibar " * 30)
    ben.save("b.txt", "Quixotic " * 30)
    mem_a, mem_b = PersonalMemory.for_store(anna), PersonalMemory.for_store(ben)
    assert mem_a.path != mem_b.path
    pa, pb = Predictor(lm, personal=mem_a), Predictor(lm, personal=mem_b)
    assert pa.words("We went to Zan", 3)[0].word == "Zanzibar"
    assert not [c for c in pb.words("We went to Zan", 5) if c.word == "Zanzibar"]
    assert pb.words("That was quite Qu", 3)[0].word == "Quixotic"


# -- the predictor with memories ------------------------------------------------------------------------------

FRENCH = (
    "Le boulanger prépare les croissants chaque matin. La boulangère vend les baguettes dorées.\n\n"
    "Les croissants sont délicieux et les baguettes sont croustillantes. Le boulanger aime son métier."
)


def test_a_text_in_another_language_completes_its_own_words_after_import(tmp_path: Path, lm: LoadedModel) -> None:
    static = Predictor(lm, adaptive=False)
    assert "croustillantes" not in [c.word for c in static.words("Les baguettes sont crous", 5)]
    store = DocumentStore(tmp_path / "data" / "documents")
    store.save("boulangerie.txt", FRENCH)
    predictor = Predictor(lm, personal=PersonalMemory.for_store(store))
    assert predictor.words("Les baguettes sont crous", 3)[0].word == "croustillantes"
    assert predictor.words("Le boul", 3)[0].word in {"boulanger", "boulangère"}
    assert "délicieux" in [c.word for c in predictor.words("Ils sont dé", 3)]


def test_a_word_of_the_document_is_offered_again(lm: LoadedModel) -> None:
    predictor = Predictor(lm)
    text = "The report names Mr Woodhouse as the new director. Everyone likes Woodh"
    assert predictor.words(text, 3)[0].word == "Woodhouse"
    assert "Woodhouse" not in [c.word for c in Predictor(lm, adaptive=False).words(text, 5)]


def test_a_misleading_memory_never_keeps_the_top_rank(lm: LoadedModel) -> None:
    # The memory says "zebra" follows every word; the writer never types it.
    misleading = PersonalMemory.from_texts({"m": " ".join(["the zebra"] * 200 + ["my zebra"] * 200)})
    predictor = Predictor(lm, personal=misleading)
    text = ""
    for _ in range(6):
        text += "The teacher sends the letter today. My friend reads the report again. "
    lost = []
    for cut in range(len(text) // 2, len(text)):
        if text[cut - 1] == " ":
            top = predictor.words(text[:cut], 3)
            lost.append(top[0].word == "zebra")
    assert not any(lost[3:])  # after a few words of evidence it never leads again
    weights = predictor._mix_weights("x", text.rstrip(". "), misleading)
    assert weights[2] < 0.05


def test_em_weights_follow_the_better_source() -> None:
    s = MixSettings()
    good_doc = np.array([[0.01, 0.5, 0.0]] * 100)
    w = em_weights(good_doc, (True, True, True), s)
    assert w[1] > 0.8 and w[2] < 0.05 and w.sum() == pytest.approx(1)
    assert em_weights(np.zeros((0, 3)), (True, True, False), s)[2] == 0


ALPHABET = "the cat sends a book. My friend reads, writes today\n'2"


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    start=st.text(alphabet=ALPHABET, max_size=80),
    edits=st.lists(
        st.tuples(st.integers(0, 300), st.integers(0, 20), st.text(alphabet=ALPHABET, max_size=12)), max_size=8
    ),
)
def test_incremental_answers_equal_answers_from_scratch_with_both_memories(lm: LoadedModel, start: str, edits) -> None:
    personal = PersonalMemory.from_texts({"d": "My friend reads the letter today.\n\nThe cat sends a book again."})
    live = Predictor(lm, quantize=False, personal=personal)
    scratch = Predictor(lm, quantize=False, personal=personal)
    text = start
    for pos, length, chunk in edits:
        pos %= len(text) + 1
        text = text[:pos] + chunk + text[pos + length :]
        got = live.words(text[: pos + len(chunk)], 5)
        scratch.reset()
        want = scratch.words(text[: pos + len(chunk)], 5)
        assert [c.word for c in got] == [c.word for c in want]
        assert all(abs(a.probability - b.probability) < 1e-5 for a, b in zip(got, want, strict=True))


def test_eval_static_and_personal_flags(tiny_model_dir: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    text = tmp_path / "lettre.txt"
    text.write_text(FRENCH.replace("Le boulanger aime", "La boulangère aime"), encoding="utf-8")
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "a.txt").write_text(FRENCH, encoding="utf-8")

    def run(*flags: str) -> dict:
        proc = subprocess.run(
            [sys.executable, "-m", "assistant", "eval", str(text), "--json", "--model", str(tiny_model_dir), *flags],
            capture_output=True,
            text=True,
            timeout=300,
            env={**os.environ, "ASSISTANT_HOME": str(home)},
        )
        assert proc.returncode == 0, proc.stderr
        return json.loads(proc.stdout)

    static, adaptive, personal = run("--static"), run(), run("--personal", str(seeds))
    assert set(static) == set(adaptive) == set(personal)  # the JSON shape stays as it is
    assert static["ksr"]["3"] < adaptive["ksr"]["3"] < personal["ksr"]["3"]
    assert not home.exists() or not list(home.rglob("*memory*"))  # the user's store is not touched
