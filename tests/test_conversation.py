"""One conversation (rag.ask.conversation): rewrite against the turns before, answer, record,
trim — the loop `rag chat`, `/chat` and the app share. A fake pipeline, so it runs fast."""

from __future__ import annotations

from typing import Any

import pytest

from rag.ask.chat import MAX_TURNS, Turn, condense
from rag.ask.conversation import Conversation
from rag.ask.results import Answer
from tests import fake_answers as fake

pytestmark = pytest.mark.fast


class Pipeline(fake.FakePipeline):
    """Answers anything; rewrites follow-ups as the extractive engine does; records what
    each question was searched as."""

    def __init__(self) -> None:
        super().__init__(lambda q: fake.answer(q))
        self.searched: list[str | None] = []

    def rewrite(self, history: list[Turn], message: str, engine: str | None) -> str:
        return condense(history, message)

    def ask_stream(self, question: str, **kwargs: Any):
        self.searched.append(kwargs.get("rewritten"))
        yield from super().ask_stream(question, **kwargs)


def test_a_follow_up_is_rewritten_from_the_turn_before_and_recorded():
    pipeline = Pipeline()
    conversation = Conversation(pipeline)
    first = conversation.ask("What did  Raimondo say about de-risking? ")
    assert isinstance(first, Answer)
    message = conversation.rewrite("and what did she say about chips?")
    assert message.changed == "What did Raimondo say about chips?"
    pieces = list(conversation.stream(message))
    assert isinstance(pieces[-1], Answer) and isinstance(pieces[0], str)
    assert pipeline.searched == [None, "What did Raimondo say about chips?"]
    assert [t.question for t in conversation.turns] == [
        "What did Raimondo say about de-risking?",
        "and what did she say about chips?",
    ]


def test_a_message_that_stands_alone_is_searched_as_typed_with_spaces_normalised():
    conversation = Conversation(Pipeline())
    message = conversation.rewrite("  Who is   Binance's new CEO? ")
    assert message.question == "Who is Binance's new CEO?" and message.changed is None


def test_only_the_latest_turns_are_kept_and_clear_starts_over():
    conversation = Conversation(Pipeline())
    for n in range(MAX_TURNS + 5):
        conversation.ask(f"Question number {n}?")
    assert len(conversation.turns) == MAX_TURNS
    assert conversation.turns[0].question == "Question number 5?"
    conversation.clear()
    assert conversation.turns == []
    assert conversation.rewrite("and what did she say about chips?").changed is None
