"""Ranking metrics, the MultiHop-RAG paper's scoring, run comparison, and the MultiHop adapter."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rag.errors import ConfigError
from rag.evaluation.evaluate import (
    answer_sentences,
    compare,
    compare_markdown,
    gold_yes_no,
    is_yes_no,
    load_record,
    yes_no_of_text,
    yes_no_scores,
)
from rag.evaluation.metrics import facts_found, multihop_paper, ranking
from rag.evaluation.multihop import load_questions, paper_table, shares_a_word


def test_ranking_credits_each_gold_item_once():
    # Gold items 0 and 1; rank 2 finds 0, rank 3 finds 0 again, rank 5 finds 1.
    found = [set(), {0}, {0}, set(), {1}]
    m = ranking(found, 2)
    assert m["hit@1"] == 0 and m["hit@4"] == 1
    assert m["recall@4"] == 0.5 and m["recall@5"] == 1.0
    assert m["mrr@10"] == 0.5
    assert m["map@10"] == pytest.approx((1 / 2 + 1 / 5) / 2)
    ideal = 1 + 1 / 1.584962500721156
    assert m["ndcg@10"] == pytest.approx((1 / 1.584962500721156 + 1 / 2.584962500721156) / ideal)
    assert ranking([], 0) == {}
    assert ranking([{0}], 1, prefix="p_")["p_ndcg@10"] == 1.0


def test_multihop_paper_scoring_matches_its_definition():
    facts = ["Sam Bankman-Fried was found guilty", "on seven counts"]
    texts = [
        "Unrelated text.",
        "A jury said Sam Bankman-\nFried was found guilty today",  # whitespace differs
        "He was convicted on seven counts of fraud.",
        "Sam Bankman-Fried was found guilty on seven counts.",  # both, already found
    ]
    m = multihop_paper(texts, facts)
    assert m["Hits@4"] == 1 and m["Hits@10"] == 1
    assert m["MRR@10"] == 0.5
    assert m["MAP@10"] == pytest.approx((1 / 2 + 1 / 3) / 2)
    assert multihop_paper(["nothing"] * 12, facts) == {
        "Hits@4": 0.0,
        "Hits@10": 0.0,
        "MRR@10": 0.0,
        "MAP@10": 0.0,
    }
    # Only the top 10 count.
    assert multihop_paper(["x"] * 10 + [facts[0]], facts)["Hits@10"] == 0
    assert facts_found(texts, facts) == [set(), {0}, {1}, {0, 1}]


def test_answer_sentences_keep_their_markers():
    assert answer_sentences("Foo said it. [1] Bar went home. [2][3] Baz.") == [
        "Foo said it [1].",
        "Bar went home [2][3].",
        "Baz.",
    ]


def _record(name: str, verdicts: dict[str, bool], metric: float) -> dict:
    return {
        "name": name,
        "created_at": "2026-11-22T00:00:00+00:00",
        "settings_hash": name,
        "git_commit": None,
        "summary": {"overall": {"questions": len(verdicts), "answer_correct": metric}},
        "questions": [
            {"id": i, "type": "factoid", "question": f"q {i}?", "answer": "a", "correct": ok}
            for i, ok in verdicts.items()
        ],
    }


def test_compare_reports_deltas_and_flipped_questions(tmp_path: Path):
    old = _record("old", {"a": True, "b": False, "c": True}, 0.6667)
    new = _record("new", {"a": True, "b": True, "c": False, "d": True}, 0.75)
    diff = compare(old, new)
    delta = {row["metric"]: row["delta"] for row in diff["metrics"]}
    assert delta["answer_correct"] == pytest.approx(0.0833)
    assert [(f["id"], f["was"], f["now"]) for f in diff["flipped"]] == [
        ("b", "wrong", "correct"),
        ("c", "correct", "wrong"),
    ]
    assert diff["unmatched"] == ["d"]
    text = compare_markdown(diff)
    assert "| answer_correct | 0.6667 | 0.75 | +0.0833 |" in text
    assert "`b` (factoid) wrong → correct" in text

    path = tmp_path / "run.json"
    path.write_text(json.dumps(old))
    assert load_record(path)["name"] == "old"
    path.write_text("{}")
    with pytest.raises(ConfigError, match="not a run record"):
        load_record(path)
    with pytest.raises(ConfigError, match="cannot read run record"):
        load_record(tmp_path / "missing.json")


def test_multihop_questions_become_gold(tmp_path: Path):
    rows = [
        {
            "id": "q1",
            "question": "Did both outlets report it?",
            "answer": "Yes",
            "question_type": "comparison_query",
            "evidence": [{"title": "t", "source": "s", "fact": "It happened.", "doc_id": "d7"}],
        },
        {
            "id": "q2",
            "question": "Who won the 2031 cup?",
            "answer": "Insufficient information.",
            "question_type": "null_query",
            "evidence": [],
        },
    ]
    path = tmp_path / "dev.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    first, null = load_questions(path)
    assert first.answers == ["Yes"] and first.evidence[0].doc == "d7" and first.answerable
    assert null.type == "null_query" and not null.answerable and null.evidence == []
    assert len(load_questions(path, limit=1)) == 1

    path.write_text('{"id": "x", "question": "q"}\nnot json\n')
    with pytest.raises(ConfigError) as error:
        load_questions(path)
    assert "2 bad line(s)" in str(error.value)
    assert "line 1: missing field 'question_type'" in str(error.value)

    assert shares_a_word("Yes, both did.", "yes") is False  # the paper splits on spaces only
    assert shares_a_word("yes both did", "Yes")
    table = paper_table({"mh_hits@10": 0.8, "mh_hits@4": 0.7, "mh_mrr@10": 0.6, "mh_map@10": 0.5})
    assert "| paper: voyage-02 + bge-reranker-large | 0.7467 | 0.6625 | 0.5860 | 0.4795 |" in table
    assert "**0.8000**" in table


def test_yes_no_scores_and_the_always_yes_baseline():
    matrix = {
        "yes": {"yes": 6, "no": 1, "cannot tell": 1},
        "no": {"yes": 1, "no": 1, "cannot tell": 0},
    }
    scores = yes_no_scores(matrix)
    assert scores["yes_no_questions"] == 10
    assert scores["yes_no_accuracy"] == pytest.approx(0.7)
    assert scores["yes_no_recall_yes"] == pytest.approx(0.75)
    assert scores["yes_no_recall_no"] == pytest.approx(0.5)
    assert scores["yes_no_balanced_accuracy"] == pytest.approx(0.625)
    assert scores["yes_no_cannot_tell"] == pytest.approx(0.1)
    assert scores["yes_no_always_yes_accuracy"] == pytest.approx(0.8)
    assert scores["yes_no_always_yes_balanced_accuracy"] == 0.5
    empty = {g: {"yes": 0, "no": 0, "cannot tell": 0} for g in ("yes", "no")}
    assert yes_no_scores(empty) == {}


def test_multihop_yes_no_answers_in_any_case(tmp_path: Path):
    rows = [
        {
            "id": "a",
            "question": "Did both report it?",
            "answer": "Yes",
            "question_type": "comparison_query",
        },
        {"id": "b", "question": "Was it later?", "answer": "no", "question_type": "temporal_query"},
        {
            "id": "c",
            "question": "Who said it?",
            "answer": "The Verge",
            "question_type": "inference_query",
        },
    ]
    path = tmp_path / "dev.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    yes, no, who = load_questions(path)
    assert [gold_yes_no(q) for q in (yes, no, who)] == ["yes", "no", None]
    assert is_yes_no(yes) and is_yes_no(no) and not is_yes_no(who)
    assert yes_no_of_text("No, it was not.") == "no"
    assert yes_no_of_text("YES.") == "yes"
    assert yes_no_of_text("The Verge reported it.") == "cannot tell"


def test_rag_bench_multihop_prints_the_yes_no_confusion_matrix(tmp_path, monkeypatch, capsys):
    import rag.ask.pipeline
    import rag.indexing.indexer
    from rag.cli import main
    from tests import fake_answers as fake

    rows = [
        {
            "id": f"m{i}",
            "question": f"Did outlet {i} report it?",
            "answer": gold,
            "question_type": "comparison_query",
            "evidence": [],
        }
        for i, gold in enumerate(["Yes", "Yes", "No", "no"])
    ]
    path = tmp_path / "dev.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")

    def reply(question: str):
        # Says "no" to outlet 3 only: right on m3, wrong on m2, right on both "Yes".
        said = "no" if "3" in question else "yes"
        return fake.answer(question, "Reported [1].", verdict=fake.verdict(said, "supported"))

    monkeypatch.setattr(rag.indexing.indexer, "sync", lambda *a, **k: None)
    monkeypatch.setattr(rag.ask.pipeline, "Pipeline", lambda s: fake.FakePipeline(reply, s))
    status = main(
        [
            "bench",
            "multihop",
            "--questions",
            str(path),
            "--corpus",
            str(tmp_path),
            "--out",
            str(tmp_path / "runs"),
        ]
    )
    out = capsys.readouterr().out
    assert status == 0
    assert "| balanced accuracy | 0.75 | 0.5 |" in out
    assert "| all | yes | 2 | 0 | 0 |" in out and "| all | no | 1 | 1 | 0 |" in out
    assert "| comparison_query | no | 1 | 1 | 0 |" in out
    assert "next to the paper's Table 5" in out
