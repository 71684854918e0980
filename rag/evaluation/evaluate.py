"""The evaluation harness: run a gold set through the pipeline, score it, compare runs.

Metrics, per question and averaged (overall and per question type):

- retrieval, article level: hit@k and recall@k (k = 1, 4, 5, 10), MRR@10,
  MAP@10, nDCG@10 — a retrieved passage counts for its article;
- retrieval, passage level (``passage_…``): the same, where a passage counts
  when it contains an evidence quote (whitespace ignored); with ``paper=True``
  also MultiHop-RAG's own Hits@4/@10, MRR@10, MAP@10 (``mh_…``);
- answers: correct (normalised containment under the question's match rule;
  questions whose gold answer is yes or no on the yes/no), token F1 against the
  best gold answer; with a judge LLM, ``judge_correct``;
- short answers: ``short_f1`` (token F1 of the short answers, joined, against the
  best gold answer — of the whole answer when there are none, so a long sentence
  scores low) and ``short_exact`` (a gold answer equal to a short answer);
- yes/no questions: the predicted yes / no / cannot tell (the verdict, else read
  from the text) against the gold yes / no — accuracy, balanced accuracy and
  per-class recall next to the always-"yes" baseline, and the confusion matrix;
- calibration: the answer's ``confidence`` (estimated probability that the
  question is answerable) against whether it was, and whether the answer was
  right — the Brier score next to the base-rate baseline's, and a 10-bin
  reliability table;
- citations: precision (cited passages from an evidence article, or quoting
  evidence or a gold answer), recall (evidence articles cited, counting the
  "also reported by" copies that carry the cited sentence), the share of
  answer sentences carrying a citation, the unsupported-sentence rate;
- abstention: precision and recall of abstaining on unanswerable questions,
  and the false-abstention rate on answerable ones;
- latency p50/p95, of the whole answer and per stage (embed, retrieve, answer).
"""

from __future__ import annotations

import json
import re
import statistics
import subprocess
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rag.ask.pipeline import Pipeline
from rag.ask.results import Answer, Filters, check_k
from rag.errors import ConfigError
from rag.evaluation.gold import GoldQuestion, check_evidence
from rag.evaluation.metrics import facts_found, multihop_paper, ranking, squash
from rag.text.sentences import sentence_spans
from rag.text.words import MARKER, WORD

_YES_NO = re.compile(r"\b(yes|no|not|never)\b", re.I)
_TRAILING_MARKERS = re.compile(rf"([.!?…])((?:\s*{MARKER.pattern})+)")
Progress = Callable[[int, int], None]
Judge = Callable[[GoldQuestion, str], "bool | None"]


