"""The extractive engine as a llama-index response synthesizer, and a query engine on it.

``RetrieverQueryEngine(NewsdeskRetriever, ExtractiveSynthesizer)`` answers as
llama-index query engines do — ``engine.query("…")`` → ``Response`` — with the
product's extractive reading: every sentence of ``response.response`` carries
``[n]``, ``response.source_nodes`` are the retrieved nodes (article id, offsets,
outlet, date, cluster in their metadata) and ``response.metadata`` holds the
citations with their exact character spans, the short answers, the yes/no verdict,
the confidence and whether it declined. No LLM is called.

What ``Pipeline.ask`` adds on top (and this engine does not): a compound question's
parts retrieved one by one, the news digest for "What happened yesterday?" /
"Latest on X?", the closest articles and the period note in an abstention's text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from llama_index.core.base.response.schema import Response
from llama_index.core.llms import MockLLM
from llama_index.core.prompts.mixin import PromptDictType
from llama_index.core.query_engine import RetrieverQueryEngine
from llama_index.core.response_synthesizers import BaseSynthesizer
from llama_index.core.schema import NodeWithScore, QueryBundle
from llama_index.core.types import RESPONSE_TEXT_TYPE

from rag.extractive import NOT_FOUND, ExtractiveEngine
from rag.nodes import NewsQuery, passage_of
from rag.query import analyse
from rag.results import EngineResult
from rag.retrieve import NewsdeskRetriever


class ExtractiveSynthesizer(BaseSynthesizer):
    """Answers from the nodes with :class:`~rag.extractive.ExtractiveEngine`: sentences of
    the passages, cited, the short answer first. Reads nodes made by
    :func:`rag.nodes.node_of` (it needs their article offsets)."""

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
        question = bundle.query_str
        if isinstance(bundle, NewsQuery) and bundle.vector is not None:
            vector = bundle.vector
        else:
            vector = self.engine.embedder.embed([question])[0]
        info = analyse(question, self.engine.catalog.mentions)
        text: list[str] = []
        result = EngineResult([], True, False)
        for piece in self.engine.run(question, vector, info, [passage_of(n) for n in nodes]):
            if isinstance(piece, str):
                text.append(piece)
            else:
                result = piece
        return Response(
            response="".join(text) or NOT_FOUND,
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


def query_engine(retriever: NewsdeskRetriever, engine: ExtractiveEngine) -> RetrieverQueryEngine:
    """A llama-index ``RetrieverQueryEngine``: ``retriever``'s nodes, read by ``engine``."""
    return RetrieverQueryEngine(retriever, response_synthesizer=ExtractiveSynthesizer(engine))
