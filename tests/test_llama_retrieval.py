"""The llama-index adapters (rag.ask.llama): the retrievers, the news postprocessors,
``NewsdeskRetriever`` in a ``RetrieverQueryEngine`` and the README's example, and that
they give what the product's plain steps (rag.ask.retrieve) give.

The stage tests run on a small catalog written here (every score and vector known);
the end-to-end ones on the sample articles embedded by the fake embedder.
"""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest
from llama_index.core.base.base_retriever import BaseRetriever
from llama_index.core.llms import MockLLM
from llama_index.core.query_engine import RetrieverQueryEngine
from llama_index.core.schema import MetadataMode, NodeWithScore, QueryBundle

from rag.ask.llama import (
    DateOrder,
    DuplicateCollapse,
    FusionRetriever,
    MetadataBoost,
    NewsNode,
    NewsQuery,
    OutletTurns,
    news_query,
    node_of,
    passage_of,
)
from rag.ask.pipeline import Pipeline
from rag.ask.query import QuestionInfo
from rag.ask.results import Filters, Passage
from rag.ask.retrieve import FusionStep, Question
from rag.settings import Settings
from tests.conftest import ROOT, SAMPLE

pytestmark = pytest.mark.fast


@dataclass
class Article:
    title: str
    source: str | None
    published_at: str | None
    cluster: str
    spans: list[tuple[int, int]]
    url: str | None = None
    path: str = "a.txt"

    @property
    def chunks(self) -> int:
        return len(self.spans)


@dataclass(eq=False)  # hashable by identity, as the real one: nodes are cached per catalog
class Catalog:
    """The parts of :class:`rag.catalog.Catalog` the stages read."""

    articles: dict[str, Article] = field(default_factory=dict)
    texts: dict[str, str] = field(default_factory=dict)
    outlets: dict[str, set[str]] = field(default_factory=dict)
    generation: int = 1

    def add(self, aid: str, source: str | None, day: str | None = None, cluster: str = "") -> None:
        text = f"{aid} first chunk. {aid} second chunk."
        cut = text.index(".") + 1
        self.articles[aid] = Article(
            aid, source, day, cluster or aid, [(0, cut), (cut + 1, len(text))]
        )
        self.texts[aid] = text
        if source:
            self.outlets.setdefault(source, set()).add(aid)

    def has_chunk(self, cid: str) -> bool:
        aid, _, n = cid.partition(":")
        return aid in self.articles and int(n) < self.articles[aid].chunks

    def passage(
        self, cid: str, score: float, dense: float | None = None, lexical: float | None = None
    ) -> Passage:
        aid, _, n = cid.partition(":")
        a = self.articles[aid]
        start, end = a.spans[int(n)]
        return Passage(
            chunk_id=cid,
            article_id=aid,
            text=self.texts[aid][start:end],
            char_start=start,
            char_end=end,
            title=a.title,
            source=a.source,
            published_at=a.published_at,
            url=a.url,
            path=a.path,
            cluster=a.cluster,
            score=round(score, 6),
            dense=dense,
            lexical=lexical,
        )

    def from_sources(self, sources: list[str]) -> set[str]:
        return set().union(*(self.outlets.get(s, set()) for s in sources))


def catalog() -> Any:
    c = Catalog()
    c.add("orig", "AP", "2023-11-10", cluster="orig")
    c.add("copy", "Yahoo", "2023-11-11", cluster="orig")
    c.add("verge", "The Verge", "2023-11-12")
    c.add("tsn", "Sporting News", "2023-11-13")
    c.add("old", "AP", "2023-01-01")
    c.add("undated", None)
    return c


def query(question: str = "q", **fields: Any) -> NewsQuery:
    analysed = Question(question, np.zeros(4, dtype=np.float32), **fields)
    return NewsQuery(query_str=question, question=analysed)


class Fixed(BaseRetriever):
    """A retriever returning the same scored chunks, remembering what it was asked."""

    def __init__(self, cat: Any, hits: list[tuple[str, float]]) -> None:
        super().__init__()
        self.cat, self.hits = cat, hits
        self.asked: list[QueryBundle] = []

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        self.asked.append(query_bundle)
        question = getattr(query_bundle, "question", None)
        allowed = question.allowed if question else None
        return [
            node_of(self.cat, cid, s)
            for cid, s in self.hits
            if allowed is None or cid.split(":")[0] in allowed
        ]


