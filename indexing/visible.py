"""The read side of the commit protocol: both retrievers' hits, each article shown in one version only.

A sync may replace an article while a question is searched (the write side: indexing.store.chroma).
The version shown is the committed one when the hits hold it, else the one being replaced: never
both, never neither. "Neither", or hits of a version the registry as read does not know, happen when a
replacement landed between this question's reads (the hits, the keyword index, the registry cached
for the generation it read first); the generation then moved, and the search runs again. When the
keyword index lags behind a shown article (it still holds the old version, or not yet the new
article), the question waits for its update: the article would otherwise lose its keyword score to
another one.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import Any

import numpy as np

from indexing.keyword.bm25 import KeywordHit
from indexing.keyword.index import KeywordCache
from indexing.store.chroma import ChunkStore
from indexing.store.committed import CommittedHashes
from indexing.store.records import StoredChunk

DenseHit = tuple[StoredChunk, float]  # a chunk and its cosine similarity to the question
# Searches run again when a whole replacement of a hit article landed inside one (rare: ~100 ms windows).
ATTEMPTS = 3
POOL_GROWTH = 3  # a dense pool that `enough` rejects is asked again this many times larger


@dataclass(frozen=True)
class VisibleHits:
    """Hits of committed versions only, best first: dense (cosine) and keyword (BM25)."""

    dense: list[DenseHit]
    keyword: list[KeywordHit]
    pool: int  # how many hits each retriever was asked for


def visible_hits(
    store: ChunkStore,
    keywords: KeywordCache,
    committed: CommittedHashes,
    query: str,
    vector: np.ndarray,
    pool: int,
    where: dict[str, Any] | None = None,
    articles: AbstractSet[str] | None = None,
    enough: Callable[[list[DenseHit]], bool] | None = None,
) -> VisibleHits:
    """Up to `pool` hits of each retriever for `query` (its embedding `vector`), of the versions this
    question shows. `where` filters the dense search inside Chroma, `articles` the keyword search; a
    full dense pool that `enough` rejects (say, too many hits too new for an as-of day) is asked again
    larger."""
    for attempt in range(1, ATTEMPTS + 1):
        generation = store.generation()
        dense, wanted = _dense_hits(store, vector, pool, where, enough)
        keyword_index = keywords.current(generation, wait=False)
        keyword = keyword_index.search(query, wanted, articles)
        visible, unsure = _versions(committed, dense, keyword, generation)
        if keyword_index.generation != generation and any(keyword_index.articles.get(a, ("",))[0] != sha for a, sha in visible.items()):
            keyword = keywords.current(wait=True).search(query, wanted, articles)
            visible, unsure = _versions(committed, dense, keyword, generation)
        if not unsure or attempt == ATTEMPTS or store.generation() == generation:
            return VisibleHits(
                [(c, s) for c, s in dense if visible.get(c.article_id) == c.sha256],
                [h for h in keyword if visible.get(h.article_id) == h.sha256],
                wanted,
            )
    raise AssertionError("unreachable")


def _dense_hits(
    store: ChunkStore, vector: np.ndarray, pool: int, where: dict[str, Any] | None, enough: Callable[[list[DenseHit]], bool] | None
) -> tuple[list[DenseHit], int]:
    hits = store.query(vector, pool, where)
    if enough is not None and len(hits) == pool and not enough(hits):
        pool *= POOL_GROWTH
        hits = store.query(vector, pool, where)
    return hits, pool


def _versions(committed: CommittedHashes, dense: list[DenseHit], keyword: list[KeywordHit], generation: int) -> tuple[dict[str, str], bool]:
    """(article id -> the sha to show, whether the hits disagree with the registry as read: an article
    with a committed version none of whose hits is shown, or hits of a version it does not name)."""
    found: dict[str, set[str]] = {}
    for chunk, _ in dense:
        found.setdefault(chunk.article_id, set()).add(chunk.sha256)
    for hit in keyword:
        found.setdefault(hit.article_id, set()).add(hit.sha256)
    versions = committed.of(found, generation)
    visible: dict[str, str] = {}
    unsure = False
    for article, shas in found.items():
        current, replacing = versions.get(article, ("", ""))
        if current in shas:
            visible[article] = current
        elif replacing and replacing in shas:
            visible[article] = replacing
        unsure = unsure or bool(current and (article not in visible or shas - {current, replacing}))
    return visible, unsure
