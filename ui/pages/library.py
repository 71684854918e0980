"""Library: what is indexed, one article in full, uploads and index updates."""

from __future__ import annotations

import math
import time
from datetime import datetime
from typing import Any

import streamlit as st

from rag import uploads
from rag.catalog import cluster_label, get_article, index_status, list_articles
from rag.errors import NotFoundError, RagError
from rag.loaders import SUPPORTED_SUFFIXES
from rag.settings import Settings
from ui import engine, views


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def open_article(settings: Settings) -> None:
    """The article named in the address (?article=ID&start=N&end=M), highlighted."""
    ref = st.query_params.get("article")
    if not ref:
        return
    start, end = _int(st.query_params.get("start")), _int(st.query_params.get("end"))
    try:
        article = get_article(settings, ref)
    except NotFoundError as exc:
        st.error(str(exc))
        return
    with st.container(border=True):
        views.article_view(article, (start, end) if start is not None and end is not None else None)
        if st.button("Close the article", icon=":material/close:"):
            st.query_params.clear()
            st.session_state["table_generation"] = st.session_state.get("table_generation", 0) + 1
            st.session_state.pop("table_opened", None)
            st.rerun()


def table(articles: list[dict[str, Any]]) -> None:
    query = st.text_input(
        "Search", placeholder="Words from a title, a source or a file name", key="library_search"
    )
    only_duplicates = st.toggle("Only articles with near-duplicates", key="library_duplicates")
    words = query.lower().split()
    rows = [
        {
            "Title": a["title"],
            "Source": a["source"] or "",
            "Date": (a["published_at"] or "")[:10],
            "Chunks": a["chunks"],
            "Duplicate cluster": cluster_label(a),
            "File": a["path"],
            "ID": a["id"],
        }
        for a in articles
        if all(w in f"{a['title']} {a['source']} {a['path']} {a['id']}".lower() for w in words)
        and (a["cluster_size"] > 1 or not only_duplicates)
    ]
    st.caption(
        f"{len(rows)} of {len(articles)} articles. Select a row to read the article; "
        "articles that share a duplicate cluster are copies or rewrites of one report."
    )
    # A new table (and so no stale selection) when the filter changes or an article is closed.
    table_key = (
        f"library_table-{st.session_state.get('table_generation', 0)}-{query}-{only_duplicates}"
    )
    event = st.dataframe(
        rows,
        hide_index=True,
        width="stretch",
        on_select="rerun",
        selection_mode="single-row",
        key=table_key,
        column_config={
            "Title": st.column_config.TextColumn(width="large"),
            "Chunks": st.column_config.NumberColumn(width="small"),
        },
    )
    selected = event.selection.rows if event is not None else []
    chosen = rows[selected[0]]["ID"] if selected and selected[0] < len(rows) else None
    if chosen and chosen != st.session_state.get("table_opened"):
        st.session_state["table_opened"] = chosen
        st.query_params.clear()
        st.query_params["article"] = chosen
        st.rerun()


def clusters(articles: list[dict[str, Any]]) -> None:
    groups: dict[str, list[dict[str, Any]]] = {}
    for a in articles:
        if a["cluster_size"] > 1:
            groups.setdefault(a["cluster"], []).append(a)
    if not groups:
        return
    with st.expander(f"Duplicate clusters ({len(groups)})"):
        for cluster, members in groups.items():
            members.sort(key=lambda a: a["id"] != cluster)
            lines = "\n".join(
                f"- {views.md(a['title'])} — {views.md(a['source'] or 'unknown source')}, "
                f"{views.md(a['path'])}" + (" *(canonical)*" if a["id"] == cluster else "")
                for a in members
            )
            st.markdown(f"**Cluster {cluster[:8]}** ({len(members)} articles)\n\n{lines}")


def update(settings: Settings, *, rebuild: bool) -> None:
    """Start the sync; :func:`follow` shows its progress and keeps its result."""
    st.session_state.pop("index_result", None)
    st.session_state.pop("upload_note", None)
    st.session_state["index_job"] = engine.start_update(settings, rebuild=rebuild)


def follow(slot: Any) -> None:
    """While this session's update runs, a progress bar in ``slot``; then its result."""
    job: engine.IndexJob | None = st.session_state.get("index_job")
    if job is None:
        return
    with slot:
        bar = st.progress(0.0, text="Reading the articles folder…")
        while job.running:
            if job.total:
                bar.progress(
                    min(1.0, job.done / job.total),
                    text=f"Embedded {job.done} of {job.total} chunks",
                )
            time.sleep(0.2)
    st.session_state["index_result"] = job.result
    del st.session_state["index_job"]
    st.rerun()


