"""Evaluation: run a gold question set against the index and read the result;
compare two stored runs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from rag.ask.highlight import excerpt_html
from rag.errors import RagError
from rag.evaluation import evaluate, runs
from rag.evaluation.gold import GoldQuestion, load_gold
from rag.settings import Settings
from ui import charts, engine, views

OTHER = "Another file…"
RATES = {"latency_p50_ms": "{:.0f} ms", "latency_p95_ms": "{:.0f} ms"}
LABELS = {
    "answer_correct": "Answers correct",
    "answer_f1": "Answer token F1",
    "short_f1": "Short-answer F1",
    "yes_no_balanced_accuracy": "Yes/no balanced accuracy",
    "citation_precision": "Citation precision",
    "citation_recall": "Citation recall",
    "hit@4": "Article hit@4",
    "passage_hit@4": "Passage hit@4",
    "mrr@10": "MRR@10",
    "abstain_recall": "Abstains when it should",
    "false_abstention": "False abstentions",
    "latency_p50_ms": "Latency p50",
    "latency_p95_ms": "Latency p95",
}


def gold_for(record: dict[str, Any]) -> dict[str, GoldQuestion]:
    """The gold questions a record was made from, when its gold set can be found."""
    if st.session_state.get("eval_gold_name") == record["name"]:
        gold: dict[str, GoldQuestion] = st.session_state["eval_gold"]
        return gold
    for path in runs.gold_sets():
        if path.stem == record["name"]:
            try:
                return {q.id: q for q in load_gold(path)}
            except RagError:
                return {}
    return {}


def run_form(settings: Settings, out: Path) -> None:
    sets = runs.gold_sets()
    choice = st.selectbox(
        "Gold set",
        [*sets, OTHER],
        format_func=lambda p: p if p == OTHER else f"{p.name} ({p.parent})",
        key="eval_gold_choice",
    )
    path = choice
    if choice == OTHER:
        typed = st.text_input("Path to a gold set (.jsonl)", key="eval_gold_path")
        path = Path(typed) if typed else None
    default_k = max(settings.top_k, 10)
    k = st.number_input("Passages retrieved per question (k)", 1, 100, default_k, key="eval_k")
    st.caption(
        f"Questions are asked of the current index ({settings.index_dir.resolve()}). "
        "The project's gold sets are written for the sample corpus in data/articles."
    )
    if not st.button("Run the gold set", type="primary", disabled=path is None):
        return
    assert isinstance(path, Path)
    try:
        gold = load_gold(runs.gold_path(path))
        pipeline = engine.pipeline(settings)
        warning = evaluate.check_index(pipeline, gold, path.name)
    except RagError as exc:
        st.error(str(exc))
        return
    if warning:
        st.warning(warning, icon=":material/warning:")
    bar = st.progress(0.0, text=f"Asking {len(gold)} questions…")

    def progress(done: int, total: int) -> None:
        bar.progress(done / total if total else 1.0, text=f"Asked {done} of {total} questions")

    try:
        record = evaluate.run(pipeline, gold, k=int(k), name=path.stem, progress=progress)
    except RagError as exc:
        bar.empty()
        st.error(str(exc))
        return
    saved = evaluate.write(record, out)
    bar.empty()
    st.success(f"Saved the run record to {views.md(str(saved))}", icon=":material/save:")
    # Show the new run below, and keep its gold set for the drill-down.
    st.session_state.update(
        eval_show=saved, eval_gold={q.id: q for q in gold}, eval_gold_name=record["name"]
    )


def fmt(name: str, value: float | None) -> str:
    if value is None:
        return "–"
    return RATES.get(name, "{:.3f}").format(value)


def summary(record: dict[str, Any]) -> None:
    overall = record["summary"]["overall"]
    st.caption(
        f"{record['name']}: {int(overall['questions'])} questions · {record['created_at']} · "
        f"settings {record['settings_hash']} · commit {(record.get('git_commit') or '-')[:10]} "
        f"· k = {record['k']}"
    )
    shown = runs.headline(record)
    for start in range(0, len(shown), 5):
        for column, (name, value) in zip(st.columns(5), shown[start : start + 5], strict=False):
            column.metric(LABELS.get(name, name), fmt(name, value))

    left, right = st.columns(2)
    table = pd.DataFrame(runs.by_type(record))
    if not table.empty:
        with left:
            st.markdown("**By question type**")
            st.altair_chart(charts.by_type(table, LABELS), width="stretch")
    curve = pd.DataFrame(runs.recall_curve(record))
    if not curve.empty:
        with right:
            st.markdown("**Recall@k**")
            st.altair_chart(charts.recall(curve), width="stretch")
    histogram = pd.DataFrame(runs.latency_histogram(record))
    if not histogram.empty:
        st.markdown("**Latency per question**")
        st.altair_chart(charts.latency(histogram), width="stretch")
    yes_no(record)
    calibration(record)


def yes_no(record: dict[str, Any]) -> None:
    """Yes/no questions: balanced accuracy next to the always-"yes" answer, and the
    confusion matrix overall and per question type."""
    rows = runs.yes_no_confusion(record)
    if not rows:
        return
    overall = record["summary"]["overall"]
    st.markdown("**Yes/no questions**")
    st.caption(
        f"{int(overall.get('yes_no_questions', 0))} questions · balanced accuracy "
        f"{fmt('', overall.get('yes_no_balanced_accuracy'))} (always “yes”: "
        f"{fmt('', overall.get('yes_no_always_yes_balanced_accuracy'))}) · accuracy "
        f"{fmt('', overall.get('yes_no_accuracy'))} (always “yes”: "
        f"{fmt('', overall.get('yes_no_always_yes_accuracy'))}) · the prediction is the "
        "verdict, else read from the answer text"
    )
    st.table(pd.DataFrame(rows).set_index(["type", "gold"]))


def calibration(record: dict[str, Any]) -> None:
    """The answers' confidence against how often questions were answerable (and answered
    right): a reliability plot, its table and the Brier score."""
    table = runs.reliability(record)
    if not table:
        return
    overall = record["summary"]["overall"]
    st.markdown("**Confidence calibration**")
    st.caption(
        f"Brier score {fmt('', overall.get('confidence_brier'))} (always the base rate: "
        f"{fmt('', overall.get('confidence_brier_baseline'))}; lower is better) over "
        f"{int(overall.get('confidence_questions', 0))} answers. A calibrated engine's "
        "points lie on the diagonal: of the questions it gives 0.8, 80 % are answerable."
    )
    left, right = st.columns(2)
    curve = pd.DataFrame(runs.reliability_curve(record))
    with left:
        st.altair_chart(charts.reliability(curve), width="stretch")
    with right:
        st.table(
            pd.DataFrame(table)[
                ["bin", "count", "mean_confidence", "answerable", "correct"]
            ].set_index("bin")
        )


def questions(settings: Settings, record: dict[str, Any], run: str) -> None:
    """The run's questions, filterable, and one of them looked at closely. ``run`` names
    the record shown: the picker is a new widget for each run, since a browser keeps
    showing the label it was given (another run's ✓ or ✗) while the question stays."""
    st.subheader("Questions")
    types = sorted({q["type"] for q in record["questions"]})
    left, right = st.columns([1, 3])
    failed = left.toggle("Wrong answers only", key="eval_failed")
    chosen = right.multiselect("Types", types, key="eval_types", placeholder="All types")
    rows = runs.question_rows(record, failed_only=failed, types=chosen)
    st.dataframe(
        rows,
        hide_index=True,
        width="stretch",
        column_config={
            "correct": st.column_config.CheckboxColumn("correct"),
            "abstained": st.column_config.CheckboxColumn("abstained"),
            "question": st.column_config.TextColumn(width="large"),
            "answer": st.column_config.TextColumn(width="large"),
        },
    )
    if not rows:
        st.info("No question matches these filters.")
        return
    by_id = {q["id"]: q for q in record["questions"]}
    ids = [r["id"] for r in rows]
    last = st.session_state.get("eval_picked")
    picked = st.selectbox(
        "Look closer at",
        ids,
        index=ids.index(last) if last in ids else 0,
        format_func=lambda i: f"{i} — {'✓' if by_id[i]['correct'] else '✗'} {by_id[i]['question']}",
        key=f"eval_pick-{run}",
    )
    if picked:
        st.session_state["eval_picked"] = picked
        drill_down(settings, record, by_id[picked], gold_for(record).get(picked))


def drill_down(
    settings: Settings, record: dict[str, Any], q: dict[str, Any], gold: GoldQuestion | None
) -> None:
    """One question as the run saw it: gold answers and evidence, the passages it
    retrieved (gold ones starred, evidence quotes marked), its answer and citations."""
    catalog = engine.pipeline(settings).catalog
    titles = catalog.titles
    answers = q.get("gold_answers") or (gold.answers if gold else [])
    quotes = q.get("quotes") or (
        [{"doc": e.doc, "quote": e.quote} for e in gold.evidence] if gold else []
    )
    with st.container(border=True):
        mark = "✓ correct" if q["correct"] else "✗ wrong"
        st.markdown(f"**{views.md(q['question'])}**  \n{q['type']} · {mark} · {q['ms']:.0f} ms")
        left, right = st.columns(2)
        with left:
            st.markdown("**Gold**")
            if answers:
                match = gold.match if gold else "any"
                st.markdown(f"Answers ({match} of): " + "; ".join(views.md(a) for a in answers))
            elif q.get("answerable") is False or q["type"] == "unanswerable":
                st.markdown("Unanswerable: the right answer is to abstain.")
            for e in quotes:
                st.markdown(f"- {views.md(e['doc'])}: “{views.md(e['quote'])}”")
        with right:
            st.markdown("**The run's answer**")
            shorts = q.get("short_answers") or []
            if shorts:
                said = ", ".join(
                    views.md(s["text"])
                    + (f" ({views.md(s['resolved'])})" if s.get("resolved") else "")
                    for s in shorts
                )
                st.markdown(f"Short answer: **{said}**")
            verdict = q.get("verdict")
            if verdict:
                st.markdown(
                    f"Verdict: **{views.md(verdict['answer'])}**"
                    + (f" (gold: {q['gold_yes_no']})" if q.get("gold_yes_no") else "")
                    + "".join(
                        f"\n- {views.md(c['status'])}"
                        + (f" **\\[{c['n']}\\]**" if c.get("n") is not None else "")
                        + f": {views.md(c['text'])}"
                        for c in verdict.get("claims", [])
                    )
                )
            st.markdown(views.answer_markdown(q["answer"]))
            notes = [
                f"confidence {q['confidence']:.2f}" if q.get("confidence") is not None else "",
                f"missing: {views.md(q['missing'])}" if q.get("missing") else "",
            ]
            if any(notes):
                st.caption(" · ".join(n for n in notes if n))
            for c in q.get("citations", []):
                st.markdown(f"**\\[{c['n']}\\]** {views.md(c['title'])}: “{views.md(c['quote'])}”")
                text = catalog.texts.get(c["article_id"], "")
                at = text.find(c["quote"]) if text else -1
                if at >= 0:
                    views.article_link(
                        c["article_id"], "Open the article", at, at + len(c["quote"])
                    )
            if not q.get("citations") and q["cited"]:
                cited = [titles.get(a, a) for a in q["cited"]]
                st.caption("Cited: " + views.md("; ".join(cited)))

        passages = q.get("passages")
        if not passages:
            st.caption("This run record keeps no passages (an older harness); run the set again.")
            return
        st.markdown(
            "**Retrieved passages** (★ = gold: from an evidence article or holding a quote)"
        )
        wanted = [e["quote"] for e in quotes]
        for rank, p in enumerate(passages, start=1):
            note = " · holds an evidence quote" if p.get("has_quote") else ""
            st.markdown(
                f"{'★ ' if p.get('gold') else ''}**{rank}. {views.md(p['title'])}** — "
                f"{views.md(p.get('source') or 'unknown source')} · score {p['score']:.3f}{note}"
            )
            spans = runs.quote_spans(p["text"], wanted)
            st.html(excerpt_html(p["text"], spans, css_class="rag-passage"))


def compare(out: Path) -> None:
    stored = runs.stored_runs(out)
    if len(stored) < 2:
        st.info(
            f"Two stored runs are needed to compare; {len(stored)} found in `{out.resolve()}`. "
            "Run a gold set above (or `rag eval`) to store one.",
            icon=":material/info:",
        )
        return
    left, right = st.columns(2)
    old = left.selectbox("Older run", stored, index=1, format_func=lambda p: p.name, key="cmp_old")
    new = right.selectbox("Newer run", stored, index=0, format_func=lambda p: p.name, key="cmp_new")
    try:
        diff = evaluate.compare(evaluate.load_record(old), evaluate.load_record(new))
    except RagError as exc:
        st.error(str(exc))
        return
    st.markdown("**Metrics**")
    st.dataframe(
        diff["metrics"],
        hide_index=True,
        width="stretch",
        column_config={"delta": st.column_config.NumberColumn("delta", format="%+.4f")},
    )
    flipped = diff["flipped"]
    st.markdown(f"**Questions that changed** ({len(flipped)})")
    if flipped:
        st.dataframe(
            [{k: f[k] for k in ("id", "type", "question", "was", "now")} for f in flipped],
            hide_index=True,
            width="stretch",
        )
    else:
        st.caption("No question changed between right and wrong.")


settings = engine.settings()
st.title("Evaluation")
out = Path(st.text_input("Run records folder", "eval/runs", key="eval_out"))
run_tab, compare_tab = st.tabs(["Run a gold set", "Compare two runs"])
with run_tab:
    run_form(settings, out)
    stored = runs.stored_runs(out)
    if stored:
        shown = st.selectbox("Run to show", stored, format_func=lambda p: p.name, key="eval_show")
        try:
            record = evaluate.load_record(shown)
        except RagError as exc:
            st.error(str(exc))
        else:
            summary(record)
            questions(settings, record, str(shown.resolve()))
    else:
        st.caption(f"No stored runs in `{out.resolve()}` yet.")
with compare_tab:
    compare(out)
