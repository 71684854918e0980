"""The app end to end in a real browser: `streamlit run` on a free loopback port, driven
through Debian's Chromium by Playwright, as a reporter would use it.

`.ci/run` installs Chromium (`apt-get install chromium`). Under CI (CI=true) a missing
browser fails this test; elsewhere it is skipped with the reason.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import free_port
from tests.test_ui import APP, QUESTION, SCRIPT_ARTICLE, index

pytestmark = pytest.mark.integration

CHROMIUM = Path("/usr/bin/chromium")
# Headless, and nothing that reaches out: this machine has no network but the registries.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def missing(reason: str) -> None:
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"{reason} (CI must run the browser test)")
    pytest.skip(reason)


@pytest.fixture
def app_url(tmp_path: Path, embedder) -> Iterator[str]:
    settings = index(tmp_path / "corpus", embedder, {"006_council.txt": SCRIPT_ARTICLE})
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    env |= {
        "RAG_ARTICLES_DIR": str(settings.articles_dir),
        "RAG_INDEX_DIR": str(settings.index_dir),
    }
    log = (tmp_path / "streamlit.log").open("w")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            str(APP),
            "--server.headless",
            "true",
            "--server.address",
            "127.0.0.1",
            "--server.port",
            str(port),
            "--browser.gatherUsageStats",
            "false",
        ],
        env=env,
        cwd=tmp_path,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if httpx.get(f"{base}/_stcore/health", timeout=1).text == "ok":
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"streamlit did not start: {(tmp_path / 'streamlit.log').read_text()}")
            time.sleep(0.3)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def test_ask_read_the_citation_and_open_the_source(app_url: str, tmp_path: Path):
    if not CHROMIUM.exists():
        missing(f"Debian's Chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    try:
        from playwright.sync_api import expect, sync_playwright
    except ImportError:
        missing("the playwright package is not installed (pip install -r requirements.lock)")

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1600})
            dialogs: list[str] = []
            page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
            page.goto(app_url)

            box = page.get_by_test_id("stChatInputTextArea")
            box.fill(QUESTION)
            box.press("Enter")
            answer = page.get_by_test_id("stChatMessage").nth(1)
            expect(answer).to_contain_text("IBM, Microsoft and Pfizer", timeout=120_000)
            expect(answer).to_contain_text("[1]")
            # The citation card: title, source line, the cited sentence marked in its passage.
            expect(answer).to_contain_text("[1] Senior officials from China’s Ministry")
            expect(answer).to_contain_text("000_714c03abbce0677d.txt")
            # Each card marks its own sentence; the first card marks the IBM one.
            marks = answer.locator(".rag-passage mark")
            expect(marks.first).to_contain_text(
                "Representatives from major US companies, including IBM, Microsoft and Pfizer"
            )
            page.screenshot(path=tmp_path / "answer.png")

            # One click opens the source article with the quote highlighted in place.
            answer.get_by_role("link", name="Open the article in the library").first.click()
            expect(page).to_have_url(re.compile(r"/library\?article=\w+&start=\d+&end=\d+"))
            cited = page.locator("mark#cited")
            expect(cited).to_have_text(
                "Representatives from major US companies, including IBM, Microsoft and Pfizer, "
                "attended the meeting on Friday, according to the MIIT.",
                timeout=60_000,
            )
            expect(page.get_by_text("Jump to the highlighted passage")).to_be_visible()
            page.screenshot(path=tmp_path / "article.png")

            # An article quoting <script> shows the tag and runs nothing.
            page.get_by_role("link", name="Chat").click()
            box = page.get_by_test_id("stChatInputTextArea")
            box.fill("What did the clerk paste into the minutes?")
            box.press("Enter")
            reply = page.get_by_test_id("stChatMessage").last
            expect(reply).to_contain_text('<script>alert("pwned")</script>', timeout=60_000)
            assert dialogs == []
            page.screenshot(path=tmp_path / "script.png")
        finally:
            browser.close()
    print(f"screenshots in {tmp_path}")
