"""The extractive engine's "also reported by" quotes, with a stub catalog and embedder."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from rag.ask.extractive import SENTENCE_BATCH, Candidate, ExtractiveEngine
from rag.ask.results import Passage
from rag.settings import Settings

pytestmark = pytest.mark.fast

QUOTE = "Raimondo said the United States wants to de-risk, not decouple, from China."


def passage(cid: str, text: str) -> Passage:
    article = cid.split(":")[0]
    return Passage(
        cid, article, text, 0, len(text), article, None, None, None, f"{article}.txt", "c"
    )


class Catalog:
    def __init__(self, passages: dict[str, Passage]) -> None:
        self.passages = passages

    def passage(self, cid: str, score: float) -> Passage:
        return self.passages[cid]


class Embedder:
    """Unit vectors: the quote and its reworded copy point the same way, the rest elsewhere."""

    def __init__(self, same: set[str]) -> None:
        self.same = same
        self.embedded: list[str] = []
        self.batches: list[int | None] = []

    def embed(self, texts: list[str], **options: Any) -> np.ndarray:
        self.embedded += texts
        self.batches.append(options.get("batch_size"))
        return np.array([[1.0, 0.0] if t in self.same else [0.0, 1.0] for t in texts])


def test_copies_are_quoted_and_only_reworded_ones_are_embedded():
    reworded = "Raimondo stated America seeks to lower risk, not split away, from Beijing."
    copies = {
        "same:0": passage("same:0", f"Talks went on. {QUOTE} Nothing else was agreed today."),
        "spun:0": passage("spun:0", f"Talks continued there. {reworded} More later today."),
        "other:0": passage("other:0", "The weather in Beijing was hot and humid all week long."),
        "unlike:0": passage("unlike:0", "Raimondo visited a factory in Shanghai on the last day."),
    }
    original = passage("orig:0", QUOTE)
    original.also_reported_by = [{"chunk_id": cid, "path": cid} for cid in copies]
    embedder = Embedder({QUOTE, reworded})
    engine = ExtractiveEngine(Settings(), embedder, Catalog(copies))  # type: ignore[arg-type]

    [quoted] = engine._copies([Candidate(original, 0, len(QUOTE), QUOTE)])

    assert [(r["chunk_id"], r["quote"]) for r in quoted] == [
        ("same:0", QUOTE),
        ("spun:0", reworded),
    ]
    # The same wording needs no model; a sentence sharing almost nothing is not embedded.
    assert QUOTE not in embedder.embedded[1:]
    assert "The weather in Beijing was hot and humid all week long." not in embedder.embedded
    assert reworded in embedder.embedded
    # Small batches: each is padded to its longest sentence.
    assert embedder.batches == [SENTENCE_BATCH]
