"""Multi-turn chat: follow-ups rewritten into standalone questions.

"What did Raimondo say about de-risking?" then "and what did she say about
chips?" → "what did Raimondo say about chips?". Without an LLM the rewrite
carries the previous turn's entities: a third-person pronoun is replaced by
the entity it most likely refers to, and a follow-up without one ("and
tourism?") gets the previous topic attached.
"""

from __future__ import annotations

import re
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field

from rag.errors import NotFoundError
from rag.text.words import MONTH_NAMES, WEEKDAYS

_PRONOUN = re.compile(r"\b(?:he|she|they|him|her|them|his|hers|their|it|its)\b", re.I)
_POSSESSIVE = {"his", "her", "hers", "their", "its"}
_FOLLOW_UP = re.compile(r"^(?:and|also|what about|how about|but|so|then)\b", re.I)
_NAME = re.compile(r"\b[A-Z][\w’'-]*(?:\s+(?:of\s+)?[A-Z][\w’'-]*)*")
_QUESTION_WORDS = {
    "what",
    "who",
    "when",
    "where",
    "which",
    "why",
    "how",
    "did",
    "does",
    "is",
    "was",
}
_DATES = set(WEEKDAYS + MONTH_NAMES)
MAX_SESSIONS = 1000
MAX_TURNS = 20


@dataclass
class Turn:
    question: str
    rewritten: str
    answer: str


@dataclass
class Session:
    id: str
    turns: list[Turn] = field(default_factory=list)


def entities(text: str) -> list[str]:
    """Capitalised names in ``text``, in order, without sentence-initial question words."""
    found = []
    for match in _NAME.findall(text):
        words = match.split()
        while words and words[0].lower() in _QUESTION_WORDS:
            words = words[1:]
        name = " ".join(words)
        if name and name not in found:
            found.append(name)
    return found


def condense(history: list[Turn], message: str) -> str:
    """A standalone question for ``message`` given the earlier turns (extractive rewrite).

    - a third-person pronoun is replaced by the previous question's first name:
      "and what did she say about chips?" → "What did Raimondo say about chips?"
    - "and/what about X?" naming someone new swaps them into the previous
      question: "What about Li Qiang?" → "What did Li Qiang say about de-risking?"
    - "and X?" naming no one swaps X for the previous topic ("… about X"), or
      else is asked in the previous question's context.
    A message that is a question of its own is left alone.
    """
    message = " ".join(message.split())
    if not history:
        return message
    previous = history[-1].rewritten
    names = entities(previous)
    fragment = _FOLLOW_UP.sub("", message).strip(" ,?") or message.rstrip("?")
    own_names = entities(" ".join(message.split()[1:])) if message else []
    pronoun = _PRONOUN.search(message)
    cue = _FOLLOW_UP.search(message)

    if pronoun and names:
        subject = names[0]

        def replace(match: re.Match[str]) -> str:
            return f"{subject}’s" if match.group(0).lower() in _POSSESSIVE else subject

        rewritten = _PRONOUN.sub(replace, _FOLLOW_UP.sub("", message).strip(" ,"), count=1)
    elif cue and own_names and names:
        dated = [n for n in names if n.lower() in _DATES]
        if own_names[0].lower() in _DATES and dated:
            rewritten = previous.replace(dated[0], own_names[0], 1)
        else:
            people = [n for n in names if n.lower() not in _DATES] or names
            rewritten = previous.replace(people[0], own_names[0], 1)
    elif cue or (len(message.split()) <= 3 and not own_names):
        topic = re.search(r"\babout\s+(.+?)\??$", previous)
        if topic:
            rewritten = previous[: topic.start(1)] + fragment + "?"
        else:
            rewritten = f"{fragment}? (following: {previous})"
    else:
        return message
    return rewritten[0].upper() + rewritten[1:]


class Sessions:
    """Chat sessions in memory, oldest dropped first beyond ``MAX_SESSIONS``."""

    def __init__(self) -> None:
        self._sessions: OrderedDict[str, Session] = OrderedDict()

    def get(self, session_id: str | None) -> Session:
        """Session ``session_id``, or a new one when it is None (or empty).

        An id not known here — never given out, or dropped (sessions live in memory: the
        latest ``MAX_SESSIONS``, until the server restarts) — raises NotFoundError: a
        follow-up answered without its history would answer another question.
        """
        if session_id:
            if session_id not in self._sessions:
                raise NotFoundError(
                    f"unknown chat session {session_id!r}: it has expired or was never "
                    f"started here (sessions are kept in memory, the latest {MAX_SESSIONS}, "
                    "until the server restarts); omit session_id to start a new session"
                )
            self._sessions.move_to_end(session_id)
            return self._sessions[session_id]
        session = Session(uuid.uuid4().hex)
        self._sessions[session.id] = session
        while len(self._sessions) > MAX_SESSIONS:
            self._sessions.popitem(last=False)
        return session
