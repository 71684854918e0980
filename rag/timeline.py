"""A topic's dated events in order: what ``rag timeline``, ``GET /timeline`` and the
app's Timeline page show.

    topic → retrieve (TIMELINE_K passages) → the sentences naming the topic → each
    dated by the day it tells of, else its article's day → copies folded → oldest first

A sentence is about the topic when it holds at least half of the topic's words
(and a name's last word: "Trump", not "Aaron Donald", for "Donald Trump"). It is
dated by the first date in it that gives a day: written out ("July
14", "14 November 2023", a year taken from its article when missing) or relative
("on Tuesday", "yesterday"), anchored to its article's publication day
(:mod:`rag.ask.relative_dates`). A sentence with no such date stands on its article's
day, and only the article's first sentence about the topic does: the rest of an
article adds only what it dates. Events of one day that say the same thing
(copies of a story, or sources repeating each other) are one event, the others
listed as "also reported by".

"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

from rag.ask.extractive import Candidate, ExtractiveEngine, dice
from rag.ask.relative_dates import event_day, published_day
from rag.ask.results import Passage
from rag.text.words import tokens

# Passages a timeline is gathered from, and the share of the best one's score a passage
# needs to count as about the topic.
TIMELINE_K = 40
RELEVANT_SHARE = 0.35
# Events shown at most, and per article.
MAX_EVENTS = 60
PER_ARTICLE = 4
# Two events of one day whose words overlap this much (Dice) say the same thing.
SAME_EVENT = 0.5
# Words of a timeline request that are not its topic.
_REQUEST = frozenset(
    tokens(
        "timeline history chronology events event news coverage story stories what happened "
        "developments latest updates of on about the for with in"
    )
)


@dataclass
class Event:
    """One dated sentence: characters ``char_start:char_end`` of its article."""

    day: str  # ISO day
    dated_by: str  # "text": the sentence names the day; "published": its article's day
    when: str | None  # the words giving the day ("on Tuesday", "July 14, 2023")
    quote: str
    article_id: str
    title: str
    source: str | None
    published_at: str | None
    url: str | None
    char_start: int
    char_end: int
    chunk_id: str
    also_reported_by: list[dict[str, Any]] = field(default_factory=list)

    @property
    def dated(self) -> str:
        """How its day was found, as shown: "“late Friday” in an article of 2023-11-18",
        or "published" when it is its article's day."""
        published = (self.published_at or "")[:10]
        if self.dated_by != "text" or published == self.day:
            return "published"
        return f"“{self.when}” in " + (
            f"an article of {published}" if published else "an undated article"
        )


@dataclass
class Timeline:
    """The events about ``topic`` oldest first, and how many of the articles found were
    published each day by each outlet (``coverage``)."""

    topic: str
    events: list[Event]
    coverage: list[dict[str, Any]]
    articles: int  # articles found about the topic
    undated: int  # of them, those with no day at all (left off the timeline)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def topic_words(topic: str) -> set[str]:
    """The words of the request that name its topic; a sentence about the topic holds at
    least half of them."""
    return set(tokens(topic)) - _REQUEST


_NAME = re.compile(r"^[A-Z][\w'’.-]+(?:\s+[A-Z][\w'’.-]+){1,2}$")


def _surname(topic: str) -> str | None:
    """The word a sentence must hold when the topic is a person's name ("Donald Trump":
    "trump", so "Aaron Donald" is not about him), else None."""
    if not _NAME.match(topic.strip()):
        return None
    last = tokens(topic.split()[-1])
    return last[0] if last else None


