"""The keyword cache on real Chroma: stamped with the sync generation, reconciled incrementally, never drifting."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

import indexing.keyword.files as bm25_files
import indexing.keyword.index as keyword
from indexing.index import NewsIndex
from indexing.keyword.bm25 import BM25Index
from indexing.keyword.files import MANIFEST
from indexing.keyword.index import KeywordCache
from testsupport.corpora import REPO, news_text, write_txt_article
from testsupport.keyword_corpus import corpus, from_scratch  # noqa: F401  (corpus: a fixture)


@pytest.fixture
def settings(index_settings):
    # The torch backend only: these tests are about the keyword cache, not the query-time ONNX export.
    return index_settings.replace(embed_backend="torch")


@pytest.fixture
def index(settings, embedder, corpus) -> NewsIndex:
    news_index = NewsIndex(settings)
    news_index.sync([corpus])
    return news_index


def forbid_reconcile(monkeypatch):
    def reconcile(*args, **kwargs):
        raise AssertionError("the keyword index was reconciled with Chroma instead of loaded")

    monkeypatch.setattr(keyword, "reconcile", reconcile)


def saved_generation(folder) -> int:
    return json.loads((folder / MANIFEST).read_text(encoding="utf-8"))["generation"]


def test_search_finds_the_chunk_with_the_words(index, corpus):
    hits = index.keywords.current().search("queen sacrificed", 5)
    assert hits[0].article_id == str((corpus / "chess.txt").resolve())
    chunk = index.store.get_chunks([hits[0].chunk_id])[0]
    assert "sacrificed her queen" in chunk.text
    assert hits[0].sha256 == index.store.committed_hashes()[hits[0].article_id]
    assert all(h.score > 0 for h in hits)
    # Stemming: "repairing" finds "repairs"; a word in no article finds nothing.
    assert index.keywords.current().search("repairing", 5)[0].article_id == str((corpus / "bridge.txt").resolve())
    assert index.keywords.current().search("zeppelin", 5) == []
    assert index.keywords.current().search("the and of", 5) == []  # stop words only


def test_sync_saves_the_cache_stamped_with_the_generation(index):
    folder = index.keywords.folder
    assert saved_generation(folder) == index.store.generation() != 0
    assert sorted(bm25_files.load(folder).ids) == sorted(c.id for c in index.store.iter_chunks())


def test_unchanged_generation_returns_the_same_index(index):
    first = index.keywords.current()
    assert index.keywords.current() is first


def test_a_new_instance_loads_from_disk_when_the_generation_matches(index, settings, monkeypatch):
    generation = index.store.generation()
    forbid_reconcile(monkeypatch)
    fresh = NewsIndex(settings)  # a new handle: new store client, new cache, same data dir
    loaded = fresh.keywords.current()
    assert loaded.generation == generation
    assert loaded.search("flooding inquiry", 1)[0].article_id.endswith("flood.txt")


def test_a_new_process_loads_from_disk_when_the_generation_matches(index, settings):
    script = textwrap.dedent(
        f"""
        import json
        from pathlib import Path
        import indexing.keyword.index
        from indexing.index import NewsIndex
        from indexing.settings import IndexSettings, SettingsSource

        def reconcile(*a, **k):
            raise SystemExit("reconciled instead of loaded")
        indexing.keyword.index.reconcile = reconcile
        settings = IndexSettings.from_env(SettingsSource(env={{
            "NEWSBOT_DATA_DIR": {str(settings.data_dir)!r}, "NEWSBOT_CONFIG": "/nonexistent/config.toml"}}))
        hits = NewsIndex(settings).keywords.current().search("steel cables", 1)
        print(json.dumps([h.article_id for h in hits]))
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, cwd=REPO)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1])[0].endswith("bridge.txt")


