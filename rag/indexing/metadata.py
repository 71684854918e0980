"""Title, source and date: read from fields when a format has them, inferred from text when not.

Plain-text articles from the web arrive with debris around the story:
breadcrumbs ("Home > Announcement Board"), bare section tags ("China US"),
datelines, and trailers ("Content Source: www.washingtontimes.com"). These
helpers peel that debris off and turn it into metadata.
"""

from __future__ import annotations

import email.utils
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlparse

from rag.text.outlets import outlet_name

_BREADCRUMB = re.compile(r"\s(?:>|»|›|/|\|)\s")
_TERMINAL = re.compile(r"[.!;:,]$")
_TRAILER = re.compile(
    r"^(?:content\s+)?(?:source|originally published (?:by|in|on)|via)"
    r"\s*[:\-–]\s*(?P<source>.{2,120})$",
    re.IGNORECASE,
)
_FRONT_MATTER = re.compile(r"\A---\n(?P<body>.*?)\n---(?:\n|\Z)", re.DOTALL)
_DATELINE = re.compile(r"^[A-Z][A-Z .,'-]{2,40}(?:\s*\([^)]{1,30}\))?\s*[—–-]+\s*")
_MD_HEADING = re.compile(r"^#{1,6}\s+")
# "TechCrunch, November 24, 2023", "*Sport Grill — November 6, 2023*",
# "By Jane Doe · Reuters · 24 Nov 2023", "November 24, 2023": the line under a headline
# naming the outlet (and maybe the writer) and the day. Parts split on a dash, a middle
# dot, a bar or a comma that comes before the date.
_EMPHASIS = re.compile(r"^[*_]{1,2}(?P<inner>.+?)[*_]{1,2}$")
_PART = re.compile(r"\s+[—–|·•]\s+|\s+-\s+")
BYLINE_MAX_WORDS = 14
# "Published: Nov. 21, 2023 10:15 a.m. ET", "**Source:** Reuters": a labelled line near the
# top. The first label of each kind counts; a publication day outranks an update's.
_LABELLED = re.compile(
    r"(?i)^(?P<label>published(?: on)?|first published|posted(?: on)?|date|updated|"
    r"last updated|source)\s*:\s*(?P<value>\S.{0,118})$"
)
_DATE_LABELS = ("published", "first published", "posted", "date", "updated", "last updated")
# "By Jane Doe for Reuters", "By Jane Doe and Li Wei": a writer's line; "for" names the outlet.
_NAME = r"[A-Z][\w.'’-]+(?: [A-Z][\w.'’-]+){0,3}"
_WRITERS = re.compile(
    rf"^By (?P<writers>{_NAME}(?:(?:,| and| &) {_NAME})*)"
    r"(?: for (?P<outlet>(?:the )?[A-Z][\w&.'’ -]{1,40}))?$"
)
# "WASHINGTON, Nov 21 (Reuters) -", "BEIJING (AP) —": a story's opening dateline naming the
# news agency in brackets; the day counts only when it gives the year.
_AGENCY_DATELINE = re.compile(
    r"^[A-Z][A-Z .'’-]{1,40}(?:, [A-Z][\w.]*(?: [A-Z][\w.]*)?)?"
    r"(?:, (?P<day>[\w .,]{3,30}?))? \((?P<agency>[A-Z][\w&.' ]{0,29})\) [—–-]+ "
)
# Dates inside a longer line ("Nov. 21, 2023 at 10:15 a.m. ET"), handed to parse_date.
_MONTH = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.?"
_DATE_IN = re.compile(
    r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2})?(?:Z|[+-]\d{2}:?\d{2})?)?"
    rf"|{_MONTH} \d{{1,2}}, \d{{4}}|\d{{1,2}} {_MONTH} \d{{4}}|\d{{4}}/\d{{2}}/\d{{2}}"
)

TITLE_MAX_WORDS = 30
HEADER_LINES = 4  # lines under a headline read for its outlet, day and writer
TAG_MAX_WORDS = 3
FALLBACK_TITLE_CHARS = 90

_DATE_FORMATS = (
    "%Y/%m/%d",
    "%d/%m/%Y",
    "%B %d, %Y",
    "%b %d, %Y",
    "%b. %d, %Y",
    "%d %B %Y",
    "%d %b %Y",
    "%B %d, %Y %H:%M",
)


@dataclass
class Header:
    """What was peeled off a plain-text article, and the body that remains."""

    body: str
    title: str | None = None
    source: str | None = None
    published_at: str | None = None
    fields: dict[str, Any] = field(default_factory=dict)
    author: str | None = None


