"""The HTTP API's contracts — status codes, JSON shapes, errors, uploads — in the fast
tier, in-process (FastAPI's TestClient) over the sample articles embedded by the fake
embedder, and the answer's reading-step fields over fake answers; the token check
against a real `rag serve` (uvicorn) on a free loopback port."""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import threading
import time
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from rag.api import create_app
from rag.settings import Settings
from tests import fake_answers as fake
from tests.conftest import RAG, SAMPLE, free_port

integration = pytest.mark.integration


def start_server(root: Path, token: str | None = None) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    env |= {"RAG_ARTICLES_DIR": str(root / "articles"), "RAG_INDEX_DIR": str(root / "index")}
    if token:
        env["RAG_API_TOKEN"] = token
    process = subprocess.Popen(
        [*RAG, "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                return process, base
        except httpx.HTTPError:
            pass
        if process.poll() is not None:
            break
        time.sleep(0.2)
    process.kill()
    pytest.fail("rag serve did not start")


fast = pytest.mark.fast


@pytest.fixture(scope="module")
def server(fake_indexed: Settings, fake_pipeline):
    """The API over the fake-embedded sample index (read only: see ``writable``)."""
    return TestClient(create_app(fake_indexed, fake_pipeline)), fake_indexed.articles_dir.parent


@pytest.fixture
def writable(tmp_path: Path, articles: Path):
    """The API over this test's own copy of the sample articles, not yet indexed."""
    settings = Settings(articles_dir=articles, index_dir=tmp_path / "index")
    return TestClient(create_app(settings)), tmp_path


@fast
def test_health_and_openapi(server):
    client, _ = server
    health = client.get("/health").json()
    assert health["status"] == "ok" and health["articles"] == 5
    spec = client.get("/openapi.json").json()
    paths = {"/ask", "/chat", "/timeline", "/entities", "/articles", "/articles/{article_id}"}
    assert paths | {"/health"} <= set(spec["paths"])
    assert client.get("/docs").status_code == 200


def loads(caplog: pytest.LogCaptureFixture) -> list[str]:
    """The model loads logged so far (rag.pipeline logs each load that did the work)."""
    return [r.getMessage() for r in caplog.records if r.name == "rag.pipeline"]


def wait_for_models(client: TestClient) -> str:
    deadline = time.monotonic() + 120
    while (models := client.get("/health").json()["models"]) == "loading":
        assert time.monotonic() < deadline, "the models never finished loading"
        time.sleep(0.05)
    return models


QUESTION = "Which companies attended the Friday meeting?"


@fast
def test_serve_loads_the_models_as_it_starts_and_health_answers_meanwhile(
    fake_indexed: Settings, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
):
    """`rag serve` warms up in a thread: /health answers while the models load, and the
    first question finds them loaded and loads nothing."""
    from rag.embed import Embedder

    loading = threading.Event()
    load = Embedder.load

    def slow_load(self: Embedder) -> None:  # a model that is still loading when asked
        loading.wait(timeout=120)
        load(self)

    monkeypatch.setattr(Embedder, "load", slow_load)
    caplog.set_level(logging.INFO, logger="rag.pipeline")
    with TestClient(create_app(fake_indexed, warm=True)) as client:
        health = client.get("/health")
        assert health.status_code == 200 and health.json()["models"] == "loading"
        loading.set()
        assert wait_for_models(client) == "loaded"
        assert loads(caplog) and "extractive engine" in loads(caplog)[0]
        caplog.clear()
        answer = client.post("/ask", json={"question": QUESTION}).json()
        assert "IBM, Microsoft and Pfizer" in answer["answer"]
        assert loads(caplog) == []  # loaded before the question, not for it


@fast
def test_without_warming_the_first_question_loads_the_models(
    fake_indexed: Settings, caplog: pytest.LogCaptureFixture
):
    """The contrast: an app not warmed (``create_app`` alone) loads on the first question."""
    caplog.set_level(logging.INFO, logger="rag.pipeline")
    with TestClient(create_app(fake_indexed)) as client:
        assert client.get("/health").json()["models"] == "not loaded"
        assert client.post("/ask", json={"question": QUESTION}).status_code == 200
        assert len(loads(caplog)) == 1
        assert client.get("/health").json()["models"] == "loaded"
        client.post("/ask", json={"question": QUESTION})
        assert len(loads(caplog)) == 1


@fast
def test_ask(server):
    client, _ = server
    response = client.post(
        "/ask", json={"question": "Which companies attended the Friday meeting?", "k": 4}
    )
    assert response.status_code == 200
    answer = response.json()
    assert "IBM, Microsoft and Pfizer" in answer["answer"]
    assert answer["citations"][0]["quote"] in answer["answer"]
    assert len(answer["passages"]) <= 4 and answer["abstained"] is False
    filtered = client.post(
        "/ask", json={"question": "What was agreed?", "sources": ["washingtontimes.com"]}
    ).json()
    assert {p["source"] for p in filtered["passages"]} == {"washingtontimes.com"}


@fast
def test_timeline(server):
    client, _ = server
    response = client.get("/timeline", params={"q": "Michael Hart"})
    assert response.status_code == 200
    found = response.json()
    july = next(e for e in found["events"] if e["day"] == "2023-07-14")
    assert july["dated_by"] == "text" and july["when"] == "July 14, 2023"
    text = client.get(f"/articles/{july['article_id']}").json()["text"]
    assert text[july["char_start"] : july["char_end"]] == july["quote"]
    assert client.get("/timeline").status_code == 422
    assert client.get("/timeline", params={"q": "Michael Hart", "k": 0}).status_code == 422


@fast
def test_entities(server):
    client, _ = server
    people = client.get("/entities", params={"type": "PERSON"}).json()
    assert "Gina Raimondo" in {e["name"] for e in people}
    one = client.get("/entities/raimondo").json()
    assert one["entity"]["name"] == "Gina Raimondo" and one["articles"]
    assert client.get("/entities/nobody at all").status_code == 404
    assert client.get("/entities", params={"type": "ANIMAL"}).status_code == 422


@fast
@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        ({"question": ""}, 422, "question"),
        ({"question": "   "}, 422, "empty"),
        ({"question": "x" * 20_000}, 422, "question"),
        ({"question": "ok?", "k": 0}, 422, "k"),
        ({"question": "ok?", "since": "not a date"}, 422, "since"),
        ({"question": "ok?", "since": "2023-09-01", "until": "2023-01-01"}, 422, "since"),
        ({"question": "ok?", "engine": "gpt-9"}, 400, "engine"),
        ({}, 422, "question"),
    ],
)
def test_bad_input_is_a_4xx_with_a_message(server, body, status, words):
    client, _ = server
    response = client.post("/ask", json=body)
    assert response.status_code == status, response.text
    assert words in response.json()["error"]


