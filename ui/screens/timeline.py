"""Timeline: the dated events about a topic, oldest first, and its coverage over time.

Each event is a cited sentence: its day (the day the sentence names, anchored to its
article's day, or the day its article was published), its outlet, a link that opens
the article in the Library with the sentence highlighted, and the other outlets that
reported the same thing.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from rag.ask.results import Filters
from rag.errors import RagError
from rag.timeline import Event, Timeline
from ui import charts, engine, views


def _heading(event: Event) -> str:
    day = date.fromisoformat(event.day)
    where = views.md(event.source or event.title)
    return f"**{day:%a} {day.day} {day:%B %Y}** · {where} · {views.md(event.dated)}"


def event_view(event: Event) -> None:
    with st.container(border=True):
        st.markdown(_heading(event))
        st.markdown(f"> {views.md(event.quote)}")
        views.article_link(
            event.article_id, views.md(event.title), event.char_start, event.char_end
        )
        if event.also_reported_by:
            also = "; ".join(
                views.md(f"{r.get('source') or 'unknown source'} — {r['title']}")
                for r in event.also_reported_by
            )
            st.caption(f"Also reported by: {also}")


def page() -> None:
    st.title("Timeline")
    settings = engine.settings()
    linked = st.query_params.get("topic")  # from Who's who: "Timeline of Gina Raimondo"
    with st.form("timeline"):
        topic = st.text_input(
            "Person, organisation or story",
            value=linked or "",
            placeholder="e.g. Binance, Sam Altman, the EU AI Act",
        )
        since, until = st.columns(2)
        first = since.date_input("Published from", value=None)
        last = until.date_input("Published until", value=None)
        asked = st.form_submit_button("Show the timeline", icon=":material/timeline:")
    if linked and st.session_state.get("timeline_linked") != linked:
        st.session_state["timeline_linked"] = linked
        asked = True  # opened from a link: show it at once
    if asked and topic.strip():
        try:
            with st.spinner("Gathering dated events…"):
                found = engine.pipeline(settings).timeline(
                    topic, filters=Filters(since=first, until=last)
                )
        except RagError as exc:
            st.error(str(exc))
            return
        st.session_state["timeline_found"] = found
    shown: Timeline | None = st.session_state.get("timeline_found")
    if shown is None:
        st.caption(
            "Dated events about a topic from the indexed articles, oldest first: the day a "
            "sentence names (“on Tuesday”, “July 14”) counted from its article's day, or "
            "the day its article was published."
        )
        return
    if not shown.events:
        st.info(f"No dated events about “{shown.topic}” in the indexed articles.")
        return
    left = f" ({shown.undated} undated articles left off)" if shown.undated else ""
    st.subheader(
        f"“{shown.topic}”: {len(shown.events)} events from {shown.articles} articles{left}"
    )
    if shown.coverage:
        st.altair_chart(charts.per_day(pd.DataFrame(shown.coverage)), width="stretch")
    for event in shown.events:
        event_view(event)


page()
