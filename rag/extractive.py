"""The extractive engine: answers built from the articles' own sentences, no LLM.

For the retrieved passages: split into sentences (exact offsets), score each
against the question — embedding cosine, share of the question's content
words, a bonus for the kind of fact the question asks for (a date for
"when", a number for "how many", a name for "who") — drop near-duplicate
sentences, and write the best ones with [n] markers, the best first.

Abstains when the best sentence is too weak; reports sources that disagree
when the top sentences from different duplicate clusters name different facts.
"""

from __future__ import annotations

import contextlib
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

import numpy as np

from rag import coreference, nlp
from rag.abstention import load_models
from rag.answer_type import COUNTRYISH, TITLES, Expected, expected_answer, question_parts
from rag.catalog import Catalog
from rag.chunk import chunk_id
from rag.claims import ClaimText, split_claims
from rag.embed import Embedder
from rag.fitness import unfit_in_context
from rag.lexical import tokens
from rag.nlp import Entity, normalise
from rag.periods import Period
from rag.query import QuestionInfo, mentioned_dates, question_kind
from rag.relative_dates import event_day, published_day, resolve, spell
from rag.results import Citation, Claim, EngineResult, Passage, ShortAnswer, Verdict
from rag.sentences import sentence_spans
from rag.settings import Settings
from rag.short_answer import (
    QUOTES,
    Pick,
    Referent,
    Sentence,
    best_entity,
    continues_quote,
    every_entity,
    full_name,
    mentions_title,
    named_in,
    quoted,
    quotes,
    stems,
    topic_words,
    voters,
)
from rag.verdict import MISSING, Evidence, about_events, claim_words, decide, features
from rag.word_forms import base

_DATE_WORDS = re.compile(
    r"\b(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|today|yesterday|"
    r"january|february|march|april|may|june|july|august|september|october|november|"
    r"december|jan|feb|aug|sept?|oct|nov|dec|\d{4}|last (?:week|month|year))\b",
    re.I,
)
_NUMBER = re.compile(
    r"\b\d[\d,.]*\b|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|"
    r"dozen|hundred|thousand|million|billion)\b",
    re.I,
)
_NAME = re.compile(r"\b[A-Z][a-z]+(?:\s+[A-Z][a-z]+)+\b")
_PLACE = re.compile(r"\b(?:in|at|from)\s+(?:the\s+)?[A-Z][a-z]+")
ORGANISATIONS = frozenset(
    "ministry agency company department organisation organization firm bank party body office "
    "committee commission chamber".split()
)
_CAPS = re.compile(r"\b[A-Z][A-Za-z]+(?:\s+(?:of|and|for|the)?\s*[A-Z][A-Za-z]+)*\b")

NOT_FOUND = "Not found in the indexed articles."
SENTENCE_CACHE = 50_000
# On torch, sentences are embedded in small batches: a batch is padded to its longest
# sentence, so one long sentence made the others pay for its length (answer p95
# at 100k chunks: 343–349 ms in one batch, 265–311 ms in batches of 4). onnxruntime,
# the default, runs them one at a time whatever this says (rag/onnx_export.py).
SENTENCE_BATCH = 4
# Sentences this close say the same thing.
SAME_SENTENCE = 0.9
# A copy's sentence this close to the cited one carries the same claim.
COPY_SIMILARITY = 0.75
# A list goes on in the next sentence when it says "also" and shares this many of the
# question's words with the sentence before it.
CONTINUED_WORDS = 2
_ALSO = re.compile(r"\balso\b", re.I)
# A sentence beside a short answer that does not name it stays when it holds this many
# of the question's words that the sentences before it do not.
NEW_WORDS = 2
# Share of content words (Dice) above which a copy's sentence is the quote reworded
# at most lightly, and below which it is another sentence; in between it is embedded.
SAME_WORDING = 0.5
OTHER_WORDING = 0.15


@dataclass(eq=False)  # compared (and hashed) by identity
class Candidate:
    passage: Passage
    start: int  # offsets in the article's text
    end: int
    text: str
    score: float = 0.0
    cosine: float = 0.0
    overlap: float = 0.0
    also: list[dict[str, Any]] = field(default_factory=list)
    entities: list[Entity] = field(default_factory=list)
    before: str = ""  # its passage's text before it (for "…,” she said")

    @property
    def published(self) -> date | None:
        return published_day(self.passage.published_at)


def dice(a: set[str], b: set[str]) -> float:
    """Share of words two sets have in common: 2|a∩b| / (|a| + |b|)."""
    return 2 * len(a & b) / (len(a) + len(b)) if a and b else 0.0


def _kind_bonus(kind: str, text: str) -> float:
    pattern = {"when": _DATE_WORDS, "how_many": _NUMBER, "who": _NAME, "where": _PLACE}.get(kind)
    return 0.08 if pattern is not None and pattern.search(text) else 0.0


_HEAD = re.compile(r"\b(?:which|what)\s+([A-Za-z]+)(?:\s+((?-i:[a-z]+)))?", re.I)
_ACRONYM = re.compile(r"\b[A-Z]{3,}\b")


def question_entities(question: str) -> set[str]:
    """Words of the names a question mentions ("Zhang Guangjun"), skipping its first word
    and nationalities ("Which Chinese company …", "the US curbs"): they qualify what is
    asked and name no one."""
    names = _CAPS.findall(" ".join(question.split()[1:]))
    return set(tokens(" ".join(n for n in names if not COUNTRYISH.match(n))))


def slot_values(text: str, question: str) -> set[str]:
    """Values in ``text`` for what a "which/what X" question asks, e.g. the ministries it names.

    A value is a capitalised phrase containing X ("Ministry of Science and
    Technology") or, for organisations, an acronym ("MIIT"). Empty when the
    question has no such head noun.
    """
    head = _HEAD.search(question)
    if not head:
        return set()
    # past a nationality: "Which American drugmaker" asks about a drugmaker
    word = head.group(2) if COUNTRYISH.match(head.group(1)) and head.group(2) else head.group(1)
    noun = word.lower().rstrip("s")
    asked = set(tokens(question))
    values = {
        " ".join(tokens(p))
        for p in _CAPS.findall(text)
        if noun in p.lower() and set(tokens(p)) - asked
    }
    if noun in ORGANISATIONS:
        values |= {a.lower() for a in _ACRONYM.findall(text)}
    return values


