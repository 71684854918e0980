"""The stretch of time a question asks about, as a range of publication days.

"What happened yesterday?", "… in the past 3 days", "… this week", "… since
Monday", "… on Tuesday", "… last night", "… last week", "… in October", "… in
late October", "… in Q3 2023", "… in 2023", "… between 20 and 26 November"
each name a range, counted from a reference day (today, or the ``as_of`` day an
archive is asked about as of). A short recent window (up to
:data:`STRICT_DAYS` days) is about the news of those days, so retrieval keeps
to articles published in it; a longer or named one ("in October", "in late
October", "last year") may as well be the time of the events an article
reports later, so its articles are only ranked up.

Vague ones get fixed windows: "in recent days" is the past
:data:`RECENT_DAYS` days (strict); "recently", "lately" and "in recent weeks"
the past :data:`RECENTLY_DAYS` days, ranked up only ("recently" and "lately"
only closing the question: "Which company, recently fined by the EU, …"
describes the company), as is a quarter named
without its year ("in Q4", "during the fourth quarter": the latest such quarter
begun by the reference day; not a game's, nor a company's results', which are
published after it). Those two give way to any other phrase the
question holds ("revenue for the third quarter last Wednesday" is last
Wednesday). A month's "early", "mid-" and "late" are its days 1–10, 11–20 and
21 to its end. "On Monday" is the latest Monday up to the reference day (the
day itself included), unless the question speaks of the future ("will",
"next") or of a day that comes back ("every Monday", "his usual news
conference on Monday"); "this morning" and "tonight" are the day itself, "last night" it and
the day before (last night's news is mostly published the next morning).

>>> period_in("What did Binance say yesterday?", date(2023, 11, 22)).describe()
'on 21 November 2023'
>>> period_in("Any news on OpenAI in the past 3 days?", date(2023, 11, 22)).describe()
'from 20 to 22 November 2023'
>>> period_in("What happened last week?", date(2023, 11, 22)).describe()
'from 13 to 19 November 2023'
"""

from __future__ import annotations

import calendar
import math
import re
from dataclasses import dataclass
from datetime import date, timedelta

from rag.ask.query import mentioned_dates
from rag.ask.relative_dates import FUTURE
from rag.text.words import MONTH, MONTHS, WEEKDAY, WEEKDAYS

