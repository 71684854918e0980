"""Fit the reading step's two small models and write them to rag/models/reading.json.

    python bench/fit_reading.py [--multihop-index DIR] [--seeds-index DIR] [--features F.jsonl]

1. Answers every question of the project's gold sets (eval/gold/seeds.jsonl over
   data/articles, eval/gold/newsroom.jsonl over the MultiHop-RAG corpus) and of
   the MultiHop-RAG dev split (../shared/bench/multihop, read from there, never
   copied) with abstention switched off, and records what the engine measured
   (``Answer.signals``) with the gold label. ``--features`` keeps them in a file
   and reuses it (refitting then takes a second).
2. Fits a logistic regression for **answerable** (every question that is not
   yes/no: answerable or not) and one for **yes** (yes/no questions: gold yes or
   no), prints 5-fold cross-validated figures for a range of thresholds, and
   writes the coefficients with the feature means and scales.

Only the fitted numbers are stored; the questions and articles are not.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "bench" / "multihop"
sys.path.insert(0, str(ROOT))

from rag.ask.abstention import MODEL_PATH, SIGNALS, Logistic  # noqa: E402
from rag.ask.verdict import VERDICT_FEATURES  # noqa: E402


def collect(args: argparse.Namespace) -> list[dict]:
    from rag.ask.pipeline import Pipeline
    from rag.evaluation.evaluate import is_yes_no, normalise
    from rag.evaluation.gold import load_gold
    from rag.evaluation.multihop import load_questions
    from rag.indexing.indexer import sync
    from rag.settings import get_settings

    sets = [
        ("seeds", ROOT / "eval/gold/seeds.jsonl", ROOT / "data/articles", args.seeds_index),
        (
            "newsroom",
            ROOT / "eval/gold/newsroom.jsonl",
            SHARED / "corpus.jsonl",
            args.multihop_index,
        ),
        ("multihop", SHARED / "dev.jsonl", SHARED / "corpus.jsonl", args.multihop_index),
    ]
    rows: list[dict] = []
    for name, gold_path, corpus, index in sets:
        if not gold_path.exists() or not corpus.exists():
            print(f"skipping {name}: {gold_path} or {corpus} is missing")
            continue
        settings = get_settings(
            {
                "articles_dir": corpus,
                "index_dir": Path(index),
                "abstain_min_score": -1,  # every question answered: the signals are wanted
                "abstain_threshold": 0,
            }
        )
        sync(settings, wait=True)
        gold = load_questions(gold_path) if name == "multihop" else load_gold(gold_path)
        pipeline = Pipeline(settings)
        began = time.perf_counter()
        for q in gold:
            answer = pipeline.ask(q.question, k=10)
            yes_no = is_yes_no(q)
            rows.append(
                {
                    "set": name,
                    "id": q.id,
                    "question": q.question,
                    "type": q.type,
                    "answerable": q.answerable,
                    "yes_no": yes_no,
                    "gold_yes": yes_no and normalise(q.answers[0]) == "yes",
                    "verdict": answer.verdict.answer if answer.verdict else None,
                    "signals": answer.signals,
                }
            )
        pipeline.close()
        print(f"{name}: {len(gold)} questions in {time.perf_counter() - began:.0f} s")
    return rows


def fit(rows: list[dict], features: tuple[str, ...], label: str, c: float) -> Logistic:
    from sklearn.linear_model import LogisticRegression

    x = np.array([[r["signals"].get(f, 0.0) for f in features] for r in rows], dtype=float)
    y = np.array([bool(r[label]) for r in rows])
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale == 0] = 1.0
    # "answerable" keeps the gold sets' own mix, so that its probability is calibrated
    # (the reliability table checks it); "yes" weighs both answers alike (balanced
    # accuracy is what counts, and "yes" is the more common gold answer).
    weight = np.ones(len(rows))
    if label == "gold_yes":
        weight = np.array([1.0 / int((y == value).sum()) for value in y])
    model = LogisticRegression(C=c, max_iter=2000)
    model.fit((x - mean) / scale, y, sample_weight=weight * len(rows) / weight.sum())
    return Logistic(
        features,
        tuple(round(float(v), 6) for v in mean),
        tuple(round(float(v), 6) for v in scale),
        tuple(round(float(v), 6) for v in model.coef_[0]),
        round(float(model.intercept_[0]), 6),
    )


def cross_validated(
    rows: list[dict], features: tuple[str, ...], label: str, c: float, folds: int = 5
) -> list[float]:
    """Each row's probability from a model fitted without its fold."""
    order = np.random.default_rng(7).permutation(len(rows))
    p = [0.0] * len(rows)
    for k in range(folds):
        held = set(order[k::folds].tolist())
        model = fit([r for i, r in enumerate(rows) if i not in held], features, label, c)
        for i in held:
            p[i] = model.probability(rows[i]["signals"])
    return p


