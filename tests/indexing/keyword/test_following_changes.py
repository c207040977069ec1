"""A reader catching up with a sync reads the registry records that changed, not the whole registry."""

from __future__ import annotations

import time

import pytest

import indexing.keyword.index as keyword
from indexing.index import NewsIndex
from indexing.keyword.bm25 import BM25Index
from indexing.store.chroma import REMOVED_KEPT_NS
from testsupport.corpora import write_txt_article
from testsupport.keyword_corpus import corpus, from_scratch  # noqa: F401  (corpus: a fixture)

QUERIES = ("queen chess", "bridge steel cables repairs", "flood inquiry residents", "volcano ash village")


@pytest.fixture
def index(index_settings, embedder, corpus) -> NewsIndex:
    news_index = NewsIndex(index_settings.replace(embed_backend="torch"))
    news_index.sync([corpus])
    return news_index


def same_results(got: BM25Index, want: BM25Index) -> bool:
    return sorted(got.ids) == sorted(want.ids) and all(
        [h.chunk_id for h in got.search(q, 50)] == [h.chunk_id for h in want.search(q, 50)] for q in QUERIES
    )


def test_a_reader_reads_only_the_records_a_sync_changed(index, corpus, monkeypatch):
    reader = NewsIndex(index.settings)
    monkeypatch.setattr(type(reader.store), "change_margin_ns", 0)  # no margin: exactly what changed since the stamp
    before = reader.keywords.current()
    write_txt_article(corpus, "volcano.txt", "Volcano erupts", "A volcano erupted near the village. Ash fell for hours.")
    (corpus / "flood.txt").unlink()
    assert (index.sync([corpus]).added, index.store.generation() != before.generation) == (1, True)

    read: list[set[str]] = []
    real = reader.store.records_changed_since
    monkeypatch.setattr(reader.store, "records_changed_since", lambda since: read.append(set(got := real(since))) or got)
    monkeypatch.setattr(reader.store, "article_records", lambda: pytest.fail("read the whole registry"))
    after = reader.keywords.current()

    volcano, flood = (str((corpus / name).resolve()) for name in ("volcano.txt", "flood.txt"))
    assert read == [{volcano, flood}]
    assert after.search("volcano ash", 1)[0].article_id == volcano
    assert after.search("flooding inquiry", 5) == []
    monkeypatch.undo()
    assert same_results(after, from_scratch(index.store))


def test_with_the_clock_margin_recent_changes_are_read_again_and_change_nothing(index):
    current = index.keywords.current()
    assert keyword.reconcile(current, index.store, current.generation) is current  # all in the margin, all matching


def test_a_reader_further_behind_than_the_kept_removals_reads_the_whole_registry(index, monkeypatch):
    ancient = BM25Index.empty(generation=time.time_ns() - REMOVED_KEPT_NS)
    calls: list[int] = []
    real = index.store.article_records
    monkeypatch.setattr(index.store, "article_records", lambda: calls.append(1) or real())
    monkeypatch.setattr(index.store, "records_changed_since", lambda since: pytest.fail("followed changes it may have lost"))
    caught_up = keyword.reconcile(ancient, index.store, index.store.generation())
    assert calls == [1]
    monkeypatch.undo()
    assert same_results(caught_up, from_scratch(index.store))
