"""Library: what is indexed, one article in full, uploads, links, feeds and index updates.

The page has a fixed skeleton: the open article, the articles, "Add articles" and
"Update the index" are one block each, and every message goes in a slot (an
``st.empty``) that is always there. While a page re-runs, a browser keeps the last
run's elements until new ones arrive at the same place; content that moved would
show twice (a heading, a summary) for as long as an update takes. What an upload or
an update reports is shown in the slot under the button that started it.
"""

from __future__ import annotations

import math
import time
from datetime import datetime
from typing import Any

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from rag import whos_who
from rag.catalog import cluster_label, get_article, index_status, list_articles
from rag.errors import NotFoundError, RagError, UploadError
from rag.indexing import feeds, uploads
from rag.indexing.links import Outcome, add_links
from rag.indexing.loaders import SUPPORTED_SUFFIXES
from rag.settings import Settings
from ui import engine, views

# People, organisations and places offered in "Mentioning", the most mentioned first.
MENTION_CHOICES = 300
# Three lines of text a row: the grid wraps a cell's text only in rows over 64 px.
TABLE_ROW_PX = 76


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def open_article(settings: Settings, slot: DeltaGenerator) -> None:
    """The article named in the address (?article=ID&start=N&end=M), highlighted."""
    ref = st.query_params.get("article")
    if not ref:
        return
    start, end = _int(st.query_params.get("start")), _int(st.query_params.get("end"))
    try:
        article = get_article(settings, ref)
    except NotFoundError as exc:
        slot.error(str(exc))
        return
    with slot.container(border=True):
        views.article_view(article, (start, end) if start is not None and end is not None else None)
        if st.button("Close the article", icon=":material/close:"):
            st.query_params.clear()
            st.session_state["table_generation"] = st.session_state.get("table_generation", 0) + 1
            st.session_state.pop("table_opened", None)
            st.rerun()


def mentioning(settings: Settings) -> set[str] | None:
    """The ids of the articles mentioning the person, organisation or place picked in
    "Mentioning" (:mod:`rag.whos_who`); None when none is picked."""
    try:
        names = [e.name for e in whos_who.listing(settings, None, MENTION_CHOICES)]
    except RagError:
        names = []
    picked = st.selectbox(
        "Mentioning",
        names,
        index=None,
        placeholder="A person, organisation or place",
        key="library_mentioning",
        help="Only the articles that name them, in any of the forms counted as one "
        "(“Raimondo”, “Gina Raimondo”); see Who's who.",
    )
    if not picked:
        return None
    return {a["id"] for a in whos_who.profile(settings, picked).articles}