def attribution(passage: Passage) -> str:
    """How an answer names where a sentence comes from: outlet, else a short title."""
    if passage.source:
        return passage.source
    title = passage.title.rstrip("…")
    return f"“{title if len(title) <= 60 else title[:59].rsplit(' ', 1)[0] + '…'}”"


class ExtractiveEngine:
    name = "extractive"

    def __init__(self, settings: Settings, embedder: Embedder, catalog: Catalog) -> None:
        self.settings = settings
        self.embedder = embedder
        self.catalog = catalog
        self._cache: dict[str, np.ndarray] = {}

    def candidates(self, passages: list[Passage]) -> list[Candidate]:
        """The sentences of the passages fit to answer with (see :mod:`rag.fitness`)."""
        found = []
        for passage in passages:
            spans = sentence_spans(passage.text)
            for i, (a, b) in enumerate(spans):
                text = passage.text[a:b]
                following = passage.text[slice(*spans[i + 1])] if i + 1 < len(spans) else ""
                if unfit_in_context(text, following) is None:
                    found.append(
                        Candidate(
                            passage,
                            passage.char_start + a,
                            passage.char_start + b,
                            text,
                            before=passage.text[:a],
                        )
                    )
        return found

    @property
    def nlp(self) -> Any:
        return nlp.load(self.settings.spacy_model)

    @contextlib.contextmanager
    def loading(self) -> Iterator[None]:
        """Load the spaCy pipeline that tags each question's names (a second, once) in a
        thread while the body runs; loaded, or its error raised, after the body."""
        with nlp.loading_while(self.settings.spacy_model):
            yield

    def tag(self, found: list[Candidate]) -> None:
        """Give each candidate its named entities: from the index (tagged by ``rag index``),
        or tagged now when its article has none stored; a name the tagger joined to a
        title is split from it by the retrieved articles' other mentions
        (:func:`nlp.untitled`)."""
        by_article: dict[str, list[Entity]] = {}
        for c in found:
            article = c.passage.article_id
            if article not in by_article:
                by_article[article] = self.catalog.entities(article, 0, sys.maxsize)
        known = nlp.people(e for stored in by_article.values() for e in stored)
        by_article = {a: nlp.untitled(stored, known) for a, stored in by_article.items()}
        untagged: list[Candidate] = []
        for c in found:
            stored = by_article[c.passage.article_id]
            if stored:
                c.entities = [e for e in stored if c.start <= e.start and e.end <= c.end]
            else:
                untagged.append(c)
        if untagged:
            texts = [c.text for c in untagged]
            for c, entities in zip(untagged, nlp.entities_many(self.nlp, texts), strict=True):
                c.entities = nlp.untitled(
                    [
                        Entity(e.start + c.start, e.end + c.start, e.label, e.text, e.norm)
                        for e in entities
                    ],
                    known,
                )
        # Names shaped like none are dropped; a tag the index mostly disagrees with is
        # replaced by the index's label.
        for c in found:
            c.entities = [e for e in c.entities if nlp.plausible(e)]
        norms = sorted({e.norm for c in found for e in c.entities if e.label in nlp.NAMES})
        labels = self.catalog.labels(norms) if norms else {}
        if labels:
            for c in found:
                c.entities = nlp.relabelled(c.entities, labels)
        # A surname is the person its article names in full, whatever the tagger or the
        # index's majority made of it.
        in_full = {a: nlp.people(stored) for a, stored in by_article.items()}
        for c in found:
            named = in_full[c.passage.article_id] or nlp.people(c.entities)
            c.entities = nlp.quoted_titles(c.text, c.start, nlp.surnamed(c.entities, named))

    def question_entities(self, question: str, info: QuestionInfo) -> list[str]:
        """The names the question mentions as written ("2022 World Cup", no leading "the"
        or possessive), one per normalised form; its outlets left out. Two names the
        tagger joined across "in", "at" or "vs" ("Arsenal in Sevilla") are two."""
        outlets = {s.lower() for s in info.sources}
        names: dict[str, str] = {}
        for e in nlp.entities(self.nlp, question):
            if e.label in nlp.NAMES and e.norm and e.norm not in outlets:
                shown = re.sub(r"^(?:the|a|an)\s+|(?:'s|’s)$", "", e.text, flags=re.I)
                parts = _JOINED.split(shown)
                if not all(part[:1].isupper() for part in parts):
                    parts = [shown]
                for part in parts:
                    names.setdefault(nlp.normalise(part), part)
        return [
            shown
            for norm, shown in sorted(names.items())
            if not any(norm in o or o in norm for o in outlets)
        ]

    @staticmethod
    def untagged_names(question: str, tagged: list[str], info: QuestionInfo) -> list[str]:
        """Names the small tagger missed ("the 2023 Tour de France", "Tesla"): runs of
        capitalised words sharing no word with a ``tagged`` name or an outlet, not the
        question's first word, no day or month. The index's entity table misses them
        too, so they count only where the text is read (passages, best evidence)."""
        taken = set(tokens(" ".join([*tagged, *info.sources])))
        found: dict[str, str] = {}
        for match in _CAPITALISED_RUN.finditer(question):
            run = re.sub(r"(?:'s|’s)$", "", match.group(0))
            if match.start() == 0 or set(tokens(run)) & taken or _CALENDAR.fullmatch(run):
                continue  # ("President Biden" when "Biden" was tagged)
            found.setdefault(nlp.normalise(run), run)
        return list(found.values())

    def score(
        self,
        question: str,
        vector: np.ndarray,
        info: QuestionInfo,
        found: list[Candidate],
        expected: Expected | None = None,
        names: list[str] | None = None,
    ) -> list[Candidate]:
        """Rank sentences. Only the most promising ``sentence_pool`` are embedded (and
        tagged); among them a sentence naming the question's entities, or holding the kind
        of entity the question asks for, gains."""
        if not found:
            return []
        asked = set(tokens(question))
        passages = list(dict.fromkeys(c.passage.chunk_id for c in found))
        for c in found:
            c.overlap = len(asked & set(tokens(c.text))) / len(asked) if asked else 0.0
            rank = passages.index(c.passage.chunk_id)
            c.score = 0.05 * (1 - rank / len(passages)) + _kind_bonus(info.kind, c.text)
            if slot_values(c.text, question):
                c.score += 0.1
        pool = sorted(found, key=lambda c: c.overlap + 2 * c.score, reverse=True)
        pool = pool[: self.settings.sentence_pool]
        vectors = self._vectors([c.text for c in pool])
        if expected is not None:
            self.tag(pool)
        for c, v in zip(pool, vectors, strict=True):
            c.cosine = float(v @ vector)
            c.score += 0.6 * c.cosine + 0.4 * c.overlap
            if names:
                c.score += NAME_BONUS * _named_share(names, c.text)
            if (
                expected is not None
                and expected.wants_entity
                and any(
                    e.label in expected.labels and not named_in(e.norm, question)
                    for e in c.entities
                )
            ):
                c.score += TYPE_BONUS
        self._drop_near_duplicates(pool, vectors)
        return sorted((c for c in pool if c.score > -1), key=lambda c: c.score, reverse=True)

    def _vectors(self, texts: list[str]) -> np.ndarray:
        """Sentence vectors, cached: the same passages come back for related questions."""
        missing = [t for t in dict.fromkeys(texts) if t not in self._cache]
        if missing:
            vectors = self.embedder.embed(missing, batch_size=SENTENCE_BATCH)
            for text, vector in zip(missing, vectors, strict=True):
                if len(self._cache) >= SENTENCE_CACHE:
                    # Oldest first; the API serves questions from several threads at once.
                    with contextlib.suppress(RuntimeError, StopIteration, KeyError):
                        self._cache.pop(next(iter(self._cache)))
                self._cache[text] = vector
        return np.stack([self._cache[t] for t in texts])

    @staticmethod
    def _drop_near_duplicates(found: list[Candidate], vectors: np.ndarray) -> None:
        """Of sentences that say the same, keep one; the rest become "also reported by".

        The kept one is the canonical article's wording (the original report)
        when a copy of the same cluster scored higher; it takes the best score.
        """
        order = sorted(range(len(found)), key=lambda i: found[i].score, reverse=True)
        kept: list[int] = []

        def same(i: int, k: int) -> bool:
            # Copies of one story reword it: between articles of one duplicate cluster
            # a sentence as close as a copy's quote (COPY_SIMILARITY) says the same.
            a, b = found[i].passage, found[k].passage
            copies = a.cluster == b.cluster and a.article_id != b.article_id
            return float(vectors[i] @ vectors[k]) >= (COPY_SIMILARITY if copies else SAME_SENTENCE)

        for i in order:
            twin = next((k for k in kept if same(i, k)), None)
            if twin is None:
                kept.append(i)
                continue
            keep, drop = found[twin], found[i]
            original = drop.passage.article_id == drop.passage.cluster == keep.passage.cluster
            if original:
                keep, drop = drop, keep
                keep.score, keep.also = drop.score, drop.also
                drop.also = []
                kept[kept.index(twin)] = i
            if keep.passage.article_id != drop.passage.article_id:
                keep.also.append(drop.passage.ref() | {"quote": drop.text})
            drop.score = -2.0

    def select(
        self,
        info: QuestionInfo,
        ranked: list[Candidate],
        found: list[Candidate] | None = None,
        *,
        gate: bool = True,
    ) -> tuple[list[Candidate], bool]:
        """The sentences to answer with, and whether they come from sources that disagree.

        ``gate``: return none when the best score is under ``abstain_min_score`` (the
        rule used when no fitted answerability model is stored)."""
        s = self.settings
        if not ranked or (gate and ranked[0].score < s.abstain_min_score):
            return [], False
        best = ranked[0]
        limit = s.answer_max_sentences * (2 if info.kind == "list" else 1)
        floor = best.score * (0.8 if info.kind == "list" else 0.9)
        chosen = [c for c in ranked[:limit] if c.score >= floor]
        everything = sorted(found or ranked, key=lambda c: c.score, reverse=True)
        return self._conflict(info, everything, chosen)

    def _conflict(
        self, info: QuestionInfo, ranked: list[Candidate], chosen: list[Candidate]
    ) -> tuple[list[Candidate], bool]:
        """Sources disagree when articles from different duplicate clusters give different
        values for what a "which X" question asks about the entity it names.

        A sentence counts when it names a value (see :func:`slot_values`) and it —
        or its article's title — names the question's entity. The best such
        sentence of each cluster is kept; two clusters with no value in common
        are shown side by side, attributed.
        """
        entity = question_entities(info.text)
        if not entity:
            return chosen, False
        per_cluster: dict[str, tuple[Candidate, set[str]]] = {}
        for c in ranked:
            values = slot_values(c.text, info.text)
            context = set(tokens(c.text + " " + c.passage.title))
            if values and entity <= context and c.passage.cluster not in per_cluster:
                per_cluster[c.passage.cluster] = (c, values)
        found = list(per_cluster.values())
        for i, (first, first_values) in enumerate(found):
            for second, second_values in found[i + 1 :]:
                if not first_values & second_values:
                    return [first, second], True
        return chosen, False

    def _copies(self, chosen: list[Candidate]) -> list[list[dict[str, Any]]]:
        """For each chosen sentence, the copies of its passage (collapsed duplicates) that
        also carry it, with their own wording.

        A copy's candidate is its sentence sharing the most words with the quote. Most
        copies repeat the wording (:data:`SAME_WORDING`) and are taken as they are; a
        candidate sharing almost nothing (:data:`OTHER_WORDING`) does not carry the claim;
        only reworded ones in between are embedded, one sentence per copy.
        """
        picked: list[list[dict[str, Any] | None]] = []
        unsure: list[tuple[int, int, dict[str, Any]]] = []
        for i, c in enumerate(chosen):
            quote = set(tokens(c.text))
            picked.append([])
            for ref in c.passage.also_reported_by:
                copy = self.catalog.passage(ref["chunk_id"], 0.0)
                sentences = [copy.text[a:b] for a, b in sentence_spans(copy.text)]
                if not sentences:
                    continue
                shared, best = max((dice(quote, set(tokens(s))), s) for s in sentences)
                carried = ref | {"quote": best}
                if shared >= SAME_WORDING:
                    picked[i].append(carried)
                elif shared >= OTHER_WORDING:
                    unsure.append((i, len(picked[i]), carried))
                    picked[i].append(None)  # decided below
        if unsure:
            vectors = self._vectors([c.text for c in chosen] + [r["quote"] for *_, r in unsure])
            for (i, at, carried), vector in zip(unsure, vectors[len(chosen) :], strict=True):
                if float(vector @ vectors[i]) >= COPY_SIMILARITY:
                    picked[i][at] = carried
        return [[ref for ref in found if ref is not None] for found in picked]

    def compose(
        self, chosen: list[Candidate], conflict: bool, picks: list[Pick] | None = None
    ) -> tuple[list[str], list[Citation], list[ShortAnswer]]:
        """Answer pieces (for streaming), their citations numbered in order of appearance,
        and the short answers: the picked spans first, then the supporting sentences."""
        pieces: list[str] = []
        citations: list[Citation] = []
        picks = picks or []
        if conflict:
            pieces.append("The articles disagree. ")
        copies = self._copies(chosen)
        number = {c: n for n, c in enumerate(chosen, start=1)}
        shorts: list[ShortAnswer] = []
        lead: list[str] = []
        for pick in picks:
            sentence = pick.sentence
            assert isinstance(sentence, Candidate)
            n = number[sentence]
            resolved = None
            if pick.label in ("DATE", "TIME"):
                day = published_day(sentence.passage.published_at)
                when = resolve(pick.text, day, sentence.text) if day else None
                resolved = spell(when) if when else None
            elif pick.full:
                resolved = pick.full
            shown = f"“{pick.text}”" if pick.label == "QUOTE" else pick.text
            lead.append(f"{shown} ({resolved}) [{n}]" if resolved else f"{shown} [{n}]")
            shorts.append(
                ShortAnswer(
                    pick.text,
                    sentence.passage.article_id,
                    pick.start,
                    pick.end,
                    n,
                    pick.label,
                    resolved,
                )
            )
        if lead:
            # values of one question joined by "and"; answers to a compound question's
            # parts, and quotes, by semicolons
            joined = "; ".join(
                _joined(
                    [shown for shown, p in zip(lead, picks, strict=True) if p.part == part], "and"
                )
                for part in dict.fromkeys(p.part for p in picks)
            )
            if picks[0].label == "QUOTE":
                joined = "; ".join(lead)
            pieces.append(joined + " — ")
        for n, (c, carried) in enumerate(zip(chosen, copies, strict=True), start=1):
            p = c.passage
            if conflict:
                pieces.append(f"According to {attribution(p)}: ")
            pieces.append(f"{c.text} [{n}]" + (" " if n < len(chosen) else ""))
            citations.append(Citation.of(n, p, c.start, c.end, c.score, c.also + carried))
        return pieces, citations, shorts

    def short(
        self,
        question: str,
        expected: Expected,
        ranked: list[Candidate],
        chosen: list[Candidate],
        names: list[str],
        found: list[Candidate] | None = None,
    ) -> tuple[list[Candidate], list[Pick]]:
        """The answer itself, and the sentences to support it (the one holding it first).
        ``found``: every candidate sentence, where a quote chosen goes on past the pool."""
        limit = self.settings.answer_max_sentences
        if expected.kind == "what_said" and expected.speaker:
            # Only quotes about what was asked: with a topic ("… say about Binance"), any
            # retrieved sentence's on that topic, the chosen ones first; else only those in
            # the sentences chosen to answer.
            topic = topic_words(question)
            chosen_ids = {id(c) for c in chosen}
            pool = chosen + [c for c in ranked if id(c) not in chosen_ids] if topic else chosen
            before = {c.start: c.before for c in pool}
            headlines = {c.start: c.passage.title for c in pool}
            picks = quotes(expected.speaker, pool, before, topic=topic, headlines=headlines)
            picks = _going_on(picks, found or pool, QUOTES)
            if picks:
                held = [p.sentence for p in picks if isinstance(p.sentence, Candidate)]
                return list(dict.fromkeys(held))[:limit], picks
            if quotes(expected.speaker, chosen, before):
                return [], []  # quoted, but on other things: the question is not answered
            return chosen, []
        picks = self._picks(question, expected, ranked, chosen, names)
        if expected.kind == "list":
            return _supporting(_with_continuations(chosen, picks), picks, question), picks
        if not picks:
            return chosen, picks
        # The sentence holding the answer leads, even when it ranked below the chosen
        # ones (it is among the voters: within VOTE_FLOOR of the best).
        return _supporting(_leading(picks, chosen), picks, question), picks

    def parts(
        self,
        parts: list[str],
        info: QuestionInfo,
        found: list[Candidate],
        chosen: list[Candidate],
        names: list[str],
    ) -> tuple[list[Candidate], list[Pick]]:
        """A compound question's answers ("Who hosted Raimondo, and which Treasury
        Secretary …?"): each part's sentences ranked for that part alone (on copies of
        the candidates, whose scores are the whole question's), its answer picked
        from them; the sentences holding them lead the whole question's."""
        picks: list[Pick] = []
        for number, part in enumerate(parts):
            wanted = expected_answer(part)
            named = [n for n in names if n.lower() in part.lower()]
            own = [replace(c, also=[]) for c in found]
            asked = replace(info, text=part, kind=question_kind(part))
            ranked = self.score(part, self._vectors([part])[0], asked, own, wanted, named)
            answering, _ = self.select(asked, ranked, own, gate=False)
            for pick in self._picks(part, wanted, ranked, answering, named, info.text):
                if all(normalise(pick.text) != normalise(p.text) for p in picks):
                    pick.part = number
                    picks.append(pick)
        return _supporting(_leading(picks, chosen), picks, info.text), picks

    def _picks(
        self,
        question: str,
        expected: Expected,
        ranked: list[Candidate],
        chosen: list[Candidate],
        names: list[str],
        asked: str | None = None,
    ) -> list[Pick]:
        """The answer spans of one question (a part of ``asked``): every listed value, or
        the one entity the best sentences agree on (with its fuller name), or none."""
        if expected.kind == "list":
            listed = every_entity(expected, chosen, question, asked)
            return listed + self._continued(listed, expected, question, asked)
        if not expected.wants_entity:
            return []
        share = (lambda text: _named_share(names, text)) if names else None
        if expected.kind in ("who", "which"):
            by_passage = self._passage_names(ranked)
        else:
            # A place or a day every passage mentions (the club's ground, the day of the
            # news) is the setting, not the answer: only the ranked sentences' count.
            by_passage = {}
            for c in ranked:
                by_passage.setdefault(c.passage.chunk_id, []).extend(c.entities)
        referents = self._referents(question, expected, ranked)
        pick = best_entity(
            expected, ranked, question, share, list(by_passage.values()), asked, referents
        )
        if pick is None:
            return []
        if pick.full is None:
            pick.full = full_name(pick, self._mentions(pick, ranked))
        return [pick]

    def _passage_names(self, ranked: list[Candidate]) -> dict[str, list[Entity]]:
        """The names each passage of the ranked sentences holds, all of its text (from the
        index; else the ranked sentences' own), surnames made the people its article
        names in full: which the pieces of evidence share is the multi-hop answer."""
        by_passage: dict[str, list[Entity]] = {}
        in_full: dict[str, set[str]] = {}
        for c in ranked:
            p = c.passage
            if p.chunk_id in by_passage:
                continue
            stored = self.catalog.entities(p.article_id, p.char_start, p.char_end)
            if not stored:
                by_passage[p.chunk_id] = [
                    e for o in ranked if o.passage.chunk_id == p.chunk_id for e in o.entities
                ]
                continue
            stored = [e for e in stored if nlp.plausible(e)]
            if p.article_id not in in_full:
                whole = self.catalog.entities(p.article_id, 0, sys.maxsize)
                in_full[p.article_id] = nlp.people(whole)
            by_passage[p.chunk_id] = nlp.surnamed(stored, in_full[p.article_id])
        return by_passage

    def _continued(
        self, listed: list[Pick], expected: Expected, question: str, asked: str | None
    ) -> list[Pick]:
        """A list that goes on in the next sentence of the passage ("… including US
        Treasury Secretary Janet Yellen’s trip." → "US climate envoy John Kerry is also
        visiting China."): its values too, when it says "also" and shares
        :data:`CONTINUED_WORDS` of the question's words with the sentence before it."""
        seen = {normalise(p.text) for p in listed}
        wanted = stems(question)
        more: list[Pick] = []
        held = (p.sentence for p in listed if isinstance(p.sentence, Candidate))
        passages: dict[str, list[Candidate]] = {}
        for sentence in dict.fromkeys(held):
            own, at = self._place(sentence, passages)
            if at is None or at + 1 == len(own) or not _ALSO.search(own[at + 1].text):
                continue
            following = own[at + 1]
            shared = wanted & stems(sentence.text) & stems(following.text)
            if len(shared) < CONTINUED_WORDS:
                continue
            self.tag([following])
            for e in following.entities:
                if e.label not in expected.labels or e.norm in seen:
                    continue
                if named_in(e.norm, asked or question):
                    continue
                seen.add(e.norm)
                more.append(Pick(following, e.start, e.end, e.text, e.label))
        return more

    def _referents(
        self, question: str, expected: Expected, ranked: list[Candidate]
    ) -> dict[Sentence, Referent]:
        """For a question a person answers: the people the voting sentences speak of
        without naming them ("He told Raimondo …", "The top Chinese official … told …"),
        named in a nearby sentence of the same passage (:mod:`rag.coreference`)."""
        if "PERSON" not in expected.labels:
            return {}
        found: dict[Sentence, Referent] = {}
        passages: dict[str, list[Candidate]] = {}
        tagged: set[str] = set()
        for c in voters(ranked):
            described = coreference.describes(question, c) or coreference.opens_with(
                expected.head or "", c
            )
            if not described and not coreference.refers_back(c.text):
                continue
            own, at = self._place(c, passages)
            if at is None:
                continue
            if c.passage.chunk_id not in tagged:
                self.tag(own)
                tagged.add(c.passage.chunk_id)
            meant = coreference.referent(c, own[:at], own[at + 1 :], described)
            if meant is not None:
                found[c] = Referent(meant[0], meant[1], described)
        return found

    def _place(
        self, sentence: Candidate, passages: dict[str, list[Candidate]]
    ) -> tuple[list[Candidate], int | None]:
        """The fit sentences of ``sentence``'s passage (found once per passage, kept in
        ``passages``) and its place among them (None: it is not one of them)."""
        chunk = sentence.passage.chunk_id
        if chunk not in passages:
            passages[chunk] = self.candidates([sentence.passage])
        own = passages[chunk]
        return own, next((i for i, c in enumerate(own) if c.start == sentence.start), None)

    def _mentions(self, pick: Pick, ranked: list[Candidate]) -> list[Entity]:
        """The names the picked span's article mentions (from the index, else from the
        sentences at hand), where its fuller form is found ("Brock Purdy" for "Purdy")."""
        sentence = pick.sentence
        assert isinstance(sentence, Candidate)
        article = sentence.passage.article_id
        stored = self.catalog.entities(article, 0, sys.maxsize)
        if stored:
            return stored
        return [e for c in ranked if c.passage.article_id == article for e in c.entities]

    def signals(
        self,
        question: str,
        info: QuestionInfo,
        expected: Expected,
        names: list[str],
        passages: list[Passage],
        ranked: list[Candidate],
        picks: list[Pick],
        tagged: list[str] | None = None,
    ) -> dict[str, float]:
        """What the answerability model reads (see :mod:`rag.abstention`); ``tagged``:
        the names the tagger found (the index's entity table can know), else ``names``."""
        best = ranked[0] if ranked else None
        others = [c.score for c in ranked[1:5]]
        outlets = set(tokens(" ".join(info.sources)))
        asked = set(tokens(question)) - outlets
        everything = " ".join(f"{p.title} {p.text}" for p in passages)
        best_text = f"{best.passage.title} {best.passage.text}" if best else ""
        wanted = expected.wants_entity or expected.kind == "what_said"
        found = bool(picks)
        # (an age is found by its shape, "Sutch, 73,", not by the word "age")
        if found and expected.kind == "how_many" and expected.head not in (None, "age"):
            found = any(_mentions_head(expected.head, p.sentence.text) for p in picks)
        indexed = names if tagged is None else tagged
        known = self.catalog.known([nlp.normalise(n) for n in indexed]) if indexed else set()
        return {
            "names_in_index": len(known) / len(indexed) if indexed else 1.0,
            "best_score": best.score if best else 0.0,
            "best_cosine": best.cosine if best else 0.0,
            "best_overlap": best.overlap if best else 0.0,
            "margin": (best.score - sum(others) / len(others)) if best and others else 0.0,
            "entities_in_passages": _named_share(names, everything) if names else 1.0,
            "entities_in_best": _named_share(names, best_text) if names else 1.0,
            "words_in_best": (
                len(asked & set(tokens(best_text))) / len(asked) if asked and best else 0.0
            ),
            "answer_type_missing": float(wanted and not found),
            "answer_votes": max((p.votes for p in picks), default=0.0),
            "dense": passages[0].dense or 0.0 if passages else 0.0,
            "lexical": passages[0].lexical or 0.0 if passages else 0.0,
            "wants_entity": float(wanted),
            "yes_no": float(expected.kind == "yes_no"),
        }

    def run(
        self, question: str, vector: np.ndarray, info: QuestionInfo, passages: list[Passage]
    ) -> Iterator[str | EngineResult]:
        """Yield answer text pieces, then the :class:`EngineResult`."""
        expected = expected_answer(question)
        tagged = self.question_entities(question, info)
        names = tagged + self.untagged_names(question, tagged, info)
        found = self.candidates(passages)
        ranked = self.score(question, vector, info, found, expected, names)
        if expected.kind == "yes_no" and ranked:
            yield from self.yes_no(question, info, found)
            return
        model = load_models().get("answerable")
        chosen, conflict = self.select(info, ranked, found, gate=model is None)
        picks: list[Pick] = []
        parts = question_parts(question)
        if chosen and not conflict and len(parts) > 1 and expected.kind != "what_said":
            chosen, picks = self.parts(parts, info, found, chosen, names)
        elif chosen and not conflict:
            chosen, picks = self.short(question, expected, ranked, chosen, names, found)
        signals = self.signals(question, info, expected, names, passages, ranked, picks, tagged)
        confidence = model.probability(signals) if model else None
        unnamed_office = _untitled(expected, passages)
        # A count asked about a thing no best sentence counts, an amount or a date to
        # come no best sentence gives, or an office no passage names ("Which senators
        # …"), is not in the articles, whatever the scores say.
        uncounted = (
            bool(signals["answer_type_missing"])
            and (
                (expected.kind == "how_many" and bool(expected.head))
                or expected.kind == "how_much"
                or expected.future
            )
        ) or unnamed_office
        declined = confidence is not None and confidence < self.settings.abstain_threshold
        if not chosen or declined or uncounted:
            if confidence is not None and (uncounted or (not chosen and ranked)):
                # Declined by a rule, not the model: say so in the confidence too (on the
                # gold sets about 1 in 7 such questions was answerable).
                confidence = min(confidence, RULED_OUT)
            missing = self.missing(question, expected, names, passages, signals, unnamed_office)
            yield f"{NOT_FOUND} {missing[0].upper()}{missing[1:]}."
            yield EngineResult(
                [], True, False, confidence=confidence, missing=missing, signals=signals
            )
            return
        pieces, citations, shorts = self.compose(chosen, conflict, picks)
        yield from pieces
        yield EngineResult(
            citations,
            False,
            conflict,
            short_answers=shorts,
            confidence=confidence,
            signals=signals,
        )

    def digest(
        self, question: str, passages: list[Passage], topic: bool, newest: bool = True
    ) -> Iterator[str | EngineResult]:
        """ "What happened yesterday?", "Any news about credit cards since Monday?",
        "Latest on SBF?": one sentence per article found, newest article first (or
        earliest), each given its outlet and day and cited. For the news of some days
        the sentence is what the article leads with (its first sentence fit to answer);
        on a ``topic``, the first sentence of its best passage that names the topic (else
        its lead), for the articles of the passages within :data:`DIGEST_SHARE` of the
        best one."""
        best = max(p.score for p in passages)
        share = DIGEST_SHARE if topic else 0.0
        relevant = [p for p in passages if p.score >= share * best]
        articles = list(dict.fromkeys(p.article_id for p in relevant))
        about = set(tokens(question)) - _NEWSY if topic else set()
        leads: list[Candidate] = []
        for article in articles:
            own = [p for p in relevant if p.article_id == article][:1]
            on_topic = [c for c in self.candidates(own) if about & set(tokens(c.text))]
            first = self.catalog.passage(chunk_id(article, 0), 0.0)
            fit = on_topic or self.candidates([first]) or self.candidates(own)
            if fit:
                leads.append(fit[0])
        leads.sort(key=lambda c: c.passage.published_at or "", reverse=newest)
        leads = leads[: 2 * self.settings.answer_max_sentences]
        citations: list[Citation] = []
        for n, c in enumerate(leads, start=1):
            p = c.passage
            day = published_day(p.published_at)
            said = ", ".join(x for x in (p.source, day and f"{day.day} {day:%B %Y}") if x)
            gap = " " if n < len(leads) else ""
            yield (f"{said}: " if said else "") + f"{c.text} [{n}]{gap}"
            citations.append(Citation.of(n, p, c.start, c.end, c.score, c.also))
        yield EngineResult(citations, not citations, False)

    def missing(
        self,
        question: str,
        expected: Expected,
        names: list[str],
        passages: list[Passage],
        signals: dict[str, float],
        unnamed_office: bool,
    ) -> str:
        """What an abstention found missing, in words a reader can check;
        ``unnamed_office``: no passage names the office the question asks about."""
        everything = " ".join(f"{p.title} {p.text}" for p in passages).lower()
        absent = [n for n in names if _named_share([n], everything) < 1]
        if absent:
            return "no indexed article mentions " + _joined(absent, "or")
        what = _WANTED.get(expected.kind)
        topic = _topic(question)
        if unnamed_office:
            return f"no article found mentions {_office(expected.title)} for “{topic}”"
        if expected.kind == "what_said" and expected.speaker and signals["answer_type_missing"]:
            about = re.search(r"\babout\s+(.+?)\??$", question.strip(), re.I)
            return f"no article quotes {expected.speaker} on “{about.group(1) if about else topic}”"
        if what and signals["answer_type_missing"]:
            head = f" of {expected.head}" if expected.kind == "how_many" and expected.head else ""
            what = f"{what} still to come" if expected.future else what
            return f"no article gives {what}{head} for “{topic}”"
        return f"the closest passages do not answer “{topic}”"

    def yes_no(
        self, question: str, info: QuestionInfo, found: list[Candidate]
    ) -> Iterator[str | EngineResult]:
        """A verdict from the best evidence for each claim of the question."""
        claims = split_claims(question, info.sources)
        evidence: list[Evidence] = []
        best: list[Candidate | None] = []
        for claim in claims.claims:
            candidate, support = self._evidence(claim, found)
            best.append(candidate)
            evidence.append(
                Evidence(
                    claim,
                    support,
                    candidate.passage.published_at if candidate else None,
                    candidate is not None,
                    candidate.text if candidate else "",
                )
            )
        events = claims.order is not None and about_events(question, claims)
        if events:
            self._date_events(evidence, best)
        model = load_models().get("yes")
        answer, reason, p_yes = decide(question, claims, evidence, model, events=events)
        cited = list(dict.fromkeys(c for c in best if c is not None))
        number = {c: n for n, c in enumerate(cited, start=1)}
        citations = [
            Citation.of(n, c.passage, c.start, c.end, c.score, c.also)
            for n, c in enumerate(cited, start=1)
        ]
        verdict = Verdict(
            answer,
            [
                Claim(
                    e.claim.text,
                    _status(answer, len(evidence), c is not None and e.support >= MISSING),
                    number[c] if c is not None else None,
                    round(e.support, 4),
                    e.published_at,
                )
                for e, c in zip(evidence, best, strict=True)
            ],
            reason,
        )
        yield {"yes": "Yes", "no": "No"}.get(
            answer, "Cannot tell from the articles"
        ) + f" ({reason})."
        for c in cited:
            who = attribution(c.passage)
            yield f" {who}: {c.text} [{number[c]}]"
        yield EngineResult(
            citations,
            answer == "cannot tell",
            False,
            verdict=verdict,
            confidence=round(p_yes if answer == "yes" else 1 - p_yes, 4),
            missing=reason if answer == "cannot tell" else None,
            signals=features(question, claims, evidence),
        )

    def _date_events(self, evidence: list[Evidence], best: list[Candidate | None]) -> None:
        """Date each piece of evidence by the day its sentence tells of ("late Friday" in
        an article of 18 November → 17 November), where it names one."""
        self.tag([c for c in best if c is not None and not c.entities])
        for item, c in zip(evidence, best, strict=True):
            if c is None:
                continue
            spans = [e.text for e in c.entities if e.label in ("DATE", "TIME")]
            item.told = event_day(c.text, spans, c.published)

    def _evidence(self, claim: ClaimText, found: list[Candidate]) -> tuple[Candidate | None, float]:
        """The sentence that best supports ``claim``: from the outlet it names (and the day
        it names, when articles of that day are among the passages)."""
        pool = found
        if claim.source:
            # Any of the outlet's names ("CNBC" for "Cnbc | World Business News Leader").
            ids = self.catalog.from_sources([claim.source])
            pool = [c for c in found if c.passage.article_id in ids]
        days = mentioned_dates(claim.text)
        if days:
            dated = [c for c in pool if _on_day(c.passage.published_at, days)]
            pool = dated or pool
        if not pool:
            return None, 0.0
        words = claim_words(claim)
        for c in pool:
            c_words = set(tokens(c.text))
            c.overlap = len(words & c_words) / len(words) if words else 0.0
        pool = sorted(pool, key=lambda c: c.overlap, reverse=True)[:CLAIM_POOL]
        vectors = self._vectors([claim.text] + [c.text for c in pool])
        scored = [
            (0.6 * float(v @ vectors[0]) + 0.4 * c.overlap, c)
            for c, v in zip(pool, vectors[1:], strict=True)
        ]
        support, candidate = max(scored, key=lambda pair: pair[0])
        return candidate, support


