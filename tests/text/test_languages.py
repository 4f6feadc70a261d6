"""Languages: each document's language is detected as it is written; one the network does not know gets its
word-frequency list (completions of words the writer has not used yet, no English ghost phrases), and the
lexicon is weighed by how common a word is (issue 18 items 8 to 10, issue 20 item 2), with the shipped model."""

from __future__ import annotations

import pytest

from assistant.engine.memory import PersonalWords
from assistant.engine.predictor import DETECT_EVERY, Predictor, one_spelling
from assistant.engine.wordlist import WordListSource, as_the_writer_spells, commonness, reweigh
from assistant.lm.io import load_model
from assistant.shipped import base_model_dir
from assistant.text.frequency import FrequencyList
from assistant.text.language import MIN_WORDS, detect, plainly_english, usual_language
from assistant.text.words import words

FRENCH = (
    "Bonjour à tous, la réunion de jeudi est déplacée à vendredi matin. Nous parlerons du budget de l'équipe "
    "et des prochaines étapes du projet. Merci de confirmer votre présence avant mercredi soir. "
)
GERMAN = (
    "Ich habe heute keine Zeit, weil ich noch arbeiten muss. Wir können uns aber morgen treffen, wenn du "
    "willst. Die Straße vor dem Büro ist gesperrt, deshalb nehmen wir den Weg über den Park. "
)
SPANISH = (
    "Mañana por la mañana tenemos una reunión con el equipo para hablar del presupuesto del año que viene. "
    "Por favor, confirmad vuestra asistencia antes del jueves y traed las cifras del último trimestre. "
)
ENGLISH = (
    "The meeting has been moved to Friday morning. We will talk about the budget and the next steps of the "
    "project, so please confirm that you can come before Wednesday evening. "
)
DUTCH = (
    "Het is vandaag te laat om de rapporten nog te versturen, dus ik doe het morgen. Of kun jij het overnemen? "
    "Dat zou fijn zijn, want ik ben de hele middag bij de klant en mijn laptop is nog niet terug van reparatie. "
)
POLISH = (
    "To jest ostatni raport przed urlopem, więc proszę o uwagi do piątku. Czy to wystarczy na spotkanie? "
    "Jeśli nie, przesuniemy termin na przyszły tydzień i wtedy omówimy wszystko z zespołem z Krakowa. "
)


@pytest.fixture(scope="module")
def lm():  # type: ignore[no-untyped-def]
    return load_model(base_model_dir())


@pytest.fixture
def predictor(lm) -> Predictor:  # type: ignore[no-untyped-def]
    return Predictor(lm)


def _words(p: Predictor, text: str, n: int = 5) -> list[str]:
    return [c.word for c in p.suggest(text, n=n).words]


# -- the parts -------------------------------------------------------------------------------------------------


def test_detector_names_the_language_only_when_sure() -> None:
    assert detect(FRENCH).language == "fr"
    assert detect(GERMAN).language == "de"
    assert detect(SPANISH).language == "es"
    assert detect(ENGLISH).language == "en"
    assert detect("Merci beaucoup").language == "en"  # too short to judge
    quoting = ENGLISH + 'As the French say, "c\'est la vie", and we go on with the plan for the spring. ' + ENGLISH
    assert detect(quoting).language == "en"


def test_only_english_is_told_by_its_common_words() -> None:
    assert plainly_english(words(ENGLISH))
    for text in (FRENCH, GERMAN, SPANISH, DUTCH, POLISH):
        assert not plainly_english(words(text)), text[:30]
    assert detect(DUTCH).language == "nl" and detect(POLISH).language == "pl"
    turning = words(ENGLISH * 2 + FRENCH * 3)  # English markers over the whole, none in the newest third
    assert not plainly_english(turning)