def percentile(values: list[float], q: float) -> float:
    """The nearest-rank ``q`` quantile (0.5 = median) of ``values``."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def normalise(text: str) -> str:
    return " ".join(WORD.findall(text.lower()))


def contains(answer: str, gold: str) -> bool:
    return normalise(gold) in normalise(answer)


def token_f1(answer: str, gold: str) -> float:
    a, g = normalise(answer).split(), normalise(gold).split()
    common = sum(min(a.count(w), g.count(w)) for w in set(g))
    if not a or not g or not common:
        return 0.0
    precision, recall = common / len(a), common / len(g)
    return 2 * precision * recall / (precision + recall)


def is_yes_no(question: GoldQuestion) -> bool:
    return question.type == "yes_no" or (
        bool(question.answers) and all(normalise(g) in ("yes", "no") for g in question.answers)
    )


YES, NO, CANNOT_TELL = "yes", "no", "cannot tell"
YES_NO_PREDICTIONS = (YES, NO, CANNOT_TELL)


def gold_yes_no(question: GoldQuestion) -> str | None:
    """The gold answer of a yes/no question, "yes" or "no", when it starts with one (any
    case: MultiHop-RAG writes "Yes" and "no"); else None."""
    if not is_yes_no(question) or not question.answers:
        return None
    words = normalise(question.answers[0]).split()
    return words[0] if words and words[0] in (YES, NO) else None


def yes_no_of_text(text: str) -> str:
    """An answer text read as yes / no: its first yes, no, not or never; else cannot tell."""
    said = _YES_NO.search(text)
    if said is None:
        return CANNOT_TELL
    return NO if said.group(1).lower() in ("no", "not", "never") else YES


def predicted_yes_no(answer: Answer) -> str:
    """What an answer says to a yes/no question: its verdict when the engine gave one,
    else read from the text; an abstention without a verdict cannot tell."""
    if answer.verdict is not None:
        said = normalise(answer.verdict.answer)
        return said if said in (YES, NO) else CANNOT_TELL
    return CANNOT_TELL if answer.abstained else yes_no_of_text(answer.answer)


def correct(question: GoldQuestion, answer: str) -> bool:
    gold = gold_yes_no(question)
    if gold is not None:
        return yes_no_of_text(answer) == gold
    hits = [contains(answer, g) for g in question.answers]
    return all(hits) if question.match == "all" else any(hits)


def _short_texts(answer: Answer) -> list[str]:
    """The short answers' texts, or the whole answer (without its [n] markers) when there
    are none."""
    return [s.text for s in answer.short_answers] or [MARKER.sub("", answer.answer)]


def short_scores(question: GoldQuestion, answer: Answer) -> dict[str, float]:
    """``short_f1`` and ``short_exact`` of an answer to a question with gold answers.

    The short answers are joined with ", " and scored against the best gold answer
    (against all of them joined, for ``match: all``); without short answers the
    whole answer is scored, so a long sentence around the right name scores low.
    A relative date counts in either form: "late Friday" or its resolved date.

        >>> q = GoldQuestion("q", "Who?", ["Michael Hart"], "factoid")
        >>> a = Answer("Who?", "Michael Hart, president of AmCham China, said so [1].",
        ...            [], [], False, "extractive")
        >>> short_scores(q, a)["short_f1"]  # two words right out of eight
        0.4
    """
    if answer.abstained:
        return {"short_f1": 0.0, "short_exact": 0.0}
    golds = [", ".join(question.answers)] if question.match == "all" else question.answers
    joined = [", ".join(_short_texts(answer))]
    if any(s.resolved for s in answer.short_answers):
        joined.append(", ".join(s.resolved or s.text for s in answer.short_answers))
    f1 = max(token_f1(j, g) for j in joined for g in golds)
    forms = {normalise(t) for t in _short_texts(answer)}
    forms |= {normalise(s.resolved) for s in answer.short_answers if s.resolved}
    found = [normalise(g) in forms for g in question.answers]
    exact = all(found) if question.match == "all" else any(found)
    return {"short_f1": f1, "short_exact": float(exact)}


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
    retrieved: list[str]  # article ids in rank order
    cited: list[str]
    evidence: list[str]
    gold_answers: list[str] = field(default_factory=list)
    quotes: list[dict[str, str]] = field(default_factory=list)
    passages: list[dict[str, Any]] = field(default_factory=list)
    citations: list[dict[str, Any]] = field(default_factory=list)
    metrics: dict[str, float] = field(default_factory=dict)
    ms: float = 0.0
    stages: dict[str, float] = field(default_factory=dict)
    judged: bool | None = None
    short_answers: list[dict[str, Any]] = field(default_factory=list)
    verdict: dict[str, Any] | None = None
    confidence: float | None = None
    missing: str | None = None
    gold_yes_no: str | None = None  # "yes" | "no" for a yes/no question
    predicted_yes_no: str | None = None  # "yes" | "no" | "cannot tell" for a yes/no question


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


def check_index(pipeline: Pipeline, gold: list[GoldQuestion], name: str) -> str | None:
    """Before a run: refuse an index that holds none of ``gold``'s evidence articles
    (:class:`~rag.errors.GoldMismatchError`); a warning when some are missing."""
    pipeline.catalog.refresh()
    return check_evidence(
        gold, _article_keys(pipeline), name=name, index=pipeline.settings.index_dir
    )


def answer_sentences(text: str) -> list[str]:
    """The answer's sentences, each with the [n] markers written right after it."""
    text = _TRAILING_MARKERS.sub(lambda m: f" {m.group(2).strip()}{m.group(1)}", text)
    return [text[a:b] for a, b in sentence_spans(text) if re.search(r"[A-Za-z]", text[a:b])]


