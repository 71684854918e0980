"""The text of PDF and Word (.docx) files, with the title, date and author they carry,
and the page inside a saved web page (.mhtml).

A PDF's text layer is read with pypdf, page by page. Its lines are where the page
wrapped them, so they are joined back into paragraphs: a word hyphenated at a line's
end is made whole ("inter-" + "national" → "international"), the other lines of a
paragraph are joined with a space, and a paragraph ends where the page leaves a
vertical gap (or, on a page set in columns, at a short line that ends a sentence).
Bare page numbers are dropped. A .docx keeps its own paragraphs; tables are read
cell by cell, in document order.

What comes out is plain text with a blank line between paragraphs, read further by
:mod:`rag.indexing.loaders` as any text article is. A saved page (.mhtml, .mht: a browser's
"Save page as… single file") is a MIME message: its HTML part, decoded from its
transfer encoding and charset, is read by :mod:`rag.indexing.loaders` as any HTML article is,
with the address the page was saved from. A file that cannot be read raises
:class:`DocumentError` with one line a user can act on: a scanned PDF without a
text layer, one locked with a password, a file that is not what its name says.
"""

from __future__ import annotations

import codecs
import email
import email.errors
import email.policy
import io
import logging
import re
import zipfile
from dataclasses import dataclass
from datetime import datetime
from typing import Any

# Damaged files make pypdf log each repair it attempts; the reason a file is skipped
# is reported once, in the index summary, instead.
logging.getLogger("pypdf").setLevel(logging.ERROR)


_RESAVE = "open it and save it again, or export it anew"


class DocumentError(Exception):
    """A PDF or .docx that yields no text, and why."""


@dataclass
class Document:
    """Paragraphs separated by blank lines, and the metadata the file itself holds."""

    text: str
    title: str | None = None
    published_at: datetime | None = None
    author: str | None = None


# --- PDF ------------------------------------------------------------------------

_PAGE_NUMBER = re.compile(r"(?i)^(?:page\s+)?\d{1,4}(?:\s*(?:/|of)\s*\d{1,4})?$")
# Layout mode places words by their position: a run of spaces inside a line is a gap
# between columns (justified text is still written with single spaces).
_GUTTER = re.compile(r"\S {3,}\S")
_SENTENCE_END = re.compile(r"[.!?][\"'”’)]*$")
_HYPHENATED = re.compile(r"[^\W\d_]-$")
# Titles that name the file or the program, not the article.
_NO_TITLE = re.compile(
    r"(?i)^(?:untitled\S*|microsoft \w+ - .*|.*\.(?:docx?|pdf|rtf|odt|txt|indd|qxd))$"
)
SHORT_LINE = 0.8  # of the page's longest line: a sentence ending there ends a paragraph


def read_pdf(data: bytes) -> Document:
    """The text layer of a PDF, as paragraphs, with its /Title, /Author and date."""
    import pypdf
    from pypdf.errors import DependencyError, FileNotDecryptedError

    try:
        reader = pypdf.PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            try:
                # Many PDFs are locked against editing only, readable with an empty password.
                opened = reader.decrypt("")
            except (DependencyError, NotImplementedError) as exc:
                raise DocumentError(
                    f"encrypted PDF that cannot be opened here ({exc}); "
                    "save a copy without the password and add that"
                ) from None
            if opened == pypdf.PasswordType.NOT_DECRYPTED:
                raise DocumentError(
                    "encrypted PDF: it needs a password to open; "
                    "save a copy without the password and add that"
                )
        pages = [_page_text(page) for page in reader.pages]
        info = _pdf_info(reader)
    except DocumentError:
        raise
    except FileNotDecryptedError:
        raise DocumentError(
            "encrypted PDF: it needs a password to open; "
            "save a copy without the password and add that"
        ) from None
    except Exception as exc:  # pypdf raises many kinds of errors on a damaged file
        raise DocumentError(f"damaged PDF, cannot be read ({_why(exc)}); {_RESAVE}") from None
    text = _join_pages(pages)
    if not text.strip():
        where = f"its {len(pages)} pages" if len(pages) != 1 else "its page"
        raise DocumentError(
            f"PDF without a text layer (a scan or images only): no text on {where}; "
            "run it through OCR (e.g. ocrmypdf) and add the result"
            if pages
            else "PDF without pages: no text"
        )
    return Document(text, *info)


def _why(exc: BaseException) -> str:
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


