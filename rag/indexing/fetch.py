"""Fetching web pages and feeds that nobody vouched for.

A link pasted in, or an item a feed names, may point anywhere: at the machine's
own services, at a page the site asked robots not to read, at a gigabyte of
video or a server that never answers. :class:`Fetcher` fetches one URL under
these rules, and refuses with a :class:`~rag.errors.FetchError` whose message
says which rule:

- http and https only;
- the host is resolved and every address it resolves to is checked: loopback,
  private, link-local, multicast, reserved and unspecified addresses are
  refused unless ``RAG_FETCH_ALLOW_PRIVATE``; the request then goes to the
  address checked (the ``Host`` header and TLS name stay the host's), so a name
  that resolves differently a moment later cannot slip past the check;
- redirects are followed by hand, each new URL checked as the first was, at
  most ``RAG_FETCH_MAX_REDIRECTS`` of them, and a loop is named as one;
- ``robots.txt`` of each site is read once per fetcher and obeyed
  (:mod:`urllib.robotparser`; 401/403 or a server error forbid the site, a
  missing file allows it), and its ``Crawl-delay`` is honoured;
- one request per host each ``RAG_FETCH_HOST_DELAY`` seconds;
- the response's status and Content-Type are checked before its body is read,
  and the body is streamed and cut at ``RAG_FETCH_MAX_MB``;
- connecting, each read and the whole fetch take at most ``RAG_FETCH_TIMEOUT``.

    with Fetcher(settings) as fetcher:
        page = fetcher.get("https://example.com/story", accept=HTML)
"""

from __future__ import annotations

import ipaddress
import socket
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from urllib.parse import urljoin, urlsplit, urlunsplit
from urllib.robotparser import RobotFileParser

import httpx

from rag.errors import FetchError
from rag.indexing.loaders import Unreadable, decode
from rag.settings import Settings

USER_AGENT = "newsdesk/0.1 (+https://github.com/newsdesk; feeds and links)"
ROBOTS_AGENT = "newsdesk"

# Content types a page or a feed may have; what else a server sends is refused unread.
HTML = ("text/html", "application/xhtml+xml")
FEED = (
    "application/rss+xml",
    "application/atom+xml",
    "application/rdf+xml",
    "application/xml",
    "text/xml",
)
ANY: tuple[str, ...] = ()

_REDIRECTS = {301, 302, 303, 307, 308}
_ROBOTS_MAX_BYTES = 512 * 1024
_MAX_CRAWL_DELAY = 60.0  # a robots.txt asking for more would stall a pull; 60 s is plenty


@dataclass
class Fetched:
    """A response that passed every check. ``status`` is 304 (and ``body`` empty) when a
    conditional request found the resource unchanged."""

    url: str  # after redirects
    status: int
    content_type: str = ""
    charset: str | None = None
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)

    @property
    def etag(self) -> str | None:
        return self.headers.get("etag")

    @property
    def last_modified(self) -> str | None:
        return self.headers.get("last-modified")

    def text(self) -> str:
        """The body as text: the charset the server named, else as article files are read
        (:func:`rag.indexing.loaders.decode`); a FetchError for bytes that are no text."""
        if self.charset:
            try:
                return self.body.decode(self.charset)
            except (LookupError, UnicodeDecodeError):
                pass
        try:
            return decode(self.body)
        except Unreadable as exc:
            raise FetchError(str(exc).replace("file", "page")) from None


def normal_url(url: str) -> str:
    """``url`` as compared with others: scheme and host in lower case, no default port,
    no fragment, ``/`` for an empty path.

    >>> normal_url("HTTPS://Example.COM:443/a?b=1#top")
    'https://example.com/a?b=1'
    """
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    port = parts.port
    netloc = (
        host
        if port is None or (scheme, port) in (("http", 80), ("https", 443))
        else (f"{host}:{port}")
    )
    return urlunsplit((scheme, netloc, parts.path or "/", parts.query, ""))


def check_url(url: str) -> str:
    """``url`` if it is an absolute http(s) URL with a host, else a FetchError saying why."""
    try:
        parts = urlsplit(url.strip())
        parts.port  # noqa: B018 - raises for a port that is no number
    except ValueError as exc:
        raise FetchError(f"not a valid URL ({exc})") from None
    if parts.scheme.lower() not in ("http", "https"):
        shown = f"{parts.scheme}:" if parts.scheme else "no scheme"
        raise FetchError(f"only http and https links are fetched, not {shown}")
    if not parts.hostname:
        raise FetchError("the URL names no host")
    return url.strip()