NAME_BONUS = 0.1
RULED_OUT = 0.15
TYPE_BONUS = 0.06
CLAIM_POOL = 4
_WANTED = {
    "who": "a name",
    "which": "a name",
    "where": "a place",
    "when": "a date",
    "how_many": "a number",
    "how_much": "an amount",
    "what_said": "a quote",
}


def _named_share(names: list[str], text: str) -> float:
    """Share of ``names`` that ``text`` mentions (a name counts by its last word too:
    "Raimondo" for "Gina Raimondo", and a country by its adjective: "China's" for
    "Chinese")."""
    if not names:
        return 0.0
    lowered = text.lower()
    words = set(tokens(text))
    based = {base(w) for w in words}
    hits = 0
    for name in names:
        parts = tokens(name)
        one = len(parts) == 1 and base(parts[0]) in based  # "Chinese" for "China's"
        hits += name.lower() in lowered or bool(parts and parts[-1] in words) or one
    return hits / len(names)


def _untitled(expected: Expected, passages: list[Passage]) -> bool:
    """Whether a who-question asks for an office no passage names."""
    title = expected.title
    return title is not None and not any(
        mentions_title(title, f"{p.title} {p.text}") for p in passages
    )


def _status(answer: str, claims: int, found: bool) -> str:
    """A claim's status beside the verdict: its evidence found ("supported") or not
    ("missing"); a question's one claim that the evidence answers No to is
    "contradicted" (not "supported" under a No)."""
    if not found:
        return "missing"
    return "contradicted" if answer == "no" and claims == 1 else "supported"


