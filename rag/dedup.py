"""Near-duplicate clusters: wire copies, spun copies and padded rewrites of one story.

Two articles are near-duplicates when

1. their article vectors (mean of chunk embeddings) have cosine similarity of
   at least ``dedup_candidate_cosine`` — a cheap filter that finds candidates
   with one matrix product,
2. the *containment* of their content-word sets — shared words over the
   smaller article's words — reaches ``dedup_threshold``, and
3. the passages line up: each chunk of the article with fewer chunks has a
   close counterpart in the other (mean best cosine ≥ ``dedup_min_alignment``).
   This separates rewrites of one story from roundups and weekly templates
   that share vocabulary but not content (deals lists, fantasy rankings).

Containment, not Jaccard, because a padded rewrite triples an article's length:
its union with the original grows, so Jaccard falls, while nearly every word of
the original is still in it. On the sample corpus the AP report and its copies
score 0.68–0.78, the two MIIT articles 0.33 (see README, "Near-duplicates").

Clusters are the connected components of the near-duplicate graph; the
canonical article is the one most similar to the rest (ties: earliest date,
then id).
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from scipy import sparse

STOPWORDS = frozenset(
    """a about above after again against all also am an and any are as at be because been
    before being below between both but by can could did do does doing down during each
    few for from further had has have having he her here hers herself him himself his how
    i if in into is it its itself just me more most my myself no nor not now of off on once
    only or other our ours ourselves out over own said same say says she should so some such
    than that the their theirs them themselves then there these they this those through to
    too under until up very was we were what when where which while who whom why will with
    would you your yours yourself yourselves told tell one two new""".split()
)
MIN_WORDS = 20
_WORD = re.compile(r"[a-z0-9]+")


def content_words(text: str) -> np.ndarray:
    """Sorted unique 64-bit hashes of the article's content words."""
    words = {w for w in _WORD.findall(text.lower()) if len(w) > 2 and w not in STOPWORDS}
    hashes = [
        int.from_bytes(hashlib.blake2b(w.encode(), digest_size=8).digest(), "little") for w in words
    ]
    unique: np.ndarray = np.unique(np.asarray(hashes, dtype=np.uint64))
    return unique


def article_vector(chunk_vectors: np.ndarray) -> np.ndarray:
    mean: np.ndarray = chunk_vectors.mean(axis=0).astype(np.float32)
    norm = float(np.linalg.norm(mean))
    return mean / norm if norm else mean


def containment(a: np.ndarray, b: np.ndarray) -> float:
    """Shared words over the smaller article's words: the pairwise definition that
    :func:`_candidates` computes for many pairs at once (the tests compare the two)."""
    smaller = min(len(a), len(b))
    if smaller < MIN_WORDS:
        return 0.0
    return len(np.intersect1d(a, b, assume_unique=True)) / smaller


def alignment(a: np.ndarray, b: np.ndarray) -> float:
    """Mean, over the chunks of the article with fewer chunks, of the best cosine in the other."""
    if len(a) > len(b):
        a, b = b, a
    return float((a @ b.T).max(axis=1).mean())


# Rows of the article-vector similarity matrix computed at once: a full rebuild of
# 20,000 articles would otherwise hold a 20,000 × 20,000 matrix (1.6 GB).
BLOCK_ROWS = 512


# New articles compared by binary search in each one's sorted words rather than by
# a sparse product: adding a few articles then needs no scipy (a third of a second
# to import) and no incidence matrix of the whole index.
FEW_ROWS = 8


def _word_matrix(words: Sequence[np.ndarray]) -> sparse.csr_matrix:
    """Articles × words incidence (1 where the article has the word)."""
    from scipy import sparse  # a third of a second, paid only when many articles are compared

    lengths = np.fromiter((len(w) for w in words), np.int64, count=len(words))
    flat = np.concatenate(words) if len(words) else np.zeros(0, np.uint64)
    _, columns = np.unique(flat, return_inverse=True)
    pointers = np.concatenate([[0], np.cumsum(lengths)])
    shape = (len(words), int(columns.max()) + 1 if len(columns) else 0)
    return sparse.csr_matrix((np.ones(len(flat), np.float32), columns, pointers), shape=shape)


