"""The BM25 keyword cache: derived from Chroma, stamped with the sync generation, never drifting."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from dataclasses import replace

import pytest

from conftest import REPO, write_txt_article
from indexing.index import NewsIndex
from indexing.keyword import _STAMP, KeywordCache, KeywordIndex

ARTICLES = {
    "chess.txt": ("Teenager wins chess title", "Lena Vogel won the national chess championship. She sacrificed her queen on move 31."),
    "bridge.txt": ("Harbour bridge reopens", "The harbour bridge reopened after repairs. Engineers replaced the steel cables."),
    "flood.txt": ("Flood inquiry opens", "An inquiry into the spring flooding opened on Monday. Residents described the damage."),
}


@pytest.fixture
def corpus(tmp_path):
    folder = tmp_path / "corpus"
    for name, (title, body) in ARTICLES.items():
        write_txt_article(folder, name, title, body)
    return folder


@pytest.fixture
def settings(index_settings):
    # The torch backend only: these tests are about the keyword cache, not the query-time ONNX export.
    return replace(index_settings, embed_backend="torch")


@pytest.fixture
def index(settings, embedder, corpus) -> NewsIndex:
    news_index = NewsIndex(settings)
    news_index.sync([corpus])
    return news_index


def forbid_build(monkeypatch):
    def build(*args, **kwargs):
        raise AssertionError("the keyword index was rebuilt instead of loaded")

    monkeypatch.setattr(KeywordIndex, "build", classmethod(build))


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
    stamp = json.loads((folder / _STAMP).read_text(encoding="utf-8"))
    assert stamp["generation"] == index.store.generation() != 0
    assert sorted(stamp["ids"]) == sorted(c.id for c in index.store.iter_chunks())


def test_unchanged_generation_returns_the_same_index(index):
    first = index.keywords.current()
    assert index.keywords.current() is first


def test_a_new_instance_loads_from_disk_when_the_generation_matches(index, settings, monkeypatch):
    generation = index.store.generation()
    forbid_build(monkeypatch)
    fresh = NewsIndex(settings)  # a new handle: new store client, new cache, same data dir
    loaded = fresh.keywords.current()
    assert loaded.generation == generation
    assert loaded.search("flooding inquiry", 1)[0].article_id.endswith("flood.txt")


def test_a_new_process_loads_from_disk_when_the_generation_matches(index, settings):
    script = textwrap.dedent(
        f"""
        import json
        from pathlib import Path
        from indexing.keyword import KeywordIndex
        from indexing.index import NewsIndex
        from indexing.settings import IndexSettings, SettingsSource

        def build(*a, **k):
            raise SystemExit("rebuilt instead of loaded")
        KeywordIndex.build = classmethod(build)
        settings = IndexSettings.from_env(SettingsSource(env={{
            "NEWSBOT_DATA_DIR": {str(settings.data_dir)!r}, "NEWSBOT_CONFIG": "/nonexistent/config.toml"}}))
        hits = NewsIndex(settings).keywords.current().search("steel cables", 1)
        print(json.dumps([h.article_id for h in hits]))
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, cwd=REPO)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1])[0].endswith("bridge.txt")


def test_a_sync_elsewhere_moves_the_generation_and_the_cache_rebuilds(index, settings, corpus):
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
    stale_generation = json.loads((folder / _STAMP).read_text(encoding="utf-8"))["generation"]
    # Change the index without refreshing the saved cache (as another writer would).
    write_txt_article(corpus, "volcano.txt", "Volcano erupts", "A volcano erupted near the village. Ash fell for hours.")
    from indexing.indexer import sync

    sync([corpus], index.store, index.embedder, settings)
    assert json.loads((folder / _STAMP).read_text(encoding="utf-8"))["generation"] == stale_generation

    fresh = KeywordCache(NewsIndex(settings).store, folder)
    current = fresh.current()
    assert current.generation != stale_generation
    assert current.search("volcano", 3)[0].article_id.endswith("volcano.txt")
    assert json.loads((folder / _STAMP).read_text(encoding="utf-8"))["generation"] == current.generation


def test_a_corrupt_cache_is_rebuilt(index, settings):
    folder = index.keywords.folder
    (folder / _STAMP).write_text("{not json", encoding="utf-8")
    current = KeywordCache(NewsIndex(settings).store, folder).current()
    assert current.search("steel cables", 1)[0].article_id.endswith("bridge.txt")
    assert json.loads((folder / _STAMP).read_text(encoding="utf-8"))["generation"] == index.store.generation()


def test_an_empty_index_has_an_empty_keyword_index(settings):
    current = NewsIndex(settings).keywords.current()
    assert current.ids == [] and current.search("anything", 5) == []


def test_a_query_never_waits_for_a_rebuild_it_gets_the_previous_index_meanwhile(tmp_path, index_settings, embedder):
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
        assert time.monotonic() < deadline, "the background rebuild never finished"
        time.sleep(0.05)
    assert reader.keywords.current(wait=False).search("volcano ash", 3)[0].article_id.endswith("b.txt")
