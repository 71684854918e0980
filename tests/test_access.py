"""Who may get in, and what `rag ui` leaves behind: listening beyond loopback needs a
credential (or --insecure), the app asks for its access token before any page (so
before uploads, updates and rebuilds), and the app's server stops with `rag ui`.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest
from streamlit.testing.v1 import AppTest

from rag.access import is_loopback
from rag.settings import Settings
from tests.conftest import RAG, free_port, run_rag
from tests.test_ui import APP, button, served_on  # noqa: F401  (served_on: autouse fixture)
from tests.test_ui_browser import CHROMIUM, CHROMIUM_ARGS, missing

TOKEN = "tea-and-biscuits-42"


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.8.0.1", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("::", False),
        ("", False),
        ("192.168.1.20", False),
        ("newsdesk.example", False),
    ],
)
def test_what_counts_as_loopback(host: str, loopback: bool):
    assert is_loopback(host) is loopback


# --- refusing to listen beyond loopback ----------------------------------------------


def test_serve_refuses_a_network_address_without_a_token(tmp_path: Path):
    port = free_port()
    result = run_rag("serve", "--host", "0.0.0.0", "--port", str(port), cwd=tmp_path, timeout=120)
    assert result.returncode == 2, result.stderr
    assert "refusing to listen on 0.0.0.0 without RAG_API_TOKEN" in result.stderr
    assert "--insecure" in result.stderr and "Traceback" not in result.stderr


def test_ui_refuses_a_network_address_without_a_token(tmp_path: Path):
    port = free_port()
    result = run_rag("ui", "--host", "0.0.0.0", "--port", str(port), cwd=tmp_path, timeout=120)
    assert result.returncode == 2, result.stderr
    assert "refusing to listen on 0.0.0.0 without RAG_UI_TOKEN" in result.stderr
    assert "--insecure" in result.stderr
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"http://127.0.0.1:{port}/_stcore/health", timeout=2)


def wait_for(url: str, process: subprocess.Popen[str], what: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if process.poll() is not None:
            break
        time.sleep(0.3)
    end_group(process)
    pytest.fail(f"{what} did not start: {log_of(process)}")


LOGS: dict[int, Path] = {}


def start(args: list[str], cwd: Path, env: dict[str, str] | None = None):
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    full_env |= {"RAG_INDEX_DIR": str(cwd / "index"), **(env or {})}
    log = cwd / "command.log"
    with log.open("w") as out:
        # A session of its own: the test can end whatever the command left behind.
        process = subprocess.Popen(
            [*RAG, *args],
            cwd=cwd,
            env=full_env,
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
    LOGS[process.pid] = log
    return process


def log_of(process: subprocess.Popen[str]) -> str:
    return LOGS[process.pid].read_text()


def end_group(process: subprocess.Popen[str]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)


@pytest.mark.parametrize(
    ("extra", "env", "warned"),
    [
        (["--insecure"], {}, True),
        ([], {"RAG_API_TOKEN": TOKEN}, False),
    ],
    ids=["insecure", "token"],
)
def test_serve_listens_beyond_loopback_when_told_or_guarded(tmp_path, extra, env, warned):
    port = free_port()
    process = start(["serve", "--host", "0.0.0.0", "--port", str(port), *extra], tmp_path, env)
    try:
        wait_for(f"http://127.0.0.1:{port}/health", process, "rag serve")
        status = httpx.get(f"http://127.0.0.1:{port}/articles", timeout=10).status_code
        assert status == (200 if warned else 401)
    finally:
        end_group(process)
    assert ("WARNING: listening on 0.0.0.0 with no RAG_API_TOKEN" in log_of(process)) is warned


# --- rag ui stops with its process ---------------------------------------------------


def port_is_served(port: int) -> bool:
    try:
        httpx.get(f"http://127.0.0.1:{port}/_stcore/health", timeout=2)
    except httpx.HTTPError:
        return False
    return True


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_stopping_rag_ui_stops_the_app_server(tmp_path: Path, sig: signal.Signals):
    port = free_port()
    process = start(["ui", "--port", str(port)], tmp_path)
    try:
        wait_for(f"http://127.0.0.1:{port}/_stcore/health", process, "rag ui")
        # The signal goes to the PID `rag ui` started as, alone (not its process group),
        # as `kill PID` sends it.
        os.kill(process.pid, sig)
        process.wait(timeout=60)
        deadline = time.monotonic() + 30
        while port_is_served(port) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert not port_is_served(port), f"the app still serves port {port} after {sig.name}"
    finally:
        end_group(process)


def test_rag_ui_runs_the_product_app_not_the_folders_ui(tmp_path: Path):
    """A `ui.py` and a `ui/` package in the folder `rag ui` starts from are never
    imported: the command names the product's app, and the app's `from ui import …`
    cannot reach the working directory."""
    (tmp_path / "ui.py").write_text("raise SystemExit('the folder ui.py was imported')\n")
    hijack = tmp_path / "hijack"
    (hijack / "ui").mkdir(parents=True)
    for name in ("__init__.py", "app.py", "views.py", "access.py", "engine.py"):
        (hijack / "ui" / name).write_text(
            f"from pathlib import Path\nPath({str(tmp_path / 'HIJACKED')!r}).write_text(__file__)\n"
        )
    probe = (
        "from rag.cli import ui_command\n"
        "from rag.settings import Settings\n"
        "print(ui_command(Settings())[5])\n"
    )
    for folder in (tmp_path, hijack):
        # `python -c` puts the working directory first on sys.path, as `python -m` does.
        shown = subprocess.run(
            [RAG[0], "-c", probe], cwd=folder, capture_output=True, text=True, timeout=120
        )
        assert shown.returncode == 0, shown.stderr
        assert Path(shown.stdout.strip()) == APP.resolve()
    # The app's own `from ui import …`, as `rag ui` runs it from the hijacking folder, in
    # a browser: the product's chat page, and nothing of the folder's ui imported.
    if not CHROMIUM.exists():
        missing(f"Debian's Chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import expect, sync_playwright

    port = free_port()
    process = start(["ui", "--port", str(port)], hijack)
    try:
        wait_for(f"http://127.0.0.1:{port}/_stcore/health", process, "rag ui")
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            try:
                page = browser.new_page()
                page.goto(f"http://127.0.0.1:{port}")
                expect(page.get_by_text("The index is empty")).to_be_visible(timeout=120_000)
            finally:
                browser.close()
    finally:
        end_group(process)
    assert not (tmp_path / "HIJACKED").exists()


# --- the app's access token ----------------------------------------------------------


def open_app(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, **env: str) -> AppTest:
    monkeypatch.setenv("RAG_ARTICLES_DIR", str(tmp_path / "articles"))
    monkeypatch.setenv("RAG_INDEX_DIR", str(tmp_path / "index"))
    (tmp_path / "articles").mkdir(exist_ok=True)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    at = AppTest.from_file(APP, default_timeout=120).run()
    assert not at.exception, at.exception
    return at


def write_actions(at: AppTest) -> list[str]:
    """The library's write actions on the page: upload, update, rebuild."""
    labels = [b.label for b in at.button]
    found = [
        label
        for label in ("Update index", "Rebuild from scratch…", "Add and update the index")
        if label in labels
    ]
    return found + (["upload"] if len(at.get("file_uploader")) else [])


