"""Defaults a folder gives its articles: a ``_source.toml`` beside them.

::

    # articles/reuters/_source.toml
    outlet = "Reuters"       # the source of articles that name none
    published = 2023-11-20   # the day of articles that give none

It applies to the files in its folder and in the folders below; a deeper one
overrides the keys it sets. A file's own metadata (front matter, JSON fields, a
page's ``<meta>``, a PDF's properties, the lines under a headline, a URL's host)
always wins. The file itself is not an article. A broken one (invalid TOML, an
unknown key, a value of the wrong type) is reported as a skip and not applied, and
the folder's files are indexed with the defaults from above.

Only fields an article is indexed by are defaults, so changing them changes what is
indexed: each file's *fingerprint* (:attr:`Defaults.fingerprint`) is recorded with it
in the manifest, and a file whose fingerprint changed is read again.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from dataclasses import asdict, dataclass, replace
from datetime import date, datetime
from pathlib import Path, PurePosixPath
from typing import Any

from rag.indexing.articles import Article, Skip
from rag.indexing.folder import entry_problem, os_problem
from rag.indexing.metadata import parse_date

DEFAULTS_FILE = "_source.toml"
MAX_BYTES = 64 * 1024
KEYS = ("outlet", "published")


def is_defaults_file(rel: str) -> bool:
    """Whether the entry ``rel`` (relative to the articles folder) is a folder's defaults."""
    return PurePosixPath(rel).name == DEFAULTS_FILE


@dataclass(frozen=True)
class Defaults:
    """The defaults in force for one file; empty when no folder above it sets any."""

    outlet: str | None = None
    published: str | None = None  # ISO 8601

    @property
    def fingerprint(self) -> str:
        """ "" without defaults, else 16 hex digits of their hash: recorded per file, so a
        changed default has the file read again (and an index without any reads none)."""
        if self == Defaults():
            return ""
        encoded = json.dumps(asdict(self), sort_keys=True).encode()
        return hashlib.sha256(encoded).hexdigest()[:16]

    def apply(self, article: Article) -> Article:
        """``article`` with the defaults for what it does not say itself (a new id when
        anything was filled in: the id covers the source and the date)."""
        changes: dict[str, Any] = {}
        if self.outlet and not article.source:
            changes["source"] = self.outlet
        # An article that gives a day nobody could read says when it was published too.
        if self.published and not article.published_at and "published_raw" not in article.extra:
            changes["published_at"] = self.published
        return replace(article, id="", **changes) if changes else article


class FolderDefaults:
    """Reads each folder's ``_source.toml`` once and merges them down the tree. Problems
    are collected in :attr:`problems` (one skip per broken file), never raised."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.real_root = root.resolve() if root.is_dir() else None
        self.problems: list[Skip] = []
        self._own: dict[str, dict[str, str]] = {}

    def for_file(self, rel: str) -> Defaults:
        """The defaults of the file ``rel`` (relative to the root folder)."""
        if self.real_root is None:  # a file named alone has no folder of its own
            return Defaults()
        parts = PurePosixPath(rel).parent.parts
        merged: dict[str, str] = {}
        for depth in range(len(parts) + 1):
            merged |= self.own("/".join(parts[:depth]))
        return Defaults(**merged)

    def own(self, folder: str) -> dict[str, str]:
        """What ``folder``'s own ``_source.toml`` sets ({} without one, or a broken one)."""
        if folder not in self._own:
            self._own[folder] = self._read(folder)
        return self._own[folder]

    def _read(self, folder: str) -> dict[str, str]:
        path = self.root / folder / DEFAULTS_FILE
        rel = f"{folder}/{DEFAULTS_FILE}" if folder else DEFAULTS_FILE
        if not (path.exists() or path.is_symlink()):
            return {}
        # A link out of the folder, a FIFO or a device: the folder walk reports it.
        if entry_problem(path, self.real_root) is not None:
            return {}
        try:
            with path.open("rb") as handle:
                data = handle.read(MAX_BYTES + 1)
        except OSError as exc:
            return self._broken(rel, os_problem(exc))
        if len(data) > MAX_BYTES:
            return self._broken(rel, f"over {MAX_BYTES // 1024} KB; a few lines are enough")
        try:
            table = tomllib.loads(data.decode("utf-8"))
        except UnicodeDecodeError:
            return self._broken(rel, "not UTF-8 text")
        except tomllib.TOMLDecodeError as exc:
            return self._broken(rel, f"invalid TOML ({exc})")
        unknown = sorted(set(table) - set(KEYS))
        if unknown:
            return self._broken(
                rel, f"unknown key {', '.join(unknown)}; the keys are {', '.join(KEYS)}"
            )
        found: dict[str, str] = {}
        outlet = table.get("outlet")
        if outlet is not None:
            if not isinstance(outlet, str) or not outlet.strip():
                return self._broken(rel, 'outlet must be a name in quotes: outlet = "Reuters"')
            found["outlet"] = " ".join(outlet.split())
        published = table.get("published")
        if published is not None:
            day = parse_date(published) if isinstance(published, str | date | datetime) else None
            if day is None:
                return self._broken(rel, f"published {published!r} is not a date: 2023-11-20")
            found["published"] = day
        return found

    def _broken(self, rel: str, why: str) -> dict[str, str]:
        folder = str(PurePosixPath(rel).parent)
        where = "the articles folder" if folder == "." else f"{folder}/"
        self.problems.append(
            Skip(
                rel,
                f"folder defaults not applied: {why}; the files in {where} are indexed "
                "without them until it is fixed",
            )
        )
        return {}
