"""The sync as a stream (real Chroma, real model): articles are chunked, embedded and committed a batch at
a time (one written while the next is embedded), so chunks are in the store before the run ends, at
most two batches are in hand, and the plan keeps article texts only up to a budget (the rest is read
again when its turn comes)."""

from __future__ import annotations

import threading

import pytest

from indexing import indexer, plan
from indexing.indexer import SyncProgress, indexing_signature, plan_sync, sync
from indexing.text.chunking import chunk_text
from testsupport.corpora import write_txt_article
from testsupport.indexer_corpus import (  # noqa: F401  (settings and store are fixtures, used by name)
    CORPUS_ARTICLES,
    build_corpus,
    expected_chunk_ids,
    read_all,
    settings,
    short_text,
    store,
    stored_ids,
)


def test_chunks_are_committed_as_the_run_goes_one_batch_in_hand(tmp_path, store, embedder, settings, monkeypatch):
    monkeypatch.setattr(indexer, "WRITE_BATCH_CHUNKS", 4)
    corpus = build_corpus(tmp_path)
    seen: list[tuple[int, int, int]] = []  # per commit: (chunks it wrote, chunks in the store, committed articles)

    class Watch(SyncProgress):
        def advance(self, articles: int, chunks: int) -> None:
            seen.append((chunks, store.chunk_count(), len(store.committed_hashes())))

    report = sync([corpus], store, embedder, settings, Watch())
    assert report.added == CORPUS_ARTICLES and len(seen) > 2
    in_store = [n for _, n, _ in seen]
    committed = [n for _, _, n in seen]
    assert in_store == sorted(set(in_store)) and committed == sorted(set(committed))  # grows with every commit
    assert in_store[0] < report.chunks and committed[0] < CORPUS_ARTICLES  # visible while the run still goes
    assert in_store[-1] == report.chunks == sum(n for n, _, _ in seen) == report.embedded_chunks
    # Never more than the batch budget in hand, unless one article alone has more chunks.
    largest = max(
        len(chunk_text(a.text, embedder.count_tokens, settings.chunk_tokens, settings.chunk_overlap_tokens))
        for a in read_all(corpus, settings).values()
    )
    assert all(n <= max(4, largest) for n, _, _ in seen)


def test_articles_past_the_held_text_budget_are_read_again_and_indexed_the_same(tmp_path, store, embedder, settings, monkeypatch):
    monkeypatch.setattr(plan, "HELD_TEXT_CHARS", 1500)
    corpus = build_corpus(tmp_path)
    planned = plan_sync([corpus], {}, settings.max_file_bytes, indexing_signature(settings))
    held = [p.article for p in planned.to_write if p.article is not None]
    assert 0 < len(held) < len(planned.to_write) == CORPUS_ARTICLES
    assert sum(len(a.text) for a in held) <= 1500
    report = sync([corpus], store, embedder, settings)
    assert report.added == report.articles == CORPUS_ARTICLES
    assert stored_ids(store) == expected_chunk_ids(read_all(corpus, settings).values(), embedder, settings)


def test_a_file_changed_after_the_plan_is_left_for_the_next_sync(tmp_path, store, embedder, settings, monkeypatch):
    monkeypatch.setattr(plan, "HELD_TEXT_CHARS", 0)  # nothing held: every article is read again to be written
    corpus = build_corpus(tmp_path)
    dated = str((corpus / "dated.txt").resolve())

    class EditAfterPlanning(SyncProgress):
        def start(self, articles: int) -> None:  # the plan is made; nothing is written yet
            write_txt_article(corpus, "dated.txt", "Tram network to grow", short_text(99))

    report = sync([corpus], store, embedder, settings, EditAfterPlanning())
    assert report.added == report.articles == CORPUS_ARTICLES - 1
    assert dated not in store.committed_hashes()
    again = sync([corpus], store, embedder, settings)
    assert (again.added, again.unchanged) == (1, CORPUS_ARTICLES - 1)
    assert store.committed_hashes()[dated] == read_all(corpus, settings)[dated].sha256


class _Embedding:
    """The real embedder, noting whether a write was under way when it was called."""

    def __init__(self, inner, writing: threading.Event):
        self.inner, self.writing = inner, writing
        self.name, self.backend, self.precision = inner.name, inner.backend, inner.precision
        self.during_a_write = threading.Event()

    def count_tokens(self, texts):
        return self.inner.count_tokens(texts)

    def embed_with_spans(self, texts, spans):
        if self.writing.is_set():
            self.during_a_write.set()
        return self.inner.embed_with_spans(texts, spans)


def test_the_next_batch_is_embedded_while_the_previous_one_is_written(tmp_path, store, embedder, settings, monkeypatch):
    monkeypatch.setattr(indexer, "WRITE_BATCH_CHUNKS", 4)
    corpus = build_corpus(tmp_path)
    writing = threading.Event()
    embedding = _Embedding(embedder, writing)
    real_write = store.write_articles

    def write_articles(items):
        writing.set()
        try:
            embedding.during_a_write.wait(timeout=20)  # held until the next batch is being embedded (if it ever is)
            return real_write(items)
        finally:
            writing.clear()

    monkeypatch.setattr(store, "write_articles", write_articles)
    report = sync([corpus], store, embedding, settings)
    assert embedding.during_a_write.is_set()
    assert report.added == CORPUS_ARTICLES and stored_ids(store) == expected_chunk_ids(
        read_all(corpus, settings).values(), embedder, settings
    )


def test_a_failed_write_stops_the_run_and_commits_nothing_after_it(tmp_path, store, embedder, settings, monkeypatch):
    monkeypatch.setattr(indexer, "WRITE_BATCH_CHUNKS", 4)
    corpus = build_corpus(tmp_path)
    real_write, writes = store.write_articles, []

    def write_articles(items):
        writes.append(len(items))
        if len(writes) == 2:
            raise OSError("disk full")
        return real_write(items)

    monkeypatch.setattr(store, "write_articles", write_articles)
    with pytest.raises(OSError, match="disk full"):
        sync([corpus], store, embedder, settings)
    assert len(writes) == 2  # the write after the failed one never started
    assert len(store.committed_hashes()) == writes[0]
