"""Retrieval and extractive-answer latency over a question set, model loaded.

    python bench/ask_latency.py                      # the sample corpus, built-in questions
    python bench/ask_latency.py CORPUS.jsonl QUESTIONS.jsonl [--limit N]

Indexes the corpus into a temporary index, warms up, then times every
question: p50/p95 of retrieval and of the whole extractive answer.
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

from rag.ask.pipeline import Pipeline
from rag.evaluation.evaluate import percentile
from rag.indexing.indexer import sync
from rag.settings import get_settings

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_QUESTIONS = [
    "What did Li Qiang hope for?",
    "Which companies attended the Friday meeting?",
    "When did Zhang Guangjun meet Michael Hart?",
    "Which ministry does Zhang Guangjun belong to?",
    "Who is the president of AmCham China?",
    "How long did anti-virus controls block travel?",
    "What did Raimondo say about de-risking?",
    "Who won the 2022 World Cup?",
    "How many foreign students were in China during the pandemic?",
    "Who is Hu Heping?",
    "What did the two governments agree to launch?",
    "Why did Beijing break off dialogue in August 2022?",
    "Which smartphone business was crippled by the curbs?",
    "What does AmCham China publish about American companies?",
    "Who visited China in June?",
    "What did China's Ministry of Commerce urge the US to do?",
    "Where did He Lifeng meet Raimondo?",
    "What is de-risking?",
    "Who is the US climate envoy?",
    "What did the 20th National Congress emphasise?",
]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("corpus", nargs="?", type=Path)
    parser.add_argument("questions", nargs="?", type=Path)
    parser.add_argument("--limit", type=int, default=0)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "articles"
        if args.corpus:
            folder.mkdir()
            shutil.copy(args.corpus, folder / args.corpus.name)
            questions = [json.loads(line)["question"] for line in args.questions.open()]
        else:
            shutil.copytree(ROOT / "data" / "articles", folder)
            questions = SAMPLE_QUESTIONS
        if args.limit:
            questions = questions[: args.limit]
        settings = get_settings({"articles_dir": folder, "index_dir": Path(tmp) / "index"})
        summary = sync(settings)
        pipeline = Pipeline(settings)
        for question in questions[:3]:
            pipeline.ask(question)  # warm-up: model, caches, first queries
        retrieval, total = [], []
        for question in questions:
            began = time.perf_counter()
            answer = pipeline.ask(question)
            total.append((time.perf_counter() - began) * 1000)
            retrieval.append(
                sum(v for k, v in answer.timings.items() if k.startswith(("embed", "retrieve")))
            )
        pipeline.close()

    print(
        json.dumps(
            {
                "machine": f"{platform.machine()}, {os.cpu_count()} cores",
                "chunks": summary.chunks,
                "questions": len(questions),
                "retrieval_ms_p50": round(statistics.median(retrieval), 1),
                "retrieval_ms_p95": round(percentile(retrieval, 0.95), 1),
                "answer_ms_p50": round(statistics.median(total), 1),
                "answer_ms_p95": round(percentile(total, 0.95), 1),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
