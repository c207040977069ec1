"""The systems an eval compares, behind one small protocol: newsbot's chain, and the baseline.

Each system answers a question (timed: this is the latency reported) and, separately and untimed,
ranks articles for it (for recall@k and MRR by gold article id). Both take the day the question was
asked, when the data set has it (RealTimeQA's question_date), as a user's "today".
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date
from typing import Protocol

from bot.answer import Citation, strip_citation_marks
from bot.chain import NewsBot
from bot.evaluation.metrics import distinct

RANK_CHUNKS = 40  # chunks retrieved to rank articles (enough for 10 distinct ones, nearly always)


@dataclass(frozen=True)
class Quote:
    article_id: str
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class SystemAnswer:
    text: str  # without citation marks; "" for a refusal
    answered: bool
    quotes: tuple[Quote, ...]  # every passage shown with the answer (also those shown with a refusal)
    seconds: float
    confidence: float | None = None  # the answerer's own score, when it has one (for tuning the refusal threshold)


class System(Protocol):
    name: str

    def answer(self, question: str, as_of: date | None = None) -> SystemAnswer: ...

    def rank_articles(self, question: str, k: int = 10, as_of: date | None = None) -> list[str]: ...


def _quote(citation: Citation) -> Quote:
    return Quote(citation.article_id, citation.start, citation.end, citation.quote)


class NewsbotSystem:
    """The real chain (`NewsBot.ask`), as the CLI and Slack call it."""

    def __init__(self, bot: NewsBot, name: str = "newsbot"):
        self.bot = bot
        self.name = name

    def answer(self, question: str, as_of: date | None = None) -> SystemAnswer:
        began = time.perf_counter()
        answer = self.bot.ask(question, as_of=as_of)
        seconds = time.perf_counter() - began
        quotes = tuple(_quote(c) for c in (*answer.citations, *answer.closest))
        text = strip_citation_marks(answer.text) if answer.answered else ""
        return SystemAnswer(text, answer.answered, quotes, seconds, answer.confidence)

    def rank_articles(self, question: str, k: int = 10, as_of: date | None = None) -> list[str]:
        passages = self.bot.rank(question, k=RANK_CHUNKS, as_of=as_of)  # the answerer's order (the reader reranks)
        return distinct([p.chunk.article_id for p in passages])[:k]
