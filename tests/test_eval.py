"""The evaluation harness on the seed gold set, as CI runs it: real model, real index."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rag.evaluate import check_floors, correct, token_f1
from rag.gold import GoldQuestion
from tests.conftest import ROOT, SAMPLE, run_rag

# Just under what the extractive engine measures on eval/gold/seeds.jsonl (see README).
FLOORS = ["answer_correct=0.75", "citation_recall=0.85", "hit@4=0.95", "mrr@10=0.8"]


def test_answer_scoring_rules():
    listing = GoldQuestion("a", "Which?", ["IBM", "Microsoft"], "list", match="all")
    assert correct(listing, "IBM, Microsoft and Pfizer attended.")
    assert not correct(listing, "IBM attended.")
    assert correct(
        GoldQuestion("b", "Who?", ["Michael Hart"], "factoid"), "Michael  HART, president"
    )
    yes_no = GoldQuestion("c", "Did?", ["no"], "yes_no")
    assert correct(yes_no, "Beijing has given no indication it might change.")
    assert not correct(yes_no, "Yes, it did.")
    assert token_f1("the talks ended", "talks ended") == pytest.approx(0.8)
    assert check_floors({"hit@4": 0.9}, ["hit@4=0.95", "nope=1"]) == [
        "hit@4 = 0.9 is under the floor 0.95",
        "nope: no such metric (have: hit@4)",
    ]


@pytest.mark.integration
def test_rag_eval_on_the_seed_set_meets_its_floors(tmp_path: Path):
    args = [
        "eval",
        "--corpus",
        str(SAMPLE),
        "--out",
        str(tmp_path / "runs"),
        "--gold",
        str(ROOT / "eval/gold/seeds.jsonl"),
    ]
    result = run_rag(*args, *[f"--min={f}" for f in FLOORS], "--json", timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    summary = json.loads(result.stdout)
    assert summary["overall"]["questions"] == 47
    assert {"factoid", "list", "multi-hop", "unanswerable", "conflict"} <= set(summary["by_type"])
    (record,) = (tmp_path / "runs").glob("seeds-*.json")
    data = json.loads(record.read_text())
    assert data["settings_hash"] and len(data["questions"]) == 47
    assert record.with_suffix(".md").read_text().startswith("# Eval run seeds")

    for name in ("passage_mrr@10", "ndcg@10", "map@10", "cited_sentences", "answer_p95_ms"):
        assert name in summary["overall"]
    first = data["questions"][0]
    assert first["passages"] and any(p["gold"] for p in first["passages"])
    assert first["citations"][0]["quote"] in first["answer"]

    # The same settings again: every verdict the same; one floor too high fails the run.
    too_high = run_rag(*args, "--min", "answer_correct=0.99", "--compare", str(record), timeout=600)
    assert too_high.returncode == 1
    assert "answer_correct" in too_high.stderr and "under the floor 0.99" in too_high.stderr
    assert "Compared with seeds" in too_high.stdout
    assert "No question changed verdict." in too_high.stdout
