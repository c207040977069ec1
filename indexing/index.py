"""NewsIndex: one handle on the whole index (Chroma store, embedding model, keyword cache).

The CLI, the watcher, Slack and the retriever all go through it, so they share one model load and
one view of what is committed.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from collections.abc import Set as AbstractSet
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from indexing.embedding.export import graph_path, shared_graph_path
from indexing.embedding.models import Embedder, SentenceTransformerEmbedder, get_embedder
from indexing.errors import ModelError, StoreError
from indexing.indexer import SyncProgress, SyncReport, sync
from indexing.keyword.index import KeywordCache
from indexing.settings import IndexSettings, secret
from indexing.sources.paths import path_text, root_of, text_path
from indexing.store import file_lock
from indexing.store.advisory import AdvisoryLock, is_postgres
from indexing.store.chroma import ChunkStore
from indexing.store.committed import CommittedHashes
from indexing.store.lease import ChromaLease
from indexing.store.records import StoredChunk
from indexing.store.upgrade import fields_current
from indexing.store.writer_lock import WriterLock, hold_writer
from indexing.visible import DenseHit, VisibleHits, visible_hits

log = logging.getLogger(__name__)

# How much lower a serving process's embedding workers' CPU priority is: its questions take the cores first.
WORKER_NICE = 10


@dataclass(frozen=True)
class IndexStatus:
    location: str
    mode: str  # "embedded" | "server"
    articles: int
    chunks: int
    model: str
    last_sync: str
    generation: int
    sources: tuple[tuple[str, int], ...] = ()  # (folder or file synced, articles indexed from it)

    def to_json(self) -> dict:
        payload = self.__dict__.copy()
        payload["sources"] = [{"path": path, "articles": n} for path, n in self.sources]
        return payload


class NewsIndex:
    def __init__(self, settings: IndexSettings):
        self.settings = settings
        # One sync at a time per process (the watcher, Slack's /newsbot reindex and the CLI share this).
        self.sync_lock = threading.Lock()
        self._export_lock = threading.Lock()
        self._serving: bool | None = None  # NewsIndex.serving: None until set or a first question
        self._worker_nice = 0
        self._filter_fields = False  # the filter fields were found current (they never go stale)

    @cached_property
    def store(self) -> ChunkStore:
        return ChunkStore(self.settings)

    @cached_property
    def embedder(self) -> SentenceTransformerEmbedder:
        """The torch (sentence-transformers) model: what the ONNX graphs are exported from, and the
        vectors of the `torch` backend."""
        s = self.settings
        return get_embedder(s.embed_model, s.threads, s.embed_batch_size)

    @cached_property
    def batch_embedder(self) -> Embedder:
        """What embeds many texts at once (index, re-index, eval): every core, at the index's precision.
        A new index left to `auto` whose int8 graph cannot be made gets fp32 vectors; an fp32 index whose
        graph cannot be exported embeds with torch (the same vectors) rather than fail. An int8 index
        asked for by name, or already holding int8 vectors, has no such fallback."""
        s = self.settings
        on_torch = get_embedder(s.embed_model, s.batch_thread_count, s.embed_batch_size)
        if s.backend == "torch":
            return on_torch
        if self.store.precision == "int8" and s.embed_precision == "auto" and self.store.is_new:
            try:
                self.ensure_graph()
            except ModelError as exc:
                log.warning("%s; this new index gets fp32 vectors instead", exc)
                self.store.settle_precision("fp32")
        if self.store.precision == "fp32" and not self._graph_at_hand():
            try:
                self.ensure_graph()
            except ModelError as exc:
                log.warning("%s; indexing with torch instead (the same fp32 vectors, slower)", exc)
                return on_torch
        return self._onnx(threads=1, workers=s.batch_thread_count, nice=self._worker_nice)

    @cached_property
    def query_embedder(self) -> Embedder:
        """What embeds one question: NEWSBOT_THREADS, the same graph as the index's vectors. An fp32
        index with no graph at hand (built elsewhere, or by torch, on a machine that never exported one)
        asks torch rather than export first: the same vectors."""
        s = self.settings
        if s.backend == "torch":
            return self.embedder
        if self.store.precision == "fp32" and not self._graph_at_hand():
            return self.embedder
        return self._onnx(threads=s.threads, workers=1)

    def graph_path(self) -> Path:
        """The ONNX graph for this index's precision, in the data dir (exported once, by ensure_graph)."""
        return graph_path(self.settings.data_dir / "models", self.settings.embed_model, self.store.precision)

    def _graph_at_hand(self) -> bool:
        """The index has its graph, or the machine's cache has one to copy (no export, no torch)."""
        s = self.settings
        if self.graph_path().is_file():
            return True
        from indexing.embedding.models import resolve_model_dir

        return shared_graph_path(s.cache_dir, s.embed_model, resolve_model_dir(s.embed_model), self.store.precision).is_file()

    def ensure_graph(self) -> Path:
        """The graph of this index's precision in its data dir: copied from the machine's cache, which
        exports it from the torch model first when it has none."""
        path = self.graph_path()
        with self._export_lock:
            if not path.is_file():
                from indexing.embedding.export import install_graph

                install_graph(self.embedder, path, self.store.precision, self.settings.cache_dir)
        return path

    def _onnx(self, threads: int, workers: int, nice: int = 0) -> Embedder:
        """An onnxruntime embedder of the index's graph: `workers` sessions of `threads` threads each.
        A graph not there yet (int8: no fallback, so not installed up front) is installed when the first
        vector is needed."""
        from indexing.embedding.models import resolve_model_dir
        from indexing.embedding.onnx import OnnxEmbedder

        s = self.settings
        model_dir = resolve_model_dir(s.embed_model)
        return OnnxEmbedder(
            s.embed_model,
            model_dir,
            self.graph_path(),
            self.store.precision,
            threads=threads,
            batch_size=s.embed_batch_size,
            prepare=self.ensure_graph,
            workers=workers,
            worker_nice=nice,
        )

    def serving(self, on: bool = True) -> None:
        """Whether this process answers questions while it syncs (Slack with a watcher): then questions
        come first. Chroma writes go in small calls that wait for the questions in flight
        (indexing.store.turns), and a sync's embedding worker processes run at a lower CPU priority
        (WORKER_NICE). A process's first question turns this on unless it was set."""
        self._serving = on
        self.store.turns.enable(on)
        self._worker_nice = WORKER_NICE if on else 0
        if "batch_embedder" in self.__dict__:
            from indexing.embedding.onnx import OnnxEmbedder

            if isinstance(self.batch_embedder, OnnxEmbedder):  # torch embeds in this process: no workers to lower
                self.batch_embedder.worker_nice = self._worker_nice

    @contextmanager
    def answering(self) -> Iterator[None]:
        """Around the work of one question (NewsBot.ask): a serving process's writes wait for it."""
        if self._serving is None:
            self.serving(True)  # a process that answers serves; `newsbot index` never gets here
        with self.store.turns.answering():
            yield

    @cached_property
    def keywords(self) -> KeywordCache:
        s = self.settings
        return KeywordCache(self.store, s.data_dir / "keyword" / s.collection_prefix)

    @cached_property
    def committed(self) -> CommittedHashes:
        """The committed version of each article, read per question for its hits' articles only."""
        return CommittedHashes(self.store)

    def search(
        self,
        query: str,
        vector: np.ndarray,
        pool: int,
        where: dict[str, Any] | None = None,
        articles: AbstractSet[str] | None = None,
        enough: Callable[[list[DenseHit]], bool] | None = None,
    ) -> VisibleHits:
        """Dense and keyword hits for `query`, only of the versions of articles a question may see while
        syncs commit (indexing.visible): up to `pool` each, `where` and `articles` filtering them."""
        return visible_hits(self.store, self.keywords, self.committed, query, vector, pool, where, articles, enough)

    def chunks_with_vectors(self, ids: list[str]) -> list[tuple[StoredChunk, np.ndarray | None]]:
        """Stored chunks with their vectors, for hits found without them (chunks deleted since are left out)."""
        return self.store.get_chunks_with_vectors(ids)

    def require_filter_fields(self) -> None:
        """Source and date filters compare fields that an index written by an older version lacks."""
        if not self._filter_fields:
            if not fields_current(self.store):
                raise StoreError(
                    f"the index at {self.store.settings.location} was written before source and date filters: "
                    "run `newsbot index` once to add the fields they compare (nothing is re-embedded)"
                )
            self._filter_fields = True

    def sync(
        self,
        paths: Iterable[Path] | None = None,
        progress: SyncProgress | None = None,
        wait: float | None = None,
        on_wait: Callable[[str], None] | None = None,
    ) -> SyncReport:
        """Sync the index with `paths` as the one writer of its collection: another writer (this
        process, another process, another machine) is waited for, at most `wait` seconds when given,
        `on_wait` told who it is (default: a warning in the log)."""
        targets = list(paths) if paths else list(self.settings.default_sources)
        store = self.store  # opened first: a data dir that cannot be used is a StoreError in one line
        with self.sync_lock, _syncs_of(self.settings, store, wait, on_wait) as fence:
            report = sync(targets, store, self.batch_embedder, self.settings, progress, fence=fence)
            self.keywords.current()  # bring the keyword index up to date (and save it) now, not on the first question
        return report

    def is_empty(self) -> bool:
        """A fresh index: never synced, nothing in it. What `ensure_indexed` fills with the default
        sources. An index a killed run left empty is not fresh: its sync was the user's, on their folders."""
        return self.store.chunk_count() == 0 and not self.store.synced_roots() and not self.store.meta().get("last_sync")

    def status(self) -> IndexStatus:
        meta = self.store.meta()
        records = [r for r in self.store.article_records().values() if r.sha256]
        return IndexStatus(
            location=self.settings.location,
            mode="server" if self.settings.chroma_host else "embedded",
            articles=len(records),
            chunks=self.store.chunk_count(),
            model=self.settings.embed_model,
            last_sync=str(meta.get("last_sync", "")) or "never",
            generation=int(meta.get("generation", 0)),
            sources=sources_held([r.origin for r in records], self.store.synced_roots()),
        )


