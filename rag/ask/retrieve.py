"""Hybrid retrieval: dense (Chroma) + lexical (BM25), fused, boosted by metadata, de-duplicated.

Each step is a small plain class; :class:`Retriever` runs them in order for the
product (``rag ask``, ``rag serve``, the app, eval)::

    question ─► Question (what it names, the filters, the period: Retriever.question)
        DenseStep (Chroma) ──┐
                             ├─ FusionStep (weighted or RRF) ─ MetadataBoostStep ─ cut to 3k
        LexicalStep (BM25) ──┘
        ─ DuplicateCollapseStep ─ OutletTurnsStep ─ DateOrderStep ─ top k

Scores travel as plain ``{chunk id: score}`` dicts until the cut, then as
:class:`~rag.ask.results.Passage` dataclasses. Each step can be switched off or
re-weighted in the settings, so the eval harness can measure what each one buys.

The llama-index retriever and postprocessors of :mod:`rag.ask.llama` wrap these same
steps, one each; they live apart because importing llama-index-core costs about
3 s of CPU (its package ``__init__`` imports all of it), which a cold ``rag ask``
must not pay.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Literal

import numpy as np

from rag.ask.periods import Period, order_in, period_in
from rag.ask.query import QuestionInfo, analyse
from rag.ask.results import Filters, Passage
from rag.catalog import Catalog
from rag.indexing.chunk import article_of
from rag.indexing.lexical import LexicalIndex
from rag.indexing.store import ChunkStore
from rag.settings import Settings

# "Latest on X?": passages scoring at least this share of the best are ordered by date.
ORDER_SHARE = 0.6
# Passages fetched for a named outlet the search left out (see OutletTurnsStep).
OUTLET_PASSAGES = 3
# Filters keeping at least this share of the articles are applied to an unfiltered
# search of up to OVERFETCH_MAX neighbours (see DenseStep.search).
OVERFETCH_MIN_SHARE = 0.1
OVERFETCH_MAX = 1000

Hits = list[tuple[str, float]]  # chunk ids and scores, best first


@dataclass
class Question:
    """A question as the steps share it: built once (:meth:`Retriever.question`), read by
    every step, re-analysed by none."""

    text: str
    vector: np.ndarray | None = None  # the embedded question (float32, as the model gives it)
    filters: Filters = field(default_factory=Filters)
    allowed: set[str] | None = None  # article ids the search keeps to (None: all)
    candidates: int = 100  # chunks each of the dense and BM25 searches returns
    info: QuestionInfo = field(default_factory=lambda: QuestionInfo("", "other"))
    period: Period | None = None  # the stretch of days the question names
    # For a strict period: whether any allowed article was published in it (and so the
    # search keeps to them); None for none or a ranking-only one.
    period_searched: bool | None = None
    boosted: set[str] = field(default_factory=set)  # articles whose outlet, title or date it names
    order: str | None = None  # "newest" or "earliest": the question asks for it
    timings: dict[str, float] = field(default_factory=dict)  # seconds per step


@dataclass
class Retrieval:
    passages: list[Passage]
    info: QuestionInfo
    timings: dict[str, float] = field(default_factory=dict)
    period: Period | None = None  # the stretch of days the question names
    # For a strict period: whether any article was published in it (and so the search
    # kept to them); None for none or a ranking-only one.
    period_searched: bool | None = None
    order: str | None = None  # "newest" or "earliest": the question asks for it


def allowed_articles(catalog: Catalog, filters: Filters) -> set[str] | None:
    """Article ids that pass the explicit filters (None: no filter)."""
    if filters.is_empty():
        return None
    keep: set[str] | None = None
    if filters.sources:
        keep = catalog.from_sources(filters.sources)
    if filters.article_ids:
        ids = {a for a in filters.article_ids if a in catalog.articles}
        keep = ids if keep is None else keep & ids
    if filters.since or filters.until:
        dated = catalog.published_between(filters.since, filters.until)
        keep = dated if keep is None else keep & dated
    return keep if keep is not None else set(catalog.articles)


def question_of(
    text: str,
    catalog: Catalog,
    *,
    vector: np.ndarray | None = None,
    filters: Filters | None = None,
    candidates: int | None = None,
) -> Question:
    """The :class:`Question` of ``text``: its kind and the outlets, titles and dates it
    names (:func:`rag.ask.query.analyse`), the articles the ``filters`` and a strict period
    leave, and the articles to boost. Dates given as filters win over the question's."""
    settings = catalog.settings
    filters = filters or Filters()
    info = analyse(text, catalog.mentions)
    allowed = allowed_articles(catalog, filters)
    period: Period | None = None
    searched: bool | None = None
    in_period: set[str] = set()
    if not (filters.since or filters.until):
        period = period_in(text, filters.as_of or settings.as_of or date.today())
    if period is not None:
        in_period = catalog.published_between(period.since, period.until)
        if allowed is not None:
            in_period &= allowed
        if period.strict:
            searched = bool(in_period)
    if searched:
        allowed = in_period
    boosted = set(info.title_articles) | catalog.from_sources(info.sources)
    for mention in info.dates:
        boosted |= catalog.published_on(mention)
    if period is not None and not period.strict:
        boosted |= in_period
    return Question(
        text=text,
        vector=vector,
        filters=filters,
        allowed=allowed,
        candidates=candidates or settings.retrieval_candidates,
        info=info,
        period=period,
        period_searched=searched,
        boosted=boosted,
        order=order_in(text),
    )


