"""``rag index``: sync the index with the articles folder, incrementally and crash-safely.

One run, under the index lock:

1. scan the folder (``rag.scan``: unchanged files are recognised by size and mtime and
   not re-read; files with the same text are one article, indexed under one of them),
   before Chroma is opened: with articles to embed, the model loads meanwhile;
2. if the last run did not finish, or Chroma and the manifest disagree on the
   chunk count, repair: delete chunks the manifest does not know (orphans) and
   forget articles whose chunks are incomplete, so they are embedded again (and the
   folder is scanned again);
3. remove deleted articles, record renamed ones (same content = same id, no
   embedding), and embed new or changed ones in batches — in a thread, a batch ahead
   of the writes — each batch's manifest rows committed only after its chunks are in
   Chroma;
4. recompute near-duplicate clusters and push changed cluster ids to the chunks;
5. tag the named entities of articles that have none from the ``spacy_model``
   pipeline (indexed before entities were stored, or by another pipeline) — a
   backfill in batches, each in its own transaction, that embeds nothing.
   New articles get theirs in step 3, in the transaction that records them.
"""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from collections import Counter
from collections.abc import Callable, Collection, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from rag import dedup, nlp
from rag.articles import Article, Skip
from rag.chunk import Chunk, chunk_id
from rag.embed import Embedder, chunker
from rag.errors import ConfigError, SkippedInputError
from rag.lexical import LexicalIndex
from rag.lock import IndexLock
from rag.manifest import Manifest
from rag.scan import FolderScan, scan_folder
from rag.settings import Settings
from rag.store import ChunkStore, Metadata

Progress = Callable[[int, int], None]


@dataclass
class IndexSummary:
    folder: str
    collection: str
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    renamed: list[str] = field(default_factory=list)
    unchanged: int = 0
    skipped: list[Skip] = field(default_factory=list)
    chunks_embedded: int = 0
    chunks_removed: int = 0
    # Articles whose named entities were tagged in this run: new ones, and of those,
    # already indexed ones that had none from the current spaCy pipeline (backfilled).
    articles_tagged: int = 0
    articles_backfilled: int = 0
    repaired_orphans: int = 0
    repaired_articles: int = 0
    articles: int = 0
    chunks: int = 0
    duplicate_clusters: int = 0
    seconds: float = 0.0
    # How the embedding model ran ("onnxruntime fp32", "torch bf16"); empty when nothing
    # was embedded.
    embedding: str = ""
    # Seconds per step (reading, chunking, model load, spacy load, embedding, entities,
    # writing, duplicates, BM25):
    # what a run's time went to.
    stages: dict[str, float] = field(default_factory=dict)

    @contextlib.contextmanager
    def timed(self, stage: str) -> Iterator[None]:
        began = time.perf_counter()
        try:
            yield
        finally:
            self.add(stage, time.perf_counter() - began)

    def add(self, stage: str, seconds: float) -> None:
        self.stages[stage] = round(self.stages.get(stage, 0.0) + seconds, 3)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["skipped"] = [{"path": s.path, "reason": s.reason} for s in self.skipped]
        return data

    def lines(self) -> list[str]:
        out = [
            f"Indexed {self.folder} into {self.collection} in {self.seconds:.1f} s",
            f"  added {len(self.added)}, updated {len(self.updated)}, removed {len(self.removed)}, "
            f"renamed {len(self.renamed)}, unchanged {self.unchanged}, skipped {len(self.skipped)}",
            f"  chunks embedded {self.chunks_embedded}, removed {self.chunks_removed}; "
            f"index holds {self.articles} articles, {self.chunks} chunks, "
            f"{self.duplicate_clusters} duplicate clusters",
        ]
        if self.embedding:
            out[-1] += f"; embedded on {self.embedding}"
        if self.articles_tagged:
            out.append(
                f"  entities tagged in {self.articles_tagged} articles"
                + (
                    f" ({self.articles_backfilled} already indexed, not re-embedded)"
                    if self.articles_backfilled
                    else ""
                )
            )
        if self.repaired_orphans or self.repaired_articles:
            out.append(
                f"  repaired an interrupted run: {self.repaired_orphans} orphan chunks deleted, "
                f"{self.repaired_articles} incomplete articles re-embedded"
            )
        spent = [f"{stage} {s:.1f} s" for stage, s in self.stages.items() if s >= 0.05]
        if spent:
            out.append("  time: " + ", ".join(spent))
        out += [f"  skipped {skip}" for skip in self.skipped]
        return out


