"""The ask side in one object: question in, cited answer out.

    question → embed → retrieve (dense + BM25, fused, boosted, collapsed) → answer → cite

Retrieval is :class:`~rag.ask.retrieve.Retriever` (plain steps: no llama-index on this
path); :meth:`Pipeline.as_retriever` and :meth:`Pipeline.as_query_engine` hand the same
steps (and the extractive engine) to llama-index code through :mod:`rag.ask.llama`,
imported only then.

Both ``ask`` and ``ask_stream`` return the same :class:`~rag.ask.results.Answer`;
the stream yields the answer text piece by piece first.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from datetime import date
from typing import TYPE_CHECKING, Any

from rag import timeline
from rag.ask.answer_type import question_parts
from rag.ask.chat import Turn, condense
from rag.ask.extractive import NOT_FOUND, ExtractiveEngine, digest_of
from rag.ask.language import is_english
from rag.ask.llm import LLMEngine
from rag.ask.relative_dates import published_day
from rag.ask.results import Answer, EngineResult, Filters, Passage, check_k
from rag.ask.retrieve import Retrieval, Retriever
from rag.catalog import Catalog
from rag.errors import ConfigError, FilterError, InvalidQuestionError, NotFoundError
from rag.indexing.embed import Embedder
from rag.indexing.store import ChunkStore, import_chromadb
from rag.settings import Settings, get_settings
from rag.timeline import Timeline

if TYPE_CHECKING:
    from llama_index.core.query_engine import RetrieverQueryEngine

    from rag.ask.llama import NewsdeskRetriever

log = logging.getLogger(__name__)


class Pipeline:
    def __init__(
        self,
        settings: Settings | None = None,
        *,
        embedder: Embedder | None = None,
        store: ChunkStore | None = None,
        llm: Any = None,
    ) -> None:
        self.settings = get_settings(settings)
        self.embedder = embedder or Embedder(self.settings)
        self.store = store or ChunkStore(self.settings)
        self.catalog = Catalog(self.settings)
        self.retriever = Retriever(self.settings, self.store, self.catalog)
        self.engines: dict[str, ExtractiveEngine | LLMEngine] = {
            "extractive": ExtractiveEngine(self.settings, self.embedder, self.catalog),
            "llm": LLMEngine(self.settings, self.embedder, self.catalog, llm),
        }
        # The engines whose models this pipeline has loaded (load); a question arriving
        # while another thread loads them waits for that load.
        self._loaded: set[str] = set()
        self._load_lock = threading.Lock()

    def as_retriever(
        self, k: int | None = None, filters: Filters | None = None
    ) -> NewsdeskRetriever:
        """The pipeline's retrieval as a llama-index retriever (``BaseRetriever``) returning
        ``k`` nodes (default RAG_TOP_K) under ``filters``; it shares the pipeline's store,
        catalog, embedder and BM25 index, and returns what :meth:`ask` retrieves. Imports
        llama-index (about 3 s of CPU the first time). See :mod:`rag.ask.llama`."""
        from rag.ask.llama import NewsdeskRetriever

        return NewsdeskRetriever(
            self.settings,
            embedder=self.embedder,
            retriever=self.retriever,
            similarity_top_k=check_k(k),
            filters=filters,
        )

    def as_query_engine(
        self, k: int | None = None, filters: Filters | None = None
    ) -> RetrieverQueryEngine:
        """A llama-index ``RetrieverQueryEngine``: :meth:`as_retriever`'s nodes answered by
        the extractive engine (``query("…")`` → ``Response`` with ``source_nodes`` and the
        citations in ``metadata``). See :mod:`rag.ask.llama`."""
        from rag.ask.llama import query_engine

        engine = self.engines["extractive"]
        assert isinstance(engine, ExtractiveEngine)
        return query_engine(self.as_retriever(k, filters), engine)

    def rewrite(self, history: list[Turn], message: str, engine: str | None) -> str:
        """A standalone question for a chat follow-up: the LLM's condense step for the llm
        engine, the extractive rewrite otherwise."""
        if (engine or self.settings.engine) == "llm" and history:
            llm = self.engines["llm"]
            assert isinstance(llm, LLMEngine)
            return llm.condense([(t.rewritten, t.answer) for t in history], message)
        return condense(history, message)

    def load(self, engine: str | None = None) -> None:
        """Load the models a question needs: the embedding model, and the spaCy pipeline
        for the extractive engine, side by side (spaCy's in a thread while onnxruntime
        builds its session, which leaves the interpreter free). About a second on first
        use, most of a cold `rag ask`; at once afterwards. :meth:`ask_stream` calls it
        and reports its time as ``load``; a load that did the work is logged (INFO,
        ``rag.ask.pipeline``)."""
        engine = engine or self.settings.engine
        if engine in self._loaded:
            return
        with self._load_lock:
            if engine in self._loaded:
                return
            began = time.perf_counter()
            if self.embedder.imports_torch():
                self.embedder.load()  # first: spaCy's import may hide torch (rag.text.nlp)
            with self.engines[engine].loading():
                self.embedder.load()
            self._loaded.add(engine)
            log.info(
                "loaded the models for the %s engine in %.1f s",
                engine,
                time.perf_counter() - began,
            )

    def loaded(self, engine: str | None = None) -> bool:
        """Whether a question for ``engine`` (default: the setting) finds its models loaded."""
        return (engine or self.settings.engine) in self._loaded

    def warm(self, engine: str | None = None) -> None:
        """Get ready for the first question without answering one: load the models
        (:meth:`load`) and import Chroma, the cold part of a question's work (README,
        "Cold start"). The app and ``rag serve`` call it in a thread as they start, so
        that the first answer waits for none of it; a question arriving meanwhile waits
        for what is still loading, not for a second load. Nothing is opened or written:
        an empty index stays untouched."""
        self.load(engine)
        import_chromadb()

    def close(self) -> None:
        self.store.close()
        self.catalog.close()

    def _with_parts(
        self, question: str, passages: list[Passage], k: int, filters: Filters | None
    ) -> list[Passage]:
        """``passages`` and, for a compound question ("Who hosted Raimondo, and which
        companies …?"), the passages found for each part that are not among them."""
        parts = question_parts(question)
        if len(parts) < 2:
            return passages
        seen = {p.chunk_id for p in passages}
        merged = list(passages)
        for part in parts:
            found = self.retriever.retrieve(part, self.embedder.embed([part])[0], k, filters)
            for p in found.passages:
                if p.chunk_id not in seen:
                    seen.add(p.chunk_id)
                    merged.append(p)
        return merged

    def _check(self, question: str, engine: str) -> str:
        question = " ".join(question.split())
        if not question:
            raise InvalidQuestionError("the question is empty; ask something about the articles")
        limit = self.settings.max_question_chars
        if len(question) > limit:
            raise InvalidQuestionError(
                f"the question is {len(question)} characters long; the limit is {limit} "
                "(RAG_MAX_QUESTION_CHARS)"
            )
        if not is_english(question):
            raise InvalidQuestionError(
                "the question does not look like English: the bundled models (the embedding "
                "model and the spaCy pipeline) read English only; ask it in English"
            )
        if engine not in self.engines:
            raise ConfigError(
                f"the {engine!r} answer engine is not available; use: {', '.join(self.engines)}"
            )
        if not self.catalog.articles:
            self.catalog.refresh()
            if not self.catalog.articles:
                where = self.settings
                raise NotFoundError(
                    f"the index at {where.index_dir.resolve()} is empty: add articles to "
                    f"{where.articles_dir.resolve()} and run `rag index` (set RAG_INDEX_DIR "
                    "and RAG_ARTICLES_DIR to use an index built elsewhere)"
                )
        return question

    def check_filters(self, filters: Filters | None) -> None:
        """Refuse filters that leave no article to answer from, saying which filter and
        what the index holds instead — rather than answering "Not found" from nothing.

        Raises :class:`~rag.errors.FilterError` for an outlet no indexed article is from
        (with the closest outlets' names), an article id not in the index, a reversed
        date range, a range no article was published in (with the dates the articles
        span), and filters that each match but not together.
        """
        if filters is None or filters.is_empty():
            return
        catalog = self.catalog
        catalog.refresh()
        since, until = filters.since, filters.until
        if since and until and since > until:
            raise FilterError(
                f"the date range is reversed: since {since} is after until {until}; "
                "swap the two dates"
            )
        for source in filters.sources:
            if not catalog.from_sources([source]):
                near = catalog.closest_outlets(source)
                hint = (
                    f"the closest outlets are {', '.join(near)}"
                    if near
                    else _outlets(len(catalog.outlets))
                )
                raise FilterError(
                    f"no indexed article is from {source!r}; {hint} "
                    "(`rag articles` lists every article's source)"
                )
        unknown = [a for a in filters.article_ids if a not in catalog.articles]
        if unknown:
            raise FilterError(
                f"no indexed article has the id {unknown[0]!r}; `rag articles` lists the ids"
            )
        keep = catalog.from_sources(filters.sources) if filters.sources else None
        if filters.article_ids:
            named = set(filters.article_ids)
            keep = named if keep is None else keep & named
            if not keep:
                raise FilterError(
                    f"none of the articles named is from {', '.join(map(repr, filters.sources))}"
                )
        if not (since or until):
            return
        dated = catalog.published_between(since, until)
        if not dated:
            span = catalog.date_span()
            raise FilterError(
                f"no indexed article was published {_range(since, until)}; "
                + (f"the articles run from {span[0]} to {span[1]}" if span else "none is dated")
            )
        if keep is not None and not keep & dated:
            sources = ", ".join(map(repr, filters.sources))
            what = f"from {sources}" if sources else "of the articles named"
            span = _span(keep, catalog)
            raise FilterError(
                f"no article {what} was published {_range(since, until)}; "
                + (f"those run from {span[0]} to {span[1]}" if span else "none of them is dated")
            )

    def ask(
        self,
        question: str,
        *,
        k: int | None = None,
        filters: Filters | None = None,
        engine: str | None = None,
    ) -> Answer:
        result = None
        for piece in self.ask_stream(question, k=k, filters=filters, engine=engine):
            if isinstance(piece, Answer):
                result = piece
        assert result is not None
        return result

    def ask_stream(
        self,
        question: str,
        *,
        k: int | None = None,
        filters: Filters | None = None,
        engine: str | None = None,
        rewritten: str | None = None,
    ) -> Iterator[str | Answer]:
        """Yield pieces of the answer text as they are produced, then the full Answer."""
        engine = engine or self.settings.engine
        k = check_k(k) or self.settings.top_k
        question = self._check(question, engine)
        self.check_filters(filters)
        search = rewritten or question
        timings: dict[str, float] = {}
        # Timed on its own, so that "embed" is the question's encoding alone: a cold
        # start spends seconds here, a warm one nothing.
        began = time.perf_counter()
        self.load(engine)
        timings["load"] = time.perf_counter() - began
        began = time.perf_counter()
        vector = self.embedder.embed([search])[0]
        timings["embed"] = time.perf_counter() - began
        retrieval = self.retriever.retrieve(search, vector, k, filters)
        timings.update({f"retrieve_{k}": v for k, v in retrieval.timings.items()})
        passages = self._with_parts(search, retrieval.passages, k, filters)

        began = time.perf_counter()
        text: list[str] = []
        result = EngineResult([], True, False)
        answerer = self.engines[engine]
        digest = None
        if retrieval.period_searched and retrieval.period is not None:
            digest = digest_of(search, retrieval.info, retrieval.period)
        elif retrieval.order is not None:
            digest = "topic"  # "Latest on SBF?"
        pieces: Iterator[str | EngineResult]
        if digest and passages and isinstance(answerer, ExtractiveEngine):
            # "What happened yesterday?", "Latest on SBF?": the news, not one answer
            pieces = answerer.digest(
                search, passages, topic=digest == "topic", newest=retrieval.order != "earliest"
            )
        else:
            pieces = answerer.run(search, vector, retrieval.info, passages)
        for piece in pieces:
            if isinstance(piece, str):
                text.append(piece)
                yield piece
            else:
                result = piece
        citations, abstained, conflict = result.citations, result.abstained, result.conflict
        closest = _closest(passages) if abstained else []
        if abstained and closest:
            note = (
                " Closest articles: "
                + "; ".join(f"{c['title']} ({c['source'] or c['path']})" for c in closest)
                + "."
            )
            text.append(note)
            yield note
        period = _period(retrieval, self.catalog.date_span() is not None)
        if period is not None and period["note"]:
            text.append(f" {period['note']}")
            yield f" {period['note']}"
        timings["answer"] = time.perf_counter() - began
        timings["total"] = sum(timings.values())
        yield Answer(
            question=question,
            answer="".join(text) if text else NOT_FOUND,
            citations=citations,
            passages=passages,
            abstained=abstained,
            engine=engine,
            rewritten_question=rewritten,
            conflict=conflict,
            unsupported=result.unsupported,
            short_answers=result.short_answers,
            verdict=result.verdict,
            confidence=result.confidence,
            missing=result.missing,
            signals=result.signals,
            closest_articles=closest,
            period=period,
            timings={k: round(v * 1000, 2) for k, v in timings.items()},
            settings_hash=self.settings.answer_hash(),
        )

    def timeline(
        self, topic: str, *, k: int | None = None, filters: Filters | None = None
    ) -> Timeline:
        """The dated events about ``topic`` (a person, organisation or story), oldest
        first, from the ``k`` passages found for it (:data:`timeline.TIMELINE_K`)."""
        topic = self._check(topic, "extractive")
        self.check_filters(filters)
        k = check_k(k) or timeline.TIMELINE_K
        self.load("extractive")
        vector = self.embedder.embed([topic])[0]
        retrieval = self.retriever.retrieve(topic, vector, k, filters)
        engine = self.engines["extractive"]
        assert isinstance(engine, ExtractiveEngine)
        return timeline.build(topic, retrieval.passages, engine)


def _outlets(count: int) -> str:
    """How many outlets the index has, in words ("the index has 1 outlet")."""
    if count == 0:
        return "no indexed article names its outlet"
    return f"the index has {count} outlet{'' if count == 1 else 's'}"


def _period(retrieval: Retrieval, dated: bool) -> dict[str, Any] | None:
    """What the answer says of the days the question names: which ones were searched
    ("Searched articles published from 13 to 19 November 2023."), or that none was
    published then (or no article has a date) and every article was searched; a
    ranking-only period is noted without a sentence."""
    period = retrieval.period
    if period is None:
        return None
    note = ""
    if retrieval.period_searched:
        note = f"Searched articles published {period.describe()} ({period.phrase})."
    elif retrieval.period_searched is False and period.on_a_weekday:
        pass  # no article from that Monday: "on Monday" mostly means an article's own Monday
    elif retrieval.period_searched is False and not dated:
        note = (
            f"No indexed article has a date to check “{period.phrase}” against; searched them all."
        )
    elif retrieval.period_searched is False:
        note = f"No article was published {period.describe()} ({period.phrase}); searched them all."
    return {
        "phrase": period.phrase,
        "since": period.since.isoformat(),
        "until": period.until.isoformat(),
        "restricted": bool(retrieval.period_searched),
        "note": note,
    }


def _range(since: date | None, until: date | None) -> str:
    if since and until:
        return f"between {since} and {until}"
    return f"on or after {since}" if since else f"on or before {until}"


def _span(article_ids: set[str], catalog: Catalog) -> tuple[date, date] | None:
    """The first and last publication days of these articles (None: none is dated)."""
    days = [
        day
        for a in article_ids
        if (day := published_day(catalog.articles[a].published_at)) is not None
    ]
    return (min(days), max(days)) if days else None


def _closest(passages: list[Passage], limit: int = 3) -> list[dict[str, object]]:
    seen: dict[str, dict[str, object]] = {}
    for p in passages:
        if p.article_id not in seen:
            seen[p.article_id] = p.ref()
    return list(seen.values())[:limit]
