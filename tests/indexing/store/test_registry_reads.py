"""Registry reads larger than SQLite's 32,766 variables (Chroma binds one per record read) go in pages."""

from __future__ import annotations

import time

from indexing.store import chroma, paging
from indexing.store.chroma import ChunkStore

ARTICLE = {"kind": "article", "sha256": "a" * 64, "status": "ok", "title": "T", "n_chunks": 1}


def _register(store: ChunkStore, ids: list[str], **extra: object) -> None:
    for lo in range(0, len(ids), 1000):
        store._put_records(ids[lo : lo + 1000], [{**ARTICLE, **extra}] * len(ids[lo : lo + 1000]))


def test_a_registry_of_more_records_than_sqlite_binds_at_once_is_read_whole(index_settings):
    store = ChunkStore(index_settings)
    before = time.time_ns()
    ids = [f"article-{n:05d}" for n in range(33_000)]
    _register(store, ids)
    assert set(store.article_records()) == set(ids)
    assert set(store.records_changed_since(before)) == set(ids)
    assert store.committed_hashes()["article-32999"] == "a" * 64


def test_pages_overlap_so_a_record_deleted_between_pages_hides_no_other(index_settings, monkeypatch):
    store = ChunkStore(index_settings)
    ids = [f"article-{n:02d}" for n in range(40)]
    _register(store, ids)
    monkeypatch.setattr(paging, "READ_PAGE", 10)
    monkeypatch.setattr(paging, "READ_OVERLAP", 3)
    real_get, pages = store.articles.get, []

    def get_then_delete(**kwargs):
        got = real_get(**kwargs)
        pages.append(kwargs.get("offset"))
        if len(pages) == 1:  # a writer deletes two early records between the first page and the second
            store.articles.delete(ids=ids[:2])
        return got

    monkeypatch.setattr(store.articles, "get", get_then_delete)
    read = store.article_records()
    assert set(ids[2:]) <= set(read)  # every record still there was read, once
    assert pages[:2] == [0, 7] and len(pages) >= 5