def ids(nodes: list[NodeWithScore]) -> list[str]:
    return [n.node.node_id for n in nodes]


def test_fusion_weighs_cosine_and_bm25_over_its_best_and_keeps_both_scores():
    cat = catalog()
    dense = Fixed(cat, [("orig:0", 0.9), ("verge:0", 0.5)])
    lexical = Fixed(cat, [("verge:0", 8.0), ("tsn:1", 4.0)])
    fused = FusionRetriever(dense, lexical, dense_weight=0.3).retrieve(query())
    expected = FusionStep(0.3).fuse({"orig:0": 0.9, "verge:0": 0.5}, {"verge:0": 8.0, "tsn:1": 4.0})
    assert ids(fused) == ["verge:0", "tsn:1", "orig:0"]
    assert [n.score for n in fused] == pytest.approx([expected[i] for i in ids(fused)])
    verge = fused[0]
    assert isinstance(verge, NewsNode) and (verge.dense, verge.lexical) == (0.5, 8.0)
    assert isinstance(fused[1], NewsNode) and fused[1].dense is None


def test_fusion_by_reciprocal_rank_and_a_weightless_retriever_is_not_asked():
    cat = catalog()
    dense = Fixed(cat, [("orig:0", 0.9), ("verge:0", 0.5)])
    lexical = Fixed(cat, [("verge:0", 8.0)])
    rrf = FusionRetriever(dense, lexical, mode="rrf", rrf_k=60).retrieve(query())
    assert ids(rrf) == ["verge:0", "orig:0"]
    assert rrf[0].score == pytest.approx(1 / 62 + 1 / 61)
    FusionRetriever(dense, lexical, dense_weight=1.0).retrieve(query())
    assert len(lexical.asked) == 1  # only the RRF run asked BM25


def test_metadata_boost_multiplies_the_named_articles_and_reranks():
    cat = catalog()
    nodes = [node_of(cat, "verge:0", 0.8), node_of(cat, "tsn:0", 0.5)]
    boosted = MetadataBoost(cat, boost=1.0).postprocess_nodes(nodes, query(boosted={"tsn"}))
    assert ids(boosted) == ["tsn:0", "verge:0"]
    assert [n.score for n in boosted] == [1.0, 0.8]
    assert [passage_of(n).boosted for n in boosted] == [True, False]


def test_duplicate_collapse_shows_the_original_and_lists_the_copy():
    cat = catalog()

    class Store:
        def vectors(self, chunk_ids: list[str]) -> np.ndarray:
            same = np.array([1.0, 0.0, 0.0])
            other = np.array([0.0, 1.0, 0.0])
            return np.array([other if c.endswith(":1") else same for c in chunk_ids])

    nodes = [
        node_of(cat, "copy:0", 0.9),
        node_of(cat, "verge:0", 0.7),
        node_of(cat, "orig:0", 0.6),
        node_of(cat, "copy:1", 0.5),  # says something else: kept
    ]
    collapsed = DuplicateCollapse(cat, Store(), threshold=0.85).postprocess_nodes(nodes, query())
    assert ids(collapsed) == ["orig:0", "verge:0", "copy:1"]
    top = passage_of(collapsed[0])
    assert top.score == 0.9  # the group's best score, the original's wording
    assert [r["chunk_id"] for r in top.also_reported_by] == ["copy:0"]
    # The question named the copy's outlet and not the original's: the copy stays in front.
    named = [node_of(cat, "copy:0", 0.9), node_of(cat, "orig:0", 0.6)]
    named[0].boosted = True
    kept = DuplicateCollapse(cat, Store()).postprocess_nodes(named, query(boosted={"copy"}))
    assert ids(kept) == ["copy:0"]
    assert DuplicateCollapse(cat, Store(), threshold=1.0).postprocess_nodes(nodes, query()) == (
        nodes
    )


