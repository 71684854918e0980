"""What the articles folder holds now, compared with what the manifest recorded.

The first step of ``rag index``. An unchanged file (same size and mtime as recorded,
its articles indexed from it) is not read again. Articles are known by their content
(:func:`rag.indexing.articles.content_id`), so two files with the same text are one article:

- it keeps the path it is indexed under while that file exists, so copying a file
  never passes for a rename (``cp X.html X-COPY.html`` left ``X.html`` unfindable);
- the other files are exact copies, reported with a skip naming the file the article
  is indexed under, and recorded in the file table, so they can be looked up
  (``rag articles show X-COPY.html``);
- when the indexed file goes, a copy takes over: the article is re-pointed to it
  (reported as a rename), never left pointing at the deleted file. Among new copies
  the oldest file (then the first by path) is the one indexed.

A folder's ``_source.toml`` (:mod:`rag.indexing.folder_defaults`) is not an article: its
defaults fill in what each file below it does not say. Their fingerprint is recorded
with each file, so a file whose defaults changed is read again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from rag.indexing.articles import Article, Skip, from_file
from rag.indexing.folder import os_problem, walk
from rag.indexing.folder_defaults import FolderDefaults, is_defaults_file
from rag.indexing.loaders import read_file
from rag.indexing.manifest import FileEntry, Manifest


@dataclass
class FolderScan:
    articles: dict[str, Article | None] = field(default_factory=dict)  # None: unchanged, unread
    paths: dict[str, str] = field(default_factory=dict)  # article id → the path indexed
    skipped: list[Skip] = field(default_factory=list)
    files: dict[str, FileEntry] = field(default_factory=dict)  # read without problems


@dataclass
class _Place:
    path: str
    mtime_ns: int
    article: Article | None


def scan_folder(folder: Path, manifest: Manifest, max_bytes: int) -> FolderScan:
    cached = manifest.files()
    indexed = manifest.paths()
    scan = FolderScan()
    found: dict[str, list[_Place]] = {}
    defaults = FolderDefaults(folder)
    # Links that loop, dangle or lead out of the folder, FIFOs, devices and unreadable
    # subfolders come as skips: a hostile entry never stops the rest of the folder.
    for entry in walk(folder):
        if isinstance(entry, Skip):
            scan.skipped.append(entry)
            continue
        file, rel = entry
        if is_defaults_file(rel) and file != folder:
            defaults.own(rel.rpartition("/")[0])  # read, so a broken one is reported
            scan.skipped += defaults.problems
            defaults.problems.clear()
            continue
        try:
            stat = file.stat()
        except OSError as exc:
            scan.skipped.append(Skip(rel, os_problem(exc)))
            continue
        hit = cached.get(rel)
        given = defaults.for_file(rel)
        # Trusted unread only when every article of the file is indexed from this very
        # file: a copy of an article indexed elsewhere is read to learn its own paths.
        if (
            hit
            and hit[:2] == (stat.st_size, stat.st_mtime_ns)
            and hit[3] == given.fingerprint
            and all(i in indexed and from_file(rel, indexed[i]) for i in hit[2])
        ):
            for article_id in hit[2]:
                found.setdefault(article_id, []).append(
                    _Place(indexed[article_id], stat.st_mtime_ns, None)
                )
            scan.files[rel] = hit
            continue
        result = read_file(file, rel, max_bytes)
        scan.skipped.extend(result.skipped)
        articles = [given.apply(a) for a in result.articles]
        ids = [a.id for a in articles]
        for article in articles:
            found.setdefault(article.id, []).append(_Place(article.path, stat.st_mtime_ns, article))
        # Only files read without any problem are trusted by size and mtime next time; a
        # file repeating one of its own records is read (and reported) every time.
        if not result.skipped and len(set(ids)) == len(ids):
            scan.files[rel] = (stat.st_size, stat.st_mtime_ns, ids, given.fingerprint)

    scan.skipped += defaults.problems
    for article_id, places in found.items():
        current = indexed.get(article_id)
        kept = next(
            (p for p in places if p.path == current),
            min(places, key=lambda p: (p.mtime_ns, p.path)),
        )
        scan.articles[article_id] = kept.article
        scan.paths[article_id] = kept.path
        scan.skipped += [Skip(p.path, f"same text as {kept.path}") for p in places if p is not kept]
    return scan
