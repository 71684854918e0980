"""MultiHop-RAG (Tang & Yang, COLM 2024) as a gold set, and the paper's figures to compare with.

The data stays where the user keeps it (``../shared/bench/multihop`` here):
``corpus.jsonl`` is indexed as it is (one article a line; its ``id`` becomes
the article's external id), and a question file in the format of ``dev.jsonl``
becomes gold questions: ``answer`` → answers, ``question_type`` → type,
evidence ``fact`` quotes from ``doc_id`` articles, ``null_query`` →
unanswerable (abstaining is right).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rag.errors import ConfigError
from rag.evaluation.gold import Evidence, GoldQuestion, numbered_lines

# Table 5 of the paper (full question set), retrieval top 10: Hits@10, Hits@4, MRR@10, MAP@10.
_PAPER_ROWS = [
    ("bge-large-en-v1.5", 0.6718, 0.5221, 0.4298, 0.3423),
    ("voyage-02", 0.6506, 0.4619, 0.3934, 0.3143),
    ("text-embedding-ada-002 + bge-reranker-large", 0.7059, 0.6169, 0.5477, 0.4625),
    ("bge-large-en-v1.5 + bge-reranker-large", 0.7183, 0.6364, 0.5630, 0.4759),
    ("voyage-02 + bge-reranker-large", 0.7467, 0.6625, 0.5860, 0.4795),
]
METRICS = ("Hits@10", "Hits@4", "MRR@10", "MAP@10")
PAPER_RETRIEVAL: list[dict[str, Any]] = [
    {"system": row[0], **dict(zip(METRICS, row[1:], strict=True))} for row in _PAPER_ROWS
]

# Answer accuracy in the paper (correct when the answer shares a word with the gold answer).
PAPER_ACCURACY = {"GPT-4": 0.56, "Claude-2.1": 0.52, "Mixtral-8x7B": 0.32, "Llama-2-70B": 0.28}

NULL_TYPE = "null_query"


def load_questions(path: Path, *, limit: int | None = None) -> list[GoldQuestion]:
    """Gold questions from a MultiHop-RAG question file, one clear error per bad line."""
    questions: list[GoldQuestion] = []
    errors: list[str] = []
    for number, line in numbered_lines(path, "MultiHop-RAG questions"):
        try:
            row = json.loads(line)
            kind = row["question_type"]
            unanswerable = kind == NULL_TYPE
            questions.append(
                GoldQuestion(
                    id=str(row.get("id", number)),
                    question=row["question"],
                    answers=[] if unanswerable else [str(row["answer"])],
                    type=kind,
                    evidence=[
                        Evidence(str(e["doc_id"]), e["fact"]) for e in row.get("evidence", [])
                    ],
                )
            )
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            what = f"missing field {exc}" if isinstance(exc, KeyError) else str(exc)
            errors.append(f"{path.name} line {number}: {what}")
    if errors:
        raise ConfigError(
            f"{len(errors)} bad line(s) in {path} (expected MultiHop-RAG's "
            "{id, question, answer, question_type, evidence: [{doc_id, fact}]}):\n"
            + "\n".join(errors[:20])
        )
    return questions[:limit] if limit else questions


def shares_a_word(answer: str, gold: str) -> bool:
    """The paper's answer-accuracy rule: the answer shares a word with the gold answer."""
    words = set(answer.lower().split())
    return any(w in words for w in gold.lower().split())


def paper_accuracy(questions: list[dict[str, Any]]) -> float:
    """Answer accuracy under the paper's rule over a run's questions; an abstention
    counts as the paper's "Insufficient information." answer."""
    null = "Insufficient information."
    right = sum(
        shares_a_word(
            null if q["abstained"] else q["answer"],
            q["gold_answers"][0] if q["gold_answers"] else null,
        )
        for q in questions
    )
    return right / max(1, len(questions))


def paper_table(overall: dict[str, float]) -> str:
    """Our retrieval figures as one more row of the paper's Table 5 (Markdown)."""
    names = METRICS
    rows = [
        "| system | " + " | ".join(names) + " |",
        "| --- | " + " | ".join("---" for _ in names) + " |",
    ]
    for row in PAPER_RETRIEVAL:
        rows.append(
            f"| paper: {row['system']} | " + " | ".join(f"{row[n]:.4f}" for n in names) + " |"
        )
    ours = [overall.get(f"mh_{n.lower()}") for n in names]
    rows.append(
        "| **this project** (all-MiniLM-L6-v2 + BM25, CPU) | "
        + " | ".join("-" if v is None else f"**{v:.4f}**" for v in ours)
        + " |"
    )
    return "\n".join(rows)
