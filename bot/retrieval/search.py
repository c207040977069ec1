"""Hybrid retrieval: dense (Chroma) + keyword (BM25), fused by a weighted sum of scores, recency-aware.

`HybridSearch.search()` is the typed core the chain uses, with a trace for `--explain` (no LangChain
here: bot.langchain adapts it as a `BaseRetriever`).
Only committed chunks are ever returned: `NewsIndex.search` (indexing.visible, the read side of the
commit protocol) shows each article in one version, so a question asked while a sync replaces an
article gets the old version or the new one, never half of one, and never another article instead.
This module keeps the fusion of the two retrievers and the question's time scope.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np

from bot.retrieval.filters import Filters, FilterScopes, Scope
from bot.retrieval.timescope import TimeScope, time_scope
from indexing import DenseHit, KeywordHit, NewsIndex, StoredChunk, VisibleHits

# Convex fusion of cosine and max-normalised BM25. On RealTimeQA dev this beat reciprocal rank
# fusion (MRR 0.71 vs 0.68, recall@5 0.93 vs 0.90); 0.7 was the best of 0.3-0.8.
DENSE_WEIGHT = 0.7
TIE = 0.002  # scores closer than this are a tie
RECENCY_BONUS = 0.05  # "the latest": about the gap between a good and a near-duplicate passage
# "this week", "recently": articles inside the question's time window are preferred, a soft filter
# (on RealTimeQA dev, 0.1 took MRR from 0.74 to 0.81; 0.05 gave 0.76, 0.2 0.82, a hard filter 0.82).
WINDOW_BONUS = 0.1


@dataclass(frozen=True)
class Passage:
    chunk: StoredChunk
    score: float  # fused score, time-scope bonuses included: what ranks passages (higher is better)
    # The fused score before any bonus, clamped to 0-1: how relevant the passage is to the question,
    # comparable across questions and answerers. A citation's `score` (bot.answer.SCORE_MEANING).
    relevance: float = 0.0
    dense: float | None = None  # cosine similarity, when the dense retriever found it
    keyword: float | None = None  # BM25 score, when the keyword retriever found it
    dense_rank: int | None = None
    keyword_rank: int | None = None

    @property
    def published(self) -> date | None:
        return self.chunk.published_date


@dataclass
class SearchResult:
    passages: list[Passage]
    trace: dict[str, Any] = field(default_factory=dict)
    query_vector: Any = None  # the query's embedding, reused by the answerer
    empty_because: str = ""  # the filters left no article: a plain sentence naming the filter


class HybridSearch:
    def __init__(self, index: NewsIndex, candidates: int = 30, feeds: dict[str, str] | None = None):
        self.index = index
        self.candidates = candidates
        self.scopes = FilterScopes(index.store, feeds)  # feeds: a followed feed's name -> its site's domain

    def search(self, query: str, k: int = 8, query_vector=None, as_of: date | None = None, filters: Filters | None = None) -> SearchResult:
        """The k best committed passages for `query`, asked on `as_of` (default today; see bot.retrieval.timescope),
        among the articles that pass `filters` (bot.retrieval.filters: inside both retrievers)."""
        limits = self._limits(filters) if filters else None
        if limits is not None and limits.empty_because:
            trace: dict[str, Any] = {"query": query, "filters": filters.to_json() if filters else None, "empty": limits.empty_because}
            return SearchResult([], trace, query_vector, limits.empty_because)
        vector = self.index.query_embedder.embed_query(query) if query_vector is None else query_vector
        scope = time_scope(query, as_of)
        hits = self._hits(query, vector, scope, limits)
        dense = [(c, sim) for c, sim in hits.dense if not scope.too_new(c.published_date)][: self.candidates]
        fused: dict[str, dict[str, Any]] = {}
        for rank, (chunk, sim) in enumerate(dense, start=1):
            fused[chunk.id] = {"chunk": chunk, "dense": sim, "dense_rank": rank}
        kept = self._add_keyword_hits(fused, hits.keyword, vector, scope)
        top_bm25 = max((h.score for h in kept), default=1.0) or 1.0
        for entry in fused.values():
            keyword = (entry.get("keyword") or 0.0) / top_bm25
            entry["score"] = DENSE_WEIGHT * (entry.get("dense") or 0.0) + (1 - DENSE_WEIGHT) * keyword
            entry["relevance"] = min(1.0, max(0.0, entry["score"]))

        passages = _in_time(scope, [Passage(**entry) for entry in fused.values()])
        passages = _newer_wins_ties(passages)
        trace = {
            "query": query,
            "as_of": scope.reference.isoformat(),
            "window_days": scope.window_days,
            "latest": scope.latest,
            "filters": filters.to_json() if filters else None,
            "dense": [{"chunk": c.id, "title": c.title, "similarity": round(s, 4)} for c, s in dense[:k]],
            "keyword": [{"chunk": h.chunk_id, "bm25": round(h.score, 3)} for h in kept[:k]],
            "fused": [
                {"chunk": p.chunk.id, "title": p.chunk.title, "published": p.chunk.published, "score": round(p.score, 5)}
                for p in passages[:k]
            ],
        }
        return SearchResult(passages[:k], trace, vector)

    def _limits(self, filters: Filters) -> Scope:
        """The articles and the Chroma `where` the filters leave (an index too old for them is refused)."""
        self.index.require_filter_fields()
        return self.scopes.scope(filters, self.index.store.generation())

    def _hits(self, query: str, vector, scope: TimeScope, limits: Scope | None) -> VisibleHits:
        """Both retrievers' hits of the versions this question shows (NewsIndex.search), twice the pool
        we keep (some may be other versions); with an as-of day, when later articles fill that pool, a
        larger one."""

        def enough(hits: list[DenseHit]) -> bool:
            return sum(not scope.too_new(c.published_date) for c, _ in hits) >= self.candidates

        where, articles = (limits.where, limits.articles) if limits else (None, None)
        return self.index.search(query, vector, self.candidates * 2, where, articles, enough if scope.cutoff else None)

    def _add_keyword_hits(self, fused: dict[str, dict[str, Any]], hits: list[KeywordHit], vector, scope: TimeScope) -> list[KeywordHit]:
        """Merge up to `candidates` keyword hits into `fused`; keyword-only chunks get their exact cosine
        from their stored vectors (read with them, a batch at a time: with an as-of day a chunk's date
        is known only once it is read, and later ones are skipped)."""
        kept: list[KeywordHit] = []
        for lo in range(0, len(hits), self.candidates):
            batch = hits[lo : lo + self.candidates]
            unread = [h.chunk_id for h in batch if h.chunk_id not in fused]
            fetched = {c.id: (c, v) for c, v in self.index.chunks_with_vectors(unread)}
            for hit in batch:
                entry = fused.get(hit.chunk_id)
                if entry is None:
                    if hit.chunk_id not in fetched:
                        continue  # deleted since the keyword index was built
                    chunk, chunk_vector = fetched[hit.chunk_id]
                    if scope.too_new(chunk.published_date):
                        continue
                    entry = fused[hit.chunk_id] = {"chunk": chunk, "dense": _cosine(chunk_vector, vector)}
                kept.append(hit)
                entry.update(keyword=hit.score, keyword_rank=len(kept))
                if len(kept) == self.candidates:
                    return kept
            if not scope.cutoff:
                break  # nothing else is skipped by date: the first batch is the pool
        return kept


def _in_time(scope: TimeScope, passages: list[Passage]) -> list[Passage]:
    """The question's time-scope bonuses: inside its window, and graded by date for "the latest".
    (Articles from after an as-of day never get here: both pools drop them before they are cut.)"""
    if scope.window_days is not None:
        passages = [_plus(p, WINDOW_BONUS) if scope.in_window(p.published) else p for p in passages]
    if scope.latest:
        passages = _boost_recent(passages, RECENCY_BONUS)
    return passages


def _plus(passage: Passage, bonus: float) -> Passage:
    return Passage(**{**passage.__dict__, "score": passage.score + bonus})


def _newer_wins_ties(passages: list[Passage]) -> list[Passage]:
    """Sort by score; scores within TIE of each other count as a tie, which the newer article wins."""
    dates = sorted({p.published for p in passages if p.published})
    position = {d: (i + 1) / len(dates) for i, d in enumerate(dates)}
    return sorted(passages, key=lambda p: p.score + (TIE * position[p.published] if p.published else 0.0), reverse=True)


def _cosine(a, b) -> float | None:
    if a is None:
        return None
    return float(np.dot(a, b) / ((np.linalg.norm(a) * np.linalg.norm(b)) or 1.0))


def _boost_recent(passages: list[Passage], bonus: float) -> list[Passage]:
    """For "latest"/"most recent" questions: add a bonus by the article date's rank among the hits."""
    dates = sorted({p.published for p in passages if p.published}, reverse=True)
    if len(dates) < 2:
        return passages
    rank = {d: i for i, d in enumerate(dates)}
    # The newest article gets the whole bonus, the next date half, and so on.
    return [_plus(p, bonus / (1 + rank[p.published])) if p.published else p for p in passages]
