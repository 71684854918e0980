"""llama-index adapters over the retrieval steps (:mod:`rag.ask.retrieve`), for llama-index code.

    DenseRetriever     BaseRetriever over DenseStep (Chroma; node scores are cosines)
    LexicalRetriever   BaseRetriever over LexicalStep (BM25 over the index ``rag index`` swaps in)
    FusionRetriever    BaseRetriever over FusionStep (weighted or RRF) of any two retrievers
    MetadataBoost      BaseNodePostprocessor over MetadataBoostStep
    DuplicateCollapse  BaseNodePostprocessor over DuplicateCollapseStep
    OutletTurns        BaseNodePostprocessor over OutletTurnsStep
    DateOrder          BaseNodePostprocessor over DateOrderStep
    NewsdeskRetriever  all of them in the product's order: the passages ``rag ask`` reads
    ExtractiveSynthesizer, query_engine  the extractive engine as a response synthesizer

Each adapter converts nodes to the step's plain shapes and back and calls the step:
one implementation of every step, so these cannot drift from the product. The
product does not run on them: importing llama-index-core costs about 3 s of CPU (its
package ``__init__`` imports all of it), and a node is a pydantic object, which
doubled warm retrieval. Import this module (or ``rag.NewsdeskRetriever``,
:meth:`rag.Pipeline.as_retriever`) only when you want llama-index.

A node's id is the chunk id (``<article id>:<chunk number>``); ``start_char_idx`` /
``end_char_idx`` are its characters in the article's cleaned text, and its metadata
carries the article (``article_id``, ``title``, ``source`` — the outlet —,
``published_at``, ``url``, ``path``, duplicate ``cluster``, ``char_start`` /
``char_end``). Each is scored as a :class:`NewsNode`, which also carries the
``dense`` and ``lexical`` scores, ``boosted`` (the question named its outlet, title
or date) and ``also_reported_by`` (the copies folded into it). Only title, outlet
and date are shown to an LLM or an embedding model.

Why not llama-index's ``QueryFusionRetriever``: on MultiHop-RAG dev it ties with the
weighted fusion (issue 16), and its relative-score mode min-max scales the dense
scores too. It takes these retrievers as they are: ``QueryFusionRetriever([dense,
lexical], mode="relative_score", retriever_weights=[0.3, 0.7], num_queries=1,
use_async=False, llm=MockLLM())`` (an LLM it never calls with one query; without
one it looks for an OpenAI key).
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from llama_index.core.base.base_retriever import BaseRetriever
from llama_index.core.base.response.schema import Response
from llama_index.core.bridge.pydantic import Field, PrivateAttr
from llama_index.core.llms import MockLLM
from llama_index.core.postprocessor.types import BaseNodePostprocessor
from llama_index.core.prompts.mixin import PromptDictType
from llama_index.core.query_engine import RetrieverQueryEngine
from llama_index.core.response_synthesizers import BaseSynthesizer
from llama_index.core.schema import NodeWithScore, QueryBundle, TextNode
from llama_index.core.types import RESPONSE_TEXT_TYPE

from rag.ask.extractive import NOT_FOUND, ExtractiveEngine
from rag.ask.periods import order_in
from rag.ask.query import analyse
from rag.ask.results import EngineResult, Filters, Passage
from rag.ask.retrieve import (
    OUTLET_PASSAGES,
    DateOrderStep,
    DenseStep,
    DuplicateCollapseStep,
    FusionStep,
    Hits,
    LexicalStep,
    MetadataBoostStep,
    OutletTurnsStep,
    Question,
    Retriever,
    question_of,
)
from rag.catalog import Catalog
from rag.indexing.store import ChunkStore
from rag.settings import Settings

if TYPE_CHECKING:
    from rag.indexing.embed import Embedder
    from rag.indexing.lexical import LexicalIndex

DEFAULT_TOP_K = 10
# What an LLM or an embedding model reads of a node besides its text.
SHOWN = ("title", "source", "published_at")
_HIDDEN = ["chunk_id", "article_id", "char_start", "char_end", "url", "path", "cluster"]


# --- the question and the nodes ---------------------------------------------------------


@dataclass
class NewsQuery(QueryBundle):
    """llama-index's ``QueryBundle`` carrying the analysed :class:`rag.ask.retrieve.Question`
    (vector, filters, allowed articles, period, what it names), so no stage re-analyses
    it. A stage handed a plain ``QueryBundle`` analyses it itself."""

    question: Question | None = None


def news_query(
    query: str | QueryBundle,
    catalog: Catalog,
    *,
    vector: np.ndarray | None = None,
    filters: Filters | None = None,
    candidates: int | None = None,
) -> NewsQuery:
    """``query`` as a :class:`NewsQuery` (:func:`rag.ask.retrieve.question_of`); one that is
    already a ``NewsQuery`` with its question is returned as it is."""
    if isinstance(query, NewsQuery) and query.question is not None:
        return query
    if isinstance(query, QueryBundle):
        if vector is None and query.embedding is not None:
            vector = np.asarray(query.embedding, dtype=np.float32)
        query = query.query_str
    found = question_of(query, catalog, vector=vector, filters=filters, candidates=candidates)
    return NewsQuery(query_str=query, question=found)


def _question(query: QueryBundle | None, catalog: Catalog) -> Question:
    if query is None:
        raise ValueError("this postprocessor needs the question: pass query_bundle or query_str")
    question = news_query(query, catalog).question
    assert question is not None
    return question


class NewsNode(NodeWithScore):
    """A scored node with what the search found about it: its ``dense`` and BM25
    (``lexical``) scores (None where that search did not find it), whether the question
    pointed at its article (``boosted``), and the copies folded into it
    (``also_reported_by``)."""

    dense: float | None = None
    lexical: float | None = None
    boosted: bool = False
    also_reported_by: list[dict[str, Any]] = Field(default_factory=list)


def _text_node(cid: str, text: str, start: int, end: int, metadata: dict[str, Any]) -> TextNode:
    return TextNode(
        id_=cid,
        text=text,
        start_char_idx=start,
        end_char_idx=end,
        metadata=metadata,
        excluded_llm_metadata_keys=_HIDDEN,
        excluded_embed_metadata_keys=_HIDDEN,
    )


# Each catalog's nodes, built once per chunk and index generation: a question's 200
# candidates cost 200 lookups, not 200 pydantic validations.
_NODES: weakref.WeakKeyDictionary[Catalog, tuple[int | None, dict[str, TextNode]]] = (
    weakref.WeakKeyDictionary()
)
_MAX_CACHED = 20_000  # then it starts over: a bound on memory at 100k chunks


def text_node(catalog: Catalog, chunk_id: str) -> TextNode:
    """Chunk ``chunk_id`` (in the catalog) as a node; the same object until the index changes."""
    generation, cached = _NODES.get(catalog, (None, {}))
    if generation != catalog.generation or len(cached) > _MAX_CACHED:
        cached = {}
        _NODES[catalog] = (catalog.generation, cached)
    node = cached.get(chunk_id)
    if node is None:
        p = catalog.passage(chunk_id, 0.0)
        node = cached[chunk_id] = _text_node(chunk_id, p.text, p.char_start, p.char_end, _meta(p))
    return node


def _meta(p: Passage) -> dict[str, Any]:
    return {
        "chunk_id": p.chunk_id,
        "article_id": p.article_id,
        "title": p.title,
        "source": p.source,
        "published_at": p.published_at,
        "url": p.url,
        "path": p.path,
        "cluster": p.cluster,
        "char_start": p.char_start,
        "char_end": p.char_end,
    }


def node_of(catalog: Catalog, chunk_id: str, score: float) -> NewsNode:
    """Chunk ``chunk_id`` (in the catalog) scored ``score``."""
    return NewsNode(node=text_node(catalog, chunk_id), score=score)


def node_of_passage(p: Passage) -> NewsNode:
    """A :class:`~rag.ask.results.Passage` as a node."""
    node = _text_node(p.chunk_id, p.text, p.char_start, p.char_end, _meta(p))
    return NewsNode(
        node=node,
        score=p.score,
        dense=p.dense,
        lexical=p.lexical,
        boosted=p.boosted,
        also_reported_by=list(p.also_reported_by),
    )


def news_node(node: NodeWithScore) -> NewsNode:
    """``node`` as a :class:`NewsNode` (another retriever's nodes gain its fields)."""
    if isinstance(node, NewsNode):
        return node
    return NewsNode(node=node.node, score=node.score)


def score_of(node: NodeWithScore) -> float:
    return node.score or 0.0


def passage_of(found: NodeWithScore) -> Passage:
    """The :class:`~rag.ask.results.Passage` a node of these retrievers stands for (score to 6
    places, the dense and BM25 scores to 4, as the product's passages)."""
    node = news_node(found)
    m = node.node.metadata
    dense, lexical = node.dense, node.lexical
    return Passage(
        chunk_id=m["chunk_id"],
        article_id=m["article_id"],
        text=node.node.get_content(),
        char_start=m["char_start"],
        char_end=m["char_end"],
        title=m["title"],
        source=m["source"],
        published_at=m["published_at"],
        url=m["url"],
        path=m["path"],
        cluster=m["cluster"],
        score=round(score_of(node), 6),
        dense=None if dense is None else round(dense, 4),
        lexical=None if lexical is None else round(lexical, 4),
        boosted=node.boosted,
        also_reported_by=list(node.also_reported_by),
    )


def _through(
    nodes: list[NodeWithScore], step: Callable[[list[Passage]], list[Passage]]
) -> list[NodeWithScore]:
    """``step`` run on the nodes as passages: the nodes it keeps come back (their flags and
    copies updated), the passages it brings in as new nodes."""
    found = [news_node(n) for n in nodes]
    passages = [passage_of(n) for n in found]
    by_passage = {id(p): n for p, n in zip(passages, found, strict=True)}
    out: list[NodeWithScore] = []
    for p in step(passages):
        node = by_passage.get(id(p))
        if node is None:
            out.append(node_of_passage(p))
        else:
            node.boosted = p.boosted
            node.also_reported_by = list(p.also_reported_by)
            out.append(node)
    return out


# --- the retrievers ---------------------------------------------------------------------


def _scope(query: QueryBundle, top_k: int) -> tuple[set[str] | None, int]:
    """The articles to search and how many chunks to return."""
    if isinstance(query, NewsQuery) and query.question is not None:
        return query.question.allowed, query.question.candidates
    return None, top_k


def _timed(query: QueryBundle, stage: str, began: float) -> None:
    if isinstance(query, NewsQuery) and query.question is not None:
        query.question.timings[stage] = time.perf_counter() - began


def _nodes(catalog: Catalog, hits: Hits, dense: bool) -> list[NodeWithScore]:
    """Nodes for the ``hits`` still in the catalog (an index being rebuilt may hold chunks
    it has not recorded yet), the raw score also as ``dense`` or ``lexical``."""
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


class DenseRetriever(BaseRetriever):
    """:class:`rag.ask.retrieve.DenseStep`: the chunks nearest to the question's vector.

    The vector is the :class:`NewsQuery`'s, else the bundle's ``embedding``, else the
    question embedded with ``embedder`` (the bundled model unless given). Handed a
    ``NewsQuery`` it keeps to its allowed articles and returns its candidates; handed a
    plain ``QueryBundle``, all articles and ``similarity_top_k``.
    """

    def __init__(
        self,
        store: ChunkStore,
        catalog: Catalog,
        embedder: Embedder | None = None,
        similarity_top_k: int = DEFAULT_TOP_K,
    ) -> None:
        super().__init__()
        self.step = DenseStep(store, catalog)
        self.catalog = catalog
        self.embedder = embedder
        self.similarity_top_k = similarity_top_k

    def vector(self, query: QueryBundle) -> np.ndarray:
        if isinstance(query, NewsQuery) and query.question and query.question.vector is not None:
            return query.question.vector
        if query.embedding is not None:
            return np.asarray(query.embedding, dtype=np.float32)
        if self.embedder is None:
            from rag.indexing.embed import Embedder

            self.embedder = Embedder(self.catalog.settings)
        vector: np.ndarray = self.embedder.embed([query.query_str])[0]
        return vector

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        began = time.perf_counter()
        if not isinstance(query_bundle, NewsQuery):
            self.catalog.refresh()
        allowed, n = _scope(query_bundle, self.similarity_top_k)
        nodes = _nodes(self.catalog, self.step.search(self.vector(query_bundle), n, allowed), True)
        _timed(query_bundle, "dense", began)
        return nodes


class LexicalRetriever(BaseRetriever):
    """:class:`rag.ask.retrieve.LexicalStep`: BM25's best chunks for the question's words."""

    def __init__(
        self, index: LexicalIndex, catalog: Catalog, similarity_top_k: int = DEFAULT_TOP_K
    ) -> None:
        super().__init__()
        self.step = LexicalStep(index)
        self.catalog = catalog
        self.similarity_top_k = similarity_top_k

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        began = time.perf_counter()
        if not isinstance(query_bundle, NewsQuery):
            self.catalog.refresh()
        allowed, n = _scope(query_bundle, self.similarity_top_k)
        nodes = _nodes(self.catalog, self.step.search(query_bundle.query_str, n, allowed), False)
        _timed(query_bundle, "lexical", began)
        return nodes


class FusionRetriever(BaseRetriever):
    """:class:`rag.ask.retrieve.FusionStep` over two retrievers' nodes, best first.

    Each :class:`NewsNode` keeps both scores (``dense``, ``lexical``: None where that
    retriever did not find the chunk). A retriever whose weight is 0 is not asked.
    Returns every chunk either found: the metadata boost reorders them before a cut.
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
        self.step = FusionStep(dense_weight, mode, rrf_k)

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        found = [
            retriever.retrieve(query_bundle) if used else []
            for retriever, used in (
                (self.dense, self.step.uses_dense),
                (self.lexical, self.step.uses_lexical),
            )
        ]
        began = time.perf_counter()
        dense, lexical = ({n.node.node_id: score_of(n) for n in nodes} for nodes in found)
        fused = self.step.fuse(dense, lexical)
        by_id = {n.node.node_id: n.node for nodes in reversed(found) for n in nodes}
        ranked: list[NodeWithScore] = [
            NewsNode(
                node=by_id[cid], score=fused[cid], dense=dense.get(cid), lexical=lexical.get(cid)
            )
            for cid in sorted(fused, key=fused.__getitem__, reverse=True)
        ]
        _timed(query_bundle, "fuse", began)
        return ranked


# --- the postprocessors -----------------------------------------------------------------


class MetadataBoost(BaseNodePostprocessor):
    """:class:`rag.ask.retrieve.MetadataBoostStep`: nodes of the articles the question points
    at score (1 + ``boost``) times more; all are re-ranked, and each node's ``boosted``
    says whether it was."""

    boost: float = Field(default=1.0, description="Score multiplier minus one.")
    _catalog: Any = PrivateAttr()

    def __init__(self, catalog: Catalog, boost: float = 1.0) -> None:
        super().__init__()
        self.boost = boost
        self._catalog = catalog

    @classmethod
    def class_name(cls) -> str:
        return "MetadataBoost"

    def _postprocess_nodes(
        self, nodes: list[NodeWithScore], query_bundle: QueryBundle | None = None
    ) -> list[NodeWithScore]:
        boosted = _question(query_bundle, self._catalog).boosted
        found = [news_node(n) for n in nodes]
        scores = MetadataBoostStep(self.boost).apply(
            {n.node.node_id: score_of(n) for n in found}, boosted
        )
        for n in found:
            n.score = scores[n.node.node_id]
            n.boosted = n.node.metadata["article_id"] in boosted
        return sorted(found, key=score_of, reverse=True)


class DuplicateCollapse(BaseNodePostprocessor):
    """:class:`rag.ask.retrieve.DuplicateCollapseStep`: passages of one duplicate cluster
    saying the same thing (chunk cosine ≥ ``threshold``) appear once, the original
    report's wording first, copies in ``also_reported_by``."""

    threshold: float = Field(default=0.85, description="Chunk cosine of one passage twice.")
    _catalog: Any = PrivateAttr()
    _store: Any = PrivateAttr()

    def __init__(self, catalog: Catalog, store: ChunkStore, threshold: float = 0.85) -> None:
        super().__init__()
        self.threshold = threshold
        self._catalog = catalog
        self._store = store

    @classmethod
    def class_name(cls) -> str:
        return "DuplicateCollapse"

    def _postprocess_nodes(
        self, nodes: list[NodeWithScore], query_bundle: QueryBundle | None = None
    ) -> list[NodeWithScore]:
        if self.threshold >= 1 or not nodes:
            return nodes
        boosted = _question(query_bundle, self._catalog).boosted
        step = DuplicateCollapseStep(self._catalog, self._store, self.threshold)
        return _through(nodes, lambda passages: step.apply(passages, boosted))


class OutletTurns(BaseNodePostprocessor):
    """:class:`rag.ask.retrieve.OutletTurnsStep`: when the question names several outlets,
    each one's best passages take turns at the top; an outlet with no node among them is
    searched on its own with ``retriever`` (its best ``per_outlet``)."""

    per_outlet: int = Field(default=OUTLET_PASSAGES, description="Passages of a missing outlet.")
    _catalog: Any = PrivateAttr()
    _retriever: Any = PrivateAttr()

    def __init__(
        self, catalog: Catalog, retriever: BaseRetriever, per_outlet: int = OUTLET_PASSAGES
    ) -> None:
        super().__init__()
        self.per_outlet = per_outlet
        self._catalog = catalog
        self._retriever = retriever

    @classmethod
    def class_name(cls) -> str:
        return "OutletTurns"

    def _search(self, question: Question, n: int) -> list[Passage]:
        nodes = self._retriever.retrieve(NewsQuery(query_str=question.text, question=question))
        return [passage_of(node) for node in nodes[:n]]

    def _postprocess_nodes(
        self, nodes: list[NodeWithScore], query_bundle: QueryBundle | None = None
    ) -> list[NodeWithScore]:
        question = _question(query_bundle, self._catalog)
        if len(question.info.sources) < 2:
            return nodes
        step = OutletTurnsStep(self._catalog, self._search, self.per_outlet)
        return _through(nodes, lambda passages: step.apply(question, passages))


class DateOrder(BaseNodePostprocessor):
    """:class:`rag.ask.retrieve.DateOrderStep`: "Latest on X?" puts the relevant nodes newest
    first, "the first reports about X" earliest first; other questions keep their order."""

    @classmethod
    def class_name(cls) -> str:
        return "DateOrder"

    def _postprocess_nodes(
        self, nodes: list[NodeWithScore], query_bundle: QueryBundle | None = None
    ) -> list[NodeWithScore]:
        if query_bundle is None:
            return nodes
        if isinstance(query_bundle, NewsQuery) and query_bundle.question is not None:
            order = query_bundle.question.order
        else:
            order = order_in(query_bundle.query_str)
        if order is None:
            return nodes
        return _through(nodes, lambda passages: DateOrderStep().apply(order, passages))


# --- the whole retrieval ----------------------------------------------------------------


class NewsdeskRetriever(BaseRetriever):
    """Dense + BM25 retrieval with the news steps, as one llama-index retriever.

    ``retrieve("question")`` returns the best ``similarity_top_k`` chunks (default
    ``top_k`` setting) of the articles the ``filters`` keep, the same chunks, order and
    scores as the product's :class:`rag.ask.retrieve.Retriever`, built from the adapters
    above (``dense``, ``lexical``, ``fusion``, ``boost``, ``collapse``, ``turns``,
    ``date_order``: take any of them for your own pipeline). Parts not given are built
    from the settings; ``embedder`` embeds questions that come without a vector;
    ``retriever`` is the product's retrieval to share the store, catalog and BM25 index
    of (:meth:`rag.Pipeline.as_retriever` passes its own).

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
        retriever: Retriever | None = None,
        similarity_top_k: int | None = None,
        filters: Filters | None = None,
    ) -> None:
        super().__init__()
        if retriever is None:
            store = store or ChunkStore(settings)
            retriever = Retriever(settings, store, catalog or Catalog(settings))
        r = self.retriever = retriever
        self.similarity_top_k = similarity_top_k or settings.top_k
        self.filters = filters
        self.dense = DenseRetriever(r.store, r.catalog, embedder)
        self.lexical = LexicalRetriever(r.lexical.index, r.catalog)
        self.fusion = FusionRetriever(
            self.dense,
            self.lexical,
            dense_weight=r.fusion.dense_weight,
            mode=r.fusion.mode,
            rrf_k=r.fusion.rrf_k,
        )
        self.boost = MetadataBoost(r.catalog, r.boost.boost)
        self.collapse = DuplicateCollapse(r.catalog, r.store, r.collapse.threshold)
        self.turns = OutletTurns(r.catalog, self.fusion, r.turns.per_outlet)
        self.date_order = DateOrder()

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        k = self.similarity_top_k
        vector = self.dense.vector(query_bundle)
        question = self.retriever.question(query_bundle.query_str, vector, k, self.filters)
        query = NewsQuery(query_str=question.text, question=question)
        if question.allowed is not None and not question.allowed:
            return []
        nodes = self.fusion.retrieve(query)
        nodes = self.boost.postprocess_nodes(nodes, query)[: max(3 * k, k + 10)]
        for n in nodes:
            n.score = round(score_of(n), 6)  # a passage's precision, from here on
        nodes = self.collapse.postprocess_nodes(nodes, query)
        nodes = self.turns.postprocess_nodes(nodes, query)
        return self.date_order.postprocess_nodes(nodes, query)[:k]


# --- answering --------------------------------------------------------------------------


class ExtractiveSynthesizer(BaseSynthesizer):
    """Answers from the nodes with :class:`~rag.ask.extractive.ExtractiveEngine`: sentences of
    the passages, cited, the short answer first. Reads the nodes of the retrievers above
    (it needs their article offsets). No LLM is called.

    What ``Pipeline.ask`` adds on top (and this does not): a compound question's parts
    retrieved one by one, the news digest for "What happened yesterday?" / "Latest on
    X?", the closest articles and the period note in an abstention's text.
    """

    def __init__(self, engine: ExtractiveEngine) -> None:
        # MockLLM: BaseSynthesizer would otherwise resolve llama-index's default LLM,
        # which needs an OpenAI key; no LLM is ever called here.
        super().__init__(llm=MockLLM(), empty_response=NOT_FOUND)
        self.engine = engine

    def _get_prompts(self) -> PromptDictType:
        return {}

    def _update_prompts(self, prompts: PromptDictType) -> None:
        return None

    def get_response(
        self, query_str: str, text_chunks: Sequence[str], **response_kwargs: Any
    ) -> RESPONSE_TEXT_TYPE:
        raise TypeError(
            "the extractive synthesizer cites character spans of articles, which bare text "
            "chunks lack: call synthesize(query, nodes) with NewsdeskRetriever's nodes"
        )

    async def aget_response(
        self, query_str: str, text_chunks: Sequence[str], **response_kwargs: Any
    ) -> RESPONSE_TEXT_TYPE:
        return self.get_response(query_str, text_chunks)

    def synthesize(
        self,
        query: str | QueryBundle,
        nodes: list[NodeWithScore],
        additional_source_nodes: Sequence[NodeWithScore] | None = None,
        **response_kwargs: Any,
    ) -> Response:
        bundle = QueryBundle(query) if isinstance(query, str) else query
        text = bundle.query_str
        known = bundle.question if isinstance(bundle, NewsQuery) else None
        if known is not None and known.vector is not None:
            vector = known.vector
        else:
            vector = self.engine.embedder.embed([text])[0]
        info = analyse(text, self.engine.catalog.mentions)
        pieces: list[str] = []
        result = EngineResult([], True, False)
        for piece in self.engine.run(text, vector, info, [passage_of(n) for n in nodes]):
            if isinstance(piece, str):
                pieces.append(piece)
            else:
                result = piece
        return Response(
            response="".join(pieces) or NOT_FOUND,
            source_nodes=list(nodes) + list(additional_source_nodes or []),
            metadata={
                "citations": [asdict(c) for c in result.citations],
                "short_answers": [asdict(s) for s in result.short_answers],
                "verdict": None if result.verdict is None else asdict(result.verdict),
                "confidence": result.confidence,
                "abstained": result.abstained,
                "conflict": result.conflict,
                "missing": result.missing,
            },
        )

    async def asynthesize(
        self,
        query: str | QueryBundle,
        nodes: list[NodeWithScore],
        additional_source_nodes: Sequence[NodeWithScore] | None = None,
        **response_kwargs: Any,
    ) -> Response:
        return self.synthesize(query, nodes, additional_source_nodes)


def query_engine(retriever: BaseRetriever, engine: ExtractiveEngine) -> RetrieverQueryEngine:
    """A llama-index ``RetrieverQueryEngine``: ``retriever``'s nodes, read by ``engine``."""
    return RetrieverQueryEngine(retriever, response_synthesizer=ExtractiveSynthesizer(engine))


__all__ = [
    "DateOrder",
    "DenseRetriever",
    "DuplicateCollapse",
    "ExtractiveSynthesizer",
    "FusionRetriever",
    "LexicalRetriever",
    "MetadataBoost",
    "NewsNode",
    "NewsQuery",
    "NewsdeskRetriever",
    "OutletTurns",
    "news_query",
    "node_of",
    "passage_of",
    "query_engine",
]
