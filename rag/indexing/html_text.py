"""The article text of a web page, without what the site wraps around it.

News pages carry more chrome than story: cookie banners, navigation, trending
lists, author bios, newsletter boxes, related links, bylines, section labels
and tag lines. The body comes from trafilatura (a maintained main-text
extractor, Apache-2.0), which scores the page's blocks instead of trusting
``<article>``/``<main>``. Lines that still read as page furniture — a byline,
a "Topics: …" line, "Read more: …", a sign-up pitch — are dropped after it.
On the five pages of ``tests/html_pages.py`` (``bench/html_extract.py``) the
share of extracted words that are the article's is 0.524 for the element walk
below, 0.893 for trafilatura alone and 1.000 with the furniture lines dropped
(recall 1.000 for all three; the furniture rules were written against those
pages, so the last figure flatters). When trafilatura finds no main text (a very short page), the
element walk is the fallback.

The metadata (title, site name, dates, canonical URL) is read from
``<meta>``/``<link>``/``<time>`` by :func:`rag.indexing.loaders.read_html`, not here.
"""

from __future__ import annotations

import logging
import re

import trafilatura
from bs4 import BeautifulSoup, Tag
from trafilatura.settings import use_config

_DROP_TAGS = (
    "script",
    "style",
    "noscript",
    "nav",
    "header",
    "footer",
    "aside",
    "form",
    "iframe",
    "svg",
    "button",
    "template",
    "figure",
    "select",
    "input",
)
_DROP_ROLES = {"navigation", "banner", "contentinfo", "complementary", "search"}
_DROP_CLASS = re.compile(
    r"(?:^|[-_\s])(?:breadcrumbs?|nav|navbar|menu|footer|sidebar|share|social|cookie|"
    r"subscribe|newsletter|related|comments?|advert|ad|promo)(?:$|[-_\s])",
    re.IGNORECASE,
)
_BLOCK_TAGS = (
    "p",
    "div",
    "section",
    "article",
    "main",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "li",
    "ul",
    "ol",
    "blockquote",
    "pre",
    "table",
    "tr",
    "dd",
    "dt",
    "figcaption",
)

# Lines of page furniture, each short (see _FURNITURE_MAX_WORDS).
_FURNITURE = re.compile(
    r"^(?:(?:posted |written |words )?by\s+\S.*"  # byline (a sentence would end in a stop)
    r"|(?:updated|published|posted|last modified)\b.*\d{4}.*"
    r"|(?:topics?|tags?|filed under|categories|category|more on|related topics)\s*:.*"
    r"|(?:read more|see also|related|also read|recommended|more from)\b\s*:.*"
    r"|share (?:this|on)\b.*"
    r"|(?:advertisement|sponsored|sponsored content|ad)"
    r"|(?:sign up|subscribe|subscribe now|sign in|log in|register|accept all|continue reading"
    r"|show more|load more)[.!]?"
    r"|.*\b(?:sign up|subscribe)\b.*\b(?:newsletter|inbox)\b.*"
    r"|.*\bnewsletter\b.*\b(?:sign up|subscribe)\b.*"
    r"|.*\bcookies?\b.*\b(?:accept|consent|agree)\b.*)$",
    re.IGNORECASE,
)
_FURNITURE_MAX_WORDS = 40
_LABEL_MAX_WORDS = 6  # a heading or label line: short, without closing punctuation
_CLOSES = re.compile(r"[.!?:;\"”’)\]]$")

_CONFIG = use_config()
# The default (250 characters) leaves short notices to the fallback; the loader has its
# own minimum (MIN_WORDS).
_CONFIG["DEFAULT"]["MIN_EXTRACTED_SIZE"] = "1"
_CONFIG["DEFAULT"]["MIN_OUTPUT_SIZE"] = "1"
# trafilatura logs every page it finds no text in; a skip reason says that already.
logging.getLogger("trafilatura").setLevel(logging.CRITICAL)


