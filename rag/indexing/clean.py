"""Text normalisation: Unicode, whitespace, and sentences glued without a space.

The cleaned text is what gets stored, chunked and cited: every character
offset the index keeps points into it.
"""

from __future__ import annotations

import re
import unicodedata

_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_LINE_BREAKS = re.compile(r"\r\n?|[\u2028\u2029\x85]")
_SPACES = re.compile(r"[ \t\u00a0\u3000]+")
_MANY_NEWLINES = re.compile(r"\n{3,}")

# "exchanges.On Monday", "cooperation.”The", "MIIT).The", "the US.Representatives":
# terminal punctuation (and an optional closing quote) directly followed by a
# capitalised word or an opening quote. "U.S." never matches: a single capital
# precedes each of its dots. A straight quote opens only before a word: in
# '"Mike is him!" All' it closes, and no space goes before it.
_GLUED = re.compile(
    r"(?:(?<=[a-z0-9)\]%])|(?<=[A-Z]{2}))([.!?]+)([\"”’»]?)(?=[A-Z][a-z]|[A-Z]{2}|[“‘«]|\"\w)"
)
_URLISH = re.compile(r"(?:https?://|www\.|@)\S*$", re.IGNORECASE)


def _unglue(text: str) -> str:
    def fix(match: re.Match[str]) -> str:
        line_start = text.rfind("\n", 0, match.start()) + 1
        token_start = max(text.rfind(" ", line_start, match.start()) + 1, line_start)
        if _URLISH.search(text[token_start : match.start()]):
            return match.group(0)
        return match.group(1) + match.group(2) + " "

    return _GLUED.sub(fix, text)


def clean_text(raw: str) -> str:
    """Normalise ``raw`` to NFKC, tidy whitespace and split glued sentences.

    Paragraphs stay separated by a blank line; runs of spaces collapse; lines
    are stripped.

    >>> clean_text("  exchanges.On Monday, the U.S.  team\\r\\n\\n\\n\\nleft.")
    'exchanges. On Monday, the U.S. team\\n\\nleft.'
    """
    text = unicodedata.normalize("NFKC", raw).translate(_INVISIBLE)
    text = _LINE_BREAKS.sub("\n", text)
    text = _CONTROL.sub(" ", text)
    text = "\n".join(_SPACES.sub(" ", line).strip() for line in text.split("\n"))
    text = _MANY_NEWLINES.sub("\n\n", text).strip()
    return _unglue(text)
