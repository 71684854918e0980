"""Property-based tests (Hypothesis) for the build side's bad-input promises.

- Loading: for any bytes under any supported suffix, ``read_file`` returns articles
  or skips with a reason — it never raises — and what it returns can be chunked and
  stored (the metadata Chroma gets is made of plain values).
- Cleaning: the text that every offset points into is tidy and stable.
- Chunking: for any text, title, source and chunk settings, the chunks are exact
  spans of the cleaned text, cover it in order, and their embedded text (header
  included) fits the token limit.

tests/test_chunk.py holds the original span properties; these widen them.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from rag.indexing.articles import Article
from rag.indexing.chunk import Chunker
from rag.indexing.clean import clean_text
from rag.indexing.indexer import chunk_metadata
from rag.indexing.loaders import SUPPORTED_SUFFIXES, read_file
from tests.test_chunk import check_spans

TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=600)
WORDS = st.lists(
    st.sampled_from(
        "Raimondo met He Lifeng in Beijing on Tuesday . U.S. No. 2 3.5% “ ” café – "
        "export controls ! ? \n \n\n <b> & 2023-08-29".split(" ")
    ),
    max_size=60,
).map(" ".join)

# JSON values of every shape; objects often carry the fields the loader looks for.
SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | TEXT | WORDS
FIELDS = st.sampled_from(
    "title headline body text content source publisher published_at date url link id tags extra".split()
)
JSON_VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(FIELDS | st.text(max_size=8), inner, max_size=6)
    ),
    max_leaves=12,
)
HTML_TAGS = st.sampled_from(
    [
        "<html>",
        "<body>",
        "</body>",
        "<article>",
        "</article>",
        "<main>",
        "<p>",
        "</p>",
        "<h1>",
        "</h1>",
        "<script>alert(1)</script>",
        "<style>p{}</style>",
        "<nav>",
        "</nav>",
        "<br>",
        "<div class='share'>",
        "</div>",
        "<meta property='og:title' content='T'>",
        "<meta property='article:published_time' content='2023-99-99'>",
        "<time datetime='x'>",
        "<link rel='canonical' href='http://[bad'>",
        "<!--",
        "-->",
        "<![CDATA[",
        "&amp;",
        "&#0;",
        "<title>",
        "</title>",
    ]
)


def encoded(text: str, encoding: str) -> bytes:
    return text.encode(encoding, errors="replace")


CONTENT = st.one_of(
    st.binary(max_size=800),
    st.builds(encoded, TEXT | WORDS, st.sampled_from(["utf-8", "utf-16", "utf-8-sig", "cp1252"])),
    JSON_VALUES.map(lambda v: json.dumps(v).encode()),
    st.lists(JSON_VALUES.map(json.dumps) | TEXT, max_size=5).map(lambda ls: "\n".join(ls).encode()),
    st.lists(HTML_TAGS | WORDS, max_size=30).map(lambda parts: "".join(parts).encode()),
)
CHUNKER = Chunker(64, 16)


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("properties")


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(suffix=st.sampled_from(sorted(SUPPORTED_SUFFIXES)), data=CONTENT)
@example(suffix=".json", data=b'{"body": "one two three four five six", "url": "http://[bad"}')
@example(
    suffix=".json",
    data=b'{"body": "one two three four five six", "date": "0001-01-01T00:00+05:00"}',
)
@example(suffix=".json", data=b"[]")
def test_any_bytes_load_as_articles_or_skips_and_can_be_stored(
    folder: Path, suffix: str, data: bytes
):
    file = folder / f"input{suffix}"
    file.write_bytes(data)
    result = read_file(file, file.name, 100_000)
    assert result.articles or result.skipped
    for skip in result.skipped:
        assert skip.path.startswith(file.name) and skip.reason.strip()
        assert "\n" not in skip.reason
    for article in result.articles:
        assert article.path.startswith(file.name)
        assert len(re.findall(r"\w+", article.text)) >= 5 and article.title.strip()
        assert article.text == clean_text(article.text)
        chunks = CHUNKER.chunk(article)
        assert chunks
        for chunk in chunks:
            meta = chunk_metadata(article, chunk.number, chunk.start, chunk.end)
            assert all(isinstance(v, str | int | float | bool) for v in meta.values())
            assert chunk.text == article.text[chunk.start : chunk.end]


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\r\u2028\u2029]")


@settings(max_examples=500, deadline=None)
@given(TEXT | WORDS)
def test_cleaned_text_is_tidy_and_cleaning_it_again_changes_nothing(raw: str):
    text = clean_text(raw)
    assert text == text.strip()
    assert not _CONTROL.search(text)
    assert "\n\n\n" not in text and "  " not in text
    assert all(line == line.strip() for line in text.split("\n"))
    assert clean_text(text) == text


@settings(max_examples=300, deadline=None)
@given(
    text=TEXT | WORDS,
    title=st.text(max_size=300) | WORDS,
    source=st.none() | st.text(max_size=80),
    size=st.integers(48, 300),
    overlap_share=st.floats(0, 0.9),
)
def test_chunks_of_any_article_are_exact_ordered_and_fit_the_limit(
    text: str, title: str, source: str | None, size: int, overlap_share: float
):
    body = clean_text(text)
    if not body:
        return
    article = Article(text=body, title=clean_text(title) or "Untitled", path="a.txt", source=source)
    chunker = Chunker(size, int(size * overlap_share))
    chunks = chunker.chunk(article)
    assert [c.number for c in chunks] == list(range(len(chunks)))
    for chunk in chunks:
        assert chunk.text == body[chunk.start : chunk.end]
        assert chunk.embed_text.endswith(chunk.text)
        assert chunker.count(chunk.embed_text) <= size
    check_spans(body, [(c.start, c.end) for c in chunks], chunker, size)