class DenseStep:
    """The chunks nearest to a vector in Chroma; scores are cosines."""

    def __init__(self, store: ChunkStore, catalog: Catalog) -> None:
        self.store = store
        self.catalog = catalog

    def search(self, vector: np.ndarray, n: int, allowed: set[str] | None) -> Hits:
        """The ``n`` nearest chunks of the ``allowed`` articles (None: of all).

        Chroma filters by article id with an ``$in`` list, which costs more than the
        search itself on a large index (81 ms against 14 ms at 100k chunks). So when
        the filter keeps a good share of the articles, more neighbours are fetched
        unfiltered and the others dropped; the list is the fallback.
        """
        if allowed is None:
            return self.store.query_ids(vector, n)
        share = len(allowed) / max(1, len(self.catalog.articles))
        if share >= OVERFETCH_MIN_SHARE:
            k = min(OVERFETCH_MAX, math.ceil(n / share * 1.2))
            found = self.store.query_ids(vector, k)
            kept = [hit for hit in found if article_of(hit[0]) in allowed]
            if len(kept) >= n // 2 or len(found) < k:  # enough, or the whole collection
                return kept[:n]
        return self.store.query_ids(vector, n, {"article_id": {"$in": sorted(allowed)}})


class LexicalStep:
    """BM25's best chunks for the question's words (:class:`rag.indexing.lexical.LexicalIndex`: the
    index ``rag index`` builds, reloaded when a build swaps it in: a search never mixes
    two builds); scores are BM25 scores."""

    def __init__(self, index: LexicalIndex) -> None:
        self.index = index

    def search(self, text: str, n: int, allowed: set[str] | None) -> Hits:
        return self.index.search(text, n, allowed)


class FusionStep:
    """One score per chunk from the dense and BM25 scores.

    ``mode="weighted"``: ``dense_weight`` × cosine + (1 − ``dense_weight``) × BM25 / best
    BM25; ``mode="rrf"``: reciprocal rank fusion (each ranking adds 1 / (``rrf_k`` +
    rank), ranks from 1). A side whose weight is 0 is not searched.
    """

    def __init__(
        self,
        dense_weight: float = 0.3,
        mode: Literal["weighted", "rrf"] = "weighted",
        rrf_k: int = 60,
    ) -> None:
        self.dense_weight = dense_weight
        self.mode = mode
        self.rrf_k = rrf_k

    @property
    def uses_dense(self) -> bool:
        return self.dense_weight > 0

    @property
    def uses_lexical(self) -> bool:
        return self.dense_weight < 1

    def fuse(self, dense: dict[str, float], lexical: dict[str, float]) -> dict[str, float]:
        w = self.dense_weight
        if self.mode == "rrf":
            rankings = [
                sorted(d, key=d.__getitem__, reverse=True)
                for d, weight in ((dense, w), (lexical, 1 - w))
                if d and weight > 0
            ]
            scores: dict[str, float] = {}
            for ranking in rankings:
                for rank, cid in enumerate(ranking):
                    scores[cid] = scores.get(cid, 0.0) + 1.0 / (self.rrf_k + rank + 1)
            return scores
        top = max(lexical.values(), default=0.0) or 1.0
        ids = set(dense) | set(lexical)
        return {c: w * dense.get(c, 0.0) + (1 - w) * lexical.get(c, 0.0) / top for c in ids}


