"""The HTTP API against a real `rag serve` (uvicorn) on a free loopback port."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import RAG, SAMPLE, free_port, run_rag

pytestmark = pytest.mark.integration


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


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("api")
    shutil.copytree(SAMPLE, root / "articles")
    env = {"RAG_ARTICLES_DIR": str(root / "articles"), "RAG_INDEX_DIR": str(root / "index")}
    assert run_rag("index", env=env).returncode == 0
    process, base = start_server(root)
    with httpx.Client(base_url=base, timeout=120) as client:
        yield client, root
    process.terminate()
    process.wait(timeout=30)


def test_health_and_openapi(server):
    client, _ = server
    health = client.get("/health").json()
    assert health["status"] == "ok" and health["articles"] == 5
    spec = client.get("/openapi.json").json()
    assert {"/ask", "/chat", "/articles", "/articles/{article_id}", "/index", "/health"} <= set(
        spec["paths"]
    )
    assert client.get("/docs").status_code == 200


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


def test_articles(server):
    client, _ = server
    listing = client.get("/articles").json()
    assert len(listing) == 5
    one = client.get(f"/articles/{listing[0]['id']}").json()
    assert one["text"] and one["id"] == listing[0]["id"]
    missing = client.get("/articles/nope")
    assert missing.status_code == 404 and "rag articles" in missing.json()["error"]


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


def test_upload_then_index_then_ask(server):
    client, root = server
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
    assert "uninvestable" in answer["answer"]


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
def test_uploads_cannot_escape_the_articles_folder(server, name, status):
    client, root = server
    before = sorted(p.name for p in (root / "articles").iterdir())
    response = client.post(
        "/articles", files=[("files", (name, b"Some article text here.", "text/plain"))]
    )
    assert response.status_code == status, response.text
    assert sorted(p.name for p in (root / "articles").iterdir()) == before
    assert not (root / "etc").exists()


def test_oversized_upload_is_refused(server):
    client, root = server
    big = b"word " * (3 * 1024 * 1024)  # 15 MB, over the 10 MB default
    response = client.post("/articles", files=[("files", ("big.txt", big, "text/plain"))])
    assert response.status_code == 413 and "RAG_MAX_FILE_MB" in response.json()["error"]
    assert not (root / "articles" / "big.txt").exists()


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


def test_unknown_routes_and_methods_are_json_errors_too(server):
    client, _ = server
    missing = client.get("/no-such-route")
    assert missing.status_code == 404 and missing.json() == {"error": "Not Found"}
    wrong = client.delete("/health")
    assert wrong.status_code == 405 and wrong.json() == {"error": "Method Not Allowed"}
    assert wrong.headers["allow"] == "GET"
