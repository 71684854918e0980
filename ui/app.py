"""The Streamlit app: ``rag ui`` (or ``streamlit run ui/app.py``).

Three pages over one shared engine (``ui/engine.py``): chat, library, evaluation.
"""

from __future__ import annotations

import streamlit as st

from ui import views

st.set_page_config(page_title="newsdesk", page_icon=":material/newspaper:", layout="wide")
st.html(views.STYLE)

page = st.navigation(
    [
        st.Page(views.CHAT, title="Chat", icon=":material/forum:", default=True),
        st.Page(views.LIBRARY, title="Library", icon=":material/library_books:"),
        st.Page(views.EVALUATION, title="Evaluation", icon=":material/query_stats:"),
    ]
)
page.run()
