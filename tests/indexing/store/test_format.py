"""The store format version: recorded by a new index, upgraded in place from older formats, and a
newer format refused for writing, in one line that names both versions, by the library and the CLI."""

from __future__ import annotations

import pytest

from indexing.store.format import FORMAT_KEY, STORE_FORMAT, WRITTEN_BY_KEY, StoreFormatError, stored_format
from indexing.store.upgrade import upgrade
from testsupport.cli import assert_one_line_error, clean_env, newsbot
from testsupport.corpora import news_text, write_txt_article


@pytest.fixture
def folder(tmp_path):
    corpus = tmp_path / "corpus"
    for n in range(3):
        write_txt_article(corpus, f"a{n}.txt", f"Article {n}", news_text(n, paragraphs=1))
    return corpus


def test_a_new_index_records_this_newsbots_format_and_version(news_index, folder):
    news_index.sync([folder])
    meta = news_index.store.meta()
    assert stored_format(meta) == STORE_FORMAT
    assert meta[WRITTEN_BY_KEY].startswith("newsbot ")


def test_a_newer_format_is_refused_before_anything_is_written(news_index, folder):
    news_index.sync([folder])
    store = news_index.store
    store.set_meta(**{FORMAT_KEY: STORE_FORMAT + 1, WRITTEN_BY_KEY: "newsbot 9.9.9"})
    before = store.generation(), sorted(store.chunks.get(include=[])["ids"])
    write_txt_article(folder, "new.txt", "A new one", news_text(7, paragraphs=1))
    with pytest.raises(StoreFormatError) as refused:
        news_index.sync([folder])
    line = str(refused.value)
    assert "\n" not in line
    assert f"store format {STORE_FORMAT + 1}" in line and f"writes format {STORE_FORMAT}" in line and "newsbot 9.9.9" in line
    assert (store.generation(), sorted(store.chunks.get(include=[])["ids"])) == before
    with pytest.raises(StoreFormatError):
        upgrade(store)


def test_an_older_format_is_upgraded_in_place_and_then_recorded(news_index, folder):
    news_index.sync([folder])
    store = news_index.store
    store.set_meta(**{FORMAT_KEY: 1})  # what a newsbot from before MinHash signatures left
    report = news_index.sync([folder])
    assert report.embedded_chunks == 0 and stored_format(store.meta()) == STORE_FORMAT


def test_the_cli_refuses_a_newer_format_in_one_line(tmp_path, news_index, folder):
    news_index.sync([folder])
    news_index.store.set_meta(**{FORMAT_KEY: STORE_FORMAT + 1})
    env = clean_env(
        NEWSBOT_DATA_DIR=str(news_index.settings.data_dir),
        NEWSBOT_CONFIG=str(tmp_path / "none.toml"),
        NEWSBOT_EMBED_BACKEND="torch",
    )
    result = newsbot("index", str(folder), env=env, cwd=tmp_path)
    assert_one_line_error(result, f"store format {STORE_FORMAT + 1}", f"writes format {STORE_FORMAT}")
