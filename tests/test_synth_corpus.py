"""The scale benchmark's corpus generator: same seed, same bytes; the shape it promises."""

from __future__ import annotations

import importlib.util
import itertools
import json
import sys
from datetime import datetime
from pathlib import Path

import pytest

from rag.indexing.loaders import iter_article_files, read_file

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def synth():
    spec = importlib.util.spec_from_file_location("synth_corpus", ROOT / "bench/synth_corpus.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["synth_corpus"] = module
    spec.loader.exec_module(module)
    return module


def make(synth, folder: Path, seed: int = 6, chunks: int = 120) -> dict:
    # Only the sample articles: the test must not need the shared MultiHop-RAG corpus.
    return synth.generate(
        folder,
        chunks,
        seed=seed,
        dup_share=0.2,
        seeds=ROOT / "data" / "articles",
        multihop=folder / "absent.jsonl",
    )


def files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_same_seed_same_bytes_other_seed_other_corpus(synth, tmp_path: Path) -> None:
    first = make(synth, tmp_path / "a")
    second = make(synth, tmp_path / "b")
    other = make(synth, tmp_path / "c", seed=7)
    assert files(tmp_path / "a") == files(tmp_path / "b")
    assert first == second
    assert files(tmp_path / "a") != files(tmp_path / "c")
    assert other["chunks"] >= 120


def test_shape(synth, tmp_path: Path) -> None:
    info = make(synth, tmp_path)
    assert info["chunks"] >= 120
    assert info["source_articles"] == 5
    records = [
        json.loads(line)
        for shard in sorted(tmp_path.glob("part-*.jsonl"))
        for line in shard.read_text().splitlines()
    ]
    assert len(records) == info["articles"]
    for r in records:
        assert r["title"] and r["body"] and r["source"] and r["url"].startswith("https://")
        datetime.fromisoformat(r["published_at"])
    # Varied text and metadata: no two bodies alike, several outlets, titles and days.
    assert len({r["body"] for r in records}) == len(records)
    assert len({r["source"] for r in records}) >= 5
    assert len({r["title"] for r in records}) >= 5
    assert len({r["published_at"][:10] for r in records}) >= len(records) // 2
    # Near-duplicates: copies of stories in the corpus, about the share asked for.
    copies = [r for r in records if "copy_of" in r]
    ids = {r["id"] for r in records}
    assert 0 < len(copies) < len(records) / 2
    assert all(c["copy_of"] in ids for c in copies)
    # What rag index reads: every shard parses into articles, the info file is hidden.
    read = [read_file(f, rel, 10 * 2**20) for f, rel in iter_article_files(tmp_path)]
    assert sum(len(r.articles) for r in read) == len(records)
    assert not any(r.skipped for r in read)


def test_stories_follow_the_sources_not_the_categories(synth) -> None:
    """A category with few source articles gets few stories, and stories share few
    sentences: at 100k chunks each source is drawn about 30 times, and stories built
    from runs of one source's paragraphs clustered as near-duplicates by the thousand."""
    sentences = [
        f"Story {c} sentence {i} says the {c} thing number {i} here."
        for c in "ab"
        for i in range(400)
    ]
    sources = [synth.Source("Tiny", "Wire", "tiny", [" ".join(sentences[:4])])] + [
        synth.Source(f"Big {i}", "Wire", "big", [" ".join(sentences[i * 4 : i * 4 + 4])])
        for i in range(1, 200)
    ]
    stories = [r for r, _ in zip(synth.Generator(sources, 6, 0.0), range(2000), strict=False)]
    assert sum(r["category"] == "tiny" for r in stories) < 40  # 1 in 200 sources, not 1 in 2
    big = [
        set(synth._SENTENCE_END.split(r["body"].replace("\n\n", " ")))
        for r in stories
        if r["category"] == "big"
    ][:200]
    shared = [len(a & b) / min(len(a), len(b)) for a, b in itertools.pairwise(big)]
    assert max(shared) < 0.5
