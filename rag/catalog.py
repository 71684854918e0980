"""Read-only views of the index: the article list, one article, the index status.

Shared by the CLI, the HTTP API and the UI; none of these take the write lock.
"""

from __future__ import annotations

import bisect
import sqlite3
import threading
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import date
from typing import Any

from rag.ask.query import Mentions
from rag.ask.relative_dates import published_day
from rag.ask.results import Passage
from rag.errors import NotFoundError, StoreError
from rag.indexing.articles import from_file
from rag.indexing.manifest import (
    IndexedArticle,
    Manifest,
    connect_read_only,
    entities_within,
    known_norms,
    label_counts,
)
from rag.indexing.store import ChunkStore
from rag.settings import Settings
from rag.text.nlp import Entity
from rag.text.outlets import closest_outlets, outlet_key, outlet_keys, outlet_name


@contextmanager
def open_manifest(settings: Settings) -> Iterator[Manifest | None]:
    folder = settings.index_dir / settings.collection_name
    if not (folder / Manifest.FILE).exists():
        yield None
        return
    manifest = Manifest(folder, read_only=True)
    try:
        yield manifest
    finally:
        manifest.close()


def list_articles(settings: Settings) -> list[dict[str, Any]]:
    """Indexed articles with their duplicate cluster and its size, ordered by path."""
    with open_manifest(settings) as manifest:
        if manifest is None:
            return []
        articles = manifest.articles()
    sizes = Counter(a.cluster for a in articles)
    return [_summary(a, sizes[a.cluster]) for a in articles]


def _summary(article: IndexedArticle, cluster_size: int) -> dict[str, Any]:
    data = article.to_dict()
    del data["spans"]
    data["cluster_size"] = cluster_size
    return data


def cluster_label(article: dict[str, Any]) -> str:
    """ "-" for an article without near-duplicates, else its cluster id, size and role:
    ``"714c03ab (3) canonical"``."""
    if article["cluster_size"] <= 1:
        return "-"
    label = f"{article['cluster'][:8]} ({article['cluster_size']})"
    return label + (" canonical" if article["cluster"] == article["id"] else "")


def facets(articles: list[dict[str, Any]]) -> dict[str, Any]:
    """What filters can offer: the outlets (one name each, see :mod:`rag.text.outlets`), and the
    first and last publication dates."""
    dates = sorted(date.fromisoformat(a["published_at"][:10]) for a in articles if _dated(a))
    return {
        "sources": sorted({outlet_name(a["source"]) for a in articles if a.get("source")}),
        "first_date": dates[0] if dates else None,
        "last_date": dates[-1] if dates else None,
    }


def _dated(article: dict[str, Any]) -> bool:
    try:
        date.fromisoformat((article.get("published_at") or "")[:10])
    except ValueError:
        return False
    return True


def get_article(settings: Settings, ref: str) -> dict[str, Any]:
    """One article with its full text, by id, unique id prefix, path or file name."""
    with open_manifest(settings) as manifest:
        articles = manifest.articles() if manifest else []
        files = manifest.files() if manifest else {}
        matches = [a for a in articles if a.id == ref or a.path == ref]
        if not matches:
            matches = [
                a
                for a in articles
                if (len(ref) >= 4 and a.id.startswith(ref))
                or a.path.rsplit("/", 1)[-1] == ref
                or a.external_id == ref
            ]
        if not matches:
            # An exact copy is indexed once, under another file; it is found by its own name.
            held = {i for path, (*_, ids, _) in files.items() if _names(path, ref) for i in ids}
            matches = [a for a in articles if a.id in held]
        if not matches:
            raise NotFoundError(
                f"no indexed article matches {ref!r}; list them with `rag articles`"
            )
        if len(matches) > 1:
            ids = ", ".join(a.id for a in matches[:5])
            raise NotFoundError(
                f"{ref!r} matches {len(matches)} articles ({ids}); give more of the id"
            )
        article = matches[0]
        assert manifest is not None
        text = manifest.text(article.id) or ""
        entities = manifest.entities(article.id)
        cluster = [a for a in articles if a.cluster == article.cluster and a.id != article.id]
    data = article.to_dict()
    data["text"] = text
    data["duplicates"] = [{"id": a.id, "path": a.path, "title": a.title} for a in cluster]
    # Files holding this very text besides the one it is indexed under (exact copies).
    data["copies"] = sorted(
        path
        for path, (*_, ids, _) in files.items()
        if article.id in ids and not from_file(path, article.path)
    )
    data["entities"] = [asdict(e) for e in entities]
    return data


