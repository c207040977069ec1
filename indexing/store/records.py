"""The store's records, and how each is laid out in Chroma's metadata: an article in the registry
(ArticleRecord), a chunk as read back (StoredChunk), and an article ready to be written."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np

from indexing.sources.article import Article
from indexing.store.fields import filter_fields
from indexing.store.span_vectors import decode_vectors, encode_vectors
from indexing.text.chunking import Chunk
from indexing.text.minhash import copy_fields


@dataclass(frozen=True)
class ArticleRecord:
    id: str
    sha256: str  # committed content hash ("" until the first commit)
    status: str  # "ok" | "pending"
    title: str
    published: str  # ISO date or ""
    source: str
    origin: str
    url: str
    n_chunks: int
    previous: str = ""  # during a replacement: the sha of the version being replaced, until its chunks are gone


@dataclass(frozen=True)
class StoredChunk:
    id: str
    article_id: str
    sha256: str
    title: str
    published: str
    source: str
    url: str
    ordinal: int
    start: int
    end: int
    text: str
    sentences: tuple[tuple[int, int], ...]
    sentence_vectors: str = ""  # encoded by indexing.store.span_vectors; "" for chunks indexed without them

    @property
    def published_date(self) -> date | None:
        """`published` as a date (None when unknown or unreadable)."""
        try:
            return date.fromisoformat(self.published) if self.published else None
        except ValueError:
            return None

    def excerpt(self, start: int, end: int) -> str:
        """The article's text from `start` to `end` (offsets into the article, inside this chunk)."""
        return self.text[start - self.start : end - self.start]

    def sentence_matrix(self, dim: int) -> np.ndarray | None:
        """One unit vector per sentence, or None when the chunk was stored without them."""
        if not self.sentence_vectors:
            return None
        matrix = decode_vectors(self.sentence_vectors, dim)
        return matrix if len(matrix) == len(self.sentences) else None

    @classmethod
    def from_chroma(cls, chunk_id: str, text: str, meta: dict[str, Any]) -> StoredChunk:
        return cls(
            id=chunk_id,
            article_id=str(meta["article_id"]),
            sha256=str(meta["sha256"]),
            title=str(meta.get("title", "")),
            published=str(meta.get("published", "")),
            source=str(meta.get("source", "")),
            url=str(meta.get("url", "")),
            ordinal=int(meta["ordinal"]),
            start=int(meta["start"]),
            end=int(meta["end"]),
            text=text,
            sentences=tuple(tuple(s) for s in json.loads(str(meta.get("sentences", "[]")))),
            sentence_vectors=str(meta.get("sentence_vectors", "")),
        )


@dataclass(frozen=True)
class PreparedArticle:
    """An article ready to write: its chunks, their vectors, and the hash it replaces ("" if new)."""

    article: Article
    chunks: Sequence[Chunk]
    vectors: np.ndarray
    previous_sha: str = ""
    sentence_vectors: Sequence[np.ndarray | None] | None = None  # per chunk: one row per sentence


def chunk_id(article: Article, ordinal: int) -> str:
    # The hash in the id keeps a new version's chunks apart from the old ones until the commit.
    return f"{article.id}#{article.sha256[:16]}#{ordinal}"


def article_meta(article: Article, n_chunks: int) -> dict[str, Any]:
    return {
        **copy_fields(article.text),  # its MinHash signature and band keys: how its wire copies are found
        "kind": "article",
        "title": article.title,
        "published": article.published.isoformat() if article.published else "",
        "source": article.source,
        "origin": article.origin,
        "url": article.url or "",
        "n_chunks": n_chunks,
    }


def chunk_meta(article: Article, chunk: Chunk, sentence_vectors: np.ndarray | None = None) -> dict[str, Any]:
    return {
        "sentence_vectors": encode_vectors(sentence_vectors) if sentence_vectors is not None else "",
        "article_id": article.id,
        "sha256": article.sha256,
        "title": article.title,
        "published": article.published.isoformat() if article.published else "",
        "source": article.source,
        "url": article.url or "",
        "ordinal": chunk.ordinal,
        "start": chunk.start,
        "end": chunk.end,
        "sentences": json.dumps(chunk.sentences),
        # What a question's source and date filters compare, inside Chroma (indexing.store.fields).
        **filter_fields(article.url, article.origin, article.published),
    }


def record_from_meta(article_id: str, meta: dict[str, Any]) -> ArticleRecord:
    return ArticleRecord(
        id=article_id,
        sha256=str(meta.get("sha256", "")),
        status=str(meta.get("status", "ok")),
        title=str(meta.get("title", "")),
        published=str(meta.get("published", "")),
        source=str(meta.get("source", "")),
        origin=str(meta.get("origin", "")),
        url=str(meta.get("url", "")),
        n_chunks=int(meta.get("n_chunks", 0)),
        previous=str(meta.get("previous", "")),
    )
