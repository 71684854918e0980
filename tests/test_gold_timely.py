"""The timely gold set (eval/gold/timely.jsonl): questions about the news of some days
("yesterday", "last week", "since Monday", "in October") over the MultiHop-RAG dev corpus,
each asked as of a reference day. The file itself is always checked; the checks against
the articles run when the corpus is beside the repository (../shared/bench/multihop)."""

from __future__ import annotations

import re
from collections import Counter
from datetime import date

import pytest

from rag.ask.periods import Period, period_in
from rag.evaluation.gold import GoldQuestion, load_gold
from tests.conftest import MAX_QUOTE, ROOT

TIMELY = ROOT / "eval" / "gold" / "timely.jsonl"

# type -> the least number of questions of that type the set must hold
MINIMUMS = {
    "period": 12,  # a fact, within a strict period ("this week", "yesterday")
    "loose_period": 4,  # a fact, within a looser one ("in October", "last month")
    "digest": 4,  # the news of some days, by an outlet or on a topic
    "latest": 3,  # "latest" / "most recent": the newest article of the period answers
    "no_articles": 2,  # the period holds no article: the answer comes from the others
    "unanswerable": 4,
}
# The evidence of these lies within the period the question names.
WITHIN = ("period", "digest", "latest")


@pytest.fixture(scope="module")
def questions() -> list[GoldQuestion]:
    return load_gold(TIMELY)


def _period(q: GoldQuestion) -> Period:
    assert q.as_of is not None, q.id
    period = period_in(q.question, q.as_of)
    assert period is not None, (q.id, q.question)
    return period


def _day(article: dict) -> date:
    return date.fromisoformat(article["published_at"][:10])


def test_type_counts_meet_the_minimums(questions: list[GoldQuestion]):
    kinds = Counter(q.type for q in questions)
    assert len(questions) >= 30
    for kind, least in MINIMUMS.items():
        assert kinds[kind] >= least, (kind, kinds[kind])
    assert set(kinds) <= set(MINIMUMS), kinds


def test_answers_and_evidence_have_the_right_shape(questions: list[GoldQuestion]):
    for q in questions:
        if q.type == "unanswerable":
            assert not q.answers and not q.evidence, q.id
            continue
        assert q.evidence and q.as_of is not None, q.id
        assert q.match == "any", q.id
        for e in q.evidence:
            assert e.doc.startswith("mh-") and e.quote.strip(), q.id
            assert len(e.quote) <= MAX_QUOTE and "\n" not in e.quote, (q.id, e.quote)


def test_every_question_names_a_period(questions: list[GoldQuestion]):
    """A question of this set is about some days: its period parses, and a strict one
    (the days retrieval keeps to) is what the fact, digest and latest questions name."""
    for q in questions:
        period = _period(q)
        if q.type in WITHIN:
            assert period.strict, (q.id, period)
        if q.type == "loose_period":
            assert not period.strict, (q.id, period)


def test_every_quote_occurs_verbatim_in_its_article(questions, multihop_corpus):
    for q in questions:
        for e in q.evidence:
            assert e.doc in multihop_corpus, (q.id, e.doc)
            assert e.quote in multihop_corpus[e.doc]["body"], (q.id, e.doc, e.quote)


def test_evidence_lies_within_the_period(questions, multihop_corpus):
    """The articles that answer a period, digest or latest question were published on
    the days it names (counted from its ``as_of``); a loose one's too."""
    for q in questions:
        if q.type not in (*WITHIN, "loose_period"):
            continue
        period = _period(q)
        for e in q.evidence:
            day = _day(multihop_corpus[e.doc])
            assert period.since <= day <= period.until, (q.id, e.doc, day, period)


def test_no_articles_periods_are_empty(questions, multihop_corpus):
    """No article was published in the period, so the product says so and searches
    them all; the answer is in the corpus still."""
    for q in questions:
        if q.type != "no_articles":
            continue
        period = _period(q)
        inside = [i for i, a in multihop_corpus.items() if period.since <= _day(a) <= period.until]
        assert not inside, (q.id, period, inside[:3])


def _words(text: str) -> str:
    """As the scoring compares them: lower case words, punctuation and quotes dropped."""
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


def test_every_answer_occurs_in_an_evidence_article(questions, multihop_corpus):
    for q in questions:
        bodies = " ".join(_words(multihop_corpus[e.doc]["body"]) for e in q.evidence)
        for answer in q.answers:
            assert _words(answer) in bodies, (q.id, answer)