def table(articles: list[dict[str, Any]], settings: Settings) -> None:
    query = st.text_input(
        "Search", placeholder="Words from a title, a source or a file name", key="library_search"
    )
    named = mentioning(settings)
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
        and (named is None or a["id"] in named)
    ]
    st.caption(
        f"{len(rows)} of {len(articles)} articles. Select a row to read the article; "
        "articles that share a duplicate cluster are copies or rewrites of one report."
    )
    # A new table (and so no stale selection) when the filter changes or an article is closed.
    table_key = (
        f"library_table-{st.session_state.get('table_generation', 0)}-{query}-{only_duplicates}"
        f"-{len(named) if named is not None else ''}"
    )
    event = st.dataframe(
        rows,
        hide_index=True,
        width="stretch",
        on_select="rerun",
        selection_mode="single-row",
        key=table_key,
        # Rows tall enough for the grid to wrap text (it does above 4rem), and wide
        # columns for titles and file names: a cut-off "…" hid which file a row is.
        # A selected row opens the article with both in full.
        row_height=TABLE_ROW_PX,
        column_order=[c for c in rows[0] if c != "ID"] if rows else None,
        column_config={
            "Title": st.column_config.TextColumn(width="large"),
            "Source": st.column_config.TextColumn(width="medium"),
            "Date": st.column_config.TextColumn(width="small"),
            "Chunks": st.column_config.NumberColumn(width="small"),
            "Duplicate cluster": st.column_config.TextColumn(width="small"),
            "File": st.column_config.TextColumn(width="large"),
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


def update(settings: Settings, *, rebuild: bool, origin: str) -> None:
    """Start the sync; :func:`follow` shows its progress and keeps its result, both in the
    slot of the section (``origin``: "add" or "update") whose button started it."""
    st.session_state.pop("index_result", None)
    st.session_state.pop("upload_note", None)
    st.session_state.pop("fetch_problems", None)
    st.session_state["index_origin"] = origin
    st.session_state["index_job"] = engine.start_update(settings, rebuild=rebuild)


def follow(slots: dict[str, DeltaGenerator]) -> None:
    """While this session's update runs, a progress bar in its section's slot; then its
    result, shown there by :func:`outcome`."""
    job: engine.IndexJob | None = st.session_state.get("index_job")
    if job is None:
        return
    with slots[st.session_state.get("index_origin", "update")].container():
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


def outcome(slot: DeltaGenerator, section: str) -> None:
    """What the last upload or update started from ``section`` reported, in its slot."""
    if st.session_state.get("index_origin") != section or "index_job" in st.session_state:
        return
    note = st.session_state.get("upload_note")
    problems = st.session_state.get("fetch_problems")
    result = st.session_state.get("index_result")
    if not note and not result and not problems:
        return
    with slot.container():
        if note:
            st.success(views.md(note), icon=":material/upload_file:")
        if problems:
            st.warning(problems, icon=":material/link_off:")
        if result:
            summary_view(*result)


def summary_view(kind: str, data: Any) -> None:
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


def refusals(files: list[Any]) -> list[str]:
    """Dropped files of a type that is not read, in the API's words (the uploader
    accepts any type: a browser's own refusal names a MIME type, not the fix)."""
    refused = []
    for f in files:
        try:
            uploads.check_type(f.name)
        except UploadError as exc:
            refused.append(str(exc))
    return refused


def add_files(settings: Settings, busy: bool) -> DeltaGenerator:
    """The upload section; its message slot."""
    st.subheader("Add articles")
    types = sorted(SUPPORTED_SUFFIXES)
    generation = st.session_state.setdefault("upload_generation", 0)
    files = st.file_uploader(
        "Article files",
        accept_multiple_files=True,
        max_upload_size=max(1, math.ceil(settings.max_file_mb)),
        key=f"upload-{generation}",
        help=f"{', '.join(types)}; up to {settings.max_file_mb:g} MB each and "
        f"{settings.max_upload_files} at a time. They are saved into the articles folder.",
    )
    refused = refusals(files or [])
    refusal = st.empty()
    if refused:
        refusal.error("\n\n".join(views.md(r) for r in refused), icon=":material/block:")
    replace = st.checkbox("Replace files that have the same name", key="upload_replace")
    clicked = st.button(
        "Add and update the index",
        type="primary",
        disabled=busy or not files or bool(refused),
        icon=":material/upload:",
    )
    slot = st.empty()
    if not clicked:
        outcome(slot, "add")
        return slot
    try:
        saved = uploads.save(
            settings, [(f.name, f.getvalue()) for f in files or []], overwrite=replace
        )
    except RagError as exc:
        slot.error(str(exc))
        return slot
    st.session_state["upload_generation"] = generation + 1
    update(settings, rebuild=False, origin="add")
    st.session_state["upload_note"] = f"Saved {', '.join(saved)} into the articles folder."
    st.rerun()


def fetched(
    settings: Settings, outcomes: list[Outcome], origin: str, slot: DeltaGenerator, lead: str = ""
) -> None:
    """After links were fetched or feeds pulled: index what changed (its summary then shows
    in ``origin``'s slot, with the saved and failed URLs), or say at once why nothing did.
    ``lead``: a line said first (each feed's pull)."""
    saved = [o for o in outcomes if o.status in ("added", "updated")]
    others = [o for o in outcomes if o.status not in ("added", "updated")]
    problems = "\n".join(f"- {views.md(o.url)}: {o.status} — {views.md(o.reason)}" for o in others)
    if not saved:
        with slot.container():
            st.info(views.md(lead) or "Nothing new to add.", icon=":material/info:")
            if problems:
                st.warning(problems, icon=":material/link_off:")
        return
    update(settings, rebuild=False, origin=origin)
    st.session_state["upload_note"] = (
        (f"{lead}\n\n" if lead else "")
        + "Saved "
        + ", ".join(f"{o.path} ({o.status})" for o in saved)
    )
    if problems:
        st.session_state["fetch_problems"] = problems
    st.rerun()


def add_links_section(settings: Settings, busy: bool) -> DeltaGenerator:
    """Paste links: each page fetched, its article saved into the articles folder; its
    message slot."""
    st.subheader("Add links")
    generation = st.session_state.setdefault("links_generation", 0)
    text = st.text_area(
        "Links to news articles, one a line",
        key=f"links-{generation}",
        placeholder="https://example.com/2023/11/20/story.html",
        help="Each page is fetched (http and https only, public addresses, within "
        f"{settings.fetch_timeout:g} s and {settings.fetch_max_mb:g} MB), its article text "
        "saved under web/ in the articles folder and indexed. A link added before is not "
        "fetched again.",
    )
    urls = [line.strip() for line in text.splitlines() if line.strip()]
    clicked = st.button(
        "Fetch and add", disabled=busy or not urls, icon=":material/add_link:", key="links_add"
    )
    slot = st.empty()
    if not clicked:
        outcome(slot, "links")
        return slot
    with slot.container(), st.spinner(f"Fetching {len(urls)} link(s)…"):
        outcomes = add_links(settings, urls)
    st.session_state["links_generation"] = generation + 1
    fetched(settings, outcomes, "links", slot)
    return slot


def _last_pull(feed: feeds.Feed) -> str:
    last = feed.last_pull
    if not last:
        return "not pulled yet"
    when = datetime.fromisoformat(last["at"]).astimezone().strftime("%d %b %H:%M")
    return f"{views.md(last['summary'])} ({when})"


def feeds_section(settings: Settings, busy: bool) -> DeltaGenerator:
    """RSS and Atom feeds: the list with each one's last pull, add, remove, pull now; its
    message slot."""
    st.subheader("Feeds")
    try:
        listed = feeds.load(settings)
    except RagError as exc:
        st.error(str(exc))
        listed = []
    every = settings.feed_pull_minutes
    st.caption(
        (f"Pulled every {every} minutes while the app runs. " if every else "")
        + "New and changed items are fetched, saved under web/ in the articles folder and "
        "indexed."
    )
    lines = "\n".join(
        f"- **{views.md(f.name)}** — {views.md(f.url)} · last pull: {_last_pull(f)}" for f in listed
    )
    st.markdown(lines or "No feeds yet: add an RSS or Atom feed's address below.")
    generation = st.session_state.setdefault("feeds_generation", 0)
    url_box, name_box = st.columns([3, 1])
    url = url_box.text_input("Feed URL", key=f"feed-url-{generation}").strip()
    name = name_box.text_input("Name (optional)", key=f"feed-name-{generation}").strip()
    add, pull, pick, remove = st.columns(4, vertical_alignment="bottom")
    adding = add.button("Add feed", disabled=not url, icon=":material/rss_feed:", width="stretch")
    pulling = pull.button(
        "Pull feeds now", disabled=busy or not listed, icon=":material/sync:", width="stretch"
    )
    choice = pick.selectbox(
        "Feed to remove",
        [f.name for f in listed],
        index=None,
        placeholder="A feed to remove",
        key=f"feed-remove-{generation}",
    )
    removing = remove.button(
        "Remove feed", disabled=not choice, icon=":material/delete:", width="stretch"
    )
    slot = st.empty()
    try:
        if adding:
            feed = feeds.add(settings, url, name or None)
            st.session_state["feeds_note"] = f"Added feed {feed.name}: {feed.url}"
        elif removing and choice:
            feed = feeds.remove(settings, choice)
            st.session_state["feeds_note"] = (
                f"Removed feed {feed.name}; the articles it added stay in the folder."
            )
        elif pulling:
            with slot.container(), st.spinner("Pulling the feeds…"):
                reports = feeds.pull(settings)
            lead = "\n\n".join(r.line() for r in reports)
            fetched(settings, [i for r in reports for i in r.items], "feeds", slot, lead)
            return slot
    except RagError as exc:
        slot.error(str(exc))
        return slot
    if adding or removing:
        st.session_state["feeds_generation"] = generation + 1
        st.rerun()
    note = st.session_state.pop("feeds_note", None)
    if note:
        slot.success(views.md(note), icon=":material/rss_feed:")
    else:
        outcome(slot, "feeds")
    return slot


def maintain(settings: Settings, status: dict[str, Any], busy: bool) -> DeltaGenerator:
    """The update and rebuild section; its message slot."""
    st.subheader("Update the index")
    st.caption(
        f"Articles folder `{settings.articles_dir.resolve()}` → index "
        f"`{settings.index_dir.resolve()}` ({status['backend']}, {status['collection']}). "
        "An update embeds only new or changed files and removes deleted ones."
    )
    left, right = st.columns(2)
    if left.button("Update index", icon=":material/sync:", width="stretch", disabled=busy):
        update(settings, rebuild=False, origin="update")
        st.rerun()
    if right.button(
        "Rebuild from scratch…", icon=":material/restart_alt:", width="stretch", disabled=busy
    ):
        st.session_state["confirm_rebuild"] = True
    confirm = st.empty()
    if st.session_state.get("confirm_rebuild"):
        with confirm.container():
            st.warning(
                f"Rebuilding drops the index and embeds all {status['articles']} articles "
                f"({status['chunks']} chunks) again. Questions are answered from an empty "
                "index until it finishes.",
                icon=":material/warning:",
            )
            yes, no = st.columns(2)
            if yes.button("Yes, rebuild the index", type="primary", width="stretch", disabled=busy):
                st.session_state["confirm_rebuild"] = False
                update(settings, rebuild=True, origin="update")
                st.rerun()
            if no.button("Cancel", width="stretch"):
                st.session_state["confirm_rebuild"] = False
                st.rerun()
    slot = st.empty()
    outcome(slot, "update")
    return slot


settings = engine.settings()
status = index_status(settings, check_store=False)
articles = list_articles(settings)

st.title("Library")
a, b, c, d = st.columns(4)
a.metric("Articles", status["articles"])
b.metric("Chunks", status["chunks"])
c.metric("Duplicate clusters", status["duplicate_clusters"])
updated = status["updated_at"]
when = datetime.fromisoformat(updated).astimezone() if updated else None
# A metric shows a short value whole: the time when it was today, else the day.
d.metric(
    "Last updated",
    "never"
    if when is None
    else when.strftime("%H:%M" if when.date() == datetime.now().astimezone().date() else "%d %b"),
    help=when.strftime("%d %B %Y, %H:%M") if when else None,
)

busy = "index_job" in st.session_state
open_article(settings, st.empty())
with st.container(key="library-articles"):
    if articles:
        table(articles, settings)
        clusters(articles)
    else:
        st.info(
            "**No articles are indexed yet.** Upload files below, or put .txt, .md, .html, "
            ".json, .jsonl, .pdf, .docx or .mhtml files into "
            f"`{settings.articles_dir.resolve()}` and click **Update index**.",
            icon=":material/info:",
        )
with st.container(key="library-add"):
    add_slot = add_files(settings, busy)
with st.container(key="library-links"):
    links_slot = add_links_section(settings, busy)
with st.container(key="library-feeds"):
    feeds_slot = feeds_section(settings, busy)
with st.container(key="library-update"):
    update_slot = maintain(settings, status, busy)
follow({"add": add_slot, "links": links_slot, "feeds": feeds_slot, "update": update_slot})
