"""Scale benchmark: indexing, disk, memory and query latency at about 1k, 10k and 100k chunks.

    python bench/scale.py [--sizes 1000,10000,100000] [--work /tmp/newsdesk-scale]
        [--phases raw,query,serve,incremental] [--fast-vectors-above 20000] [--rebuild]
        [--tag NAME] [--json]

For each size, under ``--work`` (never the repository):

1. the synthetic corpus (``bench/synth_corpus.py``, seed 6), generated once;
2. its index, built once by ``rag index --json`` in a subprocess: chunks/s,
   wall time, peak RSS (``os.wait4``) and size on disk, stored beside it in
   ``bench-build.json`` and reused by later runs (``--rebuild`` builds again).
   Above ``--fast-vectors-above`` chunks the index is built by
   ``bench/fast_vectors.py`` (the real indexing code with vectors derived
   from the next smaller index's real ones; embedding 100k chunks takes hours
   on two cores), and the figures say so;
3. ``raw``: the plain ``SentenceTransformer.encode`` rate on 512 of the
   corpus's chunk texts in this process, and its ratio to the build's rate;
4. ``query``: retrieval and extractive-answer p50/p95 over a fixed question
   set (20 about the sample articles, 60 MultiHop-RAG dev questions), in
   process with the model loaded, plain and with a source and date filter, and
   the median of each stage;
5. ``serve``: the peak RSS of ``rag serve`` after answering the questions over
   HTTP from 4 client threads;
6. ``incremental``: ``rag index`` after adding 10 new articles (chunks
   embedded, seconds), and after removing them again.

``RAG_EMBED_THREADS`` is passed on to the subprocesses; every other ``RAG_*``
variable is dropped. Results go to ``--work/results-SIZE[TAG].json``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import synth_corpus  # noqa: E402
from ask_latency import SAMPLE_QUESTIONS  # noqa: E402

from rag.ask.pipeline import Pipeline  # noqa: E402
from rag.ask.results import Filters  # noqa: E402
from rag.evaluation.evaluate import percentile  # noqa: E402
from rag.indexing.chunk import Chunker  # noqa: E402
from rag.indexing.embed import Embedder  # noqa: E402
from rag.indexing.loaders import read_file  # noqa: E402
from rag.settings import get_settings  # noqa: E402

RAG = Path(sys.executable).with_name("rag")
MULTIHOP_QUESTIONS = synth_corpus.SHARED / "bench" / "multihop" / "dev.jsonl"
RAW_SAMPLE = 512


def questions(limit: int = 60) -> list[str]:
    found = list(SAMPLE_QUESTIONS)
    if MULTIHOP_QUESTIONS.is_file():
        with MULTIHOP_QUESTIONS.open(encoding="utf-8") as lines:
            for line in lines:
                if len(found) >= len(SAMPLE_QUESTIONS) + limit:
                    break
                found.append(json.loads(line)["question"])
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# Settings the benchmarks pass on to `rag index` / `rag serve`; every other RAG_* is dropped.
PASSED_ON = ("RAG_EMBED_THREADS",)


def env_for(corpus: Path, index: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_") or k in PASSED_ON}
    return env | {"RAG_ARTICLES_DIR": str(corpus), "RAG_INDEX_DIR": str(index)}


def run_measured(command: list[str], env: dict[str, str]) -> tuple[dict[str, Any], float, float]:
    """Run ``command``; its JSON output, wall seconds and peak RSS in MB (from ``wait4``)."""
    began = time.perf_counter()
    proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out_buf: list[bytes] = []
    err_buf: list[bytes] = []
    readers = [
        threading.Thread(target=lambda: out_buf.append(proc.stdout.read())),  # type: ignore[union-attr]
        threading.Thread(target=lambda: err_buf.append(proc.stderr.read())),  # type: ignore[union-attr]
    ]
    for t in readers:
        t.start()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    for t in readers:
        t.join()
    wall = time.perf_counter() - began
    if proc.returncode != 0:
        raise SystemExit(
            f"{' '.join(command)} failed ({proc.returncode}): {b''.join(err_buf).decode()[-2000:]}"
        )
    return json.loads(b"".join(out_buf).decode()), wall, usage.ru_maxrss / 1024


def disk_mb(folder: Path) -> float:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file()) / 1048576


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def raw_encode_rate(corpus: Path, embedder: Embedder) -> float:
    """Chunks/s of plain ``encode`` on the first RAW_SAMPLE chunk texts of the corpus."""
    settings = embedder.settings
    chunker = Chunker(settings.chunk_tokens, settings.chunk_overlap)
    texts: list[str] = []
    for shard in sorted(corpus.glob("part-*.jsonl")):
        for article in read_file(shard, shard.name, settings.max_file_bytes).articles:
            texts += [c.embed_text for c in chunker.chunk(article)]
            if len(texts) >= RAW_SAMPLE:
                break
        if len(texts) >= RAW_SAMPLE:
            break
    texts = texts[:RAW_SAMPLE]
    embedder.embed(texts[:32])  # warm-up
    began = time.perf_counter()
    embedder.embed(texts)
    return len(texts) / (time.perf_counter() - began)


def build(size: int, corpus: Path, index: Path, fast_above: int) -> dict[str, Any]:
    record = index / "bench-build.json"
    if record.is_file():
        data: dict[str, Any] = json.loads(record.read_text())
        data["reused"] = True
        return data
    fast = size > fast_above
    command = [str(RAG), "index", "--json"]
    if fast:
        seed = seed_index(index.parent, size)
        command = [sys.executable, str(BENCH / "fast_vectors.py"), str(corpus), str(index), seed]
    began_load = load()
    summary, wall, rss = run_measured(command, env_for(corpus, index))
    data = {
        "builder": "fast_vectors" if fast else "rag index",
        "articles": summary["articles"],
        "chunks": summary["chunks"],
        "chunks_embedded": summary["chunks_embedded"],
        "duplicate_clusters": summary["duplicate_clusters"],
        "index_seconds": summary["seconds"],
        "wall_seconds": round(wall, 1),
        "peak_rss_mb": round(rss),
        "chunks_per_s": round(summary["chunks_embedded"] / summary["seconds"], 1),
        "load_before": began_load,
        "load_after": load(),
    }
    if fast:
        data["seed_index"] = seed
        for key in ("vector_seconds", "seed_seconds", "seed_sentences", "chunks_embedded_by_model"):
            data[key] = summary[key]
        data["seconds_without_vectors"] = round(summary["seconds"] - summary["vector_seconds"], 1)
    data["disk_mb"] = round(disk_mb(index), 1)
    record.write_text(json.dumps(data, indent=2))
    data["reused"] = False
    return data


def seed_index(work: Path, size: int) -> str:
    """The largest smaller index under ``work``, whose real vectors fast_vectors.py reuses."""
    built = sorted(
        (int(p.name.split("-")[1]), p) for p in work.glob("index-*") if p.name[6:].isdigit()
    )
    smaller = [p for n, p in built if n < size]
    if not smaller:
        raise SystemExit(
            f"a {size}-chunk index is built from the real vectors of a smaller one; "
            "build that first: python bench/scale.py --sizes 10000"
        )
    return str(smaller[-1])


def wide_filter() -> Filters:
    """A date filter that keeps about half the corpus (one of its two years)."""
    return Filters([], date(2023, 1, 1), date(2023, 12, 31), [])


def filters_for(pipeline: Pipeline) -> Filters:
    """A source and date filter that keeps a slice of the corpus: the busiest outlet, one year."""
    outlets = Counter(a.source for a in pipeline.catalog.articles.values() if a.source)
    year = wide_filter()
    return Filters([outlets.most_common(1)[0][0]], year.since, year.until, [])


def query_latency(settings: Any, qs: list[str]) -> dict[str, Any]:
    pipeline = Pipeline(settings)
    try:
        for q in qs[:3]:
            pipeline.ask(q)  # warm-up: model, catalog, BM25, Chroma caches
        out: dict[str, Any] = {"load_before": load()}
        cases = (("plain", None), ("filtered", filters_for(pipeline)), ("year", wide_filter()))
        for label, filters in cases:
            retrieval: list[float] = []
            total: list[float] = []
            stages: dict[str, list[float]] = {}
            for q in qs:
                began = time.perf_counter()
                answer = pipeline.ask(q, filters=filters)
                total.append((time.perf_counter() - began) * 1000)
                retrieval.append(
                    sum(v for k, v in answer.timings.items() if k.startswith(("embed", "retrieve")))
                )
                for k, v in answer.timings.items():
                    stages.setdefault(k, []).append(v)
            out[label] = {
                "questions": len(qs),
                "retrieval_p50": round(statistics.median(retrieval), 1),
                "retrieval_p95": round(percentile(retrieval, 0.95), 1),
                "answer_p50": round(statistics.median(total), 1),
                "answer_p95": round(percentile(total, 0.95), 1),
                "stage_p50": {k: round(statistics.median(v), 1) for k, v in stages.items()},
            }
        out["load_after"] = load()
        return out
    finally:
        pipeline.close()


def serve_rss(corpus: Path, index: Path, qs: list[str], clients: int = 4) -> dict[str, Any]:
    import httpx

    port = free_port()
    proc = subprocess.Popen(
        [str(RAG), "serve", "--port", str(port)],
        env=env_for(corpus, index),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    errors: list[str] = []
    try:
        wait_healthy(base, proc)
        work = list(qs)
        lock = threading.Lock()

        def client() -> None:
            with httpx.Client(base_url=base, timeout=120) as http:
                while True:
                    with lock:
                        if not work:
                            return
                        q = work.pop()
                    try:
                        response = http.post("/ask", json={"question": q})
                        if response.status_code != 200:
                            errors.append(f"{response.status_code} {response.text[:200]}")
                    except httpx.HTTPError as exc:
                        errors.append(f"{type(exc).__name__}: {exc}")

        threads = [threading.Thread(target=client) for _ in range(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return {
            "peak_rss_mb": round(peak_rss_mb(proc.pid)),
            "requests": len(qs),
            "errors": len(errors),
            "error_samples": errors[:3],
        }
    finally:
        proc.terminate()
        proc.wait(30)


def wait_healthy(base: str, proc: subprocess.Popen[bytes], timeout: float = 120) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"rag serve exited with {proc.returncode}; run it by hand to see why")
        try:
            if httpx.get(base + "/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise SystemExit(f"rag serve did not answer {base}/health within {timeout:.0f} s")


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def incremental(corpus: Path, index: Path, seed: int = 2024) -> dict[str, Any]:
    """``rag index`` after adding 10 articles, then after removing them again."""
    sources = synth_corpus.load_sources(synth_corpus.DEFAULT_SEEDS, synth_corpus.DEFAULT_MULTIHOP)
    generator = iter(synth_corpus.Generator(sources, seed, dup_share=0.0))
    added = corpus / "zz-added.jsonl"
    records = [next(generator) | {"id": f"add-{i}"} for i in range(10)]
    added.write_text("\n".join(json.dumps(r) for r in records) + "\n", encoding="utf-8")
    env = env_for(corpus, index)
    try:
        summary, wall, rss = run_measured([str(RAG), "index", "--json"], env)
    finally:
        added.unlink()
    removed, _, _ = run_measured([str(RAG), "index", "--json"], env)
    return {
        "added_articles": len(summary["added"]),
        "chunks_embedded": summary["chunks_embedded"],
        "index_seconds": summary["seconds"],
        "wall_seconds": round(wall, 1),
        "peak_rss_mb": round(rss),
        "removed_chunks": removed["chunks_removed"],
        "remove_seconds": removed["seconds"],
        "add_stages": summary.get("stages", {}),
        "remove_stages": removed.get("stages", {}),
        "load": load(),
    }


def run_size(size: int, args: argparse.Namespace, qs: list[str]) -> dict[str, Any]:
    corpus = args.work / f"corpus-{size}"
    index = args.work / f"index-{size}"
    info_file = corpus / synth_corpus.INFO
    if not info_file.is_file() or json.loads(info_file.read_text())["target_chunks"] != size:
        synth_corpus.generate(corpus, size)
    if args.rebuild and index.exists():
        shutil.rmtree(index)
    result: dict[str, Any] = {"size": size, "corpus": json.loads(info_file.read_text())}
    print(f"[{size}] building (load {load()}) …", file=sys.stderr, flush=True)
    result["build"] = build(size, corpus, index, args.fast_vectors_above)
    b = result["build"]
    settings = get_settings({"articles_dir": corpus, "index_dir": index})
    if "raw" in args.phases:
        embedder = Embedder(settings)
        result["raw_encode_chunks_per_s"] = round(raw_encode_rate(corpus, embedder), 1)
        result["raw_encode_load"] = load()
        if b["builder"] == "rag index":
            ratio = b["chunks_per_s"] / result["raw_encode_chunks_per_s"]
            result["index_to_raw_ratio"] = round(ratio, 3)
        else:
            # A projection, not a measurement: the measured time of everything but the
            # vectors, plus real encoding at the raw rate just measured.
            projected = (
                b["seconds_without_vectors"] + b["chunks"] / result["raw_encode_chunks_per_s"]
            )
            result["projected_index_seconds"] = round(projected)
    if "query" in args.phases:
        print(f"[{size}] querying (load {load()}) …", file=sys.stderr, flush=True)
        result["query"] = query_latency(settings, qs)
    if "serve" in args.phases:
        print(f"[{size}] serving (load {load()}) …", file=sys.stderr, flush=True)
        result["serve"] = serve_rss(corpus, index, qs)
    if "incremental" in args.phases:
        print(f"[{size}] incremental (load {load()}) …", file=sys.stderr, flush=True)
        result["incremental"] = incremental(corpus, index)
    return result


def table(results: list[dict[str, Any]]) -> str:
    rows = [
        ("articles / chunks", lambda r: f"{r['build']['articles']:,} / {r['build']['chunks']:,}"),
        ("near-duplicate clusters", lambda r: f"{r['build']['duplicate_clusters']:,}"),
        ("built by", lambda r: r["build"]["builder"]),
        (
            "index chunks/s (ratio to raw encode)",
            lambda r: (
                f"{r['build']['chunks_per_s']} ({r['index_to_raw_ratio']})"
                if "index_to_raw_ratio" in r
                else f"— (projected {r['projected_index_seconds']:,} s)"
            ),
        ),
        ("raw encode chunks/s", lambda r: f"{r['raw_encode_chunks_per_s']}"),
        ("index time", lambda r: f"{r['build']['index_seconds']:,.0f} s"),
        ("index peak RSS", lambda r: f"{r['build']['peak_rss_mb']:,} MB"),
        ("index on disk", lambda r: f"{r['build']['disk_mb']:,} MB"),
        ("serve peak RSS", lambda r: f"{r['serve']['peak_rss_mb']:,} MB"),
    ]
    for label in ("plain", "filtered", "year"):
        rows += [
            (
                f"retrieval p50 / p95 ({label})",
                lambda r, x=label: (
                    f"{r['query'][x]['retrieval_p50']} / {r['query'][x]['retrieval_p95']} ms"
                ),
            ),
            (
                f"answer p50 / p95 ({label})",
                lambda r, x=label: (
                    f"{r['query'][x]['answer_p50']} / {r['query'][x]['answer_p95']} ms"
                ),
            ),
        ]
    rows.append(
        (
            "stage p50: dense (filtered / year)",
            lambda r: (
                " / ".join(
                    str(r["query"][x]["stage_p50"].get("retrieve_dense", 0.0))
                    for x in ("filtered", "year")
                )
                + " ms"
            ),
        )
    )
    for stage in ("embed", "analyse", "dense", "lexical", "fuse", "collapse", "answer"):
        key = stage if stage in ("embed", "answer") else f"retrieve_{stage}"
        rows.append(
            (
                f"stage p50: {stage} (plain)",
                lambda r, k=key: f"{r['query']['plain']['stage_p50'].get(k, 0.0)} ms",
            )
        )
    rows += [
        (
            "load average: build → queries",
            lambda r: f"{r['build']['load_before']} → {r['query']['load_before']}",
        ),
        (
            "add 10 articles: chunks embedded, time",
            lambda r: (
                f"{r['incremental']['chunks_embedded']}, {r['incremental']['index_seconds']} s"
                if "incremental" in r
                else "—"
            ),
        ),
        (
            "remove them again",
            lambda r: f"{r['incremental']['remove_seconds']} s" if "incremental" in r else "—",
        ),
    ]
    head = "| figure | " + " | ".join(f"{r['size']:,}" for r in results) + " |"
    lines = [head, "|" + " --- |" * (len(results) + 1)]
    for label, cell in rows:
        lines.append(f"| {label} | " + " | ".join(_cell(cell, r) for r in results) + " |")
    return "\n".join(lines)


def _cell(cell: Any, result: dict[str, Any]) -> str:
    try:
        return str(cell(result))
    except KeyError:  # a phase that was not run
        return "—"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--work", type=Path, default=Path("/tmp/newsdesk-scale"))
    parser.add_argument("--fast-vectors-above", type=int, default=20000)
    parser.add_argument("--questions", type=int, default=60, help="MultiHop-RAG questions")
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument(
        "--phases",
        default="raw,query,serve,incremental",
        help="what to measure after the build (comma-separated): raw,query,serve,incremental",
    )
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--tag", default="", help="suffix for the results-SIZE.json files")
    args = parser.parse_args()
    args.phases = set(args.phases.split(",")) - {""}
    qs = questions(args.questions)
    results = []
    for size in (int(s) for s in args.sizes.split(",")):
        result = run_size(size, args, qs)
        out = args.work / f"results-{size}{args.tag}.json"
        if out.is_file():  # phases not run this time keep their last figures
            result = json.loads(out.read_text()) | result
        results.append(result)
        out.write_text(json.dumps(result, indent=2))
    print(json.dumps(results, indent=2) if args.json else table(results))
    print(f"results: {args.work}/results-SIZE.json", file=sys.stderr)


if __name__ == "__main__":
    main()