def _shared_counts(
    rows: list[int], words: Sequence[np.ndarray]
) -> Iterator[tuple[list[int], np.ndarray]]:
    """(block, shared) for blocks of ``rows``: ``shared[r, j]`` is the number of words
    article ``block[r]`` has in common with article ``j``. Exact integer counts either
    way, so both ways give the same containment."""
    if len(rows) <= FEW_ROWS:
        lengths = np.fromiter((len(w) for w in words), np.int64, count=len(words))
        flat = np.concatenate(words) if len(words) else np.zeros(0, np.uint64)
        owner = np.repeat(np.arange(len(words)), lengths)
        shared = np.zeros((len(rows), len(words)))
        for r, row in enumerate(rows):
            own = np.unique(words[row])  # sorted, as searchsorted needs
            if not len(own):
                continue
            at = np.minimum(np.searchsorted(own, flat), len(own) - 1)
            shared[r] = np.bincount(owner[own[at] == flat], minlength=len(words))
        yield rows, shared
        return
    incidence = _word_matrix(words)
    by_word = incidence.T.tocsr()
    for first in range(0, len(rows), BLOCK_ROWS):
        block = rows[first : first + BLOCK_ROWS]
        yield block, (incidence[block] @ by_word).toarray()


def _candidates(
    rows: list[int],
    vectors: np.ndarray,
    words: Sequence[np.ndarray],
    min_cosine: float,
    threshold: float,
) -> Iterator[tuple[int, int, float]]:
    """(row, other, containment) for each of ``rows`` and every other article that
    passes both cheap tests: article-vector cosine ≥ ``min_cosine`` and content-word
    containment ≥ ``threshold``. Shared words are counted for a block of rows at
    once with a sparse product: in a corpus of one topic most pairs pass the cosine
    test, and one set intersection per pair took hours at 100k chunks."""
    sizes = np.fromiter((len(w) for w in words), np.int64, count=len(words))
    for block, shared in _shared_counts(rows, words):
        cosines = vectors[block] @ vectors.T
        smaller = np.minimum(sizes[block][:, None], sizes[None, :])
        with np.errstate(divide="ignore", invalid="ignore"):
            contained = np.where(smaller >= MIN_WORDS, shared / smaller, 0.0)
        passing = (cosines >= min_cosine) & (contained >= threshold)
        passing[np.arange(len(block)), block] = False  # not itself
        for r, j in zip(*np.nonzero(passing), strict=True):
            yield block[r], int(j), float(contained[r, j])


def find_edges(
    new: Sequence[str],
    ids: Sequence[str],
    vectors: np.ndarray,
    words: Sequence[np.ndarray],
    chunk_vectors: Callable[[str], np.ndarray],
    *,
    min_cosine: float,
    threshold: float,
    min_alignment: float,
) -> list[tuple[str, str, float]]:
    """Near-duplicate pairs between the ``new`` articles and all of ``ids`` (which include them).

    ``chunk_vectors(id)`` returns an article's chunk vectors; it is only called
    for pairs that pass the two cheap tests.
    """
    if not new or len(ids) < 2:
        return []
    position = {article_id: i for i, article_id in enumerate(ids)}
    rows = [position[a] for a in new]
    edges: dict[tuple[str, str], float] = {}
    checked: set[tuple[str, str]] = set()
    for i, j, score in _candidates(rows, vectors, words, min_cosine, threshold):
        pair = (min(ids[i], ids[j]), max(ids[i], ids[j]))
        if pair in checked:  # from the other side: both are new
            continue
        checked.add(pair)
        if alignment(chunk_vectors(ids[i]), chunk_vectors(ids[j])) >= min_alignment:
            edges[pair] = round(score, 4)
    return [(a, b, s) for (a, b), s in edges.items()]


def clusters(
    ids: Sequence[str],
    edges: Sequence[tuple[str, str, float]],
    published: dict[str, str | None],
) -> dict[str, str]:
    """article id → cluster id (the id of the cluster's canonical article)."""
    parent = {a: a for a in ids}

    def find(a: str) -> str:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    strength: dict[str, float] = defaultdict(float)
    for a, b, sim in edges:
        if a in parent and b in parent:
            parent[find(a)] = find(b)
            strength[a] += sim
            strength[b] += sim
    members: dict[str, list[str]] = defaultdict(list)
    for a in ids:
        members[find(a)].append(a)
    result: dict[str, str] = {}
    for group in members.values():
        canonical = min(group, key=lambda a: (-strength[a], published.get(a) or "9999", a))
        for a in group:
            result[a] = canonical
    return result