def test_named_outlets_take_turns_and_a_missing_one_is_searched_on_its_own():
    cat = catalog()
    searched = Fixed(cat, [("tsn:1", 0.6), ("tsn:0", 0.4), ("verge:1", 0.3)])
    turns = OutletTurns(cat, searched)
    have = [node_of(cat, "verge:0", 1.0), node_of(cat, "verge:1", 0.9), node_of(cat, "old:0", 0.8)]
    info = QuestionInfo("q", "yes_no", sources=["The Verge", "Sporting News"])
    out = turns.postprocess_nodes(have, query(info=info, boosted={"tsn"}))
    assert ids(out) == ["verge:0", "tsn:1", "verge:1", "tsn:0", "old:0"]
    assert [q.question.allowed for q in searched.asked] == [{"tsn"}]  # one search
    assert passage_of(out[1]).boosted
    one = QuestionInfo("q", "who", sources=["The Verge"])
    assert turns.postprocess_nodes(have, query(info=one)) == have


def test_date_order_puts_relevant_nodes_newest_first():
    cat = catalog()
    ranked = [
        node_of(cat, "old:0", 1.0),
        node_of(cat, "tsn:0", 0.8),
        node_of(cat, "undated:0", 0.95),
        node_of(cat, "verge:0", 0.9),
        node_of(cat, "copy:0", 0.3),  # not relevant: stays behind
    ]
    newest = DateOrder().postprocess_nodes(ranked, query_str="Latest on the Chiefs?")
    assert ids(newest) == ["tsn:0", "verge:0", "old:0", "undated:0", "copy:0"]
    first = DateOrder().postprocess_nodes(
        ranked, query_str="What were the first reports about the Chiefs?"
    )
    assert ids(first) == ["old:0", "verge:0", "tsn:0", "undated:0", "copy:0"]
    assert DateOrder().postprocess_nodes(ranked, query_str="Who won?") == ranked


def test_nodes_carry_the_article_and_show_an_llm_only_title_outlet_and_date():
    cat = catalog()
    node = node_of(cat, "orig:1", 0.5).node
    m = node.metadata
    assert (m["article_id"], m["source"], m["published_at"], m["cluster"]) == (
        "orig",
        "AP",
        "2023-11-10",
        "orig",
    )
    assert cat.texts["orig"][m["char_start"] : m["char_end"]] == node.get_content()
    assert (node.start_char_idx, node.end_char_idx) == (m["char_start"], m["char_end"])
    shown = node.get_content(metadata_mode=MetadataMode.LLM)
    assert "AP" in shown and "orig:1" not in shown and "char_start" not in shown


# --- end to end, over the sample articles -------------------------------------------


def test_newsdesk_retriever_gives_the_pipelines_passages_as_nodes(fake_pipeline: Pipeline):
    question = "What did Li Qiang hope for?"
    vector = fake_pipeline.embedder.embed([question])[0]
    passages = fake_pipeline.retriever.retrieve(question, vector, 4).passages
    nodes = fake_pipeline.as_retriever(k=4).retrieve(question)
    assert [n.node.node_id for n in nodes] == [p.chunk_id for p in passages]
    assert [passage_of(n) for n in nodes] == passages
    catalog = fake_pipeline.catalog
    for n in nodes:
        m = n.node.metadata
        article = catalog.articles[m["article_id"]]
        assert (
            n.node.get_content() == catalog.texts[m["article_id"]][m["char_start"] : m["char_end"]]
        )
        assert (m["source"], m["published_at"], m["cluster"]) == (
            article.source,
            article.published_at,
            article.cluster,
        )


def same_retrieval(pipeline: Pipeline, questions: list[str]) -> dict[str, int]:
    """NewsdeskRetriever (the adapters, each over its plain step) against the product's
    Retriever on each question, for two k and under a filter: the same chunks, order,
    scores, flags and copies. Counts the retrievals the collapse and the outlet turns
    changed something in."""
    some = sorted(pipeline.catalog.articles)[1:3]
    seen = {"copies": 0, "turns": 0, "date order": 0}
    for question in questions:
        vector = pipeline.embedder.embed([question])[0]
        for k, filters in ((4, None), (10, None), (10, Filters(article_ids=some))):
            product = pipeline.retriever.retrieve(question, vector, k, filters)
            nodes = pipeline.as_retriever(k, filters).retrieve(question)
            assert [passage_of(n) for n in nodes] == product.passages, (question, k, filters)
            seen["copies"] += any(p.also_reported_by for p in product.passages)
            seen["turns"] += "outlets" in product.timings
            seen["date order"] += product.order is not None
    return seen


