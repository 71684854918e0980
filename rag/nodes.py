"""Retrieval's shapes in llama-index's terms: the question as a :class:`NewsQuery` (a
``QueryBundle``), each chunk as a ``TextNode`` saying where it sits in its article.

A node's id is the chunk id (``<article id>:<chunk number>``); ``start_char_idx`` /
``end_char_idx`` are its characters in the article's cleaned text, and its metadata
carries the article (``article_id``, ``title``, ``source`` — the outlet —,
``published_at``, ``url``, ``path``, duplicate ``cluster``, ``char_start`` /
``char_end``). Each is scored as a :class:`NewsNode` (a ``NodeWithScore``), which also
carries what the search found: ``dense`` and ``lexical`` scores, ``boosted`` (the
question named its outlet, title or date) and ``also_reported_by`` (the copies
folded into it). Only title, outlet and date are
shown to an LLM or an embedding model (``get_content(MetadataMode.LLM)``).
:func:`passage_of` turns a node back into the :class:`~rag.results.Passage` the
answer engines read.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

import numpy as np
from llama_index.core.bridge.pydantic import Field
from llama_index.core.schema import NodeWithScore, QueryBundle, TextNode

from rag.periods import Period, order_in, period_in
from rag.query import QuestionInfo, analyse
from rag.results import Filters, Passage

if TYPE_CHECKING:
    from rag.catalog import Catalog

# What an LLM or an embedding model reads of a node besides its text.
SHOWN = ("title", "source", "published_at")
_HIDDEN = ["chunk_id", "article_id", "char_start", "char_end", "url", "path", "cluster"]


@dataclass
class NewsQuery(QueryBundle):
    """A question as the retrieval stages share it: llama-index's ``QueryBundle`` with the
    question's vector, what it names and what the filters leave.

    Built once per question by :func:`news_query`; every stage reads it, none re-analyses.
    A stage handed a plain ``QueryBundle`` (a llama-index user's) builds one itself.
    """

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
    timings: dict[str, float] = field(default_factory=dict)  # seconds per stage


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


def news_query(
    question: str | QueryBundle,
    catalog: Catalog,
    *,
    vector: np.ndarray | None = None,
    filters: Filters | None = None,
    candidates: int | None = None,
) -> NewsQuery:
    """The :class:`NewsQuery` of ``question``: its type and the outlets, titles and dates it
    names (:func:`rag.query.analyse`), the articles the ``filters`` and a strict period
    leave, and the articles to boost. A ``NewsQuery`` is returned as it is."""
    if isinstance(question, NewsQuery):
        return question
    if isinstance(question, QueryBundle):
        if vector is None and question.embedding is not None:
            vector = np.asarray(question.embedding, dtype=np.float32)
        question = question.query_str
    settings = catalog.settings
    filters = filters or Filters()
    info = analyse(question, catalog.mentions)
    allowed = allowed_articles(catalog, filters)
    period: Period | None = None
    searched: bool | None = None
    in_period: set[str] = set()
    # Dates the user gave as filters take precedence over the question's.
    if not (filters.since or filters.until):
        period = period_in(question, filters.as_of or settings.as_of or date.today())
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
    return NewsQuery(
        query_str=question,
        vector=vector,
        filters=filters,
        allowed=allowed,
        candidates=candidates or settings.retrieval_candidates,
        info=info,
        period=period,
        period_searched=searched,
        boosted=boosted,
        order=order_in(question),
    )


class NewsNode(NodeWithScore):
    """A scored node with what the search found about it: its ``dense`` and BM25
    (``lexical``) scores (None where that search did not find it), whether the question
    pointed at its article (``boosted``), and the copies folded into it
    (``also_reported_by``). The node itself is shared by every question (see
    :func:`text_node`); these are the question's own."""

    dense: float | None = None
    lexical: float | None = None
    boosted: bool = False
    also_reported_by: list[dict[str, Any]] = Field(default_factory=list)


# Each catalog's nodes, built once per chunk and index generation: a question's 200
# candidates cost 200 lookups, not 200 pydantic validations (7 ms on a 2-core machine).
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
    if node is not None:
        return node
    article_id, _, number = chunk_id.partition(":")
    article = catalog.articles[article_id]
    start, end = article.spans[int(number)]
    node = TextNode(
        id_=chunk_id,
        text=catalog.texts[article_id][start:end],
        start_char_idx=start,
        end_char_idx=end,
        metadata={
            "chunk_id": chunk_id,
            "article_id": article_id,
            "title": article.title,
            "source": article.source,
            "published_at": article.published_at,
            "url": article.url,
            "path": article.path,
            "cluster": article.cluster,
            "char_start": start,
            "char_end": end,
        },
        excluded_llm_metadata_keys=_HIDDEN,
        excluded_embed_metadata_keys=_HIDDEN,
    )
    cached[chunk_id] = node
    return node


def node_of(catalog: Catalog, chunk_id: str, score: float) -> NewsNode:
    """Chunk ``chunk_id`` (in the catalog) scored ``score``."""
    return NewsNode(node=text_node(catalog, chunk_id), score=score)


def news_node(node: NodeWithScore) -> NewsNode:
    """``node`` as a :class:`NewsNode` (another retriever's nodes gain its fields)."""
    if isinstance(node, NewsNode):
        return node
    return NewsNode(node=node.node, score=node.score)


def meta(node: NodeWithScore) -> dict[str, Any]:
    """The node's metadata (a shorthand the stages use)."""
    return node.node.metadata


def ref(node: NodeWithScore) -> dict[str, Any]:
    """The node's article, as an "also reported by" entry names it."""
    m = node.node.metadata
    return {
        "article_id": m["article_id"],
        "title": m["title"],
        "source": m["source"],
        "published_at": m["published_at"],
        "path": m["path"],
        "chunk_id": m["chunk_id"],
    }


def score_of(node: NodeWithScore) -> float:
    return node.score or 0.0


def passage_of(found: NodeWithScore) -> Passage:
    """The :class:`~rag.results.Passage` a node stands for (score to 6 places, the dense
    and BM25 scores to 4, as the catalog gives them)."""
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
