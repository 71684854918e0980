"""One writer at a time, and kill -9 at any point leaves an index the next run repairs."""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rag.indexing.articles import Article
from rag.indexing.store import ChunkStore
from rag.settings import Settings
from tests import index_state
from tests.conftest import RAG, run_rag

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def synthetic_corpus(folder: Path, count: int = 40) -> None:
    """Distinct articles made of shuffled sample sentences: enough for many batches."""
    from rag.indexing.loaders import iter_article_files, read_file
    from rag.text.sentences import sentence_spans

    sentences = []
    for file, rel in iter_article_files(folder):
        (article,) = read_file(file, rel, 10**7).articles
        sentences += [article.text[a:b] for a, b in sentence_spans(article.text)]
    rng = random.Random(7)
    for n in range(count):
        body = " ".join(rng.sample(sentences, 12))
        (folder / f"synthetic_{n:03d}.txt").write_text(
            f"Synthetic story number {n} about talks\n\n{body}\n"
        )


def index_env(tmp_path: Path, articles: Path, name: str) -> dict[str, str]:
    return {
        "RAG_ARTICLES_DIR": str(articles),
        "RAG_INDEX_DIR": str(tmp_path / name),
        "RAG_INDEX_BATCH_CHUNKS": "8",
    }


def snapshot(env: dict[str, str]) -> dict:
    settings = Settings(
        articles_dir=Path(env["RAG_ARTICLES_DIR"]), index_dir=Path(env["RAG_INDEX_DIR"])
    )
    with ChunkStore(settings) as store:
        ids = sorted(store.all_ids())
        got = store.get(ids)
    chunks = {
        i: (d, m) for i, d, m in zip(got["ids"], got["documents"], got["metadatas"], strict=True)
    }
    db = sqlite3.connect(settings.index_dir / settings.collection_name / "manifest.sqlite")
    articles = db.execute("SELECT id, path, chunks, cluster FROM articles ORDER BY id").fetchall()
    dirty = db.execute("SELECT value FROM meta WHERE key = 'dirty'").fetchone()
    db.close()
    return {"chunks": chunks, "articles": articles, "dirty": dirty[0] if dirty else None}


def committed_articles(env: dict[str, str]) -> int:
    return index_state.committed_articles(Settings(index_dir=Path(env["RAG_INDEX_DIR"])))


def start_index(env: dict[str, str], capture: bool = True) -> subprocess.Popen[str]:
    full = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")} | env
    out = subprocess.PIPE if capture else subprocess.DEVNULL
    return subprocess.Popen([*RAG, "index", "--json"], env=full, text=True, stdout=out, stderr=out)


@pytest.fixture
def corpus(articles: Path) -> Path:
    synthetic_corpus(articles)
    return articles


@pytest.fixture
def clean_build(tmp_path: Path, corpus: Path) -> dict:
    env = index_env(tmp_path, corpus, "clean")
    assert run_rag("index", env=env).returncode == 0
    return snapshot(env)


@pytest.mark.parametrize("seed", [1, 2, 3, "mid-write"])
def test_kill_9_then_rerun_equals_a_clean_build(
    tmp_path: Path, corpus: Path, clean_build: dict, seed
):
    env = index_env(tmp_path, corpus, f"crash-{seed}")
    process = start_index(env, capture=False)
    if seed == "mid-write":
        deadline = time.monotonic() + 120
        while (
            committed_articles(env) == 0 and time.monotonic() < deadline and process.poll() is None
        ):
            time.sleep(0.05)
    else:
        time.sleep(random.Random(seed).uniform(1.0, 12.0))
    process.send_signal(signal.SIGKILL)
    process.wait()
    killed_at = committed_articles(env)

    rerun = run_rag("index", "--json", env=env)
    assert rerun.returncode == 0, rerun.stderr
    after = snapshot(env)
    assert after == clean_build, f"seed {seed}: killed with {killed_at} articles committed"
    assert after["dirty"] == "0"
    # No duplicates is implied by equal id sets; no orphans: every chunk belongs to a manifest row.
    known = {a[0] for a in after["articles"]}
    assert all(m["article_id"] in known for _, m in after["chunks"].values())


def test_second_writer_is_refused_then_waits(tmp_path: Path, articles: Path):
    env = index_env(tmp_path, articles, "index")
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path; from rag.indexing.lock import IndexLock\n"
            "with IndexLock(Path(sys.argv[1])):\n print('locked', flush=True); time.sleep(float(sys.argv[2]))",
            env["RAG_INDEX_DIR"],
            "8",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline().strip() == "locked"
    refused = run_rag("index", env=env)
    assert refused.returncode == 1
    assert f"index is being updated by PID {holder.pid}" in refused.stderr
    assert "--wait" in refused.stderr

    began = time.monotonic()
    waited = run_rag("index", "--wait", "--json", env=env)
    assert waited.returncode == 0, waited.stderr
    assert holder.poll() is not None  # it only got through after the holder let go
    assert len(json.loads(waited.stdout)["added"]) == 5
    assert time.monotonic() - began > 1
    holder.wait()
    holder.stdout.close()


def test_two_indexers_at_once_leave_one_consistent_index(tmp_path: Path, articles: Path):
    env = index_env(tmp_path, articles, "index")
    first, second = start_index(env), start_index(env)
    out = [p.communicate(timeout=300) for p in (first, second)]
    codes = sorted([first.returncode, second.returncode])
    assert codes == [0, 1], out
    loser = out[0][1] if first.returncode else out[1][1]
    assert "index is being updated by PID" in loser
    state = snapshot(env)
    assert len(state["articles"]) == 5 and state["dirty"] == "0"


def test_article_dataclass_ids_are_stable():
    a = Article(text="Same text here for the id.", title="T", path="a.txt")
    b = Article(text="Same text here for the id.", title="T", path="renamed.txt")
    assert a.id == b.id


def test_a_running_reader_searches_what_another_process_indexed(tmp_path: Path, articles: Path):
    """The embedded store keeps its vector index in memory: without a reopen, a long-running
    reader (rag serve, the app) missed new chunks in dense search and failed to read their
    vectors."""
    from rag.ask.pipeline import Pipeline

    env = index_env(tmp_path, articles, "index")
    assert run_rag("index", env=env).returncode == 0
    settings = Settings(articles_dir=articles, index_dir=Path(env["RAG_INDEX_DIR"]))
    pipeline = Pipeline(settings)
    try:
        pipeline.ask("What did Li Qiang hope for?")  # the reader is open and warm
        (articles / "zeppelin.txt").write_text(
            "Zorblax builds a zeppelin factory\n\nZorblax Quantum Industries opened a zeppelin "
            "factory in Greenland on Monday. Its airships will carry freight across the Arctic.\n"
        )
        assert run_rag("index", env=env).returncode == 0
        answer = pipeline.ask("Where is the new airship plant for Arctic cargo?")
        new = [p for p in answer.passages if p.title.startswith("Zorblax")]
        assert new and new[0].dense is not None
        vectors = pipeline.store.vectors([new[0].chunk_id])
        assert vectors.shape == (1, 384)
    finally:
        pipeline.close()
