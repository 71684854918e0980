"""Answers as the reading step will give them, and a pipeline that returns them.

The CLI, API, app and evaluation harness are tested on these fakes: no model, no
index. ``FakePipeline`` has the parts of :class:`rag.ask.pipeline.Pipeline` those
shells use (``ask``, ``ask_stream``, ``rewrite``, ``close``, ``settings``,
``catalog``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from rag.ask.results import Answer, Citation, Claim, Passage, ShortAnswer, Verdict
from rag.settings import Settings

ARTICLE_ID = "a0000000000000001"
TITLE = "Vice Minister Zhang Guangjun Meets AmCham"
TEXT = (
    "Senior officials met US business leaders in Beijing. Representatives from major US "
    "companies, including IBM, Microsoft and Pfizer, attended the meeting late Friday. "
    "The ministry said <b>cooperation</b> would continue."
)
SENTENCE = (
    "Representatives from major US companies, including IBM, Microsoft and Pfizer, "
    "attended the meeting late Friday."
)
START = TEXT.index(SENTENCE)


def span(text: str) -> tuple[int, int]:
    at = TEXT.index(text)
    return at, at + len(text)


def passage() -> Passage:
    return Passage(
        chunk_id=f"{ARTICLE_ID}:0",
        article_id=ARTICLE_ID,
        text=TEXT,
        char_start=0,
        char_end=len(TEXT),
        title=TITLE,
        source="english.news.cn",
        published_at="2023-11-18T09:00:00",
        url=None,
        path="000_amcham.txt",
        cluster=ARTICLE_ID,
        score=0.9,
    )


def citation(n: int = 1) -> Citation:
    return Citation.of(n, passage(), START, START + len(SENTENCE), 0.87, [])


def short(text: str, label: str = "ORG", resolved: str | None = None, n: int = 1) -> ShortAnswer:
    start, end = span(text)
    return ShortAnswer(text, ARTICLE_ID, start, end, n, label, resolved)


def answer(
    question: str = "Which companies attended?",
    text: str | None = None,
    *,
    shorts: list[ShortAnswer] | None = None,
    verdict: Verdict | None = None,
    confidence: float | None = None,
    abstained: bool = False,
    missing: str | None = None,
) -> Answer:
    """An answer citing :data:`SENTENCE` (none when it abstains)."""
    if abstained:
        return Answer(
            question=question,
            answer=text or "Not found in the indexed articles.",
            citations=[],
            passages=[passage()],
            abstained=True,
            engine="extractive",
            closest_articles=[passage().ref()],
            verdict=verdict,
            confidence=confidence,
            missing=missing,
            timings={"total": 12.0},
        )
    return Answer(
        question=question,
        answer=text if text is not None else f"{SENTENCE} [1]",
        citations=[citation()],
        passages=[passage()],
        abstained=False,
        engine="extractive",
        short_answers=shorts or [],
        verdict=verdict,
        confidence=confidence,
        missing=missing,
        timings={"total": 12.0},
    )


def verdict(said: str, *statuses: str) -> Verdict:
    """A verdict with one claim per status, the supported and contradicted ones cited."""
    claims = [
        Claim(
            f"claim {i}",
            status,
            n=None if status == "missing" else 1,
            score=0.8,
            published_at="2023-11-18T09:00:00",
        )
        for i, status in enumerate(statuses, start=1)
    ]
    return Verdict(said, claims, reason="weighed the claims")


@dataclass
class FakeCatalog:
    articles: dict[str, Any] = field(default_factory=dict)
    texts: dict[str, str] = field(default_factory=dict)
    titles: dict[str, str] = field(default_factory=dict)

    def refresh(self) -> None:
        """Nothing to reload: the fake index never changes."""

    def date_span(self) -> tuple[date, date] | None:
        return None  # no article is dated


@dataclass
class _Article:
    id: str
    path: str
    external_id: str | None = None


def catalog() -> FakeCatalog:
    return FakeCatalog(
        {ARTICLE_ID: _Article(ARTICLE_ID, "000_amcham.txt")},
        {ARTICLE_ID: TEXT},
        {ARTICLE_ID: TITLE},
    )


class FakePipeline:
    """Answers each question with ``answers[question]`` (or ``answers(question)``)."""

    def __init__(
        self,
        answers: dict[str, Answer] | Callable[[str], Answer],
        settings: Settings | None = None,
    ) -> None:
        self.answers = answers
        self.settings = settings or Settings()
        self.catalog = catalog()
        self.asked: list[str] = []
        self.filters: list[Any] = []  # the filters each question came with

    def ask(self, question: str, **kwargs: Any) -> Answer:
        self.asked.append(question)
        self.filters.append(kwargs.get("filters"))
        if callable(self.answers):
            return self.answers(question)
        return self.answers[question]

    def ask_stream(self, question: str, **kwargs: Any) -> Iterator[str | Answer]:
        result = self.ask(question, **kwargs)
        yield result.answer
        yield result

    def rewrite(self, history: list[Any], message: str, engine: str | None) -> str:
        return message

    def close(self) -> None:
        pass


def gold_citing(path: Path, docs: list[str]) -> Path:
    """A gold set at ``path``: one factoid question per evidence article named."""
    rows = [
        {
            "id": f"g{i}",
            "question": "Which companies attended the Friday meeting?",
            "answers": ["IBM"],
            "type": "factoid",
            "evidence": [{"doc": doc, "quote": "IBM, Microsoft and Pfizer"}],
        }
        for i, doc in enumerate(docs)
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path
