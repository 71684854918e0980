"""The `rag` command's contracts — exit codes, output, --json, error lines — in-process
(``rag.cli.main``) in the fast tier, over articles the fake embedder indexes, and
`rag ask`'s display of short answers, verdicts and abstentions over fake answers; as
real processes where the process is the subject (a closed pipe, the model folder, what
a command imports, answering through a running `rag serve`)."""

from __future__ import annotations

import json
import shutil
import sys
from datetime import date
from pathlib import Path

import pytest

import rag.ask.pipeline
from rag.cli import main
from rag.errors import ConfigError
from tests import fake_answers as fake
from tests.conftest import NO_SERVER_PORT, RAG, SAMPLE, RagCli, rag_env, run_rag

integration = pytest.mark.integration
fast = pytest.mark.fast


def env_for(tmp_path: Path, articles: Path) -> dict[str, str]:
    return {"RAG_ARTICLES_DIR": str(articles), "RAG_INDEX_DIR": str(tmp_path / "index")}


@fast
def test_index_articles_status_show(tmp_path: Path, articles: Path, rag_cli: RagCli):
    env = env_for(tmp_path, articles)
    result = rag_cli("index", "--json", env=env)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert len(summary["added"]) == 5 and summary["chunks_embedded"] == summary["chunks"] > 5
    assert summary["embedding"] == "fake fp32"  # the fast tier's model (tests/fake_embed.py)
    # (which articles are copies is the real model's call: tests/test_index.py, test_dedup.py)

    plain = rag_cli("index", env=env)
    assert plain.returncode == 0
    assert "added 0, updated 0, removed 0, renamed 0, unchanged 5, skipped 0" in plain.stdout
    assert "chunks embedded 0" in plain.stdout

    listing = json.loads(rag_cli("articles", "--json", env=env).stdout)
    assert [a["path"] for a in listing] == sorted(p.name for p in articles.iterdir())
    table = rag_cli("articles", env=env).stdout.splitlines()
    assert table[0].split() == ["ID", "FILE", "TITLE", "SOURCE", "DATE", "CHUNKS", "CLUSTER"]
    assert len(table) == 6 and "Vice Minister Zhang Guangjun Meets AmCham" in table[2]

    status = json.loads(rag_cli("status", "--json", env=env).stdout)
    assert status["articles"] == 5
    assert status["chunks"] == status["chunks_in_chroma"] == summary["chunks"]
    assert status["backend"] == "embedded" and status["interrupted"] is False

    shown = rag_cli("articles", "show", "003_fe8ac2ac26afd88f.txt", env=env)
    assert shown.returncode == 0
    assert "washingtontimes.com" in shown.stdout and "Li Qiang" in shown.stdout
    one = json.loads(rag_cli("articles", "show", listing[0]["id"][:6], "--json", env=env).stdout)
    assert one["id"] == listing[0]["id"] and one["text"].startswith("Senior officials")


@fast
def test_errors_are_one_actionable_line(tmp_path: Path, articles: Path, rag_cli: RagCli):
    env = env_for(tmp_path, articles)
    missing = rag_cli("index", str(tmp_path / "nowhere"), env=env)
    assert missing.returncode == 1 and missing.stdout == ""
    assert missing.stderr.strip().count("\n") == 0
    assert "does not exist" in missing.stderr and "rag index DIR" in missing.stderr

    unknown = rag_cli("articles", "show", "zzzz", env=env)
    assert unknown.returncode == 1 and "rag articles" in unknown.stderr

    bad = rag_cli("status", env={**env, "RAG_CHUNK_TOKENS": "lots"})
    assert bad.returncode == 2 and "RAG_CHUNK_TOKENS" in bad.stderr

    wrong = rag_cli("ask", "Who?", "--engine", "gpt-9", env=env)
    assert wrong.returncode == 2 and "invalid choice: 'gpt-9'" in wrong.stderr

    # --debug: the exception itself, for its traceback (a process prints it on stderr)
    with pytest.raises(ConfigError, match="does not exist"):
        rag_cli("--debug", "index", str(tmp_path / "nowhere"), env=env)


@fast
def test_strict_fails_on_any_skip(tmp_path: Path, articles: Path, rag_cli: RagCli):
    (articles / "empty.txt").write_text("")
    result = rag_cli("index", "--strict", env=env_for(tmp_path, articles))
    assert result.returncode == 1
    assert "empty.txt: empty file" in result.stderr
    listing = rag_cli("articles", "--json", env=env_for(tmp_path, articles))
    assert json.loads(listing.stdout) == []


@fast
def test_empty_index_says_what_to_do(tmp_path: Path, articles: Path, rag_cli: RagCli):
    env = env_for(tmp_path, articles)
    status = rag_cli("status", env=env).stdout  # run in tmp_path (conftest)
    assert "run `rag index`" in status
    # where it looked and what it would index, as absolute paths
    index = Path(env["RAG_INDEX_DIR"]).resolve()
    assert f"The index at {index} is empty" in status and str(articles.resolve()) in status
    assert "rag index" in rag_cli("articles", env=env).stdout
    asked = rag_cli("ask", "Who attended?", env=env)
    assert asked.returncode == 1 and f"the index at {index} is empty" in asked.stderr