class MetadataBoostStep:
    """Chunks of the articles the question points at — by outlet ("the Guardian
    article"), title, publication date, or a ranking-only period ("in October") — score
    (1 + ``boost``) times more."""

    def __init__(self, boost: float = 1.0) -> None:
        self.boost = boost

    def apply(self, scores: dict[str, float], boosted: set[str]) -> dict[str, float]:
        """``scores`` (by chunk id) with the ``boosted`` articles' chunks multiplied, in place."""
        factor = 1 + self.boost
        for cid in scores:
            if article_of(cid) in boosted:
                scores[cid] *= factor
        return scores


class DuplicateCollapseStep:
    """Passages of one duplicate cluster that say the same thing (chunk cosine ≥
    ``threshold``; 1 or more turns it off) appear once.

    The group takes the best score; the passage shown is the canonical article's (the
    original report) when it is in the group — unless the question named the copy's
    outlet, title or date and not the original's — else the best-scoring one. The
    others become "also reported by" links. A copy's passages that say something else
    are kept.
    """

    def __init__(self, catalog: Catalog, store: ChunkStore, threshold: float = 0.85) -> None:
        self.catalog = catalog
        self.store = store
        self.threshold = threshold

    def apply(self, passages: list[Passage], boosted: set[str]) -> list[Passage]:
        if self.threshold >= 1 or not passages:
            return passages
        by_cluster: dict[str, list[int]] = {}
        for i, p in enumerate(passages):
            by_cluster.setdefault(p.cluster, []).append(i)
        groups = [
            idx for idx in by_cluster.values() if len({passages[i].article_id for i in idx}) > 1
        ]
        if not groups:
            return passages
        passages = list(passages)
        ids = [passages[i].chunk_id for idx in groups for i in idx]
        vectors = dict(zip(ids, self.store.vectors(ids), strict=True))
        dropped: set[int] = set()
        for idx in groups:
            for pos, i in enumerate(idx):
                if i in dropped:
                    continue
                for j in idx[pos + 1 :]:
                    if j in dropped or passages[j].article_id == passages[i].article_id:
                        continue
                    similarity = float(
                        vectors[passages[i].chunk_id] @ vectors[passages[j].chunk_id]
                    )
                    if similarity >= self.threshold:
                        passages[i].also_reported_by.append(
                            passages[j].ref() | {"similarity": round(similarity, 3)}
                        )
                        dropped.add(j)
        for i, p in enumerate(passages):
            if i in dropped or not p.also_reported_by or p.article_id == p.cluster:
                continue
            canonical = next((r for r in p.also_reported_by if r["article_id"] == p.cluster), None)
            if canonical is not None and not (p.boosted and p.cluster not in boosted):
                original = self.catalog.passage(canonical["chunk_id"], p.score, None, None)
                original.boosted = p.boosted
                original.also_reported_by = [
                    r for r in p.also_reported_by if r is not canonical
                ] + [p.ref() | {"similarity": canonical["similarity"]}]
                passages[i] = original
        return [p for i, p in enumerate(passages) if i not in dropped]