def test_a_sync_elsewhere_moves_the_generation_and_the_cache_follows(index, settings, corpus):
    other = NewsIndex(settings)  # another process's handle on the same index
    before = other.keywords.current()
    assert other.keywords.current().search("volcano", 3) == []

    write_txt_article(corpus, "volcano.txt", "Volcano erupts", "A volcano erupted near the village. Ash fell for hours.")
    (corpus / "chess.txt").unlink()
    report = index.sync([corpus])
    assert (report.added, report.removed) == (1, 1)

    after = other.keywords.current()
    assert after is not before
    assert after.generation == index.store.generation() != before.generation
    assert after.search("volcano ash", 3)[0].article_id.endswith("volcano.txt")
    assert after.search("checkmate chess queen", 3) == []
    assert set(after.ids) == {c.id for c in index.store.iter_chunks()}


def test_a_stale_cache_on_disk_is_not_used(index, settings, corpus, monkeypatch):
    folder = index.keywords.folder
    stale_generation = saved_generation(folder)
    # Change the index without refreshing the saved cache (as another writer would).
    write_txt_article(corpus, "volcano.txt", "Volcano erupts", "A volcano erupted near the village. Ash fell for hours.")
    from indexing.indexer import sync

    sync([corpus], index.store, index.embedder, settings)
    assert saved_generation(folder) == stale_generation

    fresh = KeywordCache(NewsIndex(settings).store, folder)
    current = fresh.current()
    assert current.generation != stale_generation
    assert current.search("volcano", 3)[0].article_id.endswith("volcano.txt")
    assert saved_generation(folder) == current.generation


def test_a_corrupt_cache_is_rebuilt(index, settings):
    folder = index.keywords.folder
    (folder / MANIFEST).write_text("{not json", encoding="utf-8")
    current = KeywordCache(NewsIndex(settings).store, folder).current()
    assert current.search("steel cables", 1)[0].article_id.endswith("bridge.txt")
    assert saved_generation(folder) == index.store.generation()


def test_an_empty_index_has_an_empty_keyword_index(settings):
    current = NewsIndex(settings).keywords.current()
    assert current.ids == [] and current.search("anything", 5) == []


def test_a_query_never_waits_for_a_reconcile_it_gets_the_previous_index_meanwhile(tmp_path, index_settings, embedder):
    import time

    corpus = tmp_path / "more"
    corpus.mkdir()
    (corpus / "a.txt").write_text("Chess news\nThe queen was sacrificed for checkmate in the final game.\n", encoding="utf-8")
    writer, reader = NewsIndex(index_settings), NewsIndex(index_settings)
    writer.sync([corpus])
    before = reader.keywords.current()
    (corpus / "b.txt").write_text("Volcano news\nAsh from the volcano closed the airport for two days.\n", encoding="utf-8")
    writer.sync([corpus])
    served = reader.keywords.current(wait=False)
    assert served is before, "the stale index answers at once"
    deadline = time.monotonic() + 60
    while reader.keywords.current(wait=False).generation != reader.store.generation():
        assert time.monotonic() < deadline, "the background reconcile never finished"
        time.sleep(0.05)
    assert reader.keywords.current(wait=False).search("volcano ash", 3)[0].article_id.endswith("b.txt")


# ---- incremental reconcile ---------------------------------------------------------------------


def assert_same_results(incremental: BM25Index, fresh: BM25Index, queries) -> None:
    assert sorted(incremental.ids) == sorted(fresh.ids)
    for query in queries:
        got, want = incremental.search(query, 50), fresh.search(query, 50)
        assert [h.chunk_id for h in got] == [h.chunk_id for h in want], query
        assert [h.score for h in got] == pytest.approx([h.score for h in want], abs=1e-5), query


def count_tokenized(monkeypatch) -> list[str]:
    """Every text the BM25 index tokenises from now on."""
    import indexing.keyword.bm25

    seen: list[str] = []
    real = indexing.keyword.bm25.tokenize

    def counting(texts):
        seen.extend(texts)
        return real(texts)

    monkeypatch.setattr(indexing.keyword.bm25, "tokenize", counting)
    return seen


