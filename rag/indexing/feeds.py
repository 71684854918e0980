"""RSS and Atom feeds: the list kept beside the index, and pulling their new items.

The list is ``feeds.json`` in the index folder, written whole to a temporary
file and renamed over the old one, so a crash never leaves half a list. Each
feed keeps the ``ETag`` and ``Last-Modified`` its server last sent (the next
pull asks with ``If-None-Match`` / ``If-Modified-Since``, and a 304 costs no
parsing) and the summary of its last pull.

A pull reads each feed with ``feedparser`` and each of its newest
``RAG_FEED_MAX_ITEMS`` items:

- an item whose URL was saved before, with the same date, is not fetched again;
  one whose date changed is fetched, and its file replaced when its text or
  metadata changed (``updated``);
- an item whose URL the index holds from another file, or whose text is an
  indexed article's, is not added (:class:`rag.indexing.links.WebFolder`);
- otherwise its page is fetched (:mod:`rag.indexing.fetch`: every rule for untrusted
  links) and saved under ``web/`` in the articles folder with the item's title,
  the feed's title as the outlet, the item's date and its URL.

A feed or an item that fails is reported with its reason and the rest go on;
nothing already saved is removed. Indexing is :func:`rag.indexing.indexer.sync`'s job.

    add(settings, "https://example.com/rss.xml", name="example")
    for report in pull(settings):
        print(report.line())
"""

from __future__ import annotations

import calendar
import contextlib
import json
import logging
import os
import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import feedparser

from rag.errors import ConfigError, ConflictError, FetchError, NotFoundError
from rag.indexing.fetch import FEED, HTML, Fetcher, check_url, normal_url
from rag.indexing.links import Outcome, WebFolder
from rag.indexing.metadata import source_from_url
from rag.settings import Settings
from rag.text.outlets import outlet_name

FILE = "feeds.json"
# A feed's name: what `rag feeds remove` and the Library call it ("Reuters World").
_NAME = re.compile(r"^\w(?:[\w .&'’-]{0,58}[\w.])?$")
_log = logging.getLogger("rag.indexing.feeds")
_lock = threading.Lock()  # one writer of feeds.json per process (the schedule, a request)
# One pull at a time per process: the schedule and a request pulling together would fetch
# and save the same new items twice.
_pulling = threading.Lock()


@dataclass
class Feed:
    name: str
    url: str
    title: str | None = None  # the feed's own, from its last good pull
    etag: str | None = None
    modified: str | None = None
    last_pull: dict[str, Any] | None = None  # PullReport.to_dict() of the last pull


@dataclass
class PullReport:
    """One feed's pull: ``status`` is ``pulled``, ``not modified`` (304) or ``failed``
    (``reason`` says why); ``items`` what became of each item read."""

    feed: str
    url: str
    status: str
    at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    reason: str = ""
    items: list[Outcome] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for item in self.items if item.status == status)

    @property
    def changed(self) -> bool:
        return any(item.status in ("added", "updated") for item in self.items)

    def line(self) -> str:
        """One line for a person: what the pull of this feed did."""
        if self.status != "pulled":
            return f"{self.feed}: {self.status}" + (f" — {self.reason}" if self.reason else "")
        counts = ", ".join(
            f"{self.count(s)} {s}"
            for s in ("added", "updated", "unchanged", "duplicate", "failed")
            if self.count(s)
        )
        return f"{self.feed}: {len(self.items)} items — {counts or 'none'}"

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["summary"] = self.line()
        return data


# --- the list ------------------------------------------------------------------------


def path(settings: Settings) -> Path:
    return settings.index_dir / FILE


def load(settings: Settings) -> list[Feed]:
    """The feeds on the list (none when there is no list yet)."""
    file = path(settings)
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return []
    except (OSError, ValueError) as exc:
        raise ConfigError(
            f"the feed list {file} cannot be read ({exc}); fix or delete it and add the feeds again"
        ) from None
    known = set(Feed.__dataclass_fields__)
    return [Feed(**{k: v for k, v in f.items() if k in known}) for f in data.get("feeds", [])]


