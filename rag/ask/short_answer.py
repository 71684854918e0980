"""The answer itself: an exact span of a cited sentence, found by its entity label.

Entities of the labels the question wants (:mod:`rag.ask.answer_type`) are taken
from the best sentences; one the question already names is never the answer.
Each remaining entity collects votes from every sentence that holds it,
weighted by the sentence's score and by how close it sits to the question's
words — so the name that several good sentences agree on wins (a multi-hop
question's answer is the entity its pieces of evidence share). A list
question takes every such value of the supporting sentences, in order.

"What did X say" questions are answered with X's quoted words: a quotation in
a sentence naming X, or in a sentence attributed by "he said" right after one.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Protocol, TypeVar

from rag.ask.answer_type import AMOUNTS, PLACES, TITLES, Expected
from rag.ask.query import mentioned_dates
from rag.ask.relative_dates import FUTURE, before_publication
from rag.ask.word_forms import base
from rag.text.nlp import NAMES, Entity, normalise, untitled
from rag.text.sentences import sentence_spans
from rag.text.words import WEEKDAY, tokens

# How far a sentence's score may fall below the best one and still vote.
VOTE_FLOOR = 0.75
# Fit of a time a sentence looks forward to, for a question about the past.
STILL_TO_COME = 0.3
# Weight of a name that reports what a sentence says ("…, Zhao shared") as an answer.
REPORTER = 0.6
VOTERS = 8
AGREEMENT = 0.3
PROMINENCE = 2.0
WINDOW = 60
_AGE = re.compile(r"\bage\b|\baged\b|\byears?[- ]old\b", re.I)
_CURRENCY = "$£€¥₹"
# A span of time ("days", "two weeks", "several decades") says how long, not when.
_DURATION = re.compile(
    r"(?:(?:a|an|\d+|one|two|three|four|five|six|seven|eight|nine|ten|several|many|"
    r"few|a few|some|the)\s+)?(?:seconds|minutes|hours|days|weeks|months|years|decades|"
    r"centuries|seasons|terms)",
    re.I,
)
DURATION_FIT = 0.2
# "Where is X based?": a place the sentence says something is based in weighs this much.
BASED = 2.0
_BASED_AFTER = re.compile(r"[-–]?\s*based\b|\s+headquarters\b", re.I)
_BASED_BEFORE = re.compile(r"\b(?:based|headquartered|headquarters)\s+(?:in|at|out of)\s+$")
# An amount beside the word for what "how much <noun>" measures weighs this much more.
MEASURED = 1.5
AMOUNT_LABELS = frozenset(AMOUNTS)
_CAPITALISED = re.compile(r"[A-Z][\w'’-]*(?:\s+[A-Z][\w'’-]*)+")
# A list's values come from sentences scoring at least this share of the best one.
LIST_FLOOR = 0.9
# A person given the office a who-question asks about weighs this much more; the
# office is looked for this many characters around the name.
TITLED = 2.0
TITLE_WINDOW = 40
# Before an office, a word that makes it another one.
_LESSER = re.compile(r"\b(?:vice|deputy|assistant|acting|former|ex|interim)[\s-]+$", re.I)
# Quotes an answer to "what did X say" gives, at most.
QUOTES = 3
# A quote answers "what did X say about T" when its sentence covers this share of T's words.
TOPIC_SHARE = 0.5
# A person named in a sentence whose subject is the asked-about person, described but
# not named ("The top official … told Commerce Secretary Gina Raimondo"), weighs this.
ACTED_ON = 0.25
_LIST_GAP = re.compile(r"\s*(?:,|,?\s+and|,?\s+or|;)\s*")
_QUOTE = re.compile(r"[“\"]([^”\"]{12,}?)[”\"]")
# Verbs that report what someone said.
_REPORTS = "said says told added wrote stated noted explained announced tweeted posted".split()
_SAID = re.compile(
    rf"\b(?:{'|'.join(_REPORTS)}|warned|argued|according to|insisted|claimed|declared)\b",
    re.I,
)
# A reporting verb right after a name: the name is who tells, not who is told of.
_SAYS_NEXT = re.compile(rf"\s+(?:{'|'.join(_REPORTS)}|shared|confirmed|revealed)\b", re.I)
# Verbs that report words a pronoun said ("she joked", "he playfully added").
_SPOKE = [
    *_REPORTS,
    *"warned joked quipped admitted continued insisted recalled revealed confirmed".split(),
    *"replied argued claimed declared asked".split(),
]
_PRONOUN_SAID = re.compile(rf"\b(?:he|she|they)\s+(?:\w+ly\s+)?(?:{'|'.join(_SPOKE)})\b", re.I)
# Someone else's attribution ("…,” Kelce said", "said Kelce"): a pronoun after it is theirs.
_NAME_SAID = re.compile(
    rf"\b[A-Z][\w’'-]+,?\s+(?:\w+ly\s+)?(?:{'|'.join(_SPOKE)})\b"
    rf"|\b(?:{'|'.join(_SPOKE)})\s+[A-Z][\w’'-]+"
)
_OPENING = ("“", '"')
_REPORTED = re.compile(r"\b(?:said|says|told \w+|warned|argued|stated|noted)\s+(?:that\s+)?", re.I)


class Sentence(Protocol):
    """What this module reads of an engine's candidate sentence."""

    text: str
    start: int  # offset of the sentence in its article
    score: float
    entities: list[Entity]

    @property
    def published(self) -> date | None:
        """The day its article was published, when known."""


