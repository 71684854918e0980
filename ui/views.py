"""Presentation shared by the pages: answers, citation cards, articles.

Article text only ever reaches the browser through :mod:`rag.ask.highlight`:
escaped HTML (``st.html``) or escaped Markdown, never as markup of its own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

import streamlit as st

from rag.ask.extractive import NOT_FOUND
from rag.ask.highlight import escape_markdown, excerpt, segments, segments_html, to_html
from rag.ask.results import Answer, Citation, Passage, ShortAnswer, Verdict
from rag.catalog import Catalog

CHAT = "screens/chat.py"
LIBRARY = "screens/library.py"
EVALUATION = "screens/evaluation.py"
TIMELINE = "screens/timeline.py"
ENTITIES = "screens/entities.py"

STYLE = """
<style>
.rag-text { white-space: pre-wrap; line-height: 1.55; font-size: 0.95rem; }
.rag-text mark { background: #ffe58f; padding: 0 2px; border-radius: 2px; }
.rag-passage { white-space: pre-wrap; line-height: 1.5; font-size: 0.92rem;
  border-left: 3px solid #d9d9d9; padding-left: 0.6rem; color: #333; }
.rag-passage mark { background: #ffe58f; padding: 0 2px; border-radius: 2px; }
.rag-article { white-space: pre-wrap; line-height: 1.6; max-height: 32rem; overflow-y: auto;
  border: 1px solid #eee; border-radius: 0.4rem; padding: 0.8rem; }
.rag-article mark { background: #ffe58f; padding: 0 2px; border-radius: 2px; }
.rag-jump { margin: 0 0 0.4rem 0; font-size: 0.9rem; }
.rag-passage mark strong.rag-short { background: #ffc53d; font-weight: 700; }
</style>
"""


@dataclass
class Exchange:
    """One chat turn as shown: the question, its standalone rewrite, the answer or error."""

    question: str
    rewritten: str
    answer: Answer | None = None
    error: str | None = None


_MARKER = re.compile(r"\\\[(\d+)\\\]")


def kept(name: str, default: Any) -> Any:
    """A widget's last value, kept across pages (a widget forgets its value when another
    page runs); pair with :func:`keep`."""
    return st.session_state.get(f"kept.{name}", default)


def keep(name: str, value: Any) -> Any:
    st.session_state[f"kept.{name}"] = value
    return value


def md(text: str | None) -> str:
    """Text from the articles or the user, safe to pass to any Markdown-rendering call."""
    return escape_markdown(text or "")


def answer_markdown(text: str) -> str:
    """The answer text, escaped, with its ``[n]`` markers in bold."""
    return _MARKER.sub(r"**\\[\1\\]**", md(text))


def byline(source: str | None, published_at: str | None, path: str | None = None) -> str:
    parts = [source or "unknown source", (published_at or "")[:10] or "undated"]
    if path:
        parts.append(path)
    return " · ".join(parts)


def article_link(
    article_id: str, label: str, start: int | None = None, end: int | None = None
) -> None:
    """A link to the library page showing the article, with the span highlighted."""
    params = {"article": article_id}
    if start is not None and end is not None:
        params |= {"start": str(start), "end": str(end)}
    st.page_link(LIBRARY, label=label, icon=":material/article:", query_params=params)


def article_html(
    text: str, span: tuple[int, int] | None, anchor: str, css_class: str = "rag-article"
) -> str:
    """A whole article, the span marked, with a link at the top that jumps to it."""
    body = to_html(text, [span] if span else [], css_class, anchor=anchor)
    if not span:
        return body
    jump = f'<p class="rag-jump"><a href="#{anchor}">Jump to the highlighted passage ↓</a></p>'
    return jump + body


# The badge colours used here, of those st.badge takes.
BadgeColor = Literal["green", "red", "gray"]
VERDICTS: dict[str, tuple[str, BadgeColor, str | None]] = {
    "yes": ("Yes", "green", ":material/check_circle:"),
    "no": ("No", "red", ":material/cancel:"),
    "cannot tell": ("Cannot tell from the articles", "gray", ":material/help:"),
}
CLAIMS = {"supported": "✓ supported", "missing": "? missing", "contradicted": "✗ contradicted"}


def short_answer_markdown(shorts: list[ShortAnswer]) -> str:
    """The short answer(s) in bold, a relative date's resolved form in brackets, then
    their citation markers: ``**late Friday (Friday, 17 November 2023)** \\[2\\]``."""
    said = ", ".join(md(s.text) + (f" ({md(s.resolved)})" if s.resolved else "") for s in shorts)
    markers = "".join(f"\\[{n}\\]" for n in dict.fromkeys(s.n for s in shorts))
    return f"**{said}** {markers}".rstrip()


def verdict_view(verdict: Verdict) -> None:
    """The yes/no verdict as a badge, its reason, and each claim with its status and the
    citation that supports or contradicts it."""
    label, color, icon = VERDICTS.get(
        verdict.answer.strip().lower(), (verdict.answer, "gray", None)
    )
    st.badge(label, icon=icon, color=color)
    if verdict.reason:
        st.caption(md(verdict.reason))
    if verdict.claims:
        st.markdown(
            "\n".join(
                f"- {CLAIMS.get(c.status, md(c.status))}"
                + (f" **\\[{c.n}\\]**" if c.n is not None else "")
                + f": {md(c.text)}"
                + (f" ({md(c.published_at[:10])})" if c.published_at else "")
                for c in verdict.claims
            )
        )


def _short_spans(citation: Citation, shorts: list[ShortAnswer]) -> list[tuple[int, int]]:
    """The short answers inside a citation, as offsets into its quote."""
    return [
        (s.start - citation.char_start, s.end - citation.char_start)
        for s in shorts
        if s.n == citation.n and s.article_id == citation.article_id
    ]


def citation_card(
    citation: Citation,
    passage: Passage | None,
    catalog: Catalog,
    key: str,
    shorts: list[ShortAnswer] | None = None,
) -> None:
    """One citation: where it is from, the passage with the cited sentence marked (and in
    it the short answer), the copies that report it too, and the whole article one click
    away."""
    c = citation
    with st.container(border=True):
        st.markdown(f"**\\[{c.n}\\] {md(c.title)}**")
        article = catalog.articles.get(c.article_id)
        st.caption(md(byline(c.source, c.published_at, article.path if article else None)))
        text = catalog.texts.get(c.article_id, "")
        if text:
            parts = excerpt(text, c.char_start, c.char_end)
        elif passage is not None and passage.article_id == c.article_id:
            offset = passage.char_start
            parts = excerpt(passage.text, c.char_start - offset, c.char_end - offset)
        else:
            parts = segments(c.quote, 0, len(c.quote))
        st.html(segments_html(parts, "rag-passage", _short_spans(c, shorts or [])))
        if c.also_reported_by:
            copies = "\n".join(
                f"- {md(copy.get('title'))} ({md(copy.get('source') or copy.get('path'))})"
                + (f": “{md(copy['quote'])}”" if copy.get("quote") else "")
                for copy in c.also_reported_by
            )
            st.markdown(f"**Also reported by**\n\n{copies}")
        if text:
            with st.expander("Read the whole article here"):
                st.html(article_html(text, (c.char_start, c.char_end), f"cite-{key}"))
        article_link(c.article_id, "Open the article in the library", c.char_start, c.char_end)


def closest_articles(articles: list[dict[str, Any]]) -> None:
    if not articles:
        return
    st.markdown("**Nearest articles**")
    for a in articles:
        article_link(
            a["article_id"], f"{a['title']} — {byline(a.get('source'), a.get('published_at'))}"
        )


def _sentence(text: str) -> str:
    text = text.strip()
    return text[:1].upper() + text[1:] + ("" if text.endswith((".", "!", "?")) else ".")


def footer(answer: Answer) -> str:
    """The answer's small print: engine, passages searched, time (with the models' load
    on the first question), confidence."""
    total = answer.timings.get("total")
    load = answer.timings.get("load", 0.0)
    return (
        f"{answer.engine} engine · {len(answer.passages)} passages searched"
        + (f" · {total:.0f} ms" if total is not None else "")
        + (f" ({load:.0f} ms of it loading the models)" if total is not None and load >= 1 else "")
        + (f" · confidence {answer.confidence:.0%}" if answer.confidence is not None else "")
    )


def answer_view(answer: Answer, catalog: Catalog, key: str) -> None:
    """A finished answer: the verdict of a yes/no question, then an abstention (with what
    was missing), or the short answer in bold over the cited answer and its citation
    cards, the short answer marked in the cited sentence."""
    if answer.verdict is not None:
        verdict_view(answer.verdict)
    if answer.abstained:
        why = (
            md(_sentence(answer.missing))
            if answer.missing
            else "No passage in the articles searched answers it closely enough."
        )
        st.warning(
            f"**{NOT_FOUND}** {why} Check the sidebar filters, or add articles on the "
            "Library page.",
            icon=":material/search_off:",
        )
        closest_articles(answer.closest_articles)
        if answer.confidence is not None:
            st.caption(footer(answer))
        return
    passages = {p.chunk_id: p for p in answer.passages}
    shorts = answer.short_answers
    if shorts:
        st.markdown(short_answer_markdown(shorts))
    st.markdown(answer_markdown(answer.answer))
    if answer.unsupported:
        st.warning(
            "Not supported by the cited passages: "
            + "; ".join(f"“{md(s)}”" for s in answer.unsupported),
            icon=":material/report:",
        )
    if answer.conflict and len(answer.citations) >= 2:
        st.info(
            "**The sources disagree.** Each version is shown with its source.",
            icon=":material/compare_arrows:",
        )
        for column, citation in zip(
            st.columns(len(answer.citations)), answer.citations, strict=True
        ):
            with column:
                citation_card(
                    citation,
                    passages.get(citation.chunk_id),
                    catalog,
                    f"{key}-{citation.n}",
                    shorts,
                )
    else:
        for citation in answer.citations:
            citation_card(
                citation, passages.get(citation.chunk_id), catalog, f"{key}-{citation.n}", shorts
            )
    st.caption(footer(answer))


def article_view(article: dict[str, Any], span: tuple[int, int] | None = None) -> None:
    """One article in full, the span (a citation) highlighted in place."""
    st.subheader(md(article["title"]))
    st.caption(md(byline(article.get("source"), article.get("published_at"), article.get("path"))))
    st.caption(f"id {article['id']} · {article['chunks']} chunks")
    url = str(article.get("url") or "")
    if url.startswith(("http://", "https://")):
        st.link_button("Original page", url, icon=":material/open_in_new:")
    if article.get("duplicates"):
        copies = ", ".join(f"{md(d['title'])} ({md(d['path'])})" for d in article["duplicates"])
        st.markdown(f"**Near-duplicates in the index:** {copies}")
    st.html(article_html(article.get("text", ""), span, "cited", "rag-text"))