def test_a_process_that_sees_only_english_never_loads_the_detector() -> None:
    import subprocess
    import sys

    script = (
        "from assistant.text.language import detect, _identifier\n"
        f"assert detect({ENGLISH * 2!r}).language == 'en'\n"
        "print(_identifier.cache_info().currsize)\n"
        f"assert detect({FRENCH!r}).language == 'fr'\n"
        "print(_identifier.cache_info().currsize)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["0", "1"]


def test_word_lists_are_read_as_wordfreq_reads_them() -> None:
    import itertools

    import wordfreq

    from assistant.text.frequency import cbpack_bins

    path = wordfreq.available_languages("best")["fr"]
    streamed = list(itertools.islice(cbpack_bins(path), 400))
    assert streamed == wordfreq.read_cBpack(path)[:400]
    assert sum(map(len, streamed)) > 500  # the most frequent words are there


def test_frequency_list_completes_by_prefix_and_knows_how_common_a_word_is() -> None:
    fr = FrequencyList.from_wordfreq("fr")
    assert fr is not None and fr.language == "fr"
    assert fr.top("réun", 1)[0][0] == "réunion"
    assert fr.zipf("le") > fr.zipf("réunion") > fr.zipf("réunionnite") >= 0
    source = WordListSource(fr)
    assert "L'équipe" in source.answer("L'équ", False, 3).words  # an elision joined to the word
    assert "l’équipe" in source.answer("l’équ", False, 3).words  # with the writer's apostrophe
    assert list(source.answer("Réun", False, 1).words) == ["Réunion"]
    assert FrequencyList.from_wordfreq("xx") is None


def test_after_an_elision_the_list_offers_only_words_that_take_one() -> None:
    source = WordListSource(
        FrequencyList("fr", {"l": 6.0, "de": 5.0, "la": 4.5, "entrée": 3.0, "heure": 2.8, "option": 2.5})
    )
    after = source.answer("l'", False, 5).words  # "de" and "la" are commoner, but "l'de" is never written
    assert set(after) == {"l'entrée", "l'heure", "l'option"}
    assert sum(after.values()) == pytest.approx(1.0)
    assert source.answer("l'd", False, 5).words == {}
    assert list(source.answer("L’h", False, 5).words) == ["L’heure"]


def test_rare_words_weigh_less_than_common_ones() -> None:
    en = FrequencyList.from_wordfreq("en")
    assert en is not None
    assert commonness(en.zipf("Thursday")) == 1.0 and commonness(en.zipf("Thursagan")) < 0.1
    weighted = reweigh({"Thursday": 0.39, "Thursagan": 0.28}, en, keep=set())
    assert weighted["Thursday"] > 10 * weighted["Thursagan"]
    assert sum(weighted.values()) == pytest.approx(0.67)
    assert reweigh({"Thursday": 0.39, "Thursagan": 0.28}, en, keep={"Thursagan"}) == {
        "Thursday": 0.39,
        "Thursagan": 0.28,
    }


def test_apostrophe_forms_are_one_word() -> None:
    merged = one_spelling({"won't": 0.19, "won’t": 0.08, "wonder": 0.6}, "’")
    assert merged == pytest.approx({"won’t": 0.27, "wonder": 0.6})
    assert one_spelling({"won't": 0.19, "won’t": 0.08}, None) == pytest.approx({"won't": 0.27})
    assert one_spelling({"Strasse": 0.3, "Straße": 0.1}, None) == pytest.approx({"Straße": 0.4})


# -- issue 18 items 8 to 10 with the shipped model ---------------------------------------------------------------


def test_an_invented_name_of_the_training_mix_does_not_crowd_out_a_common_word(predictor: Predictor) -> None:
    found = predictor.suggest("The meeting is on Thurs", n=5).words
    assert found[0].word == "Thursday"
    rest = {c.word: c.probability for c in found[1:]}
    assert all(p < found[0].probability / 5 for p in rest.values())


def test_an_accented_prefix_after_a_capital_is_completed(predictor: Predictor) -> None:
    assert "Réunion" in _words(predictor, "Réun")


def test_one_spelling_spelled_as_the_writer_writes_it(predictor: Predictor) -> None:
    words = _words(predictor, "I won")
    assert sum(w in ("won't", "won’t") for w in words) == 1
    curly = _words(predictor, "She said she won’t come today, and we won")
    assert "won’t" in curly and "won't" not in curly


# -- issue 20 item 2 ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "language", "word"),
    [
        (FRENCH + "Je pense que la réun", "fr", "réunion"),
        (FRENCH + "Nous devons prendre une décis", "fr", "décision"),
        (GERMAN + "Wir sehen uns nächste Woc", "de", "Woche"),
        (SPANISH + "Nos vemos mañ", "es", "mañana"),
    ],
)
def test_a_word_the_writer_has_not_used_is_completed_in_their_language(
    predictor: Predictor, text: str, language: str, word: str
) -> None:
    answer = predictor.suggest(text, n=5)
    assert predictor.language == language
    assert word in [c.word for c in answer.words]
    assert predictor.wordlist is not None and predictor.wordlist.language == language


