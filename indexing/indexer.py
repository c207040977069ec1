"""sync(paths): make the index hold exactly the articles found under the paths, re-embedding only what changed."""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from indexing.embedding.models import Embedder
from indexing.errors import ArticleError
from indexing.settings import IndexSettings
from indexing.sources.article import Article
from indexing.sources.files import read_file
from indexing.sources.paths import is_under, path_text
from indexing.sources.scan import scan
from indexing.store.chroma import ArticleRecord, ChunkStore, PreparedArticle
from indexing.text.chunking import Chunk, chunk_text

log = logging.getLogger(__name__)

# Bump when chunking changes in a way that must re-chunk indexed articles.
_CHUNKER_VERSION = "1"
# Failed files shown per kind of failure on a terminal or in a log (`--json` lists them all).
REPORTED_PATHS = 5
# Commit after this many embedded chunks: a kill loses at most this much work (~3 s of embedding on
# 2 cores), and each commit's four Chroma writes (~0.1 s) cost under 5% of the time it saves.
WRITE_BATCH_CHUNKS = 64


@dataclass
class SyncReport:
    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    repaired: int = 0
    failed: list[ArticleError] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # roots given that do not exist
    articles: int = 0
    chunks: int = 0
    embedded_chunks: int = 0
    seconds: float = 0.0

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed or self.repaired)

    def failures_by_kind(self, first: int = REPORTED_PATHS) -> list[tuple[str, int, list[ArticleError]]]:
        """(kind, how many, the first `first` of them) per kind of failure, the most frequent first:
        what a terminal or a log shows (50,000 empty records are one line, not 50,000)."""
        groups: dict[str, list[ArticleError]] = {}
        for error in self.failed:
            groups.setdefault(error.kind, []).append(error)
        return [(kind, len(errors), errors[:first]) for kind, errors in sorted(groups.items(), key=lambda kv: -len(kv[1]))]

    def to_json(self) -> dict:
        return {
            "added": self.added,
            "updated": self.updated,
            "removed": self.removed,
            "unchanged": self.unchanged,
            "failed": [{"path": e.path, "error": e.reason, "kind": e.kind} for e in self.failed],
            "missing": self.missing,
            "articles": self.articles,
            "chunks": self.chunks,
        }


class SyncProgress:
    """Callbacks for a progress display; the default does nothing."""

    def start(self, articles: int, chunks: int) -> None: ...

    def advance(self, articles: int, chunks: int) -> None: ...

    def finish(self) -> None: ...


@dataclass
class _Plan:
    to_write: list[tuple[Article, str]]  # (article, previously committed sha or "")
    to_remove: list[str]
    unchanged: int
    failed: list[ArticleError]
    missing: list[str] = field(default_factory=list)  # roots that do not exist


def indexing_signature(settings: IndexSettings) -> str:
    """What, besides an article's content, shapes its chunks and vectors: a change re-indexes it."""
    return f"{settings.embed_model}|{settings.chunk_tokens}|{settings.chunk_overlap_tokens}|{_CHUNKER_VERSION}"


def versioned(article: Article, signature: str) -> Article:
    """The article with a hash over its content and the indexing signature: what the store compares."""
    return replace(article, sha256=hashlib.sha256(f"{article.sha256}|{signature}".encode()).hexdigest())


def plan_sync(paths: Sequence[Path], records: dict[str, ArticleRecord], max_file_bytes: int, signature: str = "") -> _Plan:
    roots = [Path(p).resolve() for p in paths]
    found: dict[str, Article] = {}
    entries = scan(roots)
    failed: list[ArticleError] = list(entries.problems)
    # Paths whose previously indexed articles stay: reported entries, files not read completely,
    # missing roots (an unmounted drive, a mistyped path). A broken file never loses its articles.
    held: list[Path] = list(entries.held)
    for path in entries.files:
        read = read_file(path, max_bytes=max_file_bytes)
        failed.extend(read.errors)
        if not read.complete:
            held.append(read.path)
        for article in read.articles:
            if article.id in found:
                failed.append(
                    ArticleError(
                        path_text(path),
                        f"duplicate article id {article.id!r}, already read from {found[article.id].origin}",
                        "duplicate id",
                    )
                )
                continue
            found[article.id] = versioned(article, signature) if signature else article
    to_write, unchanged = [], 0
    for article in found.values():
        record = records.get(article.id)
        if record and record.sha256 == article.sha256 and record.status == "ok":
            unchanged += 1
        else:
            to_write.append((article, record.sha256 if record else ""))
    to_remove = [r.id for r in records.values() if r.id not in found and is_under(r.origin, roots) and not is_under(r.origin, held)]
    return _Plan(to_write, to_remove, unchanged, failed, missing=[path_text(p) for p in entries.missing])