def _citation_metrics(q: GoldQuestion, answer: Answer, wanted: set[str]) -> dict[str, float]:
    out: dict[str, float] = {}
    quotes = [squash(e.quote) for e in q.evidence]
    good = 0
    cited: set[str] = set()
    for c in answer.citations:
        articles = {c.article_id} | {copy["article_id"] for copy in c.also_reported_by}
        cited |= articles
        quote = squash(c.quote)
        good += bool(
            articles & wanted
            or any(e and (e in quote or quote in e) for e in quotes)
            or any(contains(c.quote, g) for g in q.answers)
        )
    if answer.citations:
        out["citation_precision"] = good / len(answer.citations)
    if wanted:
        out["citation_recall"] = len(cited & wanted) / len(wanted)
    sentences = [] if answer.abstained else answer_sentences(answer.answer)
    if sentences:
        out["cited_sentences"] = sum(bool(MARKER.search(s)) for s in sentences) / len(sentences)
        out["unsupported_sentences"] = min(1.0, len(answer.unsupported) / len(sentences))
    return out


def _stages(timings: dict[str, float]) -> dict[str, float]:
    """The answer's timings (ms) grouped into the pipeline's stages."""
    retrieve = sum(v for k, v in timings.items() if k.startswith("retrieve_"))
    return {
        "load": round(timings.get("load", 0.0), 1),
        "embed": round(timings.get("embed", 0.0), 1),
        "retrieve": round(retrieve, 1),
        "answer": round(timings.get("answer", 0.0), 1),
    }


def score_question(
    q: GoldQuestion,
    pipeline: Pipeline,
    keys: dict[str, str],
    k: int,
    *,
    paper: bool = False,
    judge: Judge | None = None,
) -> QuestionResult:
    # An archive is asked about as of its own time: its last publication day, unless the
    # question gives its own.
    span = pipeline.catalog.date_span()
    as_of = q.as_of or (span[1] if span else None)
    began = time.perf_counter()
    answer = pipeline.ask(q.question, k=k, filters=Filters(as_of=as_of))
    ms = (time.perf_counter() - began) * 1000
    return score_answer(q, answer, keys, ms, paper=paper, judge=judge)