QUERIES = ("queen chess", "bridge steel cables repairs", "flood inquiry residents", "volcano ash village", "harbour")


def test_one_new_article_is_all_a_reader_fetches_and_tokenises(index, settings, corpus, monkeypatch):
    reader = NewsIndex(settings)
    reader.keywords.current()
    write_txt_article(corpus, "volcano.txt", "Volcano erupts", "A volcano erupted near the village. Ash fell for hours.")
    index.sync([corpus])

    tokenized = count_tokenized(monkeypatch)
    fetched: list[str] = []
    real_fetch = reader.store.chunks_of_articles
    monkeypatch.setattr(reader.store, "chunks_of_articles", lambda ids: fetched.extend(ids) or real_fetch(ids))
    monkeypatch.setattr(reader.store, "iter_chunks", lambda: pytest.fail("paged through every chunk"))
    updated = reader.keywords.current()

    volcano = str((corpus / "volcano.txt").resolve())
    assert fetched == [volcano]
    new_chunks = [c for c in index.store.iter_chunks() if c.article_id == volcano]
    assert len(tokenized) == len(new_chunks) and all("Volcano erupts" in t for t in tokenized)
    assert updated.search("volcano ash", 3)[0].article_id == volcano
    assert_same_results(updated, from_scratch(index.store), QUERIES)


def test_changed_and_deleted_articles_never_come_back_and_scores_stay_exact(index, settings, corpus):
    reader = NewsIndex(settings)
    before = reader.keywords.current()
    write_txt_article(corpus, "chess.txt", "Chess club closes", "The chess club closed for lack of members. The hall was sold.")
    (corpus / "flood.txt").unlink()
    write_txt_article(corpus, "volcano.txt", "Volcano erupts", "A volcano erupted near the village. Ash fell for hours.")
    report = index.sync([corpus])
    assert (report.added, report.updated, report.removed) == (1, 1, 1)

    after = reader.keywords.current()
    committed = index.store.committed_hashes()
    assert set(after.ids) == {c.id for c in index.store.iter_chunks() if committed[c.article_id] == c.sha256}
    assert after.search("queen sacrificed", 5) == [] and after.search("flooding inquiry", 5) == []
    assert all(committed.get(h.article_id) == h.sha256 for q in QUERIES for h in after.search(q, 50))
    assert after.search("chess hall sold", 1)[0].article_id.endswith("chess.txt")
    assert_same_results(after, from_scratch(index.store), (*QUERIES, "chess club members hall"))
    assert before.search("queen sacrificed", 1), "the reader's previous index object is unchanged"


def test_an_article_left_half_fetched_is_fetched_again(index, corpus, monkeypatch):
    long = write_txt_article(corpus, "long.txt", "Budget debate", news_text(7, paragraphs=8))
    index.sync([corpus])
    store, article = index.store, str(long.resolve())
    complete = from_scratch(store)
    assert complete.articles[article][1] > 1
    # As if a concurrent sync deleted one of its chunks mid-read (and a later sync put it back).
    real = store.iter_chunks
    monkeypatch.setattr(store, "iter_chunks", lambda: (c for c in real() if not (c.article_id == article and c.ordinal == 0)))
    partial = from_scratch(store)
    monkeypatch.undo()
    assert partial.articles[article][1] == complete.articles[article][1] - 1

    store.bump_generation()
    redone = keyword.reconcile(partial, store, store.generation())
    assert redone.articles[article] == complete.articles[article]
    assert_same_results(redone, complete, (*QUERIES, "budget schools"))


def test_a_missing_segment_file_falls_back_to_a_rebuild(index, settings):
    folder = index.keywords.folder
    next(folder.glob("seg-*.bin")).unlink()
    assert bm25_files.load(folder) is None
    current = KeywordCache(NewsIndex(settings).store, folder).current()
    assert current.search("steel cables", 1)[0].article_id.endswith("bridge.txt")
    assert bm25_files.load(folder).ids == current.ids