def test_a_compound_is_completed_from_its_listed_parts_in_german_only() -> None:
    zipf = {"netz": 4.8, "verzeichnis": 4.5, "verzeihen": 4.0, "ver": 3.0, "von": 7.0, "unter": 6.0, "datei": 4.5}
    freqs = {w: 10 ** (z - 9) for w, z in zipf.items()}  # per word of text, as wordfreq's Zipf scale counts
    german = WordListSource(FrequencyList("de", freqs))
    found = german.answer("Netzverz", False, 5).words  # no listed word starts so: head "Netz", then "verz..."
    assert list(found)[:2] == ["Netzverzeichnis", "Netzverzeihen"] and sum(found.values()) == pytest.approx(1.0)
    assert next(iter(german.answer("Unterverz", False, 5).words)) == "Unterverzeichnis"
    assert german.answer("Netzv", False, 5).words == {}  # one letter of the last part: too early to guess
    assert german.answer("Netzvo", False, 5).words == {}  # "von" is a function word, never a compound's end
    assert list(german.answer("Verz", False, 5).words) == ["Verzeichnis", "Verzeihen"]  # listed words as before
    written = {"Verzeihen"}.__contains__  # a last part the writer has written comes first
    assert next(iter(german.answer("Netzverz", False, 5, written).words)) == "Netzverzeihen"
    french = WordListSource(FrequencyList("fr", freqs))
    assert french.answer("Netzverz", False, 5).words == {}  # French does not write compounds as one word


def test_the_english_of_another_languages_web_text_is_not_its_word(predictor: Predictor) -> None:
    fr = FrequencyList.from_wordfreq("fr")
    assert fr is not None and "de" in fr and "file" in fr and "date" in fr and "email" in fr  # words of French too
    assert "the" not in fr and "and" not in fr and "containing" not in fr  # in its web text, not its words
    english = {"the", "and", "of", "is", "in", "to", "into", "containing", "with", "for", "on", "it", "that"}
    offered = set()
    for typed in ("Les fichiers sont lus ", "Ce programme lit la table et ", "et co", "Ce programme lit les f"):
        offered |= set(_words(predictor, FRENCH + typed, 7))
    assert predictor.language == "fr"
    assert not offered & english, offered & english  # nor are the network's (unless it is sure of one)


def test_a_word_with_sharp_s_is_spelled_as_the_writer_spells_it(predictor: Predictor) -> None:
    words = _words(predictor, GERMAN + "Die Stra")
    assert "Straße" in words and "Strasse" not in words  # the list folds ß to ss; the writer's text has it


def test_no_english_ghost_phrase_in_another_language(predictor: Predictor) -> None:
    answer = predictor.suggest(FRENCH + FRENCH + "Merci de confirmer votre prés", n=3)
    # past the word, only the writer's own French may follow (a phrase of the memories), never the network's
    phrase = answer.phrase.text if answer.phrase is not None else ""
    assert set(phrase[len(answer.words[0].word) - len("prés") :].split()) <= set(FRENCH.split())


def test_language_is_judged_per_document_and_not_per_keystroke(predictor: Predictor) -> None:
    predictor.suggest(FRENCH + FRENCH, n=3)
    assert predictor.language == "fr"
    predictor.suggest(FRENCH + FRENCH + "Ok", n=3)  # a few more words: not judged again
    assert predictor.language == "fr"
    predictor.reset()  # another document
    assert predictor.language == "en" and predictor.wordlist is None
    predictor.suggest(ENGLISH + ENGLISH + "We will ", n=3)
    assert predictor.language == "en"
    other = Predictor(predictor.lm, model=predictor.model)
    other.suggest(FRENCH * 2, n=3)
    assert other.language == "fr" and predictor.language == "en"  # one document switches nothing else


def test_an_english_writer_quoting_french_stays_english(predictor: Predictor) -> None:
    text = ENGLISH + 'As they say in Lyon, "on verra bien", which means we will see. ' + ENGLISH + "Thurs"
    words = _words(predictor, text)
    assert predictor.language == "en" and words[0] == "Thursday"


def test_a_document_that_changes_language_follows_it(predictor: Predictor) -> None:
    text = ENGLISH * 2
    predictor.suggest(text, n=3)
    assert predictor.language == "en"
    text += FRENCH * 3
    predictor.suggest(text + "la réun", n=3)
    assert predictor.language == "fr"
    assert len(FRENCH.split()) * 3 >= DETECT_EVERY


