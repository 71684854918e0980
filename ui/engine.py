"""The engine every page and every browser session shares, cached for the server's life.

One embedding model per model setting, one Chroma handle per index and one
:class:`~rag.pipeline.Pipeline` per full set of settings (the chat sidebar's
LLM endpoint makes a new one; top-k, engine and filters are per question).
Index updates go through the same model and Chroma handle, so a rebuild
cannot leave a cached pipeline holding a dropped collection.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import streamlit as st

from rag import feeds
from rag.embed import Embedder
from rag.errors import IndexLockedError, RagError
from rag.indexer import IndexSummary, Progress, sync
from rag.pipeline import Pipeline
from rag.settings import Settings, get_settings
from rag.store import ChunkStore

# Chunks embedded per batch during an update from the app: small enough that the
# progress bar moves every few seconds on a laptop CPU.
UI_BATCH_CHUNKS = 64


def settings(**overrides: Any) -> Settings:
    """The settings (environment, rag.toml, defaults) with the page's overrides."""
    return get_settings({k: v for k, v in overrides.items() if v is not None})


@st.cache_resource(show_spinner="Loading the embedding model…")
def _embedder(model_id: str, device: str, _settings: Settings) -> Embedder:
    return Embedder(_settings)


@st.cache_resource(show_spinner=False)
def _store(where: str, collection: str, _settings: Settings) -> ChunkStore:
    return ChunkStore(_settings)


@st.cache_resource(show_spinner="Opening the index…", max_entries=8)
def _pipeline(key: str, _settings: Settings) -> Pipeline:
    pipe = Pipeline(_settings, embedder=embedder(_settings), store=store(_settings))
    threading.Thread(target=_warm_up, args=(pipe,), name="rag-warm-up", daemon=True).start()
    return pipe


def _warm_up(pipe: Pipeline) -> None:
    """Get ready while the page is read and the question typed (:meth:`Pipeline.warm`)."""
    try:
        pipe.warm()
    except RagError:
        return  # the first question loads again and shows the error


def embedder(s: Settings) -> Embedder:
    return _embedder(s.model_id, s.embed_device, s)


def store(s: Settings) -> ChunkStore:
    where = (
        f"http://{s.chroma_host}:{s.chroma_port}" if s.chroma_host else str(s.index_dir.resolve())
    )
    return _store(where, s.collection_name, s)


def pipeline(s: Settings) -> Pipeline:
    return _pipeline(s.model_dump_json(), s)


def update_index(
    s: Settings, *, rebuild: bool = False, progress: Progress | None = None
) -> IndexSummary:
    """The incremental sync (or a rebuild) through the shared model and Chroma handle.

    Raises :class:`~rag.errors.IndexLockedError` while another update holds the index.
    """
    batch = min(s.index_batch_chunks, UI_BATCH_CHUNKS)
    return sync(
        s.model_copy(update={"index_batch_chunks": batch}),
        rebuild=rebuild,
        embedder=embedder(s),
        store=store(s),
        progress=progress,
    )


@dataclass
class IndexJob:
    """An index update in a thread of its own: a page that is rerun or left while it
    runs (a click elsewhere, another page) does not cut it short, and the page shows
    its progress and result whenever it looks.

    ``result`` is None while it runs, then ``("done", summary dict)``,
    ``("locked", message)`` when another update holds the index, or ``("error", message)``.
    """

    rebuild: bool
    done: int = 0
    total: int = 0
    result: tuple[str, Any] | None = None
    thread: threading.Thread = field(init=False, repr=False)

    @property
    def running(self) -> bool:
        return self.result is None

    def progress(self, done: int, total: int) -> None:
        self.done, self.total = done, total


def start_update(s: Settings, *, rebuild: bool = False) -> IndexJob:
    job = IndexJob(rebuild)

    def work() -> None:
        try:
            summary = update_index(s, rebuild=rebuild, progress=job.progress)
        except IndexLockedError as exc:
            job.result = (
                "locked",
                f"Another index update is running, so this one did not start: {exc}",
            )
        except RagError as exc:
            job.result = ("error", str(exc))
        except BaseException as exc:
            job.result = ("error", f"the update failed: {exc!r}; see the server log")
            raise
        else:
            job.result = ("done", summary.to_dict())

    job.thread = threading.Thread(target=work, name="rag-index-update", daemon=True)
    job.thread.start()
    return job


@st.cache_resource(show_spinner=False)
def _feed_schedule(key: str, _settings: Settings) -> feeds.Schedule:
    def pulled(reports: list[feeds.PullReport]) -> None:
        if any(r.changed for r in reports):
            update_index(_settings)

    return feeds.Schedule(_settings, pulled).start()


def feed_schedule(s: Settings) -> feeds.Schedule | None:
    """With ``RAG_FEED_PULL_MINUTES`` set, the one schedule (per index) that pulls the feeds
    and indexes what changed while the app's server runs; None when it is off."""
    if not s.feed_pull_minutes:
        return None
    return _feed_schedule(f"{s.index_id()}-{s.feed_pull_minutes}", s)
