"""Links against a real HTTP server on a loopback port (no model, no index): the rules
for untrusted URLs, and pages saved into the articles folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.errors import FetchError
from rag.indexing.fetch import HTML, Fetcher, normal_url
from rag.indexing.links import add_links
from rag.indexing.loaders import read_file
from rag.settings import Settings
from tests.web_server import (
    BRIDGE_STORY,
    PORT_STORY,
    Site,
    article_page,
    fetch_settings,
    public_fetcher,
    saved,
    serve,
)


@pytest.fixture
def site():
    with serve() as server:
        yield server


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return fetch_settings(tmp_path)


# --- the rules for untrusted URLs -----------------------------------------------------


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("ftp://example.com/a", "only http and https"),
        ("file:///etc/passwd", "only http and https"),
        ("javascript:alert(1)", "only http and https"),
        ("http:///nohost", "names no host"),
        ("http://127.0.0.1/", "127.0.0.1 is a loopback address"),
        ("http://localhost:8000/", "localhost resolves to 127.0.0.1, a loopback address"),
        ("http://169.254.169.254/latest/meta-data", "link-local address"),
        ("http://10.1.2.3/", "private address"),
        ("http://[::1]/", "loopback address"),
        ("http://[::ffff:127.0.0.1]/", "loopback address"),
        ("http://0.0.0.0/", "unspecified address"),
        ("http://100.64.0.1/", "non-public address"),
    ],
)
def test_only_public_http_addresses_are_fetched(settings: Settings, url: str, words: str):
    strict = settings.model_copy(update={"fetch_allow_private": False})
    with Fetcher(strict) as fetcher, pytest.raises(FetchError) as refused:
        fetcher.get(url)
    assert words in str(refused.value)
    if "address" in words:
        assert "RAG_FETCH_ALLOW_PRIVATE" in str(refused.value)


def test_a_redirect_to_a_private_address_is_refused(settings: Settings, site: Site):
    site.page("/moved", b"", status=302, headers={"Location": site.url("/a.html")})
    site.page(
        "/a.html", article_page("Port strike ends", "Harbour Times", "2023-11-20", PORT_STORY)
    )
    with public_fetcher(settings, site) as fetcher:
        assert fetcher.get("http://news.example/a.html").status == 200
        with pytest.raises(FetchError, match=r"127\.0\.0\.1 is a loopback address"):
            fetcher.get("http://news.example/moved")
    # The first hop went out; the private target never did.
    assert len(site.seen("/moved")) == 1 and len(site.seen("/a.html")) == 1
    assert site.seen("/a.html")[0].headers["host"] == "news.example"


def test_redirects_are_followed_checked_and_capped(settings: Settings, site: Site):
    site.page("/story", article_page("Port strike ends", "Harbour Times", "2023-11-20", PORT_STORY))
    site.page("/r1", b"", status=301, headers={"Location": "/r2"})
    site.page("/r2", b"", status=302, headers={"Location": "/story"})
    site.page("/loop-a", b"", status=302, headers={"Location": "/loop-b"})
    site.page("/loop-b", b"", status=307, headers={"Location": "/loop-a"})
    for n in range(8):
        site.page(f"/hop{n}", b"", status=302, headers={"Location": f"/hop{n + 1}"})
    with Fetcher(settings) as fetcher:
        page = fetcher.get(site.url("/r1"))
        assert page.url == site.url("/story") and b"nine-day strike" in page.body
        with pytest.raises(FetchError, match="redirect loop"):
            fetcher.get(site.url("/loop-a"))
        with pytest.raises(FetchError, match=r"more than 5 redirects \(RAG_FETCH_MAX_REDIRECTS\)"):
            fetcher.get(site.url("/hop0"))


def test_timeouts_sizes_types_and_statuses_are_reasons(settings: Settings, site: Site):
    quick = settings.model_copy(update={"fetch_timeout": 0.3, "fetch_max_mb": 0.01})
    site.page("/slow", "<p>late</p>", delay=1.5)
    site.page("/big", "<p>" + "word " * 5000 + "</p>")
    site.page("/big-unlabelled", "<p>" + "word " * 5000 + "</p>", length=False)
    site.page("/photo.jpg", b"\xff\xd8\xff", content_type="image/jpeg")
    site.page("/error", "oops", status=500)
    with Fetcher(quick) as fetcher:
        cases = {
            "/slow": "did not answer within 0.3 s (RAG_FETCH_TIMEOUT)",
            "/big": "it is 24.4 KB, over the 0.01 MB limit (RAG_FETCH_MAX_MB); not read",
            "/big-unlabelled": "it is over the 0.01 MB limit (RAG_FETCH_MAX_MB); not read further",
            "/photo.jpg": "its type is image/jpeg, not text/html",
            "/missing": "HTTP 404 Not Found",
            "/error": "HTTP 500 Internal Server Error",
        }
        for path, words in cases.items():
            with pytest.raises(FetchError) as refused:
                fetcher.get(site.url(path), accept=HTML)
            assert words in str(refused.value), path


def test_robots_txt_is_obeyed_and_hosts_are_asked_in_turn(settings: Settings, site: Site):
    site.page(
        "/robots.txt",
        "User-agent: *\nDisallow: /private/\nCrawl-delay: 1\n",
        content_type="text/plain",
    )
    site.page("/private/story", article_page("Secret", "Harbour Times", "2023-11-20", PORT_STORY))
    site.page("/story", article_page("Port strike", "Harbour Times", "2023-11-20", PORT_STORY))
    waits: list[float] = []
    with Fetcher(settings, sleep=waits.append) as fetcher:
        with pytest.raises(FetchError, match=r"robots\.txt does not allow"):
            fetcher.get(site.url("/private/story"))
        fetcher.get(site.url("/story"))
        fetcher.get(site.url("/story"))
    assert site.seen("/private/story") == []
    assert len(site.seen("/robots.txt")) == 1  # read once per fetcher
    # The site's Crawl-delay spaced the requests after robots.txt was read.
    assert waits and all(0 < w <= 1 for w in waits)
    assert site.seen("/story")[0].headers["user-agent"].startswith("newsdesk/")


def test_normal_url():
    assert normal_url("HTTP://Example.com:80/a#x") == "http://example.com/a"
    assert normal_url("https://example.com") == "https://example.com/"


# --- links: a URL becomes a file in the articles folder -------------------------------


def test_a_link_is_saved_with_its_metadata_once(settings: Settings, site: Site):
    url = site.page(
        "/port.html", article_page("Port strike ends", "Harbour Times", "2023-11-20", PORT_STORY)
    )
    [outcome] = add_links(settings, [url])
    assert outcome.status == "added" and outcome.path.startswith("web/")
    [(name, record)] = saved(settings).items()
    assert name.endswith(".json")
    assert record["url"] == url and record["title"] == "Port strike ends"
    assert record["source"] == "Harbour Times" and record["published_at"] == "2023-11-20"
    assert record["text"] == "\n\n".join(PORT_STORY)  # no navigation, no newsletter box
    # The folder reads it back as the same article, so a rebuild needs no network.
    [article] = read_file(settings.articles_dir / outcome.path, outcome.path, 10**6).articles
    assert (article.title, article.source, article.url) == (
        "Port strike ends",
        "Harbour Times",
        url,
    )

    again = add_links(settings, [url, url + "#comments"])
    assert [o.status for o in again] == ["unchanged"]
    assert "added before" in again[0].reason
    assert len(site.seen("/port.html")) == 1  # not fetched again


def test_the_same_text_at_another_url_is_not_added_twice(settings: Settings, site: Site):
    page = article_page("Port strike ends", "Harbour Times", "2023-11-20", PORT_STORY)
    first, copy = site.page("/port.html", page), site.page("/amp/port.html", page)
    outcomes = add_links(settings, [first, copy])
    assert [o.status for o in outcomes] == ["added", "duplicate"]
    assert f"same text as {outcomes[0].path}" in outcomes[1].reason
    assert len(saved(settings)) == 1


def test_failed_links_are_reported_and_the_rest_saved(settings: Settings, site: Site):
    good = site.page(
        "/bridge.html", article_page("Bridge to close", "City Desk", "2023-11-21", BRIDGE_STORY)
    )
    site.page("/empty.html", "<html><body><nav>Home</nav></body></html>")
    outcomes = add_links(
        settings, [site.url("/gone.html"), "ftp://x/y", site.url("/empty.html"), good]
    )
    assert [o.status for o in outcomes] == ["failed", "failed", "failed", "added"]
    assert outcomes[0].reason == "HTTP 404 Not Found"
    assert "no article in the page" in outcomes[2].reason
    assert len(saved(settings)) == 1
