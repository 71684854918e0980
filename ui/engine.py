"""The engine every page and every browser session shares, cached for the server's life.

One embedding model per model setting, one Chroma handle per index and one
:class:`~rag.pipeline.Pipeline` per full set of settings (the chat sidebar's
LLM endpoint makes a new one; top-k, engine and filters are per question).
Index updates go through the same model and Chroma handle, so a rebuild
cannot leave a cached pipeline holding a dropped collection.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from rag.embed import Embedder
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
    return Pipeline(_settings, embedder=embedder(_settings), store=store(_settings))


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
