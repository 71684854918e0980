"""The reading step end to end: real model, real spaCy pipeline, real Chroma.

On the sample corpus and on a few dated articles written here: the answer
opens with the answer itself, lists list every value, declines what the
articles do not say, gives yes/no verdicts from dated evidence, never answers
with a photo caption, and refuses a question it cannot read.
"""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from rag.ask.pipeline import Pipeline
from rag.ask.results import Filters
from rag.errors import InvalidQuestionError
from rag.indexing.indexer import sync
from rag.settings import Settings
from tests.conftest import SAMPLE
from tests.dated_articles import CAPTION, DATED, indexed

pytestmark = pytest.mark.integration


def _pipeline(root: Path, embedder, articles: Path) -> Pipeline:
    settings = Settings(articles_dir=articles, index_dir=root / "index")
    sync(settings, embedder=embedder)
    return Pipeline(settings, embedder=embedder)


@pytest.fixture(scope="module")
def sample(tmp_path_factory, embedder):
    root = tmp_path_factory.mktemp("reading-sample")
    shutil.copytree(SAMPLE, root / "articles")
    pipe = _pipeline(root, embedder, root / "articles")
    yield pipe
    pipe.close()


@pytest.fixture(scope="module")
def dated(tmp_path_factory, embedder):
    pipe = indexed(tmp_path_factory.mktemp("reading-dated"), embedder, DATED)
    yield pipe
    pipe.close()


def assert_spans_are_exact(pipe: Pipeline, answer) -> None:
    for short in answer.short_answers:
        assert pipe.catalog.texts[short.article_id][short.start : short.end] == short.text
        cited = answer.citations[short.n - 1]
        assert cited.char_start <= short.start and short.end <= cited.char_end


def test_where_question_opens_with_the_place(sample: Pipeline):
    answer = sample.ask("Where did He Lifeng and Gina Raimondo meet?")
    assert answer.short_answers, answer.answer
    first = answer.short_answers[0]
    assert first.text.startswith("the Great Hall of the People")
    assert answer.answer.startswith(first.text)
    assert_spans_are_exact(sample, answer)


def test_who_question_names_the_person_first(sample: Pipeline):
    answer = sample.ask("Who is the president of AmCham China?")
    assert "Michael Hart" in " ".join(answer.answer.split()[:3])
    assert_spans_are_exact(sample, answer)


def test_a_short_answer_is_backed_only_by_sentences_about_it(sample: Pipeline):
    # "Also today, Raimondo met with the Chinese minister of culture and tourism, Hu
    # Heping." The sentences about vice ministers share the question's words, not its
    # answer, and are left out.
    answer = sample.ask("Who is China's minister of culture and tourism?")
    assert answer.short_answers and answer.short_answers[0].text == "Hu Heping", answer.answer
    assert all("Hu Heping" in c.quote for c in answer.citations), answer.answer
    assert_spans_are_exact(sample, answer)


def test_the_person_of_the_asked_day_answers(sample: Pipeline):
    # "On Monday, Zhang Yunming … met with Michael Hart", not "Monday’s meeting comes
    # just several days after Zhang Guangjun … met with Hart … on Friday".
    answer = sample.ask("Which MIIT vice minister met AmCham China representatives on Monday?")
    assert answer.short_answers and answer.short_answers[0].text == "Zhang Yunming", answer.answer


def test_who_is_the_described_official_answers_with_the_name_given_later(sample: Pipeline):
    # The lead describes him ("The top Chinese official … told Commerce Secretary Gina
    # Raimondo"); a later paragraph names him ("Vice Premier He Lifeng sounded …").
    answer = sample.ask(
        "Who is the top Chinese official in charge of economic relations with Washington?"
    )
    assert answer.short_answers and answer.short_answers[0].text == "He Lifeng", answer.answer
    assert answer.answer.startswith("He Lifeng")
    assert_spans_are_exact(sample, answer)


