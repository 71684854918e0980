"""The manifest: what is indexed, in one SQLite file beside the vectors.

It is the source of truth for the index. An article row is committed only
after all its chunks are in Chroma, so after a crash the manifest never
claims more than Chroma holds; extra chunks in Chroma (orphans) are found
and removed by the next run. ``dirty`` marks a run that started writing and
did not finish, which makes the next run check Chroma against the manifest.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from rag.errors import StoreError
from rag.indexing.articles import Article
from rag.indexing.chunk import chunk_id
from rag.text.nlp import Entity

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS articles (
    id TEXT PRIMARY KEY,
    path TEXT NOT NULL,
    title TEXT NOT NULL,
    source TEXT,
    published_at TEXT,
    url TEXT,
    external_id TEXT,
    extra TEXT NOT NULL DEFAULT '{}',
    chunks INTEGER NOT NULL,
    spans TEXT NOT NULL,
    cluster TEXT NOT NULL,
    indexed_at TEXT NOT NULL,
    text TEXT NOT NULL,
    vector BLOB NOT NULL,
    words BLOB NOT NULL,
    deduped INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS articles_path ON articles(path);
CREATE TABLE IF NOT EXISTS files (
    path TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    article_ids TEXT NOT NULL,
    defaults TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS edges (
    a TEXT NOT NULL,
    b TEXT NOT NULL,
    sim REAL NOT NULL,
    PRIMARY KEY (a, b)
);
CREATE INDEX IF NOT EXISTS edges_b ON edges(b);
CREATE TABLE IF NOT EXISTS entities (
    article_id TEXT NOT NULL,
    start INTEGER NOT NULL,
    "end" INTEGER NOT NULL,
    label TEXT NOT NULL,
    text TEXT NOT NULL,
    norm TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS entities_article ON entities(article_id, start);
CREATE INDEX IF NOT EXISTS entities_norm ON entities(norm);
CREATE TABLE IF NOT EXISTS tagged (
    article_id TEXT PRIMARY KEY,
    pipeline TEXT NOT NULL
);
"""

# Bumped when the tables change; an index built with another version is rebuilt.
# (New tables created with IF NOT EXISTS need no bump: `entities` and `tagged` are
# filled in by the next `rag index` on an index that predates them. Nor does a column
# added with a default, as `files.defaults` is, by `_add_columns`.)
SCHEMA_VERSION = "1"

# A file read without problems: size, mtime_ns, article ids, and the fingerprint of the
# folder defaults it was read with (rag.indexing.folder_defaults; "" for none).
FileEntry = tuple[int, int, list[str], str]
_ADDED_COLUMNS = {"files": {"defaults": "TEXT NOT NULL DEFAULT ''"}}

# Values bound in one statement (SQLite's limit is 32,766 since 3.32, 999 before).
_SQL_VARIABLES = 900

_ROW = (
    "id, path, title, source, published_at, url, external_id, extra, chunks, spans, cluster, "
    "indexed_at"
)


@dataclass
class IndexedArticle:
    """A manifest row (without the full text and vectors)."""

    id: str
    path: str
    title: str
    source: str | None
    published_at: str | None
    url: str | None
    external_id: str | None
    extra: dict[str, Any]
    chunks: int
    spans: list[tuple[int, int]]
    cluster: str
    indexed_at: str

    def to_dict(self) -> dict[str, Any]:
        data = dict(self.__dict__)
        data["spans"] = [list(s) for s in self.spans]
        return data


def _row(row: sqlite3.Row) -> IndexedArticle:
    data = dict(row)
    data["extra"] = json.loads(data["extra"])
    data["spans"] = [tuple(s) for s in json.loads(data["spans"])]
    return IndexedArticle(**data)