S = TypeVar("S", bound=Sentence)


@dataclass
class Pick:
    """A span chosen as (part of) the answer, inside ``sentence``; article offsets."""

    sentence: Sentence
    start: int
    end: int
    text: str
    label: str
    weight: float = 0.0
    votes: float = 0.0
    full: str | None = None  # the name's fullest form when the span is shorter ("Purdy")
    part: int = 0  # which part of a compound question it answers


@dataclass(frozen=True)
class Referent:
    """The person a sentence speaks of without naming them (:mod:`rag.ask.coreference`)."""

    sentence: Sentence  # the sentence that names them
    entity: Entity
    described: bool  # the speaking sentence describes them (others it names are not them)


def _name_words(norm: str) -> list[str]:
    return [w for w in re.split(r"[\s.]+", norm) if w]


def _initials(norm: str) -> str:
    return "".join(w[0] for w in re.split(r"[\s.\-–]+", norm) if w)


def same_name(short: str, full: str, person: bool) -> bool:
    """Whether ``short`` is a shorter form of the name ``full`` (both normalised): its
    surname ("bankman-fried" of "sam bankman-fried"), its first words ("alameda" of
    "alameda research"), or its initials ("sbf")."""
    if short == full:
        return True
    initials = _initials(full)
    if 2 <= len(short) <= 5 and short.isalpha() and len(initials) > 1 and initials == short:
        return True
    a, b = _name_words(short), _name_words(full)
    if not a or len(a) >= len(b):
        return False
    if person:
        return a == b[-len(a) :]
    return a == b[: len(a)] or a == b[-len(a) :]


def _group(norms: dict[str, str], votes: dict[str, float]) -> dict[str, str]:
    """Each name's group: the fullest name among ``norms`` (norm → label) it is a shorter
    form of, the most voted one when several fit ("kelce" of "travis kelce" or "jason
    kelce"); a name fitting none leads its own group."""
    fullest = sorted(norms, key=lambda n: (-len(_name_words(n)), -votes.get(n, 0.0)))
    group: dict[str, str] = {}
    for norm in fullest:
        person = norms[norm] == "PERSON"
        fits = [g for g in dict.fromkeys(group.values()) if same_name(norm, g, person)]
        group[norm] = max(fits, key=lambda g: votes.get(g, 0.0)) if fits else norm
    return group


def _a_name(norm: str) -> bool:
    """Not a tagger's run-on ("SoftBank Corp. SoftBank"): no word said twice."""
    words = [w.strip(".,") for w in _name_words(norm)]
    return len(set(words)) == len(words)


def full_name(pick: Pick, mentions: Sequence[Entity]) -> str | None:
    """The fullest form of the picked name among ``mentions`` (the article's entities),
    the most frequent when several fit; None when the span is already the full name."""
    if pick.label not in NAMES:
        return None
    short = normalise(pick.text)
    person = pick.label == "PERSON"
    if person and " " in short:
        # "Commerce Gina Raimondo" (a title the tagger took in) is no fuller "Gina Raimondo"
        mentions = untitled(list(mentions), {short})
    counts: dict[str, int] = {}
    shown: dict[str, str] = {}
    first: dict[str, int] = {}
    for e in mentions:
        if (
            e.label in NAMES
            # a place's fuller name is a place: "U.S." is no fuller "the U.S. SEC"
            and (pick.label not in PLACES or e.label in PLACES)
            and e.norm != short
            and same_name(short, e.norm, person)
            and _a_name(e.norm)
            and (person or not _a_part_of(short, e.norm))
        ):
            counts[e.norm] = counts.get(e.norm, 0) + 1
            shown.setdefault(e.norm, _display(e.text))
            first[e.norm] = min(first.get(e.norm, e.start), e.start)
    if not counts:
        return None
    if person and _several_people(list(counts)):
        # "Bankman-Fried" in an article naming Sam and Gabe Bankman-Fried: news names the
        # one it is about first and calls only them by surname alone.
        best = min(counts, key=first.__getitem__)
    else:
        best = max(counts, key=lambda n: (counts[n], len(n)))
    return shown[best] if shown[best] != _display(pick.text) else None


