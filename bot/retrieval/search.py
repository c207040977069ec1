"""Hybrid retrieval: dense (Chroma) + keyword (BM25), fused by a weighted sum of scores, recency-aware.

`HybridSearch.search()` is the typed core the chain uses, with a trace for `--explain` (no LangChain
here: bot.langchain adapts it as a `BaseRetriever`).
Only committed chunks are ever returned: per article, one version, the committed one or (during its
replacement) the one being replaced, read from the registry for the hits' articles only and cached
per sync generation (indexing.store.committed). So a question asked while a sync replaces an
article gets the old version or the new one, never half of one, and never another article instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np

from bot.retrieval.filters import Filters, FilterScopes, Scope
from bot.retrieval.timescope import TimeScope, time_scope
from indexing.errors import StoreError
from indexing.index import NewsIndex
from indexing.keyword.index import KeywordHit
from indexing.store.committed import CommittedHashes
from indexing.store.records import StoredChunk
from indexing.store.upgrade import fields_current

# Convex fusion of cosine and max-normalised BM25. On RealTimeQA dev this beat reciprocal rank
# fusion (MRR 0.71 vs 0.68, recall@5 0.93 vs 0.90); 0.7 was the best of 0.3-0.8.
DENSE_WEIGHT = 0.7
TIE = 0.002  # scores closer than this are a tie
RECENCY_BONUS = 0.05  # "the latest": about the gap between a good and a near-duplicate passage
# "this week", "recently": articles inside the question's time window are preferred, a soft filter
# (on RealTimeQA dev, 0.1 took MRR from 0.74 to 0.81; 0.05 gave 0.76, 0.2 0.82, a hard filter 0.82).
WINDOW_BONUS = 0.1
# Searches run again when a whole replacement of a hit article landed inside one (rare: ~100 ms windows).
_ATTEMPTS = 3


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
        self.committed = CommittedHashes(index.store)
        self.scopes = FilterScopes(index.store, feeds)  # feeds: a followed feed's name -> its site's domain
        self._fields_current = False

    def search(self, query: str, k: int = 8, query_vector=None, as_of: date | None = None, filters: Filters | None = None) -> SearchResult:
        """The k best committed passages for `query`, asked on `as_of` (default today; see bot.retrieval.timescope),
        among the articles that pass `filters` (bot.retrieval.filters: inside both retrievers)."""
        limits = self._limits(filters) if filters else None
        if limits is not None and limits.empty_because:
            trace: dict[str, Any] = {"query": query, "filters": filters.to_json() if filters else None, "empty": limits.empty_because}
            return SearchResult([], trace, query_vector, limits.empty_because)
        vector = self.index.query_embedder.embed_query(query) if query_vector is None else query_vector
        scope = time_scope(query, as_of)
        dense_hits, keyword_hits, visible = self._visible_hits(query, vector, scope, limits)
        dense = [(c, sim) for c, sim in dense_hits if visible.get(c.article_id) == c.sha256 and not scope.too_new(c.published_date)][
            : self.candidates
        ]
        fused: dict[str, dict[str, Any]] = {}
        for rank, (chunk, sim) in enumerate(dense, start=1):
            fused[chunk.id] = {"chunk": chunk, "dense": sim, "dense_rank": rank}
        kept = self._add_keyword_hits(fused, [h for h in keyword_hits if visible.get(h.article_id) == h.sha256], vector, scope)
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
        store = self.index.store
        if not self._fields_current:
            if not fields_current(store):
                raise StoreError(
                    f"the index at {store.settings.location} was written before source and date filters: "
                    "run `newsbot index` once to add the fields they compare (nothing is re-embedded)"
                )
            self._fields_current = True
        return self.scopes.scope(filters, store.generation())

    def _visible_hits(
        self, query: str, vector, scope: TimeScope, limits: Scope | None = None
    ) -> tuple[list, list[KeywordHit], dict[str, str]]:
        """Both retrievers' hits and, per article among them, the one version of it this query shows.

        A sync may replace an article while this runs. The version shown is the committed one when
        the hits hold it, else the one being replaced: never both, never neither. "Neither", or hits
        of a version the registry as read does not know, happen when a replacement landed between
        this question's reads (the hits, the keyword index, the registry cached for the generation
        it read first); the generation then moved, and the search runs again. When the keyword
        index lags behind a shown article (it still holds the old version, or not yet the new
        article), the question waits for its update: the article would otherwise lose its keyword
        score to another one.
        """
        store = self.index.store
        for attempt in range(1, _ATTEMPTS + 1):
            generation = store.generation()
            dense_hits, wanted = self._dense_hits(vector, scope, limits.where if limits else None)
            articles = limits.articles if limits else None
            keywords = self.index.keywords.current(generation, wait=False)
            keyword_hits = keywords.search(query, wanted, articles)
            visible, unsure = self._versions(dense_hits, keyword_hits, generation)
            if keywords.generation != generation and any(keywords.articles.get(a, ("",))[0] != sha for a, sha in visible.items()):
                keyword_hits = self.index.keywords.current(wait=True).search(query, wanted, articles)
                visible, unsure = self._versions(dense_hits, keyword_hits, generation)
            if not unsure or attempt == _ATTEMPTS or store.generation() == generation:
                return dense_hits, keyword_hits, visible
        raise AssertionError("unreachable")

    def _versions(self, dense_hits: list, keyword_hits: list[KeywordHit], generation: int) -> tuple[dict[str, str], bool]:
        """(article id -> the sha to show, whether the hits disagree with the registry as read: an article
        with a committed version none of whose hits is shown, or hits of a version it does not name)."""
        found: dict[str, set[str]] = {}
        for chunk, _ in dense_hits:
            found.setdefault(chunk.article_id, set()).add(chunk.sha256)
        for hit in keyword_hits:
            found.setdefault(hit.article_id, set()).add(hit.sha256)
        versions = self.committed.of(found, generation)
        visible: dict[str, str] = {}
        unsure = False
        for article, shas in found.items():
            committed, replacing = versions.get(article, ("", ""))
            if committed in shas:
                visible[article] = committed
            elif replacing and replacing in shas:
                visible[article] = replacing
            unsure = unsure or bool(committed and (article not in visible or shas - {committed, replacing}))
        return visible, unsure

    def _dense_hits(self, vector, scope: TimeScope, where: dict[str, Any] | None = None) -> tuple[list, int]:
        """Dense hits, twice the pool we keep (some may be other versions), and that pool size. With
        an as-of day, when later articles fill that pool, a pool three times larger. `where` filters
        inside Chroma's search."""
        store, wanted = self.index.store, self.candidates * 2
        dense_hits = store.query(vector, wanted, where)
        if scope.cutoff and len(dense_hits) == wanted:
            in_time = sum(not scope.too_new(c.published_date) for c, _ in dense_hits)
            if in_time < self.candidates:
                wanted *= 3
                dense_hits = store.query(vector, wanted, where)
        return dense_hits, wanted

    def _add_keyword_hits(self, fused: dict[str, dict[str, Any]], hits: list[KeywordHit], vector, scope: TimeScope) -> list[KeywordHit]:
        """Merge up to `candidates` keyword hits into `fused`; keyword-only chunks get their exact cosine
        from their stored vectors (read with them, a batch at a time: with an as-of day a chunk's date
        is known only once it is read, and later ones are skipped)."""
        kept: list[KeywordHit] = []
        for lo in range(0, len(hits), self.candidates):
            batch = hits[lo : lo + self.candidates]
            unread = [h.chunk_id for h in batch if h.chunk_id not in fused]
            fetched = {c.id: (c, v) for c, v in self.index.store.get_chunks_with_vectors(unread)}
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
