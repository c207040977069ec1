"""Citations are spans of indexed articles, never model output: the one way every answerer makes them."""

from __future__ import annotations

from bot.answer import Citation
from bot.retrieval.search import Passage


def sentence_bounds(passage: Passage, start: int, end: int) -> tuple[int, int]:
    """The article offsets of the sentence(s) of `passage` that hold [start, end) (the chunk when none)."""
    chunk = passage.chunk
    covering = [(s, e) for s, e in chunk.sentences if s < end and e > start]
    if not covering:
        return chunk.start, chunk.end
    return covering[0][0], covering[-1][1]


def citation(passage: Passage, start: int, end: int, score: float, highlight: tuple[int, int] | None = None) -> Citation:
    """A citation quoting the article text [start, end) of `passage`, verbatim.

    Its score is the passage's relevance, 0-1, whichever answerer cites it (bot.answer.SCORE_MEANING).
    The `score` argument (the answerer's own ranking of the passage, on its own scale) is not used."""
    chunk = passage.chunk
    return Citation(
        article_id=chunk.article_id,
        title=chunk.title,
        published=passage.published,
        source=chunk.source,
        quote=chunk.excerpt(start, end),
        start=start,
        end=end,
        score=round(passage.relevance, 4),
        highlight=highlight,
    )
