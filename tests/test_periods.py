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
        # a weekday: the latest such day up to the reference day, itself included
        ("What did Altman say on Monday?", date(2023, 11, 20), date(2023, 11, 20), True),
        ("What happened on Wednesday?", TODAY, TODAY, True),
        ("Who met Raimondo later on Tuesday?", date(2023, 11, 21), date(2023, 11, 21), True),
        ("Who was fired on Friday night?", date(2023, 11, 17), date(2023, 11, 17), True),
        ("What did Musk post this morning?", TODAY, TODAY, True),
        ("Who spoke this afternoon?", TODAY, TODAY, True),
        ("What happened tonight?", TODAY, TODAY, True),
        ("Who won last night?", date(2023, 11, 21), TODAY, True),  # reported this morning
        ("What did they say earlier this week?", date(2023, 11, 20), TODAY, True),
        ("Who won this weekend?", date(2023, 11, 18), date(2023, 11, 19), True),
        ("Who won last weekend?", date(2023, 11, 18), date(2023, 11, 19), True),
        ("What did OpenAI announce in recent days?", date(2023, 11, 16), TODAY, True),
        ("What has OpenAI done recently?", date(2023, 10, 24), TODAY, False),
        ("Who has Binance hired lately?", date(2023, 10, 24), TODAY, False),
        ("What did the Fed signal in recent weeks?", date(2023, 10, 24), TODAY, False),
        (
            "Which deals did Microsoft make recently; and who led them?",
            date(2023, 10, 24),
            TODAY,
            False,
        ),
        # a quarter without its year: the current one, or the last one that ended
        ("Who did Apple hire in Q4?", date(2023, 10, 1), TODAY, False),
        ("What did Musk say during the fourth quarter?", date(2023, 10, 1), TODAY, False),
        ("Who left Nike in the second quarter?", date(2023, 4, 1), date(2023, 6, 30), False),
        # thirds of a month: 1-10, 11-20, 21 to the end
        ("What happened in mid-November?", date(2023, 11, 11), date(2023, 11, 20), False),
        ("What did Musk say in early November 2023?", date(2023, 11, 1), date(2023, 11, 10), False),
        ("What happened late October?", date(2023, 10, 21), date(2023, 10, 31), False),
        ("Who resigned in mid October, 2022?", date(2022, 10, 11), date(2022, 10, 20), False),
        ("What happened in early December?", date(2022, 12, 1), date(2022, 12, 10), False),
        ("What happened in late November?", date(2023, 11, 21), TODAY, False),  # begun
        ("Any news since mid-November?", date(2023, 11, 11), TODAY, True),
        ("What did Musk say this year?", date(2023, 1, 1), TODAY, False),
        ("How many did Binance lay off in 2023?", date(2023, 1, 1), TODAY, False),
        ("Who ran Twitter in 2021?", date(2021, 1, 1), date(2021, 12, 31), False),
        # a vague phrase gives way to a definite one, wherever it stands
        (
            "What revenue did Uber report in the third quarter last Wednesday?",
            date(2023, 11, 15),
            date(2023, 11, 15),
            True,
        ),
        (
            "Which company, recently fined by the EU, said yesterday it would appeal?",
            date(2023, 11, 21),
            date(2023, 11, 21),
            True,
        ),
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
        # words of a period in other senses
        "Who played on Monday Night Football?",
        "What did Kelce say on the morning show?",
        "Was Q4 earnings guidance raised?",
        "What was Apple's Q4 revenue?",
        "Did Apple beat expectations in Q4 earnings?",
        "What was Uber's net income in Q3?",  # results, published after the quarter
        "How much did Nike earn in the fourth quarter?",
        "Did the Raiders tie the game in the fourth quarter?",
        "Who scored in the third quarter?",
        "What will the Fed decide on Wednesday?",  # a day to come, not the last one
        "Who is scheduled to speak on Monday?",
        "What happened on Monday, November 20?",  # the date says the day
        "Were Everton punished for an overspend in 2021-22?",
        "Was it too late may be the question?",  # the verb
        "Which company, recently fined by the EU, appealed?",  # describes the company
        "Who is the 49ers player that has recently been a valuable fantasy pick?",
        "Who held his usual weekly news conference on Monday?",
        "Which team plays every week on Sunday?",
        "Was Tuesday's meeting the last night of talks for the late Senator?",
    ],
)
def test_no_period(question: str):
    assert period_in(question, TODAY) is None


@pytest.mark.parametrize(
    ("question", "today", "since", "until"),
    [
        # asked in February: Q4 and "late December" are of the year before
        ("Who did Apple hire in Q4?", date(2024, 2, 5), date(2023, 10, 1), date(2023, 12, 31)),
        (
            "What happened in late December?",
            date(2024, 2, 5),
            date(2023, 12, 21),
            date(2023, 12, 31),
        ),
        ("What happened in Q1?", date(2024, 2, 5), date(2024, 1, 1), date(2024, 2, 5)),
        # on Monday, asked on a Monday: that day; on Sunday asked on a Monday: the day before
        ("Who spoke on Monday?", date(2023, 11, 20), date(2023, 11, 20), date(2023, 11, 20)),
        ("Who spoke on Sunday?", date(2023, 11, 20), date(2023, 11, 19), date(2023, 11, 19)),
        # early in a month: its "late" is last year's until the 21st
        ("What happened mid-March?", date(2024, 3, 15), date(2024, 3, 11), date(2024, 3, 15)),
        ("What happened late March?", date(2024, 3, 15), date(2023, 3, 21), date(2023, 3, 31)),
    ],
)
def test_periods_counted_from_other_days(question: str, today: date, since: date, until: date):
    period = period_in(question, today)
    assert period is not None
    assert (period.since, period.until) == (since, until)


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


def test_a_weekday_no_article_was_published_on_is_left_without_a_note():
    from rag.pipeline import _period
    from rag.retrieve import Retrieval

    today = date(2026, 11, 30)
    info = QuestionInfo("q", "who")
    monday = period_in("Which vice minister met Hart on Monday?", today)
    last_week = period_in("Who met Hart last week?", today)
    assert monday is not None and last_week is not None
    # "on Monday" with no article from that day is mostly the articles' own Monday
    quiet = _period(Retrieval([], info, period=monday, period_searched=False), True)
    assert quiet is not None and quiet["note"] == "" and not quiet["restricted"]
    told = _period(Retrieval([], info, period=last_week, period_searched=False), True)
    assert told is not None and told["note"].startswith("No article was published")
