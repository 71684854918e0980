"""Relative dates in an article ("on Tuesday", "late Friday", "yesterday") made absolute.

They are resolved against the article's publication date: a weekday is the
most recent such day on or before it, unless the sentence speaks of the future
("will", "next Tuesday"), when it is the next one.

>>> from datetime import date
>>> resolve("late Friday", date(2023, 11, 18), "Altman was fired late Friday.")
datetime.date(2023, 11, 17)
>>> spell(date(2023, 11, 17))
'Friday, 17 November 2023'
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, timedelta

from rag.query import MONTHS, mentioned_dates

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_WEEKDAY = re.compile(rf"\b(last|next|this|on)?\s*\b({'|'.join(WEEKDAYS)})\b", re.I)
_DAY_WORDS = {
    "today": 0,
    "tonight": 0,
    "this morning": 0,
    "this afternoon": 0,
    "this evening": 0,
    "yesterday": -1,
    "tomorrow": 1,
}
FUTURE = re.compile(
    r"\b(?:will|would|is set to|are set to|is due to|scheduled|next|plans? to|"
    r"is expected to|are expected to|slated|upcoming|to be held|set for|due (?:in|on|by)|"
    r"(?:is|are|looks|seems|appears) likely to|(?:is|are) going to|poised to|intends? to)\b",
    re.I,
)
# A span naming an explicit date needs no resolution.
_EXPLICIT = re.compile(
    r"\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+\d{1,2}\b|\b\d{4}\b|"
    r"\b\d{1,2}\s+(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)",
    re.I,
)


def published_day(published_at: str | None) -> date | None:
    """The calendar day of an ISO publication timestamp, or None."""
    try:
        return date.fromisoformat((published_at or "")[:10])
    except ValueError:
        return None


def resolve(span: str, published: date, sentence: str = "") -> date | None:
    """The day ``span`` refers to, for an article published on ``published``; None when
    the span is explicit already or names no relative day."""
    lowered = span.lower()
    if _EXPLICIT.search(span):
        return None
    for words, shift in _DAY_WORDS.items():
        if re.search(rf"\b{words}\b", lowered):
            return published + timedelta(days=shift)
    match = _WEEKDAY.search(lowered)
    if not match:
        return None
    qualifier, weekday = (match.group(1) or "").lower(), WEEKDAYS.index(match.group(2).lower())
    back = (published.weekday() - weekday) % 7
    forward = (weekday - published.weekday()) % 7
    if qualifier == "next" or (qualifier != "last" and _ahead(span, sentence) and forward):
        return published + timedelta(days=forward or 7)
    if qualifier == "last":
        return published - timedelta(days=back or 7)
    return published - timedelta(days=back)


# Verbs of the past: a day beside one ("was informed on Thursday night that he would be
# fired", "posted Friday") is a day gone by, whatever future the sentence speaks of.
_PAST_VERB = re.compile(r"\b(?:was|were|had|did|said|told|met|\w{3,}ed)\b", re.I)


def _ahead(span: str, sentence: str) -> bool:
    """Whether the sentence speaks of ``span``'s day as to come: a word of the future
    (:data:`FUTURE`) is nearer to it than any verb of the past."""
    at = sentence.find(span)
    if at < 0:
        return bool(FUTURE.search(sentence))
    end = at + len(span)

    def nearest(pattern: re.Pattern[str]) -> float:
        gaps = [
            at - m.end() if m.end() <= at else m.start() - end
            for m in pattern.finditer(sentence)
            if m.end() <= at or m.start() >= end
        ]
        return min(gaps, default=float("inf"))

    future = nearest(FUTURE)
    return future != float("inf") and future < nearest(_PAST_VERB)


_PAST = re.compile(
    r"\b(?:ago|last (?:week|month|year|season|spring|summer|autumn|fall|winter)|"
    r"earlier this (?:week|month|year)|yesterday|previously)\b",
    re.I,
)
_YEAR = re.compile(r"\b(19|20)\d{2}\b")


def before_publication(span: str, published: date, sentence: str = "") -> bool:
    """Whether the time ``span`` names lies before the publication day ``published``:
    a past year or month ("August 2022"), a past day ("July 14, 2023"), a relative day
    resolved before it ("last Friday"), or a phrase of the past ("two weeks ago")."""
    if _PAST.search(span):
        return True
    day = resolve(span, published, sentence)
    if day is not None:
        return day < published
    days = mentioned_dates(span)
    if days:
        y, m, d = days[0]
        try:
            return date(y or published.year, m, d) < published
        except ValueError:  # "February 30": no day at all
            return False
    years = [int(m.group(0)) for m in _YEAR.finditer(span)]
    if not years:
        return False
    month = next((n for name, n in MONTHS.items() if re.search(rf"\b{name}\b", span, re.I)), 0)
    return (years[-1], month or 12) < (published.year, published.month)


# A date written without its year ("July 14") lies in the article's year, unless that
# puts it this far after the article: then in the year before.
AHEAD = timedelta(days=31)


def event_day(
    sentence: str, spans: Sequence[str], published: date | None
) -> tuple[date, str] | None:
    """The day a sentence tells of and the words giving it: the first of its date
    ``spans`` that names a day, or None.

    >>> event_day("On July 14, 2023, Zhang met Hart.", ["July 14, 2023"], date(2023, 7, 17))
    (datetime.date(2023, 7, 14), 'July 14, 2023')
    >>> event_day("Altman was fired late Friday.", ["late Friday"], date(2023, 11, 18))
    (datetime.date(2023, 11, 17), 'late Friday')
    """
    for span in spans:
        written = mentioned_dates(span)
        if written:
            year, month, day = written[0]
            year = year or (published.year if published else None)
            if year is None:
                continue
            try:
                found = date(year, month, day)
            except ValueError:
                continue
            if written[0][0] is None and published and found > published + AHEAD:
                found = found.replace(year=year - 1)
            return found, span
        if published is not None:
            resolved = resolve(span, published, sentence)
            if resolved is not None:
                return resolved, span
    return None


def spell(day: date) -> str:
    return f"{day.strftime('%A')}, {day.day} {day.strftime('%B %Y')}"
