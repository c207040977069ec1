"""Questions first (indexing.store.turns): in a serving process, Chroma writes go in small calls that wait
for the questions in flight, and write exactly what one call would have. Real Chroma, real threads."""

from __future__ import annotations

import threading
import time
from datetime import date

import numpy as np
import pytest

from indexing.indexer import embedding_text
from indexing.sources.article import Article
from indexing.store.chroma import ChunkStore
from indexing.store.records import PreparedArticle, chunk_id
from indexing.text.chunking import chunk_text
from testsupport.corpora import news_text


def prepare(n: int, embedder) -> PreparedArticle:
    text = news_text(n, paragraphs=3, sentences=4)
    article = Article.create(id=f"story-{n}", title=f"Story {n}", published=date(2022, 12, 1), url=None, origin=f"/c/{n}.txt", text=text)
    chunks = chunk_text(article.text, embedder.count_tokens, 64, 16)
    return PreparedArticle(article, chunks, embedder.embed_documents([embedding_text(article, c.text) for c in chunks]))


@pytest.fixture
def store(index_settings) -> ChunkStore:
    return ChunkStore(index_settings)


def counting_upserts(store: ChunkStore) -> list[int]:
    """The size of every upsert call that reaches the chunks collection."""
    sizes: list[int] = []
    inner = store.chunks.inner
    real = inner.upsert

    def upsert(**kwargs):
        sizes.append(len(kwargs["ids"]))
        return real(**kwargs)

    store.chunks.inner = type("Counting", (), {"upsert": staticmethod(upsert), "__getattr__": lambda _, name: getattr(inner, name)})()
    return sizes


def test_a_serving_store_writes_in_small_calls_the_same_records(store, embedder):
    items = [prepare(n, embedder) for n in range(6)]
    sizes = counting_upserts(store)
    store.turns.enable(batch=4)
    store.write_articles(items)
    chunks = sum(len(p.chunks) for p in items)
    assert sizes and max(sizes) <= 4 and sum(sizes) == chunks
    got = store.chunks.get(ids=[chunk_id(p.article, c.ordinal) for p in items for c in p.chunks], include=["documents", "embeddings"])
    assert sorted(got["documents"]) == sorted(c.text for p in items for c in p.chunks)
    vectors = {chunk_id(p.article, c.ordinal): v for p in items for c, v in zip(p.chunks, p.vectors)}
    assert all(np.allclose(got_v, vectors[i], atol=1e-5) for i, got_v in zip(got["ids"], got["embeddings"]))
    assert store.committed_hashes() == {p.article.id: p.article.sha256 for p in items}


def test_a_write_waits_for_the_question_in_flight_then_goes(store, embedder):
    item = prepare(1, embedder)
    store.turns.enable(batch=4, patience=60)
    written = threading.Event()
    with store.turns.answering():
        writer = threading.Thread(target=lambda: (store.write_articles([item]), written.set()))
        writer.start()
        assert not written.wait(1.0), "a write went ahead while a question was being answered"
        assert store.chunk_count() == 0
    assert written.wait(60)
    writer.join()
    assert store.committed_hashes() == {item.article.id: item.article.sha256}


def test_a_write_waits_no_longer_than_its_patience(store, embedder):
    item = prepare(2, embedder)
    store.turns.enable(batch=4, patience=0.05)
    with store.turns.answering():  # a question that never ends: the sync still goes on
        store.write_articles([item])
    assert store.committed_hashes() == {item.article.id: item.article.sha256}


def test_a_write_made_while_answering_does_not_wait_for_its_own_question(store, embedder):
    item = prepare(3, embedder)
    store.turns.enable(batch=4, patience=60)
    began = time.monotonic()
    with store.turns.answering():  # as an upgrade of an old index, written during a search
        store.write_articles([item])
    assert time.monotonic() - began < 30
    assert store.committed_hashes() == {item.article.id: item.article.sha256}


def test_a_store_not_serving_writes_in_one_call(store, embedder):
    items = [prepare(n, embedder) for n in range(3)]
    sizes = counting_upserts(store)
    with store.turns.answering():  # not enabled: nothing waits
        store.write_articles(items)
    assert sizes == [sum(len(p.chunks) for p in items)]
