"""The body of an HTML page is the article, without the page around it (issue 13, item 4)."""

from __future__ import annotations

import pytest

import rag.indexing.html_text
from rag.indexing.html_text import strip_furniture
from rag.indexing.loaders import read_html
from tests.html_pages import PAGES, Page


def paragraphs(text: str) -> list[str]:
    return [" ".join(p.split()) for p in text.split("\n\n") if p.strip()]


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_the_body_keeps_the_article_and_drops_the_page(page: Page):
    article = read_html(page.html, f"{page.name}.html")
    assert paragraphs(article.text) == [" ".join(p.split()) for p in page.paragraphs]
    leaked = [b for b in page.boilerplate if b.lower() in article.text.lower()]
    assert leaked == []
    # The metadata still comes from <meta> and <link>.
    assert article.title and article.title in page.html
    assert article.published_at and article.url and article.url.startswith("https://")


def test_metadata_is_read_as_before():
    article = read_html(PAGES[0].html, "chips.html")
    assert (article.title, article.source, article.published_at) == (
        "US widens chip export curbs",
        "CNBC",  # the site name "Cnbc | World Business News Leader" as its outlet
        "2023-10-17T08:00:00+00:00",
    )
    assert article.url == "https://www.example.com/news/chips"


def test_sentences_that_look_like_furniture_are_kept():
    text = (
        "Headline here\nBy noon, shares had fallen by a third and trading was halted.\n"
        "Related companies also fell.\nThe exchange said it would reopen on Monday."
    )
    assert strip_furniture(text, ("Headline here",)) == (
        "By noon, shares had fallen by a third and trading was halted.\n\n"
        "Related companies also fell.\n\nThe exchange said it would reopen on Monday."
    )


def test_a_page_trafilatura_cannot_read_falls_back_to_the_element_walk(monkeypatch):
    def broken(*args, **kwargs):
        raise ValueError("lxml could not parse this")

    monkeypatch.setattr(rag.indexing.html_text.trafilatura, "extract", broken)
    article = read_html(PAGES[1].html, "harbour.html")
    assert all(" ".join(p.split()) in " ".join(article.text.split()) for p in PAGES[1].paragraphs)
