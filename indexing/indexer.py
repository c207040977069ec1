"""sync(paths): make the index hold exactly the articles found under the paths, re-embedding only what changed."""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from indexing.embedding.models import Embedder, PooledEmbedder, SpanEmbedder
from indexing.errors import ArticleError
from indexing.plan import SyncPlan, indexing_signature, plan_sync, versioned
from indexing.settings import IndexSettings
from indexing.sources.article import Article
from indexing.sources.paths import path_text
from indexing.store.chroma import ChunkStore
from indexing.store.format import check_writable
from indexing.store.records import ArticleRecord, PreparedArticle
from indexing.store.upgrade import upgrade
from indexing.text.chunking import Chunk, chunk_text

if TYPE_CHECKING:
    import numpy as np

__all__ = ["SyncPlan", "SyncProgress", "SyncReport", "embedding_text", "indexing_signature", "plan_sync", "sync", "versioned"]

log = logging.getLogger(__name__)

Batch = list[tuple[Article, str, list[Chunk]]]  # articles (with the sha each replaces) and their chunks

# Failed files shown per kind of failure on a terminal or in a log (`--json` lists them all).
REPORTED_PATHS = 5
# Commit after this many embedded chunks: a kill loses at most the four batches in hand (~6 s of
# embedding a batch on 2 cores). Chroma costs per write as well as per chunk: 256 a commit writes
# 25% faster than 64 (2.7 against 3.6 ms a chunk, measured), and memory stays a few MB.
WRITE_BATCH_CHUNKS = 256
# A sync of at least this many articles embeds in worker processes (where the embedder has them):
# they start in about a second, which pays back once commits overlap embedding, from the second
# batch of chunks on (~32 articles of 8 chunks).
PROCESSES_FROM_ARTICLES = 32
# Batches being embedded while the next is chunked: two, so one is queued behind the other and the
# embedding never waits for the chunking.
EMBEDS_AHEAD = 2


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
            # `path` is always a file's path; `record` names the record inside it (null for a whole file).
            "failed": [{"path": e.path, "record": e.record, "error": e.reason, "kind": e.kind} for e in self.failed],
            "missing": self.missing,
            "articles": self.articles,
            "chunks": self.chunks,
        }


class SyncProgress:
    """Callbacks for a progress display; the default does nothing. `start` gets the articles to embed
    (their chunks are only known as the stream chunks them), `advance` what each commit wrote."""

    def start(self, articles: int) -> None: ...

    def advance(self, articles: int, chunks: int) -> None: ...

    def finish(self) -> None: ...


def sync(
    paths: Iterable[Path],
    store: ChunkStore,
    embedder: Embedder,
    settings: IndexSettings,
    progress: SyncProgress | None = None,
    fence: Callable[[], None] | None = None,
) -> SyncReport:
    """Add new articles, replace changed ones, drop deleted ones; skip unchanged ones without embedding.

    A stream: the plan reads the files and keeps hashes (indexing.plan), then articles are chunked,
    embedded and committed `WRITE_BATCH_CHUNKS` chunks at a time (one batch chunked while the two
    before it are embedded and the one before those is written), so memory does not grow with the
    corpus and a run killed at any moment loses at most the four batches in hand. Removals come first.
    `fence` is called before each write: it raises when this run is no longer the collection's one
    writer (indexing.store.writer_lock), so a run that lost its lock stops before writing again.
    """
    fence = fence or _no_fence
    began = time.perf_counter()
    progress = progress or SyncProgress()
    report = SyncReport()
    records, plan = _planned(paths, store, settings, report, fence)
    progress.start(len(plan.to_write))
    if plan.to_write:
        store.record_maker(embedder.backend, embedder.precision)
        _write_planned(plan, store, embedder, settings, report, progress, fence)
    progress.finish()

    # Counted, not read back: reading the whole registry again costs ~0.5 s per 10,000 articles.
    report.articles = len(records) - report.removed + report.added
    report.chunks = store.chunk_count()
    report.seconds = time.perf_counter() - began
    fence()
    store.mark_synced(articles=report.articles, chunks=report.chunks)
    return report


def _planned(
    paths: Iterable[Path], store: ChunkStore, settings: IndexSettings, report: SyncReport, fence: Callable[[], None]
) -> tuple[dict[str, ArticleRecord], SyncPlan]:
    """The store made ready (repaired, upgraded, its roots noted), the registry as read and the plan,
    with the removals it plans already done."""
    roots = [Path(p).resolve() for p in paths]
    # Nothing is written (not even a repair) into an index of a format this newsbot does not write.
    check_writable(store.meta(), settings.location)
    fence()
    report.repaired = len(store.repair())
    upgrade(store)  # an index written by an older newsbot gets the fields filters and copies need
    # Before any work: an index a killed run left empty is still the user's (never refilled with the demo seeds).
    store.note_roots([path_text(r) for r in roots if r.exists()])
    records = store.article_records()
    plan = plan_sync(roots, records, settings.max_file_bytes, indexing_signature(settings))
    report.failed, report.unchanged, report.missing = plan.failed, plan.unchanged, plan.missing
    for article_id in plan.to_remove:
        fence()
        store.remove_article(article_id)
        report.removed += 1
    return records, plan


