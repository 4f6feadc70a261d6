"""The predictor facade: told the text before the cursor after every edit, it answers word candidates and an
optional phrase continuation (ghost text). The app, the language server, the bot plugin and ``eval`` all use it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np
import torch

from assistant.decode.generate import Generation, GenerationConfig, generate
from assistant.decode.wordsearch import SearchLimits, WordCandidate, WordSearch
from assistant.engine.agreement import AGREEMENT, MIN_PREFIX, Agreement, AgreementSettings
from assistant.engine.context import ContextCache, is_word_end
from assistant.engine.dynamic import DynamicSettings, HeadLearner
from assistant.engine.lookahead import MIN_PROBABILITY, above_floor, as_typed
from assistant.engine.memory import NO_ANSWER, DocMemorySettings, DocumentMemory, PersonalWords
from assistant.engine.mixing import SOURCES, MixSettings, em_weights, mix
from assistant.engine.neuralcache import NeuralCacheSettings
from assistant.engine.ngramsource import NgramSource
from assistant.engine.records import RecentRecords
from assistant.engine.window import ReadAhead, context_window, given_start, window_start
from assistant.engine.wordlist import WordListSource, as_the_writer_spells, foreign_prior, reweigh
from assistant.heap import BULK_WORDS, RELEASE_WORDS, release_free
from assistant.lm.io import LoadedModel
from assistant.lm.model import GRULanguageModel
from assistant.lm.quantize import quantize_for_inference
from assistant.text.frequency import FrequencyList
from assistant.text.language import MIN_WORDS, detect, usual_language
from assistant.text.language import name as language_name
from assistant.text.paragraphs import paragraph_tail
from assistant.text.words import is_word_char, partial_word, words

MAX_TAIL_CHARS = 12
"""Separator characters after the last word kept in the typed tail; older ones join the context."""

SENTENCE_END = ".!?"

GUARD_SPARE = 3
"""Extra candidates searched for when a guard may drop some."""

MEMORY_PHRASE_DEPTH = 2
"""A memory's phrase runs on only from a context of at least this many words (the current word and one before)."""

UNKNOWN_WORD_MIN = 0.2
"""A word outside the lexicon and the text is offered only when at least this probable."""

NETWORK_LANGUAGES = ("en",)
"""Languages the base network was trained on: a document in another one gets its word-frequency list."""

DETECT_EVERY = 20
"""The document's language is judged again after this many words were added or removed (not per keystroke)."""

LANGUAGE_ANCHOR = 200
"""A text that no longer starts as the one last judged (another text, not an edit at the end) is judged again."""

APOSTROPHES = "'’"


@dataclass(frozen=True)
class Split:
    """The text before the cursor cut into the context the model reads and the tail the search matches."""

    context: str
    tail: str
    prefix: str
    """The partial word at the end of the tail ('' after a separator)."""


def split_text(text_before_cursor: str) -> Split:
    """Context up to the last complete word; tail = what follows it (separators and the partial word)."""
    before, prefix = partial_word(text_before_cursor)
    j = len(before)
    while j > 0 and not is_word_char(before[j - 1]):
        j -= 1
    j = max(j, len(before) - MAX_TAIL_CHARS)
    return Split(text_before_cursor[:j], text_before_cursor[j:], prefix)


@dataclass(frozen=True)
class PhraseSettings:
    """When and how far ghost text runs on after the current word."""

    word_threshold: float = 0.35
    """The best word must be at least this likely for any ghost text."""
    phrase_threshold: float = 0.45
    """Following pieces are added while the whole continuation stays at least this likely."""
    max_words: int = 6
    """Words after the current one, at most."""
    max_pieces: int = 12
    """Pieces after the current word, at most."""


@dataclass(frozen=True)
class Phrase:
    """Ghost text to show after the cursor."""

    text: str
    """What to insert at the cursor (the rest of the word, then maybe more words)."""
    confidence: float
    """Probability of the whole continuation under the model."""