@fast
def test_articles(server):
    client, _ = server
    listing = client.get("/articles").json()
    assert len(listing) == 5
    one = client.get(f"/articles/{listing[0]['id']}").json()
    assert one["text"] and one["id"] == listing[0]["id"]
    missing = client.get("/articles/nope")
    assert missing.status_code == 404 and "rag articles" in missing.json()["error"]


@fast
def test_chat_streams_and_rewrites_follow_ups(server):
    client, _ = server

    def chat(body):
        with client.stream("POST", "/chat", json=body) as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            events = []
            for block in response.read().decode().split("\n\n"):
                if block.strip():
                    kind, data = block.split("\n", 1)
                    events.append(
                        (kind.removeprefix("event: "), json.loads(data.removeprefix("data: ")))
                    )
            return events

    first = chat({"question": "What did Raimondo say about de-risking?"})
    assert first[0][0] == "session" and first[-1][0] == "answer"
    tokens = [data for kind, data in first if kind == "token"]
    assert len(tokens) >= 1 and "".join(tokens) == first[-1][1]["answer"]
    session = first[0][1]["session_id"]

    follow = chat({"question": "and what did she say about tourism?", "session_id": session})
    answer = follow[-1][1]
    assert answer["session_id"] == session
    assert answer["rewritten_question"] == "What did Raimondo say about tourism?"
    assert "touris" in answer["answer"]


