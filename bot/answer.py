"""The one type every face renders: an Answer with its numbered Citations, and a conversation Turn."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

REFUSAL = "The indexed articles do not contain the answer to this question."
# What a citation's `score` is, in the words the README and the docs use (a test keeps them equal).
SCORE_MEANING = (
    "`score` is the cited passage's relevance to the question, from 0 to 1: retrieval's fused score, "
    "0.7 × the cosine similarity of the passage and the question plus 0.3 × its BM25 score relative to the best "
    "keyword hit, before any time-scope bonus. It is the same for every answerer; how sure the answer is, is `confidence`."
)
CITATION_MARK = re.compile(r"\[(\d{1,3})\]")  # "[1]" in an answer's text points at citations[0]
_MARKS_AND_SPACE = re.compile(r"\s*\[\d{1,3}\]")


def strip_citation_marks(text: str) -> str:
    """The text without its "[1]" markers (what is scored, and what a follow-up reads)."""
    return _MARKS_AND_SPACE.sub("", text).strip()


@dataclass(frozen=True)
class Copy:
    """Another article that carries a cited passage word for word: a wire copy of the story (bot.retrieval.copies)."""

    article_id: str
    title: str
    published: date | None
    source: str  # path or URL

    def to_json(self) -> dict[str, Any]:
        return {
            "article_id": self.article_id,
            "title": self.title,
            "published": self.published.isoformat() if self.published else None,
            "source": self.source,
        }


@dataclass(frozen=True)
class Citation:
    article_id: str
    title: str
    published: date | None
    source: str  # path or URL
    quote: str  # verbatim: article.text[start:end] == quote, always
    start: int  # character offsets into the article text
    end: int
    score: float  # 0-1: the passage's relevance to the question (SCORE_MEANING)
    # The answer span inside the quote, as offsets into the article text (None: the whole quote supports it).
    highlight: tuple[int, int] | None = None
    # The same passage in other articles (wire copies), earliest first; the citation is the earliest of all.
    also_in: tuple[Copy, ...] = ()

    @property
    def url(self) -> str | None:
        return self.source if self.source.startswith(("http://", "https://")) else None

    def to_json(self, n: int) -> dict[str, Any]:
        return {
            "n": n,
            "article_id": self.article_id,
            "title": self.title,
            "published": self.published.isoformat() if self.published else None,
            "source": self.source,
            "quote": self.quote,
            "start": self.start,
            "end": self.end,
            "score": round(self.score, 4),
            "highlight": list(self.highlight) if self.highlight else None,
            "also_in": [c.to_json() for c in self.also_in],
        }


@dataclass(frozen=True)
class Answer:
    text: str  # "Wendy R. [1]" or the plain refusal
    citations: tuple[Citation, ...]  # the passages the text rests on, numbered [1], [2], ...
    answered: bool  # False: the articles do not say
    question: str = ""
    standalone_question: str = ""  # the question after condensing the conversation, when it differs
    confidence: float = 0.0
    # Passages shown with a refusal: closest matches, never presented as support.
    closest: tuple[Citation, ...] = ()
    trace: dict[str, Any] = field(default_factory=dict, compare=False)

    @classmethod
    def refusal(
        cls,
        question: str,
        standalone: str = "",
        *,
        text: str = REFUSAL,
        confidence: float = 0.0,
        closest: Sequence[Citation] = (),
        trace: Mapping[str, Any] | None = None,
    ) -> Answer:
        """No answer: the articles do not say (or `text` says why none was sought). `closest` are the
        nearest passages, shown as such and never as support; `confidence` is the best answer's, refused."""
        return cls(text, (), False, question, standalone, confidence, tuple(closest), dict(trace or {}))

    @classmethod
    def from_spans(
        cls,
        text: str,
        citations: Sequence[Citation],
        question: str,
        standalone: str = "",
        *,
        confidence: float,
        trace: Mapping[str, Any] | None = None,
    ) -> Answer:
        """An answer resting on `citations`, spans of indexed articles that `text` numbers [1], [2], ..."""
        if not citations:
            raise ValueError("an answer cites at least one passage: without one it is Answer.refusal(...)")
        return cls(text, tuple(citations), True, question, standalone, confidence, (), dict(trace or {}))

    def to_json(self) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "question": self.question,
            "answer": self.text,
            "answered": self.answered,
            "confidence": round(self.confidence, 4),
            "citations": [c.to_json(n) for n, c in enumerate(self.citations, start=1)],
        }
        if not self.answered:
            # Listed apart from "citations": they are the nearest passages, not support for anything.
            payload["closest"] = [c.to_json(n) for n, c in enumerate(self.closest, start=1)]
        if self.standalone_question and self.standalone_question != self.question:
            payload["standalone_question"] = self.standalone_question
        return payload


@dataclass(frozen=True)
class Turn:
    """One earlier exchange of a conversation (a chat session or a Slack thread)."""

    question: str
    answer: str = ""