def parse_date(value: Any) -> str | None:
    """An ISO 8601 string for ``value``, or None when it cannot be read as a date.

    >>> parse_date("2023-11-27T08:45:59+00:00"), parse_date("July 14, 2023"), parse_date("soon")
    ('2023-11-27T08:45:59+00:00', '2023-07-14', None)
    """
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.isoformat()
    text = str(value).strip()
    if not text:
        return None
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        return parsed.date().isoformat() if len(text) <= 10 else parsed.isoformat()
    except ValueError:
        pass
    for fmt in _DATE_FORMATS:
        try:
            parsed = datetime.strptime(text, fmt)
        except ValueError:
            continue
        return parsed.date().isoformat() if "%H" not in fmt else parsed.isoformat()
    try:
        return email.utils.parsedate_to_datetime(text).isoformat()
    except (TypeError, ValueError, IndexError):
        return None


def find_date(text: str) -> str | None:
    """The first date written in ``text``, read by :func:`parse_date`; None without one.

    >>> find_date("Nov. 21, 2023 at 10:15 a.m. ET"), find_date("updated 2023-11-21 09:30")
    ('2023-11-21', '2023-11-21T09:30:00')
    >>> find_date("Tuesday")
    """
    whole = parse_date(text)
    if whole:
        return whole
    for match in _DATE_IN.finditer(text):
        day = parse_date(match.group(0).replace("Sept", "Sep"))
        if day:
            return day
    return None


def source_from_url(url: str | None) -> str | None:
    """The host of ``url`` without ``www.``: "https://www.apnews.com/x" → "apnews.com"."""
    if not url:
        return None
    try:
        host = urlparse(url if "//" in url else f"//{url}").hostname or ""
    except ValueError:  # "http://[broken" is no host, not a reason to stop indexing
        return None
    host = host.removeprefix("www.")
    return host or None


def normalise_source(value: str | None) -> str | None:
    if not value:
        return None
    value = value.strip()
    if re.fullmatch(r"(?:https?://)?(?:www\.)?[\w-]+(?:\.[\w-]+)+/?\S*", value):
        return source_from_url(value)
    return value or None


def split_front_matter(text: str) -> tuple[dict[str, str], str]:
    """``key: value`` lines between leading ``---`` fences, and the text after them."""
    match = _FRONT_MATTER.match(text)
    if not match:
        return {}, text
    fields: dict[str, str] = {}
    for line in match.group("body").splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip():
            fields[key.strip().lower()] = _unquote(value.strip())
    return fields, text[match.end() :]


def _unquote(value: str) -> str:
    """A YAML-style quoted value without its quotes: only a matching pair is removed, so
    ``"… basically'"`` keeps its closing apostrophe and ``'90s`` its opening one."""
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value


def _is_breadcrumb(line: str) -> bool:
    return bool(_BREADCRUMB.search(line)) and len(line.split()) <= 12 and not _TERMINAL.search(line)


def _is_section_tag(line: str) -> bool:
    return len(line.split()) <= TAG_MAX_WORDS and not _TERMINAL.search(line)


def _is_title(line: str) -> bool:
    words = line.split()
    return TAG_MAX_WORDS < len(words) <= TITLE_MAX_WORDS and not line.endswith((".", ",", ";"))


def fallback_title(body: str) -> str:
    """A title made from the first sentence, without its dateline, cut at a word."""
    first = body.strip().split("\n", 1)[0]
    first = _DATELINE.sub("", first)
    first = re.split(r"(?<=[.!?])\s", first, maxsplit=1)[0]
    if len(first) <= FALLBACK_TITLE_CHARS:
        return first.rstrip(".")
    cut = first[:FALLBACK_TITLE_CHARS].rsplit(" ", 1)[0]
    return cut.rstrip(",;:") + "…"


def byline(line: str) -> tuple[str | None, str] | None:
    """(outlet or None, ISO date) from a line under a headline that gives the day and
    perhaps the outlet and writer; None for any other line.

    >>> byline("TechCrunch, November 24, 2023"), byline("*Sport Grill — November 6, 2023*")
    (('TechCrunch', '2023-11-24'), ('Sport Grill', '2023-11-06'))
    >>> byline("By Jane Doe · 24 Nov 2023"), byline("Officials met on November 24, 2023.")
    ((None, '2023-11-24'), None)
    """
    line = line.strip()
    emphasis = _EMPHASIS.match(line)
    if emphasis:
        line = emphasis.group("inner").strip()
    if not line or len(line.split()) > BYLINE_MAX_WORDS or _TERMINAL.search(line):
        return None
    parts = [p.strip() for p in _PART.split(line) if p.strip()]
    day = parse_date(parts[-1])
    if day is None and "," in parts[-1]:
        # "TechCrunch, November 24, 2023": the outlet before the first comma
        head, _, tail = parts[-1].partition(",")
        day = parse_date(tail.strip())
        parts = [*parts[:-1], head.strip(), tail.strip()] if day else parts
    if day is None:
        return None
    # Not a writer ("By Jane Doe"), nor a dateline's place in capitals ("WASHINGTON").
    names = [
        p for p in parts[:-1] if not re.match(r"(?i)by\s", p) and not (p.isupper() and len(p) > 4)
    ]
    if any(len(n.split()) > 6 for n in names):
        return None
    return (normalise_source(names[-1]) if names else None), day


