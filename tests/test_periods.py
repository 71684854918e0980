"""The stretch of days a question names (rag.periods), counted from a reference day."""

from __future__ import annotations

from datetime import date

import pytest

from rag.extractive import digest_of
from rag.periods import Period, order_in, period_in
from rag.query import QuestionInfo
from rag.results import Passage
from rag.retrieve import by_date

TODAY = date(2023, 11, 22)  # a Wednesday


@pytest.mark.parametrize(
    ("question", "since", "until", "strict"),
    [
        ("What happened today?", date(2023, 11, 22), date(2023, 11, 22), True),
        ("What did Binance say yesterday?", date(2023, 11, 21), date(2023, 11, 21), True),
        ("Any news on OpenAI in the past 3 days?", date(2023, 11, 20), TODAY, True),
        ("What did the Fed do over the last two weeks?", date(2023, 11, 9), TODAY, True),
        ("in the past week", date(2023, 11, 16), TODAY, True),
        ("What happened this past week?", date(2023, 11, 16), TODAY, True),
        ("What changed in the past 24 hours?", date(2023, 11, 21), TODAY, True),
        ("What happened the day before yesterday?", date(2023, 11, 20), date(2023, 11, 20), True),
        ("What happened two days ago?", date(2023, 11, 20), date(2023, 11, 20), True),
        ("Who won over the weekend?", date(2023, 11, 18), date(2023, 11, 19), True),
        ("What happened between November 20 and 26?", date(2023, 11, 20), TODAY, True),
        ("Any news since November 15?", date(2023, 11, 15), TODAY, True),
        ("What did they say in the past several days?", date(2023, 11, 18), TODAY, True),
        ("What happened this week?", date(2023, 11, 20), TODAY, True),
        ("What happened last week?", date(2023, 11, 13), date(2023, 11, 19), True),
        ("Any updates since Monday on Binance?", date(2023, 11, 20), TODAY, True),
        ("What did Altman do last Friday?", date(2023, 11, 17), date(2023, 11, 17), True),
        ("What happened between November 20 and November 26?", date(2023, 11, 20), TODAY, True),
        (
            "What was agreed between 1st and 5th November, 2023?",
            date(2023, 11, 1),
            date(2023, 11, 5),
            True,
        ),
        ("between December 28, 2022 and January 3?", date(2022, 12, 28), date(2023, 1, 3), True),
        ("News from last month?", date(2023, 10, 1), date(2023, 10, 31), False),
        ("What happened in October?", date(2023, 10, 1), date(2023, 10, 31), False),
        ("What happened in December?", date(2022, 12, 1), date(2022, 12, 31), False),
        ("Revenue in Q3 2023?", date(2023, 7, 1), date(2023, 9, 30), False),
        ("What did Musk say last year?", date(2022, 1, 1), date(2022, 12, 31), False),
    ],
)
def test_periods(question: str, since: date, until: date, strict: bool):
    period = period_in(question, TODAY)
    assert period is not None
    assert (period.since, period.until, period.strict) == (since, until, strict)


@pytest.mark.parametrize(
    "question",
    [
        "Who won the war between Israel and Hamas?",
        "Is the rate at its highest since 2001?",
        "Between the report from The Verge on September 28, 2023, and the Fortune report on "
        "October 4, was there consistency?",
        "Did it happen on the last day of trading?",
        "What did the TechCrunch article published on November 27 say?",
    ],
)
def test_no_period(question: str):
    assert period_in(question, TODAY) is None


def test_the_range_is_said_the_way_a_reader_says_it():
    assert Period(TODAY, TODAY, "today", True).describe() == "on 22 November 2023"
    assert (
        Period(date(2023, 10, 28), date(2023, 11, 3), "x", True).describe()
        == "from 28 October to 3 November 2023"
    )
    assert (
        Period(date(2022, 12, 30), date(2023, 1, 5), "x", True).describe()
        == "from 30 December 2022 to 5 January 2023"
    )


@pytest.mark.parametrize(
    ("question", "digest"),
    [
        ("What happened yesterday?", "days"),
        ("What did TechCrunch report last week?", "days"),
        ("Any news about credit cards since Monday?", "topic"),
        ("What's the latest on Ohtani this week?", "topic"),
        ("Who did Microsoft hire last week?", None),
        ("What happened to Sam Altman?", None),  # no days: a question about him
    ],
)
def test_a_question_for_the_news_of_some_days(question: str, digest: str | None):
    info = QuestionInfo(
        question, "what", sources=["TechCrunch"] if "TechCrunch" in question else []
    )
    period = period_in(question, TODAY)  # a question naming no days is never a digest
    assert (digest_of(question, info, period) if period else None) == digest


@pytest.mark.parametrize(
    ("question", "order"),
    [
        ("Latest on SBF?", "newest"),
        ("What's the latest news on the EU AI Act?", "newest"),
        ("What's new with OpenAI?", "newest"),
        ("most recent news about Binance", "newest"),
        ("What were the first reports about the Hamas attack?", "earliest"),
        ("What is the latest valuation of OpenAI?", None),
        ("Did the Forbes article detail the latest product launch of Beats?", None),
        ("Latest Stock Market news on Israel?", None),
    ],
)
def test_a_question_for_the_newest_or_earliest_news(question: str, order: str | None):
    assert order_in(question) == order


def test_relevant_passages_are_put_in_date_order_and_the_rest_follow():
    def passage(name: str, score: float, day: str | None) -> Passage:
        return Passage(name, name, "", 0, 0, name, None, day, None, name, name, score)

    old, new, undated, weak = (
        passage("old", 1.0, "2023-11-01"),
        passage("new", 0.8, "2023-11-20"),
        passage("undated", 0.9, None),
        passage("weak", 0.3, "2023-12-01"),
    )
    ranked = [old, undated, new, weak]
    assert [p.chunk_id for p in by_date(ranked, newest=True)] == ["new", "old", "undated", "weak"]
    assert [p.chunk_id for p in by_date(ranked, newest=False)] == ["old", "new", "undated", "weak"]
