"""Eval run records made readable: where gold sets and stored runs are, and the tables
and series a report shows (recall@k curve, per-type breakdown, latency histogram,
yes/no confusion matrix, confidence reliability, per-question rows, one question's
passages with the gold ones marked).

The harness itself (scoring, run records, ``load_record``, ``compare``) is
:mod:`rag.evaluation.evaluate`; this module only reads what it produces, for the Streamlit
evaluation page and anything else that shows a run.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from rag.errors import ConfigError

PROJECT_GOLD = Path(__file__).resolve().parents[2] / "eval" / "gold"

# The headline metrics, in the order a report shows them.
HEADLINE = (
    "answer_correct",
    "short_f1",
    "yes_no_balanced_accuracy",
    "citation_precision",
    "citation_recall",
    "hit@4",
    "passage_hit@4",
    "mrr@10",
    "abstain_recall",
    "false_abstention",
    "latency_p50_ms",
    "latency_p95_ms",
)
BY_TYPE = ("answer_correct", "hit@4", "citation_recall", "abstain_recall")


# Where gold sets are looked for, in order: the working directory's eval/gold, then the
# project's own (beside the package in a checkout), so `rag eval` and the app find the
# same sets from any folder.
GOLD_FOLDERS = (Path("eval/gold"), PROJECT_GOLD)
DEFAULT_GOLD = "seeds.jsonl"


def gold_sets(folders: Iterable[Path] = GOLD_FOLDERS) -> list[Path]:
    """Gold set files (``*.jsonl``) in ``folders``: the working directory's eval/gold,
    then the project's own."""
    found: dict[Path, Path] = {}
    for folder in folders:
        if folder.is_dir():
            for path in sorted(folder.glob("*.jsonl")):
                found.setdefault(path.resolve(), path)
    return list(found.values())


def gold_path(name: str | Path, folders: Iterable[Path] = GOLD_FOLDERS) -> Path:
    """The gold set ``name`` names: the path itself when it exists, else a file of that
    name in the gold folders (so ``seeds.jsonl`` and ``eval/gold/seeds.jsonl`` find the
    project's set from any working directory).

    Raises :class:`~rag.errors.ConfigError` naming every place it looked.
    """
    path = Path(name).expanduser()
    if path.is_file():
        return path
    tried = [path.resolve()]
    if not path.is_absolute():
        for folder in folders:
            candidate = folder / path.name
            if candidate.is_file():
                return candidate
            tried.append(candidate.resolve())
    looked = ", ".join(dict.fromkeys(str(p) for p in tried))
    raise ConfigError(
        f"no gold set {str(name)!r}: looked at {looked}; give the path of a .jsonl gold set"
    )


def stored_runs(folder: Path) -> list[Path]:
    """Run records (``*.json``) under ``folder``, newest first."""
    if not folder.is_dir():
        return []
    return sorted(folder.glob("*.json"), key=lambda p: p.stat().st_mtime, reverse=True)


def headline(record: dict[str, Any]) -> list[tuple[str, float]]:
    overall = record["summary"]["overall"]
    return [(name, overall[name]) for name in HEADLINE if name in overall]


def recall_curve(record: dict[str, Any]) -> list[dict[str, Any]]:
    """Recall@k for each k the run measured, one row per k and level (article, and
    passage where the record has it): ``{"k": 4, "level": "article", "recall": 0.9}``."""
    overall = record["summary"]["overall"]
    rows = []
    for level, prefix in (("article", ""), ("passage", "passage_")):
        for name, value in overall.items():
            head, _, k = name.partition("@")
            if head == f"{prefix}recall" and k.isdigit():
                rows.append({"k": int(k), "level": level, "recall": value})
    return sorted(rows, key=lambda r: (r["level"], r["k"]))


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


def yes_no_confusion(record: dict[str, Any]) -> list[dict[str, Any]]:
    """The yes/no confusion matrices, overall ("all") then per question type, one row per
    gold answer: ``{"type": "all", "gold": "yes", "said yes": 3, "said no": 1,
    "cannot tell": 0}``; none for a run without yes/no questions."""
    matrices = record["summary"].get("yes_no_confusion") or {}
    if not matrices:
        return []
    blocks = [("all", matrices.get("overall", {})), *matrices.get("by_type", {}).items()]
    return [
        {
            "type": kind,
            "gold": gold,
            "said yes": matrix.get(gold, {}).get("yes", 0),
            "said no": matrix.get(gold, {}).get("no", 0),
            "cannot tell": matrix.get(gold, {}).get("cannot tell", 0),
        }
        for kind, matrix in blocks
        for gold in ("yes", "no")
    ]


def reliability(record: dict[str, Any]) -> list[dict[str, Any]]:
    """The reliability table of the answers' confidence (10 bins: count, mean confidence,
    share answerable, share correct); empty when no answer carried a confidence."""
    return list(record["summary"].get("reliability") or [])


def reliability_curve(record: dict[str, Any]) -> list[dict[str, Any]]:
    """The non-empty bins as points of a reliability plot: mean confidence against the
    share answerable and the share correct, and the diagonal a calibrated run lies on."""
    return [
        {
            "confidence": row["mean_confidence"],
            "answerable": row["answerable"],
            "correct": row["correct"],
            "calibrated": row["mean_confidence"],
        }
        for row in reliability(record)
        if row["count"]
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
                "short_f1": metrics.get("short_f1"),
                "confidence": q.get("confidence"),
                "ms": q["ms"],
                "answer": q["answer"],
            }
        )
    return rows


def quote_spans(text: str, quotes: Iterable[str]) -> list[tuple[int, int]]:
    """Where each quote first occurs in ``text``."""
    spans = []
    for quote in quotes:
        at = text.find(quote) if quote else -1
        if at >= 0:
            spans.append((at, at + len(quote)))
    return spans
