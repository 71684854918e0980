"""The newsroom gold set (eval/gold/newsroom.jsonl): reporter-style questions over the
MultiHop-RAG dev corpus. The file itself is always checked; the checks against the
article text run when the corpus is beside the repository (../shared/bench/multihop)."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

import pytest

from rag.evaluation.gold import GoldQuestion, load_gold
from tests.conftest import MAX_QUOTE, ROOT

NEWSROOM = ROOT / "eval" / "gold" / "newsroom.jsonl"

# type -> the least number of questions of that type the set must hold
MINIMUMS = {
    "who": 10,
    "what_said": 6,
    "when": 6,
    "where": 4,
    "list": 4,
    "yes_no": 10,
    "unanswerable": 12,
}


@pytest.fixture(scope="module")
def questions() -> list[GoldQuestion]:
    return load_gold(NEWSROOM)


def test_type_counts_meet_the_minimums(questions: list[GoldQuestion]):
    kinds = Counter(q.type for q in questions)
    assert len(questions) >= 64
    for kind, least in MINIMUMS.items():
        assert kinds[kind] >= least, (kind, kinds[kind])
    assert kinds["how_much"] + kinds["how_many"] >= 8
    assert set(kinds) <= set(MINIMUMS) | {"how_much", "how_many"}, kinds


def test_answers_and_evidence_have_the_right_shape(questions: list[GoldQuestion]):
    for q in questions:
        if q.type == "unanswerable":
            assert not q.answers and not q.evidence, q.id
            continue
        assert q.evidence, q.id
        assert (q.match == "all") == (q.type == "list"), q.id
        if q.type == "list":
            assert len(q.answers) >= 2, q.id
        if q.type == "yes_no":
            assert q.answers in (["Yes"], ["No"]), q.id
        for e in q.evidence:
            assert e.doc.startswith("mh-") and e.quote.strip(), q.id
            assert len(e.quote) <= MAX_QUOTE and "\n" not in e.quote, (q.id, e.quote)


def test_yes_no_has_enough_noes(questions: list[GoldQuestion]):
    answers = Counter(q.answers[0] for q in questions if q.type == "yes_no")
    assert answers["No"] >= 4 and answers["Yes"] >= 4, answers


def test_every_quote_occurs_verbatim_in_its_article(questions, multihop_corpus):
    for q in questions:
        for e in q.evidence:
            assert e.doc in multihop_corpus, (q.id, e.doc)
            assert e.quote in multihop_corpus[e.doc]["body"], (q.id, e.doc, e.quote)


def test_every_answer_occurs_in_an_evidence_article(questions, multihop_corpus):
    for q in questions:
        if q.type in ("yes_no", "unanswerable"):
            continue
        bodies = [multihop_corpus[e.doc]["body"].lower() for e in q.evidence]
        for answer in q.answers:
            assert any(answer.lower() in body for body in bodies), (q.id, answer)


def test_two_outlet_questions_cite_both_outlets(questions, multihop_corpus):
    """ "Did both X and Y ..." and "Did X report ... before Y" cite one article of each outlet."""
    paired = [
        q
        for q in questions
        if q.type == "yes_no" and (" both " in q.question or " before " in q.question)
    ]
    assert sum(" both " in q.question for q in paired) >= 2
    assert sum(" before " in q.question for q in paired) >= 2
    for q in paired:
        sources = {multihop_corpus[e.doc]["source"] for e in q.evidence}
        assert len(q.evidence) == 2 and len(sources) == 2, (q.id, sources)


def test_before_questions_agree_with_the_publication_dates(questions, multihop_corpus):
    """The first evidence is the article of the outlet asked about (X in "did X ... before Y")."""
    for q in questions:
        if q.type != "yes_no" or " before " not in q.question:
            continue
        first, second = (
            datetime.fromisoformat(multihop_corpus[e.doc]["published_at"]) for e in q.evidence
        )
        assert first != second, q.id
        assert q.answers == (["Yes"] if first < second else ["No"]), (q.id, first, second)
