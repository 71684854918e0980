"""What a question says about itself: its type, and the outlets, titles and dates it names.

"What did the TechCrunch article published on November 27 say…" names a
source and a date; retrieval turns those into boosts.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from rag.ask.word_forms import is_past
from rag.text.outlets import host_stem, outlet_key, outlet_name
from rag.text.words import MONTH, MONTHS, tokens

_MONTH_DAY = re.compile(rf"\b({MONTH})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?(?:,?\s+(\d{{4}}))?\b", re.I)
_DAY_MONTH = re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+({MONTH})\.?(?:,?\s+(\d{{4}}))?\b", re.I)
_ISO_DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")

_LIST_CUES = re.compile(
    r"^(?:list|name|which ((?:\w+ ){0,3}?)(?:companies|countries|officials|people|firms|"
    r"issues|areas|topics|industries|representatives|members)|what (?:are|were) the)\b",
    re.I,
)


def asks_for_list(question: str) -> bool:
    """Whether a question asks for several things ("Which US companies …", "List …").

    A plural after a verb is its object, not what is asked: "Which American
    drugmaker sent people …?" asks for one drugmaker.
    """
    match = _LIST_CUES.search(question.strip())
    if match is None:
        return False
    return not any(is_past(w) for w in (match.group(1) or "").lower().split())


_AUX = r"(?:is|are|was|were|do|does|did|has|have|had|can|could|will|would|should)"
_LEADING_CLAUSE_YES_NO = (
    rf"^(?!.*\b(?:who|whom|whose|what|which|when|where|why|how)\b)"
    rf"(?:between|before|after|considering|following|given|in|from|according to|based on)\b"
    rf"[^?]*,\s*{_AUX}\s"
)


@dataclass
class QuestionInfo:
    text: str
    kind: str  # who | when | where | how_many | list | yes_no | what
    sources: list[str] = field(default_factory=list)
    dates: list[tuple[int | None, int, int]] = field(default_factory=list)  # (year, month, day)
    title_articles: list[str] = field(default_factory=list)


_YES_NO_OPENING = r"^(?:is|are|was|were|do|does|did|has|have|had|can|could|will|would|should)\b"


def question_kind(question: str) -> str:
    q = question.strip().lower()
    if asks_for_list(q):
        return "list"
    if re.search(_YES_NO_OPENING, q):
        return "yes_no"  # "Did individuals who have not lost a parent …?": no who-question
    for kind, pattern in (
        ("who", r"^(?:who|whom|whose)\b|\bwho\b"),
        ("when", r"^when\b|\bwhat (?:day|date|time|year|month)\b|\bon which (?:day|date)\b"),
        ("where", r"^where\b|\bin which (?:city|country|place)\b"),
        ("how_many", r"^how (?:many|much)\b|\bwhat (?:number|percentage|amount)\b"),
        # "Between the X report … and the Y report …, was there a change …?"
        ("yes_no", _LEADING_CLAUSE_YES_NO),
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


# Small words an outlet's name may keep in lower case ("the Independent", "Globes English").
_NAME_GLUE = frozenset({"the", "of", "and", "&", "for", "on", "in", "at", "a"})


def _written_as_name(text: str) -> bool:
    """Whether ``text`` is capitalised like a name: "CNBC", "the Roar", not "the roar"."""
    return all(w[:1].isupper() or w[:1].isdigit() for w in text.split() if w not in _NAME_GLUE)


class Mentions:
    """The outlets and titles a question can name, indexed once per catalog generation.

    Analysing a question then costs what its words touch, not the size of the
    corpus: titles are found through an inverted index of their words, and an
    outlet's pattern is tried only when its name occurs in the question at all.

    An outlet is found by the name stored for it, in any case ("Cnbc | World Business
    News Leader", "washingtontimes" for washingtontimes.com), and by its short name
    (:func:`rag.text.outlets.outlet_name`: "CNBC", "The Roar") when the question writes
    that as a name, capitalised, so "the independent review" names no outlet.

    >>> m = Mentions(["The Verge", "Cnbc | World Business News Leader"],
    ...              {"a1": "Apple unveils new iPhone cameras"})
    >>> m.sources_in("what did the verge say?"), m.titles_in("Apple unveils iPhone cameras?")
    (['The Verge'], ['a1'])
    >>> m.sources_in("Cnbc | World Business News Leader says?"), m.sources_in("CNBC says?")
    (['Cnbc | World Business News Leader'], ['CNBC'])
    """

    def __init__(self, sources: Iterable[str], titles: dict[str, str]) -> None:
        self._sources: list[tuple[str, list[tuple[str, re.Pattern[str]]]]] = []
        groups: dict[str, list[str]] = {}
        for source in sources:
            groups.setdefault(outlet_key(source), []).append(source)
            names = {source.lower()}
            stem = host_stem(source)
            if stem:  # a host such as washingtontimes.com
                names.add(stem)
            patterns = [
                (n, re.compile(rf"(?<!\w){re.escape(n)}(?!\w)"))
                for n in sorted(names)
                if len(n) >= 3
            ]
            self._sources.append((source, patterns))
        # Short names that differ from every name stored for their outlet.
        self._outlets: list[tuple[str, list[str], re.Pattern[str]]] = []
        for key, raws in groups.items():
            shown = outlet_name(raws[0])
            if len(key) >= 3 and all(r.lower() != key for r in raws):
                pattern = re.compile(rf"(?<!\w){re.escape(shown)}(?!\w)", re.I)
                self._outlets.append((shown, raws, pattern))
        self._title_size: dict[str, int] = {}
        self._order: dict[str, int] = {}
        self._postings: dict[str, list[str]] = {}
        for position, (article_id, title) in enumerate(titles.items()):
            words = set(tokens(title))
            if len(words) < 3:
                continue
            self._title_size[article_id] = len(words)
            self._order[article_id] = position
            for word in words:
                self._postings.setdefault(word, []).append(article_id)

    def sources_in(self, question: str) -> list[str]:
        """The outlets the question mentions, as whole words: the stored name when the
        question names it so (ignoring case), else the outlet's short name."""
        q = question.lower()
        found = [
            source
            for source, patterns in self._sources
            if any(name in q and pattern.search(q) for name, pattern in patterns)
        ]
        named = set(found)
        for shown, raws, pattern in self._outlets:
            if not named.isdisjoint(raws) or shown.lower() not in q:
                continue
            if any(_written_as_name(m.group()) for m in pattern.finditer(question)):
                found.append(shown)
        return found

    def titles_in(self, question: str, min_share: float = 0.7) -> list[str]:
        """Article ids whose title words mostly appear in the question (a quoted or named title)."""
        shared: dict[str, int] = {}
        for word in set(tokens(question)):
            for article_id in self._postings.get(word, ()):
                shared[article_id] = shared.get(article_id, 0) + 1
        hits = [a for a, n in shared.items() if n / self._title_size[a] >= min_share]
        return sorted(hits, key=self._order.__getitem__)


def analyse(question: str, mentions: Mentions) -> QuestionInfo:
    return QuestionInfo(
        text=question,
        kind=question_kind(question),
        sources=mentions.sources_in(question),
        dates=mentioned_dates(question),
        title_articles=mentions.titles_in(question),
    )
