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
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rag.catalog import Catalog
from rag.embed import Embedder
from rag.lexical import tokens
from rag.query import QuestionInfo
from rag.results import Citation, EngineResult, Passage
from rag.sentences import sentence_spans
from rag.settings import Settings

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
# Sentences are embedded in small batches: a batch is padded to its longest
# sentence, so one long sentence made the others pay for its length (answer p95
# at 100k chunks: 343–349 ms in one batch, 265–311 ms in batches of 4).
SENTENCE_BATCH = 4
# Sentences this close say the same thing.
SAME_SENTENCE = 0.9
# A copy's sentence this close to the cited one carries the same claim.
COPY_SIMILARITY = 0.75
# Share of content words (Dice) above which a copy's sentence is the quote reworded
# at most lightly, and below which it is another sentence; in between it is embedded.
SAME_WORDING = 0.5
OTHER_WORDING = 0.15


@dataclass
class Candidate:
    passage: Passage
    start: int  # offsets in the article's text
    end: int
    text: str
    score: float = 0.0
    cosine: float = 0.0
    overlap: float = 0.0
    also: list[dict[str, Any]] = field(default_factory=list)


def dice(a: set[str], b: set[str]) -> float:
    """Share of words two sets have in common: 2|a∩b| / (|a| + |b|)."""
    return 2 * len(a & b) / (len(a) + len(b)) if a and b else 0.0


def _kind_bonus(kind: str, text: str) -> float:
    pattern = {"when": _DATE_WORDS, "how_many": _NUMBER, "who": _NAME, "where": _PLACE}.get(kind)
    return 0.08 if pattern is not None and pattern.search(text) else 0.0


_HEAD = re.compile(r"\b(?:which|what)\s+([a-z]+)", re.I)
_ACRONYM = re.compile(r"\b[A-Z]{3,}\b")


def question_entities(question: str) -> set[str]:
    """Words of the names a question mentions ("Zhang Guangjun"), skipping its first word."""
    words = question.split()
    return set(tokens(" ".join(_CAPS.findall(" ".join(words[1:])))))


def slot_values(text: str, question: str) -> set[str]:
    """Values in ``text`` for what a "which/what X" question asks, e.g. the ministries it names.

    A value is a capitalised phrase containing X ("Ministry of Science and
    Technology") or, for organisations, an acronym ("MIIT"). Empty when the
    question has no such head noun.
    """
    head = _HEAD.search(question)
    if not head:
        return set()
    noun = head.group(1).lower().rstrip("s")
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
        found = []
        for passage in passages:
            for a, b in sentence_spans(passage.text):
                text = passage.text[a:b]
                if len(text.split()) < 4:
                    continue
                found.append(
                    Candidate(passage, passage.char_start + a, passage.char_start + b, text)
                )
        return found

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

    def score(
        self, question: str, vector: np.ndarray, info: QuestionInfo, found: list[Candidate]
    ) -> list[Candidate]:
        """Rank sentences. Only the most promising ``sentence_pool`` are embedded."""
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
        for c, v in zip(pool, vectors, strict=True):
            c.cosine = float(v @ vector)
            c.score += 0.6 * c.cosine + 0.4 * c.overlap
        self._drop_near_duplicates(pool, vectors)
        return sorted((c for c in pool if c.score > -1), key=lambda c: c.score, reverse=True)

    @staticmethod
    def _drop_near_duplicates(found: list[Candidate], vectors: np.ndarray) -> None:
        """Of sentences that say the same, keep one; the rest become "also reported by".

        The kept one is the canonical article's wording (the original report)
        when a copy of the same cluster scored higher; it takes the best score.
        """
        order = sorted(range(len(found)), key=lambda i: found[i].score, reverse=True)
        kept: list[int] = []
        for i in order:
            twin = next((k for k in kept if float(vectors[i] @ vectors[k]) >= SAME_SENTENCE), None)
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
        self, info: QuestionInfo, ranked: list[Candidate], found: list[Candidate] | None = None
    ) -> tuple[list[Candidate], bool]:
        """The sentences to answer with, and whether they come from sources that disagree."""
        s = self.settings
        if not ranked or ranked[0].score < s.abstain_min_score:
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

    def compose(self, chosen: list[Candidate], conflict: bool) -> tuple[list[str], list[Citation]]:
        """Answer pieces (for streaming) and their citations, numbered in order of appearance."""
        pieces: list[str] = []
        citations: list[Citation] = []
        if conflict:
            pieces.append("The articles disagree. ")
        copies = self._copies(chosen)
        for n, (c, carried) in enumerate(zip(chosen, copies, strict=True), start=1):
            p = c.passage
            if conflict:
                pieces.append(f"According to {attribution(p)}: ")
            pieces.append(f"{c.text} [{n}]" + (" " if n < len(chosen) else ""))
            citations.append(Citation.of(n, p, c.start, c.end, c.score, c.also + carried))
        return pieces, citations

    def run(
        self, question: str, vector: np.ndarray, info: QuestionInfo, passages: list[Passage]
    ) -> Iterator[str | EngineResult]:
        """Yield answer text pieces, then the :class:`EngineResult`."""
        found = self.candidates(passages)
        ranked = self.score(question, vector, info, found)
        chosen, conflict = self.select(info, ranked, found)
        if not chosen:
            yield NOT_FOUND
            yield EngineResult([], True, False)
            return
        pieces, citations = self.compose(chosen, conflict)
        yield from pieces
        yield EngineResult(citations, False, conflict)
