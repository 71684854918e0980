"""Saved web pages (.mhtml / .mht, a browser's "Save page as… single file"): the page's
HTML part read as an HTML article, decoded from its transfer encoding and charset, with
the address it was saved from; a damaged one skipped with its reason, nothing else lost.
The files are built here the way Chrome writes them."""

from __future__ import annotations

import base64
import quopri
import shutil
from pathlib import Path

import pytest

from rag.indexing.indexer import sync
from rag.indexing.loaders import read_file
from rag.settings import Settings
from tests.conftest import SAMPLE

URL = "https://www.example-news.com/world/2023/11/21/geneva-talks?utm_source=share"
PARAGRAPHS = (
    "Delegates from both governments met in Geneva on Tuesday for a third round of talks "
    "on export controls, officials said.",
    "The café beside the venue, a favourite of the delegations, charged €4.50 for a coffee, "
    "and Amelia Brandt said a draft text would follow in January.",
)
TITLE = "Geneva talks end with a draft due in January"


def page(title: str = TITLE, *, canonical: str | None = None, charset_meta: str = "utf-8") -> str:
    link = f'<link rel="canonical" href="{canonical}">' if canonical else ""
    paragraphs = "".join(f"<p>{p}</p>" for p in PARAGRAPHS)
    return (
        f'<!DOCTYPE html><html><head><meta charset="{charset_meta}"><title>{title} | Example'
        f'</title><meta property="og:title" content="{title}">'
        f'<meta property="og:site_name" content="Example News">'
        f'<meta property="article:published_time" content="2023-11-21T09:30:00Z">{link}'
        f"</head><body><nav>Home World Business</nav><article><h1>{title}</h1>{paragraphs}"
        "</article><footer>© Example News</footer></body></html>"
    )


def mhtml(
    html: str,
    *,
    url: str | None = URL,
    encoding: str = "quoted-printable",
    charset: str | None = None,
    part_location: str | None = "https://www.example-news.com/world/geneva-talks",
    end: bool = True,
) -> bytes:
    """An MHTML file as Chrome saves one: the page, then an image, each a MIME part."""
    data = html.encode(charset or "utf-8")
    body = base64.encodebytes(data) if encoding == "base64" else quopri.encodestring(data)
    boundary = "----MultipartBoundary--Hc0CMM2qkKSPa4vlWfZLqbHGdEz1qS2vGzOyL1j8hH----"
    head = [
        "From: <Saved by Blink>",
        *([f"Snapshot-Content-Location: {url}"] if url else []),
        "Subject: =?utf-8?Q?Geneva_talks?=",
        "Date: Thu, 30 Nov 2023 10:00:00 -0000",
        "MIME-Version: 1.0",
        'Content-Type: multipart/related;\r\n\ttype="text/html";\r\n\tboundary="' + boundary + '"',
        "",
        "",
        f"--{boundary}",
        "Content-Type: text/html" + (f'; charset="{charset}"' if charset else ""),
        "Content-ID: <frame-5B4A1E@mhtml.blink>",
        f"Content-Transfer-Encoding: {encoding}",
        *([f"Content-Location: {part_location}"] if part_location else []),
        "",
        "",
    ]
    image = [
        "",
        f"--{boundary}",
        "Content-Type: image/png",
        "Content-Transfer-Encoding: base64",
        "Content-Location: https://www.example-news.com/logo.png",
        "",
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==",
        "",
    ]
    tail = [f"--{boundary}--", ""] if end else []
    text = "\r\n".join(head).encode() + body.replace(b"\n", b"\r\n")
    return text + "\r\n".join(image + tail).encode()


def read(tmp_path: Path, name: str, data: bytes):
    (tmp_path / name).write_bytes(data)
    return read_file(tmp_path / name, name, 10_000_000)


