"""Incremental sync on real Chroma (embedded) with the real model: add, skip, update, remove,
bad input, and repair after a crash between chunk writes and the commit."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from conftest import news_text, write_txt_article
from indexing.chunking import chunk_text
from indexing.indexer import indexing_signature, sync, versioned
from indexing.sources import iter_article_files, read_file
from indexing.store import META_ID, ChunkStore, chunk_id

HTML = """<html><head><title>{title}</title>
<meta property="article:published_time" content="2023-03-14">
<link rel="canonical" href="https://news.example.com/{slug}"></head>
<body><nav>Home | World | Sport</nav><article><h1>{title}</h1>{paras}</article><footer>(c) Example</footer></body></html>"""


def short_text(seed: int) -> str:
    """Two short paragraphs: two or three chunks at the budget these tests use, cheap to embed."""
    return news_text(seed, paragraphs=2, sentences=3)


def html_page(seed: int, title: str, slug: str) -> str:
    paras = "".join(f"<p>{p}</p>" for p in short_text(seed).split("\n\n"))
    return HTML.format(title=title, slug=slug, paras=paras)


def build_corpus(root: Path) -> Path:
    """One file (or record) of every supported shape: 14 articles in 10 files."""
    corpus = root / "corpus"
    write_txt_article(corpus, "dated.txt", "Tram network to grow", short_text(1))
    (corpus / "undated.txt").write_text("Harbour authority reviews fees\n" + short_text(2), encoding="utf-8")
    (corpus / "notes" / "front.md").parent.mkdir(parents=True)
    (corpus / "notes" / "front.md").write_text(
        "---\ntitle: Water prices to rise\ndate: 2022-11-30\nurl: https://news.example.com/water\n---\n" + short_text(3), encoding="utf-8"
    )
    (corpus / "notes" / "plain.md").write_text("# Night flights banned\n\n" + short_text(4), encoding="utf-8")
    (corpus / "web" / "bridge.html").parent.mkdir(parents=True)
    (corpus / "web" / "bridge.html").write_text(html_page(5, "Bridge contract signed", "bridge"), encoding="utf-8")
    (corpus / "web" / "wind.htm").write_text(html_page(6, "Wind power strategy", "wind"), encoding="utf-8")
    (corpus / "one.json").write_text(json.dumps({"title": "Sugar tax", "body": short_text(7), "published": "2022-10-01"}), encoding="utf-8")
    (corpus / "list.json").write_text(
        json.dumps({"articles": [{"id": "h1", "title": "Hospitals merge", "text": short_text(8), "date": "2022-09-09"},
                                 {"id": "h2", "title": "Schools budget", "text": short_text(9), "date": "2022-09-10"}]}),
        encoding="utf-8",
    )
    feed = [{"doc_id": f"2022061{n}_{n}", "url": f"https://news.example.com/2022/06/1{n}/story-{n}", "title": None if n == 2 else f"Story {n}",
             "publish_date": "2022/06/12", "authors": ["A. Reporter"], "origin": "cnn", "week": "20220612", "text": short_text(10 + n)}
            for n in range(3)]
    (corpus / "feeds" / "articles.jsonl").parent.mkdir(parents=True)
    (corpus / "feeds" / "articles.jsonl").write_text("\n".join(json.dumps(r) for r in feed) + "\n", encoding="utf-8")
    (corpus / "feeds" / "more.jsonl").write_text(
        "\n".join(json.dumps({"id": f"m{n}", "title": f"More {n}", "text": short_text(20 + n)}) for n in range(2)) + "\n", encoding="utf-8"
    )
    return corpus


CORPUS_ARTICLES = 14


def read_all(corpus: Path, settings) -> dict:
    """The corpus's articles as the index records them: hashed with the indexing signature too."""
    signature = indexing_signature(settings)
    return {a.id: versioned(a, signature) for path in iter_article_files([corpus]) for a in read_file(path).articles}


@pytest.fixture
def settings(index_settings):
    # A small chunk budget: several chunks per article from short texts, so the tests embed little.
    return replace(index_settings, chunk_tokens=48, chunk_overlap_tokens=12)


@pytest.fixture
def store(settings):
    return ChunkStore(settings)


def expected_chunk_ids(articles, embedder, settings) -> set[str]:
    return {
        chunk_id(a, c.ordinal)
        for a in articles
        for c in chunk_text(a.text, embedder.count_tokens, settings.chunk_tokens, settings.chunk_overlap_tokens)
    }


