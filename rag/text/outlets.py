"""Outlet names as people write them: "Cnbc | World Business News Leader" is CNBC.

Web pages and scraped corpora carry an outlet's site name with its tagline or
section ("The Roar | Sports Writers Blog", "The Independent - Sports") and in
odd case ("Cnbc"). Readers name the outlet ("CNBC", "The Independent"). An
index keeps the name it was given; these helpers map both forms onto one
*outlet key*, at query time, so a stored index needs no rebuild::

    >>> outlet_name("Cnbc | World Business News Leader"), outlet_name("FOX News - Health")
    ('CNBC', 'FOX News')
    >>> outlet_key("cnbc"), outlet_key("The Roar | Sports Writers Blog")
    ('cnbc', 'the roar')
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable

# Outlets known by their initials, which site names often write in title case ("Cnbc").
ACRONYMS = frozenset(
    "abc afp ap bbc cbc cbs cnbc cnn espn ft itv msnbc nbc npr nyt pbs rte sbs sky upi wsj".split()
)
# " | tagline", " - section": a spaced separator (a hyphen inside a word is part of the name).
_TAGLINE = re.compile(r"\s+[|\-–—]\s+")
_HOST = re.compile(r"^(?:https?://)?(?:www\.)?([\w-]+)(?:\.[\w-]+)+/?$", re.I)


def outlet_name(raw: str) -> str:
    """The outlet a site name stands for: its tagline or section dropped, initials in
    capitals. A name without either comes back as it was (spaces tidied)."""
    name = " ".join(raw.split())
    head = _TAGLINE.split(name, maxsplit=1)[0]
    words = (head or name).split()
    return " ".join(w.upper() if w.lower() in ACRONYMS else w for w in words)


def outlet_key(raw: str) -> str:
    """What two names of one outlet share: ``outlet_name`` without case."""
    return outlet_name(raw).casefold()


def host_stem(raw: str) -> str | None:
    """ "cnbc" for a host name such as "cnbc.com" or "www.cnbc.com"; None for other names."""
    match = _HOST.match(raw.strip())
    return match.group(1).casefold() if match else None


def outlet_keys(raw: str) -> set[str]:
    """Every key one outlet's names share: its ``outlet_key``, that key without spaces
    or punctuation, with and without a leading "the", and a host name's stem — so "The
    Verge", "theverge.com" and "the verge" find one another, as do "The Independent"
    and "independent.co.uk"."""
    key = outlet_key(raw)
    keys = {key, re.sub(r"[\W_]+", "", key), re.sub(r"[\W_]+", "", re.sub(r"^the\s+", "", key))}
    stem = host_stem(raw)
    if stem:
        keys |= {stem, re.sub(r"^the(?=\w)", "", stem)}
    return {k for k in keys if k}


def closest_outlets(wanted: str, outlets: Iterable[str], limit: int = 3) -> list[str]:
    """The outlets (display names) nearest to a name that matched none: spelling first,
    then names containing it or contained in it.

    >>> closest_outlets("CNBX", ["CNBC", "CNN", "The Verge"])
    ['CNBC', 'CNN']
    """
    names = sorted(set(outlets))
    by_key = {n.casefold(): n for n in names}
    key = outlet_key(wanted)
    close = difflib.get_close_matches(key, list(by_key), n=limit, cutoff=0.5)
    within = [k for k in by_key if k not in close and (key in k or k in key)]
    return [by_key[k] for k in [*close, *within][:limit]]
