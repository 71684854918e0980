"""The person a sentence speaks of without naming them.

Two habits of news writing keep the answer to a who-question out of the sentence
that answers it:

- **A pronoun** (or a bare surname) stands for someone named just before:
  "Vice Premier He Lifeng sounded an optimistic note …" then "“I'm ready …,” He
  told Raimondo during a meeting at the Great Hall of the People".
- **A delayed-identification lead** describes a person and names them a
  paragraph later: "The top Chinese official in charge of economic relations
  with Washington told Commerce Secretary Gina Raimondo …", then "Vice Premier He
  Lifeng sounded …". The people the lead does name are the ones its subject
  acted on, not the subject.

The referent is the person named first in a nearby sentence of the same passage
(before the pronoun, after the description), titles allowed before the name
("US Treasury Secretary Janet Yellen"), and not one the referring sentence names.
Only sentences of one passage are looked at, so the chain of citations stays in
text a reader sees together.

>>> refers_back("“I'm ready,” He told Raimondo during a meeting.")
True
>>> refers_back("He Lifeng met Raimondo.")
False
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Protocol, TypeVar

from rag.text.nlp import Entity
from rag.text.words import tokens

# How many sentences away the person may be named.
REACH = 3
_LEAD_PRONOUN = re.compile(r"^[\W_]*(?:He|She)\s+(?!(?:[A-Z]\w*))\w")
_QUOTED_PRONOUN = re.compile(
    r"[”\"]\s*,?\s*(?:he|she)\s+(?:said|says|told|added|asked|continued|replied|wrote|"
    r"warned|noted|explained|insisted)\b",
    re.I,
)
_IDENTITY = re.compile(r"^\s*who\s+(?:is|was|are|were)\s+(?:the|a|an)\s+(?=\w)", re.I)
# Before a person's name at the start of a sentence: nothing, or capitalised words
# (titles: "Vice Premier", "US Treasury Secretary"), or an opening quote.
_TITLES_ONLY = re.compile(r"[“\"]?(?:[A-Z][\w.’'&-]*\s+){0,5}")
# A dateline and an article before a description ("BEIJING — The top official").
_DATELINE = re.compile(r"^\s*(?:[A-Z][A-Z .,'-]+(?:\([^)]*\))?\s*[—–-]+\s*)?")
# After a description, what names the person it describes: an apposition or a copula.
_NAMING = re.compile(r"\s*(?:[,(—–:-]|(?:is|was|are|were)\b)")
_WORD = re.compile(r"[A-Za-z0-9]+(?:['’][a-z]+)?")
# Share of the question's words that must be found in the description.
DESCRIBED_SHARE = 0.8


class Sentence(Protocol):
    text: str
    start: int  # offset in its article
    entities: list[Entity]


S = TypeVar("S", bound=Sentence)


def refers_back(text: str) -> bool:
    """Whether the sentence's subject is a pronoun ("He said …", "…,” she told …")."""
    return bool(_LEAD_PRONOUN.match(text) or _QUOTED_PRONOUN.search(text))


def describes(question: str, sentence: Sentence) -> bool:
    """Whether a "who is the <description>" question's description is the sentence's
    subject, with no person named in apposition to it ("The top Chinese official in
    charge of economic relations with Washington told Commerce Secretary Gina …")."""
    if not _IDENTITY.match(question):
        return False
    asked = set(tokens(_IDENTITY.sub("", question, count=1)))
    if len(asked) < 3:
        return False
    text = sentence.text
    first: dict[str, tuple[int, int]] = {}
    for match in _WORD.finditer(text):
        for word in tokens(match.group(0)):
            first.setdefault(word, match.span())
    found = [first[w] for w in asked if w in first]
    if len(found) < DESCRIBED_SHARE * len(asked):
        return False
    begin, end = min(a for a, _ in found), max(b for _, b in found)
    lead = _DATELINE.sub("", text[:begin], count=1)
    if len(lead.split()) > 2:
        return False  # the description is not where a subject goes
    return _unnamed(sentence, end)


def opens_with(head: str, sentence: Sentence) -> bool:
    """Whether the sentence's subject is the question's head noun undetermined, with no
    person named in apposition to it: "A judge ruled Tuesday that …" for "Which judge
    ruled …?" (the lead of a story that names the judge a sentence later)."""
    if not head:
        return False
    text = sentence.text
    lead = _DATELINE.match(text)
    at = lead.end() if lead else 0
    match = re.compile(rf"(?:A|An|The)\s+(?:[\w’'-]+\s+){{0,3}}?{re.escape(head)}s?\b", re.I).match(
        text, at
    )
    if match is None:
        return False
    return _unnamed(sentence, match.end())


def _unnamed(sentence: Sentence, end: int) -> bool:
    """Whether the description ending at ``end`` (in the sentence's text) stays unnamed:
    no person is named before or inside it, nor right after it in apposition or by a
    copula ("…, Sam Altman," / "… is Sam Altman")."""
    people = sorted((e for e in sentence.entities if e.label == "PERSON"), key=lambda e: e.start)
    if any(e.start - sentence.start < end for e in people):
        return False
    return not (people and _NAMING.match(sentence.text[end : people[0].start - sentence.start]))


def named_first(sentence: Sentence) -> Entity | None:
    """The person a sentence opens with, after any titles ("Vice Premier He Lifeng")."""
    for entity in sorted(sentence.entities, key=lambda e: e.start):
        if entity.label != "PERSON":
            continue
        before = sentence.text[: entity.start - sentence.start]
        return entity if _TITLES_ONLY.fullmatch(before) else None
    return None


def referent(
    sentence: S, before: Sequence[S], after: Sequence[S], described: bool
) -> tuple[S, Entity] | None:
    """The person the sentence means: named first in one of the :data:`REACH` sentences
    after it (``described``) or before it (nearest first), and not named in it."""
    named = {e.norm for e in sentence.entities if e.label == "PERSON"}
    nearby = list(after[:REACH]) if described else list(reversed(before))[:REACH]
    for other in nearby:
        person = named_first(other)
        if person is not None and person.norm not in named:
            return other, person
    return None
