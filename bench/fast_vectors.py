"""Build a large benchmark index quickly: chunk vectors from another index's real vectors.

    python bench/fast_vectors.py CORPUS_DIR INDEX_DIR SEED_INDEX_DIR   # prints the summary as JSON

Embedding 100,000 chunks of 256 tokens with all-MiniLM-L6-v2 takes hours on
two shared CPU cores. The synthetic corpus (``bench/synth_corpus.py``) reuses
the sentences of about 600 real articles, with numbers changed and a few words
swapped, and a smaller corpus of the same seed is the start of a larger one.
So this embedder takes the real vectors of a smaller index built by ``rag
index`` (the seed index), gives each sentence (perturbations folded away) the
mean vector of the seed chunks that contain it, and gives a chunk the
normalised mean over its sentences; a chunk with no known sentence is
embedded by the real model. The vectors live in the real model's space —
questions embedded by the real model land among the right topics — but are
blurrier than real chunk vectors, so answer quality at this size is not a
measurement; latency, memory and disk are, because everything else is the
real ``rag index`` code path (chunking, Chroma writes, the manifest,
near-duplicate detection, BM25). Only the scale benchmark uses it, and it
reports the time spent here apart from the rest of the indexing.
"""

from __future__ import annotations

import json
import re
import sys
import time
from pathlib import Path

import numpy as np

from rag.indexing.embed import Embedder
from rag.indexing.indexer import sync
from rag.settings import Settings, get_settings
from rag.text.sentences import sentence_spans

_DIGITS = re.compile(r"\d+")
# The word swaps of bench/synth_corpus.py, folded back.
_FOLD = {
    "stated": "said",
    "states": "says",
    "large": "big",
    "fresh": "new",
    "key": "major",
    "additionally": "also",
    "but": "however",
    "unveiled": "announced",
    "firm": "company",
    "individuals": "people",
    "assist": "help",
    "reveal": "show",
}
_WORD = re.compile(r"[a-z]+")


def sentence_key(sentence: str) -> str:
    text = _DIGITS.sub("0", sentence.lower())
    return " ".join(_FOLD.get(w, w) for w in _WORD.findall(text) or text.split())


def seed_vectors(seed_index: Path) -> dict[str, np.ndarray]:
    """sentence key → mean vector of the seed index's chunks that contain the sentence."""
    from rag.catalog import open_manifest
    from rag.indexing.store import ChunkStore

    settings = get_settings({"index_dir": seed_index})
    sums: dict[str, np.ndarray] = {}
    with open_manifest(settings) as manifest, ChunkStore(settings) as store:
        if manifest is None:
            raise SystemExit(f"no index at {seed_index}; build it with `rag index` first")
        ids = manifest.chunk_ids()
        for first in range(0, len(ids), 2000):
            batch = ids[first : first + 2000]
            vectors = store.vectors(batch)
            for text, vector in zip(manifest.chunk_texts(batch), vectors, strict=True):
                passage = text.split("\n\n", 1)[-1]
                for a, b in sentence_spans(passage):
                    key = sentence_key(passage[a:b])
                    if key in sums:
                        sums[key] += vector
                    else:
                        sums[key] = vector.copy()
    return {k: v / (np.linalg.norm(v) or 1.0) for k, v in sums.items()}


class SentenceMeanEmbedder(Embedder):
    """An :class:`~rag.indexing.embed.Embedder` whose chunk vectors are means of known
    sentence vectors.

    Texts with a header (a chunk's embedded text) are reduced to their passage;
    a text none of whose sentences is known is embedded by the real model.
    """

    def __init__(self, settings: Settings, sentences: dict[str, np.ndarray]) -> None:
        super().__init__(settings)
        self.sentences = sentences
        self.seconds = 0.0
        self.model_embedded = 0

    def embed(
        self, texts: list[str], *, progress: bool = False, batch_size: int | None = None
    ) -> np.ndarray:
        began = time.perf_counter()
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        unknown: list[int] = []
        for row, text in enumerate(texts):
            passage = text.split("\n\n", 1)[-1]
            keys = (sentence_key(passage[a:b]) for a, b in sentence_spans(passage))
            known = [self.sentences[k] for k in keys if k in self.sentences]
            if known:
                mean = np.mean(known, axis=0)
                out[row] = mean / (np.linalg.norm(mean) or 1.0)
            else:
                unknown.append(row)
        if unknown:
            out[unknown] = super().embed([texts[i] for i in unknown], batch_size=batch_size)
            self.model_embedded += len(unknown)
        self.seconds += time.perf_counter() - began
        return out


def main() -> None:
    corpus, index, seed = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
    settings = get_settings({"articles_dir": corpus, "index_dir": index})
    began = time.perf_counter()
    sentences = seed_vectors(seed)
    seeding = time.perf_counter() - began
    embedder = SentenceMeanEmbedder(settings, sentences)
    summary = sync(settings, embedder=embedder)
    data = summary.to_dict() | {
        "vector_seconds": round(embedder.seconds, 1),
        "seed_seconds": round(seeding, 1),
        "seed_sentences": len(sentences),
        "chunks_embedded_by_model": embedder.model_embedded,
    }
    del data["added"]
    json.dump(data, sys.stdout)
    print()


if __name__ == "__main__":
    main()
