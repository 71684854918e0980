"""Who's who: the people, organisations and places the indexed articles mention.

Read from the entities ``rag index`` stores (:mod:`rag.text.nlp`). The forms of one
name are one entity: a longer form ending in a known name ("Commerce Secretary
Gina Raimondo" → "Gina Raimondo") and a surname or single word that ends exactly
one person's full name ("Raimondo" → "Gina Raimondo", "Xi" → "Xi Jinping"). A
surname several people share ("Smith") stays apart and is not listed. An entity
is shown by its most frequent full form.

    entities = listing(settings, kind="PERSON")      # most mentioned first
    view = profile(settings, "Raimondo")              # its articles over time and company
"""

from __future__ import annotations

import re
import sqlite3
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from rag.catalog import open_manifest
from rag.errors import FilterError, NotFoundError, StoreError
from rag.indexing.manifest import Manifest, connect_read_only
from rag.settings import Settings
from rag.text.nlp import normalise

# What `--type` takes, and the entity labels each stands for.
KINDS: dict[str, tuple[str, ...]] = {
    "PERSON": ("PERSON",),
    "ORG": ("ORG",),
    "PLACE": ("GPE", "LOC", "FAC"),
}
_KIND_OF = {label: kind for kind, labels in KINDS.items() for label in labels}
# A single word joins a person's full name only when at least this share of the articles
# naming it name the person in full too, as news writing does ("Gina Raimondo …
# Raimondo said"); "Apple" and "Canada" are not short for "Magic Keyboard Apple" and
# "Matt Canada".
INTRODUCED = 0.5
# The entities an entity appears with most, shown in its profile.
COMPANY = 10


@dataclass
class Entity:
    """One person, organisation or place across the articles."""

    name: str  # its most frequent full form, as written
    kind: str  # PERSON | ORG | PLACE
    articles: int  # articles mentioning it
    mentions: int
    variants: list[str] = field(default_factory=list)  # the other forms, normalised


@dataclass
class Profile:
    """An entity's articles, oldest first, and the entities sharing most articles with it."""

    entity: Entity
    articles: list[dict[str, Any]]  # id, title, source, published_at, path, mentions
    appears_with: list[dict[str, Any]]  # name, kind, articles (shared)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class _Group:
    kind: str
    norms: set[str] = field(default_factory=set)
    forms: Counter[str] = field(default_factory=Counter)
    articles: Counter[str] = field(default_factory=Counter)  # article id → mentions
    ambiguous: bool = False  # a surname several people share


# The groups of the last index read, by manifest and generation: the app's Library and
# Who's who pages ask on every run, and the index changes only when `rag index` ran.
_cache: dict[tuple[str, int], dict[tuple[str, str], _Group]] = {}


def _grouped(settings: Settings) -> dict[tuple[str, str], _Group]:
    """:func:`_groups` of the index's entities, read again only after the index changed."""
    path = settings.index_dir / settings.collection_name / Manifest.FILE
    if not path.exists():
        return {}
    key = (str(path.resolve()), _generation(path))
    found = _cache.get(key)
    if found is None:
        found = _groups(_rows(path))
        _cache.clear()
        _cache[key] = found
    return found


def _generation(path: Path) -> int:
    try:
        db = connect_read_only(path)
        try:
            row = db.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()
        finally:
            db.close()
    except sqlite3.Error:
        return -1
    return int(row[0]) if row else 0


def _rows(path: Path) -> list[tuple[str, str, str, str]]:
    """(article_id, label, text, norm) of every person, organisation and place."""
    marks = ",".join("?" for _ in _KIND_OF)
    try:
        db = connect_read_only(path)
        try:
            rows = db.execute(
                f"SELECT article_id, label, text, norm FROM entities WHERE label IN ({marks})",
                list(_KIND_OF),
            ).fetchall()
        finally:
            db.close()
    except sqlite3.OperationalError as exc:
        if "no such table" in str(exc):
            return []
        raise StoreError(f"cannot read entities from the manifest {path}: {exc}") from exc
    except sqlite3.Error as exc:
        raise StoreError(f"cannot read entities from the manifest {path}: {exc}") from exc
    return [(str(a), str(b), str(c), str(d)) for a, b, c, d in rows]


