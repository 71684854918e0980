"""Nothing leaves the machine: no page the API or the app serves loads anything from
another host — the API's docs carry their own Swagger UI (ReDoc, which loads its logo from the web,
is off), the app its own
icon — checked in the HTML and in a real browser that records every request.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient

from rag.access import is_loopback
from rag.api import create_app
from rag.settings import Settings
from tests.conftest import free_port
from tests.test_ui_browser import CHROMIUM, CHROMIUM_ARGS, app_url, missing  # noqa: F401

TOKEN = "s3cret-docs"
DOC_PAGES = ("/docs", "/docs/oauth2-redirect")
# What a page makes the browser load: src= and href= in HTML, url(…) and @import in CSS.
REFERENCE = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']|url\(\s*["']?([^"')]+)""")
ABSOLUTE = re.compile(r"""["'(](?:https?:)?//[^"'\s)<>]+""")


def outside(url: str) -> bool:
    host = urlsplit(url).hostname
    return host is not None and not is_loopback(host)


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(
        articles_dir=tmp_path / "articles", index_dir=tmp_path / "index", api_token=TOKEN
    )
    with TestClient(create_app(settings), base_url="http://127.0.0.1") as test_client:
        yield test_client


def test_no_page_the_api_serves_references_another_host(client: TestClient):
    seen = 0
    for page in DOC_PAGES:
        response = client.get(page)
        assert response.status_code == 200, page
        html = response.text
        absolute = [m.lstrip("\"'(") for m in ABSOLUTE.findall(html)]
        assert not [u for u in absolute if outside(u)], (page, absolute)
        # Every asset the page loads is served here, without the token.
        for groups in REFERENCE.findall(html):
            ref = next(g for g in groups if g)
            if ref.startswith(("data:", "#", "javascript:")):
                continue
            asset = client.get(urljoin(f"http://127.0.0.1{page}", ref))
            assert asset.status_code == 200, (page, ref)
            seen += 1
            if ref.endswith(".css"):
                loads = [next(g for g in m if g) for m in REFERENCE.findall(asset.text)]
                assert not [u for u in loads if outside(u)], (ref, loads)
    assert seen >= 3  # Swagger UI's script, style and icon
    spec = client.get("/openapi.json").text
    assert not [u for u in ABSOLUTE.findall(spec) if outside(u.lstrip("\"'("))]


def test_the_docs_are_public_and_the_data_is_not(client: TestClient):
    """Decided: the docs and the schema describe the routes and hold no data, so they
    answer without the token (README, HTTP API); every data route needs it."""
    for path in (*DOC_PAGES, "/openapi.json"):
        assert client.get(path).status_code == 200, path
    assert client.get("/redoc").status_code == 404  # ReDoc is off: it loads its logo from the web
    assert client.get("/articles").status_code == 401
    assert client.get("/articles", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200


# --- in a real browser ----------------------------------------------------------------


def browse(url: str, check, tmp_path: Path, name: str) -> list[str]:
    """Open ``url`` in Chromium, run ``check(page)``, and return every request that went
    to another host (each one is also aborted, as it would fail offline)."""
    if not CHROMIUM.exists():
        missing(f"Debian's Chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing("the playwright package is not installed (pip install -r requirements.lock)")
    away: list[str] = []

    def route(request_route) -> None:
        url = request_route.request.url
        if url.startswith(("data:", "blob:")) or not outside(url):
            request_route.continue_()
        else:
            away.append(url)
            request_route.abort()

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1200})
            page.route("**/*", route)
            # Requests the router does not see (service workers, prefetches) still show here.
            page.on("request", lambda r: outside(r.url) and away.append(r.url))
            page.goto(url)
            check(page)
            page.wait_for_timeout(1500)  # late requests: fonts, icons
            page.screenshot(path=tmp_path / f"{name}.png")
        finally:
            browser.close()
    return sorted(set(away))


@pytest.fixture
def api_url(tmp_path: Path) -> Iterator[str]:
    import uvicorn

    settings = Settings(articles_dir=tmp_path / "articles", index_dir=tmp_path / "index")
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, "the API did not start"
        time.sleep(0.2)
    yield base
    server.should_exit = True
    thread.join(timeout=30)


def test_the_api_docs_render_with_nothing_from_outside(api_url: str, tmp_path: Path):
    from playwright.sync_api import expect

    def check(page) -> None:
        expect(page.get_by_text("/ask").first).to_be_visible(timeout=60_000)

    away = browse(f"{api_url}/docs", check, tmp_path, "docs")
    assert away == []


@pytest.mark.integration
def test_the_app_loads_nothing_from_outside(app_url: str, tmp_path: Path):  # noqa: F811
    from playwright.sync_api import expect

    def check(page) -> None:
        expect(page.get_by_test_id("stChatInputTextArea")).to_be_visible(timeout=120_000)
        for name in ("Library", "Evaluation", "Chat"):
            page.get_by_role("link", name=name).click()
            page.wait_for_timeout(2000)

    away = browse(app_url, check, tmp_path, "app")
    assert away == []
