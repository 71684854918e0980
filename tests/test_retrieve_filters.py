"""Filtered dense search: over-fetching for wide filters, Chroma's ``$in`` list for narrow ones."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from rag.ask.retrieve import DenseStep

pytestmark = pytest.mark.fast

ARTICLES = [f"a{i:03d}" for i in range(200)]
CHUNKS = [f"{a}:{n:04d}" for a in ARTICLES for n in range(5)]


class Store:
    """Exact nearest neighbours over random vectors, honouring an article ``$in`` filter."""

    def __init__(self) -> None:
        rng = np.random.default_rng(0)
        self.vectors = rng.normal(size=(len(CHUNKS), 16))
        self.calls: list[tuple[int, Any]] = []

    def query_ids(self, vector: np.ndarray, k: int, where: Any = None) -> list[tuple[str, float]]:
        self.calls.append((k, where))
        keep = set(where["article_id"]["$in"]) if where else None
        scores = self.vectors @ vector
        order = [i for i in np.argsort(-scores) if keep is None or CHUNKS[i][:4] in keep]
        return [(CHUNKS[i], float(scores[i])) for i in order[: min(k, len(CHUNKS))]]


def retriever() -> tuple[DenseStep, Store]:
    store = Store()
    catalog = SimpleNamespace(articles=dict.fromkeys(ARTICLES))
    return DenseStep(store, catalog), store  # type: ignore[arg-type]


def exact(store: Store, vector: np.ndarray, n: int, allowed: set[str]) -> list[tuple[str, float]]:
    return store.query_ids(vector, n, {"article_id": {"$in": sorted(allowed)}})


def test_a_wide_filter_over_fetches_and_matches_the_filtered_search():
    r, store = retriever()
    vector = np.random.default_rng(1).normal(size=16)
    allowed = set(ARTICLES[::2])  # half the articles
    got = r.search(vector, 40, allowed)
    assert store.calls == [(96, None)]  # one unfiltered search: 40 / 0.5 × 1.2
    assert got == exact(store, vector, 40, allowed)


def test_a_narrow_filter_goes_to_the_list():
    r, store = retriever()
    vector = np.random.default_rng(2).normal(size=16)
    allowed = set(ARTICLES[:5])  # 2.5 %
    assert r.search(vector, 20, allowed) == exact(store, vector, 20, allowed)
    assert [where is not None for _, where in store.calls] == [True, True]


def test_too_few_survivors_fall_back_to_the_list():
    r, store = retriever()
    # The allowed articles' chunks point away from the question: an over-fetch finds none.
    allowed = set(ARTICLES[:40])
    vector = np.ones(16)
    store.vectors[: 40 * 5] -= 10 * vector
    got = r.search(vector, 100, allowed)
    assert [where is not None for _, where in store.calls] == [False, True]
    assert got == exact(store, vector, 100, allowed)[:100]
