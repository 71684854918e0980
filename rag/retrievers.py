"""The two searches and their fusion, as llama-index retrievers (``BaseRetriever``).

    DenseRetriever    Chroma's nearest chunks to the question's vector (cosine)
    LexicalRetriever  BM25 over the same chunks (:class:`rag.lexical.LexicalIndex`: the
                      incremental index ``rag index`` swaps in atomically; read as it is)
    FusionRetriever   one score per chunk from both: weighted (default) or reciprocal rank

Each returns :func:`rag.nodes.node_of` nodes, best first. Handed a
:class:`~rag.nodes.NewsQuery` they keep to its ``allowed`` articles and return its
``candidates``; handed a plain ``QueryBundle`` (a llama-index user's), all articles
and ``similarity_top_k``.

Why not llama-index's ``QueryFusionRetriever``: on MultiHop-RAG dev it ties with the
weighted fusion (issue 16), and the product's answers stay those of this one: its
relative-score mode min-max scales the dense scores too, and its RRF counts ranks
from ``k`` instead of ``k + 1``. It takes these retrievers as they are, for anyone who
wants it: ``QueryFusionRetriever([dense, lexical], mode="relative_score",
retriever_weights=[0.3, 0.7], num_queries=1, use_async=False, llm=MockLLM())`` (an
LLM it never calls with one query; without one it looks for an OpenAI key).
"""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING, Literal

import numpy as np
from llama_index.core.base.base_retriever import BaseRetriever
from llama_index.core.schema import NodeWithScore, QueryBundle

from rag.chunk import article_of
from rag.nodes import NewsNode, NewsQuery, text_node

if TYPE_CHECKING:
    from rag.catalog import Catalog
    from rag.embed import Embedder
    from rag.lexical import LexicalIndex
    from rag.store import ChunkStore

# Filters keeping at least this share of the articles are applied to an unfiltered
# search of up to OVERFETCH_MAX neighbours (see DenseRetriever.search).
OVERFETCH_MIN_SHARE = 0.1
OVERFETCH_MAX = 1000
DEFAULT_TOP_K = 10


def _scope(query: QueryBundle, top_k: int) -> tuple[set[str] | None, int]:
    """The articles to search and how many chunks to return."""
    if isinstance(query, NewsQuery):
        return query.allowed, query.candidates
    return None, top_k


def _timed(query: QueryBundle, stage: str, began: float) -> None:
    if isinstance(query, NewsQuery):
        query.timings[stage] = query.timings.get(stage, 0.0) + time.perf_counter() - began