@dataclass(frozen=True)
class Suggestions:
    """The answer to one edit."""

    prefix: str
    """The partial word before the cursor ('' after a separator)."""
    words: list[WordCandidate] = field(default_factory=list)
    """Whole-word candidates, best first, each with its probability."""
    phrase: Phrase | None = None
    """Ghost text, only when confident enough."""
    separator: str = ""
    """A space the prediction assumes but the writer has not typed yet (right after ``"approved."``): inserting
    a candidate puts it first. The phrase's text starts with it already."""
    language: str = "en"
    """The language of the text, as last detected (ISO 639-1)."""

    @property
    def language_name(self) -> str:
        """The language's English name (``French``)."""
        return language_name(self.language)

    @property
    def completions(self) -> list[str]:
        """What each candidate adds after the typed prefix."""
        return [self.separator + c.word[len(self.prefix) :] for c in self.words]


class Predictor:
    """Word candidates and phrase continuations for the text before a cursor, with an incremental state."""

    def __init__(
        self,
        lm: LoadedModel,
        limits: SearchLimits | None = None,
        phrase_settings: PhraseSettings | None = None,
        quantize: bool = True,
        model: GRULanguageModel | None = None,
        personal: PersonalWords | None = None,
        adaptive: bool = True,
        memory: DocMemorySettings | None = None,
        mixing: MixSettings | None = None,
        guard: Callable[[str, Suggestions], Suggestions] | None = None,
        min_probability: float = MIN_PROBABILITY,
        neural: NeuralCacheSettings | None = None,
        ngram: NgramSource | None = None,
        dynamic: DynamicSettings | None = None,
        agreement: AgreementSettings | None = AGREEMENT,
    ) -> None:
        """``model``: the network to run, e.g. one quantised copy shared by several predictors (it holds no
        state); default ``lm.model``, quantised for inference unless ``quantize`` is false.

        ``adaptive`` (default): mix the GRU with a memory of the document being written and with ``personal``
        (the user's memory, may be set later through :attr:`personal`); false gives the bare model.

        ``guard``: the last check on every :meth:`suggest` answer (the user's privacy controls: no secret,
        nothing blocked or rejected); it may drop candidates, so a few more are searched for.

        ``min_probability``: candidates less likely than this are never offered.

        ``neural``: a neural cache over the document's GRU states, mixed into the network's next-piece
        distribution (only when ``adaptive``; off by default, see ``engine/neuralcache.py``).

        ``ngram``: the general n-gram as one more source of the mixing (only when ``adaptive``).

        ``dynamic``: the network's output layer learns the document as it is written (only when ``adaptive``;
        see ``engine/dynamic.py``), in :meth:`learn`.

        ``agreement``: in a language the network does not know, candidates are weighed by how their endings
        agree with the word before them (only when ``adaptive``; ``engine/agreement.py``); None turns it off."""
        self.lm = lm
        self.min_probability = min_probability
        """Floor on a candidate's probability (``lookahead.MIN_PROBABILITY`` by default)."""
        if model is None:
            model = quantize_for_inference(lm.model) if quantize else lm.model
        self.network = model
        """The network as given (may be shared with other predictors): :attr:`model` is it, or with ``dynamic``
        a copy of it (the same GRU and embedding) whose output layer is this predictor's own."""
        self.learner = HeadLearner(lm.model, model, lm.tokenizer, dynamic) if adaptive and dynamic else None
        """The output layer's dynamic evaluation, or None."""
        if self.learner is not None:
            model = self.learner.model  # a private copy whose output layer learns
        self.model = model
        self.tokenizer = lm.tokenizer
        self.adaptive = adaptive
        self._neural = neural if adaptive else None
        self.cache = self._new_cache()
        self.read_ahead = ReadAhead(self._new_cache)
        """The states of the read window the text moves to next, read between keystrokes (:meth:`idle`)."""
        self._window_at = 0
        """Where the read window of the last text asked starts."""
        self._asked = ""
        """The last text before the cursor asked about."""
        self.document = DocumentMemory(memory)
        """What the text before the cursor has shown (used when ``adaptive``)."""
        self.personal = personal
        """The user's personal memory, or None."""
        self.ngram = ngram if adaptive else None
        """The general n-gram source, or None."""
        self.mixing = mixing or MixSettings()
        self._weights_key: tuple[str, int, int, str] | None = None
        self._weights = np.asarray(self.mixing.prior)
        self._recent = RecentRecords(reach=max(self.document.settings.max_order, 8), width=4)
        self.search = WordSearch(self.model, self.tokenizer, limits)
        if self.cache.neural is not None:
            self.search.adjust = self.cache.mix_neural
        self.phrase_settings = phrase_settings or PhraseSettings()
        self._last_phrase: tuple[str, Phrase] | None = None
        self.lexicon = lm.lexicon
        """Known words; None offers whatever the search finds."""
        self._seen: tuple[str, set[str]] = ("", set())
        self._apostrophe_seen: tuple[tuple[int, str], str | None] = ((-1, ""), None)
        self._valid_text = ""
        self.guard = guard
        self.language = NETWORK_LANGUAGES[0]
        """The language of the document being written, as last detected (judged every ``DETECT_EVERY`` words)."""
        self.wordlist: WordListSource | None = None
        """The frequency list of :attr:`language` when the network does not know it (then a fourth source)."""
        self._language_words = -DETECT_EVERY
        self._language_text = ""
        self._usual: tuple[tuple[int, int], str] | None = None
        self._common = FrequencyList.from_wordfreq(NETWORK_LANGUAGES[0]) if self.lexicon is not None else None
        self._released_at = 0
        """Words of the document memory when the free heap was last given back."""
        self._learn_text = ""
        """The text before the word at the cursor when last asked (what :meth:`learn` learns from)."""
        self.agreement = Agreement(agreement) if adaptive and agreement is not None else None
        """Endings' agreement with the word before, or None."""

    @torch.no_grad()
    def words(self, text_before_cursor: str, n: int = 5) -> list[WordCandidate]:
        """The ``n`` most probable words at the cursor: completions of the partial word, or next words.

        With a lexicon, a candidate is offered only if it is a known word, a word of the text itself, or one
        the model is sure of (``UNKNOWN_WORD_MIN``); a prefix that starts no known word (another language or
        script) is judged by the model alone.
        """
        full, _ = as_typed(self._valid(text_before_cursor))
        return above_floor(self._words(split_text(self._window(full)), n, full), self.min_probability)

    def _words(self, split: Split, n: int, full: str) -> list[WordCandidate]:
        logprobs, hidden = self.cache.state(split.context)
        foreign = self.lexicon is not None and bool(split.prefix) and not self.lexicon.knows_prefix(split.prefix)
        if not self.adaptive:
            if self.lexicon is None or foreign:
                return self.search.candidates(logprobs, hidden, split.tail, n)  # no known word to judge by
            found = self.search.candidates(logprobs, hidden, split.tail, n, extra=2 * n)
            seen = self._context_words(split.context)
            known = [c for c in found if c.probability >= UNKNOWN_WORD_MIN or c.word in self.lexicon or c.word in seen]
            return known[:n]
        found = self.search.candidates(logprobs, hidden, split.tail, n, extra=2 * n)
        context = full[: len(full) - len(split.tail)]
        self._learn_text = context
        self.document.update(context)
        self._give_back_free_memory()
        self._follow_language(context)
        wordlist = self.wordlist
        if foreign and wordlist is not None and wordlist.knows_prefix(split.prefix):
            foreign = False  # the language's own list judges its words
        personal = self.personal if self.personal is not None and len(self.personal) else None
        model = {
            c.word: c.probability
            for c in found
            if self.lexicon is None
            or foreign
            or c.probability >= UNKNOWN_WORD_MIN
            or (wordlist is None and c.word in self.lexicon)  # in another language, not English's words
            or (wordlist is not None and c.word in wordlist.list)
            or c.word in self.document
            or (personal is not None and c.word in personal)
        }
        sep = split.tail[: len(split.tail) - len(split.prefix)]
        before = (context + sep).rstrip(" \t")
        sentence_start = not before or before[-1] in SENTENCE_END or before[-1] == "\n"
        k = n + 2
        common = wordlist.list if wordlist is not None else self._common
        if common is not None and model:
            model = reweigh(model, common, {w for w in model if w in self.document or (personal and w in personal)})
        elif common is not None and found and self.lexicon is not None and not foreign:
            # The network spelled no known word for this prefix: the language's common words speak for it.
            listed = WordListSource(common).answer(split.prefix, sentence_start, k).words
            model = {w: p for w, p in listed.items() if w in self.lexicon or wordlist is not None}
        here = self.document.here()
        doc = here.answer(split.prefix, sentence_start, k) if here is not None else NO_ANSWER
        trust = (here.trust if here is not None else 0.0, 0.0)
        pers = NO_ANSWER
        recent = None
        if personal is not None:
            recent = self._paragraph_words(context + sep)
            with personal.reading():
                chain = personal.chain(recent)
                pers, trust = chain.answer(split.prefix, sentence_start, k), (trust[0], chain.trust)
        gram = NO_ANSWER
        if self.ngram is not None:
            gram = self.ngram.answer(_paragraph_words(context, self.ngram.order - 1), split.prefix, sentence_start, k)
        listed = NO_ANSWER
        if wordlist is not None:

            def written(word: str) -> bool:
                return word in self.document or (personal is not None and word in personal)

            listed = as_the_writer_spells(
                wordlist.answer(split.prefix, sentence_start, k, written), split.prefix, written
            )
        weights = self._mix_weights(split.context, context, personal, trust)
        memories = [doc, pers, gram, listed]
        mixed = one_spelling(mix(weights, model, self.search.prefix_share, memories), self._apostrophe(split.prefix))
        if self.agreement is not None and wordlist is not None and len(split.prefix) >= MIN_PREFIX:
            mixed = self._agree(mixed, recent if recent is not None else self._paragraph_words(context + sep), personal)
        ranked = sorted(mixed.items(), key=lambda kv: kv[1], reverse=True)[:n]
        return [WordCandidate(w, min(1.0, p)) for w, p in ranked]

    def _mix_weights(
        self,
        window_context: str,
        context: str,
        personal: PersonalWords | None,
        trust: tuple[float, float] = (0.0, 0.0),
    ) -> np.ndarray:
        """EM weights over the last words of ``context`` (memoised while the context stays the same).

        ``trust``: how far each memory's longest context here is trusted by its own evidence (``Chain.trust``,
        0 without a long context). Where a memory has a long context, the weights are fitted on the recent words
        where it had one too, from a prior that trusts it as far as its evidence says (a sign-off seen in ten
        mails outweighs a memory's average); elsewhere on all the recent words."""
        revision = personal.revision if personal is not None else -1
        wordlist = self.wordlist
        key = (context, revision, id(personal), trust, wordlist.language if wordlist is not None else "")
        if self._weights_key is not None and self._weights_key == key:
            return self._weights
        scores = self.cache.word_scores(self.mixing.window + 1)
        if scores and window_context and not is_word_end(window_context, len(window_context)):
            scores = scores[:-1]  # the context ends in separators: its last segment holds no word
        doc_words = self.document.words
        count = min(len(scores), len(doc_words) - 1, self.mixing.window)
        records = np.zeros((max(count, 0), len(SOURCES)))
        trusts = np.zeros((max(count, 0), 2))
        if count > 0:
            records[:, 0] = np.exp(np.asarray(scores[-count:]))
            records[:, 1] = self.document.recorded[-count:]
            trusts[:, 0] = self.document.recorded_trust[-count:]
            sources = (id(personal), personal.revision if personal is not None else -1, id(self.ngram))
            rows = self._recent.rows(
                doc_words,
                count,
                (*sources, wordlist.language if wordlist is not None else ""),
                lambda i: self._source_record(personal, doc_words, i),
            )
            records[:, 2], trusts[:, 1], records[:, 3], records[:, 4] = rows.T
        long_here = np.asarray(trust) > 0
        same = np.all(trusts[:, long_here] > 0, axis=1)  # all records when no memory has a long context here
        available = (True, True, personal is not None, self.ngram is not None, wordlist is not None)
        settings = self.mixing
        if wordlist is not None:  # a language the network does not know: its own priors
            settings = replace(settings, prior=foreign_prior(settings.prior_of(len(SOURCES))))
        if long_here.any():
            settings = replace(settings, prior=_trusted_prior(settings.prior_of(len(SOURCES)), trust))
        self._weights = em_weights(records[same], available, settings)
        self._weights_key = key
        return self._weights

    def _agree(
        self, candidates: dict[str, float], recent: list[str], personal: PersonalWords | None
    ) -> dict[str, float]:
        """``candidates`` weighed by their endings' agreement with the last of ``recent``, the paragraph's last
        words before them."""
        agreement = self.agreement
        assert agreement is not None
        agreement.follow_document(self.document.words, self.document.revision)
        if personal is not None:
            memory = personal
            agreement.follow_personal(
                (id(memory), memory.revision), lambda: (words(p) for p in memory.paragraphs().elements())
            )
        return agreement.reweigh(recent[-1] if recent else "", candidates)

    def _give_back_free_memory(self) -> None:
        """After a document was read at once (opened, pasted), and every ``RELEASE_WORDS`` words typed, the
        process's free heap goes back to the system (``assistant.heap``)."""
        count = len(self.document.words)
        self._released_at = min(self._released_at, count)  # words deleted
        grown = count - self._released_at
        if grown >= RELEASE_WORDS and release_free(bulk=grown >= BULK_WORDS):
            self._released_at = count

    def _paragraph_words(self, before: str) -> list[str]:
        """The last words of the paragraph before the cursor (the personal memory's context)."""
        return words(paragraph_tail(before))[-self.document.settings.max_order :]

    def _source_record(self, personal: PersonalWords | None, doc_words: list[str], i: int) -> tuple[float, ...]:
        """The personal memory's probability of word ``i`` of the text from the words before it (and how far
        its context there is trusted), the n-gram's and the frequency list's."""
        word = doc_words[i]
        pers = trust = gram = listed = 0.0
        if personal is not None:
            with personal.reading():
                chain = personal.chain(doc_words[max(0, i - self.document.settings.max_order) : i])
                pers, trust = chain.probability(word), chain.trust
        if self.ngram is not None:
            gram = self.ngram.probability(word, doc_words[max(0, i - self.ngram.order + 1) : i])
        if self.wordlist is not None:
            listed = self.wordlist.probability(word)
        return pers, trust, gram, listed

    def _follow_language(self, context: str) -> None:
        """Judge the document's language again once ``DETECT_EVERY`` words were added or removed since the last
        time; a language the network does not know brings its frequency list, one it knows drops it."""
        count = len(self.document.words)
        same_text = context.startswith(self._language_text)
        if same_text and abs(count - self._language_words) < DETECT_EVERY:
            return
        self._language_words = count
        self._language_text = context[:LANGUAGE_ANCHOR]
        found = detect(context, default=self.language if count >= DETECT_EVERY else self._usual_language()).language
        if count < MIN_WORDS:  # too short to judge: judged again as soon as it is long enough
            self._language_words = MIN_WORDS - DETECT_EVERY
        if found == self.language:
            return
        self.language = found
        self.wordlist = None
        if found not in NETWORK_LANGUAGES:
            words_of = FrequencyList.from_wordfreq(found)
            self.wordlist = WordListSource(words_of) if words_of is not None else None
        self._weights_key = None

    def _usual_language(self) -> str:
        """The language of a document too short to judge: the one the writer's personal documents are mostly
        written in (remembered per memory revision), else English."""
        personal = self.personal
        if personal is None or not len(personal):
            return NETWORK_LANGUAGES[0]
        key = (id(personal), personal.revision)
        if self._usual is None or self._usual[0] != key:
            self._usual = (key, usual_language(list(personal.paragraphs()), NETWORK_LANGUAGES[0]))
        return self._usual[1]

    def _apostrophe(self, prefix: str) -> str | None:
        """The apostrophe the writer uses: the one in the word being typed, else the last one in the text."""
        for ch in reversed(prefix):
            if ch in APOSTROPHES:
                return ch
        recent = self.document.words[-500:]
        key = (len(self.document.words), recent[-1] if recent else "")
        if self._apostrophe_seen[0] != key:  # the words change only at a word end: once per word, not per key
            joined = " ".join(recent)
            at = {ch: joined.rfind(ch) for ch in APOSTROPHES}
            last = max(at, key=lambda ch: at[ch])
            self._apostrophe_seen = (key, last if at[last] >= 0 else None)
        return self._apostrophe_seen[1]

    def _valid(self, text: str) -> str:
        """:func:`_valid`, checking only what was added since the last text that was valid throughout (a
        keystroke need not re-encode a long document)."""
        last = self._valid_text
        if last and len(text) >= len(last) and text.startswith(last):
            added = text[len(last) :]
            checked = _valid(added)
            if checked is added:
                self._valid_text = text
                return text
            return last + checked
        checked = _valid(text)
        self._valid_text = text if checked == text else ""
        return checked

    def _context_words(self, context: str) -> set[str]:
        """Words of the text being written (names and terms the lexicon lacks); kept up to date incrementally
        while the text grows at the end (the context always ends at a word end)."""
        old, seen = self._seen
        if context == old:
            return seen
        if not (old and context.startswith(old)):
            seen = set()
            old = ""
        seen.update(words(context[len(old) :]))
        self._seen = (context, seen)
        return seen

    @torch.no_grad()
    def suggest(self, text_before_cursor: str, n: int = 5, phrase: bool = True) -> Suggestions:
        """Word candidates and, when the model is confident, a phrase to show as ghost text (a text over 1 MB: from
        its last 0.75-1 MB, ``window.given_start``)."""
        given = text_before_cursor[given_start(len(text_before_cursor)) :]
        full, separator = as_typed(self._valid(given))
        text = self._window(full)
        split = split_text(text)
        found = self._words(split, n + (GUARD_SPARE if self.guard else 0), full)
        candidates = above_floor(found, self.min_probability)
        ghost = self._phrase(text, split, candidates) if phrase and candidates else None
        answer = Suggestions(split.prefix, candidates, ghost, separator, self.language)
        if self.guard is not None:
            answer = self.guard(full, answer)
            if len(answer.words) > n:
                answer = replace(answer, words=answer.words[:n])
        if answer.phrase is not None and separator:
            answer = replace(answer, phrase=Phrase(separator + answer.phrase.text, answer.phrase.confidence))
        return answer

    def idle(self) -> bool:
        """Between keystrokes: one bounded piece of work ahead of the writer (:meth:`learn`, else reading the
        next read window ahead, ``engine/window.py``); True if it did any, so a caller with time to spare may
        call again. The app's answering thread calls it while no keystroke waits, ``eval`` once per word."""
        return (
            self.learn()
            or (self.agreement is not None and self.wordlist is not None and self.agreement.step())
            or self.read_ahead.step(self._asked)
        )

    def _window(self, full: str) -> str:
        """The part of ``full`` the network reads; when it moved, the states read ahead for it take over."""
        self._asked = full
        start = window_start(full)
        if start != self._window_at:
            ready = self.read_ahead.take(full, start)
            if ready is not None:
                self.cache = ready
                if ready.neural is not None:
                    self.search.adjust = ready.mix_neural
            self._window_at = start
        return full[start:]

    def _new_cache(self) -> ContextCache:
        """A cache of states for this predictor's network (scoring words for the mixing when adaptive)."""
        return ContextCache(self.model, self.tokenizer, score=self.adaptive, neural=self._neural)

    def learn(self) -> bool:
        """Between keystrokes: let the network's output layer learn from the document's finished words not yet
        learned (a bounded amount of work per call); True if it did, so a caller with time to spare may call
        again. Nothing to do without ``dynamic``."""
        if self.learner is None or not self.learner.learn(self._learn_text):
            return False
        self.cache.forget_distributions()  # the output layer changed: the states stay, their distributions go
        self.read_ahead.forget_distributions()
        self.search.forget_paths()
        self._last_phrase = None
        release_free()  # a step's temporary buffers leave holes between the keystrokes' (at most once a second)
        return True

    def reset(self) -> None:
        """Forget the cached states (another document)."""
        if self.learner is not None:
            self.learner.reset()
            self.search.forget_paths()
        self._learn_text = ""
        self.read_ahead.reset()
        self._window_at = 0
        self._asked = ""
        self.cache.reset()
        self.document.reset()
        self._weights_key = None
        self._last_phrase = None
        self._seen = ("", set())
        self._apostrophe_seen = ((-1, ""), None)
        self.language = NETWORK_LANGUAGES[0]
        self.wordlist = None
        self._language_words = -DETECT_EVERY
        self._language_text = ""

    @torch.no_grad()
    def continue_text(self, text: str, config: GenerationConfig) -> Generation:
        """Continue ``text`` with a generation strategy (greedy, sample or beam)."""
        return generate(self.model, self.tokenizer, _clean(text), config)

    def _phrase(self, text: str, split: Split, candidates: list[WordCandidate]) -> Phrase | None:
        """Rest of the best word, then greedy pieces while the whole continuation stays likely."""
        settings = self.phrase_settings
        best = candidates[0]
        if best.probability < settings.word_threshold:
            return None
        # Typing along a phrase shown a keystroke ago keeps it (no model work).
        if self._last_phrase is not None:
            old_text, old = self._last_phrase
            typed = text[len(old_text) :] if text.startswith(old_text) else None
            if typed is not None and old.text.startswith(typed) and len(old.text) > len(typed):
                kept = Phrase(old.text[len(typed) :], old.confidence)
                rest = best.word[len(split.prefix) :]
                if kept.text.startswith(rest) and len(kept.text) > len(rest):  # else a fresh one may run further
                    self._last_phrase = (text, kept)
                    return kept
        result = _choose(self._network_phrase(split, best), self._memory_phrase(text, split, best), best)
        if result is None or not result.text:
            return None
        if not split.prefix and result.confidence < settings.phrase_threshold:
            return None  # a guessed next word alone is shown only as likely as a phrase must be
        self._last_phrase = (text, result)
        return result

    def _network_phrase(self, split: Split, best: WordCandidate) -> Phrase:
        """Rest of the best word, then the network's greedy pieces while the whole stays likely."""
        settings = self.phrase_settings
        rest = best.word[len(split.prefix) :]
        if self.wordlist is not None:  # the network's phrases are in a language the writer is not writing
            return Phrase(rest, best.probability)  # '' after a space: the memories' phrase, if any, runs on
        hidden = self.cache.hidden(split.context)
        ids = self.tokenizer.encode(split.tail + rest)
        device = hidden.device
        known = self.search.state_after(hidden, ids)  # the word search has usually walked this path
        if known is not None:
            lp, h = known
        else:
            lp, h = self.model.advance(torch.tensor([ids], device=device), hidden)
            lp = lp[0]
        logp = math.log(max(best.probability, 1e-12))
        floor = math.log(settings.phrase_threshold)
        out: list[int] = []
        for _ in range(settings.max_pieces):
            nxt = int(torch.argmax(lp))
            if logp + float(lp[nxt]) < floor:
                break
            piece = self.tokenizer.decode([*out, nxt])
            if "\n" in piece or len(words(piece)) > settings.max_words:
                break
            out.append(nxt)
            logp += float(lp[nxt])
            if piece.rstrip()[-1:] in SENTENCE_END and piece.strip():
                break
            step, h = self.model.step(torch.tensor([nxt], device=device), h)
            lp = step[0]
        extra = self.tokenizer.decode(out)
        if extra and is_word_char(extra[-1]) and bool(self.search.index.extends[int(torch.argmax(lp))]):
            extra = partial_word(extra)[0].rstrip(" ")  # the greedy path had not finished its last word
        return Phrase(rest + extra, math.exp(logp))

    def _memory_phrase(self, text: str, split: Split, best: WordCandidate) -> Phrase | None:
        """Rest of the best word, then the words the memories saw after the same context (the writer's own
        phrases: a sign-off, a sentence they repeat), while the whole stays likely (the phrase's rule) and each
        next word follows a context of at least ``MEMORY_PHRASE_DEPTH`` words; up to a line end or a sentence
        end. None when no memory adds a word."""
        if not self.adaptive:
            return None
        settings = self.phrase_settings
        personal = self.personal if self.personal is not None and len(self.personal) else None
        before = text[: len(text) - len(split.prefix)]
        order = self.document.settings.max_order
        sources: list[tuple[DocumentMemory | PersonalWords, list[str]]] = []
        if self.document.words:
            sources.append((self.document, [*self.document.words[-order:], best.word]))
        if personal is not None:
            sources.append((personal, [*self._paragraph_words(before), best.word]))
        phrase, confidence, added = best.word[len(split.prefix) :], best.probability, 0
        while added < settings.max_words and sources:
            options = []
            for i, (memory, context) in enumerate(sources):
                with memory.reading():
                    chain = memory.chain(context)
                    if chain.depth < MEMORY_PHRASE_DEPTH and context[-1][:1].isupper():
                        lower = [*context[:-1], context[-1][:1].lower() + context[-1][1:]]  # a capitalised start
                        if memory.chain(lower).depth > chain.depth:
                            context[-1], chain = lower[-1], memory.chain(lower)
                    found = chain.best() if chain.depth >= MEMORY_PHRASE_DEPTH else None
                if found is not None:
                    options.append((found[1], i, found[0]))
            if not options:
                break
            p, i, word = max(options)
            if confidence * p < settings.phrase_threshold:
                break
            memory, context = sources[i]
            gap = memory.gap(context[-1], word) or " "
            if "\n" in gap or any(c in SENTENCE_END for c in gap):
                break
            phrase, confidence, added = phrase + gap + word, confidence * p, added + 1
            for _, ctx in sources:
                ctx.append(word)
                del ctx[: max(0, len(ctx) - order)]
        return Phrase(phrase, confidence) if added else None