def test_who_asked_of_a_pronoun_sentence_answers_with_whom_it_means(sample: Pipeline):
    # "“I’m ready …,” He told Raimondo during a meeting at the Great Hall of the People"
    answer = sample.ask("Who hosted Raimondo at the Great Hall of the People?")
    assert answer.short_answers and answer.short_answers[0].text == "He Lifeng", answer.answer
    assert_spans_are_exact(sample, answer)


def test_a_list_that_goes_on_in_the_next_sentence_is_listed_whole(sample: Pipeline):
    # "… Blinken’s visit to China in June, … Yellen’s trip earlier this month. US climate
    # envoy John Kerry is also visiting China."
    answer = sample.ask("Which senior US officials visited China in June and July 2023?")
    names = [s.text for s in answer.short_answers]
    assert {"Antony Blinken", "Janet Yellen", "John Kerry"} <= set(names), answer.answer
    assert_spans_are_exact(sample, answer)


def test_list_question_lists_every_company_each_cited(sample: Pipeline):
    answer = sample.ask("Which US companies attended the Friday meeting with the MIIT?")
    names = [s.text for s in answer.short_answers]
    assert {"IBM", "Microsoft", "Pfizer"} <= set(names)
    head = answer.answer.split(" — ")[0]
    for name in ("IBM", "Microsoft", "Pfizer"):
        assert f"{name} [" in head
    assert_spans_are_exact(sample, answer)


def test_unanswerable_question_is_declined_saying_what_is_missing(sample: Pipeline):
    answer = sample.ask("How many smartphones did Huawei ship in 2023?")
    assert answer.abstained, answer.answer
    assert answer.missing and "number" in answer.missing and "smartphones" in answer.missing
    assert answer.missing[1:] in answer.answer  # the answer capitalises its first letter
    assert not answer.citations


def test_non_english_question_gets_its_message(sample: Pipeline):
    with pytest.raises(InvalidQuestionError, match="English"):
        sample.ask("¿Dónde se reunieron He Lifeng y Gina Raimondo?")


def test_caption_is_never_the_answer(dated: Pipeline):
    answer = dated.ask("What happened to Sam Bankman-Fried at court in New York?")
    assert not answer.abstained
    assert answer.passages and any(CAPTION[:40] in p.text for p in answer.passages)
    for citation in answer.citations:
        assert "REUTERS/" not in citation.quote and "arrives at court" not in citation.quote
    assert "guilty" in answer.answer


def test_relative_weekday_is_resolved_against_the_publication_date(dated: Pipeline):
    answer = dated.ask("When was Sam Altman fired?")
    first = answer.short_answers[0]
    assert first.text.endswith("Friday")
    assert first.resolved == "Friday, 17 November 2023"
    assert "Friday, 17 November 2023" in answer.answer
    assert_spans_are_exact(dated, answer)


def test_before_question_is_decided_by_the_dates_and_cites_both(dated: Pipeline):
    answer = dated.ask(
        "Did TechCrunch report that Microsoft hired Sam Altman before Engadget reported "
        "that OpenAI reinstated him?"
    )
    assert answer.verdict is not None and answer.verdict.answer == "yes", answer.answer
    assert answer.answer.startswith("Yes")
    assert {c.source for c in answer.citations} == {"TechCrunch", "Engadget"}
    assert all(claim.status == "supported" and claim.n for claim in answer.verdict.claims)

    reverse = dated.ask(
        "Did Engadget report that OpenAI reinstated Sam Altman before TechCrunch reported "
        "that Microsoft hired him?"
    )
    assert reverse.verdict is not None and reverse.verdict.answer == "no", reverse.answer
    assert reverse.answer.startswith("No")


def test_claim_without_evidence_cannot_be_told(dated: Pipeline):
    answer = dated.ask("Did both TechCrunch and Bloomberg report that Microsoft hired Sam Altman?")
    assert answer.verdict is not None
    assert answer.verdict.answer == "cannot tell"
    assert answer.answer.startswith("Cannot tell from the articles")
    assert [c.status for c in answer.verdict.claims] == ["supported", "missing"]


