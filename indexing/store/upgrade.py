"""Bring an index written by an older newsbot up to date in place, without re-embedding anything.

Chunks written before source and date filters existed lack the fields those filters compare
(indexing.store.fields). They are all derivable from each article's registry record, so the
upgrade reads the registry once, then the chunks' metadata a page at a time, and adds the fields
rewriting each chunk with its own text and vector. The meta record then says
the index is current; a sync runs this first, so `newsbot index` (or a watcher) upgrades an index.
"""

from __future__ import annotations

import logging
from typing import Any

from indexing.store.chroma import ChunkStore
from indexing.store.fields import FIELDS_VERSION, filter_fields

log = logging.getLogger(__name__)

_PAGE = 1000  # under Chroma's max batch for the update


def fields_current(store: ChunkStore) -> bool:
    """Every chunk carries the filter fields (an empty index trivially does)."""
    return int(store.meta().get("fields_version", 0)) >= FIELDS_VERSION or store.chunk_count() == 0


def add_filter_fields(store: ChunkStore) -> int:
    """Give every chunk of an older index the filter fields; returns how many chunks were updated."""
    if int(store.meta().get("fields_version", 0)) >= FIELDS_VERSION:
        return 0
    records = store.article_records()
    updated, offset = 0, 0
    while True:
        # Whole records, rewritten by upsert (the one write every store route carries), same ids and vectors.
        got = store.chunks.get(include=["metadatas", "documents", "embeddings"], limit=_PAGE, offset=offset)
        if not got["ids"]:
            break
        ids, vectors, documents, metas = [], [], [], []
        for chunk_id, meta, document, vector in zip(got["ids"], got["metadatas"], got["documents"], got["embeddings"]):
            if meta is None or document is None or "day" in meta:
                continue
            ids.append(chunk_id)
            vectors.append(vector)
            documents.append(document)
            metas.append({**meta, **_fields(meta, records.get(str(meta.get("article_id", ""))))})
        if ids:
            store.chunks.upsert(ids=ids, embeddings=vectors, documents=documents, metadatas=metas)
            updated += len(ids)
        offset += len(got["ids"])
    store.set_meta(fields_version=FIELDS_VERSION)
    if updated:
        log.info("added source and date fields to %d chunk(s) of an index written by an older newsbot", updated)
    return updated


def _fields(chunk_meta: dict[str, Any], record: Any) -> dict[str, Any]:
    # The registry record knows the file an article came from; a chunk only its URL or that path.
    url = str(chunk_meta.get("url", "")) or None
    origin = record.origin if record is not None else ("" if url else str(chunk_meta.get("source", "")))
    return filter_fields(url, origin, str(chunk_meta.get("published", "")))
