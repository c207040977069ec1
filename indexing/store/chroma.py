"""The Chroma index: chunk vectors plus an article registry that makes every write crash-safe.

Two collections share a prefix:
- `<prefix>_chunks`: one record per chunk (vector, text, offsets, article id and article sha256).
- `<prefix>_articles`: one record per article (its committed sha256 and a status) and one meta
  record (sync generation, last sync, and the precision and backend that made the vectors).

A chunk is visible to queries only when its sha256 equals its article's committed sha256, so an article is replaced
atomically by one small upsert. Order for a write: mark pending, add chunks, commit (flip the sha), delete stale chunks,
mark ok. `repair()` finishes or undoes any article a crash left pending. The registry lives in Chroma itself, so
several processes sharing one Chroma server share it too.

Every registry write stamps its records `changed` (the writer's clock, ns), and a removed article leaves a tombstone
(kind "removed") for `REMOVED_KEPT_NS`: what `records_changed_since` reads, so a reader catching up (the keyword
index) reads what changed, not the whole registry.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np

from indexing.errors import StoreError
from indexing.settings import IndexSettings
from indexing.sources.article import Article
from indexing.store.connect import client_turns, open_client
from indexing.store.format import format_fields
from indexing.store.guard import GuardedCollection
from indexing.store.paging import WRITE_BATCH, read_all
from indexing.store.records import (
    ArticleRecord,
    PreparedArticle,
    StoredChunk,
    article_meta,
    chunk_id,
    chunk_meta,
    record_from_meta,
)
from indexing.text import minhash
from indexing.text.chunking import Chunk

META_ID = "__newsbot_meta__"
_REGISTRY_VECTOR = [1.0]  # the registry needs no vectors; Chroma needs one per record
# How long a removed article's tombstone stays: a reader that caught up longer ago reads the whole registry.
REMOVED_KEPT_NS = 7 * 24 * 3600 * 10**9
# How far before its stamp a reader catching up re-reads registry changes: writes still in flight when it
# read (one machine's clock: seconds at most), and on a Chroma server, writers' clocks apart.
CHANGE_MARGIN_NS = {"embedded": 30 * 10**9, "server": 10 * 60 * 10**9}
_TOMBSTONE = {"kind": "removed", "sha256": "", "previous": "", "status": "removed", "n_chunks": 0}


class ChunkStore:
    def __init__(self, settings: IndexSettings, embed_model: str | None = None, client: Any = None):
        self.settings = settings
        self.client = client or open_client(settings)
        model = embed_model or settings.embed_model
        prefix = settings.collection_prefix
        try:
            chunks = self.client.get_or_create_collection(
                f"{prefix}_chunks", metadata={"hnsw:space": "cosine", "embed_model": model}, embedding_function=None
            )
            articles = self.client.get_or_create_collection(f"{prefix}_articles", embedding_function=None)
        except StoreError:
            raise
        except Exception as exc:
            raise StoreError(f"cannot open the index collections at {settings.location}: {exc}") from exc
        self.turns = client_turns(self.client)  # questions first while serving (NewsIndex.serving)
        self.chunks = GuardedCollection(chunks, settings.location, self.turns)
        self.articles = GuardedCollection(articles, settings.location, self.turns)
        built_with = (self.chunks.metadata or {}).get("embed_model")
        if built_with and built_with != model:
            raise StoreError(
                f"the index at {settings.location} was built with the embedding model {built_with!r}, not {model!r}; "
                f"set NEWSBOT_EMBED_MODEL={built_with} or use another NEWSBOT_DATA_DIR / NEWSBOT_COLLECTION"
            )
        meta = self.meta()
        self._maker_recorded = bool(meta.get("embed_precision"))
        self._maker_guessed = not self._maker_recorded and not self.chunk_count()  # empty: the settings' guess
        self.precision, self.built_by = self._vectors_made_by(meta)

    def writer_collection(self) -> GuardedCollection:
        """`<prefix>_writer`: the writer lease of this collection prefix (indexing.store.lease)."""
        name = f"{self.settings.collection_prefix}_writer"
        return GuardedCollection(self.client.get_or_create_collection(name, embedding_function=None), self.settings.location)

    def _vectors_made_by(self, meta: dict[str, Any]) -> tuple[str, str]:
        """(precision, backend) of the index's vectors: as recorded before its first vector was written;
        an index from before precisions were recorded holds torch's fp32 vectors; an index without
        vectors takes the settings'. Settings whose vectors would not compare are refused."""
        if meta.get("embed_precision"):
            made_by = (str(meta["embed_precision"]), str(meta.get("embed_backend", "")))
        elif self.chunk_count():
            made_by = ("fp32", "torch")
        else:
            return self.settings.new_index_precision, self.settings.backend
        _check_precision(self.settings, *made_by)
        return made_by

    @property
    def change_margin_ns(self) -> int:
        return CHANGE_MARGIN_NS["server" if self.settings.chroma_host else "embedded"]

    @property
    def is_new(self) -> bool:
        """No vectors yet and no maker recorded: its precision is still the settings' guess."""
        return self._maker_guessed and not self._maker_recorded

    def settle_precision(self, precision: str) -> None:
        """Give a new index (no vectors, no maker recorded) other vectors than the settings' guess: the
        fallback when the guessed precision's graph cannot be made."""
        if not self.is_new:
            raise StoreError(f"the index at {self.settings.location} already holds {self.precision} vectors")
        self.precision = precision

    def record_maker(self, backend: str, precision: str) -> None:
        """Say what makes this index's vectors before the first of them is stored (once per store). A
        maker of another precision is refused: its vectors would not compare with the index's."""
        if precision != self.precision:
            raise StoreError(f"the index at {self.settings.location} holds {self.precision} vectors; {precision} ones cannot join them")
        if self._maker_recorded:
            return
        if self._maker_guessed:
            self.built_by = backend
        meta: dict[str, Any] = {"kind": "meta", "embed_precision": self.precision, "embed_backend": self.built_by}
        if self._maker_guessed:  # a new index: written in this newsbot's format from the start
            meta.update(format_fields())
        self._put_records([META_ID], [meta])
        self._maker_recorded = True

    # ---- the registry -------------------------------------------------------------------------
    def article_records(self) -> dict[str, ArticleRecord]:
        return {i: record_from_meta(i, m) for i, m in read_all(self.articles, where={"kind": "article"}, include=["metadatas"])}

    def committed_hashes(self) -> dict[str, str]:
        """article id -> committed sha256, for every article."""
        return {i: r.sha256 for i, r in self.article_records().items() if r.sha256}

    def committed_hashes_of(self, article_ids: Sequence[str]) -> dict[str, str]:
        """article id -> committed sha256, for these articles only."""
        return {a: sha for a, (sha, _) in self.committed_versions_of(article_ids).items()}

    def committed_versions_of(self, article_ids: Sequence[str]) -> dict[str, tuple[str, str]]:
        """article id -> (committed sha256, the sha it is replacing or ""), for these articles only: what
        every query filters its hits by (a query may see the old version or the new, never neither)."""
        if not article_ids:
            return {}
        got = self.articles.get(ids=list(article_ids), include=["metadatas"])
        records = (record_from_meta(i, m) for i, m in zip(got["ids"], got["metadatas"] or []) if m and m.get("kind") == "article")
        return {r.id: (r.sha256, r.previous) for r in records if r.sha256}

    def records_changed_since(self, since_ns: int) -> dict[str, ArticleRecord | None]:
        """article id -> its record (None: removed) for every article written or removed after `since_ns`
        by the writers' clocks: a cost in proportion to what changed. Removals older than
        REMOVED_KEPT_NS are forgotten; a reader further behind reads `article_records()` instead."""
        changes: dict[str, ArticleRecord | None] = {}
        for article_id, meta in read_all(self.articles, where={"changed": {"$gt": int(since_ns)}}, include=["metadatas"]):
            kind = meta.get("kind")
            if kind == "article":
                changes[article_id] = record_from_meta(article_id, meta)
            elif kind == "removed":
                changes[article_id] = None
        return changes

    def copies_of(self, article_ids: Sequence[str]) -> dict[str, list[ArticleRecord]]:
        """article id -> the other committed articles that are copies of it (indexing.text.minhash): the
        records sharing one of its band keys, confirmed by their signatures. Read from the records as
        they are now, so a copy changed or removed is no longer one."""
        got = self.articles.get(ids=list(dict.fromkeys(article_ids)), include=["metadatas"])
        signatures = {i: (m, minhash.decode(str(m.get("minhash", "")))) for i, m in zip(got["ids"], got["metadatas"] or []) if m}
        asked = {i: (m, sig) for i, (m, sig) in signatures.items() if sig is not None}
        bands = [{f"copy_band_{b}": int(m[f"copy_band_{b}"])} for m, _ in asked.values() for b in range(minhash.BANDS)]
        if not bands:
            return {}
        where = bands[0] if len(bands) == 1 else {"$or": bands}
        copies: dict[str, list[ArticleRecord]] = {}
        for other_id, meta in read_all(self.articles, where=where, include=["metadatas"]):
            other = minhash.decode(str(meta.get("minhash", "")))
            if meta.get("kind") != "article" or not meta.get("sha256") or other is None:
                continue
            for article_id, (_, sig) in asked.items():
                if other_id != article_id and minhash.similarity(sig, other) >= minhash.COPY_JACCARD:
                    copies.setdefault(article_id, []).append(record_from_meta(other_id, meta))
        return copies

    # ---- writing articles ---------------------------------------------------------------------
    def write_articles(self, items: Sequence[PreparedArticle]) -> None:
        """Add or replace several articles with four writes in all (plus one delete per replaced one).

        The chunks of all the articles go in together (one upsert per `WRITE_BATCH` chunks), not one write
        per article: each Chroma write costs ~30 ms whatever its size.
        """
        if not items:
            return
        metas = {p.article.id: article_meta(p.article, len(p.chunks)) for p in items}
        self.record_maker(self.built_by, self.precision)  # when the caller did not say (the indexer does)
        self._put_records(
            [p.article.id for p in items],
            [{**metas[p.article.id], "sha256": p.previous_sha, "status": "pending"} for p in items],
        )
        self._upsert_chunks(
            [chunk_id(p.article, c.ordinal) for p in items for c in p.chunks],
            np.concatenate([np.asarray(p.vectors, dtype=np.float32) for p in items]),
            [c.text for p in items for c in p.chunks],
            [chunk_meta(p.article, c, sv) for p in items for c, sv in zip(p.chunks, p.sentence_vectors or [None] * len(p.chunks))],
        )
        # The commit point: new hashes become visible together with a new generation. A replaced
        # article names the version it replaces until that version's chunks are gone, so a query that
        # found only the old chunks (read just before the commit) still shows the old version.
        replaced = [p for p in items if p.previous_sha]
        commits = [
            {**metas[p.article.id], "sha256": p.article.sha256, "previous": p.previous_sha, "status": "pending" if p.previous_sha else "ok"}
            for p in items
        ]
        self._put_records([p.article.id for p in items] + [META_ID], commits + [self._next_generation()])
        for p in replaced:
            self._delete_stale_chunks(p.article.id, keep_sha=p.article.sha256)
        if replaced:
            # A new generation after the stale chunks went too: a keyword index built while they were
            # being deleted carries the older generation, so readers reconcile it instead of keeping it.
            self._put_records(
                [p.article.id for p in replaced] + [META_ID],
                [{**metas[p.article.id], "sha256": p.article.sha256, "previous": "", "status": "ok"} for p in replaced]
                + [self._next_generation()],
            )

    def put_article_records(self, ids: list[str], metas: list[dict[str, Any]]) -> None:
        """Rewrite registry records as given (an upgrade adding fields; the generation stays)."""
        self._put_records(ids, metas)

    def _put_records(self, ids: list[str], metas: list[dict[str, Any]]) -> None:
        # What records_changed_since finds them by: the generation written with them, if any, so that
        # records committed with generation G are never "changed after G".
        generations = [m["generation"] for m in metas if m.get("kind") == "meta" and "generation" in m]
        changed = generations[0] if generations else time.time_ns()
        stamped = [m if m.get("kind") == "meta" else {**m, "changed": changed} for m in metas]
        self.articles.upsert(ids=ids, embeddings=[_REGISTRY_VECTOR] * len(ids), metadatas=stamped)

    def add_chunks(self, article: Article, chunks: Sequence[Chunk], vectors: np.ndarray) -> None:
        self._upsert_chunks(
            [chunk_id(article, c.ordinal) for c in chunks],
            vectors,
            [c.text for c in chunks],
            [chunk_meta(article, c) for c in chunks],
        )

    def _upsert_chunks(self, ids: list[str], vectors: np.ndarray, documents: list[str], metadatas: list[dict[str, Any]]) -> None:
        for lo in range(0, len(ids), WRITE_BATCH):
            hi = lo + WRITE_BATCH
            self.chunks.upsert(ids=ids[lo:hi], embeddings=vectors[lo:hi], documents=documents[lo:hi], metadatas=metadatas[lo:hi])

    def remove_article(self, article_id: str) -> None:
        # Chunks first: a crash in between leaves a record with no chunks, which the next sync removes again.
        # The record becomes a tombstone, in one write with the new generation.
        self.chunks.delete(where={"article_id": article_id})
        self._put_records([article_id, META_ID], [dict(_TOMBSTONE), self._next_generation()])

    def _delete_stale_chunks(self, article_id: str, keep_sha: str) -> None:
        self.chunks.delete(where={"$and": [{"article_id": article_id}, {"sha256": {"$ne": keep_sha}}]})

    def repair(self) -> list[str]:
        """Finish or undo articles a crash left pending; returns their ids."""
        pending = read_all(self.articles, where={"status": "pending"}, include=["metadatas"])
        for article_id, meta in pending:
            committed = str(meta.get("sha256", ""))
            if committed:
                self._delete_stale_chunks(article_id, keep_sha=committed)
                self._put_records([article_id], [{**meta, "previous": "", "status": "ok"}])
            else:
                self.chunks.delete(where={"article_id": article_id})
                self.articles.delete(ids=[article_id])
        if pending:
            self.bump_generation()
        return [article_id for article_id, _ in pending]

    # ---- the meta record ----------------------------------------------------------------------
    def meta(self) -> dict[str, Any]:
        got = self.articles.get(ids=[META_ID], include=["metadatas"])
        return dict(got["metadatas"][0]) if got["ids"] else {"kind": "meta", "generation": 0, "last_sync": ""}

    def generation(self) -> int:
        """Changes whenever the committed contents change; readers compare it for equality only."""
        return int(self.meta().get("generation", 0))

    def _next_generation(self, **extra: Any) -> dict[str, Any]:
        # A timestamp, not a counter: no read-modify-write race between writers, and still unique.
        return {**extra, "kind": "meta", "generation": time.time_ns()}

    def set_meta(self, **fields: Any) -> None:
        """Record facts about the index in the meta record (merged into it; the generation stays)."""
        self._put_records([META_ID], [{**fields, "kind": "meta"}])

    def bump_generation(self, **extra: Any) -> None:
        self._put_records([META_ID], [self._next_generation(**extra)])

    def synced_roots(self) -> list[str]:
        """Every folder or file a sync was started on (path texts), for `newsbot status`."""
        try:
            roots = json.loads(str(self.meta().get("roots", "[]")))
        except ValueError:
            return []
        return [str(r) for r in roots] if isinstance(roots, list) else []

    def note_roots(self, roots: Sequence[str]) -> None:
        known = self.synced_roots()
        merged = sorted(set(known) | set(roots))
        if merged != sorted(known):
            self._put_records([META_ID], [{"kind": "meta", "roots": json.dumps(merged)}])

    def mark_synced(self, **stats: Any) -> None:
        """Record the time of a finished sync; leaves the generation alone (nothing changed by this)."""
        meta = {**stats, "kind": "meta", "last_sync": datetime.now(UTC).isoformat(timespec="seconds")}
        self._put_records([META_ID], [meta])
        self.forget_removed(time.time_ns() - REMOVED_KEPT_NS)

    def forget_removed(self, before_ns: int) -> None:
        """Drop the tombstones of articles removed before `before_ns`."""
        expired = {"$and": [{"kind": "removed"}, {"changed": {"$lt": int(before_ns)}}]}
        old = [i for i, _ in read_all(self.articles, where=expired, include=[])]  # ids only
        for lo in range(0, len(old), WRITE_BATCH):
            self.articles.delete(ids=old[lo : lo + WRITE_BATCH])

    # ---- reading ------------------------------------------------------------------------------
    def chunk_count(self) -> int:
        return int(self.chunks.count())

    def query(self, vector: np.ndarray, k: int, where: dict[str, Any] | None = None) -> list[tuple[StoredChunk, float]]:
        """Top-k chunks by cosine similarity (1 - distance), committed or not: callers filter. `where`
        (a Chroma metadata filter) limits the search itself: k hits among the chunks that match it."""
        if k <= 0:
            return []
        # No count() first: Chroma returns fewer results when it holds fewer, and counting 100k rows
        # costs more (13 ms) than the query itself.
        result = self.chunks.query(
            query_embeddings=[vector], n_results=k, where=where or None, include=["documents", "metadatas", "distances"]
        )
        # A chunk deleted by a concurrent sync can still come back from the vector index without its
        # document and metadata: skip it (it is never a committed chunk anyway).
        return [
            (StoredChunk.from_chroma(i, d, m), 1.0 - float(dist))
            for i, d, m, dist in zip(result["ids"][0], result["documents"][0], result["metadatas"][0], result["distances"][0])
            if m is not None and d is not None
        ]

    def iter_chunks(self, page: int = 5000) -> Iterator[StoredChunk]:
        offset = 0
        while True:
            got = self.chunks.get(include=["documents", "metadatas"], limit=page, offset=offset)
            if not got["ids"]:
                return
            yield from _stored_chunks(got)
            offset += len(got["ids"])

    def chunks_of_articles(self, article_ids: Sequence[str], batch: int = 100) -> Iterator[StoredChunk]:
        """Every stored chunk of these articles, any sha (callers filter), `batch` articles per read."""
        ids = list(dict.fromkeys(article_ids))
        for lo in range(0, len(ids), batch):
            yield from _stored_chunks(
                self.chunks.get(where={"article_id": {"$in": ids[lo : lo + batch]}}, include=["documents", "metadatas"])
            )

    def get_chunks(self, ids: Sequence[str]) -> list[StoredChunk]:
        return [chunk for chunk, _ in self.get_chunks_with_vectors(ids, vectors=False)]

    def get_chunks_with_vectors(self, ids: Sequence[str], vectors: bool = True) -> list[tuple[StoredChunk, np.ndarray | None]]:
        """The chunks with these ids, in that order, skipping missing ones; with their vectors in the same read."""
        if not ids:
            return []
        include = ["documents", "metadatas", "embeddings"] if vectors else ["documents", "metadatas"]
        got = self.chunks.get(ids=list(ids), include=include)
        embeddings = got["embeddings"] if vectors else [None] * len(got["ids"])
        by_id = {
            i: (StoredChunk.from_chroma(i, d, m), np.asarray(e, dtype=np.float32) if e is not None else None)
            for i, d, m, e in zip(got["ids"], got["documents"], got["metadatas"], embeddings)
            if m is not None and d is not None  # deleted meanwhile by a concurrent sync
        }
        return [by_id[i] for i in ids if i in by_id]


def _check_precision(settings: IndexSettings, precision: str, built_by: str) -> None:
    """Refuse settings whose vectors would not be comparable with the index's: int8 and fp32 vectors
    of one model differ (cosine ~0.99), so a question must be embedded at the index's precision.
    fp32 from torch and from ONNX are the same vectors (cosine >= 0.9999) and may meet."""
    where = f"the index at {settings.location} holds {precision} vectors (made by {built_by})"
    fix = "or use another NEWSBOT_DATA_DIR / NEWSBOT_COLLECTION"
    if settings.embed_precision not in ("auto", precision):
        raise StoreError(f"{where}, not {settings.embed_precision}; set NEWSBOT_EMBED_PRECISION={precision} (or auto) {fix}")
    if precision == "int8" and settings.backend != "onnx":
        raise StoreError(f"{where}, which only the onnx backend makes; set NEWSBOT_EMBED_BACKEND=onnx {fix}")


def _stored_chunks(got: dict[str, Any]) -> Iterator[StoredChunk]:
    for i, d, m in zip(got["ids"], got["documents"], got["metadatas"]):
        if m is not None and d is not None:  # deleted meanwhile by a concurrent sync
            yield StoredChunk.from_chroma(i, d, m)