@integration
def test_bad_model_folder(tmp_path: Path, articles: Path):
    env = {**env_for(tmp_path, articles), "RAG_EMBED_MODEL": str(tmp_path / "no-model")}
    result = run_rag("index", env=env)
    assert result.returncode == 1
    assert "RAG_EMBED_MODEL" in result.stderr


def ask(monkeypatch, capsys, reply, *args: str, tty: bool = False) -> str:
    """`rag ask QUESTION ARGS` over a fake pipeline answering ``reply``; what it printed."""
    monkeypatch.setattr(
        rag.ask.pipeline, "Pipeline", lambda s: fake.FakePipeline(lambda q: reply, s)
    )
    monkeypatch.setattr(sys.stdout, "isatty", lambda: tty)
    assert main(["ask", reply.question, *args]) == 0
    return capsys.readouterr().out


@fast
def test_ask_prints_the_short_answer_first(monkeypatch, capsys):
    reply = fake.answer(
        shorts=[fake.short("IBM"), fake.short("late Friday", "DATE", "Friday, 17 November 2023")]
    )
    lines = ask(monkeypatch, capsys, reply).splitlines()
    assert lines[0] == "IBM, late Friday (Friday, 17 November 2023) [1]"
    assert lines[2] == f"{fake.SENTENCE} [1]"
    assert f"[1] {fake.TITLE} — english.news.cn, 2023-11-18" in lines
    assert "\033[" not in "\n".join(lines)  # no escape codes in a pipe


@fast
def test_ask_highlights_the_short_answer_on_a_terminal(monkeypatch, capsys):
    out = ask(monkeypatch, capsys, fake.answer(shorts=[fake.short("Pfizer")]), tty=True)
    assert out.startswith("\033[1mPfizer\033[0m [1]\n")


@fast
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


@fast
def test_ask_as_of_is_the_day_relative_dates_count_from(monkeypatch, capsys):
    pipelines: list[fake.FakePipeline] = []

    def made(settings):
        pipelines.append(fake.FakePipeline(lambda q: fake.answer(q), settings))
        return pipelines[-1]

    monkeypatch.setattr(rag.ask.pipeline, "Pipeline", made)
    assert main(["ask", "What happened last week?", "--as-of", "2023-11-22"]) == 0
    assert pipelines[0].filters[0].as_of == date(2023, 11, 22)
    capsys.readouterr()
    with pytest.raises(SystemExit):
        main(["ask", "What happened last week?", "--as-of", "last Tuesday"])
    assert "YYYY-MM-DD" in capsys.readouterr().err


@fast
def test_ask_says_what_an_abstention_missed(monkeypatch, capsys):
    missing = "no article gives a number of smartphones shipped by Huawei in 2023"
    reply = fake.answer("How many phones did Huawei ship?", abstained=True, missing=missing)
    out = ask(monkeypatch, capsys, reply)
    assert out.startswith("Not found in the indexed articles.\n")
    assert f"Missing: {missing}" in out
    bare = fake.answer("How many phones did Huawei ship?", abstained=True)
    assert "Missing" not in ask(monkeypatch, capsys, bare)