def stored_ids(store: ChunkStore) -> set[str]:
    return {c.id for c in store.iter_chunks()}


# ---- add / skip / update / remove --------------------------------------------------------------


def test_first_sync_adds_every_format_with_exact_offsets(tmp_path, store, embedder, settings):
    corpus = build_corpus(tmp_path)
    report = sync([corpus], store, embedder, settings)
    assert [str(e) for e in report.failed] == []
    assert (report.added, report.updated, report.removed, report.unchanged) == (CORPUS_ARTICLES, 0, 0, 0)

    articles = read_all(corpus, settings)
    assert len(articles) == CORPUS_ARTICLES
    assert store.committed_hashes() == {a.id: a.sha256 for a in articles.values()}
    assert report.articles == CORPUS_ARTICLES
    assert report.chunks == store.chunk_count() == report.embedded_chunks
    assert stored_ids(store) == expected_chunk_ids(articles.values(), embedder, settings)
    for chunk in store.iter_chunks():
        assert articles[chunk.article_id].text[chunk.start : chunk.end] == chunk.text
    records = store.article_records()
    assert records["https://news.example.com/water"].published == "2022-11-30"
    assert records["https://news.example.com/bridge"].title == "Bridge contract signed"
    assert records[str((corpus / "dated.txt").resolve())].published == "2022-12-04"
    assert records[f"{(corpus / 'list.json').resolve()}#h2"].title == "Schools budget"
    assert store.meta()["last_sync"]


def test_second_sync_skips_everything_and_embeds_nothing(tmp_path, store, embedder, settings):
    corpus = build_corpus(tmp_path)
    first = sync([corpus], store, embedder, settings)
    generation = store.generation()
    ids = stored_ids(store)
    again = sync([corpus], store, embedder, settings)
    assert (again.added, again.updated, again.removed, again.unchanged) == (0, 0, 0, CORPUS_ARTICLES)
    assert again.embedded_chunks == 0
    assert not again.changed
    assert (again.articles, again.chunks) == (first.articles, first.chunks)
    assert store.generation() == generation, "an unchanged corpus does not invalidate readers' caches"
    assert stored_ids(store) == ids


def test_changed_file_replaces_its_chunks(tmp_path, store, embedder, settings):
    corpus = build_corpus(tmp_path)
    sync([corpus], store, embedder, settings)
    path = (corpus / "dated.txt").resolve()
    old = versioned(read_file(path).articles[0], indexing_signature(settings))
    old_ids = {i for i in stored_ids(store) if i.startswith(f"{old.id}#")}
    before_total = store.chunk_count()

    write_txt_article(corpus, "dated.txt", "Tram network to grow", news_text(99, paragraphs=3, sentences=4))
    new = versioned(read_file(path).articles[0], indexing_signature(settings))
    new_ids = expected_chunk_ids([new], embedder, settings)
    report = sync([corpus], store, embedder, settings)

    assert (report.added, report.updated, report.removed, report.unchanged) == (0, 1, 0, CORPUS_ARTICLES - 1)
    assert report.embedded_chunks == len(new_ids)
    ids = stored_ids(store)
    assert old_ids and not (old_ids & ids), "old chunks are gone"
    assert new_ids <= ids
    assert {i for i in ids if i.startswith(f"{old.id}#")} == new_ids
    assert store.chunk_count() == before_total - len(old_ids) + len(new_ids) == report.chunks
    record = store.article_records()[new.id]
    assert (record.sha256, record.status, record.n_chunks) == (new.sha256, "ok", len(new_ids))


def test_title_change_alone_re_indexes(tmp_path, store, embedder, settings):
    corpus = tmp_path / "c"
    write_txt_article(corpus, "a.txt", "First title", news_text(1))
    sync([corpus], store, embedder, settings)
    write_txt_article(corpus, "a.txt", "Second title", news_text(1))
    report = sync([corpus], store, embedder, settings)
    assert report.updated == 1
    assert {c.title for c in store.iter_chunks()} == {"Second title"}


