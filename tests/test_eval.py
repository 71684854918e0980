"""The evaluation harness: on the seed gold set as CI runs it (real model, real index);
its scoring, report and refusals in the fast tier, over fake answers and the fake
embedder."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from rag.cli import main
from rag.evaluation import evaluate
from rag.evaluation.evaluate import check_floors, correct, short_scores, token_f1
from rag.evaluation.gold import GoldQuestion, load_gold
from tests import fake_answers as fake
from tests.conftest import ROOT, SAMPLE, RagCli, run_rag

fast = pytest.mark.fast

# Just under what the extractive engine measures on eval/gold/seeds.jsonl (see README).
FLOORS = ["answer_correct=0.75", "citation_recall=0.85", "hit@4=0.95", "mrr@10=0.8"]


@fast
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


# --- reading-step fields: yes/no verdicts, short answers, confidence (fake answers) ---------


def yes_no_gold(path: Path, golds: list[str]) -> Path:
    """A gold set of yes/no questions q0, q1, … with these gold answers, plus one factoid
    and one unanswerable question."""
    rows = [
        {"id": f"q{i}", "question": f"Did {i} happen?", "answers": [g], "type": "comparison"}
        for i, g in enumerate(golds)
    ]
    rows.append(
        {
            "id": "f1",
            "question": "Which companies attended?",
            "answers": ["IBM", "Microsoft", "Pfizer"],
            "match": "all",
            "type": "list",
        }
    )
    rows.append({"id": "u1", "question": "Who won the cup?", "answers": [], "type": "unanswerable"})
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    return path


def always(said: str, confidence: float | None = None):
    """An engine that gives every yes/no question the same verdict and lists the three
    companies as its short answers."""

    def reply(question: str):
        if question.startswith("Did"):
            return fake.answer(
                question, "It did.", verdict=fake.verdict(said, "supported"), confidence=confidence
            )
        if question == "Who won the cup?":
            return fake.answer(question, abstained=True, confidence=confidence)
        shorts = [fake.short("IBM"), fake.short("Microsoft"), fake.short("Pfizer")]
        return fake.answer(question, shorts=shorts, confidence=confidence)

    return reply


def run_on(tmp_path: Path, golds: list[str], reply) -> dict:
    gold = load_gold(yes_no_gold(tmp_path / "yn.jsonl", golds))
    return evaluate.run(fake.FakePipeline(reply), gold, name="yn")


@fast
def test_a_constant_yes_is_not_rewarded_on_a_skewed_yes_no_set(tmp_path: Path):
    record = run_on(tmp_path, ["Yes"] * 8 + ["no"] * 2, always("yes"))
    overall = record["summary"]["overall"]
    assert overall["yes_no_questions"] == 10
    assert overall["yes_no_accuracy"] == 0.8 == overall["yes_no_always_yes_accuracy"]
    assert overall["yes_no_balanced_accuracy"] == 0.5
    assert overall["yes_no_always_yes_balanced_accuracy"] == 0.5
    assert (overall["yes_no_recall_yes"], overall["yes_no_recall_no"]) == (1.0, 0.0)
    assert record["summary"]["yes_no_confusion"]["overall"] == {
        "yes": {"yes": 8, "no": 0, "cannot tell": 0},
        "no": {"yes": 2, "no": 0, "cannot tell": 0},
    }
    assert record["summary"]["yes_no_confusion"]["by_type"]["comparison"]["no"]["yes"] == 2
    assert "list" not in record["summary"]["yes_no_confusion"]["by_type"]
    # The verdict decides, not the text ("It did." reads as neither).
    q = next(q for q in record["questions"] if q["id"] == "q9")
    assert (q["gold_yes_no"], q["predicted_yes_no"], q["correct"]) == ("no", "yes", False)
    assert q["verdict"]["answer"] == "yes" and q["verdict"]["claims"][0]["status"] == "supported"

    cannot = run_on(tmp_path, ["yes", "no"], always("cannot tell"))["summary"]["overall"]
    assert cannot["yes_no_balanced_accuracy"] == 0.0 and cannot["yes_no_cannot_tell"] == 1.0


@fast
def test_yes_no_without_a_verdict_is_read_from_the_text(tmp_path: Path):
    replies = {
        "Did 0 happen?": fake.answer("Did 0 happen?", "No, it was postponed [1]."),
        "Did 1 happen?": fake.answer("Did 1 happen?", "Yes, it did [1]."),
        "Did 2 happen?": fake.answer("Did 2 happen?", abstained=True),  # cannot tell
        "Did 3 happen?": fake.answer("Did 3 happen?", "The meeting was on Friday [1]."),
        "Which companies attended?": fake.answer(),
        "Who won the cup?": fake.answer("Who won the cup?", abstained=True),
    }
    record = run_on(tmp_path, ["no", "no", "yes", "yes"], replies)
    said = {q["id"]: q["predicted_yes_no"] for q in record["questions"]}
    assert said == {
        "q0": "no",
        "q1": "yes",
        "q2": "cannot tell",
        "q3": "cannot tell",
        "f1": None,
        "u1": None,
    }
    overall = record["summary"]["overall"]
    assert overall["yes_no_accuracy"] == 0.25
    # Recall on gold "no" is 1/2, on gold "yes" 0/2.
    assert overall["yes_no_balanced_accuracy"] == 0.25
    # One class only: balanced accuracy is that class's recall.
    only_yes = run_on(tmp_path, ["yes", "yes"], always("yes"))["summary"]["overall"]
    assert only_yes["yes_no_balanced_accuracy"] == 1.0 and "yes_no_recall_no" not in only_yes
    assert only_yes["yes_no_always_yes_balanced_accuracy"] == 1.0


@fast
def test_short_answers_are_scored_and_long_sentences_are_not(tmp_path: Path):
    who = GoldQuestion("w", "Who is the president?", ["Michael Hart"], "factoid")
    listing = GoldQuestion("l", "Which?", ["IBM", "Microsoft", "Pfizer"], "list", match="all")
    when = GoldQuestion("d", "When?", ["17 November 2023"], "temporal")
    sentence = fake.answer(text="Michael Hart, the president of AmCham China, said so [1].")
    assert short_scores(who, sentence)["short_f1"] == pytest.approx(4 / 11)  # 2 of 9 words
    assert short_scores(who, sentence)["short_exact"] == 0.0
    three = fake.answer(shorts=[fake.short("IBM"), fake.short("Microsoft"), fake.short("Pfizer")])
    assert short_scores(listing, three) == {"short_f1": 1.0, "short_exact": 1.0}
    two = fake.answer(shorts=[fake.short("IBM"), fake.short("Pfizer")])
    assert short_scores(listing, two)["short_f1"] == pytest.approx(0.8)
    assert short_scores(listing, two)["short_exact"] == 0.0
    friday = fake.answer(shorts=[fake.short("late Friday", "DATE", "Friday, 17 November 2023")])
    assert short_scores(when, friday)["short_f1"] == pytest.approx(6 / 7)  # the resolved form
    assert short_scores(when, friday)["short_exact"] == 0.0
    dated = GoldQuestion("e", "When?", ["Friday 17 November 2023"], "temporal")
    assert short_scores(dated, friday) == {"short_f1": 1.0, "short_exact": 1.0}
    assert short_scores(who, fake.answer(abstained=True)) == {"short_f1": 0.0, "short_exact": 0.0}

    record = run_on(tmp_path, ["yes"], always("yes", confidence=0.9))
    listed = next(q for q in record["questions"] if q["id"] == "f1")
    assert listed["metrics"]["short_f1"] == 1.0 and listed["metrics"]["short_exact"] == 1.0
    assert [s["text"] for s in listed["short_answers"]] == ["IBM", "Microsoft", "Pfizer"]
    assert listed["short_answers"][0] | {"start": 0, "end": 0} == {
        "text": "IBM",
        "article_id": fake.ARTICLE_ID,
        "start": 0,
        "end": 0,
        "n": 1,
        "label": "ORG",
        "resolved": None,
    }
    yes_no = next(q for q in record["questions"] if q["id"] == "q0")
    assert "short_f1" not in yes_no["metrics"]  # scored on its yes/no
    assert record["summary"]["by_type"]["list"]["short_f1"] == 1.0


@fast
def test_confidence_is_calibrated_against_answerable(tmp_path: Path):
    confidences = {"q0": 0.95, "q1": 0.92, "q2": 0.35, "f1": 0.05, "u1": 0.31}
    questions = {f"Did {i} happen?": f"q{i}" for i in range(3)}
    questions |= {"Which companies attended?": "f1", "Who won the cup?": "u1"}

    def reply(question: str):
        base = always("yes")(question)
        base.confidence = confidences[questions[question]]
        return base

    record = run_on(tmp_path, ["yes", "no", "yes"], reply)
    overall = record["summary"]["overall"]
    # Answerable: q0, q1, q2, f1; u1 is not.
    truth = {"q0": 1, "q1": 1, "q2": 1, "f1": 1, "u1": 0}
    brier = sum((confidences[q] - truth[q]) ** 2 for q in truth) / 5
    assert overall["confidence_brier"] == round(brier, 4)
    assert overall["confidence_brier_baseline"] == round(0.8 * 0.2, 4)  # always 0.8
    assert overall["confidence_questions"] == 5
    table = record["summary"]["reliability"]
    assert len(table) == 10 and sum(row["count"] for row in table) == 5
    assert table[0] == {
        "bin": "0.0–0.1",
        "from": 0.0,
        "to": 0.1,
        "count": 1,
        "mean_confidence": 0.05,
        "answerable": 1.0,
        "correct": 1.0,  # f1 was answered right
    }
    assert table[3]["count"] == 2 and table[3]["answerable"] == 0.5
    assert table[3]["mean_confidence"] == 0.33
    assert table[9]["count"] == 2 and table[9]["correct"] == 0.5  # q1's gold is "no"
    assert table[5]["count"] == 0 and table[5]["mean_confidence"] is None
    assert {q["id"]: q["confidence"] for q in record["questions"]} == confidences
    # Without confidences there is no table and no Brier score.
    bare = run_on(tmp_path, ["yes"], always("yes"))
    assert "reliability" not in bare["summary"]
    assert "confidence_brier" not in bare["summary"]["overall"]


@fast
def test_the_report_shows_the_confusion_matrix_baseline_and_reliability(tmp_path: Path):
    record = run_on(tmp_path, ["yes"] * 3 + ["no"], always("yes", confidence=0.85))
    path = evaluate.write(record, tmp_path / "runs")
    stored = json.loads(path.read_text())
    assert stored["summary"]["yes_no_confusion"]["overall"]["no"]["yes"] == 1
    report = path.with_suffix(".md").read_text()
    assert "## Yes/no" in report
    assert '| | this run | always "yes" |' in report
    assert "| balanced accuracy | 0.5 | 0.5 |" in report
    assert "| accuracy | 0.75 | 0.75 |" in report
    assert "| all | yes | 3 | 0 | 0 |" in report and "| all | no | 1 | 0 | 0 |" in report
    assert "| comparison | no | 1 | 0 | 0 |" in report
    assert "## Calibration" in report
    assert "| 0.8–0.9 | 6 | 0.850 | 0.833 | 0.833 |" in report
    assert "| 0.1–0.2 | 0 | - | - | - |" in report
    assert "Brier score" in report
    assert "| list | 1 | 1 | 1.0 | - |" in report  # type, questions, correct, short F1, yes/no


def fake_eval(monkeypatch: pytest.MonkeyPatch, reply) -> None:
    """`rag eval` over the fake pipeline: no index to sync, no model."""
    import rag.ask.pipeline
    import rag.indexing.indexer

    monkeypatch.setattr(rag.indexing.indexer, "sync", lambda *a, **k: None)
    monkeypatch.setattr(
        rag.ask.pipeline, "Pipeline", lambda settings: fake.FakePipeline(reply, settings)
    )


@fast
def test_rag_eval_prints_the_yes_no_table_next_to_the_baseline(tmp_path, monkeypatch, capsys):
    fake_eval(monkeypatch, always("yes", confidence=0.7))
    gold = yes_no_gold(tmp_path / "yn.jsonl", ["yes", "yes", "yes", "no"])
    status = main(["eval", "--gold", str(gold), "--out", str(tmp_path / "runs")])
    out = capsys.readouterr().out
    assert status == 0, out
    assert re.search(r"yes_no_balanced_accuracy: 0\.5$", out, re.M)
    assert re.search(r"yes_no_always_yes_balanced_accuracy: 0\.5$", out, re.M)
    assert re.search(r"short_f1: 1\.0$", out, re.M)
    assert "| balanced accuracy | 0.5 | 0.5 |" in out
    assert "| all | no | 1 | 0 | 0 |" in out
    assert "| 0.7–0.8 | 6 | 0.700 | 0.833 | 0.833 |" in out
    # A floor on the new metric fails the run like any other.
    status = main(
        [
            "eval",
            "--gold",
            str(gold),
            "--out",
            str(tmp_path / "runs"),
            "--min",
            "yes_no_balanced_accuracy=0.6",
            "--json",
        ]
    )
    captured = capsys.readouterr()
    assert status == 1 and "yes_no_balanced_accuracy = 0.5 is under the floor 0.6" in captured.err
    summary = json.loads(captured.out)
    assert summary["yes_no_confusion"]["overall"]["no"] == {"yes": 1, "no": 0, "cannot tell": 0}
    assert len(summary["reliability"]) == 10


# --- gold evidence the index does not hold (issue 13 item 18) -------------------------------


@fast
def test_rag_eval_refuses_a_gold_set_the_index_holds_no_evidence_for(tmp_path, monkeypatch, capsys):
    fake_eval(monkeypatch, always("yes"))
    other = fake.gold_citing(tmp_path / "other.jsonl", ["mh-0c6a1b9e5713", "mh-1d2e3f4a5b6c"])
    status = main(["eval", "--gold", str(other), "--out", str(tmp_path / "runs")])
    err = capsys.readouterr().err
    assert status == 2
    assert err.startswith("error: 0 of 2 evidence articles of other.jsonl are in this index (")
    assert "index the articles it was written for" in err and "another gold set" in err
    assert not list((tmp_path / "runs").glob("*.json"))
    # Some of them there (the fake index holds 000_amcham.txt): a warning, and the run.
    mixed = fake.gold_citing(tmp_path / "mixed.jsonl", ["000_amcham.txt", "mh-0c6a1b9e5713"])
    status = main(["eval", "--gold", str(mixed), "--out", str(tmp_path / "runs"), "--json"])
    captured = capsys.readouterr()
    assert status == 0, captured.err
    assert "warning: 1 of 2 evidence articles of mixed.jsonl are in this index" in captured.err
    assert "questions on the other 1 (mh-0c6a1b9e5713) will score as misses" in captured.err
    assert json.loads(captured.out)["overall"]["questions"] == 2


@fast
def test_rag_eval_checks_the_evidence_after_indexing_its_corpus(tmp_path: Path, rag_cli: RagCli):
    """`--corpus` indexes first: the check sees what that run indexed."""
    corpus = tmp_path / "tiny"
    corpus.mkdir()
    first = sorted(SAMPLE.iterdir())[0]
    (corpus / first.name).write_text(first.read_text())
    out = tmp_path / "runs"
    elsewhere = fake.gold_citing(tmp_path / "elsewhere.jsonl", ["001_567c3a3b59d5760a.txt"])
    refused = rag_cli("eval", "--corpus", str(corpus), "--gold", str(elsewhere), "--out", str(out))
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "error: 0 of 1 evidence articles of elsewhere.jsonl are in this index" in (
        refused.stderr
    )
    assert "Traceback" not in refused.stderr and not list(out.glob("*.json"))
    # The same corpus and a set citing its article: indexed, checked, run.
    here = fake.gold_citing(tmp_path / "here.jsonl", [first.name])
    ran = rag_cli("eval", "--corpus", str(corpus), "--gold", str(here), "--out", str(out), "--json")
    assert ran.returncode == 0, ran.stderr
    assert "evidence articles" not in ran.stderr
    assert json.loads(ran.stdout)["overall"]["questions"] == 1