def _names(path: str, ref: str) -> bool:
    return path == ref or path.rsplit("/", 1)[-1] == ref


def index_status(settings: Settings, *, check_store: bool = True) -> dict[str, Any]:
    """Where the index is, what it holds, and whether Chroma agrees with the manifest."""
    from rag.indexing.embed import planned

    store = ChunkStore(settings)
    status: dict[str, Any] = {
        "index_dir": str(settings.index_dir.resolve()),
        "articles_dir": str(settings.articles_dir.resolve()),
        "backend": "http" if settings.chroma_host else "embedded",
        "chroma": store.where,
        "collection": settings.collection_name,
        "settings_hash": settings.vector_hash(),
        "model": settings.model_id,
        "embedding": planned(settings),
        "chunk_tokens": settings.chunk_tokens,
        "chunk_overlap": settings.chunk_overlap,
        "articles": 0,
        "chunks": 0,
        "duplicate_clusters": 0,
        "updated_at": None,
        "interrupted": False,
    }
    with open_manifest(settings) as manifest:
        if manifest is not None:
            clusters = Counter(manifest.clusters().values())
            status.update(
                articles=len(manifest.chunk_counts()),
                chunks=manifest.total_chunks(),
                duplicate_clusters=sum(1 for n in clusters.values() if n > 1),
                updated_at=manifest.get_meta("updated_at"),
                interrupted=manifest.dirty,
            )
    if check_store and status["articles"]:
        with store:
            status["chunks_in_chroma"] = store.count()
            status["other_collections"] = [
                name for name in store.collection_names() if name != settings.collection_name
            ]
    return status


def _raw_key(source: str) -> str:
    return " ".join(source.split()).casefold()