def summary_view() -> None:
    result = st.session_state.get("index_result")
    if not result:
        return
    kind, data = result
    if kind != "done":
        st.error(data, icon=":material/lock:" if kind == "locked" else None)
        return
    st.success(
        f"Index updated in {data['seconds']:.1f} s: added {len(data['added'])}, "
        f"updated {len(data['updated'])}, removed {len(data['removed'])}, "
        f"renamed {len(data['renamed'])}, unchanged {data['unchanged']}, "
        f"skipped {len(data['skipped'])}. {data['chunks_embedded']} chunks embedded; "
        f"the index holds {data['articles']} articles in {data['chunks']} chunks.",
        icon=":material/check_circle:",
    )
    for label, key in (("Added", "added"), ("Updated", "updated"), ("Removed", "removed")):
        if data[key]:
            st.markdown(f"**{label}:** " + ", ".join(views.md(p) for p in data[key]))
    if data["renamed"]:
        st.markdown("**Renamed:** " + ", ".join(views.md(p) for p in data["renamed"]))
    if data["skipped"]:
        st.markdown("**Skipped** (not indexed):")
        st.dataframe(
            [{"File": s["path"], "Reason": s["reason"]} for s in data["skipped"]],
            hide_index=True,
            width="stretch",
        )


def add_files(settings: Settings, busy: bool) -> None:
    st.subheader("Add articles")
    types = sorted(s.lstrip(".") for s in SUPPORTED_SUFFIXES)
    generation = st.session_state.setdefault("upload_generation", 0)
    files = st.file_uploader(
        "Article files",
        type=types,
        accept_multiple_files=True,
        max_upload_size=max(1, math.ceil(settings.max_file_mb)),
        key=f"upload-{generation}",
        help=f"{', '.join('.' + t for t in types)}; up to {settings.max_file_mb:g} MB each and "
        f"{settings.max_upload_files} at a time. They are saved into the articles folder.",
    )
    replace = st.checkbox("Replace files that have the same name", key="upload_replace")
    if st.button(
        "Add and update the index",
        type="primary",
        disabled=busy or not files,
        icon=":material/upload:",
    ):
        try:
            saved = uploads.save(
                settings, [(f.name, f.getvalue()) for f in files or []], overwrite=replace
            )
        except RagError as exc:
            st.error(str(exc))
            return
        st.session_state["upload_generation"] = generation + 1
        update(settings, rebuild=False)
        st.session_state["upload_note"] = f"Saved {', '.join(saved)} into the articles folder."
        st.rerun()


def maintain(settings: Settings, status: dict[str, Any], busy: bool) -> None:
    st.subheader("Update the index")
    st.caption(
        f"Articles folder `{settings.articles_dir.resolve()}` → index "
        f"`{settings.index_dir.resolve()}` ({status['backend']}, {status['collection']}). "
        "An update embeds only new or changed files and removes deleted ones."
    )
    left, right = st.columns(2)
    if left.button("Update index", icon=":material/sync:", width="stretch", disabled=busy):
        update(settings, rebuild=False)
        st.rerun()
    if right.button(
        "Rebuild from scratch…", icon=":material/restart_alt:", width="stretch", disabled=busy
    ):
        st.session_state["confirm_rebuild"] = True
    if st.session_state.get("confirm_rebuild"):
        st.warning(
            f"Rebuilding drops the index and embeds all {status['articles']} articles "
            f"({status['chunks']} chunks) again. Questions are answered from an empty index "
            "until it finishes.",
            icon=":material/warning:",
        )
        yes, no = st.columns(2)
        if yes.button("Yes, rebuild the index", type="primary", width="stretch", disabled=busy):
            st.session_state["confirm_rebuild"] = False
            update(settings, rebuild=True)
            st.rerun()
        if no.button("Cancel", width="stretch"):
            st.session_state["confirm_rebuild"] = False
            st.rerun()


settings = engine.settings()
status = index_status(settings, check_store=False)
articles = list_articles(settings)

st.title("Library")
a, b, c, d = st.columns(4)
a.metric("Articles", status["articles"])
b.metric("Chunks", status["chunks"])
c.metric("Duplicate clusters", status["duplicate_clusters"])
updated = status["updated_at"]
d.metric(
    "Last updated",
    datetime.fromisoformat(updated).astimezone().strftime("%d %b, %H:%M") if updated else "never",
)

busy = "index_job" in st.session_state
progress_slot = st.container()
if (note := st.session_state.get("upload_note")) and not busy:
    st.success(views.md(note), icon=":material/upload_file:")
summary_view()
open_article(settings)
if articles:
    table(articles)
    clusters(articles)
else:
    st.info(
        "**No articles are indexed yet.** Upload files below, or put .txt, .md, .html, .json "
        f"or .jsonl files into `{settings.articles_dir.resolve()}` and click **Update index**.",
        icon=":material/info:",
    )
add_files(settings, busy)
maintain(settings, status, busy)
follow(progress_slot)
