"""Ask-side benchmark on MultiHop-RAG: latency and retrieval hits, with llama-index as the peer.

    python bench/ask_multihop.py [--corpus C.jsonl] [--questions Q.jsonl] [--limit N] [--index DIR]

Indexes the corpus (or reuses ``--index DIR`` if it already holds it), loads
the model, then for each non-null question times (a) our retrieval (embed +
dense + BM25 + fusion + collapse, top 10), (b) our full extractive answer
(default top-k), and (c) llama-index's default path — a ``VectorStoreIndex``
over the same Chroma collection with the same model, ``as_retriever(top 10)``.
Hits@4/@10 and MRR@10 use the paper's rule: a passage is relevant when it
contains a gold evidence fact (whitespace removed). The llama-index peer needs
the ``bench`` extra (``pip install -e ".[bench]"``; requirements.lock has it).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from rag.embed import model_path
from rag.evaluate import percentile
from rag.indexer import sync
from rag.metrics import multihop_paper
from rag.pipeline import Pipeline
from rag.settings import get_settings

SHARED = Path(__file__).resolve().parents[1].parent / "shared/bench/multihop"


def hits(texts: list[str], facts: list[str]) -> tuple[float, float, float]:
    m = multihop_paper(texts, facts)
    return m["Hits@4"], m["Hits@10"], m["MRR@10"]


def pct(values: list[float], q: float) -> float:
    return round(percentile(values, q), 1)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--corpus", type=Path, default=SHARED / "corpus.jsonl")
    parser.add_argument("--questions", type=Path, default=SHARED / "dev.jsonl")
    parser.add_argument("--limit", type=int, default=200)
    parser.add_argument("--index", type=Path, help="index folder to build or reuse")
    args = parser.parse_args()

    tmp = tempfile.mkdtemp()
    index_dir = args.index or Path(tmp) / "index"
    folder = Path(tmp) / "articles"
    folder.mkdir()
    shutil.copy(args.corpus, folder / "corpus.jsonl")
    settings = get_settings({"articles_dir": folder, "index_dir": index_dir})
    began = time.perf_counter()
    summary = sync(settings)
    index_s = time.perf_counter() - began

    questions = [json.loads(line) for line in args.questions.open()]
    questions = [q for q in questions if q["question_type"] != "null_query"][: args.limit]
    pipeline = Pipeline(settings)
    for q in questions[:3]:
        pipeline.ask(q["question"])

    ours_retrieval, ours_answer, ours_hits = [], [], []
    for q in questions:
        facts = [e["fact"] for e in q["evidence"]]
        began = time.perf_counter()
        vector = pipeline.embedder.embed([q["question"]])[0]
        passages = pipeline.retriever.retrieve(q["question"], vector, 10).passages
        ours_retrieval.append((time.perf_counter() - began) * 1000)
        ours_hits.append(hits([p.text for p in passages], facts))
        began = time.perf_counter()
        pipeline.ask(q["question"])
        ours_answer.append((time.perf_counter() - began) * 1000)

    from llama_index.core import VectorStoreIndex
    from llama_index.embeddings.huggingface import HuggingFaceEmbedding
    from llama_index.vector_stores.chroma import ChromaVectorStore

    store = ChromaVectorStore(chroma_collection=pipeline.store.collection)
    embed = HuggingFaceEmbedding(model_name=str(model_path(settings)), device="cpu")
    retriever = VectorStoreIndex.from_vector_store(store, embed_model=embed).as_retriever(
        similarity_top_k=10
    )
    for q in questions[:3]:
        retriever.retrieve(q["question"])
    peer_retrieval, peer_hits = [], []
    for q in questions:
        facts = [e["fact"] for e in q["evidence"]]
        began = time.perf_counter()
        nodes = retriever.retrieve(q["question"])
        peer_retrieval.append((time.perf_counter() - began) * 1000)
        peer_hits.append(hits([n.node.get_content() for n in nodes], facts))
    pipeline.close()
    if not args.index:
        shutil.rmtree(tmp, ignore_errors=True)

    def mean(rows: list[tuple[float, float, float]], i: int) -> float:
        return round(statistics.mean(r[i] for r in rows), 4)

    print(
        json.dumps(
            {
                "machine": f"{platform.machine()}, {os.cpu_count()} cores",
                "articles": summary.articles,
                "chunks": summary.chunks,
                "index_s": round(index_s, 1),
                "questions": len(questions),
                "ours": {
                    "retrieval_ms_p50": pct(ours_retrieval, 0.5),
                    "retrieval_ms_p95": pct(ours_retrieval, 0.95),
                    "answer_ms_p50": pct(ours_answer, 0.5),
                    "answer_ms_p95": pct(ours_answer, 0.95),
                    "hits@4": mean(ours_hits, 0),
                    "hits@10": mean(ours_hits, 1),
                    "mrr@10": mean(ours_hits, 2),
                },
                "llama_index_vectorstoreindex": {
                    "retrieval_ms_p50": pct(peer_retrieval, 0.5),
                    "retrieval_ms_p95": pct(peer_retrieval, 0.95),
                    "hits@4": mean(peer_hits, 0),
                    "hits@10": mean(peer_hits, 1),
                    "mrr@10": mean(peer_hits, 2),
                },
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