def score_answer(
    q: GoldQuestion,
    answer: Answer,
    keys: dict[str, str],
    ms: float,
    *,
    paper: bool = False,
    judge: Judge | None = None,
) -> QuestionResult:
    """One question's result from the answer the pipeline gave (in ``ms``)."""
    gold_said = gold_yes_no(q)
    said = predicted_yes_no(answer) if is_yes_no(q) else None
    if not q.answerable:
        right = answer.abstained
    elif gold_said is not None:
        right = said == gold_said
    else:
        right = not answer.abstained and correct(q, answer.answer)
    retrieved = list(dict.fromkeys(p.article_id for p in answer.passages))
    evidence = sorted({keys.get(e.doc, e.doc) for e in q.evidence})
    cited = list(dict.fromkeys(c.article_id for c in answer.citations))
    texts = [p.text for p in answer.passages]
    quotes = [e.quote for e in q.evidence]
    passage_facts = facts_found(texts, quotes)
    result = QuestionResult(
        id=q.id,
        type=q.type,
        question=q.question,
        answer=answer.answer,
        abstained=answer.abstained,
        answerable=q.answerable,
        correct=right,
        f1=max((token_f1(answer.answer, g) for g in q.answers), default=0.0),
        retrieved=retrieved,
        cited=cited,
        evidence=evidence,
        gold_answers=list(q.answers),
        quotes=[{"doc": e.doc, "quote": e.quote} for e in q.evidence],
        passages=[
            {
                "chunk_id": p.chunk_id,
                "article_id": p.article_id,
                "title": p.title,
                "source": p.source,
                "text": p.text,
                "score": round(p.score, 4),
                "gold": bool(found) or p.article_id in evidence,
                "has_quote": bool(found),
            }
            for p, found in zip(answer.passages, passage_facts, strict=True)
        ],
        citations=[
            {
                "n": c.n,
                "article_id": c.article_id,
                "title": c.title,
                "quote": c.quote,
                "score": c.score,
            }
            for c in answer.citations
        ],
        ms=round(ms, 1),
        stages=_stages(answer.timings),
        short_answers=[asdict(a) for a in answer.short_answers],
        verdict=asdict(answer.verdict) if answer.verdict is not None else None,
        confidence=answer.confidence,
        missing=answer.missing,
        gold_yes_no=gold_said,
        predicted_yes_no=said,
    )
    if evidence:
        wanted = set(evidence)
        result.metrics.update(ranking([{a} & wanted for a in retrieved], len(wanted)))
        result.metrics.update(ranking(passage_facts, len(q.evidence), prefix="passage_"))
        if paper:
            for name, value in multihop_paper(texts, quotes).items():
                result.metrics[f"mh_{name.lower()}"] = value
    if q.answerable:
        result.metrics.update(_citation_metrics(q, answer, set(evidence)))
        if gold_said is None:  # a yes/no question is scored on its yes/no
            result.metrics.update(short_scores(q, answer))
    if judge is not None and q.answerable:
        result.judged = judge(q, answer.answer)
        if result.judged is not None:
            result.metrics["judge_correct"] = float(result.judged)
    return result


def confusion(rows: list[QuestionResult]) -> dict[str, dict[str, int]]:
    """Yes/no questions counted by gold answer (rows) and prediction (columns):
    ``{"yes": {"yes": 3, "no": 1, "cannot tell": 0}, "no": {...}}``."""
    matrix = {gold: dict.fromkeys(YES_NO_PREDICTIONS, 0) for gold in (YES, NO)}
    for r in rows:
        if r.gold_yes_no in matrix:
            matrix[r.gold_yes_no][r.predicted_yes_no or CANNOT_TELL] += 1
    return matrix


def yes_no_scores(matrix: dict[str, dict[str, int]]) -> dict[str, float]:
    """Accuracy, per-class recall and balanced accuracy of a confusion matrix, and the
    same for the constant answer "yes" on the same questions.

    Balanced accuracy is the mean of the recall on gold "yes" and on gold "no", so
    a constant answer scores 0.5 however skewed the set is; with one class only it
    is that class's recall.

        >>> yes_no_scores({"yes": {"yes": 8, "no": 0, "cannot tell": 0},
        ...                "no": {"yes": 2, "no": 0, "cannot tell": 0}})["yes_no_balanced_accuracy"]
        0.5
    """
    sizes = {gold: sum(matrix[gold].values()) for gold in (YES, NO)}
    total = sum(sizes.values())
    if not total:
        return {}

    def scores(said: dict[str, dict[str, int]], prefix: str) -> dict[str, float]:
        recalls = {g: said[g][g] / sizes[g] for g in (YES, NO) if sizes[g]}
        out = {
            f"{prefix}accuracy": sum(said[g][g] for g in (YES, NO)) / total,
            f"{prefix}balanced_accuracy": statistics.mean(recalls.values()),
        }
        return out | {f"{prefix}recall_{g}": r for g, r in recalls.items()}

    always_yes = {g: {YES: sizes[g], NO: 0, CANNOT_TELL: 0} for g in (YES, NO)}
    out: dict[str, float] = {"yes_no_questions": total}
    out |= scores(matrix, "yes_no_")
    out["yes_no_cannot_tell"] = sum(matrix[g][CANNOT_TELL] for g in (YES, NO)) / total
    baseline = scores(always_yes, "yes_no_always_yes_")
    out["yes_no_always_yes_accuracy"] = baseline["yes_no_always_yes_accuracy"]
    out["yes_no_always_yes_balanced_accuracy"] = baseline["yes_no_always_yes_balanced_accuracy"]
    return out


