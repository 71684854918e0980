"""The BM25 index: the same weights as bm25s, incremental builds, filters, named outlets and titles."""

from __future__ import annotations

from pathlib import Path

import bm25s
import numpy as np

from rag.ask.query import Mentions
from rag.indexing.lexical import LexicalIndex
from rag.text.words import tokens

TEXTS = {
    "a1:0000": "The central bank raised interest rates by half a point on Tuesday.",
    "a1:0001": "Bank officials said inflation remained stubbornly high.",
    "b2:0000": "The football club sacked its manager after a string of defeats.",
    "b2:0001": "Fans of the club protested outside the stadium on Saturday.",
    "c3:0000": "Interest in electric cars surged as battery prices fell.",
    "d4:0000": "The the the.",  # only stopwords: still indexed, never found
}


def texts_of(asked: list[list[str]]):
    def texts(ids: list[str]) -> list[str]:
        asked.append(list(ids))
        return [TEXTS[i] for i in ids]

    return texts


def test_weights_match_bm25s(tmp_path: Path) -> None:
    ids = sorted(TEXTS)
    index = LexicalIndex(tmp_path)
    index.build(ids, texts_of([]), generation=1)
    reference = bm25s.BM25()
    reference.index([tokens(TEXTS[i]) or ["∅"] for i in ids], show_progress=False)
    for query in ["interest rates", "club manager defeats", "bank"]:
        expected = reference.get_scores([t for t in tokens(query) if t in reference.vocab_dict])
        got = dict(index.search(query, len(ids)))
        for i, cid in enumerate(ids):
            assert abs(got.get(cid, 0.0) - float(expected[i])) < 1e-5


def test_incremental_build_tokenizes_only_new_chunks(tmp_path: Path) -> None:
    first, later = sorted(TEXTS)[:3], sorted(TEXTS)
    asked: list[list[str]] = []
    incremental = LexicalIndex(tmp_path / "inc")
    assert incremental.build(first, texts_of(asked), generation=1) == 3
    assert incremental.search("bank", 5)  # a reader holding the first build …
    assert incremental.build(later, texts_of(asked), generation=2) == 3
    assert asked[1] == [c for c in later if c not in first]
    fresh = LexicalIndex(tmp_path / "fresh")
    fresh.build(later, texts_of([]), generation=2)
    for query in ["interest", "club stadium", "electric battery"]:
        # … sees the second one: same results as an index built in one go.
        assert np.allclose(
            sorted(s for _, s in incremental.search(query, 10)),
            sorted(s for _, s in fresh.search(query, 10)),
        )
    assert incremental.generation == 2
    # A removed chunk is gone from the next build.
    assert incremental.build(later[1:], texts_of(asked), generation=3) == 0
    assert "a1:0000" not in dict(incremental.search("interest rates", 10))


def test_article_filter(tmp_path: Path) -> None:
    index = LexicalIndex(tmp_path)
    index.build(sorted(TEXTS), texts_of([]), generation=1)
    assert {c for c, _ in index.search("interest", 10)} == {"a1:0000", "c3:0000"}
    assert [c for c, _ in index.search("interest", 10, {"c3"})] == ["c3:0000"]
    assert index.search("interest", 10, {"b2", "zz"}) == []
    assert index.search("the", 10) == []


def test_mentions_find_outlets_and_titles() -> None:
    mentions = Mentions(
        ["The Verge", "washingtontimes.com", "AP"],
        {"x": "Apple unveils new iPhone cameras", "y": "Short title", "z": "Apple earnings"},
    )
    assert mentions.sources_in("What did The Verge and the Washingtontimes report?") == [
        "The Verge",
        "washingtontimes.com",
    ]
    assert mentions.sources_in("Did the vergence happen?") == []  # whole words only
    assert mentions.sources_in("AP says") == []  # names under three letters are ignored
    assert mentions.titles_in("Apple unveils iPhone cameras — what else?") == ["x"]
    assert mentions.titles_in("Short title?") == []  # titles under three words are ignored