def _groups(rows: Iterable[tuple[str, str, str, str]]) -> dict[tuple[str, str], _Group]:
    """The rows' names, their forms joined (see the module's docstring); keyed by
    (kind, the norm the group is known by). A name's kind is the one most of its
    mentions are tagged with (the small tagger calls a name a person in one sentence
    and an organisation in the next)."""
    by_norm: dict[str, _Group] = {}
    kinds: dict[str, Counter[str]] = defaultdict(Counter)
    for article_id, label, text, norm in rows:
        if not norm:
            continue
        group = by_norm.get(norm) or by_norm.setdefault(norm, _Group("", {norm}))
        group.forms[" ".join(text.split()).removesuffix("'s").removesuffix("’s")] += 1
        group.articles[article_id] += 1
        kinds[norm][_KIND_OF[label]] += 1
    keyed: dict[tuple[str, str], _Group] = {}
    for norm, group in by_norm.items():
        group.kind = kinds[norm].most_common(1)[0][0]
        keyed[(group.kind, norm)] = group
    target: dict[tuple[str, str], tuple[str, str]] = {}
    for kind, norm in keyed:
        words = norm.split()
        # "commerce secretary gina raimondo" → the longest known name it ends with
        for cut in range(1, len(words) - 1):
            tail = " ".join(words[cut:])
            home = next((k for k in ((kind, tail), ("PERSON", tail)) if k in keyed), None)
            if home is not None:
                target[(kind, norm)] = home
                break
    by_last: dict[tuple[str, str], list[str]] = defaultdict(list)
    by_first: dict[tuple[str, str], list[str]] = defaultdict(list)
    for kind, norm in keyed:
        if " " in norm and (kind, norm) not in target:
            by_last[(kind, norm.rsplit(" ", 1)[1])].append(norm)
            by_first[(kind, norm.split(" ", 1)[0])].append(norm)
    ambiguous: set[tuple[str, str]] = set()
    person = "PERSON"
    for kind, norm in keyed:
        if " " in norm:
            continue
        # "raimondo" → "gina raimondo" (whatever the tagger called "Raimondo" alone); a
        # family name written first ("xi" → "xi jinping") when no full name ends with it.
        # Only people: "twitter" is not "trump's twitter", nor "york" "new york".
        full = by_last.get((person, norm)) or by_first.get((person, norm), [])
        if len(full) == 1 and _introduced(keyed[(kind, norm)], keyed[(person, full[0])]):
            target[(kind, norm)] = (person, full[0])
        elif full and kind == person:
            ambiguous.add((kind, norm))  # "smith": one of several people
    merged: dict[tuple[str, str], _Group] = {}
    for key, group in keyed.items():
        home = key
        while home in target:
            home = target[home]
        into = merged.setdefault(home, _Group(home[0]))
        into.norms |= group.norms
        into.forms.update(group.forms)
        into.articles.update(group.articles)
        into.ambiguous = key in ambiguous
    return merged


def _introduced(short: _Group, full: _Group) -> bool:
    """Whether the articles naming ``short`` mostly name ``full`` too (:data:`INTRODUCED`)."""
    shared = sum(1 for article in short.articles if article in full.articles)
    return shared >= INTRODUCED * len(short.articles)


def _entity(key: tuple[str, str], group: _Group) -> Entity:
    home = key[1]
    full = [f for f, _ in group.forms.most_common() if normalise(f) == home]
    name = full[0] if full else group.forms.most_common(1)[0][0]
    return Entity(
        name=name,
        kind=group.kind,
        articles=len(group.articles),
        mentions=sum(group.articles.values()),
        variants=sorted(group.norms - {home}),
    )


def _a_name(name: str) -> bool:
    """Whether a tagged span reads as a name: capitalised, with a letter beyond its
    first ("n’t" and "s" are the tagger's slips)."""
    shown = re.sub(r"^(?:the|a|an)\s+", "", name, flags=re.I)
    return len(shown) > 1 and (shown[0].isupper() or shown[0].isdigit())


def _check_kind(kind: str | None) -> tuple[str, ...]:
    if kind is None:
        return tuple(KINDS)
    wanted = kind.upper()
    if wanted not in KINDS:
        raise FilterError(f"no entity type {kind!r}; use one of: {', '.join(KINDS)}")
    return (wanted,)


def listing(settings: Settings, kind: str | None = None, limit: int = 50) -> list[Entity]:
    """The entities of ``kind`` (PERSON, ORG, PLACE; all when None), those mentioned by
    the most articles first; surnames several people share, and spans that are no names
    ("n’t"), left out."""
    kinds = _check_kind(kind)
    groups = _grouped(settings)
    found = [
        e
        for e in (_entity(k, g) for k, g in groups.items() if g.kind in kinds and not g.ambiguous)
        if _a_name(e.name)
    ]
    found.sort(key=lambda e: (-e.articles, -e.mentions, e.name.lower()))
    return found[:limit]


def profile(settings: Settings, name: str, kind: str | None = None) -> Profile:
    """The entity called ``name`` (any of its forms, any case): its articles oldest first
    and the entities appearing in most of the same articles."""
    kinds = _check_kind(kind)
    wanted = normalise(name)
    groups = _grouped(settings)
    matches = [(key, g) for key, g in groups.items() if g.kind in kinds and wanted in g.norms]
    if not matches:
        close = sorted(
            (_entity(k, g) for k, g in groups.items() if g.kind in kinds and wanted in k[1]),
            key=lambda e: -e.articles,
        )[:3]
        hint = f"; did you mean {', '.join(e.name for e in close)}?" if close else ""
        raise NotFoundError(f"no indexed article mentions {name!r} as a named entity{hint}")
    key, group = max(matches, key=lambda m: len(m[1].articles))
    entity = _entity(key, group)
    with open_manifest(settings) as manifest:
        stored = {a.id: a for a in manifest.articles()} if manifest else {}
    articles = [
        {
            "id": article_id,
            "title": stored[article_id].title,
            "source": stored[article_id].source,
            "published_at": stored[article_id].published_at,
            "path": stored[article_id].path,
            "mentions": n,
        }
        for article_id, n in group.articles.items()
        if article_id in stored
    ]
    articles.sort(key=lambda a: (a["published_at"] or "9999", a["title"]))
    own = set(group.articles)
    shared = [
        (len(own & set(g.articles)), other, g)
        for other, g in groups.items()
        if other != key and own & set(g.articles)
    ]
    shared.sort(key=lambda s: (-s[0], -len(s[2].articles), s[1][1]))
    company = [
        {"name": _entity(other, g).name, "kind": g.kind, "articles": n}
        for n, other, g in shared[:COMPANY]
    ]
    return Profile(entity, articles, company)
