"""Load test: concurrent clients against ``rag serve``, then again while ``rag index`` runs.

    python bench/load.py [--size 10000] [--work /tmp/newsdesk-scale] [--clients 8]
        [--seconds 60] [--add 20]

Uses the corpus and index that ``bench/scale.py`` built under ``--work``
(``corpus-SIZE``, ``index-SIZE``). This process is the client: it starts
``rag serve`` on a free 127.0.0.1 port as a subprocess, then

1. **steady**: ``--clients`` threads, each with its own HTTP connection, post
   the benchmark questions to ``/ask`` back to back for ``--seconds``;
2. **indexing**: the same, while ``rag index`` (a third process) embeds
   ``--add`` new articles into the same index; the phase lasts until the
   indexer has finished and ``--seconds`` have passed, whichever is later.

Each phase reports requests/s, latency p50/p95/p99 and errors (any answer but
200, or no answer); the indexing phase also the latency while the indexer ran,
its run time and whether the server saw the new articles afterwards. The added
articles are removed (and the index synced) at the end.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import scale  # noqa: E402
import synth_corpus  # noqa: E402

from rag.evaluation.evaluate import percentile  # noqa: E402


class Clients:
    """``n`` client threads posting questions until stopped; every request is recorded."""

    def __init__(self, base: str, questions: list[str], n: int) -> None:
        self.base = base
        self.questions = questions
        self.n = n
        self.records: list[tuple[float, float, int, str]] = []  # start, seconds, status, error
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        self._stop.clear()
        self._threads = [threading.Thread(target=self._run, args=(i,)) for i in range(self.n)]
        for t in self._threads:
            t.start()

    def stop(self) -> None:
        self._stop.set()
        for t in self._threads:
            t.join()

    def _run(self, offset: int) -> None:
        with httpx.Client(base_url=self.base, timeout=120) as http:
            i = offset * 7
            while not self._stop.is_set():
                question = self.questions[i % len(self.questions)]
                i += 1
                began = time.monotonic()
                status, error = 0, ""
                try:
                    response = http.post("/ask", json={"question": question})
                    status = response.status_code
                    if status != 200:
                        error = response.text[:200]
                except httpx.HTTPError as exc:
                    error = f"{type(exc).__name__}: {exc}"
                with self._lock:
                    self.records.append((began, time.monotonic() - began, status, error))


def summarise(records: list[tuple[float, float, int, str]], seconds: float) -> dict[str, Any]:
    latencies = [r[1] * 1000 for r in records]
    errors = [r for r in records if r[2] != 200]
    return {
        "requests": len(records),
        "seconds": round(seconds, 1),
        "requests_per_s": round(len(records) / seconds, 2) if seconds else 0.0,
        "p50_ms": round(percentile(latencies, 0.50), 1) if latencies else None,
        "p95_ms": round(percentile(latencies, 0.95), 1) if latencies else None,
        "p99_ms": round(percentile(latencies, 0.99), 1) if latencies else None,
        "max_ms": round(max(latencies), 1) if latencies else None,
        "errors": len(errors),
        "error_samples": sorted({f"{r[2]} {r[3]}" for r in errors})[:5],
    }


def phase(clients: Clients, seconds: float) -> dict[str, Any]:
    clients.records = []
    began = time.monotonic()
    clients.start()
    time.sleep(seconds)
    clients.stop()
    return summarise(clients.records, time.monotonic() - began) | {"load": scale.load()}


def indexing_phase(
    clients: Clients, seconds: float, corpus: Path, index: Path, add: int
) -> dict[str, Any]:
    sources = synth_corpus.load_sources(synth_corpus.DEFAULT_SEEDS, synth_corpus.DEFAULT_MULTIHOP)
    generator = iter(synth_corpus.Generator(sources, 4242, dup_share=0.0))
    added = corpus / "zz-load.jsonl"
    records = [next(generator) | {"id": f"load-{i}"} for i in range(add)]
    added.write_text("\n".join(json.dumps(r) for r in records) + "\n", encoding="utf-8")
    clients.records = []
    began = time.monotonic()
    clients.start()
    time.sleep(min(5.0, seconds / 4))  # the clients are in full flow before the indexer starts
    index_began = time.monotonic()
    summary, wall, rss = scale.run_measured(
        [str(scale.RAG), "index", "--json"], scale.env_for(corpus, index)
    )
    index_ended = time.monotonic()
    time.sleep(max(0.0, seconds - (index_ended - began)))
    clients.stop()
    ended = time.monotonic()
    during = [r for r in clients.records if index_began <= r[0] < index_ended]
    return {
        "all": summarise(clients.records, ended - began),
        "while_indexing": summarise(during, index_ended - index_began),
        "indexer": {
            "articles_added": len(summary["added"]),
            "chunks_embedded": summary["chunks_embedded"],
            "seconds": summary["seconds"],
            "wall_seconds": round(wall, 1),
            "peak_rss_mb": round(rss),
        },
        "load": scale.load(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=10000, help="which scale.py index to load")
    parser.add_argument("--work", type=Path, default=Path("/tmp/newsdesk-scale"))
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--add", type=int, default=20, help="articles rag index adds in phase 2")
    args = parser.parse_args()
    corpus, index = args.work / f"corpus-{args.size}", args.work / f"index-{args.size}"
    if not (index / "bench-build.json").is_file():
        raise SystemExit(
            f"no benchmark index at {index}; build it first: "
            f"python bench/scale.py --sizes {args.size} --build-only"
        )
    questions = scale.questions()
    port = scale.free_port()
    log = (args.work / "serve-load.log").open("wb")
    server = subprocess.Popen(
        [str(scale.RAG), "serve", "--port", str(port)],
        env=scale.env_for(corpus, index),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    added = corpus / "zz-load.jsonl"
    result: dict[str, Any] = {"size": args.size, "clients": args.clients, "load_start": ""}
    try:
        scale.wait_healthy(base, server)
        with httpx.Client(base_url=base, timeout=120) as http:
            for q in questions[:5]:  # warm-up: model, catalog, BM25
                http.post("/ask", json={"question": q}).raise_for_status()
            before = http.get("/health").json()
        result["load_start"] = scale.load()
        clients = Clients(base, questions, args.clients)
        print(f"steady phase, {args.seconds:.0f} s (load {scale.load()}) …", file=sys.stderr)
        result["steady"] = phase(clients, args.seconds)
        print(f"indexing phase (load {scale.load()}) …", file=sys.stderr)
        result["indexing"] = indexing_phase(clients, args.seconds, corpus, index, args.add)
        after = httpx.get(base + "/health", timeout=30).json()
        result["indexing"]["server_saw"] = {
            "articles_before": before["articles"],
            "articles_after": after["articles"],
        }
        result["serve_peak_rss_mb"] = round(scale.peak_rss_mb(server.pid))
    finally:
        server.terminate()
        server.wait(30)
        log.close()
        if added.exists():
            added.unlink()
            subprocess.run(
                [str(scale.RAG), "index"],
                env=scale.env_for(corpus, index),
                check=False,
                capture_output=True,
            )
    print(json.dumps(result, indent=2))
    (args.work / f"load-{args.size}.json").write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