def take_turns(passages: list[Passage], outlets: list[set[str]]) -> list[Passage]:
    """Each named outlet's passages (``outlets``: each one's article ids) take turns at the
    top, outlets in the order of their best passage; passages of other outlets follow,
    in order."""
    queues: dict[int, list[Passage]] = {}
    rest: list[Passage] = []
    for p in passages:
        named = next((i for i, ids in enumerate(outlets) if p.article_id in ids), None)
        if named is None:
            rest.append(p)
        else:
            queues.setdefault(named, []).append(p)
    turns: list[Passage] = []
    while any(queues.values()):
        for queue in queues.values():
            if queue:
                turns.append(queue.pop(0))
    return turns + rest


class OutletTurnsStep:
    """When the question names several outlets, each one's best passages take turns at the top.

    "Did the Guardian article … while the Sporting News article …" needs both
    articles; otherwise the outlet with more matching articles fills the top. An
    outlet with no passage among them is searched on its own with ``search`` (a
    :class:`Question` kept to its articles and the filters, and ``n`` → its ``n`` best
    passages, best first; ``n`` is ``per_outlet``).
    """

    def __init__(
        self,
        catalog: Catalog,
        search: Callable[[Question, int], list[Passage]],
        per_outlet: int = OUTLET_PASSAGES,
    ) -> None:
        self.catalog = catalog
        self.search = search
        self.per_outlet = per_outlet

    def apply(self, question: Question, passages: list[Passage]) -> list[Passage]:
        if len(question.info.sources) < 2:
            return passages
        began = time.perf_counter()
        outlets = [self.catalog.from_sources([source]) for source in question.info.sources]
        extra = self.missing(question, outlets, passages)
        for p in extra:
            p.boosted = p.article_id in question.boosted
        question.timings["outlets"] = time.perf_counter() - began
        return take_turns(passages + extra, outlets)

    def missing(
        self, question: Question, outlets: list[set[str]], passages: list[Passage]
    ) -> list[Passage]:
        """The best passages of each named outlet the ``passages`` leave out. One search
        per missing outlet, within its articles (and the filters)."""
        have = {p.article_id for p in passages}
        found: list[Passage] = []
        for ids in outlets:
            wanted = ids if question.allowed is None else ids & question.allowed
            if not wanted or wanted & have:
                continue
            within = replace(question, allowed=wanted, candidates=self.per_outlet * 4, timings={})
            found += self.search(within, self.per_outlet)
        return found


class DateOrderStep:
    """ "Latest on X?", "What's new with X?" put the relevant passages (scoring at least
    :data:`ORDER_SHARE` of the best) newest first, "the first reports about X" earliest
    first (:func:`rag.ask.periods.order_in`); undated ones follow them, then the rest as
    ranked. Other questions keep their order."""

    def apply(self, order: str | None, passages: list[Passage]) -> list[Passage]:
        if order is None or not passages:
            return passages
        best = max(p.score for p in passages)
        relevant = [p for p in passages if p.score >= ORDER_SHARE * best]
        dated = sorted((p for p in relevant if p.published_at), key=lambda p: p.published_at or "")
        if order == "newest":
            dated.reverse()
        kept = {id(p) for p in dated}
        return dated + [p for p in passages if id(p) not in kept]


def by_date(passages: list[Passage], newest: bool) -> list[Passage]:
    """:class:`DateOrderStep` for an order given as a flag."""
    return DateOrderStep().apply("newest" if newest else "earliest", passages)