class _Tagger:
    """The ``spacy_model`` pipeline, loaded on first use: a run with nothing to tag
    never imports spaCy."""

    def __init__(self, settings: Settings, manifest: Manifest, summary: IndexSummary) -> None:
        self.name = settings.spacy_model
        self.manifest = manifest
        self.summary = summary
        self.nlp: Any = None
        self.id = ""

    def load(self) -> None:
        with self.loading():
            pass

    @contextlib.contextmanager
    def loading(self) -> Iterator[None]:
        """Load the pipeline in a thread while the body runs (the embedding model loading:
        onnxruntime builds its session without holding the interpreter); loaded, and
        recorded in the manifest, after the body. Its time is "spacy load", whatever
        ran beside it."""
        if self.nlp is not None:
            yield
            return
        with nlp.loading_while(self.name) as pending:
            yield
        self.summary.add("spacy load", pending.seconds)
        self.nlp = pending.wait()
        described = nlp.describe(self.name, self.nlp)
        self.id = described["id"]
        if self.manifest.entities_pipeline() != described:
            with self.manifest.transaction():
                self.manifest.set_entities_pipeline(described)

    def needed(self) -> bool:
        """Whether some indexed article lacks entities from this pipeline, judged without
        loading it: by the setting recorded with the entities."""
        recorded = self.manifest.entities_pipeline()
        if recorded is None or recorded.get("setting") != self.name:
            return self.manifest.has_articles()
        return bool(self.manifest.untagged(recorded["id"]))

    def tag(self, texts: list[str]) -> list[list[nlp.Entity]]:
        self.load()
        with self.summary.timed("entities"):
            found = list(nlp.entities_many(self.nlp, texts, batch_size=_NER_BATCH))
        self.summary.articles_tagged += len(texts)
        return found

    def ahead(self, texts: list[str]) -> _Ahead:
        """The entities of ``texts``, tagged in a background thread while the caller embeds."""
        self.load()
        return _Ahead(self, texts)


# Texts per spaCy batch (articles, or pieces of long ones).
_NER_BATCH = 32
# Articles whose entities may wait in memory for their batch to be embedded.
_NER_AHEAD = 256


class _Ahead:
    """Tags articles in a thread, in order, at most ``_NER_AHEAD`` ahead of ``take``.

    spaCy runs on one core while the embedding model's threads wait on one another
    and on Chroma and the manifest; overlapping the two is what keeps tagging from
    adding its whole time to a run (see README, Benchmarks). The thread only
    computes: results are written by the caller, in the batch's transaction. Its time
    is the "entities" step; "entities wait" is the part the run waited for it.
    """

    def __init__(self, tagger: _Tagger, texts: list[str]) -> None:
        self.summary = tagger.summary
        self.queue: queue.Queue[list[nlp.Entity] | BaseException] = queue.Queue(_NER_AHEAD)
        self.stop = threading.Event()
        self.thread = threading.Thread(
            target=self._run, args=(tagger.nlp, texts), name="rag-entities", daemon=True
        )
        self.thread.start()

    def _put(self, item: list[nlp.Entity] | BaseException) -> bool:
        while not self.stop.is_set():
            with contextlib.suppress(queue.Full):
                self.queue.put(item, timeout=0.1)
                return True
        return False

    def _run(self, pipeline: Any, texts: list[str]) -> None:
        try:
            with self.summary.timed("entities"):
                for found in nlp.entities_many(pipeline, texts, batch_size=_NER_BATCH):
                    if not self._put(found):
                        return
        except BaseException as exc:  # handed to the main thread, which raises it
            self._put(exc)

    def take(self, n: int) -> list[list[nlp.Entity]]:
        out: list[list[nlp.Entity]] = []
        with self.summary.timed("entities wait"):
            for _ in range(n):
                item = self.queue.get()
                if isinstance(item, BaseException):
                    raise item
                out.append(item)
        self.summary.articles_tagged += n
        return out

    def __enter__(self) -> _Ahead:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join()