@pytest.mark.parametrize(
    ("encoding", "charset"),
    [
        ("quoted-printable", None),  # Chrome: UTF-8 named by the page's <meta charset>
        ("base64", "utf-8"),
        ("quoted-printable", "windows-1252"),  # the part's charset, not UTF-8
        ("base64", "iso-8859-15"),
    ],
)
def test_a_saved_page_is_read_as_its_html_article(tmp_path: Path, encoding: str, charset):
    data = mhtml(page(charset_meta=charset or "utf-8"), encoding=encoding, charset=charset)
    result = read(tmp_path, "geneva.mhtml", data)
    assert result.skipped == []
    (article,) = result.articles
    assert article.title == TITLE
    assert article.text == "\n\n".join(PARAGRAPHS)  # "café", "€4.50" decoded right
    assert (article.source, article.published_at) == ("Example News", "2023-11-21T09:30:00+00:00")
    assert article.url == URL  # the address it was saved from


def test_without_a_header_charset_the_pages_own_meta_charset_decodes_it(tmp_path: Path):
    html = page(charset_meta="windows-1252")
    data = mhtml(html, charset=None).replace(
        quopri.encodestring(html.encode("utf-8")).replace(b"\n", b"\r\n"),
        quopri.encodestring(html.encode("cp1252")).replace(b"\n", b"\r\n"),
    )
    (article,) = read(tmp_path, "geneva.mhtml", data).articles
    assert "The café beside the venue" in article.text and "€4.50" in article.text


def test_the_saved_address_outranks_the_canonical_link_and_an_mht_names_it_per_part(
    tmp_path: Path,
):
    canonical = "https://www.example-news.com/geneva-talks"
    (saved,) = read(tmp_path, "a.mhtml", mhtml(page(canonical=canonical))).articles
    assert saved.url == URL
    # An older .mht (Internet Explorer, Word) has no Snapshot-Content-Location header.
    part_only = mhtml(page(), url=None, part_location=canonical + "?page=1")
    (mht,) = read(tmp_path, "b.mht", part_only).articles
    assert mht.url == canonical + "?page=1"
    (neither,) = read(
        tmp_path, "c.mhtml", mhtml(page(canonical=canonical), url=None, part_location=None)
    ).articles
    assert neither.url == canonical


BROKEN = {
    "cut.mhtml": (lambda: mhtml(page())[:900], "damaged .mhtml: it ends inside its parts"),
    "images.mhtml": (
        lambda: mhtml(page()).replace(b"Content-Type: text/html", b"Content-Type: image/gif"),
        "not a saved web page: no HTML part (multipart/related)",
    ),
    "plain.mhtml": (
        lambda: b"Just some notes I typed, saved with the wrong name.\n",
        "not a saved web page: no HTML part",
    ),
    "bad64.mhtml": (
        lambda: mhtml(page(), encoding="base64").replace(
            base64.encodebytes(page().encode()).replace(b"\n", b"\r\n"),
            b"<p>Text said to be base64 that is not.</p>\r\n",
        ),
        "damaged .mhtml: its page's base64 cannot be decoded",
    ),
    "empty.mhtml": (lambda: b"", "empty file"),
    "nav.mhtml": (
        lambda: mhtml("<html><body><nav>Home</nav></body></html>"),
        "no article text",
    ),
}


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_a_damaged_saved_page_is_skipped_with_its_reason(tmp_path: Path, name: str):
    make, reason = BROKEN[name]
    result = read(tmp_path, name, make())
    assert result.articles == []
    (skip,) = result.skipped
    assert skip.path == name and skip.reason.startswith(reason), skip.reason
    if name != "empty.mhtml" and name != "nav.mhtml":
        assert "save it again" in skip.reason


@pytest.mark.integration
def test_saved_pages_are_indexed_and_a_damaged_one_loses_nothing(tmp_path: Path, embedder):
    folder = tmp_path / "articles"
    shutil.copytree(SAMPLE, folder)
    settings = Settings(articles_dir=folder, index_dir=tmp_path / "index")
    first = sync(settings, embedder=embedder)
    (folder / "geneva.mhtml").write_bytes(mhtml(page(), encoding="base64", charset="utf-8"))
    (folder / "cut.mhtml").write_bytes(mhtml(page())[:900])
    summary = sync(settings, embedder=embedder)
    assert summary.added == ["geneva.mhtml"]
    assert summary.unchanged == first.articles and summary.removed == []
    (skip,) = summary.skipped
    assert skip.path == "cut.mhtml" and skip.reason.startswith("damaged .mhtml")