_COMPANY = frozenset(
    "inc inc. corp corp. corporation co co. ltd ltd. llc plc holdings group".split()
)


def _a_part_of(short: str, fuller: str) -> bool:
    """Whether ``fuller`` is something of ``short``'s, not its full name: words after it
    make a product, a unit or a form ("OpenAI Personal Data Removal Request", "Amazon
    Echo Buds"), unless they are a company's suffix ("Tesla Inc")."""
    if not fuller.startswith(short + " "):
        return False
    return not set(fuller[len(short) :].split()) <= _COMPANY


def _several_people(names: list[str]) -> bool:
    """Whether full names sharing a surname are of different people: one is not the
    other with a title or an initial more ("Gina Raimondo", "Secretary Gina Raimondo")."""
    return any(
        not (set(a.split()) <= set(b.split()) or set(b.split()) <= set(a.split()))
        for i, a in enumerate(names)
        for b in names[i + 1 :]
    )


def _display(text: str) -> str:
    """A name as shown: one line, no possessive, no dash or quote around it."""
    name = re.sub(r"(?:'s|’s)$", "", " ".join(text.split()))
    return name.strip(" -–—\"“”‘’'()[],.;:")


def named_in(entity_norm: str, question: str) -> bool:
    """Whether the question already names this entity (all its words occur in it)."""
    words = tokens(entity_norm)
    asked = set(tokens(question))
    if not words or entity_norm in question.lower() or set(words) <= asked:
        return True
    # "Gina Raimondo" when the question says "Raimondo"
    last = _name_words(entity_norm)[-1]
    said = re.search(rf"\b{re.escape(last)}\b", question, re.I) if len(words) > 1 else None
    if said and said.group(0)[0].isupper():
        return True
    # "SBF" when the question names Sam Bankman-Fried
    return 2 <= len(entity_norm) <= 5 and any(
        _initials(normalise(run)) == entity_norm for run in _CAPITALISED.findall(question)
    )


def _proximity(sentence: Sentence, entity: Entity, question: str) -> float:
    """0.5 to 1: the share of the question's words found around the entity in the sentence
    (within :data:`WINDOW` characters on either side, the entity itself left out)."""
    at, end = entity.start - sentence.start, entity.end - sentence.start
    around = sentence.text[max(0, at - WINDOW) : at] + " " + sentence.text[end : end + WINDOW]
    return _share(question, around)


def _covered(sentence: Sentence, question: str) -> float:
    """0.5 to 1: the share of the question's words the sentence holds."""
    return _share(question, sentence.text)


def _share(question: str, text: str) -> float:
    """0.5 plus half the share of the question's word stems found in ``text``."""
    asked = stems(question)
    return 0.5 + 0.5 * len(asked & stems(text)) / len(asked) if asked else 0.5


def stems(text: str) -> set[str]:
    """The :func:`stem` of each content word of ``text``."""
    return {stem(w) for w in tokens(text)}


def stem(word: str) -> str:
    """A crude stem, enough to match "meet" with "meeting" and "met", "ship" with
    "shipped", "risk" with "risking" and "China" with "Chinese": an irregular form or a
    country's adjective mapped (:func:`word_forms.base`), else a common ending dropped, then at
    most five letters."""
    word = base(word)
    for ending in ("ing", "ed", "es", "s"):
        if word.endswith(ending) and len(word) - len(ending) >= 3:
            word = word[: -len(ending)]
            if ending in ("ing", "ed") and len(word) > 3 and word[-1] == word[-2] not in "lsz":
                word = word[:-1]  # shipped → ship
            break
    return word[:5]


