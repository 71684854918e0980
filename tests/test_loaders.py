"""One fixture per class of bad input, and every encoding we promise to read."""

import json
from pathlib import Path

import pytest

from rag.indexing.loaders import read_file

BODY = "Raimondo met Vice Premier He Lifeng in Beijing on Tuesday to discuss export controls — café, naïve, €5."


def read(path: Path, max_bytes: int = 1_000_000):
    return read_file(path, path.name, max_bytes)


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("utf8.txt", BODY.encode("utf-8")),
        ("utf8-bom.txt", b"\xef\xbb\xbf" + BODY.encode("utf-8")),
        ("utf16-le.txt", BODY.encode("utf-16")),  # Python writes a BOM, little-endian here
        ("utf16-be.txt", b"\xfe\xff" + BODY.encode("utf-16-be")),
        ("cp1252.txt", BODY.encode("cp1252")),
        ("latin1.txt", BODY.replace("€", "EUR").replace("—", "-").encode("latin-1")),
    ],
)
def test_encodings_are_read_correctly(tmp_path: Path, name: str, data: bytes):
    file = tmp_path / name
    file.write_bytes(data)
    result = read(file)
    assert not result.skipped
    (article,) = result.articles
    assert "café, naïve" in article.text
    assert not article.text.startswith("\ufeff")


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("empty.txt", b"", "empty file"),
        ("blank.txt", b"  \n\n \t", "empty file"),
        ("binary.txt", bytes(range(256)) * 4, "binary file"),
        ("image.md", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(200), "binary file"),
        ("bad16.txt", b"\xff\xfe" + b"\x00\xd8\x41", "not valid UTF-16"),
        ("short.txt", b"Too short.", "no article text"),
        ("notes.rtf", b"{\\rtf1 whatever}", "unsupported file type .rtf"),
        ("broken.json", b'{"title": "x", "body": ', "invalid JSON"),
        ("nobody.json", b'{"title": "x"}', "no text"),
        ("list.json", b"[1, 2]", "expected a JSON object"),
        # Found by Hypothesis (tests/test_properties.py): an empty list was read as
        # nothing at all, without a reason; punctuation counted as words.
        ("emptylist.json", b"[]", "empty JSON list"),
        ("dots.txt", b". ! ! ! ! ?", "no article text"),
    ],
)
def test_bad_inputs_become_skips_with_a_reason(tmp_path: Path, name: str, data: bytes, reason: str):
    file = tmp_path / name
    file.write_bytes(data)
    result = read(file)
    assert result.articles == []
    assert len(result.skipped) >= 1
    assert reason in result.skipped[0].reason
    assert result.skipped[0].path.startswith(name)


def test_oversized_file_is_skipped_without_reading(tmp_path: Path):
    file = tmp_path / "big.txt"
    file.write_text("word " * 5000)
    result = read(file, max_bytes=1000)
    assert "file is 24.4 KB, over the 1.0 KB limit" in result.skipped[0].reason
    assert "RAG_MAX_FILE_MB" in result.skipped[0].reason


def test_jsonl_bad_lines_are_skipped_and_the_rest_kept(tmp_path: Path):
    good = {
        "title": "Chips",
        "body": BODY,
        "source": "AP",
        "published_at": "2023-08-29",
        "url": "https://apnews.com/x",
        "id": "ap-1",
        "category": "politics",
        "tags": ["a"],
    }
    lines = [
        json.dumps(good),
        "{not json",
        "",
        json.dumps({"title": "no body"}),
        json.dumps({**good, "body": BODY + " Second story."}),
    ]
    file = tmp_path / "feed.jsonl"
    file.write_text("\n".join(lines))
    result = read(file)
    assert [a.path for a in result.articles] == ["feed.jsonl#1", "feed.jsonl#5"]
    assert [s.path for s in result.skipped] == ["feed.jsonl#2", "feed.jsonl#4"]
    assert "invalid JSON on line 2" in result.skipped[0].reason
    first = result.articles[0]
    assert (first.title, first.source, first.published_at, first.external_id) == (
        "Chips",
        "AP",
        "2023-08-29",
        "ap-1",
    )
    assert first.extra == {"category": "politics", "tags": ["a"]}


