"""Sentence boundaries as character spans, so chunks and citations keep exact offsets.

Rules, in order: a blank line always ends a sentence; ``.``, ``!`` or ``?``
(with any closing quotes or brackets) ends one when whitespace and a capital,
digit or opening quote follow — unless the word before the dot is a known
abbreviation ("Mr.", "No.", "Ltd."), a single initial ("John F. Kennedy") or a
dotted acronym ("U.S."). A single line break ends a sentence when the line
before it ends in terminal punctuation, or looks like a heading and the next line
does not start in lower case.
"""

from __future__ import annotations

import re

ABBREVIATIONS = frozenset(
    """mr mrs ms dr prof sr jr st mt ft no nos vs etc inc ltd co corp plc llc bros
    gov govt sen rep gen col lt sgt capt cmdr adm maj pres supt dept est approx fig
    jan feb mar apr jun jul aug sep sept oct nov dec mon tue wed thu fri sat sun
    al op vol rev ed eds ch pp""".split()
)

_END = re.compile(r"[.!?…]+[\"”’)\]»]*(?=\s)")
_NEXT_STARTS_SENTENCE = re.compile(r"\s+[\"“‘(\[«]?[A-Z0-9]")
_WORD_BEFORE = re.compile(r"([A-Za-z][A-Za-z.]*)\.$")
_DOTTED_ACRONYM = re.compile(r"^(?:[A-Za-z]\.)+[A-Za-z]$")


def _is_abbreviation(text: str, dot: int) -> bool:
    match = _WORD_BEFORE.search(text, max(0, dot - 20), dot + 1)
    if not match:
        return False
    word = match.group(1)
    if len(word) == 1 and word.isupper():
        return True  # an initial: "John F. Kennedy"
    return word.lower() in ABBREVIATIONS or bool(_DOTTED_ACRONYM.match(word))


def _line_break_ends_sentence(text: str, newline: int) -> bool:
    line_start = text.rfind("\n", 0, newline) + 1
    line = text[line_start:newline].rstrip()
    if not line:
        return True
    if line[-1] in '.!?…:;"”’)]»':
        return True
    following = text[newline + 1 : newline + 2]
    if following.islower():
        return False  # a hard-wrapped sentence continues
    # A short line without terminal punctuation is a heading, a dateline or a list item.
    return len(line.split()) <= 12


def _boundaries(text: str) -> list[int]:
    cuts: list[int] = []
    for match in _END.finditer(text):
        end = match.end()
        if not _NEXT_STARTS_SENTENCE.match(text, end):
            continue
        single_dot = match.group(0)[0] == "." and len(match.group(0).rstrip('"”’)]»')) == 1
        if single_dot and _is_abbreviation(text, match.start()):
            continue
        cuts.append(end)
    for match in re.finditer(r"\n", text):
        if _line_break_ends_sentence(text, match.start()):
            cuts.append(match.start())
    return sorted(set(cuts))


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Return ``(start, end)`` spans of the sentences in ``text``, stripped of whitespace.

    Every non-whitespace character belongs to exactly one span, in order.

    >>> t = "The U.S. side met No. 2 official Li. He spoke."
    >>> [t[a:b] for a, b in sentence_spans(t)]
    ['The U.S. side met No. 2 official Li.', 'He spoke.']
    """
    spans: list[tuple[int, int]] = []
    start = 0
    for cut in [*_boundaries(text), len(text)]:
        piece = text[start:cut]
        stripped = piece.strip()
        if stripped:
            lead = len(piece) - len(piece.lstrip())
            spans.append((start + lead, start + lead + len(stripped)))
        start = cut
    return spans
