"""Faults during ``rag index``: kill -9 at exact points, a Chroma server that dies,
a read-only index folder, a full disk, and a second writer while readers ask.

Each fault is injected into a real ``rag index`` subprocess (real model, real
Chroma); afterwards the index must be intact, the error one clear line, and the
next run must leave exactly what a clean build of the same folder leaves.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from rag.ask.pipeline import Pipeline
from rag.indexing.indexer import sync
from rag.settings import Settings
from tests.conftest import RAG, ROOT, SAMPLE, rag_env, start_chroma
from tests.index_state import (
    assert_same_index,
    committed_articles,
    integrity,
    manifest_path,
    snapshot,
)
from tests.test_api import start_server
from tests.test_concurrency import synthetic_corpus

pytestmark = [pytest.mark.integration, pytest.mark.slow]

INJECT = [sys.executable, str(ROOT / "tests" / "fault_inject.py")]
BATCH = 8  # chunks per write batch: several Chroma writes and manifest commits per run


def index_settings(articles: Path, index: Path, **extra) -> Settings:
    return Settings(articles_dir=articles, index_dir=index, index_batch_chunks=BATCH, **extra)


def env_of(settings: Settings) -> dict[str, str]:
    env = rag_env()
    env |= {
        "RAG_ARTICLES_DIR": str(settings.articles_dir),
        "RAG_INDEX_DIR": str(settings.index_dir),
        "RAG_INDEX_BATCH_CHUNKS": str(settings.index_batch_chunks),
    }
    if settings.chroma_host:
        env |= {
            "RAG_CHROMA_HOST": settings.chroma_host,
            "RAG_CHROMA_PORT": str(settings.chroma_port),
        }
    return env


def inject(settings: Settings, point: str, nth: int, action: str, **kwargs) -> subprocess.Popen:
    """``rag index --json`` with a fault after the ``nth`` ``point`` (see tests/fault_inject.py)."""
    env = env_of(settings) | kwargs.pop("env", {})
    return subprocess.Popen(
        [*INJECT, point, str(nth), action, "--", "index", "--json"],
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        **kwargs,
    )


def mutate(v1: Path, v2: Path) -> None:
    """v2 = v1 with two articles changed, two deleted, one renamed and three added."""
    shutil.copytree(v1, v2)
    (v2 / "synthetic_000.txt").write_text(
        (v2 / "synthetic_000.txt").read_text() + "\nThe talks were extended by a day.\n"
    )
    (v2 / "synthetic_001.txt").write_text(
        (v2 / "synthetic_001.txt").read_text().replace("talks", "negotiations", 1)
    )
    (v2 / "synthetic_002.txt").unlink()
    sorted(v2.glob("003_*.txt"))[0].unlink()
    (v2 / "synthetic_003.txt").rename(v2 / "synthetic_003_renamed.txt")
    extra = v2.parent / "extra"
    shutil.copytree(SAMPLE, extra)
    synthetic_corpus(extra, count=11)
    for n in (8, 9, 10):
        shutil.copy2(extra / f"synthetic_{n:03d}.txt", v2 / f"synthetic_{n:03d}.txt")
    shutil.rmtree(extra)


@pytest.fixture(scope="module")
def corpora(tmp_path_factory, embedder) -> dict[str, Path]:
    """Two versions of a 13-article folder, a clean build of each, and an index of v1."""
    root = tmp_path_factory.mktemp("faults")
    v1 = root / "v1"
    shutil.copytree(SAMPLE, v1)
    synthetic_corpus(v1, count=8)
    mutate(v1, root / "v2")
    for name in ("v1", "v2"):
        sync(index_settings(root / name, root / f"clean-{name}"), embedder=embedder)
    return {
        "root": root,
        "v1": v1,
        "v2": root / "v2",
        "clean-v1": root / "clean-v1",
        "clean-v2": root / "clean-v2",
    }


@pytest.fixture(scope="module")
def clean(corpora) -> dict[str, dict]:
    return {
        name: snapshot(index_settings(corpora[name], corpora[f"clean-{name}"]))
        for name in ("v1", "v2")
    }


def copy_index(source: Path, target: Path) -> None:
    shutil.copytree(source, target, symlinks=True)
    (target / ".lock").unlink(missing_ok=True)


# (scenario, where the kill lands, seed, range of N the seed draws from). "build" starts
# from nothing; "update" starts from the v1 index and syncs v2 (changes, deletions, a
# rename, new articles). Each point is reached in its scenario's run (the test checks
# that the process died by SIGKILL). Kills during a first build's embedding are
# tests/test_concurrency.py's (random delays).
KILLS = [
    ("build", "lexical", 3, (1, 1)),
    ("update", "delete", 4, (1, 1)),
    ("update", "upsert", 5, (1, 2)),
    ("update", "commit", 6, (1, 6)),
    ("update", "metadata", 7, (1, 1)),
]


@pytest.mark.parametrize(
    ("scenario", "point", "seed", "span"), KILLS, ids=[f"{k[0]}-{k[1]}-seed{k[2]}" for k in KILLS]
)
def test_kill_9_at_a_write_then_rerun_equals_a_clean_build(
    tmp_path: Path, corpora, clean, embedder, scenario, point, seed, span
):
    nth = random.Random(seed).randint(*span)
    index = tmp_path / "index"
    if scenario == "update":
        copy_index(corpora["clean-v1"], index)
    settings = index_settings(corpora["v2" if scenario == "update" else "v1"], index)

    killed = inject(settings, point, nth, "kill")
    _, err = killed.communicate(timeout=300)
    assert killed.returncode == -signal.SIGKILL, f"{point} #{nth} was never reached: {err}"

    summary = sync(settings, embedder=embedder)
    got = snapshot(settings)
    assert_same_index(got, clean["v2" if scenario == "update" else "v1"])
    if point in ("upsert", "commit", "delete", "metadata"):
        assert got["dirty"] == "0"
    assert sync(settings, embedder=embedder).chunks_embedded == 0
    assert summary.articles == len(got["articles"])


def test_kill_9_during_the_entity_backfill_then_rerun_equals_a_clean_build(
    tmp_path: Path, corpora, clean, embedder
):
    index = tmp_path / "index"
    copy_index(corpora["clean-v1"], index)
    settings = index_settings(corpora["v1"], index)
    with sqlite3.connect(manifest_path(settings)) as db:  # an index from before entities
        db.execute("DROP TABLE entities")
        db.execute("DROP TABLE tagged")
        db.execute("DELETE FROM meta WHERE key = 'entities_pipeline'")

    # Commit 1 records the pipeline; each backfill batch (8 chunks' worth) commits after.
    killed = inject(settings, "commit", 3, "kill")
    _, err = killed.communicate(timeout=300)
    assert killed.returncode == -signal.SIGKILL, f"commit #3 was never reached: {err}"
    with sqlite3.connect(manifest_path(settings)) as db:
        tagged = db.execute("SELECT COUNT(*) FROM tagged").fetchone()[0]
    assert 0 < tagged < 13  # killed mid-backfill, whole batches kept

    summary = sync(settings, embedder=embedder)
    assert summary.chunks_embedded == 0 and summary.articles_backfilled == 13 - tagged
    assert_same_index(snapshot(settings), clean["v1"])


# --- helpers for the faults below ---------------------------------------------------------

QUESTION = "Which companies attended the Friday meeting with the MIIT?"
# Sets RLIMIT_FSIZE, then becomes the command: every write past the limit fails with EFBIG.
FILE_LIMIT = [
    sys.executable,
    "-c",
    "import os, resource, sys; n = int(sys.argv[1]); "
    "resource.setrlimit(resource.RLIMIT_FSIZE, (n, n)); os.execv(sys.argv[2], sys.argv[2:])",
]


def unprivileged(command: list[str]) -> list[str]:
    """``command`` under the folder permissions: root ignores them unless it drops the
    capabilities that override them."""
    if os.geteuid() != 0:
        return command
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root without setpriv (util-linux): permissions cannot bite")
    caps = "-dac_override,-dac_read_search"
    return [setpriv, f"--bounding-set={caps}", f"--inh-caps={caps}", *command]


def rag_cli(
    settings: Settings, *args: str, privileged: bool = True, file_limit: int | None = None
) -> subprocess.CompletedProcess[str]:
    command = [*RAG, *args]
    if file_limit is not None:
        command = [*FILE_LIMIT, str(file_limit), *command]
    if not privileged:
        command = unprivileged(command)
    return subprocess.run(
        command, env=env_of(settings), capture_output=True, text=True, timeout=300
    )


def assert_clear_error(result: subprocess.CompletedProcess[str], *words: str) -> str:
    """Exit 1 and one line a user can act on: no traceback."""
    assert result.returncode == 1, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: "), result.stderr
    for word in words:
        assert word in last, last
    return last


def set_read_only(folder: Path, read_only: bool) -> None:
    for path in [folder, *folder.rglob("*")]:
        if path.is_dir():
            path.chmod(0o555 if read_only else 0o755)
        else:
            path.chmod(0o444 if read_only else 0o644)


def answers(settings: Settings, embedder) -> str:
    pipe = Pipeline(settings, embedder=embedder)
    try:
        return pipe.ask(QUESTION).answer
    finally:
        pipe.close()


def wait_for(path: Path, process: subprocess.Popen, seconds: float = 180) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists():
        if process.poll() is not None:
            pytest.fail(f"the writer ended before the fault point: {process.communicate()}")
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.05)


# --- a Chroma server that dies mid-run ----------------------------------------------------


def test_chroma_server_dying_mid_index_then_restarted(tmp_path: Path, corpora, clean, embedder):
    data = tmp_path / "chroma-data"
    server, port = start_chroma(data)
    remote = index_settings(corpora["v1"], tmp_path / "index").model_copy(
        update={"chroma_host": "127.0.0.1", "chroma_port": port}
    )
    try:
        faults = tmp_path / "faults"
        faults.mkdir()
        writer = inject(remote, "upsert", 2, "pause", env={"RAG_FAULT_DIR": str(faults)})
        wait_for(faults / "paused", writer)
        server.kill()  # mid-run: two batches written, more to come
        server.wait()
        (faults / "resume").touch()
        _, err = writer.communicate(timeout=300)
        result = subprocess.CompletedProcess(writer.args, writer.returncode, "", err)
        assert_clear_error(result, "Chroma server 127.0.0.1", "chroma run")
        assert integrity(remote) == "ok"
        assert 0 < committed_articles(remote) < 13

        server, port = start_chroma(data)  # same data, another port
        remote = remote.model_copy(update={"chroma_port": port})
        summary = sync(remote, embedder=embedder)
        assert summary.articles == 13
        assert_same_index(snapshot(remote), clean["v1"])

        # The local half of the index (manifest, BM25) read-only: asking still works.
        set_read_only(remote.index_dir, True)
        try:
            asked = rag_cli(remote, "ask", QUESTION, privileged=False)
            assert asked.returncode == 0, asked.stderr
            assert "IBM, Microsoft and Pfizer" in asked.stdout
        finally:
            set_read_only(remote.index_dir, False)
    finally:
        server.terminate()
        server.wait(timeout=30)


# --- a read-only index folder, a full disk --------------------------------------------------


def test_read_only_index_folder_is_a_clear_error_and_loses_nothing(
    tmp_path: Path, corpora, clean, embedder
):
    index = tmp_path / "index"
    copy_index(corpora["clean-v1"], index)
    settings = index_settings(corpora["v2"], index)
    set_read_only(index, True)
    try:
        assert_clear_error(
            rag_cli(settings, "index", privileged=False), "index lock", "writable", "RAG_INDEX_DIR"
        )
        listed = rag_cli(settings, "articles", "--json", privileged=False)
        assert listed.returncode == 0, listed.stderr
        assert len(json.loads(listed.stdout)) == 13
        # Embedded Chroma writes to its folder even to open it: refused in one line.
        assert_clear_error(rag_cli(settings, "ask", QUESTION, privileged=False), "writable")
    finally:
        set_read_only(index, False)
    assert_same_index(snapshot(settings), clean["v1"])
    assert "IBM, Microsoft and Pfizer" in answers(settings, embedder)
    sync(settings, embedder=embedder)
    assert_same_index(snapshot(settings), clean["v2"])


@pytest.mark.parametrize("room", [-1, 100_000], ids=["no-room", "room-for-a-few-batches"])
def test_full_disk_is_a_clear_error_then_the_next_run_completes(
    tmp_path: Path, corpora, clean, embedder, room
):
    index = tmp_path / "index"
    copy_index(corpora["clean-v1"], index)
    settings = index_settings(corpora["v2"], index)
    # No file may grow past the limit: Chroma's database fails at its first write, or
    # only after some batches (the manifest and BM25 files are smaller than the limit).
    limit = 200_000 if room < 0 else (index / "chroma" / "chroma.sqlite3").stat().st_size + room
    full = rag_cli(settings, "index", file_limit=limit)
    assert_clear_error(full, "disk is not full")
    assert integrity(settings) == "ok"
    assert "IBM, Microsoft and Pfizer" in answers(settings, embedder)
    sync(settings, embedder=embedder)
    assert_same_index(snapshot(settings), clean["v2"])


# --- two writers at once, readers meanwhile -------------------------------------------------


def test_a_second_writer_is_refused_while_readers_keep_answering(tmp_path: Path, corpora):
    shutil.copytree(corpora["v2"], tmp_path / "articles")
    copy_index(corpora["clean-v1"], tmp_path / "index")
    settings = index_settings(tmp_path / "articles", tmp_path / "index")
    process, base = start_server(tmp_path)
    faults = tmp_path / "faults"
    faults.mkdir()
    try:
        with httpx.Client(base_url=base, timeout=120) as api:
            writer = inject(settings, "upsert", 1, "pause", env={"RAG_FAULT_DIR": str(faults)})
            wait_for(faults / "paused", writer)  # rag index holds the lock, mid-write

            busy = api.post("/index")
            assert busy.status_code == 409
            assert f"index is being updated by PID {writer.pid}" in busy.json()["error"]
            for _ in range(3):
                asked = api.post("/ask", json={"question": QUESTION})
                assert asked.status_code == 200, asked.text
                assert "IBM, Microsoft and Pfizer" in asked.json()["answer"]
            assert api.get("/articles").status_code == 200

            (faults / "resume").touch()
            out, err = writer.communicate(timeout=300)
            assert writer.returncode == 0, err
            assert len(json.loads(out)["added"]) == 3

            # The server sees the finished run, and its own update now finds nothing to do.
            assert len(api.get("/articles").json()) == 14
            assert api.post("/ask", json={"question": QUESTION}).status_code == 200
            done = api.post("/index")
            assert done.status_code == 200, done.text
            assert done.json()["chunks_embedded"] == 0
    finally:
        (faults / "resume").touch()
        process.terminate()
        process.wait(timeout=30)
