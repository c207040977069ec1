"""The LangChain edge: newsbot's pieces as LangChain types, for users' own LangChain/LangGraph code.

- `NewsRetriever`: the hybrid search as a `BaseRetriever` (Documents carry offsets and scores);
- `as_runnable(bot)`: the whole chain as a `Runnable` ({"question", "history", "as_of"} -> Answer).

The chain and retrieval never import LangChain (nor this module): callers use these adapters directly.
Elsewhere LangChain is a client only: the generative answerer's chat model (langchain-openai) and the
evaluation's naive-RAG baseline.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import Runnable, RunnableLambda
from pydantic import ConfigDict

from bot.answer import Answer, Turn
from bot.retrieval.search import HybridSearch, Passage
from indexing import NewsIndex

if TYPE_CHECKING:
    from bot.chain import NewsBot


def passage_document(passage: Passage) -> Document:
    c = passage.chunk
    return Document(
        page_content=c.text,
        id=c.id,
        metadata={
            "chunk_id": c.id,
            "article_id": c.article_id,
            "title": c.title,
            "published": c.published,
            "source": c.source,
            "start": c.start,
            "end": c.end,
            "sentences": [list(s) for s in c.sentences],
            "score": passage.score,
            "dense_similarity": passage.dense,
            "bm25": passage.keyword,
        },
    )


class NewsRetriever(BaseRetriever):
    """LangChain retriever over the news index (hybrid dense + BM25, committed chunks only)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    search_engine: HybridSearch
    k: int = 5
    as_of: date | None = None  # answer as if it were this day (default: today)

    @classmethod
    def from_index(cls, index: NewsIndex, k: int = 5, candidates: int = 30) -> NewsRetriever:
        return cls(search_engine=HybridSearch(index, candidates), k=k)

    @classmethod
    def from_bot(cls, bot: NewsBot) -> NewsRetriever:
        """The retrieval step of `bot`'s chain: its search, NEWSBOT_TOP_K passages."""
        return cls(search_engine=bot.search, k=bot.settings.top_k)

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        return [passage_document(p) for p in self.search_engine.search(query, self.k, as_of=self.as_of).passages]


def as_runnable(bot: NewsBot) -> Runnable:
    """`bot.ask` as a Runnable: a question string, or {"question", "history": [Turn | dict], "as_of"}."""

    def run(inputs: dict[str, Any] | str) -> Answer:
        if isinstance(inputs, str):
            return bot.ask(inputs)
        history = [t if isinstance(t, Turn) else Turn(**t) for t in inputs.get("history", [])]
        as_of = inputs.get("as_of")
        return bot.ask(inputs["question"], history, as_of=date.fromisoformat(as_of) if isinstance(as_of, str) else as_of)

    return RunnableLambda(run, name="newsbot")