def save(settings: Settings, feeds: Iterable[Feed]) -> None:
    """Write the list whole, then rename it into place."""
    file = path(settings)
    file.parent.mkdir(parents=True, exist_ok=True)
    tmp = file.with_name(f".{FILE}.{os.getpid()}.tmp")
    body = json.dumps({"feeds": [asdict(f) for f in feeds]}, ensure_ascii=False, indent=2)
    try:
        tmp.write_text(body + "\n", encoding="utf-8")
        os.replace(tmp, file)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        raise ConfigError(
            f"cannot write the feed list {file}: {exc.strerror or exc}; check that the index "
            "folder is writable"
        ) from None


def add(settings: Settings, url: str, name: str | None = None) -> Feed:
    """Put a feed on the list (not fetched yet: :func:`pull` does that)."""
    try:
        url = check_url(url)
    except FetchError as exc:
        raise ConfigError(f"cannot add feed {url!r}: {exc}") from None
    with _lock:
        feeds = load(settings)
        for feed in feeds:
            if normal_url(feed.url) == normal_url(url):
                raise ConflictError(f"{url} is on the list already, as {feed.name}")
        if name is not None:
            if not _NAME.match(name):
                raise ConfigError(
                    f"feed name {name!r} is not allowed: use letters, digits, spaces and "
                    ". _ - & ' (up to 60 characters)"
                )
            if any(f.name == name for f in feeds):
                raise ConflictError(f"a feed called {name} is on the list already; pick another")
        else:
            base = re.sub(r"[^\w.-]+", "-", source_from_url(url) or "feed")[:36]
            taken = {f.name for f in feeds}
            name = next(
                n for n in (base, *(f"{base}-{i}" for i in range(2, 999))) if n not in taken
            )
        feed = Feed(name=name, url=url)
        save(settings, [*feeds, feed])
    return feed


def find(feeds: list[Feed], ref: str) -> Feed:
    for feed in feeds:
        if feed.name == ref:
            return feed
    with contextlib.suppress(ValueError):
        for feed in feeds:
            if normal_url(feed.url) == normal_url(ref):
                return feed
    names = ", ".join(f.name for f in feeds) or "none"
    raise NotFoundError(f"no feed called {ref!r} on the list (feeds: {names}); see rag feeds list")


def remove(settings: Settings, ref: str) -> Feed:
    """Take a feed (by name or URL) off the list; what it added stays in the folder."""
    with _lock:
        feeds = load(settings)
        feed = find(feeds, ref)
        save(settings, [f for f in feeds if f is not feed])
    return feed


# --- pulling -------------------------------------------------------------------------


def _when(entry: Any, *keys: str) -> str | None:
    for key in keys:
        # dict.get, not the entry's own: feedparser answers "updated" with "published"
        # (and warns) when an item has only one of them.
        parsed = dict.get(entry, f"{key}_parsed")
        if parsed:
            return datetime.fromtimestamp(calendar.timegm(parsed), UTC).isoformat()
    return None


def pull(
    settings: Settings,
    names: Iterable[str] | None = None,
    *,
    fetcher: Fetcher | None = None,
) -> list[PullReport]:
    """Pull every feed on the list (or those ``names``), save new and changed items; each
    feed's conditional-request headers and summary are written back to the list. A pull
    started while another runs in this process waits for it."""
    with _pulling:
        feeds = load(settings)
        chosen = [find(feeds, n) for n in names] if names else feeds
        own = fetcher is None
        fetcher = fetcher or Fetcher(settings)
        web = WebFolder(settings)
        reports = []
        try:
            for feed in chosen:
                reports.append(_pull_one(settings, feed, fetcher, web))
        finally:
            if own:
                fetcher.close()
        with _lock:
            # Read again: a feed added or removed while this pull ran stays added or removed.
            latest = {f.name: f for f in load(settings)}
            for feed in chosen:
                if feed.name in latest:
                    latest[feed.name] = feed
            save(settings, latest.values())
    return reports