def _fit(expected: Expected, sentence: Sentence, entity: Entity) -> float:
    """How well the entity's place in the sentence fits the question: a dateline
    ("BEIJING —") answers nothing, nor an age ("at the age of 78") a "when"; a place
    after "at"/"in" answers "where"."""
    at, end = entity.start - sentence.start, entity.end - sentence.start
    after = sentence.text[end : end + 4]
    if entity.text.isupper() and re.match(r"\s*(?:\(\w+\)\s*)?[—–-]", after):
        return 0.0
    if expected.kind == "when" and _AGE.search(entity.text + sentence.text[end : end + 10]):
        return 0.0
    if expected.kind == "when" and _DURATION.fullmatch(entity.text.strip()):
        return DURATION_FIT  # "after days of turmoil", "faces decades in prison": no time
    if expected.future:
        # "When will Xi visit?" is not answered by a visit already made: only a sentence
        # speaking of the future answers, with a time not before its article's day
        if not FUTURE.search(sentence.text):
            return 0.0
        published = sentence.published
        if published and before_publication(entity.text, published, sentence.text):
            return 0.0
    if expected.title and entity.label == "PERSON":
        return _title_fit(expected, sentence, entity)
    if expected.past and FUTURE.search(sentence.text):
        # "When was the first World Cup?" is not answered by the one still to be held
        published = sentence.published
        if published and not before_publication(entity.text, published, sentence.text):
            return STILL_TO_COME
    if expected.head == "age":
        # "how old": "73 years old", "aged 73", "Sutch, 73," — not a year or a span of time
        if _AGE.search(entity.text + sentence.text[end : end + 10]):
            return 1.5
        bare = entity.text.isdigit() and int(entity.text) < 130
        return 1.3 if bare and re.fullmatch(r",\s*", sentence.text[end : end + 2] or ",") else 0.0
    if expected.kind == "how_much" and expected.head and entity.label in AMOUNT_LABELS:
        return MEASURED if _measures(expected.head, sentence, entity) else 1.0
    if expected.kind == "where":
        before = sentence.text[max(0, at - 24) : at].lower()
        if expected.base and (
            _BASED_AFTER.match(sentence.text[end : end + 16]) or _BASED_BEFORE.search(before)
        ):
            return BASED  # "the Dublin-based startup", "headquartered in Dublin"
        return 1.3 if re.search(r"\b(?:at|in|inside|outside|near|to)\s+$", before) else 1.0
    return 1.0


def mentions_title(title: str, text: str) -> bool:
    """Whether ``text`` names the office ``title`` (a key of TITLES) in any of its forms."""
    lowered = text.lower()
    return any(re.search(rf"\b{re.escape(form)}", lowered) for form in TITLES[title])


def _reporting(question: str, sentence: Sentence, entity: Entity) -> float:
    """:data:`REPORTER` for a name right before a reporting verb ("…, Zhao shared in a
    post") when the question asks of no saying: who tells of a thing is seldom who did
    it; else 1."""
    if entity.label not in ("PERSON", "ORG") or _SAID.search(question):
        return 1.0
    after = sentence.text[entity.end - sentence.start :]
    return REPORTER if _SAYS_NEXT.match(after) else 1.0


def _title_fit(expected: Expected, sentence: Sentence, entity: Entity) -> float:
    """:data:`TITLED` when the sentence gives the person the office asked about: as a
    title right before the name ("Commerce Secretary Gina Raimondo"), in an apposition
    before it ("the Chinese minister of culture and tourism, Hu Heping") or after it
    ("Michael Hart, president of AmCham China"); half of that for each share of the
    office's qualifiers ("Commerce") missing there; else 1. An office given to someone
    else earlier in the sentence ("Vice Minister Zhang Guangjun held a meeting with
    Michael Hart") is not his."""
    title = expected.title
    assert title is not None
    at, end = entity.start - sentence.start, entity.end - sentence.start
    lesser = any(_LESSER.search(f"{w} ") for w in expected.title_words)
    preceding = sentence.text[max(0, at - TITLE_WINDOW) : at]
    before = _office_before(preceding, title, lesser)
    if preceding.rstrip().endswith(",") and _SAYS_NEXT.match(sentence.text[end:]):
        before = ""  # "… will be the exchange's new CEO, Zhao shared": Zhao reports it
    after = sentence.text[end : end + TITLE_WINDOW]
    if re.match(r"\s*[,(—–-]", after) is None:
        after = ""  # not an apposition
    elif not lesser and any(
        _LESSER.search(after[: m.start()])
        for form in TITLES[title]
        for m in re.finditer(rf"\b{re.escape(form)}", after, re.I)
    ):
        after = ""  # "Zhang Guangjun, also a vice minister of the MIIT": not the minister
    around = f"{before} {after}"
    if not mentions_title(title, around):
        return 1.0
    forms = set(tokens(" ".join(TITLES[title])))
    qualifiers = set(tokens(" ".join(expected.title_words))) - forms
    if not qualifiers:
        return TITLED
    return TITLED * (0.5 + 0.5 * len(qualifiers & set(tokens(around))) / len(qualifiers))


