"""Yes or no from evidence: each claim of the question checked against the articles.

Every claim (:mod:`rag.ask.claims`) gets its own best sentence, from the outlet
it names when it names one (and from articles of the date it names). A claim
with no such sentence leaves the verdict at **Cannot tell from the articles**.
"Did X report … before Y …" compares the publication dates of the two
pieces of evidence. Otherwise a fitted logistic model (``yes`` in
``rag/models/reading.json``) weighs how well each claim is supported against
what the question asserts — a change, an inconsistency, a contradiction —
since reports of one story mostly agree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from rag.ask.abstention import Logistic
from rag.ask.claims import (
    CHANGE_WORDS,
    CONFLICT_WORDS,
    CONTRAST_WORDS,
    NEGATIONS,
    QUESTION_CUES,
    SAME_WORDS,
    Claims,
    ClaimText,
    question_cues,
)
from rag.text.words import tokens

# Support (0.6 cosine + 0.4 word overlap) under which a claim has no evidence: on the
# MultiHop-RAG dev split a tenth of the claims of yes/no questions (yes and no alike)
# have their best sentence under 0.22.
MISSING = 0.2
VERDICT_FEATURES = (
    "min_support",
    "mean_support",
    "claims",
    "change_words",
    "conflict_words",
    "contrast_words",
    "same_words",
    "negations",
    "order_holds",
    "evidence_negated",
    *(f"cue_{name}" for name in QUESTION_CUES),
)


@dataclass
class Evidence:
    claim: ClaimText
    support: float = 0.0
    published_at: str | None = None
    found: bool = False
    sentence: str = ""
    # The day its sentence tells of and the words giving it ("late Friday"), when they do
    told: tuple[date, str] | None = None

    @property
    def when(self) -> datetime | None:
        """The day it tells of, else when its article was published."""
        if self.told is not None:
            return datetime.combine(self.told[0], datetime.min.time())
        return _when(self.published_at)


# Words of a question about reports, not events: "Did TechCrunch report … before …?"
# compares when the articles came out.
_REPORTING = re.compile(
    r"\b(?:report\w*|publish\w*|article\w*|coverage|covered|cover|stor(?:y|ies)|wr(?:ote|ite|itten)|"
    r"mention\w*|news)\b",
    re.I,
)


def about_events(question: str, claims: Claims) -> bool:
    """Whether a before/after question orders events ("Was Altman fired before Microsoft
    hired him?"), to be dated by what the evidence says, rather than reports (an outlet
    named, or words of reporting), dated by publication."""
    return not _REPORTING.search(question) and all(c.source is None for c in claims.claims)


def _when(published_at: str | None) -> datetime | None:
    if not published_at:
        return None
    try:
        return datetime.fromisoformat(published_at.replace("Z", "+00:00"))
    except ValueError:
        return None


def order_holds(claims: Claims, evidence: list[Evidence]) -> bool | None:
    """For a before/after question: whether the first claim's evidence is dated before
    (after) the second's; None when there is no order to check or a date is missing."""
    if claims.order is None or len(evidence) < 2:
        return None
    first, second = evidence[0].when, evidence[1].when
    if first is None or second is None:
        return None
    if first.tzinfo is None or second.tzinfo is None:
        first, second = first.replace(tzinfo=None), second.replace(tzinfo=None)
    if first == second:
        return None
    return first < second if claims.order == "before" else first > second


def features(question: str, claims: Claims, evidence: list[Evidence]) -> dict[str, float]:
    supports = [e.support for e in evidence] or [0.0]
    holds = order_holds(claims, evidence)
    return question_cues(question) | {
        "min_support": min(supports),
        "mean_support": sum(supports) / len(supports),
        "claims": float(len(evidence)),
        "change_words": float(bool(CHANGE_WORDS.search(question))),
        "conflict_words": float(bool(CONFLICT_WORDS.search(question))),
        "contrast_words": float(bool(CONTRAST_WORDS.search(question))),
        "same_words": float(bool(SAME_WORDS.search(question))),
        "negations": float(len(NEGATIONS.findall(question))),
        "order_holds": 0.0 if holds is None else (1.0 if holds else -1.0),
        # Evidence that denies what a claim asserts: "has given no indication" for
        # "give any indication".
        "evidence_negated": float(
            any(
                bool(NEGATIONS.search(e.sentence)) and not NEGATIONS.search(e.claim.text)
                for e in evidence
            )
        ),
    }


