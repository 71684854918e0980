"""Ranking metrics over one question's retrieved list, shared by ``rag eval`` and the benchmark.

Relevance is given as ``found``: for each rank, the set of gold items (evidence
articles, or evidence facts) that the retrieved item carries. From it:
hit@k and recall@k for every k, MRR@10, MAP@10 and nDCG@10, where an item
earns credit only for gold items not already found higher up. MAP@10 follows
the MultiHop-RAG paper: the sum over ranks of (new gold items / rank), divided
by min(gold items, 10).

``multihop_paper`` reproduces MultiHop-RAG's own scoring (``retrieval_evaluate.py``
in the paper's repository) so that our figures sit next to its Table 5.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from collections.abc import Set as AbstractSet

KS = (1, 4, 5, 10)


def squash(text: str) -> str:
    """The paper's comparison form: spaces and newlines removed."""
    return text.replace(" ", "").replace("\n", "")


def facts_found(texts: Sequence[str], facts: Sequence[str]) -> list[set[int]]:
    """For each retrieved text, the indexes of the facts it contains (whitespace ignored)."""
    squashed = [squash(f) for f in facts]
    return [{i for i, f in enumerate(squashed) if f and f in squash(t)} for t in texts]


def ranking(
    found: Sequence[AbstractSet[Hashable]], wanted: int, prefix: str = ""
) -> dict[str, float]:
    """hit@k, recall@k, MRR@10, MAP@10 and nDCG@10 for ``wanted`` gold items."""
    if wanted <= 0:
        return {}
    out: dict[str, float] = {}
    for k in KS:
        seen: set[Hashable] = set().union(*found[:k])
        out[f"{prefix}hit@{k}"] = float(bool(seen))
        out[f"{prefix}recall@{k}"] = len(seen) / wanted
    first = next((i for i, f in enumerate(found[:10]) if f), None)
    out[f"{prefix}mrr@10"] = 0.0 if first is None else 1 / (first + 1)
    seen = set()
    precision_sum = dcg = 0.0
    for rank, items in enumerate(found[:10], start=1):
        new = items - seen
        seen |= items
        precision_sum += len(new) / rank
        dcg += len(new) / math.log2(rank + 1)
    ideal = sum(1 / math.log2(rank + 1) for rank in range(1, min(wanted, 10) + 1))
    out[f"{prefix}map@10"] = precision_sum / min(wanted, 10)
    out[f"{prefix}ndcg@10"] = min(1.0, dcg / ideal)
    return out


def multihop_paper(texts: Sequence[str], facts: Sequence[str]) -> dict[str, float]:
    """Hits@4, Hits@10, MRR@10 and MAP@10 exactly as MultiHop-RAG computes them."""
    gold = [squash(f) for f in facts]
    found: list[str] = []
    precision_sum = 0.0
    first: int | None = None
    for rank, text in enumerate(texts[:10], start=1):
        item = squash(text)
        if not any(g in item for g in gold):
            continue
        first = first or rank
        new = 0
        for g in gold:
            if g in item and g not in found:
                new += 1
                found.append(g)
        precision_sum += new / rank
    return {
        "Hits@4": float(first is not None and first <= 4),
        "Hits@10": float(first is not None),
        "MRR@10": 1 / first if first else 0.0,
        "MAP@10": precision_sum / min(len(gold), 10) if gold else 0.0,
    }