def test_the_app_asks_for_its_token_before_any_write_action(monkeypatch, tmp_path: Path):
    at = open_app(monkeypatch, tmp_path, RAG_UI_TOKEN=TOKEN)
    assert [t.label for t in at.text_input] == ["Access token"]
    assert write_actions(at) == [] and len(at.chat_input) == 0
    # The other pages are not served at all before the token is given.
    for page in ("screens/library.py", "screens/chat.py", "screens/evaluation.py"):
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            at.switch_page(page)
    at.text_input(key="rag_access_token").input("biscuits")  # sent with the form
    button(at, "Open the app").click().run()
    assert "not the access token" in at.error[0].value
    assert write_actions(at) == []
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("screens/library.py")
    assert not (tmp_path / "index").exists()  # nothing was indexed

    at.text_input(key="rag_access_token").input(TOKEN)
    button(at, "Open the app").click().run()
    assert not at.exception, at.exception
    assert "Access token" not in [t.label for t in at.text_input]  # the chat page now
    at.run()  # AppTest learns the pages registered after the sign-in
    at.switch_page("screens/library.py").run()
    assert not at.exception, at.exception
    assert {"Update index", "Rebuild from scratch…", "upload"} <= set(write_actions(at))
    # Signed in for this browser session: every page opens.
    at.switch_page("screens/evaluation.py").run()
    assert not at.exception and "Access token" not in [t.label for t in at.text_input]


@pytest.mark.parametrize("served_on", ["0.0.0.0", ""], indirect=True)
def test_the_app_beyond_loopback_without_a_token_opens_nothing(monkeypatch, tmp_path):
    at = open_app(monkeypatch, tmp_path)
    assert "no access token" in at.error[0].value and "RAG_UI_TOKEN" in at.error[0].value
    assert write_actions(at) == [] and len(at.chat_input) == 0
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("screens/library.py")
    at = open_app(monkeypatch, tmp_path, RAG_UI_INSECURE="true")
    assert "Open to the network" in at.sidebar.warning[0].value
    at.switch_page("screens/library.py").run()
    assert "Update index" in write_actions(at)


def test_the_app_on_loopback_needs_no_token(monkeypatch, tmp_path: Path):
    at = open_app(monkeypatch, tmp_path)
    at.switch_page("screens/library.py").run()
    assert "Update index" in write_actions(at)
    assert Settings().ui_token is None
