"""The Streamlit app: ``rag ui`` (or ``streamlit run ui/app.py``).

Five pages over one shared engine (``ui/engine.py``): chat, library, timeline,
who's who, evaluation. Their scripts are in ``ui/screens/``, named here: Streamlit
would list the scripts of a ``pages/`` folder beside this one as a navigation of its
own ("app, chat, entities …"), shown on a deep link (``/library``) until this script
has run and ``st.navigation`` replaced it. The URL paths come from the file names.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from ui import access, engine, views

# A file served by the app itself: a ":material/…:" page icon makes the browser fetch
# the favicon from a web font host.
ICON = Path(__file__).resolve().parent / "static" / "newspaper.png"

st.set_page_config(page_title="newsdesk", page_icon=str(ICON), layout="wide")
st.html(views.STYLE)
# A browser that has not given the access token (or an app refusing its address) gets
# one page, registered alone: no other page's URL leads anywhere.
gate = access.blocked(engine.settings())
pages = (
    [st.Page(gate, title="newsdesk", icon=":material/lock:", url_path="sign-in", default=True)]
    if gate
    else [
        st.Page(views.CHAT, title="Chat", icon=":material/forum:", default=True),
        st.Page(views.LIBRARY, title="Library", icon=":material/library_books:"),
        st.Page(views.TIMELINE, title="Timeline", icon=":material/timeline:"),
        st.Page(views.ENTITIES, title="Who's who", icon=":material/groups:"),
        st.Page(views.EVALUATION, title="Evaluation", icon=":material/query_stats:"),
    ]
)
if not gate:
    # With RAG_FEED_PULL_MINUTES set, one schedule per server pulls the feeds, whichever
    # page a browser opens first.
    engine.feed_schedule(engine.settings())
st.navigation(pages).run()
