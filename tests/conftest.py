"""Shared fixtures. Every test runs in its own temporary folder with no RAG_* variables set."""

from __future__ import annotations

import atexit
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

from rag.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "articles"
# The MultiHop-RAG corpus the newsroom and timely gold sets are written over (read from
# beside the repository, never copied into it).
MULTIHOP_CORPUS = ROOT.parent / "shared" / "bench" / "multihop" / "corpus.jsonl"
MAX_QUOTE = 250  # a gold evidence quote is one sentence or less: no article text beyond that


@pytest.fixture(scope="session")
def multihop_corpus() -> dict[str, dict]:
    """The MultiHop-RAG articles by id; the test is skipped when the corpus is absent."""
    if not MULTIHOP_CORPUS.is_file():
        pytest.skip(
            f"MultiHop-RAG corpus not found at {MULTIHOP_CORPUS} (the article checks need it)"
        )
    with MULTIHOP_CORPUS.open(encoding="utf-8") as f:
        return {row["id"]: row for row in map(json.loads, filter(str.strip, f))}


RAG = [sys.executable, "-m", "rag.cli"]


# A loopback port held bound but never listening, for the whole run: connecting to it is
# refused at once, and no server can take it. `rag ask` and `rag chat` look for a running
# `rag serve` at RAG_API_PORT; every test points them here, never at the default port,
# where a real server someone runs would answer the tests' questions.
_NO_SERVER = socket.socket()
_NO_SERVER.bind(("127.0.0.1", 0))
NO_SERVER_PORT = str(_NO_SERVER.getsockname()[1])


def rag_env(**variables: str) -> dict[str, str]:
    """The environment for a `rag` subprocess: this one without RAG_* variables, no
    server to find (RAG_API_PORT), then ``variables``. PYTHONPATH puts this checkout
    first: the subprocess starts in a temporary folder, where `-m rag.cli` would otherwise
    import whichever checkout the virtual environment has installed."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    path = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    return env | {"RAG_API_PORT": NO_SERVER_PORT, "PYTHONPATH": path} | variables


# The exported embedding model (rag/onnx_export.py) is built once per run here, never in
# the user's cache; CLI subprocesses inherit it (it is not a RAG_* variable).
os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp(prefix="rag-test-cache-")
atexit.register(shutil.rmtree, os.environ["XDG_CACHE_HOME"], True)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for key in list(os.environ):
        if key.startswith("RAG_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("RAG_API_PORT", NO_SERVER_PORT)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def articles(tmp_path: Path) -> Path:
    """A private copy of the five sample articles."""
    folder = tmp_path / "articles"
    shutil.copytree(SAMPLE, folder)
    return folder


@pytest.fixture
def settings(tmp_path: Path, articles: Path) -> Settings:
    return Settings(articles_dir=articles, index_dir=tmp_path / "index")


@pytest.fixture(scope="session")
def embedder():
    """The real bundled model, loaded once for the whole run."""
    from rag.embed import Embedder

    model = Embedder(Settings())
    model.load()
    return model


def run_rag(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """Run the real CLI in a subprocess."""
    return subprocess.run(
        [*RAG, *args],
        capture_output=True,
        text=True,
        env=rag_env(**(env or {})),
        cwd=cwd,
        timeout=timeout,
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


CHROMA = shutil.which("chroma") or str(Path(sys.executable).parent / "chroma")


def start_chroma(data: Path) -> tuple[subprocess.Popen[bytes], int]:
    """A `chroma run` server on a free loopback port, storing in ``data``; once it answers."""
    port = free_port()
    process = subprocess.Popen(
        [CHROMA, "run", "--path", str(data), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1):
                return process, port
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                pytest.fail("chroma run did not start")
            time.sleep(0.2)
