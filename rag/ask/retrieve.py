"""Hybrid retrieval: dense (Chroma) + lexical (BM25), fused, boosted by metadata, de-duplicated.

Each stage can be switched off or re-weighted in the settings, so the eval
harness can measure what each one buys:

    dense ─┐
           ├─ fuse (weighted or RRF) ─ metadata boost ─ near-duplicate collapse
    BM25 ──┘      ─ named outlets take turns ─ top k
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, field
from datetime import date

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


def by_date(passages: list[Passage], newest: bool) -> list[Passage]:
    """The relevant passages (scoring at least :data:`ORDER_SHARE` of the best) newest
    (or earliest) first, undated ones after them, then the rest as ranked."""
    if not passages:
        return passages
    best = max(p.score for p in passages)
    relevant = [p for p in passages if p.score >= ORDER_SHARE * best]
    dated = sorted((p for p in relevant if p.published_at), key=lambda p: p.published_at or "")
    if newest:
        dated.reverse()
    kept = {id(p) for p in dated}
    return dated + [p for p in passages if id(p) not in kept]


def _rrf(rankings: list[list[str]], k: int) -> dict[str, float]:
    scores: dict[str, float] = {}
    for ranking in rankings:
        for rank, cid in enumerate(ranking):
            scores[cid] = scores.get(cid, 0.0) + 1.0 / (k + rank + 1)
    return scores


def _weighted(dense: dict[str, float], lexical: dict[str, float], w: float) -> dict[str, float]:
    top = max(lexical.values(), default=0.0) or 1.0
    ids = set(dense) | set(lexical)
    return {c: w * dense.get(c, 0.0) + (1 - w) * lexical.get(c, 0.0) / top for c in ids}


def _take_turns(passages: list[Passage], outlets: list[set[str]]) -> list[Passage]:
    """When a question names several outlets, each one's best passages take turns at the top.

    "Did the Guardian article … while the Sporting News article …" needs both
    articles; otherwise the outlet with more matching articles fills the top.
    ``outlets`` holds each named outlet's article ids. Passages from outlets the
    question does not name follow, in order.
    """
    queues: dict[int, list[Passage]] = {}  # outlets in the order of their best passage
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


# Passages fetched for a named outlet the search left out (see Retriever._named_outlets).
OUTLET_PASSAGES = 3
# Filters keeping at least this share of the articles are applied to an unfiltered
# search of up to OVERFETCH_MAX neighbours (see Retriever._dense).
OVERFETCH_MIN_SHARE = 0.1
OVERFETCH_MAX = 1000


class Retriever:
    def __init__(self, settings: Settings, store: ChunkStore, catalog: Catalog) -> None:
        self.settings = settings
        self.store = store
        self.catalog = catalog
        self.lexical = LexicalIndex(settings.index_dir / settings.collection_name)
        self._store_generation: int | None = None
        self._reopen_lock = threading.Lock()

    def allowed(self, filters: Filters) -> set[str] | None:
        """Article ids that pass the explicit filters (None: no filter)."""
        if filters.is_empty():
            return None
        keep: set[str] | None = None
        if filters.sources:
            keep = self.catalog.from_sources(filters.sources)
        if filters.article_ids:
            ids = {a for a in filters.article_ids if a in self.catalog.articles}
            keep = ids if keep is None else keep & ids
        if filters.since or filters.until:
            dated = self.catalog.published_between(filters.since, filters.until)
            keep = dated if keep is None else keep & dated
        return keep if keep is not None else set(self.catalog.articles)

    def _dense(
        self, vector: np.ndarray, n: int, allowed: set[str] | None
    ) -> list[tuple[str, float]]:
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

    def retrieve(
        self, question: str, vector: np.ndarray, k: int, filters: Filters | None = None
    ) -> Retrieval:
        s = self.settings
        timings: dict[str, float] = {}
        began = time.perf_counter()
        self.catalog.refresh()
        self._follow_index()
        info = analyse(question, self.catalog.mentions)
        filters = filters or Filters()
        allowed = self.allowed(filters)
        period, searched, in_period = self._period(question, filters, allowed)
        if searched:
            allowed = in_period
        timings["analyse"] = time.perf_counter() - began
        n = max(s.retrieval_candidates, k)
        if allowed is not None and not allowed:
            return Retrieval([], info, timings, period, searched)

        dense: dict[str, float] = {}
        if s.dense_weight > 0:
            began = time.perf_counter()
            dense = dict(self._dense(vector, n, allowed))
            timings["dense"] = time.perf_counter() - began
        lexical: dict[str, float] = {}
        if s.dense_weight < 1:
            began = time.perf_counter()
            lexical = dict(self.lexical.search(question, n, allowed))
            timings["lexical"] = time.perf_counter() - began

        began = time.perf_counter()
        fused = self._fuse(dense, lexical)
        boosted = self._boosted_articles(info)
        if period is not None and not period.strict:
            boosted |= in_period
        for cid in fused:
            if article_of(cid) in boosted:
                fused[cid] *= 1 + s.metadata_boost
        ranked = sorted(fused, key=fused.__getitem__, reverse=True)[: max(3 * k, k + 10)]
        passages = self._passages(ranked, fused, dense, lexical)
        for p in passages:
            p.boosted = p.article_id in boosted
        timings["fuse"] = time.perf_counter() - began
        if s.collapse_threshold < 1 and passages:
            began = time.perf_counter()
            passages = self._collapse(passages, boosted)
            timings["collapse"] = time.perf_counter() - began
        if len(info.sources) > 1:
            outlets = [self.catalog.from_sources([source]) for source in info.sources]
            began = time.perf_counter()
            extra = self._named_outlets(question, vector, outlets, passages, allowed)
            for p in extra:
                p.boosted = p.article_id in boosted
            passages += extra
            timings["outlets"] = time.perf_counter() - began
            passages = _take_turns(passages, outlets)
        order = order_in(question)
        if order is not None:
            passages = by_date(passages, newest=order == "newest")
        return Retrieval(passages[:k], info, timings, period, searched, order)

    def _period(
        self, question: str, filters: Filters, allowed: set[str] | None
    ) -> tuple[Period | None, bool | None, set[str]]:
        """The days the question names (:mod:`rag.ask.periods`), whether a strict one holds
        any of the ``allowed`` articles, and the articles published in it. Dates the
        user gave as filters take precedence over the question's."""
        if filters.since or filters.until:
            return None, None, set()
        today = filters.as_of or self.settings.as_of or date.today()
        period = period_in(question, today)
        if period is None:
            return None, None, set()
        dated = self.catalog.published_between(period.since, period.until)
        if allowed is not None:
            dated &= allowed
        return period, (bool(dated) if period.strict else None), dated

    def _named_outlets(
        self,
        question: str,
        vector: np.ndarray,
        outlets: list[set[str]],
        passages: list[Passage],
        allowed: set[str] | None,
    ) -> list[Passage]:
        """The best passages of each outlet the question names that the search left out:
        "Did the Sporting News article … as The Verge article …" needs a Sporting News
        passage even when The Verge's fill the candidates. One search per missing outlet,
        within its articles (and the filters)."""
        have = {p.article_id for p in passages}
        found: list[Passage] = []
        for ids in outlets:
            wanted = ids if allowed is None else ids & allowed
            if not wanted or wanted & have:
                continue
            n = OUTLET_PASSAGES * 4
            dense = dict(self._dense(vector, n, wanted)) if self.settings.dense_weight > 0 else {}
            lexical = (
                dict(self.lexical.search(question, n, wanted))
                if self.settings.dense_weight < 1
                else {}
            )
            fused = self._fuse(dense, lexical)
            best = sorted(fused, key=fused.__getitem__, reverse=True)[:OUTLET_PASSAGES]
            found += self._passages(best, fused, dense, lexical)
        return found

    def _fuse(self, dense: dict[str, float], lexical: dict[str, float]) -> dict[str, float]:
        """One score per chunk from the dense and BM25 rankings (``fusion`` setting)."""
        s = self.settings
        if s.fusion == "rrf":
            rankings = [
                sorted(d, key=d.__getitem__, reverse=True)
                for d, w in ((dense, s.dense_weight), (lexical, 1 - s.dense_weight))
                if d and w > 0
            ]
            return _rrf(rankings, s.rrf_k)
        return _weighted(dense, lexical, s.dense_weight)

    def _passages(
        self,
        ids: list[str],
        fused: dict[str, float],
        dense: dict[str, float],
        lexical: dict[str, float],
    ) -> list[Passage]:
        """The passages of chunk ``ids`` still in the index, with their scores."""
        return [
            self.catalog.passage(cid, fused[cid], dense.get(cid), lexical.get(cid))
            for cid in ids
            if self.catalog.has_chunk(cid)
        ]

    def _follow_index(self) -> None:
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

    def _boosted_articles(self, info: QuestionInfo) -> set[str]:
        boosted: set[str] = set(info.title_articles)
        boosted |= self.catalog.from_sources(info.sources)
        for mention in info.dates:
            boosted |= self.catalog.published_on(mention)
        return boosted

    def _collapse(self, passages: list[Passage], boosted: set[str]) -> list[Passage]:
        """Passages of one duplicate cluster that say the same thing appear once.

        The group takes the best score; the passage shown is the canonical
        article's (the original report) when it is in the group — unless the
        question named the copy's outlet, title or date and not the original's —
        else the best-scoring one. The others become "also reported by" links. A copy's
        passages that say something else are kept.
        """
        by_cluster: dict[str, list[int]] = {}
        for i, p in enumerate(passages):
            by_cluster.setdefault(p.cluster, []).append(i)
        groups = [
            idx for idx in by_cluster.values() if len({passages[i].article_id for i in idx}) > 1
        ]
        if not groups:
            return passages
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
                    if similarity >= self.settings.collapse_threshold:
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