def _office(title: str | None) -> str:
    """ "a senator", "a chief executive", "an ambassador"."""
    form = TITLES[title or ""][0]
    return ("an " if form[0] in "aeiou" else "a ") + form


def _mentions_head(head: str, text: str) -> bool:
    stem = head.lower().rstrip("s")
    return any(w.startswith(stem) for w in tokens(text))


def _on_day(published_at: str | None, days: list[tuple[int | None, int, int]]) -> bool:
    day = published_day(published_at)
    return day is not None and any(
        (y is None or y == day.year) and m == day.month and d == day.day for y, m, d in days
    )


def _leading(picks: list[Pick], chosen: list[Candidate]) -> list[Candidate]:
    """The sentences holding the picks, then the chosen ones not already among them (a
    sentence is the same by its place in its article, whichever ranking found it)."""
    lead = list(dict.fromkeys(p.sentence for p in picks if isinstance(p.sentence, Candidate)))
    held = {(c.passage.article_id, c.start) for c in lead}
    return [*lead, *(c for c in chosen if (c.passage.article_id, c.start) not in held)]


def _supporting(sentences: list[Candidate], picks: list[Pick], question: str) -> list[Candidate]:
    """The sentences that back the short answers: those holding them, those that name
    them too, the best-ranked one when it speaks of the answer without naming it ("He
    told Raimondo …"), and any that holds :data:`NEW_WORDS` of the question's words the
    ones kept before it do not (a multi-part question's other parts). The others
    answered the question's words, not its answer, and are left out; all are kept when
    nothing was picked."""
    if not picks:
        return sentences
    held = {
        (p.sentence.passage.article_id, p.sentence.start)
        for p in picks
        if isinstance(p.sentence, Candidate)
    }
    values = [_value_words(p) for p in picks]
    best = max(sentences, key=lambda c: c.score, default=None)
    asked = stems(question)
    kept: list[Candidate] = []
    covered: set[str] = set()
    for c in sentences:
        words = set(tokens(c.text))
        own = asked & stems(c.text)
        if (
            (c.passage.article_id, c.start) in held
            or any(v and v <= words for v in values)
            or (
                c is best
                and (coreference.refers_back(c.text) or coreference.describes(question, c))
            )
            or len(own - covered) >= NEW_WORDS
        ):
            kept.append(c)
            covered |= own
    return kept or sentences