def connect_read_only(path: Path, *, shared: bool = False) -> sqlite3.Connection:
    """A connection that never writes. A WAL database needs a ``-shm`` file beside it
    even to be read; in a folder nobody may write to, none can be created, and no
    writer can be at work either, so the file is read as immutable instead.
    ``shared``: usable from any thread (the caller serialises its use)."""
    uri = f"{path.absolute().as_uri()}?mode=ro"  # the default index folder is relative
    db = sqlite3.connect(
        uri, uri=True, timeout=30, isolation_level=None, check_same_thread=not shared
    )
    try:
        db.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
    except sqlite3.OperationalError:
        db.close()
        if os.access(path.parent, os.W_OK):
            raise  # not the read-only folder case: a real problem, reported as such
        db = sqlite3.connect(
            uri + "&immutable=1", uri=True, isolation_level=None, check_same_thread=not shared
        )
    return db


class Manifest:
    FILE = "manifest.sqlite"

    def __init__(self, folder: Path, *, read_only: bool = False) -> None:
        """Open (and create) the manifest in ``folder``; ``read_only`` for readers, which
        never write and so also work on an index folder they may not write to."""
        self.path = folder / self.FILE
        try:
            if read_only:
                self.db = connect_read_only(self.path)
            else:
                folder.mkdir(parents=True, exist_ok=True)
                self.db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            self.db.row_factory = sqlite3.Row
            if not read_only:
                self.db.execute("PRAGMA journal_mode=WAL")
                self.db.execute("PRAGMA synchronous=NORMAL")
                self.db.executescript(_SCHEMA)
                self._add_columns()
            version = self.get_meta("schema")
            if version is None and not read_only:
                self.set_meta("schema", SCHEMA_VERSION)
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(
                f"cannot open the manifest {self.path}: {exc}; check that the index folder "
                + ("is readable" if read_only else "is writable and the disk is not full")
            ) from exc

        if version not in (None, SCHEMA_VERSION):
            raise StoreError(
                f"the index in {folder} was built by another version of rag "
                f"(manifest schema {version}, expected {SCHEMA_VERSION}); run `rag index --rebuild`"
            )

    def _columns(self, table: str) -> set[str]:
        return {str(row[1]) for row in self.db.execute(f"PRAGMA table_info({table})")}

    def _add_columns(self) -> None:
        """Columns added since a manifest was created; each has a default, so an older
        index gains them in place (one ALTER, atomic) and is not rebuilt."""
        for table, columns in _ADDED_COLUMNS.items():
            have = self._columns(table)
            for name, kind in columns.items():
                if name not in have:
                    self.db.execute(f"ALTER TABLE {table} ADD COLUMN {name} {kind}")

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        try:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            self.db.execute("COMMIT")
        except sqlite3.Error as exc:
            raise StoreError(
                f"cannot write the manifest {self.path}: {exc}; check that the index folder "
                "is writable and the disk is not full"
            ) from exc

    # --- meta ------------------------------------------------------------------

    def get_meta(self, key: str, default: str | None = None) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else default

    def set_meta(self, key: str, value: str) -> None:
        self.db.execute(
            "INSERT INTO meta(key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    @property
    def dirty(self) -> bool:
        return self.get_meta("dirty", "0") == "1"

    def set_dirty(self, dirty: bool) -> None:
        """Mark a run as writing (True) or finished (False); finishing bumps the generation."""
        with self.transaction():
            self.set_meta("dirty", "1" if dirty else "0")
            if not dirty:
                self.set_meta("updated_at", datetime.now(UTC).isoformat(timespec="seconds"))
                self.set_meta("generation", str(self.generation + 1))

    @property
    def generation(self) -> int:
        """Counts finished runs that changed the index; readers use it to notice changes."""
        return int(self.get_meta("generation", "0") or 0)

    # --- articles --------------------------------------------------------------

    def add(
        self,
        article: Article,
        spans: list[tuple[int, int]],
        vector: np.ndarray,
        words: np.ndarray,
    ) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO articles VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,0)",
            (
                article.id,
                article.path,
                article.title,
                article.source,
                article.published_at,
                article.url,
                article.external_id,
                json.dumps(article.extra, ensure_ascii=False, default=str),
                len(spans),
                json.dumps(spans),
                article.id,
                datetime.now(UTC).isoformat(timespec="seconds"),
                article.text,
                np.asarray(vector, dtype=np.float32).tobytes(),
                np.asarray(words, dtype=np.uint64).tobytes(),
            ),
        )

    def remove(self, ids: Iterable[str]) -> None:
        for article_id in ids:
            self.db.execute("DELETE FROM articles WHERE id = ?", (article_id,))
            self.db.execute("DELETE FROM edges WHERE a = ? OR b = ?", (article_id, article_id))
            self._forget_entities(article_id)

    def set_path(self, article_id: str, path: str) -> None:
        self.db.execute("UPDATE articles SET path = ? WHERE id = ?", (path, article_id))

    def set_cluster(self, article_id: str, cluster: str) -> None:
        self.db.execute("UPDATE articles SET cluster = ? WHERE id = ?", (cluster, article_id))

    def articles(self) -> list[IndexedArticle]:
        rows = self.db.execute(f"SELECT {_ROW} FROM articles ORDER BY path").fetchall()
        return [_row(r) for r in rows]

    def article(self, article_id: str) -> IndexedArticle | None:
        row = self.db.execute(f"SELECT {_ROW} FROM articles WHERE id = ?", (article_id,)).fetchone()
        return _row(row) if row else None

    def text(self, article_id: str) -> str | None:
        row = self.db.execute("SELECT text FROM articles WHERE id = ?", (article_id,)).fetchone()
        return row[0] if row else None

    def texts(self) -> dict[str, str]:
        """article id → cleaned text, for every article."""
        return dict(self.db.execute("SELECT id, text FROM articles").fetchall())

    def chunk_texts(self, wanted: Sequence[str]) -> list[str]:
        """The embedded (and BM25-indexed) text of chunks ``wanted``, rebuilt from the
        stored articles — only those articles are read."""
        from rag.indexing.chunk import embed_header

        articles = sorted({cid.rpartition(":")[0] for cid in wanted})
        found: dict[str, str] = {}
        for first in range(0, len(articles), 500):
            batch = articles[first : first + 500]
            rows = self.db.execute(
                "SELECT id, title, source, published_at, spans, text FROM articles "
                f"WHERE id IN ({','.join('?' * len(batch))})",
                batch,
            )
            for article_id, title, source, published_at, spans, text in rows:
                header = embed_header(title, source, published_at)
                for number, (start, end) in enumerate(json.loads(spans)):
                    found[chunk_id(article_id, number)] = header + text[start:end]
        return [found[cid] for cid in wanted]

    def chunk_ids(self) -> list[str]:
        """Every chunk id, in article-id order."""
        rows = self.db.execute("SELECT id, chunks FROM articles ORDER BY id")
        return [chunk_id(a, n) for a, total in rows for n in range(total)]

    def chunk_counts(self) -> dict[str, int]:
        return dict(self.db.execute("SELECT id, chunks FROM articles").fetchall())

    def paths(self) -> dict[str, str]:
        """article id → path"""
        return dict(self.db.execute("SELECT id, path FROM articles").fetchall())

    def has_articles(self) -> bool:
        return self.db.execute("SELECT 1 FROM articles LIMIT 1").fetchone() is not None

    def total_chunks(self) -> int:
        return int(self.db.execute("SELECT COALESCE(SUM(chunks), 0) FROM articles").fetchone()[0])

    def dedup_features(self) -> tuple[list[str], np.ndarray, list[np.ndarray]]:
        rows = self.db.execute("SELECT id, vector, words FROM articles ORDER BY id").fetchall()
        ids = [r[0] for r in rows]
        vectors = (
            np.stack([np.frombuffer(r[1], dtype=np.float32) for r in rows])
            if rows
            else np.zeros((0, 0), dtype=np.float32)
        )
        words = [np.frombuffer(r[2], dtype=np.uint64) for r in rows]
        return ids, vectors, words

    # --- near-duplicate edges --------------------------------------------------

    def add_edges(self, edges: Iterable[tuple[str, str, float]]) -> None:
        self.db.executemany(
            "INSERT OR REPLACE INTO edges VALUES (?, ?, ?)",
            [(min(a, b), max(a, b), sim) for a, b, sim in edges],
        )

    def undeduped(self) -> list[str]:
        """Articles not yet compared with the rest for near-duplicates."""
        return [
            r[0] for r in self.db.execute("SELECT id FROM articles WHERE deduped = 0 ORDER BY id")
        ]

    def mark_deduped(self, ids: Iterable[str]) -> None:
        self.db.executemany("UPDATE articles SET deduped = 1 WHERE id = ?", [(a,) for a in ids])

    def edges(self) -> list[tuple[str, str, float]]:
        rows = self.db.execute("SELECT a, b, sim FROM edges").fetchall()
        return [(str(a), str(b), float(sim)) for a, b, sim in rows]

    def edges_of(self, ids: Iterable[str]) -> list[tuple[str, str, float]]:
        """The edges that touch any of ``ids``."""
        ids = list(ids)
        found: set[tuple[str, str, float]] = set()
        for first in range(0, len(ids), _SQL_VARIABLES):
            part = ids[first : first + _SQL_VARIABLES]
            marks = ",".join("?" * len(part))
            for column in ("a", "b"):
                rows = self.db.execute(
                    f"SELECT a, b, sim FROM edges WHERE {column} IN ({marks})", part
                )
                found.update((str(a), str(b), float(sim)) for a, b, sim in rows)
        return sorted(found)

    def published(self) -> dict[str, str | None]:
        """article id → publication date, for every article."""
        return dict(self.db.execute("SELECT id, published_at FROM articles").fetchall())

    def clusters(self) -> dict[str, str]:
        return dict(self.db.execute("SELECT id, cluster FROM articles").fetchall())

    # --- named entities --------------------------------------------------------
    #
    # ``tagged`` records which articles have their entities stored (an article may
    # have none) and by which pipeline; ``entities`` holds them. Both are written in
    # the transaction that writes the article row, or in a backfill batch's own.

    def _forget_entities(self, article_id: str) -> None:
        self.db.execute("DELETE FROM entities WHERE article_id = ?", (article_id,))
        self.db.execute("DELETE FROM tagged WHERE article_id = ?", (article_id,))

    def set_entities(self, article_id: str, entities: Iterable[Entity], pipeline: str) -> None:
        """Store ``entities`` (offsets into the article's cleaned text) as the article's
        entities found by ``pipeline``, replacing any earlier ones. Call it inside the
        transaction that adds the article."""
        self._forget_entities(article_id)
        self.db.executemany(
            'INSERT INTO entities(article_id, start, "end", label, text, norm) '
            "VALUES (?, ?, ?, ?, ?, ?)",
            [(article_id, e.start, e.end, e.label, e.text, e.norm) for e in entities],
        )
        self.db.execute("INSERT INTO tagged VALUES (?, ?)", (article_id, pipeline))

    def entities(
        self, article_id: str, start: int | None = None, end: int | None = None
    ) -> list[Entity]:
        """The entities of one article, in text order; with ``start``/``end``, only those
        lying wholly within characters ``[start, end)`` of its cleaned text."""
        return entities_within(self.db, article_id, start, end)

    def entities_pipeline(self) -> dict[str, str] | None:
        """The spaCy pipeline that tags this index's articles: ``setting`` (RAG_SPACY_MODEL),
        ``pipeline`` and ``version`` (from its meta) and ``id``, which ``tagged`` records
        per article. None before anything was tagged."""
        value = self.get_meta("entities_pipeline")
        return json.loads(value) if value else None

    def set_entities_pipeline(self, pipeline: dict[str, str]) -> None:
        self.set_meta("entities_pipeline", json.dumps(pipeline, sort_keys=True))

    def untagged(self, pipeline: str) -> list[str]:
        """Articles without entities from ``pipeline`` (never tagged, or by another one)."""
        rows = self.db.execute(
            "SELECT a.id FROM articles a LEFT JOIN tagged t ON t.article_id = a.id "
            "WHERE t.pipeline IS NOT ? ORDER BY a.id",
            (pipeline,),
        )
        return [r[0] for r in rows]

    def texts_of(self, ids: Sequence[str]) -> dict[str, str]:
        """article id → cleaned text, for ``ids`` only."""
        found: dict[str, str] = {}
        for first in range(0, len(ids), _SQL_VARIABLES):
            part = list(ids[first : first + _SQL_VARIABLES])
            rows = self.db.execute(
                f"SELECT id, text FROM articles WHERE id IN ({','.join('?' * len(part))})", part
            )
            found.update(rows.fetchall())
        return found

    # --- file stat cache -------------------------------------------------------

    def files(self) -> dict[str, FileEntry]:
        """path → (size, mtime_ns, article ids, defaults fingerprint) for files that were
        read without problems."""
        # A reader may open an index written before the column existed.
        defaults = "defaults" if "defaults" in self._columns("files") else "''"
        rows = self.db.execute(f"SELECT path, size, mtime_ns, article_ids, {defaults} FROM files")
        return {r[0]: (r[1], r[2], json.loads(r[3]), r[4]) for r in rows}

    def replace_files(self, entries: dict[str, FileEntry]) -> None:
        self.db.execute("DELETE FROM files")
        self.db.executemany(
            "INSERT INTO files(path, size, mtime_ns, article_ids, defaults) VALUES (?, ?, ?, ?, ?)",
            [(p, s, m, json.dumps(ids), d) for p, (s, m, ids, d) in entries.items()],
        )

    def reset(self) -> None:
        """Forget everything but the generation: readers (a running app's catalog, the BM25
        index) compare generations, so a rebuild must move it on, never back to an old one."""
        generation = self.generation
        with self.transaction():
            for table in ("articles", "files", "edges", "entities", "tagged", "meta"):
                self.db.execute(f"DELETE FROM {table}")
            self.set_meta("schema", SCHEMA_VERSION)
            self.set_meta("generation", str(generation))


