import numpy as np
import pytest

from rag import dedup

TEXT = " ".join(f"word{i}" for i in range(100))


def test_containment_of_a_padded_copy_is_high():
    original = dedup.content_words(TEXT)
    padded = dedup.content_words(TEXT + " " + " ".join(f"pad{i}" for i in range(200)))
    assert dedup.containment(original, padded) == 1.0
    assert dedup.containment(original, dedup.content_words("pad1 pad2 " * 30)) == 0.0


def test_stopwords_and_short_words_are_ignored():
    assert len(dedup.content_words("the and of to in a an it is")) == 0


def test_clusters_are_components_with_the_most_connected_canonical():
    ids = ["a", "b", "c", "d"]
    edges = [("a", "b", 0.8), ("a", "c", 0.7)]
    result = dedup.clusters(ids, edges, {"a": "2023-08-29", "b": None, "c": None, "d": None})
    assert result == {"a": "a", "b": "a", "c": "a", "d": "d"}


def test_find_edges_needs_cosine_containment_and_aligned_passages():
    words = [dedup.content_words(TEXT)] * 3 + [dedup.content_words("other " * 5 + TEXT[:50])]
    vectors = np.eye(4, dtype=np.float32)
    vectors[1] = vectors[2] = vectors[0]
    chunks = {
        "a": np.eye(4, dtype=np.float32)[:2],
        "b": np.eye(4, dtype=np.float32)[:3],  # holds both of a's passages
        "c": np.eye(4, dtype=np.float32)[2:],  # same words, different passages
        "d": np.eye(4, dtype=np.float32)[:2],
    }
    edges = dedup.find_edges(
        ["a"],
        ["a", "b", "c", "d"],
        vectors,
        words,
        chunks.__getitem__,
        min_cosine=0.6,
        threshold=0.55,
        min_alignment=0.8,
    )
    assert edges == [("a", "b", 1.0)]


def test_alignment_is_measured_from_the_article_with_fewer_chunks():
    short, long = np.eye(3, dtype=np.float32)[:1], np.eye(3, dtype=np.float32)
    assert dedup.alignment(short, long) == dedup.alignment(long, short) == 1.0


@pytest.mark.parametrize("added", [3, 30], ids=["few new: searched", "many new: sparse"])
def test_find_edges_counts_shared_words_as_the_pairwise_containment_does(added: int):
    """Both ways of counting shared words — a binary search per new article when a few
    are added, the block-wise sparse product otherwise — give the edges a pair-by-pair
    check gives."""
    rng = np.random.default_rng(3)
    ids = [f"a{i:02d}" for i in range(80)]
    words = [
        np.unique(rng.integers(0, 120, size=rng.integers(10, 60)).astype(np.uint64)) for _ in ids
    ]
    vectors = rng.normal(size=(len(ids), 8)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    chunks = {a: vectors[i : i + 1] for i, a in enumerate(ids)}
    new = ids[-added:]
    got = dedup.find_edges(
        new,
        ids,
        vectors,
        words,
        chunks.__getitem__,
        min_cosine=-0.2,
        threshold=0.45,
        min_alignment=-1.0,
    )
    expected = {}
    for a in new:
        i = ids.index(a)
        for j, b in enumerate(ids):
            if j != i and float(vectors[i] @ vectors[j]) >= -0.2:
                score = dedup.containment(words[i], words[j])
                if score >= 0.45:
                    expected[(min(a, b), max(a, b))] = round(score, 4)
    assert expected and sorted(got) == sorted((a, b, s) for (a, b), s in expected.items())
