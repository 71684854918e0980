"""The `rag` command as a user runs it: real processes, real output, real exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import run_rag

pytestmark = pytest.mark.integration


def env_for(tmp_path: Path, articles: Path) -> dict[str, str]:
    return {"RAG_ARTICLES_DIR": str(articles), "RAG_INDEX_DIR": str(tmp_path / "index")}


def test_index_articles_status_show(tmp_path: Path, articles: Path):
    env = env_for(tmp_path, articles)
    result = run_rag("index", "--json", env=env)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert len(summary["added"]) == 5 and summary["duplicate_clusters"] == 1

    plain = run_rag("index", env=env)
    assert plain.returncode == 0
    assert "added 0, updated 0, removed 0, renamed 0, unchanged 5, skipped 0" in plain.stdout
    assert "chunks embedded 0" in plain.stdout

    listing = json.loads(run_rag("articles", "--json", env=env).stdout)
    assert [a["path"] for a in listing] == sorted(p.name for p in articles.iterdir())
    table = run_rag("articles", env=env).stdout
    assert "Vice Minister Zhang Guangjun Meets AmCham" in table and "canonical" in table

    status = json.loads(run_rag("status", "--json", env=env).stdout)
    assert status["articles"] == 5
    assert status["chunks"] == status["chunks_in_chroma"] == summary["chunks"]
    assert status["backend"] == "embedded" and status["interrupted"] is False

    shown = run_rag("articles", "show", "003_fe8ac2ac26afd88f.txt", env=env)
    assert shown.returncode == 0
    assert "washingtontimes.com" in shown.stdout and "Li Qiang" in shown.stdout
    one = json.loads(run_rag("articles", "show", listing[0]["id"][:6], "--json", env=env).stdout)
    assert one["id"] == listing[0]["id"] and one["text"].startswith("Senior officials")


def test_errors_are_one_actionable_line(tmp_path: Path, articles: Path):
    env = env_for(tmp_path, articles)
    missing = run_rag("index", str(tmp_path / "nowhere"), env=env)
    assert missing.returncode == 1
    assert missing.stderr.strip().count("\n") == 0
    assert "does not exist" in missing.stderr and "rag index DIR" in missing.stderr

    unknown = run_rag("articles", "show", "zzzz", env=env)
    assert unknown.returncode == 1 and "rag articles" in unknown.stderr

    bad = run_rag("status", env={**env, "RAG_CHUNK_TOKENS": "lots"})
    assert bad.returncode == 2 and "RAG_CHUNK_TOKENS" in bad.stderr

    debug = run_rag("--debug", "index", str(tmp_path / "nowhere"), env=env)
    assert debug.returncode == 1 and "Traceback" in debug.stderr


def test_strict_fails_on_any_skip(tmp_path: Path, articles: Path):
    (articles / "empty.txt").write_text("")
    result = run_rag("index", "--strict", env=env_for(tmp_path, articles))
    assert result.returncode == 1
    assert "empty.txt: empty file" in result.stderr
    listing = run_rag("articles", "--json", env=env_for(tmp_path, articles))
    assert json.loads(listing.stdout) == []


def test_empty_index_says_what_to_do(tmp_path: Path, articles: Path):
    env = env_for(tmp_path, articles)
    assert "run `rag index`" in run_rag("status", env=env).stdout
    assert "rag index" in run_rag("articles", env=env).stdout


def test_bad_model_folder(tmp_path: Path, articles: Path):
    env = {**env_for(tmp_path, articles), "RAG_EMBED_MODEL": str(tmp_path / "no-model")}
    result = run_rag("index", env=env)
    assert result.returncode == 1
    assert "RAG_EMBED_MODEL" in result.stderr