def entities_within(
    db: sqlite3.Connection, article_id: str, start: int | None = None, end: int | None = None
) -> list[Entity]:
    """One indexed query (``entities_article``): the entities of ``article_id`` lying
    within ``[start, end)``, in text order. An index from before entities were stored
    has no table yet: no entities."""
    sql = 'SELECT start, "end", label, text, norm FROM entities WHERE article_id = ?'
    args: list[Any] = [article_id]
    if start is not None:
        sql += " AND start >= ?"
        args.append(start)
    if end is not None:
        # start < end bounds the index range scan; "end" <= end is the real condition.
        sql += ' AND start < ? AND "end" <= ?'
        args += [end, end]
    try:
        rows = db.execute(sql + ' ORDER BY start, "end"', args).fetchall()
    except sqlite3.OperationalError as exc:
        if "no such table" in str(exc):
            return []
        raise
    return [Entity(int(a), int(b), str(c), str(d), str(e)) for a, b, c, d, e in rows]


def known_norms(db: sqlite3.Connection, norms: Sequence[str]) -> set[str]:
    """Which of ``norms`` name an entity somewhere in the index (index ``entities_norm``)."""
    if not norms:
        return set()
    marks = ",".join("?" for _ in norms)
    try:
        rows = db.execute(
            f"SELECT DISTINCT norm FROM entities WHERE norm IN ({marks})", list(norms)
        ).fetchall()
    except sqlite3.OperationalError as exc:
        if "no such table" in str(exc):
            return set()
        raise
    return {str(row[0]) for row in rows}


def label_counts(db: sqlite3.Connection, norms: Sequence[str]) -> dict[str, dict[str, int]]:
    """How often each of ``norms`` is tagged with each label across the index."""
    if not norms:
        return {}
    marks = ",".join("?" for _ in norms)
    try:
        rows = db.execute(
            f"SELECT norm, label, COUNT(*) FROM entities WHERE norm IN ({marks})"
            " GROUP BY norm, label",
            list(norms),
        ).fetchall()
    except sqlite3.OperationalError as exc:
        if "no such table" in str(exc):
            return {}
        raise
    counts: dict[str, dict[str, int]] = {}
    for norm, label, count in rows:
        counts.setdefault(str(norm), {})[str(label)] = int(count)
    return counts