# Ranges up to this many days restrict retrieval; longer ones rank their articles up.
STRICT_DAYS = 15  # two weeks back, and the day itself
RECENT_DAYS = 7  # "in recent days": a week, as "the past few days" is about
RECENTLY_DAYS = 30  # "recently", "lately": a month, ranked up only (never restricts)
_NUMBERS = {
    "a": 1,
    "an": 1,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "few": 3,
    "several": 5,
    "couple of": 2,
}
_COUNT = r"(\d{1,3}|" + "|".join(sorted(_NUMBERS, key=len, reverse=True)) + r")"
_UNIT = r"(day|week|month|year)s?"
_SPAN = r"(hour|day|week|month|year)s?"
_PAST = re.compile(
    rf"\b(?:(?:in|over|during|within|for)\s+the|this)\s+(?:past|last|previous)\s+"
    rf"(?:{_COUNT}\s+)?{_SPAN}\b",
    re.I,
)
_AGO = re.compile(rf"\b(?:since|from)\s+{_COUNT}\s+{_SPAN}\s+ago\b", re.I)
_ONE_AGO = re.compile(rf"\b(?<!since )(?<!from ){_COUNT}\s+(day|week)s?\s+ago\b", re.I)
_DAY_BEFORE = re.compile(r"\bthe day before yesterday\b", re.I)
_WEEKEND = re.compile(r"\b(this|last|past|over the)\s+weekend\b", re.I)
_LAST = re.compile(r"\b(?<!the )(last|this|previous|past)\s+(day|week|month|year)\b", re.I)
_EARLIER = re.compile(r"\bearlier\s+(this)\s+(week|month|year)\b", re.I)
_PART_OF_DAY = re.compile(
    r"\b(?:this\s+(?:morning|afternoon|evening)|(?<!the )last\s+night)\b", re.I
)
_RECENT_DAYS = re.compile(r"\b(?:in|over|during)\s+(?:the\s+)?recent\s+days\b", re.I)
# "What has OpenAI done recently?" -- "recently" closing the question or a clause; one
# describing whom the question asks about ("Which company, recently fined by the EU, …",
# "the player who has recently been traded") names no period.
_RECENTLY = re.compile(
    r"\b(?:(?:recently|lately)(?=\s*(?:[?.!;]|$))|(?:in|over|during)\s+(?:the\s+)?recent\s+weeks\b)",
    re.I,
)
# A day that comes back ("his usual weekly news conference on Monday") is not a day past.
_HABIT = re.compile(r"\b(?:usual(?:ly)?|weekly|every|each|regular(?:ly)?)\b[^,;?]*$", re.I)
# "on Monday", "late on Tuesday" -- not "on Monday Night Football", "on Monday, November
# 20" (a written-out date says the day) or "on Monday last week".
_ON_WEEKDAY = re.compile(
    rf"\bon\s+({WEEKDAY})\b(?!\s+(?-i:[A-Z]))(?!,?\s+(?:the\s+)?\d)"
    rf"(?!,?\s+(?:{MONTH})\b)"
    r"(?!\s+(?:last|next|this)\s+week)",
    re.I,
)
# In lower case, or opening the question: "Business Today" and "USA Today" are outlets.
_DAY = re.compile(
    r"(?:^|(?<=[\s,(]))((?:since )?(?:today|tonight|yesterday))\b"
    r"|^((?:Since )?(?:Today|Tonight|Yesterday))\b"
)
_SINCE_WEEKDAY = re.compile(rf"\bsince\s+(?:last\s+)?({WEEKDAY})\b", re.I)
_LAST_WEEKDAY = re.compile(rf"\blast\s+({WEEKDAY})\b", re.I)
_QUARTER = re.compile(
    r"\b(?:Q([1-4])|(first|second|third|fourth)\s+quarter)(?:\s+of)?\s+(\d{4})\b", re.I
)
# A quarter without its year, after "in"/"during" -- not a game's ("tied the game in the
# fourth quarter") nor a company's results' (its "net income in Q3" is published after the
# quarter; "Q4 earnings guidance" is no period either).
_QUARTER_ALONE = re.compile(
    r"\b(?:in|during|throughout|over)\s+(?:the\s+)?(?:Q([1-4])|(first|second|third|fourth)"
    r"\s+quarter)\b(?!,?\s+(?:of\s+)?\d)",
    re.I,
)
_NOT_CALENDAR_QUARTER = re.compile(
    r"\b(?:game|games|touchdowns?|field goals?|quarterbacks?|overtime|halftime|NFL|NBA|NCAA|"
    r"interceptions?|rushing|yards|scored|tied|points|earn(?:ed|s)?|earnings|results|revenues?|"
    r"income|sales|profits?|loss|losses|margins?|guidance|forecast|outlook|EPS|GDP|financial|"
    r"performance)\b",
    re.I,
)
_IN_MONTH = re.compile(
    rf"\b(?:in|during|throughout)\s+({MONTH})\b\.?(?:,?\s+(\d{{4}}))?(?!\s*\d)",
    re.I,
)
# "mid-November", "in early December 2023", "late Oct." -- a third of the month.
_PART_OF_MONTH = re.compile(
    rf"\b(?:(in|during|throughout|since|from)\s+)?(?:the\s+)?(early|mid|late)(?:-|\s+|-\s*)"
    rf"({MONTH})\b\.?(?:,?\s+(\d{{4}}))?(?!\s*\d)",
    re.I,
)
_IN_YEAR = re.compile(r"\b(?:in|during|throughout)\s+((?:19|20)\d\d)\b(?![-–/]\d)(?!\s*\d)", re.I)
_DATEISH = (
    rf"(?:\d{{1,2}}(?:st|nd|rd|th)?(?:\s+(?:{MONTH})\.?)?|(?:{MONTH})\.?\s+\d{{1,2}}"
    rf"(?:st|nd|rd|th)?)(?:,?\s+\d{{4}})?"
)
_BETWEEN = re.compile(rf"\bbetween\s+({_DATEISH})\s+and\s+({_DATEISH})\b", re.I)
_SINCE_DATE = re.compile(rf"\bsince\s+({_DATEISH})\b", re.I)
_ORDINAL = {"first": 1, "second": 2, "third": 3, "fourth": 4}


