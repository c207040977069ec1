"""The one place retrieval meets answering: question (+ history) -> Answer.

`NewsBot.ask()` is what the CLI and Slack call. For users' own LangChain/LangGraph code, bot.langchain
adapts it: `as_runnable(bot)` ({"question", "history", "as_of"} -> Answer), `NewsRetriever.from_bot(bot)`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import date
from functools import cached_property
from typing import Any

from bot.answer import Answer, Turn
from bot.answering.base import Answerer, Request
from bot.answering.choose import choose_answerer
from bot.retrieval.copies import fold_copies
from bot.retrieval.filters import Filters, feed_domains
from bot.retrieval.search import HybridSearch, Passage
from bot.settings import BotSettings
from indexing import NewsIndex, SyncProgress, SyncReport


class NewsBot:
    """Retrieval plus one answerer, chosen at construction (bot.answering.choose), never branched on."""

    def __init__(self, settings: BotSettings, index: NewsIndex | None = None, answerer: Answerer | None = None):
        self.settings = settings
        self.index = index or NewsIndex(settings.index)
        self._answerer = answerer

    @cached_property
    def search(self) -> HybridSearch:
        return HybridSearch(self.index, self.settings.candidates, self._feeds())

    def _feeds(self) -> dict[str, str]:
        """The followed feeds' names and addresses -> their sites' domains (what `--source` may name)."""
        from indexing import FeedRegistry

        try:
            return feed_domains((f.url, f.title) for f in FeedRegistry(self.settings.feed_registry_path).feeds())
        except Exception:  # noqa: BLE001 - a damaged feed list only costs feed names as sources
            return {}

    @cached_property
    def answerer(self) -> Answerer:
        return self._answerer or choose_answerer(self.settings, self.index)

    def warm_up(self) -> Answerer:
        """Build the answerer now, so that a missing or broken model fails here rather than at the first question."""
        return self.answerer

    def ensure_indexed(self, progress: SyncProgress | None = None) -> SyncReport | None:
        """Index the default sources when the index is empty, so a fresh install answers at once."""
        if not self.index.is_empty():
            return None
        return self.index.sync(None, progress)

    def condense(self, question: str, history: Sequence[Turn]) -> str:
        """The question made to stand alone, as the answerer condenses a follow-up (bot.answering.base)."""
        return self.answerer.condense(question, history) if history else question

    def request(self, question: str, history: Sequence[Turn] = (), as_of: date | None = None) -> Request:
        question = question.strip()
        return Request(question, self.condense(question, history), tuple(history), as_of)

    def ask(
        self,
        question: str,
        history: Sequence[Turn] = (),
        explain: bool = False,
        as_of: date | None = None,
        filters: Filters | None = None,
        on_text: Callable[[str], None] | None = None,
    ) -> Answer:
        """Answer `question` (a follow-up of `history`), asked on `as_of` (default today: see bot.retrieval.timescope),
        from the articles that pass `filters` (bot.retrieval.filters). `on_text` receives the answer's text as a
        generative model writes it (raw: citation numbers as the model wrote them), before the Answer is checked."""
        began = time.perf_counter()
        with self.index.answering():  # in a process that also syncs, its writes wait (NewsIndex.serving)
            request = self.request(question, history, as_of)
            # Candidate passages: more than we cite, so the answerer can choose among them.
            result = self.search.search(request.standalone, k=max(self.settings.top_k, 8), as_of=as_of, filters=filters)
            if result.empty_because:  # the filters left no article: say which, do not ask the answerer
                answer = Answer.refusal(request.question, request.standalone, text=result.empty_because)
            else:
                answer = self.answerer.answer(replace(request, query_vector=result.query_vector, on_text=on_text), result.passages)
                answer = fold_copies(answer, self.index.store)  # a wire copy's passage is cited once, from the earliest
        trace: dict[str, Any] = {"answerer": self.answerer.name, **answer.trace}
        if explain:
            trace["retrieval"] = result.trace
        trace["seconds"] = round(time.perf_counter() - began, 4)
        return replace(answer, trace=trace)

    def rank(self, question: str, k: int = 40, as_of: date | None = None, filters: Filters | None = None) -> list[Passage]:
        """The passages for `question` in the order the answerer trusts them (retrieval, then its rerank)."""
        request = self.request(question, (), as_of)
        result = self.search.search(request.standalone, k=k, as_of=as_of, filters=filters)
        return self.answerer.rerank(replace(request, query_vector=result.query_vector), result.passages)