class Retriever:
    """The product's retrieval: the steps above, in order, on plain dicts and passages.

    ``retrieve(question, vector, k, filters)`` → :class:`Retrieval` (the ``k`` best
    passages, what the question named, each step's seconds).
    """

    def __init__(self, settings: Settings, store: ChunkStore, catalog: Catalog) -> None:
        s = settings
        self.settings = s
        self.store = store
        self.catalog = catalog
        self.dense = DenseStep(store, catalog)
        self.lexical = LexicalStep(LexicalIndex(s.index_dir / s.collection_name))
        self.fusion = FusionStep(s.dense_weight, s.fusion, s.rrf_k)
        self.boost = MetadataBoostStep(s.metadata_boost)
        self.collapse = DuplicateCollapseStep(catalog, store, s.collapse_threshold)
        self.turns = OutletTurnsStep(catalog, self.within)
        self.date_order = DateOrderStep()
        self._store_generation: int | None = None
        self._reopen_lock = threading.Lock()

    def question(
        self, text: str, vector: np.ndarray | None, k: int, filters: Filters | None = None
    ) -> Question:
        """``text`` analysed over the index as it is now (its ``analyse`` time recorded)."""
        began = time.perf_counter()
        self.catalog.refresh()
        self.follow_index()
        question = question_of(
            text,
            self.catalog,
            vector=vector,
            filters=filters,
            candidates=max(self.settings.retrieval_candidates, k),
        )
        question.timings["analyse"] = time.perf_counter() - began
        return question

    def retrieve(
        self, question: str, vector: np.ndarray, k: int, filters: Filters | None = None
    ) -> Retrieval:
        q = self.question(question, vector, k, filters)
        timings = q.timings
        if q.allowed is not None and not q.allowed:
            return Retrieval([], q.info, timings, q.period, q.period_searched)
        dense, lexical, fused = self.scores(q)
        began = time.perf_counter()
        fused = self.boost.apply(fused, q.boosted)
        ranked = sorted(fused, key=fused.__getitem__, reverse=True)
        cut = max(3 * k, k + 10)
        passages = self.passages(ranked, fused, dense, lexical, cut)
        for p in passages:
            p.boosted = p.article_id in q.boosted
        timings["fuse"] = time.perf_counter() - began
        if self.collapse.threshold < 1 and passages:
            began = time.perf_counter()
            passages = self.collapse.apply(passages, q.boosted)
            timings["collapse"] = time.perf_counter() - began
        passages = self.turns.apply(q, passages)
        passages = self.date_order.apply(q.order, passages)
        return Retrieval(passages[:k], q.info, timings, q.period, q.period_searched, q.order)

    def scores(self, q: Question) -> tuple[dict[str, float], dict[str, float], dict[str, float]]:
        """The dense, BM25 and fused scores of ``q``'s candidates (each search timed)."""
        dense: dict[str, float] = {}
        if self.fusion.uses_dense and q.vector is not None:
            began = time.perf_counter()
            dense = dict(self.dense.search(q.vector, q.candidates, q.allowed))
            q.timings["dense"] = time.perf_counter() - began
        lexical: dict[str, float] = {}
        if self.fusion.uses_lexical:
            began = time.perf_counter()
            lexical = dict(self.lexical.search(q.text, q.candidates, q.allowed))
            q.timings["lexical"] = time.perf_counter() - began
        return dense, lexical, self.fusion.fuse(dense, lexical)

    def within(self, q: Question, n: int) -> list[Passage]:
        """The ``n`` best of ``q``'s candidates, fused, unboosted, as passages (the search
        of :class:`OutletTurnsStep`)."""
        dense, lexical, fused = self.scores(q)
        ranked = sorted(fused, key=fused.__getitem__, reverse=True)
        return self.passages(ranked, fused, dense, lexical, n)

    def passages(
        self,
        ranked: list[str],
        fused: dict[str, float],
        dense: dict[str, float],
        lexical: dict[str, float],
        n: int,
    ) -> list[Passage]:
        """The first ``n`` of the ``ranked`` chunks still in the index (one being rebuilt
        may hold chunks the catalog has not recorded yet), with their scores."""
        found: list[Passage] = []
        for cid in ranked:
            if len(found) == n:
                break
            if self.catalog.has_chunk(cid):
                found.append(
                    self.catalog.passage(cid, fused[cid], dense.get(cid), lexical.get(cid))
                )
        return found

    def follow_index(self) -> None:
        """Reopen the store once after each finished ``rag index`` run (the catalog moved on),
        so chunks another process wrote are searchable (see :meth:`ChunkStore.reopen`)."""
        generation = self.catalog.generation
        if generation == self._store_generation:
            return
        with self._reopen_lock:
            if generation != self._store_generation:
                if self._store_generation is not None:
                    self.store.reopen()
                self._store_generation = generation
