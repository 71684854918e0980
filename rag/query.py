"""What a question says about itself: its type, and the outlets, titles and dates it names.

"What did the TechCrunch article published on November 27 say…" names a
source and a date; retrieval turns those into boosts.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from rag.lexical import tokens

MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ],
        start=1,
    )
    for name in names
}
_MONTH = "|".join(sorted(MONTHS, key=len, reverse=True))
_MONTH_DAY = re.compile(
    rf"\b({_MONTH})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?(?:,?\s+(\d{{4}}))?\b", re.I
)
_DAY_MONTH = re.compile(
    rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+({_MONTH})\.?(?:,?\s+(\d{{4}}))?\b", re.I
)
_ISO_DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")

LIST_CUES = re.compile(
    r"^(?:list|name|which (?:\w+ ){0,3}(?:companies|countries|officials|people|firms|"
    r"issues|areas|topics|industries|representatives|members)|what (?:are|were) the)\b",
    re.I,
)


@dataclass
class QuestionInfo:
    text: str
    kind: str  # who | when | where | how_many | list | yes_no | what
    sources: list[str] = field(default_factory=list)
    dates: list[tuple[int | None, int, int]] = field(default_factory=list)  # (year, month, day)
    title_articles: list[str] = field(default_factory=list)


def question_kind(question: str) -> str:
    q = question.strip().lower()
    if LIST_CUES.search(q):
        return "list"
    for kind, pattern in (
        ("who", r"^(?:who|whom|whose)\b|\bwho\b"),
        ("when", r"^when\b|\bwhat (?:day|date|time|year|month)\b|\bon which (?:day|date)\b"),
        ("where", r"^where\b|\bin which (?:city|country|place)\b"),
        ("how_many", r"^how (?:many|much)\b|\bwhat (?:number|percentage|amount)\b"),
        ("yes_no", r"^(?:is|are|was|were|do|does|did|has|have|had|can|could|will|would|should)\b"),
    ):
        if re.search(pattern, q):
            return kind
    return "what"


def mentioned_dates(question: str) -> list[tuple[int | None, int, int]]:
    found: list[tuple[int | None, int, int]] = []
    for match in _MONTH_DAY.finditer(question):
        month, day, year = MONTHS[match.group(1).lower()], int(match.group(2)), match.group(3)
        found.append((int(year) if year else None, month, day))
    for match in _DAY_MONTH.finditer(question):
        day, month, year = int(match.group(1)), MONTHS[match.group(2).lower()], match.group(3)
        found.append((int(year) if year else None, month, day))
    for match in _ISO_DATE.finditer(question):
        found.append((int(match.group(1)), int(match.group(2)), int(match.group(3))))
    return [d for d in found if 1 <= d[2] <= 31]


def date_matches(published_at: str | None, mention: tuple[int | None, int, int]) -> bool:
    if not published_at:
        return False
    try:
        day = date.fromisoformat(published_at[:10])
    except ValueError:
        return False
    year, month, dom = mention
    return day.month == month and day.day == dom and (year is None or day.year == year)


def mentioned_sources(question: str, sources: Iterable[str]) -> list[str]:
    """Indexed source names that the question mentions, as whole words, ignoring case."""
    q = question.lower()
    found = []
    for source in sources:
        names = {source.lower()}
        if "." in source:  # a host such as washingtontimes.com
            names.add(source.lower().rsplit(".", 1)[0])
        if any(re.search(rf"(?<!\w){re.escape(n)}(?!\w)", q) for n in names if len(n) >= 3):
            found.append(source)
    return found


def mentioned_titles(question: str, titles: dict[str, str], min_share: float = 0.7) -> list[str]:
    """Article ids whose title words mostly appear in the question (a quoted or named title)."""
    q = set(tokens(question))
    hits = []
    for article_id, title in titles.items():
        words = set(tokens(title))
        if len(words) >= 3 and len(words & q) / len(words) >= min_share:
            hits.append(article_id)
    return hits


def analyse(question: str, sources: Iterable[str], titles: dict[str, str]) -> QuestionInfo:
    return QuestionInfo(
        text=question,
        kind=question_kind(question),
        sources=mentioned_sources(question, sources),
        dates=mentioned_dates(question),
        title_articles=mentioned_titles(question, titles),
    )