def page_text(html: str, soup: BeautifulSoup) -> tuple[str, str | None]:
    """The page's article text (paragraphs separated by blank lines) and its ``<h1>``.

    ``soup`` is the parsed page; it is changed (the element walk removes what it drops).
    """
    heading = soup.find("h1")
    h1 = heading.get_text(" ", strip=True) if isinstance(heading, Tag) else None
    text = _trafilatura(html)
    if text is None:
        text = element_text(soup)
    return strip_furniture(text, (h1,)), h1


def _trafilatura(html: str) -> str | None:
    try:
        text = trafilatura.extract(
            html,
            favor_precision=True,
            include_comments=False,
            include_tables=True,
            deduplicate=False,
            config=_CONFIG,
        )
    # A third-party parser fed any bytes a folder holds: whatever it raises, the element
    # walk still reads the page, so one odd file never stops indexing.
    except Exception:
        return None
    return text if text and text.strip() else None


def element_text(soup: BeautifulSoup) -> str:
    """The element walk (the extractor before trafilatura): ``<article>``, else
    ``<main>``, else ``<body>``, without scripts, navigation, asides and elements whose
    class names say they are chrome; its ``<h1>`` removed."""
    for tag in soup.find_all(_DROP_TAGS):
        tag.decompose()
    for tag in soup.find_all(True):
        if tag.decomposed:
            continue
        role = str(tag.get("role", "")).lower()
        marks = " ".join([*(tag.get("class") or []), str(tag.get("id") or "")])
        if role in _DROP_ROLES or (marks.strip() and _DROP_CLASS.search(marks)):
            tag.decompose()
    articles = soup.find_all("article")
    root: Tag | None = max(articles, key=lambda t: len(t.get_text())) if articles else None
    main = soup.find("main")
    root = root or (main if isinstance(main, Tag) else None) or soup.body or soup
    assert root is not None
    heading = root.find("h1")
    if isinstance(heading, Tag):
        heading.decompose()
    for node in root.find_all(string=True):
        node.replace_with(re.sub(r"\s+", " ", str(node)))
    for br in root.find_all("br"):
        br.replace_with("\n")
    for block in root.find_all(_BLOCK_TAGS):
        block.insert_before("\n\n")
        block.insert_after("\n\n")
    return root.get_text()


def _is_furniture(line: str) -> bool:
    words = len(line.split())
    if words > _FURNITURE_MAX_WORDS or not _FURNITURE.match(line):
        return False
    # "By noon, shares had fallen." is a sentence, not a byline.
    return not (line.lower().startswith("by ") and (words > 15 or line.endswith(".")))


def _is_label(line: str) -> bool:
    return len(line.split()) <= _LABEL_MAX_WORDS and not _CLOSES.search(line)


def strip_furniture(text: str, titles: tuple[str | None, ...] = ()) -> str:
    """``text`` without lines of page furniture: bylines, dates, tag and topic lines,
    "Read more" links, share rows, sign-up and cookie pitches; the title, section labels
    and bylines before the first paragraph; a heading left over a dropped line or at the
    end. Paragraphs come back separated by blank lines.

    >>> strip_furniture("Technology\\nChips curbs widened\\nBy Staff Writer · November 21, 2023\\n"
    ...                 "The rules cover more chips.\\nTopics: Technology, Policy",
    ...                 ("Chips curbs widened",))
    'The rules cover more chips.'
    """
    named = {t.casefold() for t in titles if t}
    lines = [" ".join(line.split()) for line in text.split("\n")]
    lines = [line for line in lines if line]
    start = 0
    while start < len(lines) and (
        lines[start].casefold() in named or _is_label(lines[start]) or _is_furniture(lines[start])
    ):
        start += 1
    kept: list[str] = []
    for line in lines[start:]:
        if _is_furniture(line):
            if kept and _is_label(kept[-1]):  # "The Morning Brief" over its sign-up pitch
                kept.pop()
            continue
        kept.append(line)
    while kept and _is_label(kept[-1]):
        kept.pop()
    if not kept:  # all of it looked like furniture: a notice, not a page; keep it as it was
        return "\n\n".join(lines)
    return "\n\n".join(kept)
