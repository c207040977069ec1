"""The seed corpus indexes and is found again (the end-to-end path of `newsbot index`)."""

from testsupport.corpora import SEED_FILE


def test_seed_index_holds_the_seed_article(seed_index):
    status = seed_index.status()
    assert status.articles == 1
    assert status.chunks >= 3
    records = seed_index.store.article_records()
    (record,) = records.values()
    assert record.title.startswith("Russia, NATO talks")
    assert record.published == "2022-12-04"
    assert record.origin == str(SEED_FILE)
