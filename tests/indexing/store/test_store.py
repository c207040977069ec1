"""The Chroma store (embedded PersistentClient) and its crash-safe article registry.

Crashes are simulated by calling the store's steps in the order `write_articles` uses and stopping
before the commit (or after it, before the clean-up), then checking what a reader sees and what
`repair()` makes of it.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from indexing.errors import StoreError
from indexing.indexer import embedding_text
from indexing.sources.article import Article
from indexing.store.chroma import META_ID, ChunkStore
from indexing.store.records import PreparedArticle, article_meta, chunk_id
from indexing.text.chunking import chunk_text
from testsupport.corpora import news_text


def make_article(n: int, text: str | None = None, title: str | None = None) -> Article:
    return Article.create(
        id=f"https://news.example.com/story-{n}",
        title=title or f"Story number {n}",
        published=date(2022, 12, n % 28 + 1),
        url=f"https://news.example.com/story-{n}",
        origin=f"/corpus/story-{n}.json",
        text=text or news_text(n, paragraphs=3, sentences=4),
    )


def prepare(article: Article, embedder, previous: str = "") -> PreparedArticle:
    chunks = chunk_text(article.text, embedder.count_tokens, 64, 16)
    vectors = embedder.embed_documents([embedding_text(article, c.text) for c in chunks])
    return PreparedArticle(article, chunks, vectors, previous)


@pytest.fixture
def store(index_settings) -> ChunkStore:
    return ChunkStore(index_settings)


def visible(store: ChunkStore, vector: np.ndarray, k: int = 100) -> list:
    """What a reader may use: query hits whose sha is their article's committed sha."""
    committed = store.committed_hashes()
    return [c for c, _ in store.query(vector, k) if committed.get(c.article_id) == c.sha256]


def chunk_ids_by_article(store: ChunkStore) -> dict[str, set[str]]:
    result: dict[str, set[str]] = {}
    for chunk in store.iter_chunks():
        result.setdefault(chunk.article_id, set()).add(chunk.id)
    return result


# ---- writing and reading back -----------------------------------------------------------------


def test_written_articles_read_back_with_metadata_and_offsets(store, embedder):
    items = [prepare(make_article(1), embedder), prepare(make_article(2), embedder)]
    store.write_articles(items)

    records = store.article_records()
    assert set(records) == {p.article.id for p in items}
    for p in items:
        record = records[p.article.id]
        assert record.status == "ok"
        assert record.sha256 == p.article.sha256
        assert record.n_chunks == len(p.chunks) > 1
        assert record.published == p.article.published.isoformat()
        assert record.title == p.article.title and record.url == p.article.url and record.origin == p.article.origin
    assert store.committed_hashes() == {p.article.id: p.article.sha256 for p in items}
    assert store.chunk_count() == sum(len(p.chunks) for p in items)

    texts = {p.article.id: p.article.text for p in items}
    stored = list(store.iter_chunks())
    assert len(stored) == store.chunk_count()
    for chunk in stored:
        text = texts[chunk.article_id]
        assert text[chunk.start : chunk.end] == chunk.text
        assert chunk.id == f"{chunk.article_id}#{chunk.sha256[:16]}#{chunk.ordinal}"
        assert chunk.published == "2022-12-02" or chunk.published == "2022-12-03"
        assert chunk.source == chunk.url == chunk.article_id
        assert chunk.title.startswith("Story number")
        assert chunk.sentences and all(chunk.start <= s < e <= chunk.end for s, e in chunk.sentences)
    assert store.get_chunks([stored[1].id, "missing", stored[0].id]) == [stored[1], stored[0]]


def test_collection_is_cosine_and_remembers_the_model(store):
    assert store.chunks.metadata["hnsw:space"] == "cosine"
    assert store.chunks.metadata["embed_model"] == store.settings.embed_model


def test_query_finds_a_chunk_by_its_own_vector(store, embedder):
    item = prepare(make_article(3), embedder)
    store.write_articles([item])
    target = item.chunks[1]
    hits = store.query(item.vectors[1], 3)
    best, score = hits[0]
    assert best.id == chunk_id(item.article, target.ordinal)
    assert best.text == target.text
    assert score == pytest.approx(1.0, abs=1e-3)
    assert [s for _, s in hits] == sorted((s for _, s in hits), reverse=True)


