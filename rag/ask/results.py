"""The shapes a question produces: passages, citations, the answer. Also the JSON of CLI and API."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

from rag.errors import InvalidQuestionError

# The most passages one question is answered from (RAG_TOP_K has the same bounds).
MAX_K = 100


def check_k(k: int | None) -> int | None:
    """``k`` (passages to answer from) if it is one the pipeline takes; None means the
    default (RAG_TOP_K). One check for the CLI, the API and the library: 0 is refused
    everywhere, never silently read as the default.

    >>> check_k(0)
    Traceback (most recent call last):
    ...
    rag.errors.InvalidQuestionError: k is 0: passages to answer from must be 1 to 100
    """
    if k is not None and not 1 <= k <= MAX_K:
        raise InvalidQuestionError(f"k is {k}: passages to answer from must be 1 to {MAX_K}")
    return k


@dataclass
class Filters:
    """Explicit restrictions from the user (CLI flags, API fields, UI controls)."""

    sources: list[str] = field(default_factory=list)
    since: date | None = None
    until: date | None = None
    article_ids: list[str] = field(default_factory=list)
    # The day the question's relative dates ("last week") count from; None: the
    # ``as_of`` setting, else today. Not a restriction by itself.
    as_of: date | None = None

    def is_empty(self) -> bool:
        return not (self.sources or self.since or self.until or self.article_ids)


@dataclass
class Passage:
    """A retrieved chunk: the article's own text, with where it sits in the article."""

    chunk_id: str
    article_id: str
    text: str
    char_start: int
    char_end: int
    title: str
    source: str | None
    published_at: str | None
    url: str | None
    path: str
    cluster: str
    score: float = 0.0
    dense: float | None = None
    lexical: float | None = None
    boosted: bool = False
    also_reported_by: list[dict[str, Any]] = field(default_factory=list)

    def ref(self) -> dict[str, Any]:
        return {
            "article_id": self.article_id,
            "title": self.title,
            "source": self.source,
            "published_at": self.published_at,
            "path": self.path,
            "chunk_id": self.chunk_id,
        }


@dataclass
class Citation:
    n: int
    article_id: str
    title: str
    source: str | None
    published_at: str | None
    url: str | None
    quote: str
    char_start: int
    char_end: int
    score: float
    chunk_id: str
    also_reported_by: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def of(
        cls,
        n: int,
        passage: Passage,
        start: int,
        end: int,
        score: float,
        also_reported_by: list[dict[str, Any]],
    ) -> Citation:
        """Cite characters ``start:end`` of the article, which lie inside ``passage``."""
        return cls(
            n=n,
            article_id=passage.article_id,
            title=passage.title,
            source=passage.source,
            published_at=passage.published_at,
            url=passage.url,
            quote=passage.text[start - passage.char_start : end - passage.char_start],
            char_start=start,
            char_end=end,
            score=round(score, 4),
            chunk_id=passage.chunk_id,
            also_reported_by=also_reported_by,
        )


@dataclass
class ShortAnswer:
    """The answer itself: characters ``start:end`` of an article, inside citation ``n``."""

    text: str
    article_id: str
    start: int
    end: int
    n: int
    label: str  # what kind of thing it is: PERSON, GPE, DATE, MONEY, QUOTE, …
    resolved: str | None = None  # a relative date made absolute: "Friday, 17 November 2023"


@dataclass
class Claim:
    """One part of a yes/no question and the evidence found for it."""

    text: str
    status: str  # "supported" | "missing" | "contradicted"
    n: int | None = None  # the citation that supports (or contradicts) it
    score: float = 0.0
    published_at: str | None = None


@dataclass
class Verdict:
    """The answer to a yes/no question, from the evidence for each of its claims."""

    answer: str  # "yes" | "no" | "cannot tell"
    claims: list[Claim] = field(default_factory=list)
    reason: str = ""


@dataclass
class EngineResult:
    """What an answer engine reports after its text: citations and flags."""

    citations: list[Citation]
    abstained: bool
    conflict: bool
    unsupported: list[str] = field(default_factory=list)
    short_answers: list[ShortAnswer] = field(default_factory=list)
    verdict: Verdict | None = None
    confidence: float | None = None  # estimated probability the question is answerable here
    missing: str | None = None  # what an abstention found missing, in words
    signals: dict[str, float] = field(default_factory=dict)  # what the reading step measured


@dataclass
class Answer:
    question: str
    answer: str
    citations: list[Citation]
    passages: list[Passage]
    abstained: bool
    engine: str
    rewritten_question: str | None = None
    conflict: bool = False
    unsupported: list[str] = field(default_factory=list)
    closest_articles: list[dict[str, Any]] = field(default_factory=list)
    # The days the question names: phrase, since, until (ISO), restricted, note.
    period: dict[str, Any] | None = None
    short_answers: list[ShortAnswer] = field(default_factory=list)
    verdict: Verdict | None = None
    confidence: float | None = None
    missing: str | None = None
    signals: dict[str, float] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    settings_hash: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
