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


def browser_page(p, viewport: dict[str, int]):
    if not CHROMIUM.exists():
        missing(f"Debian's Chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    return browser, browser.new_page(viewport=viewport)


def playwright_or_skip():
    try:
        from playwright.sync_api import expect, sync_playwright
    except ImportError:
        missing("the playwright package is not installed (pip install -r requirements.lock)")
    return expect, sync_playwright


# How far the page is scrolled, whichever element scrolls it.
SCROLLED = """() => [document.scrollingElement, ...document.querySelectorAll('*')]
    .reduce((sum, el) => sum + (el ? el.scrollTop : 0), 0)"""


def test_library_reports_beside_its_buttons_and_refuses_an_odt_plainly(
    app_url: str, tmp_path: Path
):
    """Issue 13 items 15 and 16: an update's summary (a skipped symlink loop) is in view
    under the button pressed, not at the top of the page; a dropped .odt is refused in
    the API's words, not with its MIME type."""
    expect, sync_playwright = playwright_or_skip()
    articles = tmp_path / "corpus" / "articles"
    (articles / "loop-a").symlink_to("loop-b")
    (articles / "loop-b").symlink_to("loop-a")
    with sync_playwright() as p:
        browser, page = browser_page(p, {"width": 1280, "height": 800})
        try:
            page.goto(f"{app_url}/library")
            update = page.get_by_role("button", name="Update index")
            expect(update).to_be_visible(timeout=60_000)
            update.click()
            summary = page.get_by_text(re.compile(r"^Index updated in"))
            expect(summary).to_be_in_viewport(timeout=120_000)
            expect(page.get_by_text("Skipped", exact=True)).to_be_in_viewport()
            page.screenshot(path=tmp_path / "library-update.png")

            odt = "application/vnd.oasis.opendocument.text"
            # the uploader sits above "Add links" and "Feeds": scrolled to, as a user would
            page.get_by_test_id("stFileUploaderDropzone").scroll_into_view_if_needed()
            page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(
                files=[{"name": "notes.odt", "mimeType": odt, "buffer": b"PK\x03\x04"}]
            )
            refusal = page.get_by_text("notes.odt: unsupported type .odt; use .docx, .htm, .html")
            expect(refusal).to_be_in_viewport(timeout=30_000)
            assert "application/vnd" not in page.inner_text("body")
            expect(page.get_by_role("button", name="Add and update the index")).to_be_disabled()
            page.screenshot(path=tmp_path / "library-odt.png")
        finally:
            browser.close()


def test_evaluation_picker_follows_the_run_and_charts_let_the_page_scroll(
    app_url: str, tmp_path: Path
):
    """Issue 13 item 17: after "Run to show" changes, "Look closer at" shows that run's
    ✓/✗; the mouse wheel over a chart scrolls the page, it does not zoom the chart."""
    from tests.test_ui import store_two_runs

    expect, sync_playwright = playwright_or_skip()
    store_two_runs(tmp_path)  # the app's working directory: eval/runs is found there
    with sync_playwright() as p:
        browser, page = browser_page(p, {"width": 1280, "height": 700})
        try:
            page.goto(f"{app_url}/evaluation")
            picker = page.get_by_role("combobox", name="Look closer at")
            expect(picker).to_have_value("q1 — ✓ q1?", timeout=120_000)
            expect(page.get_by_text("✓ correct")).to_be_visible(timeout=60_000)
            page.get_by_test_id("stSelectbox").filter(has_text="Run to show").click()
            page.get_by_role("option", name="old.json").click()
            expect(page.get_by_text("✗ wrong")).to_be_visible(timeout=60_000)
            expect(picker).to_have_value("q1 — ✗ q1?")

            chart = page.get_by_test_id("stVegaLiteChart").last
            chart.scroll_into_view_if_needed()
            box = chart.bounding_box()
            assert box is not None
            page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
            before = page.evaluate(SCROLLED)
            page.mouse.wheel(0, 300)
            page.wait_for_timeout(800)
            assert page.evaluate(SCROLLED) > before, "the chart took the wheel"
            page.screenshot(path=tmp_path / "evaluation.png")
        finally:
            browser.close()


# Every navigation entry the page shows, from its first paint: recorded as the DOM changes,
# so one shown for a moment and replaced is caught too.
NAV_SEEN = """
window.__navSeen = [];
new MutationObserver(() => {
  for (const link of document.querySelectorAll('[data-testid="stSidebarNavLink"]')) {
    const text = link.textContent.trim();
    if (!window.__navSeen.includes(text)) window.__navSeen.push(text);
  }
}).observe(document, {childList: true, subtree: true, characterData: true});
"""


def test_a_deep_link_shows_only_the_apps_own_navigation(app_url: str, tmp_path: Path):
    """A page opened fresh by its address (/library) never shows Streamlit's automatic
    page list ("app, chat, entities …") before the app's navigation: the page scripts
    are in ui/screens/, which Streamlit does not list, and keep their URL paths."""
    expect, sync_playwright = playwright_or_skip()
    titles = ["Chat", "Library", "Timeline", "Who's who", "Evaluation"]
    with sync_playwright() as p:
        browser, page = browser_page(p, {"width": 1280, "height": 800})
        try:
            page.add_init_script(NAV_SEEN)  # run again on every page load
            for path, heading in [("library", "Library"), ("entities", "Who's who")]:
                page.goto(f"{app_url}/{path}", wait_until="commit")
                expect(page.get_by_role("heading", name=heading)).to_be_visible(timeout=120_000)
                expect(page).to_have_url(f"{app_url}/{path}")
                page.screenshot(path=tmp_path / f"deep-link-{path}.png")
                seen = page.evaluate("window.__navSeen")
                # Each entry is its icon's name and its title ("forumChat"), and no other.
                assert len(seen) == len(titles), (path, seen)
                assert all(e.endswith(t) for e, t in zip(seen, titles, strict=True)), seen
        finally:
            browser.close()
