"""Endings' agreement with the word before (``engine/agreement.py``): counted from the writer's text, kept in
step with edits, the personal documents counted between keystrokes, and in the predictor the forms of a stem
ranked by the context in a language the network does not know."""

from __future__ import annotations

import pytest

from assistant.engine.agreement import MIN_PREFIX, Agreement, AgreementSettings, EndingCounts, ending
from assistant.engine.memory import PersonalWords
from assistant.engine.predictor import Predictor
from assistant.lm.io import load_model
from assistant.shipped import base_model_dir
from assistant.text.words import words

PERSONAL = [
    "Les données compilées sont rangées dans le dossier. Les options activées restent visibles.",
    "Le fichier est compilé une fois. Les tables compilées sont chargées au démarrage.",
    "Les valeurs modifiées sont enregistrées. Le programme est installé et la base est vérifiée.",
    "Les pages imprimées sont classées. Le rapport est envoyé, les lettres envoyées sont copiées.",
]
DOCUMENT = (
    "Ce programme lit les définitions de localisation et écrit les tables dans un dossier. "
    "Le fichier de sortie est compilé par le programme, puis il est installé dans le système. "
) * 2


def _counted(paragraphs: list[str]) -> Agreement:
    agreement = Agreement()
    agreement.follow_personal("k", lambda: (words(p) for p in paragraphs))
    while agreement.step():
        pass
    return agreement


def test_an_ending_needs_letters_before_it() -> None:
    assert ending("Données", 3) == "ées" and ending("les", 1) == "s" and ending("les", 2) is None


def test_the_word_before_ranks_the_forms_of_a_stem() -> None:
    agreement = _counted(PERSONAL)
    even = {"compilé": 0.5, "compilées": 0.5}
    after_plural = agreement.reweigh("pages", even)  # never seen before "compil...": its ending "es" speaks
    assert after_plural["compilées"] > after_plural["compilé"]
    after_est = agreement.reweigh("est", even)
    assert after_est["compilé"] > after_est["compilées"]
    assert sum(after_est.values()) == pytest.approx(1.0)  # the total is kept
    assert agreement.reweigh("", even) == even  # no word before: nothing to agree with
    off = Agreement(AgreementSettings(strength=0.0))
    off.personal = agreement.personal
    assert off.reweigh("pages", even) == even


def test_an_edited_document_is_counted_as_if_written_so() -> None:
    first = words("Les données compilées sont rangées. Le fichier est compilé.")
    edited = words("Les données compilées sont rangées. Le rapport envoyé est compilé une fois.")
    agreement = Agreement()
    agreement.follow_document(first)
    agreement.follow_document(edited)  # a change inside, then more words
    fresh = EndingCounts()
    fresh.add(edited)
    assert +agreement.document.pairs == +fresh.pairs and +agreement.document.kinds == +fresh.kinds
    assert agreement.document.words == fresh.words
    agreement.follow_document(first[:3])  # words deleted at the end
    shorter = EndingCounts()
    shorter.add(first[:3])
    assert +agreement.document.pairs == +shorter.pairs and agreement.document.words == 3


def test_personal_documents_are_counted_between_keystrokes_and_swapped_in_whole() -> None:
    agreement = Agreement()
    many = [" ".join(["Les données compilées sont rangées."] * 200)] * 5  # 5,000 words: more than one step
    agreement.follow_personal(1, lambda: (words(p) for p in many))
    assert agreement.factor("données", "compilées") == 1.0  # nothing counted yet
    steps = 0
    while agreement.step():
        steps += 1
    assert steps > 1 and agreement.factor("données", "compilées") > 1.0
    counted = agreement.personal
    agreement.follow_personal(2, lambda: (words(p) for p in PERSONAL))  # the documents changed
    assert agreement.personal is counted  # the old count serves until the new one is complete
    agreement.follow_personal(2, lambda: (words(p) for p in PERSONAL))  # asked again: not restarted
    while agreement.step():
        pass
    assert agreement.personal is not counted and agreement.personal.words == sum(len(words(p)) for p in PERSONAL)
    assert not agreement.step()


@pytest.fixture(scope="module")
def lm():  # type: ignore[no-untyped-def]
    return load_model(base_model_dir())


def _ranked(lm, agreement: AgreementSettings | None, typed: str) -> list[str]:  # type: ignore[no-untyped-def]
    personal = PersonalWords()
    personal.change(added=PERSONAL)
    predictor = Predictor(lm, personal=personal, agreement=agreement)
    predictor.suggest(DOCUMENT, 3)
    assert predictor.language == "fr"
    while predictor.idle():  # the app's answering thread between keystrokes: the personal documents counted
        pass
    return [c.word for c in predictor.suggest(DOCUMENT + typed, 5).words]


def test_in_french_a_plural_noun_brings_the_plural_participle_first(lm) -> None:  # type: ignore[no-untyped-def]
    assert len("compi") >= MIN_PREFIX
    # the document has only "compilé": without agreement the memories' count wins
    assert _ranked(lm, None, "Les définitions compi")[0] == "compilé"
    assert _ranked(lm, AgreementSettings(), "Les définitions compi")[0] == "compilées"
    assert _ranked(lm, AgreementSettings(), "Le rapport est compi")[0] == "compilé"


def test_english_is_left_to_the_network(lm) -> None:  # type: ignore[no-untyped-def]
    text = "The tables are compiled once and the files are compiled again. " * 3 + "The pages are compi"
    with_it = Predictor(lm, agreement=AgreementSettings()).suggest(text, 5).words
    without = Predictor(lm, agreement=None).suggest(text, 5).words
    assert [c.word for c in with_it] == [c.word for c in without]
