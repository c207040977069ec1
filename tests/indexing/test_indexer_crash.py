"""Repair after a crash between chunk writes and the commit: simulated at each step, and a real kill -9."""

from __future__ import annotations

import pytest

from indexing.indexer import sync
from indexing.store.chroma import META_ID, ChunkStore
from testsupport.corpora import news_text, write_txt_article
from testsupport.indexer_corpus import (  # noqa: F401  (settings is a fixture, used by name)
    CORPUS_ARTICLES,
    build_corpus,
    expected_chunk_ids,
    read_all,
    settings,
    short_text,
    stored_ids,
)

# ---- crash between chunk writes and the commit, then a repairing run -----------------------------


class Crash(Exception):
    pass


def crash_in_chunk_writes(monkeypatch):
    """The chunk write dies half-way: some of the new chunks are in Chroma, the rest never arrive."""
    real = ChunkStore._upsert_chunks

    def upsert(self, ids, vectors, documents, metadatas):
        half = max(1, len(ids) // 2)
        real(self, ids[:half], vectors[:half], documents[:half], metadatas[:half])
        raise Crash("killed while writing chunks")

    monkeypatch.setattr(ChunkStore, "_upsert_chunks", upsert)


def crash_at_commit(monkeypatch):
    """Every chunk is written; the registry upsert that commits them never happens."""
    real = ChunkStore._put_records

    def put(self, ids, metas):
        committing = META_ID in ids and len(ids) > 1 and not any(m.get("kind") == "removed" for m in metas)
        if committing:  # the articles' new hashes together with a new generation (not a removal's tombstone)
            raise Crash("killed just before the commit")
        real(self, ids, metas)

    monkeypatch.setattr(ChunkStore, "_put_records", put)


def crash_after_commit(monkeypatch):
    """Committed, but the replaced versions' stale chunks are never deleted."""

    def delete(self, article_id, keep_sha):
        raise Crash("killed before deleting stale chunks")

    monkeypatch.setattr(ChunkStore, "_delete_stale_chunks", delete)


@pytest.mark.parametrize("crash", [crash_in_chunk_writes, crash_at_commit, crash_after_commit])
def test_crash_then_normal_sync_equals_a_clean_build(tmp_path, embedder, settings, monkeypatch, crash):
    corpus = build_corpus(tmp_path)
    store = ChunkStore(settings)
    sync([corpus], store, embedder, settings)
    versions = {a.sha256: a for a in read_all(corpus, settings).values()}
    # Change two articles, add one and delete one, then crash half-way through writing them.
    write_txt_article(corpus, "dated.txt", "Tram network to grow", news_text(101, paragraphs=3, sentences=3))
    (corpus / "notes" / "plain.md").write_text("# Night flights banned\n\n" + short_text(102), encoding="utf-8")
    write_txt_article(corpus, "new.txt", "A new arrival", short_text(103))
    (corpus / "one.json").unlink()
    crash(monkeypatch)
    with pytest.raises(Crash):
        sync([corpus], store, embedder, settings)
    monkeypatch.undo()

    # Whatever state the crash left, readers see for each committed article exactly one whole version
    # (old or new, every chunk of it), and nothing of articles that were never committed.
    reopened = ChunkStore(settings)
    committed = reopened.committed_hashes()
    versions.update({a.sha256: a for a in read_all(corpus, settings).values()})
    visible: dict[str, set[str]] = {}
    for chunk in reopened.iter_chunks():
        if committed.get(chunk.article_id) == chunk.sha256:
            visible.setdefault(chunk.article_id, set()).add(chunk.id)
    assert set(visible) == set(committed)
    for article_id, sha in committed.items():
        assert visible[article_id] == expected_chunk_ids([versions[sha]], embedder, settings)

    report = sync([corpus], reopened, embedder, settings)
    assert report.failed == []
    if crash is not crash_after_commit:
        assert report.repaired >= 1
    assert {r.status for r in reopened.article_records().values()} == {"ok"}

    clean = ChunkStore(settings.replace(data_dir=tmp_path / "clean-data"))
    clean_report = sync([corpus], clean, embedder, settings)
    assert (report.articles, report.chunks) == (clean_report.articles, clean_report.chunks)
    assert reopened.committed_hashes() == clean.committed_hashes()
    assert stored_ids(reopened) == stored_ids(clean), "no duplicate or orphan chunks"
    assert reopened.chunk_count() == len(stored_ids(reopened))

    # And the run after that has nothing to do.
    after = sync([corpus], reopened, embedder, settings)
    assert (after.repaired, after.embedded_chunks, after.unchanged) == (0, 0, CORPUS_ARTICLES)


def test_crash_during_the_first_build_is_repaired(tmp_path, embedder, settings, monkeypatch):
    corpus = build_corpus(tmp_path)
    store = ChunkStore(settings)
    crash_in_chunk_writes(monkeypatch)
    with pytest.raises(Crash):
        sync([corpus], store, embedder, settings)
    monkeypatch.undo()
    assert store.committed_hashes() == {}
    report = sync([corpus], ChunkStore(settings), embedder, settings)
    assert report.repaired == CORPUS_ARTICLES and report.added == CORPUS_ARTICLES
    assert stored_ids(store) == expected_chunk_ids(read_all(corpus, settings).values(), embedder, settings)


# ---- a real kill -9 at random moments (slow: each run loads the model in a new process) ----------

_KILLABLE_SYNC = """
import sys
import indexing.indexer as indexer
from indexing.embedding.models import get_embedder
from indexing.settings import IndexSettings, SettingsSource
from indexing.store.chroma import ChunkStore

indexer.WRITE_BATCH_CHUNKS = 6  # many small write_articles calls, so kills land inside writes too
settings = IndexSettings.from_env(SettingsSource(env={
    "NEWSBOT_DATA_DIR": sys.argv[1], "NEWSBOT_CONFIG": "/nonexistent.toml", "NEWSBOT_EMBED_BACKEND": "torch",
    "NEWSBOT_CHUNK_TOKENS": sys.argv[3], "NEWSBOT_CHUNK_OVERLAP": sys.argv[4]}))
embedder = get_embedder(settings.embed_model, settings.threads, settings.embed_batch_size)
embedder.embed_query("warm up")
store = ChunkStore(settings)
print("ready", len(store.repair()), flush=True)  # how many articles the previous kill left half-written
write_articles = ChunkStore.write_articles

def announced(self, items):
    print("writing", flush=True)  # the parent kills a few milliseconds after this
    write_articles(self, items)

ChunkStore.write_articles = announced
indexer.sync([sys.argv[2]], store, embedder, settings)
print("done", flush=True)
"""


@pytest.mark.slow
def test_kill_9_at_random_moments_then_a_normal_sync_repairs(tmp_path, embedder, settings):
    import random
    import signal
    import subprocess
    import sys
    import time

    from testsupport.corpora import REPO

    rng = random.Random(5)
    corpus = tmp_path / "corpus"
    for n in range(16):
        write_txt_article(corpus, f"{n:03d}.txt", f"Story {n}", news_text(300 + n, paragraphs=2, sentences=4))
    killed, repaired = 0, []
    for round_ in range(5):
        # Some articles change between rounds, so replacements are in flight as well as additions.
        for n in rng.sample(range(16), 4):
            write_txt_article(corpus, f"{n:03d}.txt", f"Story {n}", news_text(1000 * round_ + n, paragraphs=2, sentences=4))
        proc = subprocess.Popen(
            [
                sys.executable,
                "-c",
                _KILLABLE_SYNC,
                str(settings.data_dir),
                str(corpus),
                str(settings.chunk_tokens),
                str(settings.chunk_overlap_tokens),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            cwd=REPO,
        )
        try:
            ready, count = proc.stdout.readline().split()
            assert ready == "ready"
            repaired.append(int(count))
            for _ in range(rng.randint(1, 3)):  # let a write or two finish, then kill inside the next
                if proc.stdout.readline().strip() != "writing":
                    break
            time.sleep(rng.uniform(0.0, 0.1))
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                killed += 1
            proc.wait(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    assert killed >= 3, "most rounds must actually be killed mid-sync"

    store = ChunkStore(settings)
    report = sync([corpus], store, embedder, settings)
    print(f"killed {killed} of 5 runs; half-written articles repaired per run: {repaired[1:] + [report.repaired]}")
    assert report.failed == []
    assert {r.status for r in store.article_records().values()} == {"ok"}
    clean = ChunkStore(settings.replace(data_dir=tmp_path / "clean-data"))
    sync([corpus], clean, embedder, settings)
    assert store.committed_hashes() == clean.committed_hashes()
    assert stored_ids(store) == stored_ids(clean)
    assert store.chunk_count() == clean.chunk_count()
    hits = store.query(embedder.embed_query(news_text(302, paragraphs=1, sentences=1)), 5)
    assert hits, "the index still answers queries after the kills"
