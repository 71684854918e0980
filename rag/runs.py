"""Eval run records made readable: where gold sets and stored runs are, and the tables
and series a report shows (recall@k curve, per-type breakdown, latency histogram,
per-question rows, one question's passages with the gold ones marked).

The harness itself (scoring, run records, comparison) is :mod:`rag.evaluate`;
this module only reads what it produces, for the Streamlit evaluation page and
anything else that shows a run.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from rag import evaluate
from rag.errors import ConfigError
from rag.gold import GoldQuestion
from rag.pipeline import Pipeline
from rag.results import Answer

PROJECT_GOLD = Path(__file__).resolve().parents[1] / "eval" / "gold"

# The headline metrics, in the order a report shows them.
HEADLINE = (
    "answer_correct",
    "answer_f1",
    "citation_precision",
    "citation_recall",
    "hit@4",
    "mrr@10",
    "abstain_recall",
    "false_abstention",
    "latency_p50_ms",
    "latency_p95_ms",
)
BY_TYPE = ("answer_correct", "hit@4", "citation_recall", "abstain_recall")


def gold_sets(folders: Iterable[Path] = (Path("eval/gold"), PROJECT_GOLD)) -> list[Path]:
    """Gold set files (``*.jsonl``) in ``folders``: the working directory's eval/gold,
    then the project's own."""
    found: dict[Path, Path] = {}
    for folder in folders:
        if folder.is_dir():
            for path in sorted(folder.glob("*.jsonl")):
                found.setdefault(path.resolve(), path)
    return list(found.values())


def stored_runs(folder: Path) -> list[Path]:
    """Run records (``*.json``) under ``folder``, newest first."""
    if not folder.is_dir():
        return []
    return sorted(folder.glob("*.json"), key=lambda p: p.stat().st_mtime, reverse=True)


def run_gold(
    pipeline: Pipeline,
    gold: list[GoldQuestion],
    *,
    k: int | None = None,
    name: str = "gold",
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """:func:`rag.evaluate.run`, reporting progress when the harness supports it."""
    if progress is not None and "progress" in inspect.signature(evaluate.run).parameters:
        return evaluate.run(pipeline, gold, k=k, name=name, progress=progress)  # type: ignore[call-arg,unused-ignore]
    record = evaluate.run(pipeline, gold, k=k, name=name)
    if progress is not None:
        progress(len(gold), len(gold))
    return record


def load_record(path: Path) -> dict[str, Any]:
    """A stored run record (:func:`rag.evaluate.load_record` where the harness has it)."""
    loader = getattr(evaluate, "load_record", None)
    if loader is not None:
        return loader(path)  # type: ignore[no-any-return]
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigError(f"cannot read run record {path}: {exc}") from exc
    if not isinstance(record, dict) or not {"summary", "questions"} <= set(record):
        raise ConfigError(f"{path} is not a run record (no summary or questions)")
    return record


def compare(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """Metric deltas and flipped questions (:func:`rag.evaluate.compare` where it exists)."""
    comparer = getattr(evaluate, "compare", None)
    if comparer is not None:
        return comparer(old, new)  # type: ignore[no-any-return]
    before, after = old["summary"]["overall"], new["summary"]["overall"]
    metrics = [
        {
            "metric": name,
            "old": before.get(name),
            "new": after.get(name),
            "delta": round(after[name] - before[name], 4)
            if name in before and name in after
            else None,
        }
        for name in dict.fromkeys([*before, *after])
    ]
    was = {q["id"]: q for q in old["questions"]}
    flipped = [
        {
            "id": q["id"],
            "type": q["type"],
            "question": q["question"],
            "was": "correct" if was[q["id"]]["correct"] else "wrong",
            "now": "correct" if q["correct"] else "wrong",
        }
        for q in new["questions"]
        if q["id"] in was and was[q["id"]]["correct"] != q["correct"]
    ]
    return {"metrics": metrics, "flipped": flipped}


def headline(record: dict[str, Any]) -> list[tuple[str, float]]:
    overall = record["summary"]["overall"]
    return [(name, overall[name]) for name in HEADLINE if name in overall]


def recall_curve(record: dict[str, Any]) -> list[dict[str, float]]:
    """Article recall@k and hit@k for each k the run measured, smallest k first."""
    overall = record["summary"]["overall"]
    ks = sorted(int(name.split("@")[1]) for name in overall if name.startswith("recall@"))
    return [
        {"k": k, "recall": overall[f"recall@{k}"], "hit": overall.get(f"hit@{k}", 0.0)} for k in ks
    ]


def by_type(record: dict[str, Any], metrics: Iterable[str] = BY_TYPE) -> list[dict[str, Any]]:
    """One row per question type: its question count and each metric (None where it does
    not apply, such as hit@4 for unanswerable questions)."""
    names = list(metrics)
    return [
        {"type": kind, "questions": int(block["questions"])}
        | {name: block.get(name) for name in names}
        for kind, block in record["summary"]["by_type"].items()
    ]


def latency_histogram(record: dict[str, Any], bins: int = 12) -> list[dict[str, Any]]:
    """Questions per latency bin: ``{"ms": "40–60", "from": 40.0, "questions": 7}``."""
    values = [float(q["ms"]) for q in record["questions"]]
    if not values:
        return []
    low, high = min(values), max(values)
    width = (high - low) / bins or 1.0
    counts = [0] * bins
    for value in values:
        counts[min(bins - 1, int((value - low) / width))] += 1
    return [
        {
            "ms": f"{low + i * width:.0f}–{low + (i + 1) * width:.0f}",
            "from": round(low + i * width, 1),
            "questions": n,
        }
        for i, n in enumerate(counts)
    ]


def question_rows(
    record: dict[str, Any], *, failed_only: bool = False, types: Iterable[str] = ()
) -> list[dict[str, Any]]:
    """The per-question table, optionally only wrong answers and only some types."""
    wanted = set(types)
    rows = []
    for q in record["questions"]:
        if failed_only and q["correct"]:
            continue
        if wanted and q["type"] not in wanted:
            continue
        metrics = q.get("metrics", {})
        rows.append(
            {
                "id": q["id"],
                "type": q["type"],
                "question": q["question"],
                "correct": bool(q["correct"]),
                "abstained": bool(q.get("abstained")),
                "hit@4": metrics.get("hit@4"),
                "citation_recall": metrics.get("citation_recall"),
                "ms": q["ms"],
                "answer": q["answer"],
            }
        )
    return rows


def marked_passages(
    answer: Answer, evidence: Iterable[str], quotes: Iterable[str]
) -> list[dict[str, Any]]:
    """The passages an answer was made from, each marked ``gold`` when its article is
    evidence and ``holds_quote`` when it contains one of the gold evidence quotes."""
    wanted = set(evidence)
    quotes = [q for q in quotes if q]
    return [
        {
            "rank": rank,
            "passage": p,
            "gold": p.article_id in wanted,
            "holds_quote": any(q in p.text for q in quotes),
        }
        for rank, p in enumerate(answer.passages, start=1)
    ]