_FIGURE = re.compile(r"\d+(?:[.,]\d+)*")


def figures(text: str) -> set[str]:
    """The numbers a text states, as written without separators ("$4.3 billion" → 4.3,
    "12-year" → 12, "1,000" → 1000)."""
    return {m.group(0).replace(",", "") for m in _FIGURE.finditer(text)}


def figures_differ(claim: str, sentence: str) -> bool:
    """Whether the evidence states figures but none of the claim's: "12-year contract"
    against "a 10-year, $700 million deal"."""
    asked, given = figures(claim), figures(sentence)
    return bool(asked) and bool(given) and not asked & given


def decide(
    question: str,
    claims: Claims,
    evidence: list[Evidence],
    model: Logistic | None,
    *,
    events: bool = False,
) -> tuple[str, str, float]:
    """The verdict ("yes" | "no" | "cannot tell"), its reason, and P(yes).

    A question that makes one plain claim (no outlet, no order in time, no change or
    disagreement asserted: "Did Binance agree to pay $10 billion?") is decided by its
    evidence alone: no when the evidence gives other figures or negates it, else yes.
    The fitted model is for the comparisons and presuppositions of the rest. Two
    ``events`` ordered in time (:func:`about_events`) that no days put in order cannot
    be told."""
    missing = [e for e in evidence if not e.found or e.support < MISSING]
    if missing:
        what = missing[0].claim
        where = f"from {what.source} " if what.source else ""
        return "cannot tell", f"no article {where}supports: {what.text}", 0.5
    holds = order_holds(claims, evidence)
    if holds is None and events:
        # two events ("… fired before … hired him?") the evidence gives no days to order
        return "cannot tell", "the articles give no days that put the two in order", 0.5
    if holds is not None:
        days = [(e.when or datetime.min).date() for e in evidence[:2]]
        if any(e.told for e in evidence[:2]):
            told = [f" (“{e.told[1]}”)" if e.told else " (published)" for e in evidence[:2]]
            reason = (
                f"the first happened on {_day(days[0])}{told[0]}, "
                f"the second on {_day(days[1])}{told[1]}"
            )
        else:
            reason = f"the first report is dated {_day(days[0])}, the second {_day(days[1])}"
        return ("yes" if holds else "no"), reason, 1.0 if holds else 0.0
    values = features(question, claims, evidence)
    plain = (
        len(evidence) == 1
        and evidence[0].claim.source is None
        and claims.order is None
        and not (values["change_words"] or values["conflict_words"])
    )
    if plain:
        if figures_differ(evidence[0].claim.text, evidence[0].sentence):
            return "no", "the evidence gives a different figure", 0.1
        if values["evidence_negated"]:
            return "no", "the evidence says otherwise", 0.2
        return "yes", "the evidence cited below bears it out", 0.8
    if model is not None:
        p = model.probability(values)
    else:
        p = 0.2 if values["conflict_words"] or values["evidence_negated"] else 0.8
    if p >= 0.5:
        reason = "the evidence for each part of the question is cited below"
    elif values["evidence_negated"]:
        reason = "the evidence says otherwise"
    elif values["change_words"] or values["conflict_words"]:
        reason = "the reports cited below agree; they show no change or inconsistency"
    else:
        reason = "the evidence cited below does not bear the question out"
    return ("yes" if p >= 0.5 else "no"), reason, p


def _day(day: date) -> str:
    return f"{day.day} {day.strftime('%B %Y')}"


def claim_words(claim: ClaimText) -> set[str]:
    """The words of a claim that evidence must share (the outlet's name removed)."""
    source = set(tokens(claim.source or ""))
    return {w for w in tokens(claim.text) if w not in source} - {"report", "reported", "article"}
