"""Everything an index holds, read back for comparison with a clean build of the same folder.

Used by the fault tests: after a crash, a dead Chroma server or a full disk and one
more ``rag index``, the index must equal what a clean build would have made.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import numpy as np

from rag.indexing.lexical import LexicalIndex
from rag.indexing.store import ChunkStore
from rag.settings import Settings

# Manifest columns that must match a clean build exactly (indexed_at is a clock,
# vector a float mean compared with a tolerance).
_COLUMNS = (
    "id, path, title, source, published_at, url, external_id, extra, chunks, spans, cluster, "
    "text, words, deduped"
)


def manifest_path(settings: Settings) -> Path:
    return settings.index_dir / settings.collection_name / "manifest.sqlite"


def read_manifest(settings: Settings) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{manifest_path(settings)}?mode=ro", uri=True, timeout=5)


def committed_articles(settings: Settings) -> int:
    """Article rows committed so far (0 while the manifest does not exist yet)."""
    if not manifest_path(settings).exists():
        return 0
    try:
        db = read_manifest(settings)
        try:
            return int(db.execute("SELECT COUNT(*) FROM articles").fetchone()[0])
        finally:
            db.close()
    except sqlite3.Error:
        return 0


def integrity(settings: Settings) -> str:
    db = read_manifest(settings)
    try:
        return str(db.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        db.close()


def snapshot(settings: Settings) -> dict[str, Any]:
    with ChunkStore(settings) as store:
        ids = sorted(store.all_ids())
        got = store.collection.get(ids=ids, include=["documents", "metadatas", "embeddings"])
    db = read_manifest(settings)
    try:
        rows = db.execute(f"SELECT {_COLUMNS} FROM articles ORDER BY id").fetchall()
        vectors = db.execute("SELECT id, vector FROM articles ORDER BY id").fetchall()
        files = db.execute("SELECT * FROM files ORDER BY path").fetchall()
        edges = db.execute("SELECT a, b, sim FROM edges ORDER BY a, b").fetchall()
        meta = dict(db.execute("SELECT key, value FROM meta").fetchall())
        entities = db.execute(
            'SELECT article_id, start, "end", label, text, norm FROM entities '
            'ORDER BY article_id, start, "end", label'
        ).fetchall()
        tagged = db.execute(
            "SELECT article_id, pipeline FROM tagged ORDER BY article_id"
        ).fetchall()
    finally:
        db.close()
    folder = settings.index_dir / settings.collection_name
    lexical = LexicalIndex(folder)
    pointed = (folder / LexicalIndex.POINTER).read_text().strip()
    return {
        "chunks": {
            i: (d, m)
            for i, d, m in zip(got["ids"], got["documents"], got["metadatas"], strict=True)
        },
        "embeddings": {
            i: np.asarray(e, dtype=np.float32)
            for i, e in zip(got["ids"], got["embeddings"], strict=True)
        },
        "articles": rows,
        "article_vectors": {i: np.frombuffer(v, dtype=np.float32) for i, v in vectors},
        "files": files,
        "entities": entities,
        "tagged": tagged,
        "entities_pipeline": meta.get("entities_pipeline"),
        "edges": [(a, b) for a, b, _ in edges],
        "edge_sims": [s for _, _, s in edges],
        "dirty": meta.get("dirty"),
        "generation": int(meta.get("generation", 0)),
        "lexical_generation": lexical.built_generation(),
        "lexical_ids": sorted(json.loads((folder / pointed / "meta.json").read_text())["ids"]),
        "bm25_folders": sorted(p.name for p in folder.glob("bm25-*")),
        "stray_files": sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp")),
    }


def assert_same_index(got: dict[str, Any], clean: dict[str, Any]) -> None:
    """``got`` holds exactly what the clean build holds; vectors equal up to float noise."""
    assert sorted(got["chunks"]) == sorted(clean["chunks"]), "chunk ids differ"
    assert got["chunks"] == clean["chunks"], "chunk text or metadata differ"
    for cid, vector in clean["embeddings"].items():
        np.testing.assert_allclose(got["embeddings"][cid], vector, atol=1e-4)
    assert got["articles"] == clean["articles"], "manifest rows differ"
    for article_id, vector in clean["article_vectors"].items():
        np.testing.assert_allclose(got["article_vectors"][article_id], vector, atol=1e-4)
    assert got["files"] == clean["files"]
    assert got["entities"] == clean["entities"], "entities differ"
    assert got["tagged"] == clean["tagged"]
    assert got["entities_pipeline"] == clean["entities_pipeline"]
    assert got["edges"] == clean["edges"]
    np.testing.assert_allclose(got["edge_sims"], clean["edge_sims"], atol=1e-4)
    # Finished, consistent with itself: no dirty mark, BM25 built from this generation
    # over the same chunks, no orphans, no half-written leftovers.
    assert got["dirty"] == "0"
    assert got["lexical_generation"] == got["generation"]
    assert got["lexical_ids"] == sorted(got["chunks"])
    known = {row[0] for row in got["articles"]}
    assert {m["article_id"] for _, m in got["chunks"].values()} == known
    assert sum(row[8] for row in got["articles"]) == len(got["chunks"])
    # Every article tagged, no entities of an article the index does not hold.
    assert {row[0] for row in got["tagged"]} == known
    assert {row[0] for row in got["entities"]} <= known
    assert len(got["bm25_folders"]) == 1, got["bm25_folders"]
    assert got["stray_files"] == []