def calibration(rows: list[QuestionResult]) -> dict[str, float]:
    """The Brier score of ``confidence`` as the probability that a question is answerable,
    and the base-rate baseline's (always the set's share of answerable questions)."""
    rated = [r for r in rows if r.confidence is not None]
    if not rated:
        return {}
    truth = [float(r.answerable) for r in rated]
    rate = statistics.mean(truth)
    return {
        "confidence_questions": len(rated),
        "confidence_mean": statistics.mean(float(r.confidence or 0.0) for r in rated),
        "confidence_brier": statistics.mean(
            (float(r.confidence or 0.0) - t) ** 2 for r, t in zip(rated, truth, strict=True)
        ),
        "confidence_brier_baseline": statistics.mean((rate - t) ** 2 for t in truth),
    }


def reliability(rows: list[QuestionResult], bins: int = 10) -> list[dict[str, Any]]:
    """Questions with a confidence in ``bins`` equal bins: count, mean confidence, share
    answerable and share correct (a right answer, or a right abstention). An empty bin
    has ``None`` for its shares; no confidence at all gives no rows."""
    rated = [r for r in rows if r.confidence is not None]
    if not rated:
        return []
    members: list[list[QuestionResult]] = [[] for _ in range(bins)]
    for r in rated:
        value = min(1.0, max(0.0, float(r.confidence or 0.0)))
        members[min(bins - 1, int(value * bins))].append(r)
    return [
        {
            "bin": f"{i / bins:.1f}–{(i + 1) / bins:.1f}",
            "from": round(i / bins, 4),
            "to": round((i + 1) / bins, 4),
            "count": len(group),
            "mean_confidence": _mean([float(r.confidence or 0.0) for r in group]),
            "answerable": _mean([float(r.answerable) for r in group]),
            "correct": _mean([float(r.correct) for r in group]),
        }
        for i, group in enumerate(members)
    ]


def _mean(values: list[float]) -> float | None:
    return round(statistics.mean(values), 4) if values else None


def summarise(results: list[QuestionResult]) -> dict[str, Any]:
    """``overall`` and ``by_type`` metric blocks (numbers only, so runs compare metric by
    metric), the yes/no confusion matrices (overall and per type) and the reliability
    table of the answers' confidence."""

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
        out |= yes_no_scores(confusion(rows))
        out |= calibration(rows)
        latencies = [r.ms for r in rows]
        if latencies:
            out["latency_p50_ms"] = percentile(latencies, 0.5)
            out["latency_p95_ms"] = percentile(latencies, 0.95)
        for stage in ("embed", "retrieve", "answer"):
            values = [r.stages[stage] for r in rows if stage in r.stages]
            if values:
                out[f"{stage}_p50_ms"] = percentile(values, 0.5)
                out[f"{stage}_p95_ms"] = percentile(values, 0.95)
        return {k: round(v, 4) for k, v in out.items()}

    by_type: dict[str, list[QuestionResult]] = defaultdict(list)
    for r in results:
        by_type[r.type].append(r)
    summary: dict[str, Any] = {
        "overall": block(results),
        "by_type": {t: block(rows) for t, rows in sorted(by_type.items())},
    }
    if any(r.gold_yes_no for r in results):
        summary["yes_no_confusion"] = {
            "overall": confusion(results),
            "by_type": {
                t: confusion(rows)
                for t, rows in sorted(by_type.items())
                if any(r.gold_yes_no for r in rows)
            },
        }
    table = reliability(results)
    if table:
        summary["reliability"] = table
    return summary