def test_json_array_of_articles(tmp_path: Path):
    file = tmp_path / "two.json"
    file.write_text(
        json.dumps(
            [{"headline": "One", "text": BODY}, {"headline": "Two", "content": BODY + " More."}]
        )
    )
    result = read(file)
    assert [a.title for a in result.articles] == ["One", "Two"]


def test_html_main_text_only(tmp_path: Path):
    file = tmp_path / "page.html"
    file.write_text(
        """<html><head><title>Site | Page</title>
        <meta property="og:title" content="Raimondo meets He Lifeng">
        <meta property="og:site_name" content="Example News">
        <meta property="article:published_time" content="2023-08-29T09:00:00Z">
        <link rel="canonical" href="https://example.com/raimondo">
        <style>p { color: red }</style><script>alert("x")</script></head>
        <body><nav>Home &gt; World</nav><div class="breadcrumb">Home / Asia</div>
        <article><h1>Raimondo meets He Lifeng</h1>
        <p>Commerce Secretary Gina Raimondo met
           Vice Premier He Lifeng on <b>Tuesday</b>.</p>
        <p>They agreed to launch an information exchange on export controls.</p>
        <script>var tracking = 1;</script></article>
        <aside>Related: other stories</aside><footer>© Example</footer></body></html>"""
    )
    (article,) = read(file).articles
    assert article.title == "Raimondo meets He Lifeng"
    assert article.source == "Example News"
    assert article.published_at == "2023-08-29T09:00:00+00:00"
    assert article.url == "https://example.com/raimondo"
    assert article.text == (
        "Commerce Secretary Gina Raimondo met Vice Premier He Lifeng on Tuesday.\n\n"
        "They agreed to launch an information exchange on export controls."
    )


def test_source_falls_back_to_url_host(tmp_path: Path):
    file = tmp_path / "a.json"
    file.write_text(json.dumps({"title": "T", "body": BODY, "url": "https://www.reuters.com/x"}))
    assert read(file).articles[0].source == "reuters.com"


def test_a_broken_url_does_not_stop_the_file(tmp_path: Path):
    """Found by Hypothesis: urlparse raises on "http://[bad", and read_file let it
    through, so one such article ended the whole index run with a traceback."""
    file = tmp_path / "odd.json"
    file.write_text(json.dumps({"title": "T", "body": BODY, "url": "http://[bad"}))
    (article,) = read(file).articles
    assert article.source is None and article.url == "http://[bad"


def test_a_title_of_invisible_characters_falls_back_to_the_first_sentence(tmp_path: Path):
    """Found by Hypothesis: a zero-width-space title cleaned to an empty title."""
    file = tmp_path / "odd.json"
    file.write_text(json.dumps({"title": "\u200b", "body": BODY}))
    (article,) = read(file).articles
    assert article.title.startswith("Raimondo met Vice Premier He Lifeng")


def test_front_matter_quotes_are_removed_in_pairs_only(tmp_path: Path):
    """Issue 13 item 5: a double-quoted title ending in an apostrophe lost the apostrophe."""
    file = tmp_path / "a.md"
    file.write_text(
        "---\n"
        "title: \"Chip rules are 'complicated, basically'\"\n"
        "source: 'Reuters'\n"
        "series: '90s revival\n"
        "---\n"
        f"{BODY}\n"
    )
    (article,) = read(file).articles
    assert article.title == "Chip rules are 'complicated, basically'"
    assert article.source == "Reuters"
    assert article.extra == {"series": "'90s revival"}


def test_json_list_items_and_json_lines_count_from_one(tmp_path: Path):
    """Issue 13 item 12: JSON list items were numbered from #0, JSON Lines from #1."""
    records = [
        {"title": "One", "body": BODY},
        {"title": "no body"},
        {"title": "Three", "body": BODY + " More."},
    ]
    listed = tmp_path / "list.json"
    listed.write_text(json.dumps(records))
    lines = tmp_path / "lines.jsonl"
    lines.write_text("\n".join(json.dumps(r) for r in records))
    for file in (listed, lines):
        result = read(file)
        assert [a.path for a in result.articles] == [f"{file.name}#1", f"{file.name}#3"]
        assert [s.path for s in result.skipped] == [f"{file.name}#2"]
