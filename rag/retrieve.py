"""Hybrid retrieval for news, built from llama-index parts: :class:`NewsdeskRetriever`.

    question ─► NewsQuery (what it names, filters, period)
        DenseRetriever (Chroma) ─┐
                                 ├─ FusionRetriever (weighted or RRF)
        LexicalRetriever (BM25) ─┘
        ─► MetadataBoost ─► cut to the candidates ─► DuplicateCollapse ─► OutletTurns
        ─► DateOrder ─► top k

The retrievers are ``BaseRetriever`` subclasses (:mod:`rag.retrievers`), the steps
after fusion ``BaseNodePostprocessor`` subclasses (:mod:`rag.postprocessors`), and
``NewsdeskRetriever`` is itself a ``BaseRetriever``: a llama-index program can use it
as any retriever (``RetrieverQueryEngine(retriever, ...)``), or take the parts. The
product calls :meth:`NewsdeskRetriever.search`, which also reports what the question
named and each stage's time. Each stage can be switched off or re-weighted in the
settings, so the eval harness can measure what each one buys.
"""

from __future__ import annotations

import copy
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from llama_index.core.base.base_retriever import BaseRetriever
from llama_index.core.schema import NodeWithScore, QueryBundle

from rag.catalog import Catalog
from rag.lexical import LexicalIndex
from rag.nodes import NewsQuery, news_query, passage_of, score_of
from rag.periods import Period
from rag.postprocessors import DateOrder, DuplicateCollapse, MetadataBoost, OutletTurns
from rag.query import QuestionInfo
from rag.results import Filters, Passage
from rag.retrievers import DenseRetriever, FusionRetriever, LexicalRetriever
from rag.settings import Settings
from rag.store import ChunkStore

if TYPE_CHECKING:
    from rag.embed import Embedder


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
    nodes: list[NodeWithScore] = field(default_factory=list)  # the passages as llama-index nodes


class NewsdeskRetriever(BaseRetriever):
    """Dense + BM25 retrieval with the news steps, as one llama-index retriever.

    ``retrieve("question")`` returns the best ``similarity_top_k`` chunks (default
    ``top_k`` setting) of the articles the ``filters`` keep, as nodes whose metadata
    gives the article id, character offsets, outlet, date and duplicate cluster
    (:mod:`rag.nodes`). Parts not given are built from the settings; ``embedder``
    embeds questions that come without a vector.

    >>> retriever = NewsdeskRetriever(settings)                       # doctest: +SKIP
    >>> [n.node.metadata["source"] for n in retriever.retrieve("Who met Raimondo?")]
    """

    def __init__(
        self,
        settings: Settings,
        store: ChunkStore | None = None,
        catalog: Catalog | None = None,
        embedder: Embedder | None = None,
        *,
        similarity_top_k: int | None = None,
        filters: Filters | None = None,
    ) -> None:
        super().__init__()
        s = settings
        self.settings = s
        self.store = store or ChunkStore(s)
        self.catalog = catalog or Catalog(s)
        self.similarity_top_k = similarity_top_k or s.top_k
        self.filters = filters
        self.dense = DenseRetriever(self.store, self.catalog, embedder)
        self.lexical = LexicalRetriever(LexicalIndex(s.index_dir / s.collection_name), self.catalog)
        self.fusion = FusionRetriever(
            self.dense, self.lexical, dense_weight=s.dense_weight, mode=s.fusion, rrf_k=s.rrf_k
        )
        self.boost = MetadataBoost(self.catalog, s.metadata_boost)
        self.collapse = DuplicateCollapse(self.catalog, self.store, s.collapse_threshold)
        self.turns = OutletTurns(self.catalog, self.fusion)
        self.date_order = DateOrder()
        self._store_generation: int | None = None
        self._reopen_lock = threading.Lock()

    def configured(self, k: int | None = None, filters: Filters | None = None) -> NewsdeskRetriever:
        """This retriever (sharing its parts) returning ``k`` nodes under ``filters``."""
        other = copy.copy(self)
        other.similarity_top_k = k or self.similarity_top_k
        other.filters = filters
        return other

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        vector = self.dense.vector(query_bundle)
        return self.search(
            query_bundle.query_str, vector, self.similarity_top_k, self.filters
        ).nodes

    def search(
        self, question: str, vector: np.ndarray, k: int, filters: Filters | None = None
    ) -> Retrieval:
        """The ``k`` best passages for ``question`` (embedded as ``vector``) and what the
        question named: the product's call."""
        began = time.perf_counter()
        self.catalog.refresh()
        self._follow_index()
        query = news_query(
            question,
            self.catalog,
            vector=vector,
            filters=filters,
            candidates=max(self.settings.retrieval_candidates, k),
        )
        timings = query.timings
        timings["analyse"] = time.perf_counter() - began
        if query.allowed is not None and not query.allowed:
            return Retrieval([], query.info, timings, query.period, query.period_searched)
        nodes = self.fusion.retrieve(query)
        began = time.perf_counter()
        nodes = self.boost.postprocess_nodes(nodes, query)[: max(3 * k, k + 10)]
        for n in nodes:
            n.score = round(score_of(n), 6)  # a passage's precision, from here on
        timings["fuse"] = timings.get("fuse", 0.0) + time.perf_counter() - began
        if self.collapse.threshold < 1 and nodes:
            began = time.perf_counter()
            nodes = self.collapse.postprocess_nodes(nodes, query)
            timings["collapse"] = time.perf_counter() - began
        nodes = self.turns.postprocess_nodes(nodes, query)
        nodes = self.date_order.postprocess_nodes(nodes, query)[:k]
        return Retrieval(
            [passage_of(n) for n in nodes],
            query.info,
            timings,
            query.period,
            query.period_searched,
            query.order,
            nodes,
        )

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


__all__ = ["NewsQuery", "NewsdeskRetriever", "Retrieval"]