def _pull_one(settings: Settings, feed: Feed, fetcher: Fetcher, web: WebFolder) -> PullReport:
    conditional = {}
    if feed.etag:
        conditional["If-None-Match"] = feed.etag
    if feed.modified:
        conditional["If-Modified-Since"] = feed.modified
    try:
        response = fetcher.get(feed.url, accept=FEED, headers=conditional)
    except FetchError as exc:
        report = PullReport(feed.name, feed.url, "failed", reason=str(exc))
    else:
        if response.status == 304:
            report = PullReport(feed.name, feed.url, "not modified")
        else:
            parsed = feedparser.parse(
                response.body,
                response_headers={
                    "content-location": response.url,
                    "content-type": response.headers.get("content-type", ""),
                },
            )
            if not parsed.entries and (parsed.bozo or not parsed.version):
                problem = parsed.get("bozo_exception") or "no RSS or Atom elements"
                report = PullReport(
                    feed.name, feed.url, "failed", reason=f"not a valid RSS or Atom feed: {problem}"
                )
            else:
                feed.title = parsed.feed.get("title") or feed.title
                report = PullReport(feed.name, feed.url, "pulled")
                for entry in parsed.entries[: settings.feed_max_items]:
                    report.items.append(_item(feed, response.url, entry, fetcher, web))
                # Only after a pull that got through: a failed one is asked again in full.
                feed.etag, feed.modified = response.etag, response.last_modified
    feed.last_pull = report.to_dict() | {"items": [i.to_dict() for i in report.items]}
    return report


def _item(feed: Feed, base: str, entry: Any, fetcher: Fetcher, web: WebFolder) -> Outcome:
    link = entry.get("link") or ""
    if not link:
        return Outcome(
            entry.get("id") or entry.get("title") or "(item)", "failed", reason="no link"
        )
    url = urljoin(base, link)
    published = _when(entry, "published", "updated", "created")
    stamp = _when(entry, "updated", "published", "created")
    saved = web.saved(url)
    if saved is not None:
        # No date in the feed: nothing says it changed (a feed without dates would
        # otherwise have every item fetched again on every pull).
        if stamp is None or web.record(saved).get("item_updated") == stamp:
            return Outcome(url, "unchanged", web.rel(saved), "saved before, not changed since")
    elif web.indexed(url) is not None:
        return Outcome(url, "unchanged", web.indexed(url), "already indexed")
    try:
        page = fetcher.get(url, accept=HTML)
    except FetchError as exc:
        return Outcome(url, "failed", reason=str(exc))
    title = entry.get("title")
    outlet = outlet_name(feed.title) if feed.title else None
    return web.save(
        url,
        page,
        title=title.strip() if isinstance(title, str) and title.strip() else None,
        source=outlet,
        published_at=published,
        extra={"feed": feed.name, "feed_url": feed.url, "item_updated": stamp},
    )


# --- on a schedule -------------------------------------------------------------------


class Schedule:
    """Pulls every feed each ``RAG_FEED_PULL_MINUTES`` in a daemon thread and hands the
    reports to ``pulled`` (which indexes what changed); stopped by :meth:`stop`."""

    def __init__(
        self, settings: Settings, pulled: Callable[[list[PullReport]], None] | None = None
    ) -> None:
        self.settings = settings
        self.pulled = pulled
        self.last: list[PullReport] = []
        self.error: str | None = None
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="rag-feed-schedule", daemon=True)

    def start(self) -> Schedule:
        self.thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        every = max(1, self.settings.feed_pull_minutes) * 60
        # The first pull when the server starts, then one each period.
        while not self._stop.is_set():
            try:
                self.last = pull(self.settings)
                self.error = None
                if self.pulled is not None:
                    self.pulled(self.last)
            # A scheduled pull has nobody to raise to: it logs what went wrong (the
            # server's log) and tries again next time.
            except Exception as exc:
                self.error = f"scheduled feed pull failed: {exc}"
                _log.warning("%s", self.error)
            else:
                for report in self.last:
                    _log.info("feed pull: %s", report.line())
            self._stop.wait(every)
