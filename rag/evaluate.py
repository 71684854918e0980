"""The evaluation harness: run a gold set through the pipeline and score it.

Metrics, per question and averaged (overall and per question type):

- retrieval, article level: hit@k and recall@k (k = 1, 4, 5, 10) — does a
  retrieved passage come from an evidence article — and MRR@10;
- answers: correct (normalised containment under the question's match rule;
  yes/no questions on the yes/no), token F1 against the best gold answer;
- citations: precision (citations whose article is an evidence article) and
  recall (evidence articles cited);
- abstention: precision and recall of abstaining on unanswerable questions,
  and the false-abstention rate on answerable ones;
- latency p50/p95.
"""

from __future__ import annotations

import json
import re
import statistics
import subprocess
import time
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rag.gold import GoldQuestion
from rag.pipeline import Pipeline

KS = (1, 4, 5, 10)
_WORD = re.compile(r"[a-z0-9]+")
_YES_NO = re.compile(r"\b(yes|no|not|never)\b", re.I)


def percentile(values: list[float], q: float) -> float:
    """The nearest-rank ``q`` quantile (0.5 = median) of ``values``."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def normalise(text: str) -> str:
    return " ".join(_WORD.findall(text.lower()))


def contains(answer: str, gold: str) -> bool:
    return normalise(gold) in normalise(answer)


def token_f1(answer: str, gold: str) -> float:
    a, g = normalise(answer).split(), normalise(gold).split()
    common = sum(min(a.count(w), g.count(w)) for w in set(g))
    if not a or not g or not common:
        return 0.0
    precision, recall = common / len(a), common / len(g)
    return 2 * precision * recall / (precision + recall)


def correct(question: GoldQuestion, answer: str) -> bool:
    if question.type == "yes_no":
        said = _YES_NO.search(answer)
        says_no = said is not None and said.group(1).lower() in ("no", "not", "never")
        return says_no == (normalise(question.answers[0]) == "no")
    hits = [contains(answer, g) for g in question.answers]
    return all(hits) if question.match == "all" else any(hits)


@dataclass
class QuestionResult:
    id: str
    type: str
    question: str
    answer: str
    abstained: bool
    answerable: bool
    correct: bool
    f1: float
    retrieved: list[str]  # article ids (or paths) in rank order
    cited: list[str]
    evidence: list[str]
    metrics: dict[str, float] = field(default_factory=dict)
    ms: float = 0.0


def _article_keys(pipeline: Pipeline) -> dict[str, str]:
    """Evidence may name an article by file name or id; map both to the id."""
    keys: dict[str, str] = {}
    for article in pipeline.catalog.articles.values():
        keys[article.id] = article.id
        keys[article.path] = article.id
        keys[article.path.rsplit("/", 1)[-1]] = article.id
        if article.external_id:
            keys[article.external_id] = article.id
    return keys


def score_question(
    q: GoldQuestion, pipeline: Pipeline, keys: dict[str, str], k: int
) -> QuestionResult:
    began = time.perf_counter()
    answer = pipeline.ask(q.question, k=k)
    ms = (time.perf_counter() - began) * 1000
    retrieved = list(dict.fromkeys(p.article_id for p in answer.passages))
    evidence = sorted({keys.get(e.doc, e.doc) for e in q.evidence})
    cited = list(dict.fromkeys(c.article_id for c in answer.citations))
    result = QuestionResult(
        id=q.id,
        type=q.type,
        question=q.question,
        answer=answer.answer,
        abstained=answer.abstained,
        answerable=q.answerable,
        correct=(
            answer.abstained
            if not q.answerable
            else (not answer.abstained and correct(q, answer.answer))
        ),
        f1=max((token_f1(answer.answer, g) for g in q.answers), default=0.0),
        retrieved=retrieved,
        cited=cited,
        evidence=evidence,
        ms=round(ms, 1),
    )
    if evidence:
        wanted = set(evidence)
        for n in KS:
            top = set(retrieved[:n])
            result.metrics[f"hit@{n}"] = float(bool(top & wanted))
            result.metrics[f"recall@{n}"] = len(top & wanted) / len(wanted)
        first = next((i for i, a in enumerate(retrieved[:10]) if a in wanted), None)
        result.metrics["mrr@10"] = 0.0 if first is None else 1 / (first + 1)
        if cited:
            result.metrics["citation_precision"] = sum(a in wanted for a in cited) / len(cited)
        result.metrics["citation_recall"] = len(set(cited) & wanted) / len(wanted)
    return result


def summarise(results: list[QuestionResult]) -> dict[str, Any]:
    def block(rows: list[QuestionResult]) -> dict[str, float]:
        out: dict[str, float] = {"questions": len(rows)}
        answerable = [r for r in rows if r.answerable]
        unanswerable = [r for r in rows if not r.answerable]
        if answerable:
            out["answer_correct"] = statistics.mean(r.correct for r in answerable)
            out["answer_f1"] = statistics.mean(r.f1 for r in answerable)
            out["false_abstention"] = statistics.mean(r.abstained for r in answerable)
        abstained = [r for r in rows if r.abstained]
        if unanswerable:
            out["abstain_recall"] = statistics.mean(r.abstained for r in unanswerable)
        if abstained:
            out["abstain_precision"] = statistics.mean(not r.answerable for r in abstained)
        names = sorted({m for r in rows for m in r.metrics})
        for name in names:
            values = [r.metrics[name] for r in rows if name in r.metrics]
            out[name] = statistics.mean(values)
        latencies = [r.ms for r in rows]
        if latencies:
            out["latency_p50_ms"] = percentile(latencies, 0.5)
            out["latency_p95_ms"] = percentile(latencies, 0.95)
        return {k: round(v, 4) for k, v in out.items()}

    by_type: dict[str, list[QuestionResult]] = defaultdict(list)
    for r in results:
        by_type[r.type].append(r)
    return {
        "overall": block(results),
        "by_type": {t: block(rows) for t, rows in sorted(by_type.items())},
    }


def _git_commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def run(
    pipeline: Pipeline, gold: list[GoldQuestion], *, k: int | None = None, name: str = "gold"
) -> dict[str, Any]:
    keys = _article_keys(pipeline)
    k = k or max(pipeline.settings.top_k, 10)
    results = [score_question(q, pipeline, keys, k) for q in gold]
    return {
        "name": name,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "git_commit": _git_commit(),
        "settings_hash": pipeline.settings.answer_hash(),
        "settings": pipeline.settings.model_dump(mode="json", exclude={"api_token", "llm_api_key"}),
        "k": k,
        "summary": summarise(results),
        "questions": [asdict(r) for r in results],
    }


def markdown(record: dict[str, Any]) -> str:
    overall = record["summary"]["overall"]
    lines = [
        f"# Eval run {record['name']} — {record['created_at']}",
        "",
        f"settings {record['settings_hash']}, commit {record['git_commit'] or '-'}, "
        f"k={record['k']}",
        "",
        "| metric | value |",
        "| --- | --- |",
        *(f"| {k} | {v} |" for k, v in overall.items()),
        "",
        "| type | questions | correct | hit@4 | abstain recall |",
        "| --- | --- | --- | --- | --- |",
    ]
    for kind, block in record["summary"]["by_type"].items():
        lines.append(
            f"| {kind} | {block['questions']} | {block.get('answer_correct', '-')} | "
            f"{block.get('hit@4', '-')} | {block.get('abstain_recall', '-')} |"
        )
    failed = [q for q in record["questions"] if not q["correct"]]
    if failed:
        lines += ["", "## Wrong", ""]
        lines += [
            f"- `{q['id']}` ({q['type']}) {q['question']} → {q['answer'][:160]}" for q in failed
        ]
    return "\n".join(lines) + "\n"


def write(record: dict[str, Any], out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    stamp = record["created_at"].replace(":", "").replace("-", "")
    path = out / f"{record['name']}-{stamp}-{record['settings_hash']}.json"
    path.write_text(json.dumps(record, indent=2, ensure_ascii=False))
    path.with_suffix(".md").write_text(markdown(record))
    return path


def check_floors(summary: dict[str, float], floors: list[str]) -> list[str]:
    """Metrics under their floor, as messages; ``floors`` are "metric=value" strings."""
    failures = []
    for floor in floors:
        name, _, value = floor.partition("=")
        if name not in summary:
            failures.append(f"{name}: no such metric (have: {', '.join(summary)})")
        elif summary[name] < float(value):
            failures.append(f"{name} = {summary[name]} is under the floor {value}")
    return failures