def test_the_adapters_retrieve_what_the_product_retrieves(fake_pipeline: Pipeline):
    seeds = (ROOT / "eval" / "gold" / "seeds.jsonl").read_text(encoding="utf-8")
    same_retrieval(fake_pipeline, [json.loads(line)["question"] for line in seeds.splitlines()])


def test_the_adapters_collapse_copies_and_turn_outlets_as_the_product(tmp_path, fake_embedder):
    from tests.dated_articles import DATED, indexed

    copy = DATED["fired.json"] | {"source": "Yahoo", "published_at": "2023-11-19T10:00:00+00:00"}
    pipeline = indexed(tmp_path, fake_embedder, DATED | {"copy.json": copy})
    try:
        seen = same_retrieval(
            pipeline,
            [
                "Why did OpenAI's board fire Sam Altman?",
                "Did the Reuters article and the TechCrunch article both mention Sam?",
                "What did The Verge and Engadget report about OpenAI's board?",
                "What is the latest on Sam Altman?",
                "What were the first reports about OpenAI's board?",
            ],
        )
    finally:
        pipeline.close()
    assert all(seen.values()), seen  # each of the news steps changed something


def test_filters_keep_the_retriever_to_their_articles(fake_pipeline: Pipeline):
    some = sorted(fake_pipeline.catalog.articles)[:2]
    nodes = fake_pipeline.as_retriever(k=10, filters=Filters(article_ids=some)).retrieve(
        "What did Li Qiang hope for?"
    )
    assert nodes and {n.node.metadata["article_id"] for n in nodes} <= set(some)


def test_the_retriever_plugs_into_llama_indexs_retriever_query_engine(fake_pipeline: Pipeline):
    retriever = fake_pipeline.as_retriever(k=3)
    engine = RetrieverQueryEngine.from_args(retriever, llm=MockLLM())  # any LLM of yours
    response = engine.query("Where did He Lifeng and Gina Raimondo meet?")
    assert len(response.source_nodes) == 3
    for n in response.source_nodes:
        assert {"article_id", "char_start", "char_end", "source", "published_at", "cluster"} <= set(
            n.node.metadata
        )


def test_the_query_engine_answers_with_the_extractive_engine(fake_pipeline: Pipeline):
    engine = fake_pipeline.as_query_engine(k=5)
    question = "What did Li Qiang hope for?"
    response = engine.query(question)
    assert "concrete actions" in str(response) and "[1]" in str(response)
    citations = response.metadata["citations"]
    texts = fake_pipeline.catalog.texts
    for c in citations:
        assert texts[c["article_id"]][c["char_start"] : c["char_end"]] == c["quote"]
    assert [n.node.node_id for n in response.source_nodes] == [
        p.chunk_id for p in fake_pipeline.ask(question, k=5).passages
    ]


def test_the_readme_llama_index_example_runs(tmp_path, capsys):
    """The second example of README "Use it from Python", over the sample, fake-embedded."""
    from rag.indexing.indexer import sync

    section = (ROOT / "README.md").read_text(encoding="utf-8").split("### Use it from Python")[1]
    blocks = re.findall(r"```python\n(.*?)```", section, re.S)
    assert len(blocks) >= 2, "README 'Use it from Python' lost its llama-index example"
    shutil.copytree(SAMPLE, tmp_path / "data" / "articles")
    sync(Settings(articles_dir=tmp_path / "data" / "articles", index_dir=tmp_path / "index"))
    exec(compile(blocks[1], "README.md", "exec"), {"__name__": "readme"})
    out = capsys.readouterr().out
    assert "[1]" in out and "cluster" in out


def test_a_stage_handed_a_plain_query_bundle_analyses_it(fake_pipeline: Pipeline):
    catalog = fake_pipeline.catalog
    outlet = next(a.source for a in catalog.articles.values() if a.source)
    question = f"What did {outlet} report about Li Qiang?"
    nodes = fake_pipeline.as_retriever(k=10).retrieve("Li Qiang")
    plain = MetadataBoost(catalog).postprocess_nodes(
        [n.model_copy() for n in nodes], query_str=question
    )
    analysed = MetadataBoost(catalog).postprocess_nodes(
        [n.model_copy() for n in nodes], news_query(question, catalog)
    )
    assert [passage_of(n) for n in plain] == [passage_of(n) for n in analysed]
    assert any(passage_of(n).boosted for n in plain)