def report_answerable(rows: list[dict], p: list[float]) -> None:
    print("\nanswerable (5-fold cross-validated): abstain recall / false abstention")
    sets = sorted({r["set"] for r in rows})
    print("| threshold | " + " | ".join(sets) + " |")
    print("| --- |" + " --- |" * len(sets))
    for t in (0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7):
        cells = []
        for s in sets:
            mine = [(r, q) for r, q in zip(rows, p, strict=True) if r["set"] == s]
            null = [q < t for r, q in mine if not r["answerable"]]
            real = [q < t for r, q in mine if r["answerable"]]
            cells.append(
                f"{np.mean(null) if null else float('nan'):.3f} / "
                f"{np.mean(real) if real else float('nan'):.3f}"
            )
        print(f"| {t} | " + " | ".join(cells) + " |")


def report_yes(rows: list[dict], p: list[float]) -> None:
    print("\nyes/no (5-fold cross-validated): balanced accuracy, by set")
    for s in sorted({r["set"] for r in rows}):
        mine = [(r, q) for r, q in zip(rows, p, strict=True) if r["set"] == s]
        yes = [q >= 0.5 for r, q in mine if r["gold_yes"]]
        no = [q < 0.5 for r, q in mine if not r["gold_yes"]]
        recall = [np.mean(v) for v in (yes, no) if v]
        print(
            f"  {s}: {len(mine)} questions, recall yes {np.mean(yes) if yes else float('nan'):.3f}"
            f", recall no {np.mean(no) if no else float('nan'):.3f}, balanced {np.mean(recall):.3f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--multihop-index", default="/tmp/newsdesk-multihop-index")
    parser.add_argument("--seeds-index", default="/tmp/newsdesk-seeds-index")
    parser.add_argument("--features", type=Path, help="JSONL of collected signals (reused)")
    parser.add_argument("--c", type=float, default=0.5, help="inverse regularisation strength")
    parser.add_argument("--out", type=Path, default=MODEL_PATH)
    args = parser.parse_args()

    if args.features and args.features.exists():
        rows = [json.loads(line) for line in args.features.read_text().splitlines()]
    else:
        rows = collect(args)
        if args.features:
            args.features.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    # Each model learns from the questions the engine answers its way: open questions
    # (best_score measured) and yes/no questions (claims' support measured).
    open_rows = [r for r in rows if not r["yes_no"] and "best_score" in r["signals"]]
    yes_rows = [r for r in rows if r["yes_no"] and "min_support" in r["signals"]]
    report_answerable(open_rows, cross_validated(open_rows, SIGNALS, "answerable", args.c))
    if yes_rows:
        report_yes(yes_rows, cross_validated(yes_rows, VERDICT_FEATURES, "gold_yes", args.c))
    models = {"answerable": fit(open_rows, SIGNALS, "answerable", args.c)}
    if yes_rows:
        models["yes"] = fit(yes_rows, VERDICT_FEATURES, "gold_yes", args.c)
    counts = {s: sum(r["set"] == s for r in rows) for s in sorted({r["set"] for r in rows})}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps(
            {
                "version": 1,
                "fitted_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "fitted_on": counts,
                "regularisation_c": args.c,
                "models": {name: m.to_dict() for name, m in models.items()},
            },
            indent=2,
        )
        + "\n"
    )
    print(f"\nwrote {args.out}")
    for name, m in models.items():
        print(
            f"  {name}: "
            + ", ".join(f"{f} {c:+.2f}" for f, c in zip(m.features, m.coef, strict=True))
        )


if __name__ == "__main__":
    main()
