"""The one place retrieval meets answering: question (+ history) -> Answer.

`NewsBot.ask()` is what the CLI and Slack call; `NewsBot.as_runnable()` is the same chain as a
LangChain Runnable ({"question", "history", "as_of"} -> Answer) for users' own LangChain/LangGraph code.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import date
from functools import cached_property
from typing import Any

from bot.answer import Answer, Turn
from bot.answering.condense import condense_offline
from bot.answering.heuristic import DEFAULT_MIN_CONFIDENCE, ExtractiveAnswerer
from bot.answering.question import last_full_question
from bot.retrieval.search import HybridSearch
from bot.settings import BotSettings
from indexing.index import NewsIndex
from indexing.indexer import SyncProgress, SyncReport


class NewsBot:
    def __init__(self, settings: BotSettings, index: NewsIndex | None = None):
        self.settings = settings
        self.index = index or NewsIndex(settings.index)

    @cached_property
    def search(self) -> HybridSearch:
        return HybridSearch(self.index, self.settings.candidates)

    @cached_property
    def extractive(self) -> ExtractiveAnswerer:
        threshold = self.settings.min_confidence
        return ExtractiveAnswerer(self.index.query_embedder, DEFAULT_MIN_CONFIDENCE if threshold is None else threshold)

    @cached_property
    def generative(self):  # bot.answering.generative.GenerativeAnswerer | None
        if not self.settings.llm:
            return None
        from bot.answering.generative import GenerativeAnswerer

        return GenerativeAnswerer.from_settings(self.settings)

    def retriever(self) -> Any:
        """The retrieval step as a LangChain `BaseRetriever` (bot.langchain.NewsRetriever)."""
        from bot.langchain import NewsRetriever

        return NewsRetriever(search_engine=self.search, k=self.settings.top_k)

    def ensure_indexed(self, progress: SyncProgress | None = None) -> SyncReport | None:
        """Index the default sources when the index is empty, so a fresh install answers at once."""
        if not self.index.is_empty():
            return None
        return self.index.sync(None, progress)

    def condense(self, question: str, history: Sequence[Turn]) -> str:
        if not history:
            return question
        if self.generative is not None:
            return self.generative.condense(question, history)
        return condense_offline(question, history)

    def ask(self, question: str, history: Sequence[Turn] = (), explain: bool = False, as_of: date | None = None) -> Answer:
        """Answer `question` (a follow-up of `history`), asked on `as_of` (default today: see bot.retrieval.timescope)."""
        began = time.perf_counter()
        question = question.strip()
        standalone = self.condense(question, history)
        # Candidate passages: more than we cite, so the answerer can pick the best sentences.
        result = self.search.search(standalone, k=max(self.settings.top_k, 8), as_of=as_of)
        if self.generative is not None:
            answer = self.generative.answer(question, standalone, result.passages[: self.settings.top_k], as_of)
        else:
            answer = self.extractive.answer(
                standalone,
                result.passages,
                focus=question if standalone != question else None,
                query_vector=result.query_vector,
                previous=last_full_question([turn.question for turn in history]),
            )
        trace: dict[str, Any] = dict(answer.trace)
        if explain:
            trace["retrieval"] = result.trace
        trace["seconds"] = round(time.perf_counter() - began, 4)
        return Answer(
            text=answer.text,
            citations=answer.citations,
            answered=answer.answered,
            question=question,
            standalone_question=standalone,
            confidence=answer.confidence,
            closest=answer.closest,
            trace=trace,
        )

    def as_runnable(self) -> Any:
        """This chain as a LangChain Runnable ({"question", "history", "as_of"} -> Answer)."""
        from bot.langchain import as_runnable

        return as_runnable(self)
