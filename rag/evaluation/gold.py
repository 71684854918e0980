"""Gold question sets (JSON Lines) for the evaluation harness, validated line by line.

One object per line::

    {"id": "s01", "question": "...", "answers": ["..."], "match": "any" | "all",
     "type": "factoid" | "list" | "multi-hop" | "unanswerable" | "conflict" | ...,
     "evidence": [{"doc": "<article file name or id>", "quote": "<exact text>"}]}

"match" defaults to "any" (right if the answer contains any one answer);
"all" needs every one (list questions). Unanswerable questions have no
answers and no evidence: the right behaviour is to abstain.
"""

from __future__ import annotations

import json
from collections.abc import Container
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from rag.errors import ConfigError, GoldMismatchError


@dataclass(frozen=True)
class Evidence:
    doc: str
    quote: str


@dataclass(frozen=True)
class GoldQuestion:
    id: str
    question: str
    answers: list[str]
    type: str
    match: str = "any"
    evidence: list[Evidence] = field(default_factory=list)
    as_of: date | None = None  # the day its relative dates count from ("last week")

    @property
    def answerable(self) -> bool:
        return bool(self.answers)


def _problem(row: Any, seen: set[str]) -> str | None:
    if not isinstance(row, dict):
        return "expected a JSON object"
    for key, kind in (("id", str), ("question", str), ("type", str), ("answers", list)):
        if not isinstance(row.get(key), kind):
            return f"`{key}` must be a {kind.__name__}"
    if not row["question"].strip():
        return "`question` is empty"
    if row["id"] in seen:
        return f"duplicate id {row['id']!r}"
    if row.get("match", "any") not in ("any", "all"):
        return '`match` must be "any" or "all"'
    if not all(isinstance(a, str) and a.strip() for a in row["answers"]):
        return "`answers` must be non-empty strings"
    evidence = row.get("evidence", [])
    if not isinstance(evidence, list) or not all(
        isinstance(e, dict) and isinstance(e.get("doc"), str) and isinstance(e.get("quote"), str)
        for e in evidence
    ):
        return '`evidence` must be a list of {"doc": ..., "quote": ...}'
    if row["type"] == "unanswerable" and (row["answers"] or evidence):
        return "an unanswerable question has no answers and no evidence"
    if row["type"] != "unanswerable" and not row["answers"]:
        return '`answers` is empty; use "type": "unanswerable" for questions to abstain on'
    if "as_of" in row:
        try:
            date.fromisoformat(row["as_of"])
        except (TypeError, ValueError):
            return "`as_of` must be a date, YYYY-MM-DD"
    unknown = set(row) - {"id", "question", "answers", "match", "type", "evidence", "as_of"}
    if unknown:
        return f"unknown field(s): {', '.join(sorted(unknown))}"
    return None


def numbered_lines(path: Path, what: str) -> list[tuple[int, str]]:
    """The non-blank lines of a JSON Lines file with their line numbers (from 1)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ConfigError(f"cannot read {what} {path}: {exc.strerror}") from exc
    return [(number, line) for number, line in enumerate(lines, start=1) if line.strip()]


def load_gold(path: Path) -> list[GoldQuestion]:
    """Read and validate a gold set; every bad line is reported, one line each."""
    questions: list[GoldQuestion] = []
    errors: list[str] = []
    seen: set[str] = set()
    for number, line in numbered_lines(path, "gold set"):
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            errors.append(f"{path.name} line {number}: invalid JSON: {exc.msg}")
            continue
        problem = _problem(row, seen)
        if problem:
            errors.append(f"{path.name} line {number}: {problem}")
            continue
        seen.add(row["id"])
        questions.append(
            GoldQuestion(
                id=row["id"],
                question=row["question"],
                answers=row["answers"],
                type=row["type"],
                match=row.get("match", "any"),
                evidence=[Evidence(e["doc"], e["quote"]) for e in row.get("evidence", [])],
                as_of=date.fromisoformat(row["as_of"]) if "as_of" in row else None,
            )
        )
    if errors:
        raise ConfigError(f"{len(errors)} bad line(s) in {path}:\n" + "\n".join(errors))
    return questions


# The corpora the project's own gold sets (eval/gold/) were written for.
WRITTEN_FOR = {
    "seeds.jsonl": "the sample articles (data/articles)",
    "newsroom.jsonl": "the MultiHop-RAG corpus (../shared/bench/multihop/corpus.jsonl)",
}


def check_evidence(
    gold: list[GoldQuestion], known: Container[str], *, name: str, index: Path
) -> str | None:
    """Whether the index (``known``: the ids, file names and external ids it holds) has
    the articles ``gold`` cites as evidence, checked before a question is asked.

    None of them: :class:`~rag.errors.GoldMismatchError`, since every score would be
    zero. Some missing: a warning to show (those questions will score as misses).
    All there, or a set with no evidence (only unanswerable questions): None.
    """
    docs = sorted({e.doc for q in gold for e in q.evidence})
    missing = [d for d in docs if d not in known]
    if not missing:
        return None
    count = f"{len(docs) - len(missing)} of {len(docs)} evidence articles of {name}"
    where = f"this index ({index.resolve()})"
    if len(missing) == len(docs):
        corpus = WRITTEN_FOR.get(Path(name).name, "the articles it was written for")
        raise GoldMismatchError(
            f"{count} are in {where} — index {corpus} (`rag eval --corpus PATH` indexes a "
            f"folder or corpus file first) or choose another gold set; it cites e.g. "
            f"{', '.join(docs[:2])}"
        )
    shown = ", ".join(missing[:3]) + (", …" if len(missing) > 3 else "")
    return (
        f"{count} are in {where}; questions on the other {len(missing)} ({shown}) "
        "will score as misses"
    )
