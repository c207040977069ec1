"""The answering contract: every answerer takes the same request and returns a finished `Answer`.

`bot.chain` picks one answerer when it is built (bot.answering.choose) and never branches on
which: the trained reader (default, offline), the NER heuristic (offline, for comparison), or a
generative model (a setting). An answerer also makes a follow-up stand alone (`condense`): the
offline ones by the rules of bot.answering.condense, a generative model by rewriting it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

from bot.answer import Answer, Turn
from bot.retrieval.search import Passage


@dataclass(frozen=True)
class Request:
    """What an answerer is asked: the user's words, the question made to stand alone, the conversation."""

    question: str  # as the user typed it
    standalone: str  # the question after condensing the conversation (== question without history)
    history: tuple[Turn, ...] = ()
    as_of: date | None = None  # the day it is asked (None: today)
    query_vector: Any = None  # the standalone question's embedding, when retrieval computed it
    # Called with each piece of the answer's text as it is written (a generative model's tokens), for faces that
    # stream; the finished Answer is still the one truth. Answerers that write no text as they go never call it.
    on_text: Callable[[str], None] | None = None

    @property
    def condensed(self) -> bool:
        return self.standalone != self.question


class Answerer(Protocol):
    name: str

    def answer(self, request: Request, passages: Sequence[Passage]) -> Answer:
        """The answer with its citations, or a plain refusal (answered=False) with the closest passages."""
        ...

    def rerank(self, request: Request, passages: Sequence[Passage]) -> list[Passage]:
        """The passages in the order this answerer trusts them (an answerer without an opinion keeps retrieval's)."""
        ...

    def condense(self, question: str, history: Sequence[Turn]) -> str:
        """`question`, a follow-up of `history` (never empty), made to stand alone for retrieval and answering."""
        ...