def sync(
    paths: Iterable[Path],
    store: ChunkStore,
    embedder: Embedder,
    settings: IndexSettings,
    progress: SyncProgress | None = None,
) -> SyncReport:
    """Add new articles, replace changed ones, drop deleted ones; skip unchanged ones without embedding.

    Written as it goes: removals first, then every `WRITE_BATCH_CHUNKS` embedded chunks are committed
    before the next are embedded, so a run killed at any moment loses at most the batch in hand.
    """
    began = time.perf_counter()
    progress = progress or SyncProgress()
    report = SyncReport()
    roots = [Path(p).resolve() for p in paths]
    report.repaired = len(store.repair())
    # Before any work: an index a killed run left empty is still the user's (never refilled with the demo seeds).
    store.note_roots([path_text(r) for r in roots if r.exists()])
    plan = plan_sync(roots, store.article_records(), settings.max_file_bytes, indexing_signature(settings))
    report.failed, report.unchanged, report.missing = plan.failed, plan.unchanged, plan.missing
    for article_id in plan.to_remove:
        store.remove_article(article_id)
        report.removed += 1

    prepared = [
        (article, previous, chunk_text(article.text, embedder.count_tokens, settings.chunk_tokens, settings.chunk_overlap_tokens))
        for article, previous in plan.to_write
    ]
    progress.start(len(prepared), sum(len(chunks) for _, _, chunks in prepared))
    for batch in _batches(prepared, WRITE_BATCH_CHUNKS):
        store.write_articles(_embedded(batch, embedder))
        for _article, previous, _ in batch:
            if previous:
                report.updated += 1
            else:
                report.added += 1
        chunks = sum(len(c) for _, _, c in batch)
        report.embedded_chunks += chunks
        progress.advance(len(batch), chunks)
    progress.finish()

    report.articles = len(store.article_records())
    report.chunks = store.chunk_count()
    report.seconds = time.perf_counter() - began
    store.mark_synced(articles=report.articles, chunks=report.chunks)
    return report


def _embedded(batch: list[tuple[Article, str, list[Chunk]]], embedder: Embedder) -> list[PreparedArticle]:
    """The batch's articles with their chunks' vectors (and sentence vectors, when the model gives them)."""
    texts, spans = [], []
    for article, _, chunks in batch:
        for c in chunks:
            text, shift = embedding_text_and_shift(article, c)
            texts.append(text)
            spans.append([(a - shift, b - shift) for a, b in c.sentences])
    if hasattr(embedder, "embed_with_spans"):
        vectors, sentence_vectors = embedder.embed_with_spans(texts, spans)
    else:  # an embedder without token access: sentences get embedded at question time instead
        vectors, sentence_vectors = embedder.embed_documents(texts), [None] * len(texts)
    items, offset = [], 0
    for article, previous, chunks in batch:
        part = slice(offset, offset + len(chunks))
        items.append(PreparedArticle(article, chunks, vectors[part], previous, sentence_vectors[part]))
        offset += len(chunks)
    return items


def embedding_text(article: Article, chunk: str) -> str:
    """What the model sees for a chunk: the title gives it the topic the chunk may not repeat."""
    return f"{article.title}\n{chunk}" if article.title else chunk


def embedding_text_and_shift(article: Article, chunk: Chunk) -> tuple[str, int]:
    """The embedding text and the number to subtract from article offsets to index into it."""
    text = embedding_text(article, chunk.text)
    return text, chunk.start - (len(text) - len(chunk.text))


def _batches(prepared: list[tuple[Article, str, list[Chunk]]], max_chunks: int) -> Iterable[list[tuple[Article, str, list[Chunk]]]]:
    batch: list[tuple[Article, str, list[Chunk]]] = []
    size = 0
    for item in prepared:
        if batch and size + len(item[2]) > max_chunks:
            yield batch
            batch, size = [], 0
        batch.append(item)
        size += len(item[2])
    if batch:
        yield batch