def _page_text(page: Any) -> list[list[str]]:
    """One page's paragraphs, each a list of its lines (stripped, not yet joined)."""
    laid_out = str(page.extract_text(extraction_mode="layout") or "")
    lines = laid_out.splitlines()
    filled = [line for line in lines if line.strip()]
    if filled and sum(bool(_GUTTER.search(line.strip())) for line in filled) * 3 >= len(filled):
        # Set in columns: layout mode runs the columns side by side; the plain mode reads
        # them one after the other, without the gaps, so paragraphs end at short lines.
        return _by_short_lines(str(page.extract_text() or "").splitlines())
    paragraphs: list[list[str]] = [[]]
    for line in lines:
        stripped = " ".join(line.split())
        if not stripped:
            if paragraphs[-1]:
                paragraphs.append([])
        elif not _PAGE_NUMBER.match(stripped):
            paragraphs[-1].append(stripped)
    return [p for p in paragraphs if p]


def _by_short_lines(lines: list[str]) -> list[list[str]]:
    kept = [" ".join(line.split()) for line in lines]
    kept = [line for line in kept if line and not _PAGE_NUMBER.match(line)]
    longest = max((len(line) for line in kept), default=0)
    paragraphs: list[list[str]] = [[]]
    for line in kept:
        paragraphs[-1].append(line)
        if _SENTENCE_END.search(line) and len(line) < SHORT_LINE * longest:
            paragraphs.append([])
    return [p for p in paragraphs if p]


def _join_pages(pages: list[list[list[str]]]) -> str:
    """Paragraphs of every page; one a page break cut mid-sentence is joined again."""
    paragraphs: list[list[str]] = []
    for page in pages:
        for number, paragraph in enumerate(page):
            continues = (
                number == 0
                and paragraphs
                and not _SENTENCE_END.search(paragraphs[-1][-1])
                and paragraph[0][:1].islower()
            )
            if continues:
                paragraphs[-1] += paragraph
            else:
                paragraphs.append(list(paragraph))
    return "\n\n".join(unwrap(p) for p in paragraphs)


def unwrap(lines: list[str]) -> str:
    """One paragraph's lines as one line: a word hyphenated at a line's end is joined.

    >>> unwrap(["an inter-", "national deal", "was signed"])
    'an international deal was signed'
    >>> unwrap(["the Franco-", "German border"])
    'the Franco-German border'
    """
    text = lines[0]
    for line in lines[1:]:
        # "inter-" + "national": the hyphen only broke the word; before a capital
        # ("Franco-" + "German") it belongs to the name.
        if _HYPHENATED.search(text) and line[:1].islower():
            text = text[:-1] + line
        elif text.endswith("-") and line[:1].isupper():
            text += line
        else:
            text += " " + line
    return text


def _pdf_info(reader: Any) -> tuple[str | None, datetime | None, str | None]:
    try:
        info = reader.metadata
    except Exception:  # a damaged /Info dictionary: the text is still worth reading
        return None, None, None
    if info is None:
        return None, None, None
    title = _text(info.get("/Title"))
    author = _text(info.get("/Author"))
    day = None
    for name in ("creation_date", "modification_date"):
        try:
            day = getattr(info, name)
        except (ValueError, TypeError):  # a date pypdf cannot parse
            day = None
        if day is not None:
            break
    return _title(title), day, author


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = " ".join(str(value).split())
    return text or None


def _title(value: str | None) -> str | None:
    return None if value is None or _NO_TITLE.match(value) else value


# --- DOCX -----------------------------------------------------------------------

_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# What python-docx writes into a document nobody set the properties of.
_TEMPLATE_AUTHOR = "python-docx"
_TEMPLATE_CREATED = datetime.fromisoformat("2013-12-23T23:15:00+00:00")
_TITLE_STYLES = ("Title", "Heading 1")


