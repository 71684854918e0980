"""The `rag` command as a user runs it: real processes, real output, real exit codes;
and `rag ask`'s display of short answers, verdicts and abstentions, in-process over
fake answers."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

import rag.pipeline
from rag.cli import main
from tests import fake_answers as fake
from tests.conftest import run_rag

integration = pytest.mark.integration


def env_for(tmp_path: Path, articles: Path) -> dict[str, str]:
    return {"RAG_ARTICLES_DIR": str(articles), "RAG_INDEX_DIR": str(tmp_path / "index")}


@integration
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


@integration
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


@integration
def test_strict_fails_on_any_skip(tmp_path: Path, articles: Path):
    (articles / "empty.txt").write_text("")
    result = run_rag("index", "--strict", env=env_for(tmp_path, articles))
    assert result.returncode == 1
    assert "empty.txt: empty file" in result.stderr
    listing = run_rag("articles", "--json", env=env_for(tmp_path, articles))
    assert json.loads(listing.stdout) == []


@integration
def test_empty_index_says_what_to_do(tmp_path: Path, articles: Path):
    env = env_for(tmp_path, articles)
    assert "run `rag index`" in run_rag("status", env=env).stdout
    assert "rag index" in run_rag("articles", env=env).stdout


@integration
def test_bad_model_folder(tmp_path: Path, articles: Path):
    env = {**env_for(tmp_path, articles), "RAG_EMBED_MODEL": str(tmp_path / "no-model")}
    result = run_rag("index", env=env)
    assert result.returncode == 1
    assert "RAG_EMBED_MODEL" in result.stderr


def ask(monkeypatch, capsys, reply, *args: str, tty: bool = False) -> str:
    """`rag ask QUESTION ARGS` over a fake pipeline answering ``reply``; what it printed."""
    monkeypatch.setattr(rag.pipeline, "Pipeline", lambda s: fake.FakePipeline(lambda q: reply, s))
    monkeypatch.setattr(sys.stdout, "isatty", lambda: tty)
    assert main(["ask", reply.question, *args]) == 0
    return capsys.readouterr().out


def test_ask_prints_the_short_answer_first(monkeypatch, capsys):
    reply = fake.answer(
        shorts=[fake.short("IBM"), fake.short("late Friday", "DATE", "Friday, 17 November 2023")]
    )
    lines = ask(monkeypatch, capsys, reply).splitlines()
    assert lines[0] == "IBM, late Friday (Friday, 17 November 2023) [1]"
    assert lines[2] == f"{fake.SENTENCE} [1]"
    assert f"[1] {fake.TITLE} — english.news.cn, 2023-11-18" in lines
    assert "\033[" not in "\n".join(lines)  # no escape codes in a pipe


def test_ask_highlights_the_short_answer_on_a_terminal(monkeypatch, capsys):
    out = ask(monkeypatch, capsys, fake.answer(shorts=[fake.short("Pfizer")]), tty=True)
    assert out.startswith("\033[1mPfizer\033[0m [1]\n")


def test_ask_prints_the_verdict_and_each_claim(monkeypatch, capsys):
    verdict = fake.verdict("no", "supported", "contradicted", "missing")
    out = ask(monkeypatch, capsys, fake.answer("Did they all attend?", verdict=verdict))
    lines = out.splitlines()
    assert lines[0] == "No — weighed the claims"
    assert lines[1:4] == [
        "     supported [1]  claim 1",
        "  contradicted [1]  claim 2",
        "       missing [-]  claim 3",
    ]
    cannot = fake.answer("Did they?", verdict=fake.verdict("cannot tell", "missing"))
    assert ask(monkeypatch, capsys, cannot).startswith("Cannot tell from the articles — ")
    yes = fake.answer("Did they?", verdict=fake.verdict("yes"))
    assert ask(monkeypatch, capsys, yes).startswith("Yes — weighed the claims\n\n")


def test_ask_says_what_an_abstention_missed(monkeypatch, capsys):
    missing = "no article gives a number of smartphones shipped by Huawei in 2023"
    reply = fake.answer("How many phones did Huawei ship?", abstained=True, missing=missing)
    out = ask(monkeypatch, capsys, reply)
    assert out.startswith("Not found in the indexed articles.\n")
    assert f"Missing: {missing}" in out
    bare = fake.answer("How many phones did Huawei ship?", abstained=True)
    assert "Missing" not in ask(monkeypatch, capsys, bare)


def test_ask_json_carries_the_new_fields(monkeypatch, capsys):
    reply = fake.answer(
        "Did they attend?",
        shorts=[fake.short("late Friday", "DATE", "Friday, 17 November 2023")],
        verdict=fake.verdict("yes", "supported"),
        confidence=0.83,
    )
    data = json.loads(ask(monkeypatch, capsys, reply, "--json"))
    start, end = fake.span("late Friday")
    assert data["short_answers"] == [
        {
            "text": "late Friday",
            "article_id": fake.ARTICLE_ID,
            "start": start,
            "end": end,
            "n": 1,
            "label": "DATE",
            "resolved": "Friday, 17 November 2023",
        }
    ]
    assert data["verdict"] == {
        "answer": "yes",
        "claims": [
            {
                "text": "claim 1",
                "status": "supported",
                "n": 1,
                "score": 0.8,
                "published_at": "2023-11-18T09:00:00",
            }
        ],
        "reason": "weighed the claims",
    }
    assert data["confidence"] == 0.83 and data["missing"] is None


def test_a_closed_pipe_ends_the_command_quietly(tmp_path: Path):
    """Issue 13 item 10: `rag ask … | head -3` printed a BrokenPipeError traceback. Here
    the reader is gone before the command writes at all."""
    import os
    import subprocess

    from tests.conftest import RAG

    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    env["RAG_INDEX_DIR"] = str(tmp_path / "index")
    process = subprocess.Popen(
        [*RAG, "articles"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()  # as `head` does once it has its lines
    with process.stderr:
        err = process.stderr.read().decode()
    assert process.wait(timeout=120) == 141, err
    assert err == ""
