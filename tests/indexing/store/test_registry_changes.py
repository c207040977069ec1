"""Registry records carry the time they changed; a removed article leaves a tombstone for a while."""

from __future__ import annotations

import time

from indexing.index import NewsIndex
from testsupport.corpora import write_txt_article


def test_a_removed_article_is_a_tombstone_that_no_reader_takes_for_an_article(index_settings, embedder, tmp_path):
    corpus = tmp_path / "corpus"
    write_txt_article(corpus, "one.txt", "Budget", "The council approved the budget on Monday.")
    gone = write_txt_article(corpus, "two.txt", "Bridge", "The bridge reopened after repairs.")
    index = NewsIndex(index_settings)
    index.sync([corpus])
    store, gone_id = index.store, str(gone.resolve())
    before_removal = time.time_ns()
    gone.unlink()
    assert index.sync([corpus]).removed == 1

    assert gone_id not in store.article_records() and gone_id not in store.committed_hashes_of([gone_id])
    changes = store.records_changed_since(before_removal)
    assert changes == {gone_id: None}  # the other article did not change
    assert set(store.records_changed_since(0)) == {gone_id, str((corpus / "one.txt").resolve())}

    write_txt_article(corpus, "two.txt", "Bridge", "The bridge reopened after repairs.")  # back again: an article
    assert index.sync([corpus]).added == 1
    assert store.records_changed_since(before_removal)[gone_id].sha256 == store.committed_hashes()[gone_id]


def test_tombstones_older_than_kept_are_forgotten(index_settings, embedder, tmp_path):
    corpus = tmp_path / "corpus"
    gone = write_txt_article(corpus, "two.txt", "Bridge", "The bridge reopened after repairs.")
    index = NewsIndex(index_settings)
    index.sync([corpus])
    gone.unlink()
    index.sync([corpus])
    assert list(index.store.records_changed_since(0).values()) == [None]
    index.store.forget_removed(time.time_ns())
    assert index.store.records_changed_since(0) == {}