def read_docx(data: bytes) -> Document:
    """The paragraphs of a .docx (tables cell by cell), with its core properties."""
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    if data.startswith(_OLE):
        raise DocumentError(
            "a Word file locked with a password, or in the old .doc format; "
            "save it as .docx without a password and add that"
        )
    try:
        document = docx.Document(io.BytesIO(data))
        blocks = list(_blocks(document))
        properties = document.core_properties
        title = _text(properties.title)
        author = _text(properties.author)
        created = properties.created
    except (zipfile.BadZipFile, PackageNotFoundError):
        raise DocumentError(
            f"damaged .docx, cannot be read (not a Word document's zip package); {_RESAVE}"
        ) from None
    except Exception as exc:  # python-docx and lxml raise many kinds on a damaged file
        raise DocumentError(f"damaged .docx, cannot be read ({_why(exc)}); {_RESAVE}") from None
    if author == _TEMPLATE_AUTHOR:
        author = None
    if created == _TEMPLATE_CREATED:
        created = None
    # A first paragraph styled as a title is the headline readers see, however short: it
    # outranks the title property, which templates and old drafts leave stale.
    if blocks and blocks[0][1] in _TITLE_STYLES:
        title = blocks[0][0]
        blocks = blocks[1:]
    return Document("\n\n".join(text for text, _ in blocks), _title(title), created, author)


def _blocks(document: Any) -> Any:
    """(text, style name) of every non-empty paragraph, table cells included, in order."""
    from docx.table import Table

    for block in document.iter_inner_content():
        if isinstance(block, Table):
            for row in block.rows:
                seen = set()  # a merged cell is listed once per column it spans
                for cell in row.cells:
                    if id(cell._tc) in seen:
                        continue
                    seen.add(id(cell._tc))
                    for paragraph in cell.paragraphs:
                        text = " ".join(paragraph.text.split())
                        if text:
                            yield text, ""
            continue
        text = " ".join(block.text.split())
        if text:
            style = block.style.name if block.style is not None else ""
            yield text, style


# --- saved web pages (.mhtml) ----------------------------------------------------

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([\w.:-]+)""", re.I)
# Parts whose transfer encoding could not be undone: what they hold is not the page.
_UNDECODABLE = (email.errors.InvalidBase64LengthDefect, email.errors.InvalidBase64CharactersDefect)
_SAVE_AGAIN = "open the page and save it again (Save page as… Webpage, Single File)"


@dataclass
class SavedPage:
    """The HTML of a saved web page and the address it was saved from."""

    html: str
    url: str | None


def read_mhtml(data: bytes) -> SavedPage:
    """The page of a ``.mhtml`` / ``.mht`` file: the root ``text/html`` part (the one the
    ``start`` parameter names, else the first), decoded from quoted-printable or base64
    and from its charset (the part's header, else the page's ``<meta charset>``, else
    UTF-8 or Windows-1252), with the address from ``Snapshot-Content-Location`` (Chrome,
    Edge) or the part's ``Content-Location``."""
    try:
        message = email.message_from_bytes(data, policy=email.policy.compat32)
        parts = [part for part in message.walk() if part.get_content_type() == "text/html"]
    except Exception as exc:  # the parser is lenient; anything it raises is damage
        raise DocumentError(f"damaged .mhtml ({_why(exc)}); {_SAVE_AGAIN}") from None
    if any(isinstance(d, email.errors.CloseBoundaryNotFoundDefect) for d in message.defects):
        raise DocumentError(
            f"damaged .mhtml: it ends inside its parts (cut short while saving or copying); "
            f"{_SAVE_AGAIN}"
        )
    if not parts:
        found = message.get_content_type() if message.get("Content-Type") else "no MIME headers"
        raise DocumentError(f"not a saved web page: no HTML part ({found}); {_SAVE_AGAIN}")
    start = message.get_param("start") if message.is_multipart() else None
    root = next((p for p in parts if start and _cid(p.get("Content-ID")) == _cid(start)), parts[0])
    body = root.get_payload(decode=True)
    if not isinstance(body, bytes) or any(isinstance(d, _UNDECODABLE) for d in root.defects):
        raise DocumentError(f"damaged .mhtml: its page's base64 cannot be decoded; {_SAVE_AGAIN}")
    html = _decode_page(body, root.get_content_charset())
    url = "".join(str(message.get("Snapshot-Content-Location") or "").split()) or "".join(
        str(root.get("Content-Location") or "").split()
    )
    return SavedPage(html, url or None)


def _cid(value: object) -> str:
    return str(value or "").strip().strip("<>")


def _decode_page(body: bytes, charset: str | None) -> str:
    if not charset:
        declared = _META_CHARSET.search(body[:4096])
        charset = declared.group(1).decode("ascii") if declared else None
    if charset:
        try:
            codecs.lookup(charset)
        except LookupError:
            charset = None
    if charset:
        # A page saved with a wrong charset still has its words: the bad bytes become "�".
        return body.decode(charset, errors="replace")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return body.decode("cp1252", errors="replace")