def test_compound_question_answers_each_part(sample: Pipeline):
    answer = sample.ask(
        "On what date did Zhang Guangjun meet the AmCham president, and which companies "
        "sent representatives to that Friday meeting?"
    )
    names = [s.text for s in answer.short_answers]
    assert names[0] == "July 14, 2023", answer.answer
    assert {"IBM", "Microsoft", "Pfizer"} <= set(names[1:])
    head = answer.answer.split(" — ")[0]
    assert head.startswith("July 14, 2023 [") and "; IBM [" in head
    assert_spans_are_exact(sample, answer)


def test_an_office_no_article_names_is_declined(sample: Pipeline):
    answer = sample.ask("Which US senators accompanied Raimondo on her trip to Beijing?")
    assert answer.abstained, answer.answer
    assert answer.missing and "a senator" in answer.missing
    assert not answer.citations


def test_when_will_is_answered_by_a_time_to_come(sample: Pipeline, dated: Pipeline):
    answer = dated.ask("When will Sam Bankman-Fried be sentenced?")
    assert answer.short_answers and answer.short_answers[0].text == "next year", answer.answer
    # undated articles that speak only of the past: declined
    answer = sample.ask("When will Xi Jinping visit Washington?")
    assert answer.abstained, answer.answer
    assert answer.missing and "a date still to come" in answer.missing


def test_a_recent_period_keeps_to_its_articles_and_says_so(dated: Pipeline):
    # As of Tuesday 21 November 2023, "the past 2 days" are 20 and 21 November: of the four
    # articles only TechCrunch's of the 20th was published then.
    answer = dated.ask(
        "What did Sam Altman do in the past 2 days?", filters=Filters(as_of=date(2023, 11, 21))
    )
    assert answer.period is not None and answer.period["restricted"], answer.answer
    assert (answer.period["since"], answer.period["until"]) == ("2023-11-20", "2023-11-21")
    assert answer.passages and {p.source for p in answer.passages} == {"TechCrunch"}
    assert answer.answer.endswith(
        "Searched articles published from 20 to 21 November 2023 (in the past 2 days)."
    )
    # The same question a week on finds nothing in its days, says so and searches them all.
    later = dated.ask(
        "What did Sam Altman do in the past 2 days?", filters=Filters(as_of=date(2023, 11, 30))
    )
    assert later.period is not None and not later.period["restricted"]
    assert "No article was published from 29 to 30 November 2023" in later.answer
    assert len({p.source for p in later.passages}) > 1
    # Dates the user gave as filters win over the question's.
    given = dated.ask(
        "What did Sam Altman do in the past 2 days?",
        filters=Filters(since=date(2023, 11, 22), as_of=date(2023, 11, 21)),
    )
    assert given.period is None and {p.source for p in given.passages} == {"Engadget"}


def test_what_happened_in_some_days_is_their_news_newest_first(dated: Pipeline):
    answer = dated.ask(
        "What happened in the past 3 days?", filters=Filters(as_of=date(2023, 11, 22))
    )
    assert not answer.abstained, answer.answer
    assert [c.source for c in answer.citations] == ["Engadget", "TechCrunch"]
    assert answer.answer.startswith("Engadget, 22 November 2023: OpenAI reinstated Sam Altman")
    assert answer.answer.endswith("(in the past 3 days).")


def test_the_latest_on_a_topic_comes_newest_first_with_its_day(dated: Pipeline):
    answer = dated.ask("What's the latest on Sam Altman?")
    assert not answer.abstained, answer.answer
    days = [c.published_at[:10] for c in answer.citations if c.published_at]
    assert days and days == sorted(days, reverse=True), days
    assert answer.answer.startswith("Engadget, 22 November 2023: OpenAI reinstated Sam Altman")
