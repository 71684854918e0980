"""Words and patterns both sides share, each written once.

- :func:`tokens`: a text's words as the BM25 index holds them and as the reading step
  compares them — lowercased, stopwords (:data:`STOPWORDS`) out, plurals and
  possessives folded ("China's talks" → ``["china", "talk"]``);
- :data:`WORD`: plain runs of lowercase letters and digits, for text already
  lowercased (near-duplicate detection, the eval's answer normalisation);
- :data:`MONTHS` (a month's name or abbreviation → its number), :data:`MONTH_NAMES`,
  :data:`WEEKDAYS`, and the regex alternations :data:`MONTH` and :data:`WEEKDAY`;
- :data:`MARKER`: a citation marker, ``[n]``, as an answer writes it after a sentence.
"""

from __future__ import annotations

import functools
import re

_TOKEN = re.compile(r"[a-z0-9]+(?:['’][a-z]+)?")
STOPWORDS = frozenset(
    """a an and are as at be but by for from has have he her his i in is it its of on or our
    she that the their them they this to was were will with you your what which who whom
    when where why how do does did""".split()
)
WORD = re.compile(r"[a-z0-9]+")

_MONTH_FORMS = (
    ("january", "jan"),
    ("february", "feb"),
    ("march", "mar"),
    ("april", "apr"),
    ("may",),
    ("june", "jun"),
    ("july", "jul"),
    ("august", "aug"),
    ("september", "sep", "sept"),
    ("october", "oct"),
    ("november", "nov"),
    ("december", "dec"),
)
MONTHS = {name: number for number, forms in enumerate(_MONTH_FORMS, start=1) for name in forms}
MONTH_NAMES = tuple(forms[0] for forms in _MONTH_FORMS)
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
# Longest first, so that "sept" is not read as "sep" and "march" not as "mar".
MONTH = "|".join(sorted(MONTHS, key=len, reverse=True))
WEEKDAY = "|".join(WEEKDAYS)

MARKER = re.compile(r"\[\d+\]")


@functools.lru_cache(maxsize=1 << 16)
def _stem(word: str) -> str:
    """A light plural/possessive folding: "talks"→"talk", "China's"→"china"."""
    word = re.sub(r"['’]s$", "", word)
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def tokens(text: str) -> list[str]:
    """``tokens("China's talks")`` → ``["china", "talk"]``."""
    return [_stem(t) for t in _TOKEN.findall(text.lower()) if t not in STOPWORDS]
