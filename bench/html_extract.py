"""Word precision and recall of the HTML body extractors on the page fixtures.

    python bench/html_extract.py

``old``: the element walk alone (``<article>``, else ``<main>``, else ``<body>``,
minus chrome by tag and class name) — the extractor before trafilatura.
``trafilatura``: trafilatura's text as it comes (title line included).
``new``: what ``rag.indexing.loaders.read_html`` stores now (trafilatura, then page
furniture lines dropped). Precision: the share of extracted words that are the
article's; recall: the share of the article's words extracted (multisets of
lower-cased words). The pages are ``tests/html_pages.py``.
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from pathlib import Path

from bs4 import BeautifulSoup

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rag.indexing.clean import clean_text
from rag.indexing.html_text import _trafilatura, element_text
from rag.indexing.loaders import read_html
from tests.html_pages import PAGES, Page

_WORD = re.compile(r"\w+")


def words(text: str) -> Counter[str]:
    return Counter(_WORD.findall(text.lower()))


def score(text: str, page: Page) -> tuple[float, float]:
    got, gold = words(text), words(" ".join(page.paragraphs))
    shared = sum((got & gold).values())
    return shared / max(1, sum(got.values())), shared / max(1, sum(gold.values()))


def extractors(page: Page) -> dict[str, str]:
    return {
        "old": clean_text(element_text(BeautifulSoup(page.html, "html.parser"))),
        "trafilatura": _trafilatura(page.html) or "",
        "new": read_html(page.html, page.name).text,
    }


def main() -> None:
    totals: dict[str, list[tuple[float, float]]] = {"old": [], "trafilatura": [], "new": []}
    print(f"{'page':34} {'old P / R':>15} {'trafilatura P / R':>19} {'new P / R':>15}")
    for page in PAGES:
        figures = {name: score(text, page) for name, text in extractors(page).items()}
        for name, pr in figures.items():
            totals[name].append(pr)
        row = "      ".join(f"{p:6.3f} / {r:5.3f}" for p, r in figures.values())
        print(f"{page.name:34} {row}")
    means = {
        name: tuple(sum(v) / len(v) for v in zip(*prs, strict=True)) for name, prs in totals.items()
    }
    row = "      ".join(f"{p:6.3f} / {r:5.3f}" for p, r in means.values())
    print(f"{'mean (' + str(len(PAGES)) + ' pages)':34} {row}")


if __name__ == "__main__":
    main()