def test_deleted_file_is_removed_with_its_chunks(tmp_path, store, embedder, settings):
    corpus = build_corpus(tmp_path)
    sync([corpus], store, embedder, settings)
    shutil.rmtree(corpus / "web")
    report = sync([corpus], store, embedder, settings)
    assert (report.removed, report.unchanged, report.embedded_chunks) == (2, CORPUS_ARTICLES - 2, 0)
    assert "https://news.example.com/bridge" not in store.article_records()
    assert not [c for c in store.iter_chunks() if c.article_id in {"https://news.example.com/bridge", "https://news.example.com/wind"}]
    assert store.chunk_count() == report.chunks
    assert stored_ids(store) == expected_chunk_ids(read_all(corpus, settings).values(), embedder, settings)


def test_record_removed_from_a_jsonl_file_is_removed(tmp_path, store, embedder, settings):
    corpus = build_corpus(tmp_path)
    sync([corpus], store, embedder, settings)
    feed = corpus / "feeds" / "articles.jsonl"
    lines = feed.read_text(encoding="utf-8").splitlines()
    gone = json.loads(lines[1])["url"]
    feed.write_text("\n".join([lines[0], lines[2]]) + "\n", encoding="utf-8")
    report = sync([corpus], store, embedder, settings)
    assert (report.removed, report.added, report.updated) == (1, 0, 0)
    assert gone not in store.committed_hashes()
    assert not [c for c in store.iter_chunks() if c.article_id == gone]
    assert len(store.committed_hashes()) == CORPUS_ARTICLES - 1


def test_a_broken_file_keeps_its_indexed_articles(tmp_path, store, embedder, settings):
    corpus = build_corpus(tmp_path)
    sync([corpus], store, embedder, settings)
    ids_before = stored_ids(store)
    # A whole file turns unreadable, and one record of a JSONL file turns into bad JSON.
    (corpus / "undated.txt").write_bytes("Caf\xe9 ".encode("latin-1") * 50)
    feed = corpus / "feeds" / "more.jsonl"
    lines = feed.read_text(encoding="utf-8").splitlines()
    feed.write_text(lines[0] + "\n{broken json\n", encoding="utf-8")

    report = sync([corpus], store, embedder, settings)
    failed = {e.path: e.reason for e in report.failed}
    assert str((corpus / "undated.txt").resolve()) in failed
    assert f"{feed.resolve()}:2" in failed
    assert report.removed == 0 and report.embedded_chunks == 0
    assert len(store.committed_hashes()) == CORPUS_ARTICLES
    assert stored_ids(store) == ids_before


def test_syncing_one_folder_leaves_other_folders_alone(tmp_path, store, embedder, settings):
    a, b = tmp_path / "a", tmp_path / "b"
    write_txt_article(a, "one.txt", "From folder A", news_text(1))
    write_txt_article(b, "two.txt", "From folder B", news_text(2))
    sync([a], store, embedder, settings)
    report = sync([b], store, embedder, settings)
    assert (report.added, report.removed) == (1, 0)
    assert len(store.committed_hashes()) == 2
    # A single file passed by name is a root of its own too.
    (b / "two.txt").unlink()
    report = sync([b], store, embedder, settings)
    assert report.removed == 1
    assert [r.title for r in store.article_records().values()] == ["From folder A"]


def test_missing_path_and_duplicate_ids_are_reported(tmp_path, store, embedder, settings):
    corpus = tmp_path / "c"
    corpus.mkdir()
    record = {"url": "https://news.example.com/same", "title": "Same story", "text": news_text(3)}
    (corpus / "a.json").write_text(json.dumps(record), encoding="utf-8")
    (corpus / "b.json").write_text(json.dumps(record), encoding="utf-8")
    report = sync([corpus, tmp_path / "nowhere"], store, embedder, settings)
    assert report.added == 1
    reasons = {e.path: e.reason for e in report.failed}
    assert "no such file or folder" in reasons[str((tmp_path / "nowhere").resolve())]
    assert "duplicate article id" in reasons[str((corpus / "b.json").resolve())]


# ---- bad input ---------------------------------------------------------------------------------


