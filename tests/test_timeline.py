"""Timelines: dated events about a topic, oldest first (``rag timeline``, ``GET
/timeline``, the app's Timeline page).

All in the fast tier: a sentence's day from its dates, anchored to its article's day;
and, over a few dated articles written here (the fake embedder, real spaCy and
Chroma), events in order, each dated by the day its sentence names, quotes exact,
copies folded, and `rag timeline` in-process.
"""

from __future__ import annotations

import json
from datetime import date

import pytest

from rag.ask.pipeline import Pipeline
from rag.ask.relative_dates import event_day
from rag.timeline import _surname, topic_words
from tests.conftest import RagCli
from tests.dated_articles import DATED, indexed
from tests.fake_embed import FakeEmbedder

pytestmark = pytest.mark.fast

ARTICLES = {
    **{name: DATED[name] for name in ("fired.json", "hired.json", "back.json")},
    "senate.json": {
        "title": "Altman looks back on his Senate testimony",
        "source": "Fortune",
        "published_at": "2023-11-19T09:00:00+00:00",
        "body": "Sam Altman testified before the Senate on May 16, 2023, calling for a new "
        "agency to license powerful AI models.\n\nHe has repeated the call since.",
    },
    "back-again.json": {
        "title": "Sam Altman is back at OpenAI",
        "source": "Business Insider",
        "published_at": "2023-11-22T15:00:00+00:00",
        "body": "OpenAI reinstated Sam Altman as chief executive after five days of turmoil, "
        "the company said on Wednesday. Investors welcomed the news.",
    },
}


@pytest.mark.parametrize(
    ("sentence", "spans", "published", "day"),
    [
        ("On July 14, 2023, Zhang met Hart.", ["July 14, 2023"], date(2023, 11, 1), "2023-07-14"),
        ("Altman was fired late Friday.", ["late Friday"], date(2023, 11, 18), "2023-11-17"),
        ("The vote is on Tuesday.", ["Tuesday"], None, None),  # no day to count from
        ("It ships on December 28.", ["December 28"], date(2023, 1, 3), "2022-12-28"),
        ("She met him on 3 March.", ["3 March"], date(2023, 11, 1), "2023-03-03"),
        ("Sales rose this year.", ["this year"], date(2023, 11, 1), None),  # no day
        # "was informed on Thursday … would be fired": a day gone by, not one to come
        (
            "Murati was informed on Thursday night that Altman would be fired.",
            ["Thursday night"],
            date(2023, 11, 18),
            "2023-11-16",
        ),
        ("Raimondo will meet Xi on Tuesday.", ["Tuesday"], date(2023, 11, 18), "2023-11-21"),
    ],
)
def test_the_day_a_sentence_tells_of(
    sentence: str, spans: list[str], published: date | None, day: str | None
):
    found = event_day(sentence, spans, published)
    assert (found[0].isoformat() if found else None) == day


def test_the_words_of_a_request_that_name_its_topic():
    assert topic_words("Timeline of the EU AI Act") == topic_words("EU AI Act")
    assert topic_words("latest news about Binance") == {"binance"}
    # a person's name: the sentence must hold the last word ("Aaron Donald" is not him)
    assert _surname("Donald Trump") == "trump" and _surname("Sam Bankman-Fried")
    assert _surname("Binance") is None and _surname("the crypto crash") is None


@pytest.fixture(scope="module")
def dated(tmp_path_factory, fake_embedder: FakeEmbedder):
    pipe = indexed(tmp_path_factory.mktemp("timeline"), fake_embedder, ARTICLES)
    yield pipe
    pipe.close()


def test_events_in_order_each_dated_by_the_day_it_names(dated: Pipeline):
    found = dated.timeline("Sam Altman")
    days = [e.day for e in found.events]
    assert days == sorted(days)
    by_day = {e.day: e for e in found.events}
    # the Senate hearing is dated by the sentence, not by its article (19 November)
    assert by_day["2023-05-16"].dated_by == "text" and by_day["2023-05-16"].source == "Fortune"
    assert by_day["2023-11-17"].when == "late Friday"  # fired: in an article of the 18th
    assert by_day["2023-11-20"].source == "TechCrunch"  # "said on Monday", the 20th
    # two outlets reporting the return on Wednesday the 22nd are one event
    back = [e for e in found.events if e.day == "2023-11-22"]
    assert len(back) == 1 and back[0].also_reported_by, back
    for event in found.events:
        text = dated.catalog.texts[event.article_id]
        assert text[event.char_start : event.char_end] == event.quote
    assert found.articles == 5 and found.undated == 0
    assert sum(c["articles"] for c in found.coverage) == 5


def test_rag_timeline_prints_the_events_and_their_json(dated: Pipeline, rag_cli: RagCli):
    env = {
        "RAG_ARTICLES_DIR": str(dated.settings.articles_dir),
        "RAG_INDEX_DIR": str(dated.settings.index_dir),
    }
    shown = rag_cli("timeline", "Sam Altman", env=env)
    assert shown.returncode == 0, shown.stderr
    assert "Tue 16 May 2023" in shown.stdout and "“late Friday” in an article of" in shown.stdout
    data = json.loads(rag_cli("timeline", "Sam Altman", "--json", env=env).stdout)
    assert data["events"][0]["day"] == "2023-05-16"
    nothing = rag_cli("timeline", "Sam Altman", "--until", "2023-01-01", env=env)
    assert nothing.returncode != 0 and "2023-01-01" in nothing.stderr