def _write_planned(
    plan: SyncPlan,
    store: ChunkStore,
    embedder: Embedder,
    settings: IndexSettings,
    report: SyncReport,
    progress: SyncProgress,
    fence: Callable[[], None],
) -> None:
    """Chunk, embed and commit the plan's new and changed articles, batch by batch, in order."""
    chunked = (
        (article, previous, chunk_text(article.text, embedder.count_tokens, settings.chunk_tokens, settings.chunk_overlap_tokens))
        for article, previous in plan.articles()
    )
    # Three stages overlap: this thread chunks a batch while the EMBEDS_AHEAD before it are embedded
    # (their work queues up behind each other, so no core idles at the end of a batch) and the one
    # before those is written. Chroma's writes hold the GIL, which embedding threads need: a long
    # sync embeds in worker processes. Batches are committed in order.
    with (
        _embedding_processes(embedder, len(plan.to_write)),
        ThreadPoolExecutor(max_workers=EMBEDS_AHEAD, thread_name_prefix="newsbot-embed") as embedding,
        ThreadPoolExecutor(max_workers=1, thread_name_prefix="newsbot-writer") as writer,
    ):
        embeds: deque[tuple[Future[list[PreparedArticle]], Batch]] = deque()
        writing: tuple[Future[None], Batch] | None = None
        for batch in _batches(chunked, WRITE_BATCH_CHUNKS):
            embeds.append((embedding.submit(_embedded, batch, embedder), batch))
            if len(embeds) > EMBEDS_AHEAD:
                writing = _write_next(embeds.popleft(), writing, writer, store, report, progress, fence)
        while embeds:
            writing = _write_next(embeds.popleft(), writing, writer, store, report, progress, fence)
        if writing:
            _landed(*writing, report, progress)


def _no_fence() -> None:
    """A sync whose caller holds no writer lock (a test's private store)."""


def _embedding_processes(embedder: Embedder, articles: int) -> AbstractContextManager[None]:
    """The embedder's worker processes for the length of a long sync; nothing for a short one."""
    if isinstance(embedder, PooledEmbedder) and articles >= PROCESSES_FROM_ARTICLES:
        return embedder.worker_processes()
    return nullcontext()


def _write_next(
    embedded: tuple[Future[list[PreparedArticle]], Batch],
    writing: tuple[Future[None], Batch] | None,
    writer: ThreadPoolExecutor,
    store: ChunkStore,
    report: SyncReport,
    progress: SyncProgress,
    fence: Callable[[], None],
) -> tuple[Future[None], Batch]:
    """The oldest embedded batch to the writer, once the write before it has landed (in order: a
    failed write or embed stops the sync with nothing after it committed)."""
    embedding, batch = embedded
    prepared = embedding.result()
    if writing:
        _landed(*writing, report, progress)
    fence()
    return writer.submit(store.write_articles, prepared), batch


def _landed(write: Future[None], batch: Batch, report: SyncReport, progress: SyncProgress) -> None:
    """Wait for a batch's commit (its error, if any, is raised here), then count it."""
    write.result()
    for _article, previous, _ in batch:
        if previous:
            report.updated += 1
        else:
            report.added += 1
    chunks = sum(len(c) for _, _, c in batch)
    report.embedded_chunks += chunks
    progress.advance(len(batch), chunks)


def _embedded(batch: Batch, embedder: Embedder) -> list[PreparedArticle]:
    """The batch's articles with their chunks' vectors (and sentence vectors, when the model gives them)."""
    texts, spans = [], []
    for article, _, chunks in batch:
        for c in chunks:
            text, shift = embedding_text_and_shift(article, c)
            texts.append(text)
            spans.append([(a - shift, b - shift) for a, b in c.sentences])
    sentence_vectors: list[np.ndarray | None]
    if isinstance(embedder, SpanEmbedder):
        vectors, with_spans = embedder.embed_with_spans(texts, spans)
        sentence_vectors = list(with_spans)
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


def _batches(prepared: Iterable[tuple[Article, str, list[Chunk]]], max_chunks: int) -> Iterator[Batch]:
    batch: Batch = []
    size = 0
    for item in prepared:
        if batch and size + len(item[2]) > max_chunks:
            yield batch
            batch, size = [], 0
        batch.append(item)
        size += len(item[2])
    if batch:
        yield batch
