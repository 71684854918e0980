"""Read a folder of articles: .txt, .md, .html/.htm, .json, .jsonl, .pdf, .docx and
saved web pages (.mhtml/.mht).

Every file either yields articles or a :class:`Skip` with a one-line reason;
one bad file, or one bad JSON line, never stops the rest.
"""

from __future__ import annotations

import codecs
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag.indexing.articles import Article, Skip
from rag.indexing.clean import clean_text
from rag.indexing.documents import DocumentError, read_docx, read_mhtml, read_pdf
from rag.indexing.folder import os_problem, special_kind, walk
from rag.indexing.folder_defaults import is_defaults_file
from rag.indexing.metadata import (
    fallback_title,
    normalise_source,
    parse_date,
    peel_plain_text,
    source_from_url,
)
from rag.text.outlets import outlet_name

if TYPE_CHECKING:
    from bs4 import BeautifulSoup

TEXT_SUFFIXES = frozenset({".txt", ".md", ".markdown", ".html", ".htm", ".json", ".jsonl"})
# Read as bytes by rag/indexing/documents.py, not decoded as text.
SAVED_PAGE_SUFFIXES = frozenset({".mhtml", ".mht"})
DOCUMENT_SUFFIXES = frozenset({".pdf", ".docx"}) | SAVED_PAGE_SUFFIXES
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | DOCUMENT_SUFFIXES
MIN_WORDS = 5
UNTITLED = "(untitled)"
_WORD = re.compile(r"\w+")


class Unreadable(Exception):
    """Raised inside this module; turned into a Skip at the file boundary."""


# --- bytes → str ---------------------------------------------------------------

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_BINARY_CONTROL = re.compile(rb"[\x00-\x08\x0e-\x1a\x1c-\x1f]")