def test_query_on_an_empty_store(store, embedder):
    assert store.query(embedder.embed_query("anything"), 5) == []


def test_replacing_an_article_leaves_only_the_new_chunks(store, embedder):
    old = make_article(4)
    store.write_articles([prepare(old, embedder)])
    new = make_article(4, text=news_text(44, paragraphs=5, sentences=4))
    item = prepare(new, embedder, previous=old.sha256)
    store.write_articles([item])
    record = store.article_records()[new.id]
    assert (record.sha256, record.status, record.n_chunks) == (new.sha256, "ok", len(item.chunks))
    assert chunk_ids_by_article(store) == {new.id: {chunk_id(new, c.ordinal) for c in item.chunks}}


def test_remove_article_drops_record_and_chunks(store, embedder):
    a, b = make_article(5), make_article(6)
    store.write_articles([prepare(a, embedder), prepare(b, embedder)])
    store.remove_article(a.id)
    assert set(store.article_records()) == {b.id}
    assert set(chunk_ids_by_article(store)) == {b.id}


def test_generation_moves_with_every_change_and_sync_time_is_kept(store, embedder):
    assert store.generation() == 0
    store.write_articles([prepare(make_article(7), embedder)])
    g1 = store.generation()
    assert g1 > 0
    store.mark_synced(articles=1, chunks=3)
    assert store.generation() == g1, "recording a sync changes nothing readers see"
    meta = store.meta()
    assert meta["last_sync"] and meta["articles"] == 1
    store.remove_article(make_article(7).id)
    g2 = store.generation()
    assert g2 != g1
    assert store.meta()["last_sync"] == meta["last_sync"]
    # The meta record is not an article.
    assert META_ID not in store.article_records()


def test_a_second_handle_on_the_same_folder_sees_the_same_index(store, embedder, index_settings):
    item = prepare(make_article(8), embedder)
    store.write_articles([item])
    del store
    again = ChunkStore(index_settings)
    assert again.committed_hashes() == {item.article.id: item.article.sha256}
    assert again.chunk_count() == len(item.chunks)


def test_opening_with_another_embedding_model_is_refused(store, index_settings):
    with pytest.raises(StoreError, match="embedding model"):
        ChunkStore(index_settings, embed_model="some/other-model")


def test_unwritable_data_dir_is_a_store_error(tmp_path, index_settings):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(StoreError, match="not writable"):
        ChunkStore(index_settings.replace(data_dir=blocker / "data"))


# ---- crashes: what readers see, and what repair() does -----------------------------------------


def crash_before_commit(store: ChunkStore, item: PreparedArticle, write_chunks: int | None = None) -> None:
    """write_articles' first two steps (mark pending, add chunks), then the process 'dies'."""
    meta = article_meta(item.article, len(item.chunks))
    store._put_records([item.article.id], [{**meta, "sha256": item.previous_sha, "status": "pending"}])
    n = len(item.chunks) if write_chunks is None else write_chunks
    store.add_chunks(item.article, item.chunks[:n], item.vectors[:n])


def test_new_article_crashed_before_commit_is_invisible_then_removed(store, embedder):
    item = prepare(make_article(10), embedder)
    crash_before_commit(store, item, write_chunks=2)

    record = store.article_records()[item.article.id]
    assert (record.status, record.sha256) == ("pending", "")
    assert item.article.id not in store.committed_hashes()
    assert store.chunk_count() == 2  # the chunks are in Chroma...
    assert visible(store, item.vectors[0]) == []  # ...but no reader may use them

    assert store.repair() == [item.article.id]
    assert store.article_records() == {}
    assert store.chunk_count() == 0
    assert store.repair() == []