def _backfill(settings: Settings, manifest: Manifest, tagger: _Tagger) -> None:
    """Tag the articles without entities from this pipeline, in batches of about
    ``index_batch_chunks`` chunks' worth of text, each committed on its own."""
    tagger.load()
    todo = manifest.untagged(tagger.id)
    if not todo:
        return
    counts = manifest.chunk_counts()
    batch: list[str] = []

    def flush() -> None:
        texts = manifest.texts_of(batch)
        found = tagger.tag([texts[a] for a in batch])
        with tagger.summary.timed("writing"), manifest.transaction():
            for article_id, entities in zip(batch, found, strict=True):
                manifest.set_entities(article_id, entities, tagger.id)
        tagger.summary.articles_backfilled += len(batch)
        batch.clear()

    size = 0
    for article_id in todo:
        batch.append(article_id)
        size += counts[article_id]
        if size >= settings.index_batch_chunks:
            flush()
            size = 0
    if batch:
        flush()


def chunk_metadata(article: Article, number: int, start: int, end: int) -> Metadata:
    meta: Metadata = {
        "article_id": article.id,
        "chunk": number,
        "char_start": start,
        "char_end": end,
        "title": article.title,
        "path": article.path,
        "cluster": article.id,
    }
    for key in ("source", "published_at", "url", "external_id"):
        value = getattr(article, key)
        if value:
            meta[key] = value
    if article.published_at:
        stamp = datetime.fromisoformat(article.published_at)
        meta["published_ts"] = int(
            (stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)).timestamp()
        )
    for key, value in article.extra.items():
        if isinstance(value, str | int | float | bool):
            meta[f"meta_{key}"] = value
    return meta


def _repair(store: ChunkStore, manifest: Manifest, summary: IndexSummary) -> None:
    counts = manifest.chunk_counts()
    present = store.all_ids()
    expected = {chunk_id(a, n) for a, total in counts.items() for n in range(total)}
    orphans = sorted(present - expected)
    if orphans:
        store.delete(orphans)
    incomplete = [
        a for a, total in counts.items() if any(chunk_id(a, n) not in present for n in range(total))
    ]
    if incomplete:
        store.delete([chunk_id(a, n) for a in incomplete for n in range(counts[a])])
        with manifest.transaction():
            manifest.remove(incomplete)
    summary.repaired_orphans = len(orphans)
    summary.repaired_articles = len(incomplete)


def _recluster(
    store: ChunkStore,
    manifest: Manifest,
    settings: Settings,
    force: bool,
    lost: Collection[str] = (),
) -> None:
    """Compare not-yet-compared articles with all others, then update the clusters.

    Which articles were compared is recorded with their edges, so a run that
    died after committing some articles still compares them next time. Only the
    clusters that can have changed are re-derived: those the new edges touch and
    the ``lost`` ones (clusters that had a removed article), with all their
    members. ``force`` (after a repair, or ``--verify``) re-derives all of them.
    """
    ids, vectors, words = manifest.dedup_features()
    new = manifest.undeduped()
    counts = manifest.chunk_counts()
    cache: dict[str, np.ndarray] = {}

    def chunk_vectors(article_id: str) -> np.ndarray:
        if article_id not in cache:
            cache[article_id] = store.vectors(
                [chunk_id(article_id, n) for n in range(counts[article_id])]
            )
        return cache[article_id]

    edges = dedup.find_edges(
        new,
        ids,
        vectors,
        words,
        chunk_vectors,
        min_cosine=settings.dedup_candidate_cosine,
        threshold=settings.dedup_threshold,
        min_alignment=settings.dedup_min_alignment,
    )
    with manifest.transaction():
        manifest.add_edges(edges)
        manifest.mark_deduped(new)
    current = manifest.clusters()
    if force:
        affected = ids
        assignment = dedup.clusters(ids, manifest.edges(), manifest.published())
    else:
        # The previous run left the clusters equal to the edge graph's components,
        # so every edge of an affected article stays among the affected ones.
        touched = set(new) | {a for edge in edges for a in edge[:2]}
        reclustered = {current[a] for a in touched} | set(lost)
        affected = [a for a in ids if a in touched or current[a] in reclustered]
        assignment = dedup.clusters(affected, manifest.edges_of(affected), manifest.published())
    changed = [a for a in affected if force or assignment[a] != current.get(a)]
    if not changed:
        return
    chunk_ids = [chunk_id(a, n) for a in changed for n in range(counts[a])]
    metadatas: list[Metadata] = [
        {"cluster": assignment[a]} for a in changed for _ in range(counts[a])
    ]
    store.update_metadata(chunk_ids, metadatas)
    with manifest.transaction():
        for a in changed:
            manifest.set_cluster(a, assignment[a])