@fast
def test_upload_then_index_then_ask(writable):
    client, root = writable
    first = client.post("/index")
    assert first.status_code == 200 and len(first.json()["added"]) == 5
    text = (
        "Raimondo ends China trip\n\nCommerce Secretary Gina Raimondo said American companies "
        "had told her China was becoming uninvestable because of raids and fines.\n"
    )
    response = client.post(
        "/articles", files=[("files", ("005_raimondo.txt", text.encode(), "text/plain"))]
    )
    assert response.status_code == 201 and response.json()["saved"] == ["005_raimondo.txt"]
    assert (root / "articles" / "005_raimondo.txt").read_text() == text
    again = client.post("/articles", files=[("files", ("005_raimondo.txt", b"x", "text/plain"))])
    assert again.status_code == 409

    summary = client.post("/index").json()
    assert summary["added"] == ["005_raimondo.txt"] and summary["chunks_embedded"] >= 1
    answer = client.post(
        "/ask", json={"question": "Which country did companies call uninvestable?"}
    ).json()
    assert answer["passages"][0]["path"] == "005_raimondo.txt"
    assert "uninvestable" in answer["passages"][0]["text"]


@fast
@pytest.mark.parametrize(
    ("name", "status"),
    [
        ("../../etc/passwd.txt", 400),
        ("/etc/passwd.txt", 400),
        ("..", 400),
        (".hidden.txt", 400),
        ("sub/dir.txt", 400),
        ("notes.exe", 415),
        ("noextension", 415),
    ],
)
def test_uploads_cannot_escape_the_articles_folder(writable, name, status):
    client, root = writable
    before = sorted(p.name for p in (root / "articles").iterdir())
    response = client.post(
        "/articles", files=[("files", (name, b"Some article text here.", "text/plain"))]
    )
    assert response.status_code == status, response.text
    assert sorted(p.name for p in (root / "articles").iterdir()) == before
    assert not (root / "etc").exists()


@fast
def test_oversized_upload_is_refused(writable):
    client, root = writable
    big = b"word " * (3 * 1024 * 1024)  # 15 MB, over the 10 MB default
    response = client.post("/articles", files=[("files", ("big.txt", big, "text/plain"))])
    assert response.status_code == 413 and "RAG_MAX_FILE_MB" in response.json()["error"]
    assert not (root / "articles" / "big.txt").exists()


@integration
def test_token_protects_every_route_but_health(tmp_path: Path):
    shutil.copytree(SAMPLE, tmp_path / "articles")
    process, base = start_server(tmp_path, token="s3cret")
    try:
        assert httpx.get(f"{base}/health").status_code == 200
        for method, path in (
            ("GET", "/articles"),
            ("POST", "/ask"),
            ("POST", "/index"),
            ("GET", "/articles/x"),
        ):
            response = httpx.request(method, f"{base}{path}", json={"question": "hi"})
            assert response.status_code == 401, path
            assert "RAG_API_TOKEN" in response.json()["error"]
            wrong = httpx.request(
                method,
                f"{base}{path}",
                json={"question": "hi"},
                headers={"Authorization": "Bearer nope"},
            )
            assert wrong.status_code == 401
        ok = httpx.get(f"{base}/articles", headers={"Authorization": "Bearer s3cret"})
        assert ok.status_code == 200
    finally:
        process.terminate()
        process.wait(timeout=30)


@fast
def test_unknown_routes_and_methods_are_json_errors_too(server):
    client, _ = server
    missing = client.get("/no-such-route")
    assert missing.status_code == 404 and missing.json() == {"error": "Not Found"}
    wrong = client.delete("/health")
    assert wrong.status_code == 405 and wrong.json() == {"error": "Method Not Allowed"}
    assert wrong.headers["allow"] == "GET"


def fake_client(tmp_path: Path, reply) -> TestClient:
    settings = Settings(articles_dir=tmp_path / "articles", index_dir=tmp_path / "index")
    return TestClient(create_app(settings, fake.FakePipeline(lambda q: reply, settings)))


def sse(text: str) -> list[tuple[str, object]]:
    events = []
    for block in text.split("\n\n"):
        if block.strip():
            kind, data = block.split("\n", 1)
            events.append((kind.removeprefix("event: "), json.loads(data.removeprefix("data: "))))
    return events