def _going_on(picks: list[Pick], found: list[Candidate], limit: int) -> list[Pick]:
    """``picks`` (quotes), each followed by the sentences right after it in its passage
    that go on with its quote ("“I want to give credit to the All Blacks." then "They
    took us to the end, they took us to a dark place."), at most ``limit`` in all."""
    following = {(c.passage.chunk_id, c.start): c for c in found}
    out: list[Pick] = []
    taken: set[int] = {p.start for p in picks}
    for pick in picks:
        out.append(pick)
        current = pick.sentence
        while len(out) < limit and isinstance(current, Candidate):
            after = _next_sentence(current, following)
            if (
                after is None
                or after.start in taken
                or not continues_quote(after.text, after.before)
            ):
                break
            more = quoted(after, going_on=True)
            if more is None:
                break
            out.append(more)
            taken.add(after.start)
            current = after
    return out[: max(limit, len(picks))]


def _next_sentence(c: Candidate, following: dict[tuple[str, int], Candidate]) -> Candidate | None:
    """The candidate that starts right after ``c`` in its passage (only white space
    between: a quote goes on into the next paragraph when that opens with a mark)."""
    rest = c.passage.text[c.end - c.passage.char_start :]
    gap = len(rest) - len(rest.lstrip())
    return following.get((c.passage.chunk_id, c.end + gap))