def sync(
    settings: Settings,
    folder: Path | None = None,
    *,
    rebuild: bool = False,
    strict: bool = False,
    wait: bool = False,
    verify: bool = False,
    embedder: Embedder | None = None,
    store: ChunkStore | None = None,
    progress: Progress | None = None,
) -> IndexSummary:
    """Bring the index in line with ``folder`` (default: the articles folder, or one file).

    ``verify`` compares Chroma with the manifest chunk by chunk even when the
    last run finished and the counts agree.
    """
    began = time.perf_counter()
    folder = folder or settings.articles_dir
    if not folder.exists():
        raise ConfigError(
            f"articles folder {folder} does not exist; create it and add .txt, .md, .html, "
            ".json, .jsonl, .pdf, .docx or .mhtml files, or name another folder (or one file): "
            "rag index DIR"
        )
    with IndexLock(settings.index_dir, wait=wait):
        own_store = store is None
        store = store or ChunkStore(settings)
        manifest = Manifest(settings.index_dir / settings.collection_name)
        preload: _Preload | None = None
        try:
            summary = IndexSummary(folder=str(folder), collection=settings.collection_name)
            if rebuild:
                store.drop()
                manifest.reset()
            # The scan needs the manifest alone: done before Chroma is opened, the
            # embedding model can load (onnxruntime, without holding the interpreter)
            # while Chroma imports, when there is something to embed.
            scan = _scan(folder, manifest, settings, summary, strict)
            model = _model(embedder, settings, manifest, scan)
            if model is not None:
                preload = _Preload(model, summary)
            was_dirty = manifest.dirty
            if verify or was_dirty or store.count() != manifest.total_chunks():
                manifest.set_dirty(True)
                _repair(store, manifest, summary)
                if summary.repaired_articles:
                    # Forgotten articles are new again: the scan trusts the manifest.
                    scan = _scan(folder, manifest, settings, summary, strict)
                    model = model or _model(embedder, settings, manifest, scan)
            tagger = _Tagger(settings, manifest, summary)
            planned: list[list[_Planned]] = []
            embedding: _Embedding | None = None
            with contextlib.ExitStack() as running:
                if verify or tagger.needed() or model is not None:
                    # Before any write: a pipeline that cannot load changes nothing. The
                    # embedding model is loaded before spaCy's import, which may hide
                    # torch (rag.nlp). The chunks are embedded once spaCy is loaded:
                    # beside its load, onnxruntime's threads took both cores and slowed
                    # it more than they saved (README, "Cold start").
                    if preload is not None:
                        preload.wait()
                    elif model is not None:
                        _load_model(model, summary)
                    tagger.load()
                    if model is not None:
                        planned = _plan(settings, scan, manifest, summary)
                        embedding = running.enter_context(_Embedding(model, planned, summary))
                        summary.embedding = model.describe()
                _apply(
                    settings,
                    scan,
                    store,
                    manifest,
                    summary,
                    planned,
                    embedding,
                    tagger,
                    progress,
                    force_clusters=was_dirty or verify,
                )
            if tagger.nlp is not None:
                _backfill(settings, manifest, tagger)
            if manifest.dirty:
                manifest.set_dirty(False)
            lexical = LexicalIndex(manifest.path.parent)
            if lexical.built_generation() != manifest.generation:
                with summary.timed("bm25"):
                    lexical.build(manifest.chunk_ids(), manifest.chunk_texts, manifest.generation)
            summary.articles = len(manifest.chunk_counts())
            summary.chunks = manifest.total_chunks()
            sizes = Counter(manifest.clusters().values())
            summary.duplicate_clusters = sum(1 for size in sizes.values() if size > 1)
        finally:
            if preload is not None:
                preload.join()
            manifest.close()
            if own_store:
                store.close()
    summary.seconds = round(time.perf_counter() - began, 3)
    return summary


