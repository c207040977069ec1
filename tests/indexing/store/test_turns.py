"""Questions first (indexing.store.turns): in a serving process, Chroma writes go in small calls that wait
for the questions in flight, and write exactly what one call would have. Real Chroma, real threads."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from datetime import date

import numpy as np
import pytest

import indexing.store.owner as owner_module
from indexing.indexer import embedding_text
from indexing.sources.article import Article
from indexing.store.chroma import ChunkStore
from indexing.store.records import PreparedArticle, chunk_id
from indexing.text.chunking import chunk_text
from testsupport.cli import REPO
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


PEER_WRITER = r"""
import sys
from datetime import date
from indexing.settings import IndexSettings, SettingsSource
from indexing.sources.article import Article
from indexing.store.chroma import ChunkStore
from indexing.store.records import PreparedArticle
from indexing.text.chunking import chunk_text
data, text = sys.argv[1], sys.stdin.read()
store = ChunkStore(IndexSettings.from_env(SettingsSource(env={"NEWSBOT_DATA_DIR": data, "NEWSBOT_CONFIG": data + "/none"})))
article = Article.create(id="peer-story", title="Peer story", published=date(2022, 12, 1), url=None, origin="/peer.txt", text=text)
chunks = chunk_text(article.text, lambda texts: [len(t.split()) for t in texts], 24, 4)
vectors = [[(i + d) % 7 / 7.0 for d in range(384)] for i in range(len(chunks))]
print(store.client.owner, len(chunks), flush=True)
store.write_articles([PreparedArticle(article, chunks, vectors)])
print("written", flush=True)
"""


@pytest.mark.skipif(not owner_module.SHARED, reason="no fcntl/AF_UNIX here: every process opens Chroma itself")
def test_another_process_writes_through_the_owner_in_turn_after_its_questions(store):
    """`newsbot index` in a shell while the Slack bot owns the data dir and answers: the writes it
    routes to the owner wait for the owner's question in flight, then land in small calls."""
    sizes: list[int] = []
    run = store.client.run

    def counting_run(op, name, kwargs):
        if op == "upsert" and name.endswith("_chunks"):
            sizes.append(len(kwargs["ids"]))
        return run(op, name, kwargs)

    store.client.run = counting_run
    store.turns.enable(batch=4, patience=60)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    peer = subprocess.Popen(
        [sys.executable, "-c", PEER_WRITER, str(store.settings.data_dir)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert peer.stdin is not None and peer.stdout is not None
    with store.turns.answering():
        peer.stdin.write(news_text(7, paragraphs=4, sentences=5))
        peer.stdin.close()
        is_owner, n_chunks = peer.stdout.readline().split()
        assert is_owner == "False" and int(n_chunks) > 4
        time.sleep(2.0)
        assert store.chunk_count() == 0, "the other process's write went ahead while a question was being answered"
    assert peer.stdout.readline().strip() == "written"
    assert peer.wait(timeout=60) == 0
    assert store.committed_hashes().keys() == {"peer-story"}
    assert max(sizes) <= 4 and sum(sizes) == int(n_chunks) == store.chunk_count()


def test_a_question_another_process_asks_through_the_owner_goes_first(store, embedder):
    """The owner runs another process's query as a question in flight (in its socket thread): the
    owner's own writes, in small calls from then on, wait for it."""
    item = prepare(4, embedder)
    release, querying, written = threading.Event(), threading.Event(), threading.Event()
    run = store.client.run

    def slow_query(op, name, kwargs):
        if op == "query":
            querying.set()
            release.wait(60)
        return run(op, name, kwargs)

    store.client.run = slow_query
    vector = [0.1] * 384
    asker = threading.Thread(
        target=store.client.run_for_peer, args=("query", store.chunks.inner.name, {"query_embeddings": [vector], "n_results": 1})
    )
    asker.start()
    assert querying.wait(30)
    assert store.turns.enabled, "a question asked through the owner did not put questions first"
    writer = threading.Thread(target=lambda: (store.write_articles([item]), written.set()))
    writer.start()
    assert not written.wait(1.0), "the owner's write went ahead of a question asked through it"
    release.set()
    asker.join(60)
    assert written.wait(60)
    writer.join()
    assert store.committed_hashes() == {item.article.id: item.article.sha256}