@dataclass(frozen=True)
class Period:
    """Publication days from ``since`` to ``until`` (both included)."""

    since: date
    until: date
    phrase: str  # as the question says it: "in the past 3 days"
    strict: bool  # restricts retrieval (else ranks its articles up)

    @property
    def on_a_weekday(self) -> bool:
        """Whether the question named one weekday ("on Monday"): over an archive, mostly
        its articles' own Monday rather than the latest."""
        return re.fullmatch(rf"on\s+(?:{WEEKDAY})", self.phrase, re.I) is not None

    def describe(self) -> str:
        """ "on 21 November 2023", "from 13 to 19 November 2023", "from 28 October to
        3 November 2023", "from 30 December 2022 to 5 January 2023"."""
        a, b = self.since, self.until
        if a == b:
            return f"on {_day(b)}"
        if (a.year, a.month) == (b.year, b.month):
            return f"from {a.day} to {_day(b)}"
        if a.year == b.year:
            return f"from {a.day} {a.strftime('%B')} to {_day(b)}"
        return f"from {_day(a)} to {_day(b)}"


def _day(d: date) -> str:
    return f"{d.day} {d.strftime('%B %Y')}"


def _count(word: str | None) -> int:
    if not word:
        return 1
    return int(word) if word.isdigit() else _NUMBERS[word.lower()]


def _back(today: date, unit: str, n: int) -> date:
    """The first of the last ``n`` units up to ``today``: "the past 3 days" are today
    and the two before it, "the past week" seven days, "the past 24 hours" today and
    yesterday; "the past 2 months" start on this day two months ago."""
    unit = unit.lower()
    if unit == "hour":
        return today - timedelta(days=max(1, math.ceil(n / 24)))
    if unit == "day":
        return today - timedelta(days=max(0, n - 1))
    if unit == "week":
        return today - timedelta(days=7 * n - 1)
    months = today.year * 12 + today.month - 1 - (n if unit == "month" else 12 * n)
    year, month = divmod(months, 12)
    return date(year, month + 1, min(today.day, calendar.monthrange(year, month + 1)[1]))


def _calendar(today: date, unit: str, which: str) -> tuple[date, date]:
    """This or the previous calendar week (Monday to Sunday), month or year."""
    unit, previous = unit.lower(), which.lower() in ("last", "previous", "past")
    if unit == "day":
        day = today - timedelta(days=1) if previous else today
        return day, day
    if unit == "week":
        monday = today - timedelta(days=today.weekday())
        if previous:
            return monday - timedelta(days=7), monday - timedelta(days=1)
        return monday, today
    if unit == "month":
        first = today.replace(day=1)
        if previous:
            end = first - timedelta(days=1)
            return end.replace(day=1), end
        return first, today
    if previous:
        return date(today.year - 1, 1, 1), date(today.year - 1, 12, 31)
    return date(today.year, 1, 1), today


def _month(month: int, year: int | None, today: date) -> tuple[date, date]:
    """A named month: of the year given, else the latest one not after ``today``."""
    if year is None:
        year = today.year if month <= today.month else today.year - 1
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])


def _part_of_month(part: str, month: int, year: int | None, today: date) -> tuple[date, date]:
    """Days 1–10 ("early"), 11–20 ("mid") or 21 to the end ("late") of a month: of the
    year given, else the latest such stretch begun by ``today``."""
    first, last = {"early": (1, 10), "mid": (11, 20)}.get(part.lower(), (21, 31))
    if year is None:
        year = today.year if (month, first) <= (today.month, today.day) else today.year - 1
    return date(year, month, first), date(year, month, min(last, _month_end(year, month)))


def _month_end(year: int, month: int) -> int:
    return calendar.monthrange(year, month)[1]


def _quarter(quarter: int, year: int | None, today: date) -> tuple[date, date]:
    """A calendar quarter: of the year given, else the latest one begun by ``today`` (the
    current one, or the last such one that ended)."""
    if year is None:
        year = today.year if 3 * quarter - 2 <= today.month else today.year - 1
    return date(year, 3 * quarter - 2, 1), date(year, 3 * quarter, _month_end(year, 3 * quarter))