def _trusted_prior(prior: tuple[float, ...], trust: tuple[float, float]) -> tuple[float, ...]:
    """``prior`` (one weight per source) with each memory (the sources after the model, in ``trust``'s order)
    that has a long context raised to its trust there, the other sources scaled down."""
    raised = {i: max(prior[i], t) for i, t in enumerate(trust, start=1) if t > 0}
    lifted = sum(raised.values())
    if lifted >= 0.95:
        out = [0.0] * len(prior)
        out[0] = 0.05
        for i, r in raised.items():
            out[i] = r * 0.95 / lifted
        return tuple(out)
    rest = sum(p for i, p in enumerate(prior) if i not in raised)
    scale = (1 - lifted) / rest
    return tuple(raised.get(i, p * scale) for i, p in enumerate(prior))


def _choose(network: Phrase, memory: Phrase | None, best: WordCandidate) -> Phrase:
    """The ghost text to show: of two phrases where one runs on from the other the longer (both passed the
    phrase's rule), else the likelier per step after the best word (phrases of different lengths compare by
    the geometric mean of their steps' probabilities)."""
    if memory is None:
        return network
    if memory.text.startswith(network.text) or network.text.startswith(memory.text):
        return memory if len(memory.text) > len(network.text) else network

    def per_step(phrase: Phrase) -> float:
        steps = max(1, len(words(phrase.text)) - 1)
        return (phrase.confidence / max(best.probability, 1e-12)) ** (1 / steps)

    return memory if per_step(memory) > per_step(network) else network