class _Labels:
    """What labelled and writers' lines near the top said: the first of each kind."""

    def __init__(self) -> None:
        self.found: dict[str, str] = {}

    def take(self, line: str) -> bool:
        """Whether ``line`` is such a line (then it is metadata, not story)."""
        plain = line.replace("**", "").replace("__", "").strip().strip("*_").strip()
        labelled = _LABELLED.match(plain)
        if labelled:
            label = labelled.group("label").lower().replace(" on", "")
            value = labelled.group("value").strip()
            if label == "source":
                found = normalise_source(outlet_name(value))
            else:
                found = find_date(value)
                label = "updated" if "updated" in label else "published"
            if found is None:
                return False
            self.found.setdefault(label, found)
            return True
        writers = _WRITERS.match(plain)
        if writers and len(plain.split()) <= BYLINE_MAX_WORDS:
            self.found.setdefault("author", writers.group("writers"))
            if writers.group("outlet"):
                self.found.setdefault("outlet", outlet_name(writers.group("outlet")))
            return True
        return False

    @property
    def day(self) -> str | None:
        return self.found.get("published") or self.found.get("updated")

    @property
    def source(self) -> str | None:
        return self.found.get("source") or self.found.get("outlet")


def agency_dateline(paragraph: str) -> tuple[str, str | None] | None:
    """(agency, ISO day or None) from a story's opening dateline that names its agency.

    >>> agency_dateline("WASHINGTON, Nov 21 (Reuters) - The Fed held rates.")
    ('Reuters', None)
    >>> agency_dateline("GENEVA, Nov. 21, 2023 (AFP) — Talks ended.")
    ('AFP', '2023-11-21')
    >>> agency_dateline("BEIJING — The top official said.")
    """
    match = _AGENCY_DATELINE.match(paragraph)
    if not match:
        return None
    day = match.group("day")
    return outlet_name(match.group("agency")), find_date(day) if day else None


def peel_plain_text(text: str) -> Header:
    """Split cleaned plain text into header debris, title, body and trailer source.

    Leading breadcrumbs and bare section tags are dropped; the first line that
    reads like a headline becomes the title, and a line under it giving the day (and
    perhaps the outlet, :func:`byline`) the date and source; a closing
    "Content Source: …" line becomes the source. Labelled lines above or under the
    headline ("Published: …", "Updated: …", "Date: …", "Source: …") and a writers' line
    ("By Jane Doe for Reuters") give the date, source and author and leave the story.
    Without those, an opening dateline naming its agency ("WASHINGTON, Nov 21 (Reuters)
    -", kept in the story) gives the source, and the day when it has the year. The body
    is everything else, unchanged.
    """
    fields, text = split_front_matter(text)
    lines = text.split("\n")
    labels = _Labels()
    title: str | None = None
    start = 0
    for index, line in enumerate(lines):
        stripped = _MD_HEADING.sub("", line).strip()
        if not stripped:
            continue
        has_more = any(rest.strip() for rest in lines[index + 1 :])
        if not has_more:
            break
        if _is_breadcrumb(stripped) or labels.take(stripped):
            start = index + 1
            continue
        if _is_title(stripped):
            title = stripped
            start = index + 1
            break
        if _is_section_tag(stripped):
            start = index + 1
            continue
        break

    published: str | None = None
    source: str | None = None
    # The lines under the headline may name the outlet, the day and the writer: metadata,
    # not story.
    for _ in range(HEADER_LINES if title is not None else 0):
        at = next((i for i in range(start, len(lines)) if lines[i].strip()), None)
        if at is None or not any(rest.strip() for rest in lines[at + 1 :]):
            break
        found = byline(lines[at])
        if found is not None and published is None:
            source, published = found
        elif not labels.take(lines[at].strip()):
            break
        start = at + 1
    published = published or labels.day
    source = source or labels.source
    end = len(lines)
    for index in range(len(lines) - 1, start - 1, -1):
        stripped = lines[index].strip()
        if not stripped:
            continue
        match = _TRAILER.match(stripped)
        if match:
            source = normalise_source(match.group("source"))
            end = index
        break

    body = "\n".join(lines[start:end]).strip()
    if source is None or published is None:
        dateline = agency_dateline(body)
        if dateline is not None:
            source = source or dateline[0]
            published = published or dateline[1]
    return Header(
        body=body,
        title=title,
        source=source,
        published_at=published,
        fields=fields,
        author=labels.found.get("author"),
    )