def decode(data: bytes) -> str:
    """Decode article bytes: BOM-marked UTF-8/16/32, plain UTF-8, else Windows-1252.

    Raises :class:`Unreadable` for empty, binary or undecodable content.
    """
    if not data.strip():
        raise Unreadable("empty file")
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(encoding)
            except UnicodeDecodeError as exc:
                raise Unreadable(
                    f"starts with a {encoding.upper()} mark but is not valid "
                    f"{encoding.upper()} ({exc.reason})"
                ) from None
    head = data[:8192]
    if b"\x00" in head or len(_BINARY_CONTROL.findall(head)) > max(8, len(head) // 100):
        raise Unreadable("binary file, not text")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    # Windows-1252 is a superset of Latin-1 for printable text; the five bytes it
    # leaves undefined are read as Latin-1 control characters and cleaned away.
    return data.decode("cp1252", errors="strict") if _cp1252_ok(data) else data.decode("latin-1")


def _cp1252_ok(data: bytes) -> bool:
    try:
        data.decode("cp1252")
    except UnicodeDecodeError:
        return False
    return True


# --- one document → Article ----------------------------------------------------


def _make_article(
    body: str,
    path: str,
    *,
    title: str | None = None,
    source: str | None = None,
    published_at: Any = None,
    url: str | None = None,
    external_id: str | None = None,
    extra: dict[str, Any] | None = None,
) -> Article:
    text = clean_text(body)
    if len(_WORD.findall(text)) < MIN_WORDS:
        raise Unreadable(f"no article text (fewer than {MIN_WORDS} words)")
    extra = dict(extra or {})
    date = parse_date(published_at)
    if published_at and not date:
        extra["published_raw"] = str(published_at)
    return Article(
        text=text,
        # A title of invisible characters cleans to nothing; a first sentence of
        # punctuation makes no title either.
        title=(clean_text(title) if title else "") or fallback_title(text) or UNTITLED,
        path=path,
        source=normalise_source(source) or source_from_url(url),
        published_at=date,
        url=url or None,
        external_id=external_id,
        extra=extra,
    )


def _first(fields: dict[str, Any], *names: str) -> Any:
    for name in names:
        value = fields.get(name)
        if value not in (None, ""):
            return value
    return None


def read_plain(text: str, path: str) -> Article:
    header = peel_plain_text(clean_text(text))
    fields = header.fields
    known = {"title", "source", "url", "link", "date", "published", "published_at", "id"}
    return _make_article(
        header.body,
        path,
        title=fields.get("title") or header.title,
        source=fields.get("source") or header.source,
        published_at=_first(fields, "published_at", "date", "published") or header.published_at,
        url=_first(fields, "url", "link"),
        external_id=fields.get("id"),
        extra=({"author": header.author} if header.author else {})
        | {k: v for k, v in fields.items() if k not in known},
    )


def read_document(data: bytes, suffix: str, path: str) -> Article:
    """A PDF or .docx → Article: the title the file's properties give, else its headline
    line; the day its first lines give (the publication), else the file's creation date.
    A saved web page → its HTML page, read as :func:`read_html` reads one."""
    try:
        if suffix in SAVED_PAGE_SUFFIXES:
            page = read_mhtml(data)
            return read_html(page.html, path, url=page.url)
        document = read_pdf(data) if suffix == ".pdf" else read_docx(data)
    except DocumentError as exc:
        raise Unreadable(str(exc)) from None
    text, dated = clean_text(document.text), None
    if document.title:
        # the headline was a Title/Heading paragraph: a line giving the day may come first
        first, _, rest = text.lstrip().partition("\n")
        if rest.strip() and parse_date(first.strip()):
            text, dated = rest.lstrip("\n"), parse_date(first.strip())
    header = peel_plain_text(text)
    return _make_article(
        header.body,
        path,
        title=document.title or header.title,
        source=header.source,
        published_at=dated or header.published_at or document.published_at,
        extra={"author": author} if (author := document.author or header.author) else None,
    )


def _meta(soup: BeautifulSoup, *keys: str) -> str | None:
    from bs4 import Tag

    for key in keys:
        tag = soup.find("meta", attrs={"property": key}) or soup.find("meta", attrs={"name": key})
        if isinstance(tag, Tag) and tag.get("content"):
            return str(tag["content"]).strip()
    return None


def read_html(text: str, path: str, *, url: str | None = None) -> Article:
    """An HTML page → Article. ``url`` is the address the page was saved from (a saved
    page's own); without it, the page's canonical link or ``og:url``."""
    # bs4 and trafilatura are half a second of imports, paid only when a page is read
    # (not by `rag index` with nothing to do, nor by `rag ask`).
    from bs4 import BeautifulSoup, Tag

    from rag.indexing.html_text import page_text

    soup = BeautifulSoup(text, "html.parser")
    title = _meta(soup, "og:title", "twitter:title")
    if not title and soup.title and soup.title.string:
        title = soup.title.string.strip()
    source = _meta(soup, "og:site_name", "publisher", "application-name")
    # A page's site name is its branding ("Cnbc | World Business News Leader"): keep the
    # outlet ("CNBC"). Names given in JSON or front matter are the user's and kept as given.
    source = outlet_name(source) if source else None
    published = _meta(
        soup, "article:published_time", "datePublished", "pubdate", "publishdate", "date", "dc.date"
    )
    time_tag = soup.find("time", attrs={"datetime": True})
    if not published and isinstance(time_tag, Tag):
        published = str(time_tag["datetime"])
    if not url:
        canonical = soup.find("link", attrs={"rel": "canonical"})
        if isinstance(canonical, Tag) and canonical.get("href"):
            url = str(canonical["href"])
        url = url or _meta(soup, "og:url")

    body, heading = page_text(text, soup)
    return _make_article(
        body, path, title=title or heading, source=source, published_at=published, url=url
    )


_JSON_FIELDS = {
    "title": ("title", "headline", "name"),
    "body": ("body", "text", "content", "article", "full_text"),
    "source": ("source", "publisher", "outlet", "site", "site_name"),
    "published_at": ("published_at", "published", "date", "pubDate", "publish_date", "datetime"),
    "url": ("url", "link"),
    "id": ("id", "doc_id", "uid", "article_id"),
}


def read_record(record: Any, path: str) -> Article:
    """One JSON object → Article; unknown fields are kept as metadata."""
    if not isinstance(record, dict):
        raise Unreadable(f"expected a JSON object, got {type(record).__name__}")
    body = _first(record, *_JSON_FIELDS["body"])
    if not isinstance(body, str) or not body.strip():
        raise Unreadable(
            f"no text: none of the fields {', '.join(_JSON_FIELDS['body'])} holds a string"
        )
    source = _first(record, *_JSON_FIELDS["source"])
    if isinstance(source, dict):
        source = source.get("name") or source.get("title")
    used = {name for names in _JSON_FIELDS.values() for name in names}
    extra = {k: v for k, v in record.items() if k not in used}
    external = _first(record, *_JSON_FIELDS["id"])
    return _make_article(
        body,
        path,
        title=str(_first(record, *_JSON_FIELDS["title"]) or "") or None,
        source=str(source) if source else None,
        published_at=_first(record, *_JSON_FIELDS["published_at"]),
        url=str(_first(record, *_JSON_FIELDS["url"]) or "") or None,
        external_id=str(external) if external is not None else None,
        extra=extra,
    )


# --- files and folders ---------------------------------------------------------


@dataclass
class FileResult:
    articles: list[Article] = field(default_factory=list)
    skipped: list[Skip] = field(default_factory=list)


def _size(n: int) -> str:
    return f"{n / 1048576:.1f} MB" if n >= 1048576 else f"{n / 1024:.1f} KB"


def _read_regular(file: Path, max_bytes: int) -> bytes:
    """The bytes of a regular file of at most ``max_bytes``. Opened without blocking and
    checked on the open descriptor, so a FIFO or device put in the file's place after the
    folder was scanned is refused, not waited on or read forever."""
    fd = os.open(file, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(fd)
        kind = special_kind(info.st_mode)
        if kind:
            raise Unreadable(f"{kind}, not a regular file; only regular files are read")
        if info.st_size > max_bytes:
            raise Unreadable(
                f"file is {_size(info.st_size)}, over the {_size(max_bytes)} limit "
                "(RAG_MAX_FILE_MB)"
            )
        data = handle.read(max_bytes + 1)  # a file still growing stops at the limit
    if len(data) > max_bytes:
        raise Unreadable(f"file grew past the {_size(max_bytes)} limit (RAG_MAX_FILE_MB)")
    return data


def read_file(file: Path, rel: str, max_bytes: int) -> FileResult:
    """Read one file. Never raises for bad content: problems become skips."""
    result = FileResult()
    suffix = file.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        result.skipped.append(
            Skip(
                rel,
                f"unsupported file type {suffix or '(none)'}; "
                "use .txt, .md, .html, .json, .jsonl, .pdf, .docx or .mhtml",
            )
        )
        return result
    try:
        data = _read_regular(file, max_bytes)
        if suffix in DOCUMENT_SUFFIXES:
            if not data.strip():
                raise Unreadable("empty file")
            result.articles.append(read_document(data, suffix, rel))
            return result
        text = decode(data)
    except OSError as exc:
        result.skipped.append(Skip(rel, os_problem(exc)))
        return result
    except Unreadable as exc:
        result.skipped.append(Skip(rel, str(exc)))
        return result

    if suffix == ".jsonl":
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            where = f"{rel}#{number}"
            try:
                result.articles.append(read_record(json.loads(line), where))
            except json.JSONDecodeError as exc:
                result.skipped.append(
                    Skip(where, f"invalid JSON on line {number}: {exc.msg} (column {exc.colno})")
                )
            except Unreadable as exc:
                result.skipped.append(Skip(where, str(exc)))
        if not result.articles and not result.skipped:
            result.skipped.append(Skip(rel, "empty file"))
        return result

    try:
        if suffix == ".json":
            try:
                data = json.loads(text)
            except json.JSONDecodeError as exc:
                raise Unreadable(
                    f"invalid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
                ) from None
            records = data if isinstance(data, list) else [data]
            if not records:
                raise Unreadable("empty JSON list: no articles")
            # Items count from 1, as JSON Lines' lines do: the item a person counts.
            for number, record in enumerate(records, start=1):
                where = rel if len(records) == 1 else f"{rel}#{number}"
                try:
                    result.articles.append(read_record(record, where))
                except Unreadable as exc:
                    result.skipped.append(Skip(where, str(exc)))
        elif suffix in (".html", ".htm"):
            result.articles.append(read_html(text, rel))
        else:
            result.articles.append(read_plain(text, rel))
    except Unreadable as exc:
        result.skipped.append(Skip(rel, str(exc)))
    return result


def iter_article_files(root: Path) -> Iterator[tuple[Path, str]]:
    """Files under ``root`` in a stable order, skipping hidden files and folders, folder
    defaults (``_source.toml``) and the entries :func:`rag.indexing.folder.walk` gives a reason for
    (the indexer reports those).

    ``root`` may also be a single file (a JSON Lines corpus, say).
    """
    for entry in walk(root):
        if not isinstance(entry, Skip) and not is_defaults_file(entry[1]):
            yield entry
