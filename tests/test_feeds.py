"""Feeds against a real HTTP server on a loopback port: the feed list, pulls
(conditional requests, changed items, each failure with its reason), and what they
add indexed, cited with its title, outlet, date and URL — `rag add`, `rag feeds pull`
and POST /articles/url in-process. All in the fast tier, over the fake embedder."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from rag.ask.pipeline import Pipeline
from rag.cli import main
from rag.errors import ConfigError, NotFoundError
from rag.indexing import feeds
from rag.indexing.indexer import sync
from rag.settings import Settings
from tests.conftest import RagCli
from tests.fake_embed import FakeEmbedder
from tests.web_server import (
    BRIDGE_STORY,
    PORT_STORY,
    Site,
    article_page,
    atom,
    fetch_settings,
    http_date,
    public_fetcher,
    rss,
    saved,
    serve,
)

pytestmark = pytest.mark.fast


@pytest.fixture
def site():
    with serve() as server:
        yield server


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return fetch_settings(tmp_path)


# --- the feed list ----------------------------------------------------------------


def test_the_feed_list_add_list_remove(settings: Settings, capsys):
    feed = feeds.add(settings, "https://www.example.com/rss.xml")
    assert feed.name == "example.com"
    assert feeds.add(settings, "https://example.com/atom", name="ex-atom").name == "ex-atom"
    with pytest.raises(ConfigError, match=r"on the list already, as example\.com"):
        feeds.add(settings, "HTTPS://www.example.com/rss.xml")
    with pytest.raises(ConfigError, match="only http and https"):
        feeds.add(settings, "file:///etc/passwd")
    with pytest.raises(ConfigError, match="not allowed"):
        feeds.add(settings, "https://example.org/rss", name="../x")
    assert feeds.add(settings, "https://example.org/world", name="Reuters World").name
    assert feeds.remove(settings, "Reuters World").name == "Reuters World"
    assert [f.name for f in feeds.load(settings)] == ["example.com", "ex-atom"]
    assert json.loads(feeds.path(settings).read_text())["feeds"][1]["url"].endswith("/atom")

    assert feeds.remove(settings, "https://example.com/atom").name == "ex-atom"
    with pytest.raises(NotFoundError, match="no feed called 'nope'"):
        feeds.remove(settings, "nope")
    assert [f.name for f in feeds.load(settings)] == ["example.com"]
    assert not list(settings.index_dir.glob(".*tmp"))  # written whole, renamed in place


def test_the_feeds_commands(settings: Settings, monkeypatch, capsys):
    monkeypatch.setenv("RAG_INDEX_DIR", str(settings.index_dir))
    assert main(["feeds", "list"]) == 0
    assert "No feeds yet" in capsys.readouterr().out
    assert main(["feeds", "add", "https://example.com/rss.xml", "--name", "ex"]) == 0
    assert "Added feed ex" in capsys.readouterr().out
    assert main(["feeds", "list"]) == 0
    out = capsys.readouterr().out
    assert "ex" in out and "https://example.com/rss.xml" in out and "last pull: never" in out
    assert main(["feeds", "remove", "missing"]) == 1
    assert "no feed called 'missing'" in capsys.readouterr().err
    assert main(["feeds", "remove", "ex"]) == 0
    assert "Removed feed ex" in capsys.readouterr().out


# --- pulls ------------------------------------------------------------------------


def news_site(site: Site) -> tuple[str, str]:
    """An RSS feed of two stories and an Atom feed of one, each story on its own page."""
    port = site.page(
        "/port.html", article_page("Port strike ends", "Harbour Times", "2023-11-20", PORT_STORY)
    )
    site.page(
        "/bridge.html", article_page("Bridge to close", "City Desk", "2023-11-21", BRIDGE_STORY)
    )
    rss_url = site.page(
        "/rss.xml",
        rss(
            "Harbour Times",
            [
                {
                    "title": "Riverside port strike ends after nine days",
                    "link": port,
                    "date": "Mon, 20 Nov 2023 09:30:00 GMT",
                },
                {"title": "A story that moved", "link": site.url("/moved.html")},
            ],
        ),
        content_type="application/rss+xml",
        etag='"rss-1"',
    )
    atom_url = site.page(
        "/atom.xml",
        atom(
            "City Desk",
            [
                {
                    "title": "Elm Street bridge to close",
                    "link": "/bridge.html",
                    "date": "2023-11-21T08:00:00Z",
                }
            ],
        ),
        content_type="application/atom+xml",
        last_modified=http_date(1700553600),
    )
    return rss_url, atom_url


def test_a_pull_saves_items_then_asks_conditionally(settings: Settings, site: Site):
    rss_url, atom_url = news_site(site)
    feeds.add(settings, rss_url, name="harbour")
    feeds.add(settings, atom_url, name="city")
    first = {r.feed: r for r in feeds.pull(settings)}
    assert [i.status for i in first["harbour"].items] == ["added", "failed"]
    assert first["harbour"].items[1].reason == "HTTP 404 Not Found"
    assert [i.status for i in first["city"].items] == ["added"]
    records = {r["url"]: r for r in saved(settings).values()}
    port = records[site.url("/port.html")]
    # The item's title and date, the feed's title as the outlet.
    assert port["title"] == "Riverside port strike ends after nine days"
    assert port["source"] == "Harbour Times" and port["published_at"] == "2023-11-20T09:30:00+00:00"
    assert port["feed"] == "harbour" and port["text"] == "\n\n".join(PORT_STORY)
    bridge = records[site.url("/bridge.html")]  # a relative Atom link, resolved
    assert bridge["title"] == "Elm Street bridge to close" and bridge["source"] == "City Desk"
    assert bridge["published_at"] == "2023-11-21T08:00:00+00:00"

    second = {r.feed: r for r in feeds.pull(settings)}
    assert second["harbour"].status == second["city"].status == "not modified"
    assert site.seen("/rss.xml")[-1].headers["if-none-match"] == '"rss-1"'
    assert site.seen("/atom.xml")[-1].headers["if-modified-since"] == http_date(1700553600)
    assert [r.status for r in site.seen("/rss.xml")] == [200, 304]
    assert [r.status for r in site.seen("/atom.xml")] == [200, 304]
    assert len(site.seen("/port.html")) == 1 and len(saved(settings)) == 2
    listed = {f.name: f for f in feeds.load(settings)}
    assert listed["harbour"].title == "Harbour Times"
    assert listed["harbour"].last_pull["summary"] == "harbour: not modified"

    # The feed changes (new ETag): the unchanged item is not fetched again, the story
    # whose date moved is fetched and its file replaced; a new item is added.
    site.page(
        "/port.html",
        article_page(
            "Port strike ends", "Harbour Times", "2023-11-20", [*PORT_STORY, "Cranes restarted."]
        ),
    )
    site.routes["/rss.xml"].body = rss(
        "Harbour Times",
        [
            {
                "title": "Riverside port strike ends after nine days",
                "link": site.url("/port.html"),
                "date": "Mon, 20 Nov 2023 15:00:00 GMT",
            },
            {"title": "Bridge to close", "link": site.url("/bridge.html")},
        ],
    ).encode()
    site.routes["/rss.xml"].etag = '"rss-2"'
    [third] = feeds.pull(settings, ["harbour"])
    assert [i.status for i in third.items] == ["updated", "unchanged"]
    assert "already indexed" not in third.items[1].reason  # known from the folder
    assert len(site.seen("/bridge.html")) == 1  # saved by the other feed; not fetched again
    port = {r["url"]: r for r in saved(settings).values()}[site.url("/port.html")]
    assert port["text"].endswith("Cranes restarted.")
    assert port["published_at"] == "2023-11-20T15:00:00+00:00"
    assert len(saved(settings)) == 2


def test_a_broken_feed_and_bad_items_each_have_a_reason(settings: Settings, site: Site):
    good = site.page("/port.html", article_page("Port", "Harbour Times", "2023-11-20", PORT_STORY))
    site.page("/not-a-feed.xml", "<html><body>hello</body></html>", content_type="text/xml")
    site.page("/feed.html", "<p>a page</p>")
    site.page("/slow.html", "<p>late</p>", delay=1.5)
    site.page("/huge.html", "<p>" + "word " * 5000 + "</p>")
    site.page("/doc.pdf", b"%PDF-1.7", content_type="application/pdf")
    site.page("/loop-a", b"", status=302, headers={"Location": "/loop-b"})
    site.page("/loop-b", b"", status=302, headers={"Location": "/loop-a"})
    items = [
        {"title": "Slow", "link": site.url("/slow.html")},
        {"title": "Gone", "link": site.url("/gone.html")},
        {"title": "Loop", "link": site.url("/loop-a")},
        {"title": "Huge", "link": site.url("/huge.html")},
        {"title": "PDF", "link": site.url("/doc.pdf")},
        {"title": "Port", "link": good},
    ]
    site.page("/rss.xml", rss("Harbour Times", items), content_type="application/rss+xml")
    feeds.add(settings, site.url("/not-a-feed.xml"), name="broken")
    feeds.add(settings, site.url("/feed.html"), name="html")
    feeds.add(settings, site.url("/nowhere.xml"), name="missing")
    feeds.add(settings, site.url("/rss.xml"), name="harbour")
    quick = settings.model_copy(update={"fetch_timeout": 0.3, "fetch_max_mb": 0.01})
    reports = {r.feed: r for r in feeds.pull(quick)}
    assert reports["broken"].status == "failed"
    assert "not a valid RSS or Atom feed" in reports["broken"].reason
    assert "its type is text/html" in reports["html"].reason
    assert reports["missing"].reason == "HTTP 404 Not Found"
    harbour = reports["harbour"]
    assert harbour.status == "pulled"
    reasons = [(i.status, i.reason) for i in harbour.items]
    assert reasons[:5] == [
        ("failed", "127.0.0.1 did not answer within 0.3 s (RAG_FETCH_TIMEOUT)"),
        ("failed", "HTTP 404 Not Found"),
        ("failed", f"redirect loop: {site.url('/loop-b')} redirects back to {site.url('/loop-a')}"),
        ("failed", "it is 24.4 KB, over the 0.01 MB limit (RAG_FETCH_MAX_MB); not read"),
        ("failed", "its type is application/pdf, not text/html or application/xhtml+xml; not read"),
    ]
    assert reasons[5] == ("added", "")
    assert harbour.line() == "harbour: 6 items — 1 added, 5 failed"
    # Each feed's last pull is kept for `rag feeds list` and the app.
    assert {f.name: f.last_pull["status"] for f in feeds.load(settings)} == {
        "broken": "failed",
        "html": "failed",
        "missing": "failed",
        "harbour": "pulled",
    }


def test_an_item_at_a_private_address_is_refused(settings: Settings, site: Site):
    site.page("/port.html", article_page("Port", "Harbour Times", "2023-11-20", PORT_STORY))
    site.page(
        "/rss.xml",
        rss(
            "Harbour Times",
            [
                {"title": "Port", "link": "http://news.example/port.html"},
                {"title": "Admin", "link": site.url("/port.html")},
                {"title": "Metadata", "link": "http://169.254.169.254/latest/meta-data/"},
            ],
        ),
        content_type="application/rss+xml",
    )
    feeds.add(settings, "http://news.example/rss.xml", name="harbour")
    with public_fetcher(settings, site) as fetcher:
        [report] = feeds.pull(settings, fetcher=fetcher)
    assert [i.status for i in report.items] == ["added", "failed", "failed"]
    assert report.items[1].reason == (
        "127.0.0.1 is a loopback address; not fetched (RAG_FETCH_ALLOW_PRIVATE=true allows it)"
    )
    assert "169.254.169.254 is a link-local address" in report.items[2].reason
    assert len(site.seen("/port.html")) == 1  # only through the public name


def test_nothing_saved_is_lost_when_a_pull_fails(settings: Settings, site: Site):
    rss_url, _ = news_site(site)
    feeds.add(settings, rss_url, name="harbour")
    feeds.pull(settings)
    before = saved(settings)
    del site.routes["/port.html"]
    site.routes["/rss.xml"].body = b"this is no feed {"
    site.routes["/rss.xml"].etag = '"broken"'
    [report] = feeds.pull(settings)
    assert report.status == "failed"
    assert saved(settings) == before
    # A failed pull keeps the last good validators: the next one asks conditionally.
    assert feeds.load(settings)[0].etag == '"rss-1"'


def test_the_schedule_pulls_at_once_then_hands_over_the_reports(settings: Settings, site: Site):
    rss_url, _ = news_site(site)
    feeds.add(settings, rss_url, name="harbour")
    got: list[list[feeds.PullReport]] = []
    done = threading.Event()

    def pulled(reports: list[feeds.PullReport]) -> None:
        got.append(reports)
        done.set()

    schedule = feeds.Schedule(settings.model_copy(update={"feed_pull_minutes": 60}), pulled)
    schedule.start()
    try:
        assert done.wait(30)
    finally:
        schedule.stop()
    schedule.thread.join(10)
    assert not schedule.thread.is_alive()
    assert [r.line() for r in got[0]] == ["harbour: 2 items — 1 added, 1 failed"]
    assert schedule.error is None


# --- into the index, and answered from (the fake embedder, real Chroma) --------------


def test_pulled_items_are_indexed_cited_and_updated(
    settings: Settings, site: Site, fake_embedder: FakeEmbedder
):
    embedder = fake_embedder
    rss_url, atom_url = news_site(site)
    feeds.add(settings, rss_url, name="harbour")
    feeds.add(settings, atom_url, name="city")
    feeds.pull(settings)
    summary = sync(settings, embedder=embedder)
    assert sorted(summary.added) == sorted(f"web/{n}" for n in saved(settings))
    pipeline = Pipeline(settings, embedder=embedder)
    try:
        answer = pipeline.ask("Who leads the dock workers' union?")
        assert answer.answer.startswith("Ana Ruiz [1]")
        cited = answer.citations[0]
        assert cited.title == "Riverside port strike ends after nine days"
        assert cited.source == "Harbour Times"
        assert cited.published_at.startswith("2023-11-20")
        assert cited.url == site.url("/port.html")
    finally:
        pipeline.close()

    # Nothing new: the feed answers 304, no file changes, the index has nothing to do.
    assert {r.status for r in feeds.pull(settings)} == {"not modified"}
    assert sync(settings, embedder=embedder).added == []

    # A corrected story (new date in the feed, new text on the page) replaces the old one.
    site.page(
        "/port.html",
        article_page(
            "Port strike ends",
            "Harbour Times",
            "2023-11-20",
            [PORT_STORY[0], "The union accepted a pay rise, its new leader Maria Lopez said."],
        ),
    )
    site.routes["/rss.xml"].body = rss(
        "Harbour Times",
        [
            {
                "title": "Riverside port strike ends after nine days",
                "link": site.url("/port.html"),
                "date": "Tue, 21 Nov 2023 08:00:00 GMT",
            }
        ],
    ).encode()
    site.routes["/rss.xml"].etag = '"rss-2"'
    [report] = feeds.pull(settings, ["harbour"])
    assert [i.status for i in report.items] == ["updated"]
    summary = sync(settings, embedder=embedder)
    assert summary.updated == [report.items[0].path] and summary.articles == 2
    pipeline = Pipeline(settings, embedder=embedder)
    try:
        answer = pipeline.ask("Who leads the dock workers' union?")
        assert answer.answer.startswith("Maria Lopez [1]")
        assert answer.citations[0].published_at.startswith("2023-11-21")
    finally:
        pipeline.close()


def test_rag_add_and_rag_feeds_pull_from_the_command_line(
    tmp_path: Path, site: Site, rag_cli: RagCli
):
    rss_url, _ = news_site(site)
    env = {
        "RAG_ARTICLES_DIR": str(tmp_path / "articles"),
        "RAG_INDEX_DIR": str(tmp_path / "index"),
        "RAG_FETCH_ALLOW_PRIVATE": "true",
        "RAG_FETCH_HOST_DELAY": "0",
    }
    assert rag_cli("feeds", "add", rss_url, "--name", "harbour", env=env).returncode == 0
    pulled = rag_cli("feeds", "pull", env=env)
    assert pulled.returncode == 0, pulled.stderr
    assert "harbour: 2 items — 1 added, 1 failed" in pulled.stdout
    assert "HTTP 404 Not Found" in pulled.stdout and "added 1" in pulled.stdout

    bridge = site.url("/bridge.html")
    added = rag_cli("add", bridge, site.url("/port.html"), "ftp://example.com/x", env=env)
    assert added.returncode == 1  # one link failed; the others were still handled
    lines = added.stdout.splitlines()
    assert lines[0].split() == ["added", bridge, "→", lines[0].split()[-1]]
    assert "unchanged" in lines[1] and "added before" in lines[1]
    assert "failed" in lines[2] and "only http and https links are fetched" in lines[2]
    assert "added 1" in added.stdout

    answer = rag_cli("ask", "When will the Elm Street bridge close?", "--json", env=env)
    assert answer.returncode == 0, answer.stderr
    data = json.loads(answer.stdout)
    assert "March" in data["answer"]
    assert data["citations"][0]["url"] == bridge
    assert data["citations"][0]["source"] == "City Desk"


def test_post_articles_url_fetches_saves_and_indexes(
    settings: Settings, site: Site, fake_embedder: FakeEmbedder
):
    embedder = fake_embedder
    from fastapi.testclient import TestClient

    from rag.api import create_app

    news_site(site)
    guarded = settings.model_copy(update={"api_token": "s3cret"})
    pipeline = Pipeline(guarded, embedder=embedder)
    client = TestClient(create_app(guarded, pipeline))
    urls = [site.url("/port.html"), site.url("/gone.html"), site.url("/port.html#top")]
    assert client.post("/articles/url", json={"urls": urls}).status_code == 401
    auth = {"Authorization": "Bearer s3cret"}
    response = client.post("/articles/url", json={"urls": urls}, headers=auth)
    assert response.status_code == 201, response.text
    body = response.json()
    assert [(link["status"], link["reason"]) for link in body["links"]] == [
        ("added", ""),
        ("failed", "HTTP 404 Not Found"),
    ]
    assert body["index"]["added"] == [body["links"][0]["path"]]
    again = client.post("/articles/url", json={"urls": [urls[0]]}, headers=auth).json()
    assert again["links"][0]["status"] == "unchanged" and again["index"] is None
    bad = client.post("/articles/url", json={"urls": []}, headers=auth)
    assert bad.status_code == 422
    answer = client.post(
        "/ask", json={"question": "Who leads the dock workers' union?"}, headers=auth
    ).json()
    assert answer["answer"].startswith("Ana Ruiz [1]")
    assert answer["citations"][0]["url"] == urls[0]
    pipeline.close()


# --- the feed routes of the HTTP API -------------------------------------------------

AUTH = {"Authorization": "Bearer s3cret"}


@pytest.fixture
def api(settings: Settings):
    """The API with a token, no model loaded (a pull with ``index: false`` needs none)."""
    from fastapi.testclient import TestClient

    from rag.api import create_app

    guarded = settings.model_copy(update={"api_token": "s3cret"})
    with TestClient(create_app(guarded)) as client:
        yield client


def test_the_feed_routes_add_list_pull_and_remove(settings: Settings, site: Site, api):
    rss_url, atom_url = news_site(site)
    for method, path in [("GET", "/feeds"), ("POST", "/feeds"), ("POST", "/feeds/pull")]:
        assert api.request(method, path).status_code == 401, path  # as every write route
    assert api.delete("/feeds/harbour").status_code == 401
    assert api.get("/feeds", headers=AUTH).json() == []

    added = api.post("/feeds", json={"url": rss_url, "name": "harbour"}, headers=AUTH)
    assert added.status_code == 201, added.text
    assert added.json()["feed"]["name"] == "harbour"
    assert added.json()["next"] == "POST /feeds/pull to fetch its items"
    assert api.post("/feeds", json={"url": atom_url}, headers=AUTH).json()["feed"]["name"] == (
        "127.0.0.1"
    )
    assert [f.name for f in feeds.load(settings)] == ["harbour", "127.0.0.1"]  # the CLI's list

    refused = {
        "again": (api.post("/feeds", json={"url": rss_url}, headers=AUTH), 409, "on the list"),
        "taken": (
            api.post("/feeds", json={"url": site.url("/x.xml"), "name": "harbour"}, headers=AUTH),
            409,
            "a feed called harbour is on the list already",
        ),
        "scheme": (
            api.post("/feeds", json={"url": "file:///etc/passwd"}, headers=AUTH),
            400,
            "only http and https",
        ),
        "name": (
            api.post("/feeds", json={"url": site.url("/y.xml"), "name": "../x"}, headers=AUTH),
            400,
            "not allowed",
        ),
        "no url": (api.post("/feeds", json={"name": "x"}, headers=AUTH), 422, "url"),
        "unknown pull": (
            api.post("/feeds/pull", json={"names": ["nope"]}, headers=AUTH),
            404,
            "no feed called 'nope'",
        ),
        "unknown remove": (api.delete("/feeds/nope", headers=AUTH), 404, "no feed called 'nope'"),
    }
    for what, (response, status, words) in refused.items():
        assert response.status_code == status, (what, response.text)
        assert words in response.json()["error"], (what, response.text)
    assert len(feeds.load(settings)) == 2 and not site.seen("/rss.xml")  # nothing fetched

    pulled = api.post("/feeds/pull", json={"names": ["harbour"], "index": False}, headers=AUTH)
    assert pulled.status_code == 200, pulled.text
    body = pulled.json()
    (report,) = body["feeds"]
    assert report["feed"] == "harbour" and report["status"] == "pulled"
    assert [(i["status"], i["reason"]) for i in report["items"]] == [
        ("added", ""),
        ("failed", "HTTP 404 Not Found"),
    ]
    assert body["index"] is None and body["next"] == "POST /index to add them to the index"
    assert len(saved(settings)) == 1 and not site.seen("/atom.xml")
    listed = {f["name"]: f for f in api.get("/feeds", headers=AUTH).json()}
    assert listed["harbour"]["last_pull"]["summary"] == report["summary"]

    again = api.post("/feeds/pull", json={"index": False}, headers=AUTH).json()  # every feed
    assert {r["feed"]: r["status"] for r in again["feeds"]} == {
        "harbour": "not modified",
        "127.0.0.1": "pulled",
    }

    removed = api.delete("/feeds/harbour", headers=AUTH)
    assert removed.status_code == 200 and removed.json()["removed"]["url"] == rss_url
    assert [f.name for f in feeds.load(settings)] == ["127.0.0.1"]
    assert len(saved(settings)) == 2  # what it added stays


def test_post_feeds_pull_indexes_what_it_saved(
    settings: Settings, site: Site, fake_embedder: FakeEmbedder
):
    from fastapi.testclient import TestClient

    from rag.api import create_app

    rss_url, _ = news_site(site)
    pipeline = Pipeline(settings, embedder=fake_embedder)
    try:
        with TestClient(create_app(settings, pipeline)) as client:
            assert client.post("/feeds", json={"url": rss_url}).status_code == 201
            body = client.post("/feeds/pull").json()  # no body: every feed, indexed
            assert body["index"]["added"] == [f"web/{n}" for n in saved(settings)]
            assert "next" not in body
            answer = client.post("/ask", json={"question": "Who leads the dock workers' union?"})
            assert answer.json()["answer"].startswith("Ana Ruiz [1]")
            again = client.post("/feeds/pull").json()
            assert again["feeds"][0]["status"] == "not modified" and again["index"] is None
    finally:
        pipeline.close()
