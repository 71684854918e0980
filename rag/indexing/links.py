"""Web pages into the articles folder: fetch a link, keep its article text as a file.

The articles folder stays the source of truth: each page becomes one JSON file
under ``web/`` in it (``rag index`` reads it like any other, a rebuild needs
no network), holding the page's main text (:func:`rag.indexing.loaders.read_html`:
trafilatura, page furniture dropped), its title, outlet, date and the URL it
was fetched from. JSON, not Markdown with front matter: the text is kept
exactly, where a Markdown file's first lines would be read for a headline or a
byline again.

The file's name ends in a hash of the URL, so a URL already saved is known
without fetching it again; a URL the index holds from another file, or a page
whose text is already indexed or saved, is not added twice.

    report = add_links(settings, ["https://example.com/story"])
    report[0].status, report[0].path        # "added", "web/example-com-story-….json"
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from rag.catalog import open_manifest
from rag.errors import FetchError, UploadError
from rag.indexing.articles import Article
from rag.indexing.fetch import HTML, Fetched, Fetcher, normal_url
from rag.indexing.loaders import Unreadable, read_html, read_record
from rag.indexing.metadata import source_from_url
from rag.indexing.uploads import write
from rag.settings import Settings

WEB_FOLDER = "web"

Status = Literal["added", "updated", "unchanged", "duplicate", "failed"]


@dataclass(frozen=True)
class Outcome:
    """What became of one URL: ``added`` or ``updated`` (``path`` is the file, relative to
    the articles folder), ``unchanged`` (known already, not fetched or not different),
    ``duplicate`` (its text is another article's) or ``failed``; ``reason`` says why."""

    url: str
    status: Status
    path: str | None = None
    reason: str = ""

    def __str__(self) -> str:
        said = f"{self.status:>9}  {self.url}"
        if self.path:
            said += f" → {self.path}"
        return said + (f": {self.reason}" if self.reason else "")

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def url_key(url: str) -> str:
    """12 hex digits naming ``url`` (normalised) in its file's name."""
    return hashlib.sha256(normal_url(url).encode()).hexdigest()[:12]


def _text_key(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _slug(*parts: str | None, limit: int = 60) -> str:
    words = re.sub(r"[^a-z0-9]+", "-", " ".join(p for p in parts if p).lower()).strip("-")
    return words[:limit].rstrip("-") or "page"


class WebFolder:
    """The pages saved under ``web/`` in the articles folder, and what the index holds
    already (by URL and by text), read once per pull or ``rag add``."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.root = settings.articles_dir
        self.folder = self.root / WEB_FOLDER
        self._files: dict[str, Path] = {}
        if self.folder.is_dir():
            for file in self.folder.glob("*.json"):
                key = file.stem.rsplit("-", 1)[-1]
                self._files.setdefault(key, file)
        self._urls: dict[str, str] = {}  # normalised URL → indexed path
        self._texts: dict[str, str] = {}  # text hash → indexed (or just saved) path
        with open_manifest(settings) as manifest:
            if manifest is not None:
                paths = {}
                for article in manifest.articles():
                    paths[article.id] = article.path
                    if article.url:
                        self._urls.setdefault(normal_url(article.url), article.path)
                for article_id, text in manifest.texts().items():
                    self._texts.setdefault(_text_key(text), paths[article_id])

    def saved(self, url: str) -> Path | None:
        """The file ``url`` was saved in, if it was."""
        return self._files.get(url_key(url))

    def indexed(self, url: str) -> str | None:
        """The article path the index holds ``url`` under, if any."""
        return self._urls.get(normal_url(url))

    def record(self, file: Path) -> dict[str, Any]:
        """A saved page's fields; empty when the file is gone or damaged."""
        try:
            data = json.loads(file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def rel(self, file: Path) -> str:
        return file.relative_to(self.root).as_posix()

    def save(
        self,
        url: str,
        page: Fetched,
        *,
        title: str | None = None,
        source: str | None = None,
        published_at: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> Outcome:
        """Read ``page`` (fetched for ``url``) and save its article, or say why not. The
        given metadata (a feed item's) wins over the page's own; a page saved before for
        this URL is replaced when its text or metadata changed."""
        try:
            found = read_html(page.text(), url)
        except Unreadable as exc:
            return Outcome(url, "failed", reason=f"no article in the page: {exc}")
        except FetchError as exc:
            return Outcome(url, "failed", reason=str(exc))
        record: dict[str, Any] = {
            "url": url,
            "title": title or found.title,
            "source": source or found.source or source_from_url(page.url),
            "published_at": published_at or found.published_at,
            "text": found.text,
        }
        if normal_url(page.url) != normal_url(url):
            record["fetched_from"] = page.url
        record |= extra or {}
        record["fetched_at"] = datetime.now(UTC).isoformat(timespec="seconds")
        article = self._article(record, url)
        if isinstance(article, Outcome):
            return article
        existing = self.saved(url)
        if existing is not None:
            before = self._article(self.record(existing), self.rel(existing))
            if isinstance(before, Article) and before.id == article.id:
                return Outcome(url, "unchanged", self.rel(existing), "same text as saved before")
            target, status = existing, "updated"
        else:
            known = self._texts.get(_text_key(article.text))
            if known is not None:
                return Outcome(url, "duplicate", reason=f"same text as {known}, not added")
            name = f"{_slug(source_from_url(url), found.title)}-{url_key(url)}.json"
            target, status = self.folder / name, "added"
        data = json.dumps(record, ensure_ascii=False, indent=2).encode() + b"\n"
        if len(data) > self.settings.max_file_bytes:
            return Outcome(
                url,
                "failed",
                reason=f"its text is over the {self.settings.max_file_mb:g} MB article limit "
                "(RAG_MAX_FILE_MB)",
            )
        try:
            write([(target, data)])
        except UploadError as exc:
            return Outcome(url, "failed", reason=str(exc))
        self._files[url_key(url)] = target
        self._texts[_text_key(article.text)] = self.rel(target)
        return Outcome(url, status, self.rel(target))  # type: ignore[arg-type]

    def _article(self, record: dict[str, Any], where: str) -> Article | Outcome:
        """The article ``rag index`` will read from ``record``: what is compared."""
        try:
            return read_record(record, where)
        except Unreadable as exc:
            return Outcome(str(record.get("url", where)), "failed", reason=str(exc))


def add_links(
    settings: Settings, urls: Iterable[str], *, fetcher: Fetcher | None = None
) -> list[Outcome]:
    """Fetch each link and save its article under ``web/`` in the articles folder (not
    indexed here: :func:`rag.indexing.indexer.sync` does that). A URL saved or indexed before is
    not fetched again; one that fails is reported and the rest go on."""
    web = WebFolder(settings)
    own = fetcher is None
    fetcher = fetcher or Fetcher(settings)
    outcomes: list[Outcome] = []
    seen: set[str] = set()
    try:
        for raw in urls:
            url = raw.strip()
            try:
                key = normal_url(url)
            except ValueError as exc:
                outcomes.append(Outcome(url, "failed", reason=f"not a valid URL ({exc})"))
                continue
            if key in seen:
                continue
            seen.add(key)
            saved = web.saved(url)
            if saved is not None:
                outcomes.append(Outcome(url, "unchanged", web.rel(saved), "added before"))
                continue
            indexed = web.indexed(url)
            if indexed is not None:
                outcomes.append(Outcome(url, "unchanged", indexed, "already indexed"))
                continue
            try:
                page = fetcher.get(url, accept=HTML)
            except FetchError as exc:
                outcomes.append(Outcome(url, "failed", reason=str(exc)))
                continue
            outcomes.append(web.save(url, page))
    finally:
        if own:
            fetcher.close()
    return outcomes