def test_bad_input_corpus_reports_each_file_and_indexes_the_rest(tmp_path, store, embedder, settings):
    corpus = tmp_path / "bad"
    write_txt_article(corpus, "good.txt", "A good article", news_text(1))
    (corpus / "good.md").write_text("# Another good one\n\n" + news_text(2), encoding="utf-8")
    (corpus / "binary.txt").write_bytes(b"\x00\x01\x02PK\x03\x04" + bytes(range(256)) * 4)
    (corpus / "empty.txt").write_text("", encoding="utf-8")
    (corpus / "latin1.md").write_bytes("R\xe9sum\xe9 of the week's news".encode("latin-1"))
    (corpus / "broken.json").write_text('{"title": "x", "text": ', encoding="utf-8")
    (corpus / "mixed.jsonl").write_text(
        json.dumps({"id": 1, "title": "Good line one", "text": news_text(3)}) + "\n"
        + "{this is not json}\n"
        + json.dumps({"id": 3, "title": "Good line three", "text": news_text(4)}) + "\n",
        encoding="utf-8",
    )
    (corpus / "notext.html").write_text("<html><body><div><script>track()</script></div></body></html>", encoding="utf-8")
    write_txt_article(corpus, "huge.txt", "Too big", news_text(5, paragraphs=40))
    limit = (corpus / "huge.txt").stat().st_size - 1
    assert all(p.stat().st_size <= limit for p in corpus.iterdir() if p.name != "huge.txt")

    report = sync([corpus], store, embedder, replace(settings, max_file_bytes=limit))

    failed = {e.path: e.reason for e in report.failed}
    r = lambda name: str((corpus / name).resolve())  # noqa: E731
    assert set(failed) == {r("binary.txt"), r("empty.txt"), r("latin1.md"), r("broken.json"), f"{r('mixed.jsonl')}:2",
                           r("notext.html"), r("huge.txt")}
    assert "binary" in failed[r("binary.txt")]
    assert "empty" in failed[r("empty.txt")]
    assert "UTF-8" in failed[r("latin1.md")]
    assert "invalid JSON" in failed[r("broken.json")]
    assert "invalid JSON" in failed[f"{r('mixed.jsonl')}:2"]
    assert "no article text" in failed[r("notext.html")]
    assert "limit" in failed[r("huge.txt")]
    assert report.added == 4
    assert sorted(rec.title for rec in store.article_records().values()) == [
        "A good article", "Another good one", "Good line one", "Good line three"]
    assert report.to_json()["failed"] == [{"path": e.path, "error": e.reason} for e in report.failed]


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
        if META_ID in ids and len(ids) > 1:  # the articles' new hashes together with a new generation
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

    clean = ChunkStore(replace(settings, data_dir=tmp_path / "clean-data"))
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
from indexing.embedding import get_embedder
from indexing.settings import IndexSettings, SettingsSource
from indexing.store import ChunkStore

indexer._EMBED_BATCH_CHUNKS = 6  # many small write_articles calls, so kills land inside writes too
settings = IndexSettings.from_env(SettingsSource(env={
    "NEWSBOT_DATA_DIR": sys.argv[1], "NEWSBOT_CONFIG": "/nonexistent.toml",
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

    from conftest import REPO

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
            [sys.executable, "-c", _KILLABLE_SYNC, str(settings.data_dir), str(corpus),
             str(settings.chunk_tokens), str(settings.chunk_overlap_tokens)],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=REPO,
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
    clean = ChunkStore(replace(settings, data_dir=tmp_path / "clean-data"))
    sync([corpus], clean, embedder, settings)
    assert store.committed_hashes() == clean.committed_hashes()
    assert stored_ids(store) == stored_ids(clean)
    assert store.chunk_count() == clean.chunk_count()
    hits = store.query(embedder.embed_query(news_text(302, paragraphs=1, sentences=1)), 5)
    assert hits, "the index still answers queries after the kills"


def test_changing_the_chunk_budget_re_indexes_everything_cleanly(tmp_path, store, embedder, settings):
    corpus = build_corpus(tmp_path)
    sync([corpus], store, embedder, settings)
    wider = replace(settings, chunk_tokens=96)
    report = sync([corpus], store, embedder, wider)
    assert (report.added, report.updated, report.unchanged) == (0, CORPUS_ARTICLES, 0)
    assert stored_ids(store) == expected_chunk_ids(read_all(corpus, wider).values(), embedder, wider)
    assert sync([corpus], store, embedder, wider).embedded_chunks == 0


def test_a_missing_root_removes_nothing(tmp_path, store, embedder, settings):
    corpus = build_corpus(tmp_path)
    sync([corpus], store, embedder, settings)
    moved = corpus.rename(tmp_path / "unmounted")
    report = sync([corpus], store, embedder, settings)
    assert report.removed == 0 and len(store.committed_hashes()) == CORPUS_ARTICLES
    assert [e.reason for e in report.failed] == ["no such file or folder"]
    assert moved.exists()