def _office_before(before: str, title: str, lesser: bool = False) -> str:
    """The words before a name that give it an office: a title and then only capitalised
    words ("… told Commerce Secretary ", "US Secretary of Commerce "), or the phrase an
    apposition's comma closes ("… met with the Chinese minister of culture and tourism,
    "); else nothing. A vice or deputy office counts only when it is the one asked
    about (``lesser``)."""
    for form in TITLES[title]:
        titled = re.search(
            rf"(?i:\b{re.escape(form)})\w*(?:\s+(?:of|for|and|the|[A-Z][\w.’'-]*))*\s+$", before
        )
        if titled:
            if _LESSER.search(before[: titled.start()]) and not lesser:
                return ""  # a vice minister is not the minister
            return before[max(0, titled.start() - TITLE_WINDOW // 2) :]
    if re.search(r"[,(—–]\s*$", before):
        return re.split(r"[,;(—–]", before.rstrip(" ,(—–"))[-1]
    return ""


def _measures(head: str, sentence: Sentence, entity: Entity) -> bool:
    """Whether the amount is said of ``head`` ("How much revenue"): the word before it
    since the last amount ("revenue rose 11% to $9.3 billion", "revenue of $9.3
    billion"), or right after it ("$9.3 billion in revenue") — not the net income's
    "$221 million" beside it."""
    at, end = entity.start - sentence.start, entity.end - sentence.start
    since = max(
        [
            e.end - sentence.start
            for e in sentence.entities
            if e.label in AMOUNT_LABELS and e.end <= entity.start
        ]
        + [at - WINDOW, 0]
    )
    measured = stem(head.lower())
    if any(stem(w) == measured for w in tokens(sentence.text[since:at])):
        return True
    after = re.match(r"\s*(?:in|of)\s+(?:\w+\s+)?(\w+)", sentence.text[end : end + 40])
    return after is not None and stem(after.group(1).lower()) == measured


def _an_amount(expected: Expected, sentence: Sentence, entity: Entity) -> bool:
    """A bare number ("four", "two") is no answer to "how much"; one after a currency
    sign ("£" + "19.5") is."""
    if expected.kind != "how_much" or entity.label != "CARDINAL":
        return True
    at = entity.start - sentence.start
    return at > 0 and sentence.text[at - 1] in _CURRENCY


_WEEKDAY = re.compile(rf"\b({WEEKDAY})\b", re.I)
# A name whose own day (see :func:`_on_asked_day`) is another than the question's weighs
# this much.
OTHER_DAY = 0.3


def _on_asked_day(question: str, sentence: Sentence, entity: Entity) -> float:
    """:data:`OTHER_DAY` when the question asks about a weekday ("Who met Hart on
    Monday?") and the sentence dates what the entity did to other days: the weekdays
    after it ("… after Zhang Guangjun … met with Hart … on Friday"), or when none
    follow, those before it ("On Monday, Zhang Yunming … met …"); else 1."""
    asked = {d.lower() for d in _WEEKDAY.findall(question)}
    if not asked:
        return 1.0
    at, end = entity.start - sentence.start, entity.end - sentence.start
    own = {d.lower() for d in _WEEKDAY.findall(sentence.text[end:])}
    own = own or {d.lower() for d in _WEEKDAY.findall(sentence.text[:at])}
    return OTHER_DAY if own and not own & asked else 1.0


def _specific(entity: Entity) -> float:
    """A day ("Thursday, October 26", "July 14, 2023") says more than a month or a
    bare year ("2023"), which says more than a weekday ("Monday")."""
    if entity.label not in ("DATE", "TIME"):
        return 1.0
    text = entity.text
    if mentioned_dates(text):
        return 1.5
    if any(ch.isdigit() for ch in text) and not re.fullmatch(
        r"(?:the\s+)?\d{4}s?", text.strip(), re.I
    ):
        return 1.25
    return 1.0


def voters(ranked: Sequence[S]) -> list[S]:
    """The sentences that vote: the best :data:`VOTERS` within :data:`VOTE_FLOOR` of the
    best one."""
    if not ranked:
        return []
    floor = ranked[0].score * VOTE_FLOOR if ranked[0].score > 0 else ranked[0].score
    return [s for s in ranked[:VOTERS] if s.score >= floor]


def best_entity(
    expected: Expected,
    ranked: Sequence[Sentence],
    question: str,
    names: Callable[[str], float] | None = None,
    passages: Sequence[Sequence[Entity]] = (),
    asked: str | None = None,
    referents: Mapping[Sentence, Referent] | None = None,
) -> Pick | None:
    """The entity of a wanted label that the best sentences agree on, or None.

    ``names`` gives the share of the question's named entities a sentence mentions; a
    sentence naming all of them votes with full weight, one naming none with half.
    ``passages`` are the entities of each retrieved passage: a name most of them mention
    (the one a multi-hop question's pieces of evidence share) gains up to
    :data:`PROMINENCE`. ``asked`` is the whole question when ``question`` is a part of
    it: no name it gives is the answer. ``referents`` are the people sentences speak of
    without naming them (:mod:`rag.ask.coreference`): each votes with its sentence's
    weight, for the span where it is named."""
    if not expected.labels:
        return None
    votes: dict[str, float] = {}
    best: dict[str, Pick] = {}
    if expected.future:
        # only sentences giving a time to come vote: the best one may tell of the past
        ranked = [
            s
            for s in ranked
            if any(e.label in expected.labels and _fit(expected, s, e) > 0 for e in s.entities)
        ]
    # "Who" asks for a person; an organisation answers only when no person does.
    decay = 0.5 if expected.kind == "who" else 0.15

    def vote(sentence: Sentence, weight: float, named: Sentence, entity: Entity) -> None:
        if names is not None:
            weight *= 0.5 + 0.5 * names(sentence.text)
        votes[entity.norm] = votes.get(entity.norm, 0.0) + weight
        if entity.norm not in best or weight > best[entity.norm].weight:
            best[entity.norm] = _tidy(
                Pick(named, entity.start, entity.end, entity.text, entity.label, weight)
            )

    titled: set[str] = set()  # given the office asked about, with all its qualifiers
    for sentence in voters(ranked):
        seen: set[str] = set()
        meant = referents.get(sentence) if referents else None
        for entity in sentence.entities:
            if entity.label not in expected.labels or named_in(entity.norm, asked or question):
                continue
            if entity.norm in seen or not _an_amount(expected, sentence, entity):
                continue
            seen.add(entity.norm)
            rank = expected.labels.index(entity.label)
            weight = max(sentence.score, 0.01) * (1 - decay * rank)
            weight *= _proximity(sentence, entity, question) * _specific(entity)
            weight *= _on_asked_day(question, sentence, entity)
            weight *= _reporting(question, sentence, entity)
            fit = _fit(expected, sentence, entity)
            weight *= fit
            if expected.title and fit >= TITLED:
                titled.add(entity.norm)
            if meant is not None and meant.described and entity.label == "PERSON":
                weight *= ACTED_ON  # the described person acted on them
            if weight > 0:
                vote(sentence, weight, sentence, entity)
        if meant is None or meant.entity.norm in seen:
            continue
        entity = meant.entity
        if entity.label in expected.labels and not named_in(entity.norm, asked or question):
            weight = max(sentence.score, 0.01) * (1 - decay * expected.labels.index(entity.label))
            vote(sentence, weight * _covered(sentence, question), meant.sentence, entity)
    if not votes:
        return None
    # Shorter forms of one name ("Bankman-Fried", "SBF") vote with its full form.
    group = _group({n: best[n].label for n in votes if best[n].label in NAMES}, votes)
    group |= {n: n for n in votes if n not in group}  # numbers and dates stand alone
    summed: dict[str, float] = {}
    top: dict[str, Pick] = {}
    for norm, g in group.items():
        summed[g] = summed.get(g, 0.0) + votes[norm]
        if g not in top or best[norm].weight > top[g].weight:
            top[g] = best[norm]
    # The best sentence's weight, and a share of the others': agreement helps, but a name
    # repeated in weaker sentences does not outvote the one in the best sentence.
    agreed = {g: top[g].weight + AGREEMENT * (summed[g] - top[g].weight) for g in summed}
    total = dict(agreed)
    if passages:
        held = [{e.norm for e in found if e.label in NAMES} for found in passages]
        every = set().union(*held)
        for g in total:
            if top[g].label not in NAMES:
                continue  # a date or number repeated across passages is no topic
            person = top[g].label == "PERSON"
            forms = {n for n in every if same_name(n, g, person) or same_name(g, n, person)}
            mentioning = sum(bool(forms & norms) for norms in held)
            total[g] *= 1 + PROMINENCE * mentioning / len(passages)
    if titled:
        # Someone the evidence gives the office asked about answers "who is the
        # minister of …", however often others are mentioned.
        given = {group[n] for n in titled}
        total = {g: v for g, v in total.items() if g in given}
    winner = max(total, key=lambda g: (total[g], top[g].weight))
    pick = top[winner]
    pick.votes = agreed[winner]  # what the answerability model was fitted on
    if pick.label in NAMES and normalise(pick.text) != winner and _a_name(winner):
        pick.full = _display(best[winner].text)
    return pick


def _groups(entities: list[Entity], sentence: Sentence) -> list[list[Entity]]:
    """The entities split into enumerations: runs joined by commas, "and" or "or"."""
    groups: list[list[Entity]] = []
    for entity in sorted(entities, key=lambda e: e.start):
        if groups:
            last = groups[-1][-1]
            gap = sentence.text[last.end - sentence.start : entity.start - sentence.start]
            if _LIST_GAP.fullmatch(gap):
                groups[-1].append(entity)
                continue
        groups.append([entity])
    return groups


def every_entity(
    expected: Expected, chosen: Sequence[Sentence], question: str, asked: str | None = None
) -> list[Pick]:
    """For a list question: every wanted value of the supporting sentences, once, in order."""
    if not expected.labels:
        return []
    picks: list[Pick] = []
    seen: set[str] = set()
    top = max((s.score for s in chosen), default=0.0)
    for sentence in chosen:
        if picks and sentence.score < LIST_FLOOR * top:
            break
        wanted = _coordinated(
            [e for e in sentence.entities if e.label in expected.labels],
            sentence.entities,
            sentence,
        )
        wanted = [e for e in wanted if not named_in(e.norm, asked or question)]
        # A sentence that enumerates values ("IBM, Microsoft and Pfizer") gives those,
        # not every other name it happens to hold.
        listed = [g for g in _groups(wanted, sentence) if len(g) > 1]
        if listed:
            wanted = max(listed, key=len)
        for entity in wanted:
            if named_in(entity.norm, asked or question) or entity.norm in seen:
                continue
            seen.add(entity.norm)
            picks.append(_tidy(Pick(sentence, entity.start, entity.end, entity.text, entity.label)))
    return picks


def _tidy(pick: Pick) -> Pick:
    """The span as an answer: an amount with its currency sign (:func:`_with_currency`),
    a name without the possessive the tagger kept ("Janet Yellen’s trip" → "Janet
    Yellen"; the span shrinks, so it is still exact)."""
    possessive = re.search(r"(?:'s|’s|')$", pick.text)
    if pick.label in NAMES and possessive and possessive.start() > 0:
        pick.end -= len(possessive.group())
        pick.text = pick.text[: possessive.start()]
    return _with_currency(pick)


def _with_currency(pick: Pick) -> Pick:
    """An amount keeps its currency sign when the tagger left it out ("$" + "679")."""
    at = pick.start - pick.sentence.start
    if pick.label in ("MONEY", "CARDINAL") and at > 0:
        sign = pick.sentence.text[at - 1]
        if sign in _CURRENCY:
            pick.start -= 1
            pick.text = sign + pick.text
            pick.label = "MONEY"
    return pick


def _coordinated(wanted: list[Entity], every: list[Entity], sentence: Sentence) -> list[Entity]:
    """``wanted`` plus the names listed with them ("IBM, Microsoft and Pfizer": Pfizer too,
    whatever label the tagger gave it), in text order."""
    chosen = {(e.start, e.end): e for e in wanted}
    grew = True
    while grew and chosen:
        grew = False
        for e in every:
            if (e.start, e.end) in chosen or e.label not in NAMES:
                continue
            for w in list(chosen.values()):
                gap = (
                    sentence.text[e.end - sentence.start : w.start - sentence.start]
                    if e.end <= w.start
                    else sentence.text[w.end - sentence.start : e.start - sentence.start]
                )
                if _LIST_GAP.fullmatch(gap):
                    chosen[(e.start, e.end)] = e
                    grew = True
                    break
    return sorted(chosen.values(), key=lambda e: e.start)


def _speaker_words(speaker: str) -> set[str]:
    """The words that name the speaker in an article: surname and full name."""
    words = tokens(speaker)
    return set(words[-1:]) if words else set()


_ABOUT = re.compile(
    r"\babout\s+(.+?)\s*(?:\b(?:during|at|in|on|after|before|when|while)\b.*)?\??$", re.I
)


def topic_words(question: str) -> set[str]:
    """The stems of what a "what did X say about T" question asks about (T, without the
    occasion: "electric vehicle tariffs during her Beijing visit" → electric, vehicle,
    tariff); empty when it names no topic."""
    match = _ABOUT.search(question.strip())
    return stems(match.group(1)) if match else set()


def quotes(
    speaker: str,
    ranked: Sequence[Sentence],
    before: Mapping[int, str],
    limit: int = QUOTES,
    topic: set[str] | frozenset[str] = frozenset(),
    headlines: Mapping[int, str] | None = None,
) -> list[Pick]:
    """The speaker's quoted (or reported) words in the best sentences.

    ``before`` maps a sentence's start offset to its passage's text before it. A
    sentence that does not name the speaker is theirs when the speaker is the last
    person that text names before anyone else is quoted (:func:`_last_speaker`) and it
    attributes by pronoun ("…,” she joked", "She playfully added: “…") or goes on with
    a quote ("“I want to give credit to the All Blacks." after "“…,” Kolisi said.", or
    a sentence inside a quote the paragraph opened). With ``topic`` (stems, see
    :func:`topic_words`), only words said where the sentence, the one before it or its
    article's headline (``headlines``, by start offset) mention at least
    :data:`TOPIC_SHARE` of the topic's words count: a quote about something else does
    not answer ("Taiwan" alone is not "Taiwan's presidential election"), and what
    Merrick Garland says in an article headed "Binance to pay $4.3B in fines" is said
    about Binance.
    """
    wanted = _speaker_words(speaker)
    picks: list[Pick] = []
    for sentence in ranked:
        context = before.get(sentence.start, "")
        named = wanted <= set(tokens(sentence.text))
        pronoun = _PRONOUN_SAID.search(sentence.text) is not None
        own = pronoun or _SAID.search(sentence.text) is not None
        going_on = not own and continues_quote(sentence.text, context)
        if not named and not (pronoun or going_on):
            continue
        # the passage's sentences before it, split once, when they are read
        earlier = [context[a:b] for a, b in sentence_spans(context)] if topic or not named else []
        if not named and not _last_speaker(wanted, earlier):
            continue
        if topic:
            headline = (headlines or {}).get(sentence.start, "")
            previous = earlier[-1] if earlier else ""
            if len(topic & stems(f"{headline} {previous} {sentence.text}")) < (
                TOPIC_SHARE * len(topic)
            ):
                continue
        pick = quoted(sentence, going_on and not named)
        if pick is None and named and _SAID.search(sentence.text):
            pick = _reported(sentence)
        if pick is not None:
            picks.append(pick)
        if len(picks) >= limit:
            break
    return picks


def quoted(sentence: Sentence, going_on: bool) -> Pick | None:
    """The first quotation in the sentence; else the rest of the sentence after a
    quotation mark that it opens and does not close (“She added: “Football is …"), or
    when it goes on with a quote (``going_on``), all of it."""
    text = sentence.text
    match = _QUOTE.search(text)
    if match:
        a, b = match.span(1)
        b = a + len(match.group(1).rstrip(" ,;:"))
    else:
        opened = max(text.rfind("“"), text.rfind('"') if text.count('"') % 2 else -1)
        if opened >= 0 and "”" not in text[opened:]:
            a = opened + 1
        elif going_on:
            a = len(text) - len(text.lstrip())
        else:
            return None
        b = len(text.rstrip().rstrip('”"').rstrip(" ,;:"))
        if b - a < 12:
            return None
    return Pick(sentence, sentence.start + a, sentence.start + b, text[a:b], "QUOTE")


def _reported(sentence: Sentence) -> Pick | None:
    """What the sentence reports the speaker said, unquoted ("…, said that …")."""
    said = _REPORTED.search(sentence.text)
    if not said:
        return None
    a = said.end()
    b = len(sentence.text.rstrip().rstrip(".!"))
    if b - a <= 12:
        return None
    return Pick(sentence, sentence.start + a, sentence.start + b, sentence.text[a:b], "QUOTE")


def continues_quote(text: str, context: str) -> bool:
    """Whether a sentence is more of a quote: it opens with a quotation mark, or its
    paragraph opened a quote before it that has not closed."""
    if text.lstrip().startswith(_OPENING):
        return True
    paragraph = context[context.rfind("\n") + 1 :]
    return paragraph.count("“") > paragraph.count("”") or paragraph.count('"') % 2 == 1


def _last_speaker(wanted: set[str], earlier: list[str]) -> bool:
    """Whether the speaker (``wanted``: :func:`_speaker_words`) is named in ``earlier``
    (the passage's sentences before a sentence) after anyone else is last quoted there:
    walking back sentence by sentence, their name comes before another name's
    attribution."""
    if not wanted:
        return False
    for sentence in reversed(earlier):
        if wanted <= set(tokens(sentence)):
            return True
        if _NAME_SAID.search(sentence):
            return False
    return False