def _value_words(pick: Pick) -> set[str]:
    """The words a sentence must hold to name a pick: a person's surname, else every
    word of the span."""
    words = tokens(pick.full or pick.text)
    if pick.label == "PERSON" and words:
        return {words[-1]}
    return set(words)


def _with_continuations(chosen: list[Candidate], picks: list[Pick]) -> list[Candidate]:
    """The chosen sentences, each followed by the sentences that continue its list
    (:meth:`ExtractiveEngine._continued`) when they are not chosen already."""
    held = {(c.passage.article_id, c.start) for c in chosen}
    extra = [
        p.sentence
        for p in picks
        if isinstance(p.sentence, Candidate)
        and (p.sentence.passage.article_id, p.sentence.start) not in held
    ]
    out = list(chosen)
    for sentence in dict.fromkeys(extra):
        before = [
            i
            for i, c in enumerate(out)
            if c.passage.article_id == sentence.passage.article_id and c.start < sentence.start
        ]
        out.insert(before[-1] + 1 if before else len(out), sentence)
    return out


_CAPITALISED_RUN = re.compile(
    r"\b[A-Z][\w'’&.-]*[A-Za-z0-9](?:\s+(?:(?:de|du|la|le|of|the|and|von|van|del|da)\s+)?"
    r"[A-Z][\w'’&.-]*[A-Za-z0-9])*"
)
_CALENDAR = re.compile(
    r"(?:January|February|March|April|May|June|July|August|September|October|November|"
    r"December|Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday|I|Q[1-4])",
)
# Words across which the tagger sometimes joins two names into one ("Arsenal in Sevilla").
_JOINED = re.compile(r"\s+(?:in|at|vs\.?|versus|against)\s+")
# A digest takes the articles of the passages scoring at least this share of the best.
DIGEST_SHARE = 0.6
# What a question that asks only for the news of some days says besides the days.
_NEWSY = frozenset(
    tokens(
        "what whats happened happen happening new news latest recent update updates "
        "story stories article articles report reported reports published publish say said "
        "write wrote cover covered any there been has have were was is are the on in from "
        "by of about"
    )
)


