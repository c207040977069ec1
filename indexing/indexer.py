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
from indexing.sources.files import iter_article_files, read_file
from indexing.store.chroma import ArticleRecord, ChunkStore, PreparedArticle, is_under
from indexing.text.chunking import Chunk, chunk_text

log = logging.getLogger(__name__)

# Bump when chunking changes in a way that must re-chunk indexed articles.
_CHUNKER_VERSION = "1"
# Embed this many chunks at once: big enough for throughput, small enough to commit often.
_EMBED_BATCH_CHUNKS = 256


@dataclass
class SyncReport:
    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    repaired: int = 0
    failed: list[ArticleError] = field(default_factory=list)
    articles: int = 0
    chunks: int = 0
    embedded_chunks: int = 0
    seconds: float = 0.0

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed or self.repaired)

    def to_json(self) -> dict:
        return {
            "added": self.added,
            "updated": self.updated,
            "removed": self.removed,
            "unchanged": self.unchanged,
            "failed": [{"path": e.path, "error": e.reason} for e in self.failed],
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


def indexing_signature(settings: IndexSettings) -> str:
    """What, besides an article's content, shapes its chunks and vectors: a change re-indexes it."""
    return f"{settings.embed_model}|{settings.chunk_tokens}|{settings.chunk_overlap_tokens}|{_CHUNKER_VERSION}"


def versioned(article: Article, signature: str) -> Article:
    """The article with a hash over its content and the indexing signature: what the store compares."""
    return replace(article, sha256=hashlib.sha256(f"{article.sha256}|{signature}".encode()).hexdigest())


def plan_sync(paths: Sequence[Path], records: dict[str, ArticleRecord], max_file_bytes: int, signature: str = "") -> _Plan:
    roots = [Path(p).resolve() for p in paths]
    found: dict[str, Article] = {}
    failed: list[ArticleError] = []
    incomplete_files: set[str] = set()
    for root in roots:
        if not root.exists():
            failed.append(ArticleError(str(root), "no such file or folder"))
    for path in iter_article_files(p for p in roots if p.exists()):
        read = read_file(path, max_bytes=max_file_bytes)
        failed.extend(read.errors)
        if not read.complete:
            incomplete_files.add(str(read.path))
        for article in read.articles:
            if article.id in found:
                failed.append(ArticleError(str(path), f"duplicate article id {article.id!r}, already read from {found[article.id].origin}"))
                continue
            found[article.id] = versioned(article, signature) if signature else article
    to_write, unchanged = [], 0
    for article in found.values():
        record = records.get(article.id)
        if record and record.sha256 == article.sha256 and record.status == "ok":
            unchanged += 1
        else:
            to_write.append((article, record.sha256 if record else ""))
    # Only articles from files we read completely may go: a broken file never loses its indexed
    # articles, and a root that is missing (an unmounted drive, a mistyped path) removes nothing.
    present = [root for root in roots if root.exists()]
    to_remove = [r.id for r in records.values() if r.id not in found and is_under(r.origin, present) and r.origin not in incomplete_files]
    return _Plan(to_write, to_remove, unchanged, failed)


def sync(
    paths: Iterable[Path],
    store: ChunkStore,
    embedder: Embedder,
    settings: IndexSettings,
    progress: SyncProgress | None = None,
) -> SyncReport:
    """Add new articles, replace changed ones, drop deleted ones; skip unchanged ones without embedding."""
    began = time.perf_counter()
    progress = progress or SyncProgress()
    report = SyncReport()
    report.repaired = len(store.repair())
    plan = plan_sync(list(paths), store.article_records(), settings.max_file_bytes, indexing_signature(settings))
    report.failed, report.unchanged = plan.failed, plan.unchanged
    for article_id in plan.to_remove:
        store.remove_article(article_id)
        report.removed += 1

    prepared = [
        (article, previous, chunk_text(article.text, embedder.count_tokens, settings.chunk_tokens, settings.chunk_overlap_tokens))
        for article, previous in plan.to_write
    ]
    progress.start(len(prepared), sum(len(chunks) for _, _, chunks in prepared))
    for batch in _batches(prepared, _EMBED_BATCH_CHUNKS):
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
        store.write_articles(items)
        for _article, previous, _ in batch:
            if previous:
                report.updated += 1
            else:
                report.added += 1
        report.embedded_chunks += len(texts)
        progress.advance(len(batch), len(texts))
    progress.finish()

    report.articles = len(store.article_records())
    report.chunks = store.chunk_count()
    report.seconds = time.perf_counter() - began
    store.mark_synced(articles=report.articles, chunks=report.chunks)
    return report


def embedding_text(article: Article, chunk: str) -> str:
    """What the model sees for a chunk: the title gives it the topic the chunk may not repeat."""
    return f"{article.title}\n{chunk}" if article.title else chunk


def embedding_text_and_shift(article: Article, chunk: Chunk) -> tuple[str, int]:
    """The embedding text and the number to subtract from article offsets to index into it."""
    text = embedding_text(article, chunk.text)
    return text, chunk.start - (len(text) - len(chunk.text))


def _batches(prepared: list[tuple[Article, str, list]], max_chunks: int) -> Iterable[list[tuple[Article, str, list]]]:
    batch: list[tuple[Article, str, list]] = []
    size = 0
    for item in prepared:
        if batch and size + len(item[2]) > max_chunks:
            yield batch
            batch, size = [], 0
        batch.append(item)
        size += len(item[2])
    if batch:
        yield batch