def test_docs_lists_each_documents_language(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import json
    import os
    import subprocess
    import sys

    env = {**os.environ, "ASSISTANT_HOME": str(tmp_path / "home")}
    (tmp_path / "lettre.txt").write_text(FRENCH * 2, encoding="utf-8")
    (tmp_path / "plan.txt").write_text(ENGLISH * 2, encoding="utf-8")
    (tmp_path / "short.txt").write_text("Merci !", encoding="utf-8")

    def cli(*args: str) -> str:
        out = subprocess.run([sys.executable, "-m", "assistant", *args], env=env, capture_output=True, text=True)
        assert out.returncode == 0, out.stderr
        return out.stdout

    cli("import", str(tmp_path / "lettre.txt"), str(tmp_path / "plan.txt"), str(tmp_path / "short.txt"))
    lines = {line.split("\t")[0]: line.split("\t")[-1] for line in cli("docs").splitlines()}
    assert lines == {"lettre.txt": "French", "plan.txt": "English", "short.txt": "-"}
    rows = {r["name"]: r["language"] for r in json.loads(cli("docs", "--json"))}
    assert rows == {"lettre.txt": "fr", "plan.txt": "en", "short.txt": ""}


def test_memory_blocklist_and_secrets_work_in_french(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from assistant.personal.space import Layout, UserSpace

    space = UserSpace(Layout.inside(tmp_path / "user"), base_model_dir())
    secret = "sk_live_" + "9fQ2xT7bLm4Kp8Zr3Wc6Yd1N"
    space.save("lettre.txt", FRENCH * 2 + f"Le projet Zéphyrelle avance. Zéphyrelle utilise la clé {secret}.\n")
    memory = space.memory()
    assert memory is not None and "Zéphyrelle" in memory and secret not in memory
    predictor = space.predictor()
    assert "Zéphyrelle" in _words(predictor, FRENCH + "Le projet Zéph")
    assert "réunion" in _words(predictor, FRENCH + "Je pense que la réun")
    space.controls().block("réunion")
    predictor = space.predictor()
    assert "réunion" not in _words(predictor, FRENCH + "Je pense que la réun")
    assert not any(w.startswith("sk_live") for w in _words(predictor, FRENCH + "la clé sk_l"))


def test_a_document_is_judged_as_soon_as_it_is_long_enough(predictor: Predictor) -> None:
    start = " ".join(FRENCH.split()[:MIN_WORDS]) + " "
    assert MIN_WORDS < DETECT_EVERY
    predictor.suggest(start, n=3)
    assert predictor.language == "fr" and predictor.wordlist is not None


def test_a_writer_of_french_starts_a_new_document_in_french(predictor: Predictor) -> None:
    assert usual_language([FRENCH, SPANISH, FRENCH, FRENCH]) == "fr"
    assert usual_language([ENGLISH, ENGLISH]) == "en" and usual_language([]) == "en"
    personal = PersonalWords()
    personal.change(added=[FRENCH, FRENCH.replace("jeudi", "lundi"), SPANISH])
    predictor.personal = personal
    predictor.suggest("Bonjour ", n=3)  # two words: too short to judge, the writer's usual language
    assert predictor.language == "fr" and predictor.wordlist is not None
    assert "réunion" in _words(predictor, "Bonjour, la réu")
    predictor.suggest(ENGLISH + ENGLISH, n=3)  # a document in English is still judged English
    assert predictor.language == "en"
    predictor.personal = None
    predictor.reset()
    predictor.suggest("Bonjour ", n=3)
    assert predictor.language == "en"  # without the writer's documents a short text is English


def test_a_listed_noun_the_writer_capitalises_is_offered_capitalised() -> None:
    listed = WordListSource(FrequencyList("de", {"zeit": 3.0, "zeigen": 1.0})).answer("", False, 5)
    known = {"Zeit", "zeigen"}.__contains__
    assert set(as_the_writer_spells(listed, "", known).words) == {"Zeit", "zeigen"}
    typed = WordListSource(FrequencyList("de", {"zeit": 3.0})).answer("ze", False, 5)
    assert list(as_the_writer_spells(typed, "ze", known).words) == ["zeit"]  # a lower-case start typed is meant