@fast
def test_ask_and_chat_answers_carry_short_answers_verdict_and_confidence(tmp_path: Path):
    reply = fake.answer(
        "Did they attend late Friday?",
        shorts=[fake.short("late Friday", "DATE", "Friday, 17 November 2023")],
        verdict=fake.verdict("yes", "supported", "missing"),
        confidence=0.91,
    )
    client = fake_client(tmp_path, reply)
    answer = client.post("/ask", json={"question": reply.question}).json()
    start, end = fake.span("late Friday")
    assert answer["short_answers"] == [
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
    assert answer["verdict"]["answer"] == "yes"
    assert [(c["status"], c["n"]) for c in answer["verdict"]["claims"]] == [
        ("supported", 1),
        ("missing", None),
    ]
    assert answer["confidence"] == 0.91 and answer["missing"] is None
    assert answer["answer"] == reply.answer and answer["citations"][0]["n"] == 1

    events = sse(client.post("/chat", json={"question": reply.question}).text)
    final = events[-1]
    assert final[0] == "answer"
    assert final[1]["verdict"]["claims"][1]["status"] == "missing"
    assert final[1]["short_answers"][0]["resolved"] == "Friday, 17 November 2023"


@fast
def test_an_abstention_says_what_was_missing(tmp_path: Path):
    missing = "no article gives a number of smartphones shipped by Huawei in 2023"
    reply = fake.answer("How many?", abstained=True, missing=missing, confidence=0.12)
    answer = fake_client(tmp_path, reply).post("/ask", json={"question": "How many?"}).json()
    assert answer["abstained"] is True and answer["missing"] == missing
    assert answer["verdict"] is None and answer["short_answers"] == []
    assert answer["confidence"] == 0.12


@fast
def test_the_openapi_schema_documents_the_answer(tmp_path: Path):
    spec = fake_client(tmp_path, fake.answer()).get("/openapi.json").json()
    ok = spec["paths"]["/ask"]["post"]["responses"]["200"]["content"]["application/json"]
    assert ok["schema"] == {"$ref": "#/components/schemas/Answer"}
    schemas = spec["components"]["schemas"]
    fields = schemas["Answer"]["properties"]
    assert {"short_answers", "verdict", "confidence", "missing"} <= set(fields)
    assert fields["short_answers"]["items"] == {"$ref": "#/components/schemas/ShortAnswer"}
    assert {"text", "article_id", "start", "end", "n", "label", "resolved"} == set(
        schemas["ShortAnswer"]["properties"]
    )
    assert schemas["Verdict"]["properties"]["claims"]["items"] == {
        "$ref": "#/components/schemas/Claim"
    }
    assert {"text", "status", "n", "score", "published_at"} == set(schemas["Claim"]["properties"])


@fast
def test_chat_with_an_unknown_session_is_a_404(tmp_path: Path):
    """Issue 13 item 7: an unknown session_id silently started a new session, and a
    follow-up ("and what about him?") was answered without its history."""
    client = fake_client(tmp_path, fake.answer())
    response = client.post("/chat", json={"question": "and what about him?", "session_id": "nope"})
    assert response.status_code == 404
    error = response.json()["error"]
    assert "unknown chat session 'nope'" in error and "omit session_id" in error

    started = sse(client.post("/chat", json={"question": "Who attended?"}).text)
    session = started[0][1]["session_id"]
    again = client.post("/chat", json={"question": "and him?", "session_id": session})
    assert again.status_code == 200 and sse(again.text)[-1][1]["session_id"] == session


@fast
@pytest.mark.parametrize("k", [0, -1, 101])
def test_k_out_of_range_is_refused_as_the_cli_refuses_it(tmp_path: Path, k: int, capsys):
    """Issue 13 item 6: `rag ask --k 0` silently used 5 (and `rag eval --k 0` 10) while the
    API refused it; one check (rag.results.check_k) gives all the same message."""
    from rag.cli import main

    client = fake_client(tmp_path, fake.answer())
    message = f"k is {k}: passages to answer from must be 1 to 100"
    for route in ("/ask", "/chat"):
        response = client.post(route, json={"question": "Who attended?", "k": k})
        assert response.status_code == 422 and response.json()["error"] == message
    assert main(["ask", "Who attended?", "--k", str(k)]) == 1
    assert capsys.readouterr().err.strip() == f"error: {message}"
    assert main(["eval", "--k", str(k), "--out", str(tmp_path / "runs")]) == 1
    assert capsys.readouterr().err.strip() == f"error: {message}"
    schema = client.get("/openapi.json").json()["components"]["schemas"]["AskRequest"]
    assert (schema["properties"]["k"]["minimum"], schema["properties"]["k"]["maximum"]) == (1, 100)
