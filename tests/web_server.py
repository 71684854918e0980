"""A real HTTP server on a loopback port, in a thread, serving what a test puts on it:
feeds, article pages, redirects, slow and oversized answers. It records every request
(path and headers) and answers conditional requests with 304 when the ETag or the
Last-Modified date matches."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx

from rag.indexing.fetch import Fetcher
from rag.indexing.links import WEB_FOLDER
from rag.settings import Settings


@dataclass
class Route:
    body: bytes = b""
    content_type: str = "text/html; charset=utf-8"
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before the answer starts
    etag: str | None = None
    last_modified: str | None = None
    length: bool = True  # send Content-Length (False: the body runs until the connection closes)


@dataclass
class Seen:
    path: str
    headers: dict[str, str]
    status: int = 0


class Site:
    """``site.page("/a.html", html)``, ``site.url("/a.html")``, ``site.requests``."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[Seen] = []
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                seen = Seen(self.path, {k.lower(): v for k, v in self.headers.items()})
                site.requests.append(seen)
                route = site.routes.get(self.path)
                if route is None:
                    seen.status = 404
                    self.send_response(404)
                    self.send_header("Content-Type", "text/plain")
                    self.send_header("Content-Length", "9")
                    self.end_headers()
                    self.wfile.write(b"not found")
                    return
                if route.delay:
                    time.sleep(route.delay)
                fresh = (
                    route.etag is not None and seen.headers.get("if-none-match") == route.etag
                ) or (
                    route.last_modified is not None
                    and seen.headers.get("if-modified-since") == route.last_modified
                )
                seen.status = 304 if fresh else route.status
                self.send_response(seen.status)
                if route.etag:
                    self.send_header("ETag", route.etag)
                if route.last_modified:
                    self.send_header("Last-Modified", route.last_modified)
                for key, value in route.headers.items():
                    self.send_header(key, value)
                if fresh:
                    self.end_headers()
                    return
                self.send_header("Content-Type", route.content_type)
                if route.length:
                    self.send_header("Content-Length", str(len(route.body)))
                self.end_headers()
                # The client may stop reading (a size limit): not the server's problem.
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(route.body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def page(self, path: str, body: str | bytes, **options: object) -> str:
        data = body.encode() if isinstance(body, str) else body
        self.routes[path] = Route(data, **options)  # type: ignore[arg-type]
        return self.url(path)

    def seen(self, path: str) -> list[Seen]:
        return [r for r in self.requests if r.path == path]


@contextmanager
def serve() -> Iterator[Site]:
    site = Site()
    site.thread.start()
    try:
        yield site
    finally:
        site.server.shutdown()
        site.server.server_close()


def http_date(seconds: float) -> str:
    return formatdate(seconds, usegmt=True)


class Rewrite(httpx.BaseTransport):
    """Sends requests for the public address ``fake`` to the loopback server instead: a
    fetcher that may not reach private addresses can still be tested against the real
    server, as if a public host served it."""

    def __init__(self, fake: str, port: int) -> None:
        self.fake, self.port = fake, port
        self.inner = httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.host == self.fake:
            request.url = request.url.copy_with(host="127.0.0.1", port=self.port)
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


def article_page(title: str, outlet: str, day: str, paragraphs: list[str]) -> str:
    """A news page with the chrome around the story that extraction must drop."""
    body = "\n".join(f"<p>{p}</p>" for p in paragraphs)
    return f"""<!doctype html>
<html><head><title>{title} | {outlet}</title>
<meta property="og:title" content="{title}">
<meta property="og:site_name" content="{outlet}">
<meta property="article:published_time" content="{day}">
</head><body>
<nav><a href="/">Home</a> <a href="/world">World</a></nav>
<article><h1>{title}</h1>
{body}
</article>
<footer>Sign up for our newsletter to get the news in your inbox.</footer>
</body></html>"""


def rss(title: str, items: list[dict[str, str]]) -> str:
    entries = "\n".join(
        f"<item><title>{i['title']}</title><link>{i['link']}</link>"
        + (f"<pubDate>{i['date']}</pubDate>" if i.get("date") else "")
        + f"<guid>{i['link']}</guid></item>"
        for i in items
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>{title}</title><link>http://example.com/</link>
<description>News</description>
{entries}
</channel></rss>"""


def atom(title: str, items: list[dict[str, str]]) -> str:
    entries = "\n".join(
        f'<entry><title>{i["title"]}</title><link href="{i["link"]}"/>'
        f"<id>{i['link']}</id><updated>{i['date']}</updated>"
        + (f"<published>{i['published']}</published>" if i.get("published") else "")
        + "</entry>"
        for i in items
    )
    return f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>{title}</title>
<id>urn:feed</id><updated>2023-11-20T00:00:00Z</updated>
{entries}
</feed>"""


PORT_STORY = [
    "Dock workers at the port of Riverside ended their nine-day strike on Monday.",
    "The union accepted a pay rise of six percent over two years, its leader Ana Ruiz said.",
    "Shipping lines had diverted forty vessels to other ports during the stoppage.",
]
BRIDGE_STORY = [
    "The Elm Street bridge will close for repairs from March until the end of June.",
    "Engineers found corrosion in two of its steel beams during an inspection last year.",
    "Buses will use a detour through the old town while the work goes on.",
]
# A public address the fetcher is told a test host resolves to; Rewrite sends it to the
# loopback server, so the private-address rule can stay on.
PUBLIC = "93.184.216.34"


def fetch_settings(root: Path) -> Settings:
    """Settings for fetching from the loopback test server: private addresses allowed,
    no wait between requests, a short timeout; articles and index under ``root``."""
    return Settings(
        articles_dir=root / "articles",
        index_dir=root / "index",
        fetch_allow_private=True,
        fetch_host_delay=0,
        fetch_timeout=2,
    )


def saved(settings: Settings) -> dict[str, dict]:
    folder = settings.articles_dir / WEB_FOLDER
    if not folder.is_dir():
        return {}
    return {p.name: json.loads(p.read_text()) for p in sorted(folder.iterdir())}


def public_fetcher(settings: Settings, site: Site) -> Fetcher:
    """A fetcher with private addresses refused, for which news.example is public."""

    def resolve(host: str, port: int) -> list[str]:
        if host == "news.example":
            return [PUBLIC]
        return [str(i[4][0]) for i in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)]

    strict = settings.model_copy(update={"fetch_allow_private": False})
    return Fetcher(strict, transport=Rewrite(PUBLIC, site.port), resolve=resolve)
