"""Who's who: the people, organisations and places the articles mention.

Pick one to see its articles over time (each opens in the Library), the entities
it appears with most, and a link to its timeline.
"""

from __future__ import annotations

from collections import Counter

import pandas as pd
import streamlit as st

from rag import whos_who
from rag.errors import RagError
from rag.whos_who import Profile
from ui import charts, engine, views

KINDS = {"All": None, "People": "PERSON", "Organisations": "ORG", "Places": "PLACE"}
LISTED = 200


def over_time(found: Profile) -> pd.DataFrame:
    """Articles mentioning the entity per day and outlet (dated ones)."""
    days = Counter(
        (a["published_at"][:10], a["source"] or "unknown outlet")
        for a in found.articles
        if a["published_at"]
    )
    return pd.DataFrame(
        [{"day": day, "source": source, "articles": n} for (day, source), n in days.items()]
    )


def profile_view(found: Profile) -> None:
    e = found.entity
    st.subheader(e.name)
    forms = f" · also written: {', '.join(e.variants)}" if e.variants else ""
    st.caption(f"{e.kind.lower()} · {e.articles} articles · {e.mentions} mentions{forms}")
    st.page_link(
        views.TIMELINE,
        label=f"Timeline of {e.name}",
        icon=":material/timeline:",
        query_params={"topic": e.name},
    )
    dated = over_time(found)
    if not dated.empty:
        st.altair_chart(charts.per_day(dated), width="stretch")
    left, right = st.columns([3, 2])
    with left:
        st.markdown("**Articles, oldest first**")
        for a in found.articles:
            when = (a["published_at"] or "")[:10] or "undated"
            label = f"{when} · {a['source'] or 'unknown source'} · {a['title']} ({a['mentions']}×)"
            views.article_link(a["id"], views.md(label))
    with right:
        st.markdown("**Appears most with**")
        for other in found.appears_with:
            st.markdown(
                f"- {views.md(other['name'])} ({other['kind'].lower()}), "
                f"{other['articles']} articles"
            )


def page() -> None:
    st.title("Who's who")
    settings = engine.settings()
    shown = st.segmented_control("Show", list(KINDS), default="All", key="entities_kind")
    kind = KINDS[shown or "All"]
    try:
        listed = whos_who.listing(settings, kind, LISTED)
    except RagError as exc:
        st.error(str(exc))
        return
    if not listed:
        st.info("No people, organisations or places tagged yet: add articles and update the index.")
        return
    table = pd.DataFrame(
        {
            "Name": [e.name for e in listed],
            "Type": [e.kind.lower() for e in listed],
            "Articles": [e.articles for e in listed],
            "Mentions": [e.mentions for e in listed],
        }
    )
    st.caption(
        "By the number of articles mentioning them; the forms of one name are counted "
        "together (“Raimondo”, “Gina Raimondo”). Select a row to see its articles."
    )
    picked = st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        height=320,
        on_select="rerun",
        selection_mode="single-row",
        key="entities_table",
    )
    rows = picked.selection.rows if picked is not None else []
    if not rows:
        return
    try:
        found = whos_who.profile(settings, listed[rows[0]].name, listed[rows[0]].kind)
    except RagError as exc:
        st.error(str(exc))
        return
    with st.container(border=True):
        profile_view(found)


page()