def _scan(
    folder: Path, manifest: Manifest, settings: Settings, summary: IndexSummary, strict: bool
) -> FolderScan:
    with summary.timed("reading"):
        scan = scan_folder(folder, manifest, settings.max_file_bytes)
    summary.skipped = scan.skipped
    if strict and scan.skipped:
        raise SkippedInputError(
            f"{len(scan.skipped)} input(s) could not be read (--strict): "
            + "; ".join(str(s) for s in scan.skipped[:5])
            + (" …" if len(scan.skipped) > 5 else "")
        )
    return scan


def _model(
    embedder: Embedder | None, settings: Settings, manifest: Manifest, scan: FolderScan
) -> Embedder | None:
    """The embedding model when the scan found articles to embed, else None."""
    indexed = manifest.paths()
    if not any(a not in indexed for a in scan.articles):
        return None
    return embedder or Embedder(settings)


class _Preload:
    """The embedding model loading in a thread while Chroma is imported and opened.

    onnxruntime builds its session without holding the interpreter, so the load costs
    a cold run almost nothing beside Chroma's import. A model that imports torch loads
    here, in the caller's thread, as before spaCy's import (rag.nlp): importing torch
    beside another import is what the spaCy stand-ins must not meet.
    """

    def __init__(self, embedder: Embedder, summary: IndexSummary) -> None:
        self.embedder = embedder
        self.summary = summary
        self.error: BaseException | None = None
        self.thread: threading.Thread | None = None
        if embedder.imports_torch():
            _load_model(embedder, summary)
            return
        self.thread = threading.Thread(target=self._run, name="rag-model-load", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            _load_model(self.embedder, self.summary)
        except BaseException as exc:  # handed to the caller by wait()
            self.error = exc

    def join(self) -> None:
        if self.thread is not None:
            self.thread.join()

    def wait(self) -> None:
        """Return once the model is loaded; raise what its load raised."""
        self.join()
        if self.error is not None:
            raise self.error


def _load_model(embedder: Embedder, summary: IndexSummary) -> None:
    """Load the embedding model now, so that "embedding" is the encoding alone."""
    with summary.timed("model load"):
        embedder.load()


# An article and its chunks, as they are embedded and written: in batches of about
# ``index_batch_chunks`` chunks (``_plan``).
_Planned = tuple[Article, list[Chunk]]
# Batches embedded ahead of the one being written.
_EMBED_AHEAD = 2


def _plan(
    settings: Settings, scan: FolderScan, manifest: Manifest, summary: IndexSummary
) -> list[list[_Planned]]:
    """The new articles' chunks, in the batches they are embedded and written in."""
    indexed = manifest.paths()
    split = chunker(settings)
    batches: list[list[_Planned]] = []
    batch: list[_Planned] = []
    size = 0
    with summary.timed("chunking"):
        for article_id, article in scan.articles.items():
            if article_id in indexed or article is None:
                continue
            chunks = split.chunk(article)
            batch.append((article, chunks))
            size += len(chunks)
            if size >= settings.index_batch_chunks:
                batches.append(batch)
                batch, size = [], 0
    if batch:
        batches.append(batch)
    return batches


class _Embedding:
    """Embeds the planned batches in a thread, in order, at most ``_EMBED_AHEAD`` ahead of
    ``take``: the model's runtime leaves the interpreter free, so each batch is embedded
    while the one before is written and its articles' entities tagged. The thread only
    computes. Its time is the "embedding" step; "embedding wait" is the part the run
    waited for it."""

    def __init__(self, embedder: Embedder, batches: list[list[_Planned]], summary: IndexSummary):
        self.summary = summary
        self.queue: queue.Queue[np.ndarray | BaseException] = queue.Queue(_EMBED_AHEAD)
        self.stop = threading.Event()
        self.thread = threading.Thread(
            target=self._run, args=(embedder, batches), name="rag-embedding", daemon=True
        )
        self.thread.start()

    def _run(self, embedder: Embedder, batches: list[list[_Planned]]) -> None:
        try:
            for batch in batches:
                with self.summary.timed("embedding"):
                    vectors = embedder.embed([c.embed_text for _, cs in batch for c in cs])
                if not self._put(vectors):
                    return
        except BaseException as exc:  # handed to the main thread, which raises it
            self._put(exc)

    def _put(self, item: np.ndarray | BaseException) -> bool:
        while not self.stop.is_set():
            with contextlib.suppress(queue.Full):
                self.queue.put(item, timeout=0.1)
                return True
        return False

    def take(self) -> np.ndarray:
        """The next batch's vectors."""
        with self.summary.timed("embedding wait"):
            item = self.queue.get()
        if isinstance(item, BaseException):
            raise item
        return item

    def __enter__(self) -> _Embedding:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join()


def _apply(
    settings: Settings,
    scan: FolderScan,
    store: ChunkStore,
    manifest: Manifest,
    summary: IndexSummary,
    planned: list[list[_Planned]],
    embedding: _Embedding | None,
    tagger: _Tagger,
    progress: Progress | None,
    *,
    force_clusters: bool,
) -> None:
    indexed = manifest.paths()
    counts = manifest.chunk_counts()
    removed = sorted(set(indexed) - set(scan.articles))
    new = [a for a in scan.articles if a not in indexed]
    moved = [a for a in scan.articles if a in indexed and indexed[a] != scan.paths[a]]
    summary.unchanged = len(scan.articles) - len(new) - len(moved)
    old_by_path = {indexed[a]: a for a in removed}
    files_changed = scan.files != manifest.files()
    if not (removed or new or moved or files_changed or manifest.dirty):
        return

    manifest.set_dirty(True)
    lost: set[str] = set()  # clusters that had a removed article
    if removed:
        clusters = manifest.clusters()
        lost = {clusters[a] for a in removed}
        chunk_ids = [chunk_id(a, n) for a in removed for n in range(counts[a])]
        store.delete(chunk_ids)
        with manifest.transaction():
            manifest.remove(removed)
        summary.chunks_removed = len(chunk_ids)
    replaced = {scan.paths[a] for a in new} & set(old_by_path)
    summary.removed = sorted(indexed[a] for a in removed if indexed[a] not in replaced)
    if moved:
        # Chroma first: a run killed in between sees the rename again and redoes both.
        store.update_metadata(
            [chunk_id(a, n) for a in moved for n in range(counts[a])],
            [{"path": scan.paths[a]} for a in moved for _ in range(counts[a])],
        )
        with manifest.transaction():
            for a in moved:
                manifest.set_path(a, scan.paths[a])
        summary.renamed = sorted(f"{indexed[a]} -> {scan.paths[a]}" for a in moved)

    if planned and embedding is not None:
        texts = [article.text for batch in planned for article, _ in batch]
        with tagger.ahead(texts) as ahead:
            _write_batches(planned, embedding, store, manifest, summary, tagger, ahead, progress)
    if new:
        summary.updated = sorted(scan.paths[a] for a in new if scan.paths[a] in replaced)
        summary.added = sorted(scan.paths[a] for a in new if scan.paths[a] not in replaced)
    if new or removed or force_clusters or manifest.undeduped():
        with summary.timed("duplicates"):
            _recluster(store, manifest, settings, force=force_clusters, lost=lost)
    with manifest.transaction():
        manifest.replace_files(scan.files)


def _write_batches(
    planned: list[list[_Planned]],
    embedding: _Embedding,
    store: ChunkStore,
    manifest: Manifest,
    summary: IndexSummary,
    tagger: _Tagger,
    ahead: _Ahead,
    progress: Progress | None,
) -> None:
    """Write each batch as its vectors come: chunks into Chroma, then the articles with
    their entities into the manifest, in one transaction."""
    total = sum(len(cs) for batch in planned for _, cs in batch)
    done = 0
    for batch in planned:
        chunks = [c for _, cs in batch for c in cs]
        vectors = embedding.take()
        metadatas = [
            chunk_metadata(article, c.number, c.start, c.end) for article, cs in batch for c in cs
        ]
        with summary.timed("writing"):
            store.upsert([c.id for c in chunks], vectors, [c.text for c in chunks], metadatas)
        entities = ahead.take(len(batch))
        offset = 0
        with summary.timed("writing"), manifest.transaction():
            for (article, cs), found in zip(batch, entities, strict=True):
                own = vectors[offset : offset + len(cs)]
                offset += len(cs)
                manifest.add(
                    article,
                    [(c.start, c.end) for c in cs],
                    dedup.article_vector(own),
                    dedup.content_words(article.text),
                )
                manifest.set_entities(article.id, found, tagger.id)
        done += len(chunks)
        summary.chunks_embedded += len(chunks)
        if progress:
            progress(done, total)
