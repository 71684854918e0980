"""Chat: questions to the indexed articles; answers stream in, every claim cited."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import streamlit as st

from rag.ask.chat import MAX_TURNS, Session, Turn
from rag.ask.conversation import Conversation
from rag.ask.results import Answer, Filters
from rag.catalog import facets, list_articles
from rag.errors import RagError
from rag.settings import Settings
from ui import engine, views
from ui.views import Exchange


@dataclass
class Options:
    engine: str
    k: int
    filters: Filters
    problem: str | None = None


def new_chat() -> None:
    st.session_state["exchanges"] = []


def sidebar(base: Settings, articles: list[dict[str, Any]]) -> tuple[Settings, Options]:
    """Engine, top-k and filters; the settings the chosen engine needs."""
    found = facets(articles)
    keep, kept = views.keep, views.kept
    with st.sidebar:
        st.button("New chat", icon=":material/add_comment:", on_click=new_chat, width="stretch")
        st.subheader("Answers")
        engines = ["extractive", "llm"]
        choice = keep(
            "engine",
            st.radio(
                "Engine",
                engines,
                index=engines.index(kept("engine", base.engine)),
                key="engine",
                format_func={"extractive": "Extractive (no LLM)", "llm": "LLM"}.get,
                help="Extractive answers quote the articles' own sentences. LLM answers are "
                "written by a model you run, and their citations are checked.",
            ),
        )
        overrides: dict[str, Any] = {}
        if choice == "llm":
            providers = ["openai", "ollama"]
            overrides["llm_provider"] = keep(
                "llm_provider",
                st.selectbox(
                    "Provider",
                    providers,
                    index=providers.index(kept("llm_provider", base.llm_provider)),
                    key="llm_provider",
                    help="openai = any OpenAI-compatible endpoint (vLLM, llama.cpp, LM Studio).",
                ),
            )
            overrides["llm_base_url"] = keep(
                "llm_base_url",
                st.text_input(
                    "Endpoint",
                    kept("llm_base_url", base.llm_base_url),
                    key="llm_base_url",
                    placeholder="http://127.0.0.1:8080/v1",
                ),
            )
            overrides["llm_model"] = keep(
                "llm_model",
                st.text_input("Model", kept("llm_model", base.llm_model), key="llm_model"),
            )
            overrides["llm_api_key"] = (
                keep(
                    "llm_api_key",
                    st.text_input(
                        "API key", kept("llm_api_key", ""), type="password", key="llm_api_key"
                    ),
                )
                or base.llm_api_key
            )
        k = keep(
            "top_k",
            st.slider("Passages to answer from", 1, 20, kept("top_k", base.top_k), key="top_k"),
        )

        st.subheader("Filters")
        sources = keep(
            "sources",
            st.multiselect(
                "Sources",
                found["sources"],
                default=[s for s in kept("sources", []) if s in found["sources"]],
                key="sources",
                placeholder="All sources",
            ),
        )
        since: date | None = None
        until: date | None = None
        first, last = found["first_date"], found["last_date"]
        if first is not None:
            since = keep(
                "since",
                st.date_input(
                    "Published from",
                    value=kept("since", None),
                    min_value=first,
                    max_value=last,
                    key="since",
                ),
            )
            until = keep(
                "until",
                st.date_input(
                    "Published until",
                    value=kept("until", None),
                    min_value=first,
                    max_value=last,
                    key="until",
                ),
            )
        else:
            st.caption("No indexed article has a date.")
        as_of = keep(
            "as_of",
            st.date_input(
                "As of",
                value=kept("as_of", base.as_of),
                key="as_of",
                help="The day “last week”, “yesterday” or “since Monday” in a question count "
                "from; empty means today. Set it to ask an archive as of its own time.",
            ),
        )
    problem = None
    if since and until and since > until:
        problem = "“Published from” is after “Published until”: swap them or clear one."
    settings = base.model_copy(update=overrides) if overrides else base
    filters = Filters(sources=sources, since=since, until=until, as_of=as_of)
    return settings, Options(choice, k, filters, problem)


def show_question(question: str, rewritten: str) -> None:
    with st.chat_message("user"):
        st.markdown(views.md(question))
        if rewritten != question:
            st.caption(f"Searched as: {views.md(rewritten)}")


def ask(settings: Settings, options: Options, question: str) -> Exchange:
    """Rewrite a follow-up, stream the answer, then show it with its citation cards."""
    pipe = engine.pipeline(settings)
    question = " ".join(question.split())
    exchanges: list[Exchange] = st.session_state["exchanges"]
    history = [Turn(e.question, e.rewritten, e.answer.answer) for e in exchanges if e.answer]
    # The page keeps the exchanges (with their answers, to draw them again); the
    # conversation reads them as its turns, the latest MAX_TURNS.
    conversation = Conversation(pipe, Session("app", history[-MAX_TURNS:]))
    try:
        message = conversation.rewrite(question, options.engine)
    except RagError as exc:
        show_question(question, question)
        with st.chat_message("assistant"):
            st.error(str(exc))
        return Exchange(question, question, error=str(exc))
    rewritten = message.rewritten
    show_question(question, rewritten)
    result: dict[str, Answer] = {}

    def text() -> Iterator[str]:
        for piece in conversation.stream(
            message, k=options.k, filters=options.filters, engine=options.engine
        ):
            if isinstance(piece, Answer):
                result["answer"] = piece
            else:
                yield views.md(piece)

    with st.chat_message("assistant"):
        # The finished answer replaces the streamed text in its place, where the next run
        # draws it (see below): drawn one element further down, the last run's footer would
        # stay beside the new one until the next answer is done.
        live = st.empty()
        try:
            with live.container(), st.spinner("Searching the articles…"):
                st.write_stream(text)
        except RagError as exc:
            live.error(str(exc))
            return Exchange(question, rewritten, error=str(exc))
        with live.container():
            views.answer_view(result["answer"], pipe.catalog, str(len(exchanges)))
    return Exchange(question, rewritten, answer=result["answer"])


st.session_state.setdefault("exchanges", [])
base = engine.settings()
articles = list_articles(base)
settings, options = sidebar(base, articles)

st.title("Ask the articles")
if not articles:
    st.info(
        "**The index is empty.** Add articles first: upload them on the Library page, "
        "or put .txt, .md, .html, .json, .jsonl, .pdf, .docx or .mhtml files into "
        f"`{base.articles_dir.resolve()}` "
        "and click **Update index** there (or run `rag index`).",
        icon=":material/info:",
    )
    st.page_link(views.LIBRARY, label="Go to the library", icon=":material/library_books:")
    st.stop()

st.caption(
    f"{len(articles)} articles indexed. The short answer comes first, in bold (a yes/no "
    "question gets a verdict and the claims behind it); every sentence of an answer "
    "carries [n], and the cards below it show the passage it comes from."
)
catalog = engine.pipeline(settings).catalog
for number, exchange in enumerate(st.session_state["exchanges"]):
    show_question(exchange.question, exchange.rewritten)
    with st.chat_message("assistant"):
        if exchange.answer is not None:
            with st.container():  # where ask() drew it
                views.answer_view(exchange.answer, catalog, str(number))
        else:
            st.error(exchange.error or "no answer")

if options.problem:
    st.error(options.problem)
prompt = st.chat_input("Ask a question about the articles", disabled=bool(options.problem))
if prompt:
    st.session_state["exchanges"].append(ask(settings, options, prompt))