class Catalog:
    """The ask side's in-memory copy of the manifest: article metadata and text.

    ``refresh()`` reloads it when ``rag index`` has finished a run that changed
    the index (the manifest generation moved), so a long-running server sees
    new articles without a restart. A reload builds the lookups that keep a
    question's cost independent of the corpus size — outlets, titles and days
    to article ids — and swaps them in; one thread reloads while the others
    go on with the previous copy.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.generation = -1
        self.articles: dict[str, IndexedArticle] = {}
        self.texts: dict[str, str] = {}
        self.sources: list[str] = []
        self.outlets: dict[str, list[str]] = {}  # outlet name → the source names stored for it
        self.titles: dict[str, str] = {}
        self.mentions = Mentions([], {})
        self._by_raw: dict[str, set[str]] = {}
        self._by_outlet: dict[str, set[str]] = {}
        self._by_day: dict[tuple[int, int], list[tuple[int, str]]] = {}
        self._days: list[date] = []
        self._dated: list[str] = []
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        self._db_lock = threading.Lock()
        self.refresh()

    def entities(self, article_id: str, start: int, end: int) -> list[Entity]:
        """The named entities lying within characters ``[start, end)`` of an article's
        cleaned text, in text order — for a passage, ``entities(p.article_id,
        p.char_start, p.char_end)``; offsets stay the article's. One indexed query on a
        read-only connection the catalog keeps open, so it always sees what the last
        finished transaction of ``rag index`` wrote (entities are not cached)."""
        with self._db_lock:
            db = self._connection()
            if db is None:
                return []
            try:
                return entities_within(db, article_id, start, end)
            except sqlite3.Error as exc:
                raise StoreError(f"cannot read entities from the manifest: {exc}") from exc

    def _connection(self) -> sqlite3.Connection | None:
        """The read-only manifest connection (opened on first use); None before an index.
        Call with ``_db_lock`` held."""
        if self._db is None:
            path = self.settings.index_dir / self.settings.collection_name / Manifest.FILE
            if not path.exists():
                return None
            try:
                self._db = connect_read_only(path, shared=True)
            except sqlite3.Error as exc:
                raise StoreError(
                    f"cannot open the manifest {path}: {exc}; check that the index folder "
                    "is readable"
                ) from exc
        return self._db

    def known(self, norms: list[str]) -> set[str]:
        """Which normalised names (:func:`rag.text.nlp.normalise`) some indexed article mentions
        as a named entity — one indexed query."""
        with self._db_lock:
            db = self._connection()
            if db is None:
                return set()
            try:
                return known_norms(db, norms)
            except sqlite3.Error as exc:
                raise StoreError(f"cannot read entities from the manifest: {exc}") from exc

    def labels(self, norms: list[str]) -> dict[str, dict[str, int]]:
        """How often each normalised name is tagged with each label across the index —
        one indexed query."""
        with self._db_lock:
            db = self._connection()
            if db is None:
                return {}
            try:
                return label_counts(db, norms)
            except sqlite3.Error as exc:
                raise StoreError(f"cannot read entities from the manifest: {exc}") from exc

    def close(self) -> None:
        """Close the connection ``entities`` keeps open (it reopens when asked again)."""
        with self._db_lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    def refresh(self) -> None:
        with open_manifest(self.settings) as manifest:
            generation = manifest.generation if manifest else 0
            if generation == self.generation or not self._lock.acquire(blocking=False):
                return
            try:
                articles = {a.id: a for a in manifest.articles()} if manifest else {}
                texts = manifest.texts() if manifest else {}
                self._index(articles)
                self.articles, self.texts = articles, texts
                self.generation = generation
            finally:
                self._lock.release()

    def _index(self, articles: dict[str, IndexedArticle]) -> None:
        by_raw: dict[str, set[str]] = {}
        by_outlet: dict[str, set[str]] = {}
        by_day: dict[tuple[int, int], list[tuple[int, str]]] = {}
        dated: list[tuple[date, str]] = []
        for a in articles.values():
            if a.source:
                by_raw.setdefault(_raw_key(a.source), set()).add(a.id)
                for key in outlet_keys(a.source):
                    by_outlet.setdefault(key, set()).add(a.id)
            day = published_day(a.published_at)
            if day is not None:
                by_day.setdefault((day.month, day.day), []).append((day.year, a.id))
                dated.append((day, a.id))
        dated.sort()
        sources = sorted({a.source for a in articles.values() if a.source})
        outlets: dict[str, list[str]] = {}
        for source in sources:
            outlets.setdefault(outlet_name(source), []).append(source)
        titles = {a.id: a.title for a in articles.values()}
        self.sources, self.outlets, self.titles = sources, outlets, titles
        self.mentions = Mentions(sources, titles)
        self._by_raw, self._by_outlet, self._by_day = by_raw, by_outlet, by_day
        self._days, self._dated = [d for d, _ in dated], [a for _, a in dated]

    def from_sources(self, sources: Iterable[str]) -> set[str]:
        """Ids of the articles from any of ``sources``, ignoring case.

        An outlet's name finds every name stored for it ("CNBC": "Cnbc | World Business
        News Leader", "cnbc.com"; "The Independent": "The Independent - Sports" …); a
        stored name with a tagline or section finds exactly that name's articles.
        """
        found: set[str] = set()
        for source in sources:
            raw = _raw_key(source)
            key = outlet_key(source)
            if raw != key and raw in self._by_raw:
                found |= self._by_raw[raw]
                continue
            for alias in outlet_keys(source):
                found |= self._by_outlet.get(alias, set())
        return found

    def closest_outlets(self, wanted: str, limit: int = 3) -> list[str]:
        """The indexed outlets whose names are nearest to ``wanted`` (for a filter that
        matched nothing)."""
        return closest_outlets(wanted, self.outlets, limit)

    def date_span(self) -> tuple[date, date] | None:
        """The first and last publication days of the dated articles (None: none dated)."""
        return (self._days[0], self._days[-1]) if self._days else None

    def published_on(self, mention: tuple[int | None, int, int]) -> set[str]:
        """Ids of the articles published on a (year or None, month, day) a question names."""
        year, month, day = mention
        return {a for y, a in self._by_day.get((month, day), []) if year is None or y == year}

    def published_between(self, since: date | None, until: date | None) -> set[str]:
        """Ids of the dated articles published from ``since`` to ``until`` (both included)."""
        first = bisect.bisect_left(self._days, since) if since else 0
        last = bisect.bisect_right(self._days, until) if until else len(self._days)
        return set(self._dated[first:last])

    def has_chunk(self, cid: str) -> bool:
        article_id, _, number = cid.partition(":")
        article = self.articles.get(article_id)
        return article is not None and number.isdigit() and int(number) < article.chunks

    def passage(
        self, cid: str, score: float, dense: float | None = None, lexical: float | None = None
    ) -> Passage:
        article_id, _, number = cid.partition(":")
        article = self.articles[article_id]
        start, end = article.spans[int(number)]
        return Passage(
            chunk_id=cid,
            article_id=article_id,
            text=self.texts[article_id][start:end],
            char_start=start,
            char_end=end,
            title=article.title,
            source=article.source,
            published_at=article.published_at,
            url=article.url,
            path=article.path,
            cluster=article.cluster,
            score=round(score, 6),
            dense=None if dense is None else round(dense, 4),
            lexical=None if lexical is None else round(lexical, 4),
        )
