"""What kind of answer a question wants: the entity labels that can answer it.

"Who …" wants a person, "Where …" a place, "How much …" an amount of money
or a share, "Which company …" an organisation, "What did X say …" X's quoted
words. The labels are spaCy's (OntoNotes) entity labels; ``QUOTE`` stands for
quoted speech. A question whose answer is not a named thing ("Why …", "What
is …") wants no particular label and is answered with sentences alone.

>>> expected_answer("Where did He Lifeng and Gina Raimondo meet?").labels
('FAC', 'GPE', 'LOC')
>>> expected_answer("What did Merrick Garland say about Binance?").speaker
'Merrick Garland'
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.ask.query import asks_for_list, question_kind

PEOPLE = ("PERSON",)
ORGANISATIONS = ("ORG",)
PLACES = ("FAC", "GPE", "LOC")
TIMES = ("DATE", "TIME")
COUNTS = ("CARDINAL", "QUANTITY")
AMOUNTS = ("MONEY", "PERCENT", "QUANTITY", "CARDINAL")
MONEY = ("MONEY", "CARDINAL")  # a bare number answers only after a currency sign
_MONEY_WORDS = re.compile(
    r"\b(?:worth|cost|costs|pay|paid|pays|price|priced|spend|spent|fine|fined|raise|raised|"
    r"earn|earned|earns|salary|fee|fees|budget|valued|valuation|charge|charged|sell for|"
    r"sold for|bought for|revenue|money)\b",
    re.I,
)

# Head nouns of "which/what X" questions, by the labels that answer them.
_HEADS: list[tuple[tuple[str, ...], str]] = [
    (
        PEOPLE,
        "person people individual man woman official officials minister ministers executive "
        "executives ceo chief founder president leader leaders spokesperson spokesman "
        "spokeswoman judge senator senators lawmaker lawmakers player players coach athlete "
        "quarterback actor actress singer star candidate governor secretary ambassador envoy "
        "director manager chairman chairwoman chair analyst investor billionaire entrepreneur "
        "author writer journalist reporter scientist researcher economist prosecutor lawyer "
        "attorney defendant witness member members representative representatives rapper "
        "musician artist boxer fighter driver pitcher receiver host mayor premier chancellor "
        "commissioner",
    ),
    (
        (*ORGANISATIONS, "PRODUCT"),
        "company companies firm firms organisation organization organisations organizations "
        "agency agencies bank banks platform platforms exchange startup startups business "
        "businesses group groups team teams club clubs outlet outlets publication network "
        "brand brands retailer retailers manufacturer maker makers drugmaker carmaker "
        "automaker developer studio label party parties ministry ministries department "
        "regulator regulators court union university universities school entity entities "
        "sportsbook sportsbooks operator operators service services app apps website site "
        "airline fund funds chamber commission committee body institution institutions "
        "authority authorities watchdog lender lenders insurer insurers broker "
        "conglomerate government governments",
    ),
    (
        PLACES,
        "country countries city cities state states place places region venue stadium "
        "location locations town province capital arena",
    ),
    (TIMES, "day date year month time week season"),
    (
        ("PRODUCT", "ORG", "WORK_OF_ART"),
        "product products model models device devices phone game games console car vehicle "
        "chatbot chatbots assistant tool tools software smartphone smartphones laptop tablet "
        "headset gadget drug drugs vaccine",
    ),
    (
        ("WORK_OF_ART", "PRODUCT", "ORG"),
        "film films movie movies show shows series book books song songs album albums "
        "documentary documentaries podcast podcasts novel novels",
    ),
    (("EVENT",), "event events tournament competition conference summit war"),
    (("LAW",), "law laws act bill regulation regulations rule treaty"),
    (("NORP",), "nationality nationalities"),
]
_HEAD_LABELS = {noun: labels for labels, nouns in _HEADS for noun in nouns.split()}
# Offices and titles an article states when it means them ("Commerce Secretary Gina
# Raimondo", "Michael Hart, president of AmCham"), with the other words it uses for them.
TITLES: dict[str, tuple[str, ...]] = {
    "secretary": ("secretary",),
    "minister": ("minister",),
    "senator": ("senator", "sen."),
    "ceo": ("ceo", "chief executive"),
    "executive": ("chief executive", "ceo", "executive"),
    "president": ("president",),
    "chairman": ("chairman", "chairwoman", "chair", "chairperson"),
    "chairwoman": ("chairman", "chairwoman", "chair", "chairperson"),
    "governor": ("governor", "gov."),
    "ambassador": ("ambassador",),
    "judge": ("judge", "justice"),
    "prosecutor": ("prosecutor", "attorney"),
    "founder": ("founder", "co-founder", "founded"),
    "spokesperson": ("spokesperson", "spokesman", "spokeswoman"),
    "spokesman": ("spokesperson", "spokesman", "spokeswoman"),
    "spokeswoman": ("spokesperson", "spokesman", "spokeswoman"),
    "mayor": ("mayor",),
    "premier": ("premier",),
    "chancellor": ("chancellor",),
    "commissioner": ("commissioner",),
    "coach": ("coach",),
}

_WHICH = re.compile(
    r"\b(?:which|what|whose)\s+(?:(?:[a-z]+[- ])?(?:[a-z]+(?:'s|’s)?)\s+)?([a-z]+)\b|"
    r"\bname (?:the|a|an|one|two|three)\s+(?:[a-z]+\s+)?([a-z]+)\b|"
    r"^(?:who|what)\s+(?:is|was|are|were)\s+(?:the|a|an|[a-z][\w.&-]*(?:'s|’s))\s+"
    r"(?:[a-z]+[- ])?([a-z]+)\b",
    re.I,
)
_SAY = re.compile(
    r"^(?:what|how)\s+(?:did|does|do|has|have|had|was|is)\s+(.+?)\s+"
    r"(?:say|said|tell|told|claim|claimed|warn|warned|write|wrote|argue|argued|describe|"
    r"described|announce|announced|state|stated|add|comment|comments|reveal|revealed|"
    r"think|thinks|respond|responded|react|reacted)\b",
    re.I,
)
_ACCORDING = re.compile(r"^according to\s+([^,]+),", re.I)
_HOW_MUCH = re.compile(
    r"^how much\b|\bwhat (?:is|was|were|are) the (?:price|cost|value|amount|fine|salary|"
    r"valuation|revenue|budget)\b|\bhow much (?:did|does|do|will|would|has|have|is|was)\b|"
    r"\bwhat (?:percentage|share|proportion|percent|amount|price|sum|salary|fee|fine|pay)\b|"
    r"\bby how much\b",
    re.I,
)
# "What is/was X's new album called / named / titled?": the name of the last noun.
_CALLED = re.compile(
    r"^what\s+(?:is|was|are|were|will)\s+.*?\b([a-z]+)\s+(?:be\s+)?(?:called|named|titled)\s*\??$",
    re.I,
)
NAMED = ("WORK_OF_ART", "PRODUCT", "ORG", "EVENT", "LAW")
_WHO_IS_NAME = re.compile(r"^[Ww]ho\s+(?:is|was|are|were)\s+(?:[A-Z][\w.'’-]*\s*){1,4}\??$")
# "Who will replace Kenwright?", "Which company will buy …?": someone still to come.
_FUTURE_WHO = re.compile(r"^(?:who|whom|which(?:\s+[\w-]+){1,3}?)\s+(?:will|shall)\b", re.I)
# "When was the first World Cup?": a time already past.
_PAST_WHEN = re.compile(r"^when\s+(?:was|were|did|had)\b", re.I)
_FUTURE_WHEN = re.compile(
    r"^when\s+(?:will|shall)\b|^when\s+(?:is|are)\b.*\b(?:expected|due|set|scheduled|going|"
    r"planned|planning)\s+to\b",
    re.I,
)
_HOW_MANY = re.compile(r"^how many\b|\bhow many\b|\bwhat number\b|\bhow (?:old|long|far)\b", re.I)


@dataclass(frozen=True)
class Expected:
    """The kind of question and the labels, in order of preference, that answer it."""

    kind: str  # who | when | where | how_many | how_much | what_said | list | yes_no | what
    labels: tuple[str, ...] = ()
    speaker: str | None = None  # for what_said: whose words
    head: str | None = None  # for which/what X: X
    future: bool = False  # "When will …": a time before the article's day cannot answer
    past: bool = False  # "When was …": a time the article still looks forward to cannot
    title: str | None = None  # "Which US senators …": senator (a key of TITLES)
    title_words: tuple[str, ...] = ()  # the word making it: "Commerce" of "Commerce Secretary"
    base: bool = False  # "Where is X based / headquartered?": the place X is based in

    @property
    def wants_entity(self) -> bool:
        return bool(self.labels) and self.kind not in ("what_said", "yes_no")


def _labels_of(noun: str) -> tuple[str, ...]:
    """The labels that answer "which <noun>" (its singular's too), or ()."""
    return _HEAD_LABELS.get(noun) or _HEAD_LABELS.get(noun.rstrip("s")) or ()


# "What is the name of the AI-powered chatbot …": the noun named.
_NAME_OF = re.compile(
    r"^what\s+(?:is|was|are|were)\s+the\s+names?\s+of\s+(?:the|a|an|this|that)\s+"
    r"(?:[a-z]+[- ]){0,2}[a-z]+\b",
    re.I,
)


def _head_noun(question: str) -> tuple[str | None, tuple[str, ...]]:
    """The noun after which/what ("which US companies" → companies, "what is the name of
    the chatbot" → chatbot) and its labels."""
    for match in [*_NAME_OF.finditer(question), *_WHICH.finditer(question)]:
        words = [w.lower() for w in re.findall(r"[A-Za-z]+", match.group(0))[1:]]
        if words and words[0] in ("the", "a", "an", "one", "two", "three"):
            words = words[1:]
        for word in words:
            labels = _labels_of(word)
            if labels:
                return word, labels
    return None, ()


_WH = r"(?:who|whom|whose|what|which|when|where|how)"
_PART = re.compile(rf",?\s+and\s+(?={_WH}\b)", re.I)
_OPENING = re.compile(rf"^(?:(?:on|in|at|for|by|from|to|with)\s+)?({_WH})\b", re.I)


def question_parts(question: str) -> list[str]:
    """The questions a compound question asks ("Who hosted Raimondo, and which Treasury
    Secretary's trip …?" → two), or ``[question]``. A part starts with a question word
    other than the first part's: "Who is the individual that …, and whose trial …"
    asks about one person."""
    q = " ".join(question.split())
    parts = _PART.split(q)
    first = _OPENING.match(q)
    if len(parts) < 2 or first is None:
        return [q]
    words = [first.group(1).lower()] + [p.split(None, 1)[0].lower() for p in parts[1:]]
    words = [w[:3] for w in words]  # whom and whose ask about the same one as who
    if len(set(words)) < len(words) or any(len(p.split()) < 3 for p in parts):
        return [q]
    return [p[0].upper() + p[1:].rstrip("?") + "?" for p in parts]


def _title(question: str) -> tuple[str | None, tuple[str, ...]]:
    """The office a who-question asks about ("Who is the chief executive of …" →
    executive, "Which US senators …" → senator) and the word qualifying it ("Commerce"
    of "Which US Commerce Secretary"), or None."""
    matches = [m.group(0) for m in _WHICH.finditer(question)]
    matches += [m.group(0) for m in _AS_TITLE.finditer(question)]
    for match in matches:
        words = re.findall(r"[A-Za-z][A-Za-z'’]*", match)[1:]
        found = [w.lower().rstrip("s") if w.lower().rstrip("s") in TITLES else w for w in words]
        at = [i for i, w in enumerate(found) if w in TITLES]
        if at:
            before = [
                w
                for w in words[: at[-1]]
                if w.lower() not in _DETERMINERS and not w.endswith(("'s", "’s"))
            ]
            # the word making the office ("Commerce" Secretary), not a country ("US",
            # "Chinese"), which says nothing of the office
            kind = before[-1:] if before and not COUNTRYISH.match(before[-1]) else []
            return found[at[-1]], tuple(kind)
    return None, ()


# "Who stays on as Cubic Telecom's CEO?", "Who was named as the new chief executive?"
_AS_TITLE = re.compile(
    r"\b(?:as|new)\s+(?:(?:the|its|their|his|her|a|an|new|[A-Z][\w.&-]*(?:'s|’s)?)\s+){0,3}"
    rf"(?:{'|'.join(TITLES)})s?\b",
    re.I,
)
COUNTRYISH = re.compile(r"^(?:[A-Z]{2,3}|[A-Z][a-z]+(?:an|ese|ish|i))$")
_DETERMINERS = frozenset("is was are were the a an".split())
_NOT_MEASURED = frozenset("money cash of more less time longer further higher lower".split())
_AUXILIARIES = frozenset("did do does were was are is have has had will would can could".split())


def _counted(question: str, how: str = "many") -> str | None:
    """What a "how many" question counts, or a "how much" one measures ("How much
    revenue did Uber report?" → revenue): its first lower-case word after "how many"
    (or "how much"), None when a verb comes first ("How much did X pay?")."""
    match = re.search(rf"\bhow {how}\b(.*)", question, re.I)
    words: list[str] = re.findall(r"[A-Za-z][\w-]*", match.group(1) if match else "")
    for word in words:
        if word.lower() in _AUXILIARIES:
            return None  # "How many Steam Deck OLEDs did …": the noun is a name's
        if word[0].islower():
            return word
    return None


def expected_answer(question: str) -> Expected:
    """What ``question`` asks for: its kind and the entity labels that can answer it."""
    q = " ".join(question.split()).strip()
    kind = question_kind(q)
    said = _SAY.search(q) or _ACCORDING.search(q)
    if said and said.re is _SAY and not re.match(r"^how\s+(?:did|does)\s+.+\s+(?:think)", q, re.I):
        speaker = re.sub(r"^(?:the|a|an)\s+", "", said.group(1).strip(), flags=re.I)
        return Expected("what_said", ("QUOTE",), speaker=speaker)
    if kind == "yes_no":
        return Expected("yes_no")
    if _WHO_IS_NAME.match(q):
        return Expected("what")  # "Who is Mira Murati?" asks what she is, not a name
    head, labels = _head_noun(q)
    called = _CALLED.match(q)
    if called and not labels:
        # "What is Nicki Minaj's new album called?": a title or a name
        head = called.group(1).lower()
        labels = _labels_of(head) or NAMED
    is_list = kind == "list" or asks_for_list(q)
    if _HOW_MUCH.search(q):
        labels = AMOUNTS
        if re.search(r"percent|percentage|share|proportion", q, re.I):
            labels = ("PERCENT",)
        elif _MONEY_WORDS.search(q):
            labels = MONEY  # "How much is the deal worth?": money, not "40%"
        measured = _counted(q, "much")
        if measured in _NOT_MEASURED:
            measured = None  # "How much money …", "How much of …": no particular measure
        return Expected("how_much", labels, head=measured or head)
    if _HOW_MANY.search(q):
        if re.search(r"\bhow old\b", q, re.I):
            return Expected("how_many", ("DATE", "CARDINAL"), head="age")
        if re.search(r"\bhow long\b", q, re.I):
            return Expected("how_many", ("DATE", "TIME", "QUANTITY", "CARDINAL"), head=head)
        counted = _counted(q)
        # "How many tickets": a count of things, never an amount of money.
        labels = COUNTS if counted else (*COUNTS, "MONEY", "PERCENT")
        return Expected("how_many", labels, head=counted or head)
    if kind == "when":
        future = bool(_FUTURE_WHEN.match(q))
        return Expected(
            "list" if is_list else "when",
            TIMES,
            head=head,
            future=future,
            past=bool(_PAST_WHEN.match(q)),
        )
    if kind == "where":
        based = bool(re.search(r"\b(?:based|headquartered|headquarters)\b", q, re.I))
        return Expected("list" if is_list else "where", PLACES, head=head, base=based)
    if labels:
        kind = "list" if is_list else ("who" if labels == PEOPLE else "which")
        title, qualifiers = _title(q) if labels == PEOPLE else (None, ())
        return Expected(
            kind,
            labels,
            head=head,
            title=title,
            title_words=qualifiers,
            future=bool(_FUTURE_WHO.match(q)),
        )
    if re.match(r"^(?:who|whom)\b", q, re.I) or kind == "who":
        title, qualifiers = _title(q)
        return Expected(
            "list" if is_list else "who",
            # an office is held by a person ("Who stays on as Cubic Telecom's CEO?")
            PEOPLE if title else PEOPLE + ORGANISATIONS,
            head=head,
            title=title,
            title_words=qualifiers,
            future=bool(_FUTURE_WHO.match(q)),
        )
    if is_list:
        return Expected("list", (), head=head)
    return Expected("what", (), head=head)