def _git_commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def run(
    pipeline: Pipeline,
    gold: list[GoldQuestion],
    *,
    k: int | None = None,
    name: str = "gold",
    paper: bool = False,
    judge: Judge | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Score every question of ``gold``; the run record (JSON-ready)."""
    keys = _article_keys(pipeline)
    k = check_k(k) or max(pipeline.settings.top_k, 10)
    results = []
    for done, q in enumerate(gold, start=1):
        results.append(score_question(q, pipeline, keys, k, paper=paper, judge=judge))
        if progress is not None:
            progress(done, len(gold))
    return {
        "name": name,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "git_commit": _git_commit(),
        "settings_hash": pipeline.settings.answer_hash(),
        "settings": pipeline.settings.model_dump(mode="json", exclude={"api_token", "llm_api_key"}),
        "engine": pipeline.settings.engine,
        "k": k,
        "summary": summarise(results),
        "questions": [asdict(r) for r in results],
    }


def load_record(path: Path) -> dict[str, Any]:
    """A run record written by :func:`write`, with a clear error when it is not one."""
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read run record {path}: {exc.strerror}") from exc
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path} is not a run record: invalid JSON ({exc.msg})") from exc
    if not isinstance(record, dict) or not {"summary", "questions"} <= set(record):
        raise ConfigError(f"{path} is not a run record (no summary or questions)")
    return record


def compare(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """Metric deltas between two run records, and the questions whose verdict changed."""
    before, after = old["summary"]["overall"], new["summary"]["overall"]
    metrics = [
        {
            "metric": name,
            "old": before.get(name),
            "new": after.get(name),
            "delta": (
                round(after[name] - before[name], 4) if name in before and name in after else None
            ),
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
            "old_answer": was[q["id"]]["answer"],
            "new_answer": q["answer"],
        }
        for q in new["questions"]
        if q["id"] in was and was[q["id"]]["correct"] != q["correct"]
    ]
    only = sorted(set(was) ^ {q["id"] for q in new["questions"]})
    return {
        "old": {k: old.get(k) for k in ("name", "created_at", "settings_hash", "git_commit")},
        "new": {k: new.get(k) for k in ("name", "created_at", "settings_hash", "git_commit")},
        "metrics": metrics,
        "flipped": flipped,
        "unmatched": only,
    }


def compare_markdown(diff: dict[str, Any]) -> str:
    lines = [
        f"Compared with {diff['old']['name']} {diff['old']['created_at']} "
        f"(settings {diff['old']['settings_hash']}, commit {diff['old']['git_commit'] or '-'})",
        "",
        "| metric | old | new | delta |",
        "| --- | --- | --- | --- |",
    ]
    same = 0
    for row in diff["metrics"]:
        delta = row["delta"]
        if delta == 0:
            same += 1
            continue
        shown = "-" if delta is None else f"{delta:+g}"
        lines.append(f"| {row['metric']} | {row['old']} | {row['new']} | {shown} |")
    lines.append(f"\n{same} metric(s) unchanged.")
    if diff["flipped"]:
        lines += ["", f"{len(diff['flipped'])} question(s) changed:", ""]
        lines += [
            f"- `{f['id']}` ({f['type']}) {f['was']} → {f['now']}: {f['question']}"
            for f in diff["flipped"]
        ]
    else:
        lines += ["", "No question changed verdict."]
    if diff["unmatched"]:
        lines += ["", f"In only one of the runs: {', '.join(diff['unmatched'])}"]
    return "\n".join(lines) + "\n"


def llm_judge(settings: Any) -> Judge:
    """An answer-correctness judge on the configured LLM (optional, needs RAG_LLM_MODEL)."""
    from rag.ask.llm import build_llm

    llm = build_llm(settings)

    def judge(q: GoldQuestion, answer: str) -> bool | None:
        prompt = (
            "You grade answers to questions about news articles.\n"
            f"Question: {q.question}\n"
            f"Reference answer(s): {' | '.join(q.answers)}\n"
            f"Answer to grade: {answer}\n"
            "Does the answer to grade state the reference answer (or, for a list, all of it)? "
            "Reply with one word: YES or NO."
        )
        try:
            reply = str(llm.complete(prompt).text).strip().upper()
        except Exception:  # a failed judgement is recorded as unknown, not as wrong
            return None
        return reply.startswith("YES")

    return judge


def yes_no_markdown(summary: dict[str, Any]) -> str:
    """The yes/no scores next to the always-"yes" baseline, and the confusion matrices
    (overall, then per question type); empty when the run had no yes/no questions."""
    matrices = summary.get("yes_no_confusion")
    if not matrices:
        return ""
    overall = summary["overall"]
    lines = [
        f"Yes/no questions: {int(overall.get('yes_no_questions', 0))} "
        "(predicted: the verdict, else read from the answer text)",
        "",
        '| | this run | always "yes" |',
        "| --- | --- | --- |",
    ]
    for name in ("balanced_accuracy", "accuracy"):
        lines.append(
            f"| {name.replace('_', ' ')} | {overall.get(f'yes_no_{name}', '-')} | "
            f"{overall.get(f'yes_no_always_yes_{name}', '-')} |"
        )
    for name, label in (
        ("recall_yes", 'recall on gold "yes"'),
        ("recall_no", 'recall on gold "no"'),
    ):
        if f"yes_no_{name}" in overall:
            baseline = 1.0 if name == "recall_yes" else 0.0
            lines.append(f"| {label} | {overall[f'yes_no_{name}']} | {baseline} |")
    blocks = [("all", matrices["overall"]), *matrices.get("by_type", {}).items()]
    lines += [
        "",
        "| type | gold | said yes | said no | cannot tell |",
        "| --- | --- | --- | --- | --- |",
    ]
    for kind, matrix in blocks:
        for gold in (YES, NO):
            row = matrix.get(gold, {})
            lines.append(
                f"| {kind} | {gold} | {row.get(YES, 0)} | {row.get(NO, 0)} | "
                f"{row.get(CANNOT_TELL, 0)} |"
            )
    return "\n".join(lines)


def reliability_markdown(summary: dict[str, Any]) -> str:
    """The reliability table of the answers' confidence and its Brier score; empty when
    no answer carried a confidence."""
    table = summary.get("reliability")
    if not table:
        return ""
    overall = summary["overall"]

    def cell(value: float | None) -> str:
        return "-" if value is None else f"{value:.3f}"

    lines = [
        f"Confidence (probability the question is answerable) of "
        f"{int(overall.get('confidence_questions', 0))} answers: Brier score "
        f"{overall.get('confidence_brier', '-')} (always the base rate: "
        f"{overall.get('confidence_brier_baseline', '-')}; lower is better)",
        "",
        "| confidence | questions | mean confidence | answerable | correct |",
        "| --- | --- | --- | --- | --- |",
    ]
    for row in table:
        lines.append(
            f"| {row['bin']} | {row['count']} | {cell(row['mean_confidence'])} | "
            f"{cell(row['answerable'])} | {cell(row['correct'])} |"
        )
    return "\n".join(lines)


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
        "| type | questions | correct | short F1 | yes/no balanced acc. | hit@4 | abstain recall |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for kind, block in record["summary"]["by_type"].items():
        lines.append(
            f"| {kind} | {block['questions']} | {block.get('answer_correct', '-')} | "
            f"{block.get('short_f1', '-')} | {block.get('yes_no_balanced_accuracy', '-')} | "
            f"{block.get('hit@4', '-')} | {block.get('abstain_recall', '-')} |"
        )
    yes_no = yes_no_markdown(record["summary"])
    if yes_no:
        lines += ["", "## Yes/no", "", yes_no]
    calibrated = reliability_markdown(record["summary"])
    if calibrated:
        lines += ["", "## Calibration", "", calibrated]
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