def build(topic: str, passages: list[Passage], engine: ExtractiveEngine) -> Timeline:
    """The timeline of ``topic`` from the passages retrieved for it."""
    if not passages:
        return Timeline(topic, [], [], 0, 0)
    best = max(p.score for p in passages)
    relevant = [p for p in passages if p.score >= RELEVANT_SHARE * best]
    about = topic_words(topic)
    needed = (len(about) + 1) // 2  # half the topic's words, rounded up
    surname = _surname(topic)
    events: list[Event] = []
    articles: dict[str, Passage] = {}
    for passage in relevant:
        articles.setdefault(passage.article_id, passage)
    by_article: dict[str, list[Candidate]] = {}
    for passage in relevant:
        found = engine.candidates([passage])
        on_topic = [
            c
            for c in found
            if len(about & (words := set(tokens(c.text)))) >= needed
            and (surname is None or surname in words)
        ]
        by_article.setdefault(passage.article_id, []).extend(on_topic)
    engine.tag([c for found in by_article.values() for c in found])
    for article_id, found in by_article.items():
        found.sort(key=lambda c: c.start)
        events.extend(_events(found, articles[article_id])[:PER_ARTICLE])
    folded = _fold(events)
    folded.sort(key=lambda e: (e.day, e.published_at or "", e.char_start))
    undated = sum(1 for p in articles.values() if published_day(p.published_at) is None)
    return Timeline(
        topic, folded[:MAX_EVENTS], _coverage(articles.values()), len(articles), undated
    )


def _events(found: list[Candidate], passage: Passage) -> list[Event]:
    """An article's events, one a day: its first on-topic sentence naming that day, or
    on the article's own day, its first on-topic sentence naming none."""
    published = published_day(passage.published_at)
    events: dict[date, Event] = {}
    for c in found:
        spans = [e.text for e in c.entities if e.label in ("DATE", "TIME")]
        dated = event_day(c.text, spans, published)
        if dated is not None and dated[0] not in events:
            events[dated[0]] = _event(c, dated[0], "text", dated[1])
        elif dated is None and published is not None and published not in events:
            events[published] = _event(c, published, "published", None)
    return list(events.values())


def _event(c: Candidate, day: date, dated_by: str, when: str | None) -> Event:
    p = c.passage
    return Event(
        day=day.isoformat(),
        dated_by=dated_by,
        when=when,
        quote=c.text,
        article_id=p.article_id,
        title=p.title,
        source=p.source,
        published_at=p.published_at,
        url=p.url,
        char_start=c.start,
        char_end=c.end,
        chunk_id=p.chunk_id,
        also_reported_by=[
            {k: v for k, v in ref.items() if k != "chunk_id"} for ref in p.also_reported_by
        ],
    )


def _fold(events: list[Event]) -> list[Event]:
    """One event per thing said on a day: a later one sharing :data:`SAME_EVENT` of its
    words with a kept one of that day goes under it as "also reported by"."""
    kept: list[tuple[Event, set[str]]] = []
    for event in sorted(events, key=lambda e: (e.published_at or "", e.article_id)):
        words = set(tokens(event.quote))
        same = next(
            (
                k
                for k, k_words in kept
                if k.day == event.day
                and k.article_id != event.article_id
                and dice(words, k_words) >= SAME_EVENT
            ),
            None,
        )
        if same is None:
            kept.append((event, words))
        else:
            same.also_reported_by.append(
                {
                    "article_id": event.article_id,
                    "title": event.title,
                    "source": event.source,
                    "published_at": event.published_at,
                    "url": event.url,
                    "quote": event.quote,
                }
            )
    return [event for event, _ in kept]


def _coverage(passages: Any) -> list[dict[str, Any]]:
    """Articles about the topic per publication day and outlet (their copies too)."""
    counts: Counter[tuple[str, str]] = Counter()
    seen: set[str] = set()
    for p in passages:
        for article_id, source, published_at in [
            (p.article_id, p.source, p.published_at),
            *(
                (r.get("article_id", ""), r.get("source"), r.get("published_at"))
                for r in p.also_reported_by
            ),
        ]:
            day = published_day(published_at)
            if day is None or article_id in seen:
                continue
            seen.add(article_id)
            counts[(day.isoformat(), source or "unknown outlet")] += 1
    return [
        {"day": day, "source": source, "articles": n} for (day, source), n in sorted(counts.items())
    ]
