"""A yes/no question split into the claims it makes, each to be checked on its own.

"Do the TechCrunch article on X and the Hacker News article on Y both report
Z?" makes two claims, one per outlet it names; "Did both Biden and Xi attend
the summit?" makes one per person; "Did X report A before Y reported B?" makes
two claims and asks for their order in time. A question naming one thing is
one claim.

>>> claims = split_claims("Did TechCrunch report the cuts before The Verge did?", ["TechCrunch",
...                       "The Verge"])
>>> [c.source for c in claims.claims], claims.order
(['TechCrunch', 'The Verge'], 'before')
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field

_AUX = re.compile(
    r"^(?:do|does|did|is|are|was|were|has|have|had|can|could|will|would|should)\s+", re.I
)
_CONNECTOR = re.compile(
    r"(?:,\s*|\s+)(?:while|whereas|but|and|compared (?:to|with)|in contrast to|as well as|"
    r"before|after|prior to|earlier than|later than|than|similarly to|similar to|"
    r"in the same way as|with|to)\s+(?:the\s+|a\s+|an\s+|both\s+|also\s+|that\s+)*$",
    re.I,
)
_ORDER = re.compile(
    r"\b(before|after|prior to|earlier than|later than|subsequent(?:ly)? to)\b", re.I
)
_BOTH = re.compile(r"\bboth\s+(.+?)\s+and\s+(.+?)\s+((?:[a-z]+ed|[a-z]+s?)\b.*)$", re.I)
# Words that make a claim about change or disagreement between reports.
CHANGE_WORDS = re.compile(r"\b(?:chang\w*|shift\w*|revers\w*|evolv\w*)\b", re.I)
CONFLICT_WORDS = re.compile(
    r"\b(?:inconsisten\w*|contradict\w*|disagree\w*|conflict\w*|opposite|differ\w*)\b",
    re.I,
)
CONTRAST_WORDS = re.compile(r"\b(?:while|whereas|in contrast|but|however|unlike)\b", re.I)
SAME_WORDS = re.compile(
    r"\b(?:consistent|same|similar\w*|agree\w*|align\w*|both|also|remain\w*|maintain\w*|"
    r"likewise|unchanged|in line)\b",
    re.I,
)
NEGATIONS = re.compile(r"\b(?:no|not|never|without|fail\w*|neither|nor|lack\w*|n't)\b", re.I)


@dataclass
class ClaimText:
    text: str
    source: str | None = None


@dataclass
class Claims:
    """The claims of a question, and the time order it asks about (``before``/``after``)."""

    claims: list[ClaimText] = field(default_factory=list)
    order: str | None = None


def _strip(question: str) -> str:
    q = " ".join(question.split()).strip().rstrip("?").strip()
    return _AUX.sub("", q, count=1)


def _positions(text: str, names: list[str]) -> list[tuple[int, str]]:
    """Where each outlet is named (every time), in order, longest names first at a spot."""
    found: dict[int, str] = {}
    for name in sorted(names, key=len, reverse=True):
        for match in re.finditer(rf"(?<!\w){re.escape(name)}(?!\w)", text, re.I):
            if not any(a <= match.start() < a + len(n) for a, n in found.items()):
                found[match.start()] = name
    return sorted(found.items())


def _strip_article(text: str) -> str:
    return re.sub(r"^(?:the)\s+(?=[A-Z])", "", text.strip(), flags=re.I)


def _order(text: str) -> str | None:
    match = _ORDER.search(text)
    if not match:
        return None
    word = match.group(1).lower()
    return "before" if word in ("before", "prior to", "earlier than") else "after"


_PREDICATE = re.compile(
    r",\s+((?:was|were|is|are|has|have|had|did|does|do)\s+(?:there\s+)?.+)$", re.I
)


def split_claims(question: str, sources: list[str]) -> Claims:
    """The claims ``question`` makes; ``sources`` are the outlets it names."""
    text = _strip(question)
    for name in sources:  # "the 'Fortune' article": the quotes say nothing
        text = re.sub(rf"['‘’\"“”]({re.escape(name)})['‘’\"“”]", r"\1", text, flags=re.I)
    text = re.sub(r"^(?:between|before|after|considering)\s+", "", text, flags=re.I)
    predicate = _PREDICATE.search(text)
    body = text[: predicate.start()] if predicate else text
    placed = _positions(body, sources)
    if len(placed) >= 2:
        cuts, order = [0], None
        for (before, name), (at, _) in itertools.pairwise(placed):
            connector = _CONNECTOR.search(body[:at])
            near = max(before + len(name), at - 40)
            timed = _ORDER.search(body, near, at)
            if connector and connector.start() > cuts[-1]:
                cuts.append(connector.start())
                order = order or _order(connector.group(0))
            elif timed:
                cuts.append(timed.start())
                order = order or _order(timed.group(0))
            else:
                cuts.append(at)
        cuts.append(len(body))
        claims = []
        for (_, source), a, b in zip(placed, cuts, cuts[1:], strict=False):
            piece = body[a:b].strip(" ,;")
            piece = re.sub(
                r"^(?:while|whereas|but|and|compared (?:to|with)|before|after|prior to|than|"
                r"with|to|in contrast to|as well as)\s+",
                "",
                piece,
                flags=re.I,
            )
            claims.append(ClaimText(piece, source))
        tail = body[placed[-1][0] + len(placed[-1][1]) :].strip()
        for claim in claims[:-1]:
            claim.text = re.sub(r"^both\s+", "", claim.text, flags=re.I)
            if len(_content_words(claim)) < 2:
                claim.text = f"{claim.text} {tail}"
        # A claim that names only its outlet ("… described in The Guardian article")
        # checks what the whole question says, in that outlet.
        for claim in claims:
            if len(_content_words(claim)) < 2:
                others = [c.source for c in claims if c.source and c.source != claim.source]
                rest = body
                for name in others:
                    rest = re.sub(rf"(?<!\w){re.escape(name)}(?!\w)", " ", rest, flags=re.I)
                claim.text = " ".join(rest.split())
        shared = re.search(r"\bboth\b\s*(.*)$", claims[-1].text, re.I)
        if shared and shared.group(1):
            claims[-1].text = claims[-1].text[: shared.start()].strip() + " " + shared.group(1)
            for claim in claims[:-1]:
                claim.text = f"{claim.text} {shared.group(1)}"
        return Claims(claims, order)
    if not placed:
        events = _events(body)
        if events is not None:
            return events
    both = _BOTH.search(body)
    if both:
        first, second, rest = both.groups()
        named = {name.lower() for _, name in placed}
        outlets = [part for part in (first, second) if _strip_article(part).lower() in named]
        # "both TechCrunch and Bloomberg": when one part is a known outlet, the other names
        # one too, even if no indexed article comes from it.
        return Claims(
            [
                ClaimText(
                    f"{part} {rest}",
                    _strip_article(part) if outlets and part[:1].isupper() else None,
                )
                for part in (first, second)
            ]
        )
    only: str | None = placed[0][1] if placed else None
    return Claims([ClaimText(text, only)], None)


def _events(body: str) -> Claims | None:
    """Two events a question orders ("Sam Altman fired before Microsoft hired him"): a
    claim on each side of its one order word, each saying something (two words or
    more); None otherwise ("Binance agreed to pay before the deadline" orders one event
    against a time)."""
    found = list(_ORDER.finditer(body))
    if len(found) != 1:
        return None
    word = found[0]
    claims = [ClaimText(body[: word.start()].strip(" ,;")), ClaimText(body[word.end() :].strip())]
    if any(len(_content_words(claim)) < 2 for claim in claims):
        return None
    return Claims(claims, _order(word.group(0)))


# Words of a claim that say nothing about what was reported.
_GENERIC = frozenset(
    "the a an that this article articles report reports reported story piece coverage "
    "suggest suggests claim claims mention mentions describe describes discuss discusses "
    "imply implies indicate indicates agree agrees completely with from both also does "
    "did do whether same other another source sources".split()
)


def _content_words(claim: ClaimText) -> list[str]:
    own = claim.text.lower()
    if claim.source:
        own = own.replace(claim.source.lower(), " ")
    return [w for w in re.findall(r"[a-z]+", own) if len(w) > 2 and w not in _GENERIC]


# What a yes/no question asserts besides its claims, as words: a presupposed
# inconsistency, change, restriction or negation. On the MultiHop-RAG dev split these
# carry most of what separates "no" from "yes" (see bench/fit_reading.py).
QUESTION_CUES: dict[str, re.Pattern[str]] = {
    name: re.compile(pattern, re.I)
    for name, pattern in {
        "inconsistent": r"inconsisten",
        "no_change": r"\bno change|\bnot change|unchanged",
        "contradict": r"contradict",
        "fail": r"\bfail",
        "same": r"\bsame\b|\bidentical",
        "consistent": r"\bconsistent",
        "change": r"\bchang",
        "differ": r"differ",
        "both": r"\bboth\b",
        "while": r"\bwhile\b",
        "agree": r"\bagree|\balign",
        "similar": r"\bsimilar",
        "negation": r"\bnot\b|n't|\bnever\b",
        "without": r"\bwithout\b",
        "only": r"\bsolely|\bonly\b|\bcompletely|\bentirely|\bmerely",
        "less": r"\bless\b",
        "before": r"\bbefore\b",
        "after": r"\bafter\b",
        "remain": r"\bremain",
        "does": r"\bdoes\b|\bdo\b",
        "past": r"^(?:did|was|were|has|have|is)\b",
    }.items()
}


def question_cues(question: str) -> dict[str, float]:
    """1.0 for each cue the question's words carry, else 0.0 (``cue_<name>``)."""
    return {f"cue_{name}": float(bool(p.search(question))) for name, p in QUESTION_CUES.items()}
