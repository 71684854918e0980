"""Which sentences are fit to be answers.

A passage shown around a citation keeps everything, but an answer is never
built from a photo caption or credit, a byline, a heading, a question, a
lead-in ending in a colon, or a fragment: they state nothing a reader can take
away ("Getty Images | Reuters", "WHAT HAPPENS NEXT", "Here's what we know:").

>>> unfit("Former FTX CEO Sam Bankman-Fried in New York, January 3. REUTERS/David Dee Delgado")
'a photo caption or credit'
>>> unfit("Why does this matter?"), unfit("He said the talks went well.")
('a question', None)
"""

from __future__ import annotations

import re

_CLOSERS = "\"”’')]»"
_CREDIT = re.compile(
    r"getty images|\bap photo\b|\breuters/|\bafp via\b|\bafp/|\bphoto(?:graph)?(?: credit)?\s*:|"
    r"\bimage(?: credit)?\s*:|\bcredit\s*:|\bphoto by\b|\bfile photo\b|\billustration\s*:|"
    r"\bpictured\s*:|\bcourtesy of\b|\bshutterstock\b|\bsource\s*:|\(photo\b|\(image\b|"
    r"\|\s*(?:reuters|ap|afp|getty)\b|\bvia getty\b|\bphoto illustration\b|"
    r"\((?:left|right|center|centre|middle|top|bottom|pictured)\)|\bcourtroom sketch\b|"
    r"^combination (?:photo|picture|image|"
    r"of|showing)\b|^(?:file|left|right|top|above|below)\s*[-:(]",
    re.I,
)
_BYLINE = re.compile(
    r"^(?:by|written by|reporting by|editing by|additional reporting by|compiled by)\s+[A-Z]"
    r"|staff writer|^(?:updated|published|posted|last updated)\b|\bmin(?:ute)? read\b",
    re.I,
)
_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*")
# A line without a full stop whose words of four letters or more are capitalised more
# often than this is a headline ("Kyle Larson Believes NASCAR’s … Deal Is a Step in
# the Right Direction Despite Fans’ Backlash").
TITLE_CASE = 0.7


def _ends_in(text: str) -> str:
    return text.rstrip().rstrip(_CLOSERS)[-1:]


def unfit(text: str) -> str | None:
    """Why ``text`` is not fit to answer with (a short reason), or None when it is."""
    words = _WORD.findall(text)
    end = _ends_in(text)
    if _CREDIT.search(text):
        return "a photo caption or credit"
    if _BYLINE.search(text) and len(words) <= 14:
        return "a byline"
    if " · " in text or (" | " in text and end not in ".!"):
        return "a byline or credit"
    if end == "?":
        return "a question"
    if end == ":":
        return "a lead-in"
    if len(words) < 5:
        return "a fragment"
    letters = [c for c in text if c.isalpha()]
    if letters and sum(c.isupper() for c in letters) / len(letters) > 0.7:
        return "a heading"
    if end not in ".!…" and len(words) <= 14:
        return "a heading"
    long_words = [w for w in words if len(w) >= 4]
    if end not in ".!…" and long_words:
        capitalised = sum(w[0].isupper() for w in long_words) / len(long_words)
        if capitalised > TITLE_CASE:
            return "a heading"  # a headline in title case, however long
    if not any(w.islower() for w in words):
        return "a fragment"
    return None


_CAPTION_VERB = re.compile(
    r"\b(?:arrives?|speaks?|attends?|walks?|poses?|looks? on|gestures?|is seen|are seen|"
    r"holds?|waves?|leaves?|reacts?|listens?|sits?|stands?|celebrates?|delivers?|"
    r"pictured|shown|seen)\b",
    re.I,
)
_DATED_END = re.compile(
    r",\s+(?:jan|feb|march|april|may|june|july|aug|sept?|oct|nov|dec)[a-z]*\.?\s+\d{1,2},"
    r"\s+\d{4}\.?$",
    re.I,
)


def unfit_in_context(text: str, following: str) -> str | None:
    """:func:`unfit`, and a photo caption recognised by the credit line after it
    ("… arrives at court in New York, U.S., October 26, 2023." + "REUTERS/Eduardo Munoz")
    or by its shape (a present-tense scene ending in the photo's date)."""
    reason = unfit(text)
    if reason is not None:
        return reason
    if following and unfit(following) == "a photo caption or credit" and len(following) < 80:
        return "a photo caption"
    if _DATED_END.search(text.strip()) and _CAPTION_VERB.search(text):
        return "a photo caption"
    return None
