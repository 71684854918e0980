"""Shared fixtures. Every test runs in its own temporary folder with no RAG_* variables set.

Tests marked ``fast`` make up the fast tier (``make test-fast``, README "Development"):
they run with the deterministic fake embedder of ``tests/fake_embed.py`` — every
:class:`rag.indexing.embed.Embedder` built while such a test sets up, runs or tears down loads
it instead of the real model — and may not start the CLI in a subprocess or ask for
the real model's ``embedder`` fixture. spaCy is the real pipeline, loaded once per run
(about 2 s): the reading step's short answers and entities are part of what they check.
"""

from __future__ import annotations

import atexit
import io
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from rag.settings import Settings
from tests.fake_embed import FakeEmbedder, use_fake_model

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


# The exported embedding model (rag/indexing/onnx_export.py) is built once per run here, never in
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


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """Under ``-m fast`` alone (make test-fast), a test module that never names the mark is
    not imported: importing the app's and the fuzzers' tests (streamlit, schemathesis)
    would cost more than the fast tests' own run."""
    if config.option.markexpr != "fast" or not collection_path.name.startswith("test_"):
        return None
    if collection_path.suffix != ".py":
        return None
    if "pytest.mark.fast" in collection_path.read_text(encoding="utf-8"):
        return None  # not False: that would overrule --ignore and the like
    return True


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if item.get_closest_marker("fast") and "embedder" in getattr(item, "fixturenames", ()):
            raise pytest.UsageError(
                f"{item.nodeid} is marked fast but asks for the real model (the `embedder` "
                "fixture): use `fake_embedder`, or drop the fast mark"
            )


_fast_test: list[str] = []  # the fast test running now, if any


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None):
    """A fast test's setup (including module and session fixtures it is first to use),
    call and teardown run with the fake model in every Embedder."""
    if not item.get_closest_marker("fast"):
        yield
        return
    with pytest.MonkeyPatch.context() as patch:
        use_fake_model(patch)
        _fast_test.append(item.nodeid)
        try:
            yield
        finally:
            _fast_test.clear()


@pytest.fixture(scope="session")
def fake_embedder() -> FakeEmbedder:
    """The fast tier's deterministic embedder (tests/fake_embed.py)."""
    return FakeEmbedder()


@pytest.fixture(scope="session")
def fake_indexed(tmp_path_factory: pytest.TempPathFactory, fake_embedder: FakeEmbedder) -> Settings:
    """The five sample articles indexed with the fake embedder, once per run. Read it
    only: a test that adds, changes or removes articles builds its own."""
    from rag.indexing.indexer import sync

    root = tmp_path_factory.mktemp("fake-index")
    shutil.copytree(SAMPLE, root / "articles")
    settings = Settings(articles_dir=root / "articles", index_dir=root / "index")
    sync(settings, embedder=fake_embedder)
    return settings


@pytest.fixture(scope="session")
def fake_pipeline(fake_indexed: Settings, fake_embedder: FakeEmbedder):
    """A :class:`rag.ask.pipeline.Pipeline` over :func:`fake_indexed`, shared by the run."""
    from rag.ask.pipeline import Pipeline

    pipe = Pipeline(fake_indexed, embedder=fake_embedder)
    yield pipe
    pipe.close()


@pytest.fixture(scope="session")
def embedder():
    """The real bundled model, loaded once for the whole run."""
    from rag.indexing.embed import Embedder

    model = Embedder(Settings())
    model.load()
    return model


def run_rag(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """Run the real CLI in a subprocess."""
    if _fast_test:
        pytest.fail(
            f"{_fast_test[0]} is marked fast but starts `rag` in a subprocess, which loads "
            "the real model: call rag.cli.main([...]) in-process (see tests/test_cli.py)"
        )
    return subprocess.run(
        [*RAG, *args],
        capture_output=True,
        text=True,
        env=rag_env(**(env or {})),
        cwd=cwd,
        timeout=timeout,
    )


@dataclass
class Ran:
    """What a `rag` command did, as :func:`run_rag`'s CompletedProcess reports it."""

    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def rag_cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    """``rag_cli(*args, env=..., stdin=...)``: `rag ARGS` in-process (``rag.cli.main``) with
    those RAG_* variables and that standard input; its exit code and output. No process
    to start: what the fast tier runs instead of :func:`run_rag`."""
    from rag.cli import main

    def run(*args: str, env: dict[str, str] | None = None, stdin: str | None = None) -> Ran:
        capsys.readouterr()  # what ran before is not this command's output
        with monkeypatch.context() as patch:
            for key, value in (env or {}).items():
                patch.setenv(key, value)
            if stdin is not None:
                patch.setattr(sys, "stdin", io.StringIO(stdin))
            try:
                code = main(list(args))
            except SystemExit as exc:  # argparse refusing the arguments
                code = exc.code if isinstance(exc.code, int) else 1
        out = capsys.readouterr()
        return Ran(code, out.out, out.err)

    return run


RagCli = Callable[..., Ran]


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
