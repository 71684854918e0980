"""Should the engine answer at all? Answerability from signals, combined by a fitted model.

Signals that separate questions the articles can answer from those they
cannot (measured on the gold sets and the MultiHop-RAG dev split):

- the question's named entities missing from every indexed article (the
  index's entity table: "Pets Best Insurance Services" in no article at all),
  and names and key words missing from the retrieved passages and from the
  best evidence;
- the expected kind of answer absent from the best sentences (a "how many"
  question whose best sentences give no number);
- the best sentence's score, cosine and word overlap, its margin over the
  next candidates, and the agreement of several articles on one answer;
- the best passage's dense and BM25 scores.

A logistic regression over them, fitted by ``bench/fit_reading.py`` and
stored in ``rag/models/reading.json`` (a few numbers, versioned with the
code), turns them into a probability that the question is answerable here.
The engine declines under ``abstain_threshold``. Without the file, the old
rule (best sentence score under ``abstain_min_score``) decides.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

MODEL_PATH = Path(__file__).parent.parent / "models" / "reading.json"

SIGNALS = (
    "names_in_index",
    "best_score",
    "best_cosine",
    "best_overlap",
    "margin",
    "entities_in_passages",
    "entities_in_best",
    "words_in_best",
    "answer_type_missing",
    "answer_votes",
    "dense",
    "lexical",
    "wants_entity",
    "yes_no",
)


@dataclass(frozen=True)
class Logistic:
    """p = sigmoid(intercept + Σ coef · (x − mean) / scale) over named features."""

    features: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coef: tuple[float, ...]
    intercept: float

    def probability(self, values: dict[str, float]) -> float:
        z = self.intercept
        for name, mean, scale, coef in zip(
            self.features, self.mean, self.scale, self.coef, strict=True
        ):
            z += coef * (values.get(name, 0.0) - mean) / (scale or 1.0)
        return 1 / (1 + math.exp(-max(-30.0, min(30.0, z))))

    def to_dict(self) -> dict[str, Any]:
        return {
            "features": list(self.features),
            "mean": list(self.mean),
            "scale": list(self.scale),
            "coef": list(self.coef),
            "intercept": self.intercept,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Logistic:
        return cls(
            tuple(data["features"]),
            tuple(float(v) for v in data["mean"]),
            tuple(float(v) for v in data["scale"]),
            tuple(float(v) for v in data["coef"]),
            float(data["intercept"]),
        )


@lru_cache(maxsize=4)
def load_models(path: Path = MODEL_PATH) -> dict[str, Logistic]:
    """The fitted models by name (``answerable``, ``yes``); empty when none is stored."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return {}
    return {name: Logistic.from_dict(model) for name, model in data.get("models", {}).items()}