@fast
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
    import subprocess

    env = rag_env(RAG_INDEX_DIR=str(tmp_path / "index"))
    process = subprocess.Popen(
        [*RAG, "articles"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()  # as `head` does once it has its lines
    with process.stderr:
        err = process.stderr.read().decode()
    assert process.wait(timeout=120) == 141, err
    assert err == ""


# Issue 13 item 8: a cold `rag ask` spends seconds loading models; with `rag serve`
# already running, `rag ask` and `rag chat` answer through it.

QUESTION = "Which companies attended the Friday meeting with the MIIT?"
USING = "using the running server at http://127.0.0.1:{port} (--local to answer in-process)"


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """The sample corpus indexed, a real `rag serve` over it on a free loopback port
    (token "s3cret"), and the environment a `rag` command there is run with."""
    from tests.test_api import start_server

    root = tmp_path_factory.mktemp("served")
    shutil.copytree(SAMPLE, root / "articles")
    env = {"RAG_ARTICLES_DIR": str(root / "articles"), "RAG_INDEX_DIR": str(root / "index")}
    assert run_rag("index", env=env).returncode == 0
    process, base = start_server(root, token="s3cret")
    port = base.rsplit(":", 1)[1]
    yield {**env, "RAG_API_PORT": port, "RAG_API_TOKEN": "s3cret"}, port
    process.terminate()
    process.wait(timeout=30)


@integration
def test_ask_answers_through_a_running_server(served):
    env, port = served
    through = run_rag("ask", QUESTION, "--json", "--k", "3", env=env)
    assert through.returncode == 0, through.stderr
    assert through.stderr.strip() == USING.format(port=port)
    again = run_rag("ask", QUESTION, "--json", "--k", "3", env=env)
    assert again.stderr.strip() == USING.format(port=port)
    local = run_rag("ask", QUESTION, "--json", "--k", "3", "--local", env=env)
    assert local.returncode == 0, local.stderr
    assert local.stderr == ""  # --local: not a word about the server

    remote, warm, mine = (json.loads(r.stdout) for r in (through, again, local))
    # The model load is its own figure: seconds in a fresh process, none in a warm server.
    assert mine["timings"]["load"] > 100 > warm["timings"]["load"]
    assert mine["timings"]["embed"] < mine["timings"]["load"]
    for data in (remote, mine):
        data.pop("timings")
    assert remote == mine and len(remote["passages"]) == 3

    text = run_rag("ask", QUESTION, env=env)
    assert text.stdout.splitlines()[0] == "IBM, Microsoft, Pfizer [1]"
    assert "[1] " in text.stdout and "characters" in text.stdout


@integration
def test_filters_reach_the_server(served):
    env, port = served
    only = run_rag(
        "ask", "What did Li Qiang hope for?", "--source", "washingtontimes.com", "--json", env=env
    )
    assert only.returncode == 0 and USING.format(port=port) in only.stderr
    assert {p["source"] for p in json.loads(only.stdout)["passages"]} == {"washingtontimes.com"}
    # A filter no article passes: the server's FilterError, printed and exited as in-process.
    reversed_range = ["--since", "2023-12-01", "--until", "2023-11-01"]
    refused = run_rag("ask", QUESTION, *reversed_range, env=env)
    assert refused.returncode == 2
    assert refused.stderr.splitlines() == [
        USING.format(port=port),
        "error: the date range is reversed: since 2023-12-01 is after until 2023-11-01; "
        "swap the two dates",
    ]


@integration
def test_chat_talks_through_a_running_server(served):
    import subprocess

    env, port = served
    result = subprocess.run(
        [*RAG, "chat"],
        input="What did Raimondo say about de-risking?\nand what did she say about tourism?\n\n",
        capture_output=True,
        text=True,
        env=rag_env(**env),
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == USING.format(port=port)
    assert "de-risking" in result.stdout
    assert "(What did Raimondo say about tourism?)" in result.stdout
    assert result.stdout.count("[1]") >= 2


@integration
def test_a_server_that_cannot_answer_as_this_command_would_is_not_used(served, tmp_path):
    env, _ = served
    # Another index here: the server's answer would come from the wrong articles.
    other = run_rag("ask", QUESTION, env={**env, "RAG_INDEX_DIR": str(tmp_path / "other")})
    assert other.returncode == 1
    assert "serves another index" in other.stderr and "answering in-process" in other.stderr
    assert "is empty" in other.stderr  # the in-process answer's own error
    # Other answer settings: the same.
    changed = run_rag("ask", "", env={**env, "RAG_TOP_K": "7"})
    assert "other settings" in changed.stderr and "the question is empty" in changed.stderr
    # No token: the server refuses, and the command says so and answers in-process.
    no_token = {k: v for k, v in env.items() if k != "RAG_API_TOKEN"}
    refused = run_rag("ask", "", env=no_token)
    assert "wants a token" in refused.stderr and "the question is empty" in refused.stderr


def test_no_server_costs_nothing_and_loads_no_torch(tmp_path: Path):
    import subprocess
    import time

    from rag import remote
    from rag.settings import Settings

    began = time.perf_counter()
    assert remote.find(Settings(api_port=int(NO_SERVER_PORT))) == (None, None)
    assert time.perf_counter() - began < 0.5  # refused at once
    # Another machine's address is never asked; every interface is asked on loopback.
    assert remote.probe_address(Settings(api_host="192.168.1.5")) is None
    assert remote.probe_address(Settings(api_host="0.0.0.0", api_port=9)) == ("127.0.0.1", 9)
    assert remote.probe_address(Settings(api_host="::1", api_port=9)) == ("::1", 9)
    loaded = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, rag.cli, rag.remote; print(sorted(m for m in "
            "('torch', 'chromadb', 'fastapi', 'sentence_transformers') if m in sys.modules))",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert loaded.stdout.strip() == "[]"
    # The CLI finds no server and answers in-process, as before: here, the empty index.
    alone = run_rag("ask", QUESTION, env={"RAG_INDEX_DIR": str(tmp_path / "index")})
    assert alone.returncode == 1 and "using the running server" not in alone.stderr
    assert alone.stderr.startswith("error: the index at ")


@fast
def test_a_servers_errors_come_back_as_ours():
    from rag import errors, remote

    refused = remote._error(
        "http://s", b'{"error": "the date range is reversed", "kind": "FilterError"}'
    )
    assert type(refused) is errors.FilterError and refused.exit_code == 2
    assert str(refused) == "the date range is reversed"
    # Refused unread (a request schema the server does not take): answered in-process.
    unread = remote._error("http://s", b'{"error": "invalid request: question: too long"}')
    assert isinstance(unread, remote.Unusable) and "could not take the request" in str(unread)
    assert isinstance(remote._error("http://s", b"Internal Server Error"), remote.Unusable)
