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
from indexing.store.fields import filter_fields
from indexing.store.format import STORE_FORMAT, check_writable, format_fields, stored_format
from indexing.store.paging import read_all
from indexing.store.records import StoredChunk
from indexing.text.minhash import copy_fields

log = logging.getLogger(__name__)

_PAGE = 1000  # under Chroma's max batch for the update


def fields_current(store: ChunkStore) -> bool:
    """Every chunk carries the filter fields (an empty index trivially does): version 1 added them."""
    return stored_format(store.meta()) >= 1 or store.chunk_count() == 0


def upgrade(store: ChunkStore) -> int:
    """Bring an index in an older store format (indexing.store.format) up to this newsbot's: 1, the chunks'
    filter fields; 2, the articles' MinHash signatures (wire copies). Returns how many records were
    rewritten. A format this newsbot cannot write is refused (StoreFormatError) before anything is."""
    meta = store.meta()
    check_writable(meta, store.settings.location)
    version = stored_format(meta)
    if version >= STORE_FORMAT:
        return 0
    done = (add_filter_fields(store) if version < 1 else 0) + add_copy_fields(store)
    store.set_meta(**format_fields())
    return done


def add_copy_fields(store: ChunkStore, batch: int = 100) -> int:
    """Give every article record without a MinHash signature one, from the text of its committed chunks."""
    missing = [(i, m) for i, m in read_all(store.articles, where={"kind": "article"}, include=["metadatas"]) if not m.get("minhash")]
    done = 0
    for lo in range(0, len(missing), batch):
        part = dict(missing[lo : lo + batch])
        shas = {i: str(m.get("sha256", "")) for i, m in part.items()}
        pieces: dict[str, list[StoredChunk]] = {}
        for chunk in store.chunks_of_articles(list(part)):
            if chunk.sha256 == shas.get(chunk.article_id):
                pieces.setdefault(chunk.article_id, []).append(chunk)
        ids = [i for i in part if i in pieces]
        if ids:
            store.put_article_records(ids, [{**part[i], **copy_fields(_text_of(pieces[i]))} for i in ids])
            done += len(ids)
    if done:
        log.info("added MinHash signatures to %d article(s) of an index written by an older newsbot", done)
    return done


def _text_of(chunks: list[StoredChunk]) -> str:
    """The article's text as its chunks hold it (their overlaps once): enough for its shingles."""
    parts, end = [], 0
    for chunk in sorted(chunks, key=lambda c: c.start):
        if chunk.end > end:
            parts.append(chunk.excerpt(max(chunk.start, end), chunk.end))
            end = chunk.end
    return " ".join(parts)


def add_filter_fields(store: ChunkStore) -> int:
    """Give every chunk of an older index the filter fields; returns how many chunks were updated."""
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
    if updated:
        log.info("added source and date fields to %d chunk(s) of an index written by an older newsbot", updated)
    return updated


def _fields(chunk_meta: dict[str, Any], record: Any) -> dict[str, Any]:
    # The registry record knows the file an article came from; a chunk only its URL or that path.
    url = str(chunk_meta.get("url", "")) or None
    origin = record.origin if record is not None else ("" if url else str(chunk_meta.get("source", "")))
    return filter_fields(url, origin, str(chunk_meta.get("published", "")))
