"""The article record shared by the build and ask sides."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Article:
    """One cleaned article. ``id`` is a hash of what gets embedded, so identical
    content keeps its id across renames and a changed article gets a new one."""

    text: str
    title: str
    path: str
    source: str | None = None
    published_at: str | None = None
    url: str | None = None
    external_id: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    id: str = ""

    def __post_init__(self) -> None:
        if not self.id:
            self.id = content_id(self.title, self.source, self.published_at, self.text)


def content_id(title: str, source: str | None, published_at: str | None, text: str) -> str:
    """16 hex digits of SHA-256 over the fields that reach the embedding model."""
    digest = hashlib.sha256()
    for part in (title, source or "", published_at or "", text):
        digest.update(part.encode("utf-8"))
        digest.update(b"\x00")
    return digest.hexdigest()[:16]


def from_file(rel: str, path: str) -> bool:
    """Whether the article path ``path`` (``feed.jsonl#3`` for a record) lies in file ``rel``."""
    return path == rel or path.startswith(rel + "#")


@dataclass(frozen=True)
class Skip:
    """An input that was not indexed, and why — one line a user can act on."""

    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"