class DenseRetriever(BaseRetriever):
    """The chunks nearest to the question's vector in Chroma; node scores are cosines.

    The vector is the :class:`NewsQuery`'s, else the bundle's ``embedding``, else the
    question embedded with ``embedder`` (the bundled model unless given).
    """

    def __init__(
        self,
        store: ChunkStore,
        catalog: Catalog,
        embedder: Embedder | None = None,
        similarity_top_k: int = DEFAULT_TOP_K,
    ) -> None:
        super().__init__()
        self.store = store
        self.catalog = catalog
        self.embedder = embedder
        self.similarity_top_k = similarity_top_k

    def vector(self, query: QueryBundle) -> np.ndarray:
        if isinstance(query, NewsQuery) and query.vector is not None:
            return query.vector
        if query.embedding is not None:
            return np.asarray(query.embedding, dtype=np.float32)
        if self.embedder is None:
            from rag.embed import Embedder

            self.embedder = Embedder(self.catalog.settings)
        vector: np.ndarray = self.embedder.embed([query.query_str])[0]
        return vector

    def search(
        self, vector: np.ndarray, n: int, allowed: set[str] | None
    ) -> list[tuple[str, float]]:
        """The ``n`` nearest chunk ids of the ``allowed`` articles (None: of all), with
        their cosines.

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

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        began = time.perf_counter()
        if not isinstance(query_bundle, NewsQuery):
            self.catalog.refresh()
        allowed, n = _scope(query_bundle, self.similarity_top_k)
        hits = self.search(self.vector(query_bundle), n, allowed)
        nodes = _nodes(self.catalog, hits, "dense")
        _timed(query_bundle, "dense", began)
        return nodes


class LexicalRetriever(BaseRetriever):
    """BM25's best chunks for the question's words; node scores are BM25 scores.

    Reads the index ``rag index`` builds (:class:`rag.lexical.LexicalIndex`), reloading
    it when a build swaps the pointer: a search never mixes two builds.
    """

    def __init__(
        self, index: LexicalIndex, catalog: Catalog, similarity_top_k: int = DEFAULT_TOP_K
    ) -> None:
        super().__init__()
        self.index = index
        self.catalog = catalog
        self.similarity_top_k = similarity_top_k

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        began = time.perf_counter()
        if not isinstance(query_bundle, NewsQuery):
            self.catalog.refresh()
        allowed, n = _scope(query_bundle, self.similarity_top_k)
        hits = self.index.search(query_bundle.query_str, n, allowed)
        nodes = _nodes(self.catalog, hits, "lexical")
        _timed(query_bundle, "lexical", began)
        return nodes


def _nodes(catalog: Catalog, hits: list[tuple[str, float]], kind: str) -> list[NodeWithScore]:
    """Nodes for the ``hits`` still in the catalog (an index being rebuilt may hold chunks
    it has not recorded yet), their raw score also under ``kind`` (dense or lexical)."""
    dense = kind == "dense"
    return [
        NewsNode(
            node=text_node(catalog, cid),
            score=score,
            dense=score if dense else None,
            lexical=None if dense else score,
        )
        for cid, score in hits
        if catalog.has_chunk(cid)
    ]


def rrf(rankings: list[list[str]], k: int) -> dict[str, float]:
    """Reciprocal rank fusion: each ranking adds 1 / (k + rank), ranks from 1."""
    scores: dict[str, float] = {}
    for ranking in rankings:
        for rank, cid in enumerate(ranking):
            scores[cid] = scores.get(cid, 0.0) + 1.0 / (k + rank + 1)
    return scores


def weighted(dense: dict[str, float], lexical: dict[str, float], w: float) -> dict[str, float]:
    """``w`` × cosine + (1 − ``w``) × BM25 over the best BM25 score."""
    top = max(lexical.values(), default=0.0) or 1.0
    ids = set(dense) | set(lexical)
    return {c: w * dense.get(c, 0.0) + (1 - w) * lexical.get(c, 0.0) / top for c in ids}


class FusionRetriever(BaseRetriever):
    """The dense and BM25 retrievers' nodes under one score, best first.

    ``mode="weighted"``: ``dense_weight`` × cosine + (1 − ``dense_weight``) × BM25 / best
    BM25; ``mode="rrf"``: reciprocal rank fusion (``rrf_k``). A retriever whose weight is
    0 is not asked. Each :class:`~rag.nodes.NewsNode` keeps both scores (``dense``,
    ``lexical``: None where that search did not find the chunk). Returns every chunk
    either found: the metadata boost reorders them before the cut.
    """

    def __init__(
        self,
        dense: BaseRetriever,
        lexical: BaseRetriever,
        *,
        dense_weight: float = 0.3,
        mode: Literal["weighted", "rrf"] = "weighted",
        rrf_k: int = 60,
    ) -> None:
        super().__init__()
        self.dense = dense
        self.lexical = lexical
        self.dense_weight = dense_weight
        self.mode = mode
        self.rrf_k = rrf_k

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        w = self.dense_weight
        found = [
            retriever.retrieve(query_bundle) if weight > 0 else []
            for retriever, weight in ((self.dense, w), (self.lexical, 1 - w))
        ]
        began = time.perf_counter()
        dense, lexical = ({n.node.node_id: n.score or 0.0 for n in nodes} for nodes in found)
        if self.mode == "rrf":
            rankings = [sorted(d, key=d.__getitem__, reverse=True) for d in (dense, lexical) if d]
            fused = rrf(rankings, self.rrf_k)
        else:
            fused = weighted(dense, lexical, w)
        by_id = {n.node.node_id: n for nodes in reversed(found) for n in nodes}
        ranked: list[NodeWithScore] = [
            NewsNode(
                node=by_id[cid].node,
                score=fused[cid],
                dense=dense.get(cid),
                lexical=lexical.get(cid),
            )
            for cid in sorted(fused, key=fused.__getitem__, reverse=True)
        ]
        _timed(query_bundle, "fuse", began)
        return ranked
