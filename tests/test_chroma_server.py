"""The HttpClient path against a real `chroma run` server on a loopback port."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rag.indexing.indexer import sync
from rag.indexing.store import ChunkStore
from rag.settings import Settings
from tests.conftest import free_port, run_rag, start_chroma

pytestmark = pytest.mark.integration


@pytest.fixture
def chroma_server(tmp_path: Path):
    process, port = start_chroma(tmp_path / "server-data")
    yield port
    process.terminate()
    process.wait(timeout=30)


def test_index_and_query_through_a_chroma_server(
    chroma_server: int, settings: Settings, embedder, tmp_path: Path
):
    remote = settings.model_copy(update={"chroma_host": "127.0.0.1", "chroma_port": chroma_server})
    summary = sync(remote, embedder=embedder)
    assert len(summary.added) == 5
    assert not (remote.index_dir / "chroma").exists()  # vectors live on the server

    with ChunkStore(remote) as store:
        assert store.count() == summary.chunks
        hits = store.query(
            embedder.embed(["US companies IBM, Microsoft and Pfizer attended"])[0], 3
        )
    assert any("IBM, Microsoft and Pfizer" in doc for _, _, doc, _ in hits)

    again = sync(remote, embedder=embedder)
    assert again.chunks_embedded == 0

    env = {
        "RAG_ARTICLES_DIR": str(settings.articles_dir),
        "RAG_INDEX_DIR": str(remote.index_dir),
        "RAG_CHROMA_HOST": "127.0.0.1",
        "RAG_CHROMA_PORT": str(chroma_server),
    }
    status = json.loads(run_rag("status", "--json", env=env).stdout)
    assert status["backend"] == "http" and status["chunks_in_chroma"] == summary.chunks


def test_unreachable_server_is_a_clear_error(tmp_path: Path, articles: Path):
    env = {
        "RAG_ARTICLES_DIR": str(articles),
        "RAG_INDEX_DIR": str(tmp_path / "index"),
        "RAG_CHROMA_HOST": "127.0.0.1",
        "RAG_CHROMA_PORT": str(free_port()),
    }
    result = run_rag("index", env=env)
    assert result.returncode == 1
    assert "chroma run" in result.stderr and "RAG_CHROMA_HOST" in result.stderr