def _forbidden(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    """What kind of non-public address ``address`` is, or None for a public one."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    for kind, flag in (
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("unspecified", address.is_unspecified),
        ("multicast", address.is_multicast),
        ("private", address.is_private),
        ("reserved", address.is_reserved),
        ("non-public", not address.is_global),  # shared (100.64/10), documentation …
    ):
        if flag:
            return kind
    return None


class Fetcher:
    """Fetches URLs under the rules above. Keeps one connection pool, the robots.txt of each
    site it met and when it last asked each host, so one fetcher serves one pull.

    ``transport`` (an httpx transport) and ``resolve`` (host, port → addresses) are for
    tests; production passes neither.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        transport: httpx.BaseTransport | None = None,
        resolve: Callable[[str, int], list[str]] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.settings = settings
        self._client = httpx.Client(
            follow_redirects=False,
            timeout=httpx.Timeout(settings.fetch_timeout),
            headers={"User-Agent": USER_AGENT},
            # Proxies from the environment would connect on our behalf to addresses we
            # never checked.
            trust_env=False,
            transport=transport,
        )
        self._resolve = resolve or _resolve
        self._sleep = sleep
        self._robots: dict[str, RobotFileParser | str] = {}  # origin → rules, or why none
        self._last: dict[str, float] = {}  # host → when it was last asked
        self._delay: dict[str, float] = {}  # host → its robots.txt Crawl-delay

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        self._client.close()

    # --- the public call -------------------------------------------------------------

    def get(
        self,
        url: str,
        *,
        accept: tuple[str, ...] = HTML,
        headers: Mapping[str, str] | None = None,
        robots: bool = True,
    ) -> Fetched:
        """Fetch ``url`` (GET), following redirects, checking each step; a body whose
        Content-Type is not one of ``accept`` (empty: any) is refused unread."""
        current = check_url(url)
        seen = {normal_url(current)}
        deadline = time.monotonic() + self.settings.fetch_timeout
        for _hop in range(self.settings.fetch_max_redirects + 1):
            if robots:
                # The address first: a private one is refused as such, not as a site
                # whose robots.txt could not be read.
                self._addresses(*_host_port(current))
                self._check_robots(current)
            response = self._send(current, headers or {})
            try:
                if response.status_code not in _REDIRECTS:
                    return self._read(current, response, accept, deadline)
                location = response.headers.get("location")
            finally:
                response.close()
            if not location:
                raise FetchError(f"HTTP {response.status_code} redirect without a Location")
            target = check_url(urljoin(current, location))
            if normal_url(target) in seen:
                raise FetchError(f"redirect loop: {current} redirects back to {target}")
            seen.add(normal_url(target))
            current = target
        raise FetchError(
            f"more than {self.settings.fetch_max_redirects} redirects "
            "(RAG_FETCH_MAX_REDIRECTS); last to " + current
        )

    # --- one request -----------------------------------------------------------------

    def _addresses(self, host: str, port: int) -> list[str]:
        try:
            found = self._resolve(host, port)
        except (OSError, UnicodeError) as exc:
            raise FetchError(
                f"cannot resolve {host}: {getattr(exc, 'strerror', None) or exc}"
            ) from None
        if not found:
            raise FetchError(f"cannot resolve {host}: no address")
        if not self.settings.fetch_allow_private:
            for text in found:
                kind = _forbidden(ipaddress.ip_address(text.split("%", 1)[0]))
                if kind:
                    article = "an" if kind[0] in "aeiou" else "a"
                    said = f"{host} is" if text == host else f"{host} resolves to {text},"
                    raise FetchError(
                        f"{said} {article} {kind} address; not fetched "
                        "(RAG_FETCH_ALLOW_PRIVATE=true allows it)"
                    )
        return found

    def _wait_turn(self, host: str) -> None:
        delay = max(self.settings.fetch_host_delay, self._delay.get(host, 0.0))
        last = self._last.get(host)
        if last is not None:
            wait = last + delay - time.monotonic()
            if wait > 0:
                self._sleep(wait)
        self._last[host] = time.monotonic()

    def _send(self, url: str, headers: Mapping[str, str]) -> httpx.Response:
        parts = urlsplit(url)
        host, port = _host_port(url)
        address = self._addresses(host, port)[0]
        self._wait_turn(host)
        pinned = httpx.URL(url).copy_with(host=address.split("%", 1)[0])
        netloc = parts.netloc.rsplit("@", 1)[-1]  # never send credentials a link carried
        request = self._client.build_request(
            "GET",
            pinned,
            headers={**headers, "Host": netloc},
            extensions={"sni_hostname": host},
        )
        try:
            return self._client.send(request, stream=True)
        except httpx.TimeoutException:
            raise FetchError(
                f"{host} did not answer within {self.settings.fetch_timeout:g} s "
                "(RAG_FETCH_TIMEOUT)"
            ) from None
        except httpx.HTTPError as exc:
            raise FetchError(f"cannot fetch from {host}: {exc or type(exc).__name__}") from None

    def _read(
        self, url: str, response: httpx.Response, accept: tuple[str, ...], deadline: float
    ) -> Fetched:
        headers = {k.lower(): v for k, v in response.headers.items()}
        if response.status_code == 304:
            return Fetched(url, 304, headers=headers)
        if not 200 <= response.status_code < 300:
            raise FetchError(
                f"HTTP {response.status_code} {response.reason_phrase}".strip(),
                status=response.status_code,
            )
        kind, _, params = headers.get("content-type", "").partition(";")
        kind = kind.strip().lower()
        if accept and kind not in accept:
            raise FetchError(
                f"its type is {kind or 'not given'}, not {' or '.join(accept)}; not read"
            )
        limit = self.settings.fetch_max_bytes
        mb = f"{self.settings.fetch_max_mb:g} MB limit (RAG_FETCH_MAX_MB)"
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise FetchError(f"it is {_size(int(declared))}, over the {mb}; not read")
        body = bytearray()
        try:
            for piece in response.iter_bytes():
                body += piece
                if len(body) > limit:
                    raise FetchError(f"it is over the {mb}; not read further")
                if time.monotonic() > deadline:
                    raise FetchError(
                        f"it took longer than {self.settings.fetch_timeout:g} s "
                        "(RAG_FETCH_TIMEOUT) to arrive"
                    )
        except httpx.TimeoutException:
            raise FetchError(
                f"it stopped arriving for {self.settings.fetch_timeout:g} s (RAG_FETCH_TIMEOUT)"
            ) from None
        except httpx.HTTPError as exc:
            raise FetchError(f"the download broke off: {exc or type(exc).__name__}") from None
        charset = None
        for param in params.split(";"):
            key, _, value = param.partition("=")
            if key.strip().lower() == "charset" and value.strip():
                charset = value.strip().strip("\"'")
        return Fetched(url, response.status_code, kind, charset, bytes(body), headers)

    # --- robots.txt --------------------------------------------------------------------

    def _check_robots(self, url: str) -> None:
        parts = urlsplit(url)
        origin = f"{parts.scheme.lower()}://{parts.netloc.rsplit('@', 1)[-1].lower()}"
        if origin not in self._robots:
            self._robots[origin] = self._read_robots(origin, parts.hostname or "")
        rules = self._robots[origin]
        if isinstance(rules, str):
            raise FetchError(rules)
        if not rules.can_fetch(ROBOTS_AGENT, url):
            raise FetchError(f"{origin}/robots.txt does not allow fetching it; not fetched")

    def _read_robots(self, origin: str, host: str) -> RobotFileParser | str:
        rules = RobotFileParser(f"{origin}/robots.txt")
        try:
            found = self.get(f"{origin}/robots.txt", accept=ANY, robots=False)
        except FetchError as exc:
            # As urllib.robotparser reads it: 401/403 forbid the site, another 4xx (no
            # file) allows it; a server error or no answer forbids it for this pull.
            if exc.status in (401, 403):
                rules.parse(["User-agent: *", "Disallow: /"])
            elif exc.status is not None and 400 <= exc.status < 500:
                rules.parse([])
            else:
                return f"{origin}/robots.txt could not be read ({exc}), so the site is not fetched"
        else:
            text = found.body[:_ROBOTS_MAX_BYTES].decode("utf-8", errors="replace")
            rules.parse(text.splitlines())
            delay = rules.crawl_delay(ROBOTS_AGENT)
            if delay:
                self._delay[host] = min(float(delay), _MAX_CRAWL_DELAY)
        return rules


def _size(n: int) -> str:
    return f"{n / 1048576:.1f} MB" if n >= 1048576 else f"{n / 1024:.1f} KB"


def _host_port(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname or "", parts.port or (443 if parts.scheme.lower() == "https" else 80)


def _resolve(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (an address literal resolves to itself)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))