def _paragraph_words(context: str, count: int) -> list[str]:
    """The last ``count`` words of the paragraph ``context`` ends in (what the general n-gram reads)."""
    start = context.rfind("\n\n") + 1
    tail = context[max(start, len(context) - 40 * count) :]
    return words(tail)[-count:] if count > 0 else []


def one_spelling(candidates: dict[str, float], preferred: str | None) -> dict[str, float]:
    """Candidates that are one word spelled two ways as one, with their probabilities summed: apostrophes
    (``won't``, ``won’t``: spelled with ``preferred``, else as the likelier form is) and German ``ß`` against
    the ``ss`` of frequency lists, which fold it (the ``ß`` form, which only the writer's text can have given)."""
    if not any(ch in w for w in candidates for ch in "'’ß"):
        return candidates
    merged: dict[str, float] = {}
    spelled: dict[str, tuple[bool, float, str]] = {}
    for w, p in candidates.items():
        key = w.replace("’", "'").replace("ß", "ss")
        merged[key] = merged.get(key, 0.0) + p
        rank = ("ß" in w, p, w)
        if key not in spelled or rank[:2] > spelled[key][:2]:
            spelled[key] = rank
    out: dict[str, float] = {}
    for key, p in merged.items():
        word = spelled[key][2]
        if preferred is not None and any(ch in word for ch in APOSTROPHES):
            word = word.replace("'", preferred).replace("’", preferred)
        out[word] = out.get(word, 0.0) + p
    return out


def _clean(text: str) -> str:
    """Window the input and replace lone surrogates (invalid in UTF-8) so any string is answered."""
    return context_window(_valid(text))


def _valid(text: str) -> str:
    """``text`` with lone surrogates (invalid in UTF-8) replaced."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-8", errors="replace").decode("utf-8")
    return text
