"""The evaluation page's charts, as Altair specifications.

None of them binds the mouse wheel or drags to its scales (no ``.interactive()``,
which Streamlit's ``st.bar_chart`` and ``st.line_chart`` add): a wheel over a chart
scrolls the page instead of zooming its axes to "−400 questions". Hover tooltips
stay.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from rag.evaluation import runs


def by_type(table: pd.DataFrame, labels: dict[str, str]) -> alt.Chart:
    """Grouped bars, one group per question type, the legend above the chart where it
    cannot be cut off; a type where a metric does not apply has no bar for it."""
    shown = [m for m in runs.BY_TYPE if m in table and table[m].notna().any()]
    long = table.melt(id_vars=["type", "questions"], value_vars=shown, var_name="metric")
    long = long.dropna(subset=["value"])
    long["metric"] = long["metric"].map(lambda m: labels.get(m, m))
    order = [labels.get(m, m) for m in shown]
    chart: alt.Chart = (
        alt.Chart(long)
        .mark_bar()
        .encode(
            x=alt.X("type:N", title=None, axis=alt.Axis(labelAngle=-40, labelOverlap=False)),
            xOffset=alt.XOffset("metric:N", sort=order),
            y=alt.Y("value:Q", title="score", scale=alt.Scale(domain=[0, 1])),
            color=alt.Color(
                "metric:N", sort=order, title=None, legend=alt.Legend(orient="top", columns=2)
            ),
            tooltip=["type", "questions", "metric", alt.Tooltip("value:Q", format=".3f")],
        )
        .properties(height=300)
    )
    return chart


def recall(curve: pd.DataFrame) -> alt.Chart:
    """Recall@k at article and passage level, the legend above the chart."""
    chart: alt.Chart = (
        alt.Chart(curve)
        .mark_line(point=True)
        .encode(
            x=alt.X("k:Q", title="k", axis=alt.Axis(values=sorted(set(curve["k"])))),
            y=alt.Y("recall:Q", title="recall", scale=alt.Scale(domain=[0, 1])),
            color=alt.Color("level:N", title=None, legend=alt.Legend(orient="top")),
            tooltip=["level", "k", alt.Tooltip("recall:Q", format=".3f")],
        )
        .properties(height=300)
    )
    return chart


def latency(histogram: pd.DataFrame) -> alt.Chart:
    """Questions per latency bin, the bins in order; counts start at zero."""
    chart: alt.Chart = (
        alt.Chart(histogram)
        .mark_bar()
        .encode(
            x=alt.X(
                "ms:N",
                title="milliseconds",
                sort=list(histogram["ms"]),
                axis=alt.Axis(labelAngle=-40),
            ),
            y=alt.Y("questions:Q", title="questions", axis=alt.Axis(tickMinStep=1)),
            tooltip=["ms", "questions"],
        )
        .properties(height=220)
    )
    return chart


def reliability(curve: pd.DataFrame) -> alt.Chart:
    """Share answerable and share correct against the mean confidence of each bin, with
    the diagonal a calibrated engine lies on."""
    long = curve.melt(
        id_vars=["confidence"],
        value_vars=["answerable", "correct", "calibrated"],
        var_name="series",
        value_name="share",
    )
    chart: alt.Chart = (
        alt.Chart(long)
        .mark_line(point=True)
        .encode(
            x=alt.X(
                "confidence:Q",
                title="mean confidence in the bin",
                scale=alt.Scale(domain=[0, 1]),
            ),
            y=alt.Y("share:Q", title="share of questions", scale=alt.Scale(domain=[0, 1])),
            color=alt.Color("series:N", title=None, legend=alt.Legend(orient="top")),
            tooltip=["series", alt.Tooltip("confidence:Q", format=".2f"), "share"],
        )
        .properties(height=280)
    )
    return chart


def per_day(table: pd.DataFrame) -> alt.Chart:
    """Articles a day, one colour per outlet: ``table`` has a row per day and outlet
    (``day`` as an ISO date, ``source``, ``articles``)."""
    table = table.assign(day=pd.to_datetime(table["day"]))
    chart: alt.Chart = (
        alt.Chart(table)
        .mark_bar()
        .encode(
            x=alt.X("day:T", title=None),
            y=alt.Y("sum(articles):Q", title="articles", axis=alt.Axis(tickMinStep=1)),
            color=alt.Color("source:N", title=None, legend=alt.Legend(orient="top")),
            tooltip=[
                alt.Tooltip("day:T"),
                "source",
                alt.Tooltip("sum(articles):Q", title="articles"),
            ],
        )
        .properties(height=170)
    )
    return chart
