"""Index a JSONL corpus and compare pipeline throughput with raw model encoding.

    python bench/index_throughput.py [CORPUS.jsonl] [--limit N]

Default corpus: ../shared/bench/multihop/corpus.jsonl (609 MultiHop-RAG
articles; read in place, never copied into the repository). Prints, for one
process: chunks, wall time and chunks/s of `rag index` (model already loaded),
peak RSS, the raw ``SentenceTransformer.encode`` rate on the very same chunk
texts with the same batch size, their ratio, and the time of a second run with
nothing changed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path

from rag.indexing.embed import Embedder, chunker
from rag.indexing.indexer import sync
from rag.indexing.loaders import read_file
from rag.settings import get_settings

DEFAULT = Path(__file__).resolve().parents[1].parent / "shared/bench/multihop/corpus.jsonl"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("corpus", nargs="?", type=Path, default=DEFAULT)
    parser.add_argument("--limit", type=int, default=0, help="use only the first N articles")
    args = parser.parse_args()
    if not args.corpus.is_file():
        sys.exit(f"corpus {args.corpus} not found; pass the path to a .jsonl corpus")

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "articles"
        folder.mkdir()
        lines = args.corpus.read_text(encoding="utf-8").splitlines()
        if args.limit:
            lines = lines[: args.limit]
        (folder / "corpus.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
        settings = get_settings({"articles_dir": folder, "index_dir": Path(tmp) / "index"})

        embedder = Embedder(settings)
        began = time.perf_counter()
        embedder.load()  # outside the timed region
        load = time.perf_counter() - began

        began = time.perf_counter()
        summary = sync(settings, embedder=embedder)
        pipeline = time.perf_counter() - began
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

        began = time.perf_counter()
        again = sync(settings, embedder=embedder)
        noop = time.perf_counter() - began

        articles = read_file(
            folder / "corpus.jsonl", "corpus.jsonl", settings.max_file_bytes
        ).articles
        split = chunker(settings)
        texts = [c.embed_text for a in articles for c in split.chunk(a)]
        began = time.perf_counter()
        embedder.embed(texts)
        raw = time.perf_counter() - began

    n = summary.chunks_embedded
    figures = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "articles": summary.articles,
        "chunks": n,
        "model_load_s": round(load, 2),
        "pipeline_s": round(pipeline, 1),
        "pipeline_chunks_per_s": round(n / pipeline, 1),
        "raw_encode_s": round(raw, 1),
        "raw_chunks_per_s": round(len(texts) / raw, 1),
        "ratio": round((n / pipeline) / (len(texts) / raw), 3),
        "peak_rss_mb": round(peak_mb),
        "noop_rerun_s": round(noop, 3),
        "noop_embedded": again.chunks_embedded,
        "duplicate_clusters": summary.duplicate_clusters,
    }
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