_NEWS_ON = re.compile(
    r"^\s*(?:(?:is there |are there )?any|what(?:['’]s| is| are)?(?: the)?)\s+"
    r"(?:news|updates?|latest|developments?|stories)\s+(?:on|about|with|in|for|regarding)\b",
    re.I,
)


def digest_of(question: str, info: QuestionInfo, period: Period) -> str | None:
    """Whether the question, naming ``period``, asks for the news of those days rather
    than for a fact: ``"days"`` when it names only days and outlets ("What happened
    yesterday?", "What did TechCrunch report last week?"), ``"topic"`` for news on a
    topic ("Any news about credit cards since Monday?"), else None."""
    rest = question.replace(period.phrase, " ")
    for source in info.sources:
        rest = re.sub(re.escape(source), " ", rest, flags=re.I)
    if not [w for w in tokens(rest) if w not in _NEWSY]:
        return "days"
    return "topic" if _NEWS_ON.match(question) else None


def _joined(items: list[str], last: str) -> str:
    """ "a", "a and b", "a, b or c": ``last`` is the word before the last item."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + f" {last} " + items[-1]


def _topic(question: str) -> str:
    q = " ".join(question.split()).rstrip("?. ")
    return q if len(q) <= 90 else q[:89].rsplit(" ", 1)[0] + "…"
