"""One conversation: each message rewritten against the turns before it, answered, kept.

``rag chat``, the API's ``/chat`` and the app's chat are loops over it, so they
rewrite, record and trim alike::

    conversation = Conversation(pipeline)
    message = conversation.rewrite("and what did she say about chips?")
    if message.changed:                  # the standalone question searched
        print(f"({message.changed})")
    for piece in conversation.stream(message):
        ...                              # text pieces, then the Answer (then recorded)

The rewrite (:func:`rag.ask.chat.condense`, or the LLM's condense step) sees the
turns before the message; only the latest :data:`~rag.ask.chat.MAX_TURNS` are kept.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rag.ask.chat import MAX_TURNS, Session, Turn
from rag.ask.results import Answer

if TYPE_CHECKING:
    from rag.ask.pipeline import Pipeline


@dataclass(frozen=True)
class Message:
    """A message of the conversation: as typed (spaces normalised) and as searched."""

    question: str
    rewritten: str

    @property
    def changed(self) -> str | None:
        """The standalone question when the rewrite changed it, else None."""
        return self.rewritten if self.rewritten != self.question else None


class Conversation:
    """The turns of one chat (a :class:`~rag.ask.chat.Session`) and the pipeline answering it."""

    def __init__(self, pipeline: Pipeline, session: Session | None = None) -> None:
        self.pipeline = pipeline
        self.session = session or Session(uuid.uuid4().hex)

    @property
    def id(self) -> str:
        return self.session.id

    @property
    def turns(self) -> list[Turn]:
        return self.session.turns

    def rewrite(self, message: str, engine: str | None = None) -> Message:
        """The message as a standalone question, given the turns before it."""
        question = " ".join(message.split())
        return Message(question, self.pipeline.rewrite(self.session.turns, question, engine))

    def stream(self, message: Message, **options: Any) -> Iterator[str | Answer]:
        """Answer pieces, then the :class:`Answer`, which is then recorded as a turn.
        ``options`` are :meth:`Pipeline.ask_stream`'s (``k``, ``filters``, ``engine``)."""
        for piece in self.pipeline.ask_stream(
            message.question, rewritten=message.changed, **options
        ):
            if isinstance(piece, Answer):
                self.record(Turn(message.question, message.rewritten, piece.answer))
            yield piece

    def ask(self, message: str, **options: Any) -> Answer:
        """Rewrite, answer and record one message; the whole :class:`Answer`."""
        asked = self.rewrite(message, options.get("engine"))
        answer = None
        for piece in self.stream(asked, **options):
            if isinstance(piece, Answer):
                answer = piece
        assert answer is not None  # ask_stream always ends with the Answer
        return answer

    def record(self, turn: Turn) -> None:
        """Keep a turn, and only the latest :data:`~rag.ask.chat.MAX_TURNS`."""
        self.session.turns.append(turn)
        del self.session.turns[:-MAX_TURNS]

    def clear(self) -> None:
        """Start over: later messages are not read as follow-ups of earlier ones."""
        self.session.turns.clear()
