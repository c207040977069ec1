"""The BM25 keyword index kept in step with Chroma: updated incrementally, persisted in the data dir.

Chroma is the source of truth; the keyword index (indexing.keyword.bm25) is derived from it and stamped
with the Chroma sync generation it was reconciled at. Readers compare the stamp with the generation
stored in Chroma before answering; when they differ, they reconcile: diff the registry records
changed since the stamp (less the store's `change_margin_ns`, for writes in flight and writers' clocks) against
the articles the keyword index holds, drop the rows of articles gone or changed, and fetch from
Chroma only the committed chunks of new or changed articles. After one new article, that is one
registry record and one article's chunks, whatever the size of the index. An index with no stamp,
or one older than the registry keeps removals (REMOVED_KEPT_NS), diffs the whole registry instead.
The generation lives in the shared store, so this holds with several processes on one Chroma
server too. With nothing saved (or a damaged save), the first reconcile starts from empty.

Convergence: the generation is read before the registry, so the stamp is never newer than what
the index reflects. A sync that lands mid-reconcile moves the generation and the next query
reconciles again; an article whose chunks were deleted under a reconcile is either gone or
re-committed by then, and is redone because its sha or its chunk count (the registry's
`n_chunks`) no longer matches what the index holds.

Crashes: the index is saved after Chroma commits. A crash in between leaves an older stamp on
disk, which the next reconcile brings up to date; a damaged save loads as None and is rebuilt.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Mapping
from pathlib import Path

import indexing.keyword.files as bm25_files
from indexing.keyword.bm25 import BM25Index, Doc, KeywordHit, tokenize
from indexing.store.chroma import CHANGE_MARGIN_NS, REMOVED_KEPT_NS, ChunkStore
from indexing.store.records import ArticleRecord, StoredChunk

__all__ = ["KeywordCache", "KeywordHit", "reconcile", "tokenize"]

log = logging.getLogger(__name__)


def reconcile(index: BM25Index, store: ChunkStore, generation: int) -> BM25Index:
    """`index` brought in step with Chroma's committed articles, stamped `generation`.

    `generation` must have been read before this call: the registry read here is at least as new.
    """
    held = index.articles
    if _follows_changes(index):
        changes = store.records_changed_since(index.generation - store.change_margin_ns)
        wanted = {a: r for a, r in changes.items() if r is not None and r.sha256}
        stale = {a for a in changes if a in held and (a not in wanted or not _matches(wanted[a], *held[a]))}
        whole_registry = False
    else:
        wanted = {a: r for a, r in store.article_records().items() if r.sha256}
        stale = {a for a, (sha, rows) in held.items() if a not in wanted or not _matches(wanted[a], sha, rows)}
        whole_registry = True
    fetch = {a: r.sha256 for a, r in wanted.items() if a not in held or a in stale}
    if not stale and not fetch:
        return index if index.generation == generation else index.update(generation=generation)
    docs = [_doc(c) for c in _committed_chunks(store, fetch, most=whole_registry and 2 * len(fetch) > len(wanted))]
    return index.update(remove=stale, add=docs, generation=generation)


def _follows_changes(index: BM25Index) -> bool:
    """Whether the registry still keeps every change since the index's stamp (removals expire)."""
    return 0 < index.generation and time.time_ns() - index.generation < REMOVED_KEPT_NS - max(CHANGE_MARGIN_NS.values())


def _matches(record: ArticleRecord, sha: str, rows: int) -> bool:
    if record.sha256 != sha:
        return False
    # A pending record carries the next version's n_chunks; n_chunks 0 is an older registry's "unknown".
    return record.status != "ok" or record.n_chunks == 0 or record.n_chunks == rows


def _committed_chunks(store: ChunkStore, shas: Mapping[str, str], most: bool) -> Iterable[StoredChunk]:
    """The chunks of these articles whose sha is the committed one (never a stale or pending version)."""
    # When most articles are wanted (a first build), paging through every chunk beats `$in` filters.
    chunks = store.iter_chunks() if most else store.chunks_of_articles(list(shas))
    return (c for c in chunks if shas.get(c.article_id) == c.sha256)


def _doc(chunk: StoredChunk) -> Doc:
    return Doc(chunk.id, chunk.article_id, chunk.sha256, f"{chunk.title}\n{chunk.text}")


class KeywordCache:
    """The current keyword index for one store: loaded from disk, reconciled when Chroma's generation moves.

    `current(wait=False)` is what a query uses: when the index is behind Chroma it starts one
    reconcile in the background and answers from the previous index meanwhile. That previous index
    can only miss new chunks (dense retrieval still finds them) or return replaced ones, which the
    committed-hash filter drops. Updates are copy-on-write, so the index a reader holds never changes.
    """

    def __init__(self, store: ChunkStore, folder: Path | None):
        self.store = store
        self.folder = folder
        self._index: BM25Index | None = None
        self._lock = threading.Lock()  # guards _index and _background
        self._reconcile_lock = threading.Lock()  # one reconcile at a time
        self._background: threading.Thread | None = None

    def current(self, generation: int | None = None, wait: bool = True) -> BM25Index:
        generation = self.store.generation() if generation is None else generation
        with self._lock:
            if self._index is None and self.folder is not None:
                self._index = bm25_files.load(self.folder)  # even an old one can serve while we reconcile
            index = self._index
            if index is not None and index.generation == generation:
                return index
            if index is not None and not wait:
                if self._background is None or not self._background.is_alive():
                    self._background = threading.Thread(target=self._reconcile_in_background, daemon=True)
                    self._background.start()
                return index
        return self._reconcile()

    def _reconcile(self) -> BM25Index:
        with self._reconcile_lock:
            # Serialised, and each reads the generation afresh: a later reconcile is never at an older
            # generation, so a newer index is never replaced by an older one (whatever writers' clocks say).
            generation = self.store.generation()
            with self._lock:
                base = self._index
            if base is not None and base.generation == generation:
                return base
            updated = reconcile(base or BM25Index.empty(), self.store, generation)
            self._save(updated)
            with self._lock:
                self._index = updated
            return updated

    def _reconcile_in_background(self) -> None:
        try:
            self._reconcile()
        except Exception as exc:  # noqa: BLE001 - the next query retries; the previous index keeps serving
            log.warning("could not update the keyword index: %s", exc)

    def _save(self, index: BM25Index) -> None:
        if self.folder is None:
            return
        try:
            bm25_files.save(index, self.folder)
        except OSError as exc:
            log.warning("could not save the keyword index to %s: %s", self.folder, exc)