@contextmanager
def _syncs_of(
    settings: IndexSettings, store: ChunkStore, wait: float | None, on_wait: Callable[[str], None] | None
) -> Iterator[Callable[[], None]]:
    """One sync at a time per collection, across processes and machines (indexing.store.writer_lock):
    two writers replacing one article at once could each delete the other's new chunks. Yields the
    fence the sync calls before each write."""
    lock = _writer_lock(settings, store)
    if lock is None:  # an embedded data dir without flock (Windows): one process at a time there
        yield lambda: None
        return
    with hold_writer(lock, wait, on_wait) as fence:
        yield fence


def _writer_lock(settings: IndexSettings, store: ChunkStore) -> WriterLock | None:
    """flock on an embedded data dir (one machine); on a Chroma server, PostgreSQL's advisory lock when
    NEWSBOT_STATE_URL is PostgreSQL, else a lease in Chroma."""
    if not settings.chroma_host:
        return file_lock.FileLock(settings.data_dir) if file_lock.available() else None
    url = secret(settings.state_url)
    if url and is_postgres(url):
        server_collection: Any = store.chunks.inner  # on a server, chromadb's own collection: it has an id
        return AdvisoryLock(url, str(server_collection.id), settings.location)
    return ChromaLease(store.writer_collection(), settings.location, settings.writer_lease)


def sources_held(origins: Iterable[str], roots: Iterable[str]) -> tuple[tuple[str, int], ...]:
    """Articles per synced root (the innermost that holds them); articles under no known root (an
    index older than root tracking) are counted by their file's folder."""
    known = [text_path(r) for r in roots]
    counts: Counter[str] = Counter()
    for origin in origins:
        root = root_of(origin, known)
        counts[path_text(root) if root is not None else path_text(text_path(origin).parent)] += 1
    return tuple(sorted(counts.items()))