def test_replacement_crashed_before_commit_keeps_serving_the_old_version(store, embedder):
    old = prepare(make_article(11), embedder)
    store.write_articles([old])
    new_article = make_article(11, text=news_text(111, paragraphs=4, sentences=4))
    new = prepare(new_article, embedder, previous=old.article.sha256)
    generation = store.generation()
    crash_before_commit(store, new, write_chunks=len(new.chunks) - 1)

    assert store.generation() == generation, "nothing was committed"
    assert store.committed_hashes() == {old.article.id: old.article.sha256}
    seen = visible(store, new.vectors[0])
    assert seen and {c.sha256 for c in seen} == {old.article.sha256}
    assert store.chunk_count() == len(old.chunks) + len(new.chunks) - 1

    store.repair()
    record = store.article_records()[old.article.id]
    assert (record.status, record.sha256) == ("ok", old.article.sha256)
    assert chunk_ids_by_article(store) == {old.article.id: {chunk_id(old.article, c.ordinal) for c in old.chunks}}


def test_replacement_crashed_after_commit_serves_the_new_version_then_cleans_up(store, embedder):
    old = prepare(make_article(12), embedder)
    store.write_articles([old])
    new_article = make_article(12, text=news_text(122, paragraphs=4, sentences=4))
    new = prepare(new_article, embedder, previous=old.article.sha256)
    crash_before_commit(store, new)
    # The commit itself (write_articles' third step), then death before the stale chunks go.
    meta = article_meta(new_article, len(new.chunks))
    store._put_records([new_article.id], [{**meta, "sha256": new_article.sha256, "status": "pending"}])

    assert store.committed_hashes() == {new_article.id: new_article.sha256}
    seen = visible(store, old.vectors[0])
    assert seen and {c.sha256 for c in seen} == {new_article.sha256}

    assert store.repair() == [new_article.id]
    record = store.article_records()[new_article.id]
    assert (record.status, record.sha256) == ("ok", new_article.sha256)
    assert chunk_ids_by_article(store) == {new_article.id: {chunk_id(new_article, c.ordinal) for c in new.chunks}}


def test_a_failure_inside_write_articles_leaves_nothing_half_visible(store, embedder, monkeypatch):
    done = prepare(make_article(13), embedder)
    store.write_articles([done])
    items = [prepare(make_article(n), embedder) for n in (14, 15, 16)]
    real_upsert = ChunkStore._upsert_chunks

    def upsert_half_then_die(self, ids, vectors, documents, metadatas):
        half = len(ids) // 2
        real_upsert(self, ids[:half], vectors[:half], documents[:half], metadatas[:half])
        raise OSError("disk full")

    monkeypatch.setattr(ChunkStore, "_upsert_chunks", upsert_half_then_die)
    with pytest.raises(OSError):
        store.write_articles(items)
    monkeypatch.undo()

    assert store.committed_hashes() == {done.article.id: done.article.sha256}
    assert {r.status for r in store.article_records().values() if r.id != done.article.id} == {"pending"}
    for item in items:
        assert all(c.article_id == done.article.id for c in visible(store, item.vectors[0]))
    store.repair()
    assert set(store.article_records()) == {done.article.id}
    assert set(chunk_ids_by_article(store)) == {done.article.id}
    store.write_articles(items)
    assert len(store.committed_hashes()) == 4
    assert store.chunk_count() == sum(len(p.chunks) for p in [done, *items])


def test_chunks_of_many_articles_are_written_in_slices_under_the_batch_limit(store, embedder, monkeypatch):
    import indexing.store.chroma as store_module

    monkeypatch.setattr(store_module, "WRITE_BATCH", 3)
    sizes = []
    real_upsert = store.chunks.upsert

    def counting_upsert(**kwargs):
        sizes.append(len(kwargs["ids"]))
        return real_upsert(**kwargs)

    monkeypatch.setattr(store.chunks, "upsert", counting_upsert)
    items = [prepare(make_article(n), embedder) for n in (17, 18, 19)]
    store.write_articles(items)
    total = sum(len(p.chunks) for p in items)
    assert sum(sizes) == total and max(sizes) == 3 and len(sizes) == -(-total // 3)
    assert store.chunk_count() == total
    assert chunk_ids_by_article(store) == {p.article.id: {chunk_id(p.article, c.ordinal) for c in p.chunks} for p in items}