def _weekday_on_or_before(today: date, name: str) -> date:
    return today - timedelta(days=(today.weekday() - WEEKDAYS.index(name.lower())) % 7)


def _weekday_before(today: date, name: str) -> date:
    back = (today.weekday() - WEEKDAYS.index(name.lower())) % 7 or 7
    return today - timedelta(days=back)


def _dates(text: str) -> tuple[int | None, int, int] | None:
    found = mentioned_dates(text)
    return found[0] if found else None


def _dated(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _on(found: tuple[int | None, int, int] | None, today: date) -> date | None:
    """A day a question names; without a year, the latest such day up to ``today``."""
    if found is None:
        return None
    year, month, day = found
    if year is None:
        year = today.year if (month, day) <= (today.month, today.day) else today.year - 1
    return _dated(year, month, day)


def _between(match: re.Match[str], today: date) -> tuple[date, date] | None:
    """ "between November 20 and November 26", "between 20 and 26 November 2023": a
    year said once counts for both; none said, the latest such range up to ``today``."""
    first, second = match.group(1).strip(), match.group(2)
    start = _dates(first)
    end = _dates(second)
    bare = second.strip().rstrip("stndrh")
    if end is None and start is not None and bare.isdigit():  # "between November 20 and 26"
        end = (start[0], start[1], int(bare))
    if end is None:
        return None
    y2, m2, d2 = end
    if start is None and first.rstrip("stndrh").isdigit():  # "between 20 and 26 November"
        start = (y2, m2, int(first.rstrip("stndrh")))
    if start is None:
        return None
    y1, m1, d1 = start
    if y2 is None:
        y2 = y1 if y1 is not None else today.year
        if y1 is not None and (m2, d2) < (m1, d1):
            y2 += 1  # "between December 28, 2022 and January 3"
        later = (today.month, today.day)
        if y1 is None and (m2, d2) > later and (m1, d1) > later:
            y2 -= 1  # both still to come this year: the last such range
    if y1 is None:
        y1 = y2 if (m1, d1) <= (m2, d2) else y2 - 1
    since, until = _dated(y1, m1, d1), _dated(y2, m2, d2)
    if since is None or until is None or since > until:
        return None
    return since, until


def period_in(question: str, today: date) -> Period | None:
    """The range of days the question asks about, counted from ``today``; None when it
    names none. The first such phrase decides."""
    # (weak, start, since, until, phrase): a weak phrase counts only when nothing else does
    found: list[tuple[bool, int, date, date, str]] = []

    def add(match: re.Match[str], span: tuple[date, date] | None, weak: bool = False) -> None:
        if span is not None and span[0] <= span[1]:
            found.append((weak, match.start(), span[0], span[1], match.group(0)))

    for m in _BETWEEN.finditer(question):
        add(m, _between(m, today))
    for m in _DAY_BEFORE.finditer(question):
        add(m, (today - timedelta(days=2), today - timedelta(days=2)))
    for m in _WEEKEND.finditer(question):
        saturday = today - timedelta(days=(today.weekday() - 5) % 7)
        if m.group(1).lower() in ("last", "past") and today.weekday() >= 5:
            saturday -= timedelta(days=7)  # asked on a weekend: the one before
        add(m, (saturday, min(saturday + timedelta(days=1), today)))
    for m in _ONE_AGO.finditer(question):
        unit = 7 if m.group(2).lower() == "week" else 1
        day = today - timedelta(days=unit * _count(m.group(1)))
        add(m, (day, day))
    for m in _SINCE_DATE.finditer(question):
        since = _on(_dates(m.group(1)), today)
        add(m, (since, today) if since else None)
    for m in _PAST.finditer(question):
        add(m, (_back(today, m.group(2), _count(m.group(1))), today))
    for m in _AGO.finditer(question):
        add(m, (_back(today, m.group(2), _count(m.group(1))), today))
    for m in _EARLIER.finditer(question):
        add(m, _calendar(today, m.group(2), m.group(1)))
    for m in _RECENT_DAYS.finditer(question):
        add(m, (_back(today, "day", RECENT_DAYS), today))
    for m in _RECENTLY.finditer(question):
        add(m, (_back(today, "day", RECENTLY_DAYS), today), weak=True)
    for m in _PART_OF_DAY.finditer(question):
        night = m.group(0).lower().startswith("last")
        add(m, (today - timedelta(days=1) if night else today, today))
    if not FUTURE.search(question):
        for m in _ON_WEEKDAY.finditer(question):
            if not _HABIT.search(question[: m.start()]):
                day = _weekday_on_or_before(today, m.group(1))
                add(m, (day, day))
    taken = [(start, start + len(phrase)) for _, start, _, _, phrase in found]
    for m in _LAST.finditer(question):
        if not any(a <= m.start() < b for a, b in taken):
            add(m, _calendar(today, m.group(2), m.group(1)))
    for m in _DAY.finditer(question):
        word = (m.group(1) or m.group(2)).lower()
        if word == "since yesterday":
            add(m, (today - timedelta(days=1), today))
        else:
            day = today - timedelta(days=1) if word == "yesterday" else today
            add(m, (day, day))
    for m in _SINCE_WEEKDAY.finditer(question):
        add(m, (_weekday_before(today, m.group(1)), today))
    for m in _LAST_WEEKDAY.finditer(question):
        day = _weekday_before(today, m.group(1))
        add(m, (day, day))
    for m in _QUARTER.finditer(question):
        quarter = int(m.group(1)) if m.group(1) else _ORDINAL[m.group(2).lower()]
        add(m, _quarter(quarter, int(m.group(3)), today))
    if not _NOT_CALENDAR_QUARTER.search(question):
        for m in _QUARTER_ALONE.finditer(question):
            quarter = int(m.group(1)) if m.group(1) else _ORDINAL[m.group(2).lower()]
            add(m, _quarter(quarter, None, today), weak=True)
    for m in _PART_OF_MONTH.finditer(question):
        if m.group(3) == "may":
            continue  # "too late may …": the verb
        year = int(m.group(4)) if m.group(4) else None
        span = _part_of_month(m.group(2), MONTHS[m.group(3).lower()], year, today)
        if (m.group(1) or "").lower() in ("since", "from"):
            span = (span[0], today)
        add(m, span)
    for m in _IN_MONTH.finditer(question):
        add(m, _month(MONTHS[m.group(1).lower()], int(m.group(2)) if m.group(2) else None, today))
    for m in _IN_YEAR.finditer(question):
        year = int(m.group(1))
        add(m, (date(year, 1, 1), date(year, 12, 31)))
    if not found:
        return None
    _, _, since, until, phrase = min(found, key=lambda f: (f[0], f[1]))
    until = min(until, today) if since <= today else until
    # A named month, or a part of one, may be when events happened: ranked up, never kept
    # to ("since mid-November" is the news since then, and kept to when short).
    named = _IN_MONTH.fullmatch(phrase) or (
        _PART_OF_MONTH.fullmatch(phrase) and not phrase.lower().startswith(("since", "from"))
    )
    strict = (until - since).days + 1 <= STRICT_DAYS and not named
    return Period(since, until, phrase.strip(), strict)


_NEWEST = re.compile(
    r"^\s*(?:(?:what|where)(?:['’]s| is| are)\s+)?(?:the\s+)?(?:latest|newest|most recent)"
    r"(?:\s+(?:news|updates?|developments?|reports?|stories|coverage))?\s+(?:on|about|with|in|for)\b"
    r"|^\s*(?:the\s+)?(?:latest|newest)\s+(?:news|updates?|developments?)\b"
    r"|^\s*what(?:['’]s| is)\s+new\s+(?:on|about|with|in|for)\b",
    re.I,
)
_EARLIEST = re.compile(
    r"^\s*(?:(?:what|how)\s+(?:was|were|did)\s+)?(?:the\s+)?(?:earliest|first)\s+"
    r"(?:news|reports?|coverage|stories)\s+(?:on|about|of)\b",
    re.I,
)


def order_in(question: str) -> str | None:
    """``"newest"`` for "Latest on SBF?", "What's the latest news on the EU AI Act?",
    "What's new with OpenAI?"; ``"earliest"`` for "The first reports about …"; else
    None (a "latest product launch" in the middle of a question orders nothing)."""
    if _NEWEST.search(question):
        return "newest"
    if _EARLIEST.search(question):
        return "earliest"
    return None
