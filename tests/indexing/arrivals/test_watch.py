"""The watcher on real folders (watchfiles, inotify), the real model and a real Chroma index; and queries
running while syncs replace articles."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from indexing.arrivals.watch import SyncEvent, Watcher, WatchSettings
from testsupport.corpora import REPO, news_text, write_txt_article

FAST = WatchSettings(debounce_ms=1000, quiet_ms=100, feed_poll_minutes=0)


def answerable(index, word: str) -> set[str]:
    """Article ids whose committed chunks the keyword index finds for `word`."""
    committed = index.store.committed_hashes()
    return {h.article_id for h in index.keywords.current().search(word, 20) if committed.get(h.article_id) == h.sha256}


def total(history: list[SyncEvent], field: str) -> int:
    return sum(getattr(e.report, field) for e in history if e.report is not None)


def wait_synced(watcher: Watcher, before: int, timeout: float = 60) -> SyncEvent:
    """The first sync after the `before`-th one."""
    assert watcher.wait_for(lambda h: len(h) > before, timeout), f"no sync within {timeout}s"
    return watcher.history[before]


def write_md(folder: Path, name: str, url: str, title: str, body: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(f"---\ntitle: {title}\nurl: {url}\ndate: 2023-01-05\n---\n\n{body}\n", encoding="utf-8")
    return path


def test_watcher_follows_create_modify_delete_and_move(news_index, tmp_path):
    corpus = tmp_path / "corpus"
    write_txt_article(corpus, "old.txt", "Harbour report", news_text(1) + " The word quillfeather appears here.")
    write_md(corpus, "linked.md", "https://example.org/news/ferry", "Ferry strike", news_text(2) + " Marker snowgrouse.")
    with Watcher(news_index, [corpus], FAST) as watcher:
        assert watcher.wait_ready(60)
        start = watcher.history[0]
        assert start.reason == "start" and start.report.added == 2
        assert answerable(news_index, "quillfeather") == {str(corpus / "old.txt")}

        # created
        n = len(watcher.history)
        write_txt_article(corpus, "new.txt", "Bridge contract", news_text(3) + " Only here: brambleworth.")
        event = wait_synced(watcher, n)
        assert (event.reason, event.report.added, event.report.removed) == ("changes", 1, 0)
        assert event.paths == (corpus / "new.txt",)  # only the new file was read
        assert answerable(news_index, "brambleworth") == {str(corpus / "new.txt")}

        # modified: the new text replaces the old one, the old word is gone
        n = len(watcher.history)
        write_txt_article(corpus, "new.txt", "Bridge contract", news_text(3) + " Now it says thistlewick.")
        event = wait_synced(watcher, n)
        assert event.report.updated == 1
        assert answerable(news_index, "thistlewick") == {str(corpus / "new.txt")}
        assert answerable(news_index, "brambleworth") == set()

        # deleted
        n = len(watcher.history)
        (corpus / "old.txt").unlink()
        event = wait_synced(watcher, n)
        assert (event.reason, event.report.removed) == ("deletions", 1)
        assert answerable(news_index, "quillfeather") == set()

        # moved (renamed): a path-named article moves; an article named by its URL keeps its id
        n = len(watcher.history)
        (corpus / "new.txt").rename(corpus / "renamed.txt")
        (corpus / "linked.md").rename(corpus / "ferry.md")
        watcher.wait_for(lambda h: answerable(news_index, "thistlewick") == {str(corpus / "renamed.txt")}, 30)
        assert answerable(news_index, "thistlewick") == {str(corpus / "renamed.txt")}
        assert answerable(news_index, "snowgrouse") == {"https://example.org/news/ferry"}

        # a folder moved in, then out again
        outside = tmp_path / "outside" / "batch"
        for i in range(3):
            write_txt_article(outside, f"b{i}.txt", f"Batch story {i}", news_text(10 + i) + f" Tag glimmerfen{i}.")
        n = len(watcher.history)
        outside.rename(corpus / "batch")
        watcher.wait_for(lambda h: total(h[n:], "added") >= 3, 60)
        assert answerable(news_index, "glimmerfen1") == {str(corpus / "batch" / "b1.txt")}
        n = len(watcher.history)
        (corpus / "batch").rename(tmp_path / "outside" / "back")
        watcher.wait_for(lambda h: total(h[n:], "removed") >= 3, 60)
        assert answerable(news_index, "glimmerfen1") == set()

        # then the moved-away ferry article is deleted: its record goes although it moved before
        n = len(watcher.history)
        (corpus / "ferry.md").unlink()
        wait_synced(watcher, n)
        assert answerable(news_index, "snowgrouse") == set()
    assert not watcher.running
    assert all(e.report is not None and not e.report.failed for e in watcher.history)
    records = news_index.store.article_records()
    assert set(records) == {str(corpus / "renamed.txt")}
    assert all(r.status == "ok" for r in records.values())


def test_a_burst_of_files_is_one_sync(news_index, tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    # The default quiet period is 200 ms; 500 here keeps a busy CI machine's scheduling hiccup
    # inside the write loop from splitting the burst.
    with Watcher(news_index, [corpus], WatchSettings(debounce_ms=3000, quiet_ms=500, feed_poll_minutes=0)) as watcher:
        assert watcher.wait_ready(60)
        n = len(watcher.history)
        for i in range(300):  # the way `cp many/* corpus/` lands them
            (corpus / f"item{i:03d}.txt").write_text(f"Story {i}\n\nA short item about the zorbling{i} case.\n", encoding="utf-8")
        assert watcher.wait_for(lambda h: total(h[n:], "added") >= 300, 120)
        time.sleep(0.5)
        syncs = watcher.history[n:]
    assert len(syncs) == 1, [e.summary() for e in syncs]
    assert syncs[0].report.added == 300 and not syncs[0].report.failed
    assert answerable(news_index, "zorbling123") == {str(corpus / "item123.txt")}


def test_start_catches_up_with_what_changed_while_nothing_watched(news_index, tmp_path):
    corpus = tmp_path / "corpus"
    for i in range(3):
        write_txt_article(corpus, f"a{i}.txt", f"Story {i}", news_text(20 + i) + f" Code wombleton{i}.")
    news_index.sync([corpus])
    (corpus / "a0.txt").unlink()  # while down: one deleted, one changed, one added
    write_txt_article(corpus, "a1.txt", "Story 1", news_text(21) + " Code changed to fernbottle.")
    write_txt_article(corpus, "a3.txt", "Story 3", news_text(23) + " Code wombleton3.")
    with Watcher(news_index, [corpus], FAST) as watcher:
        assert watcher.wait_ready(60)
        report = watcher.history[0].report
    assert (report.added, report.updated, report.removed, report.unchanged) == (1, 1, 1, 1)
    assert answerable(news_index, "wombleton0") == set()
    assert answerable(news_index, "fernbottle") == {str(corpus / "a1.txt")}


def test_hidden_temporary_and_unsupported_files_do_not_sync(news_index, tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    with Watcher(news_index, [corpus], FAST) as watcher:
        assert watcher.wait_ready(60)
        n = len(watcher.history)
        (corpus / ".draft.txt").write_text("Hidden\n\nnot yet\n")
        (corpus / "notes.tmp").write_text("scratch")
        (corpus / "_private").mkdir()
        (corpus / "_private" / "x.txt").write_text("Private\n\nnot for the index\n")
        (corpus / "story.txt~").write_text("editor backup")
        time.sleep(1.5)
        assert len(watcher.history) == n
        # an atomic save (hidden temporary file renamed into place) is one change
        tmp = corpus / ".story.txt.swp"
        tmp.write_text("Saved atomically\n\nThe text mentions the plovermarsh estate.\n")
        os.replace(tmp, corpus / "story.txt")
        event = wait_synced(watcher, n)
    assert event.report.added == 1 and not event.report.failed
    assert answerable(news_index, "plovermarsh") == {str(corpus / "story.txt")}


def test_broken_files_are_reported_and_the_watcher_carries_on(news_index, tmp_path, caplog):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    with caplog.at_level("INFO", logger="newsbot.watch"), Watcher(news_index, [corpus], FAST) as watcher:
        assert watcher.wait_ready(60)
        n = len(watcher.history)
        (corpus / "bad.json").write_text("{ not json")
        (corpus / "good.txt").write_text("Good\n\nA readable story about the marrowgate bridge.\n")
        watcher.wait_for(lambda h: total(h[n:], "added") >= 1, 30)
        events = watcher.history[n:]
    assert sum(len(e.report.failed) for e in events) == 1
    assert answerable(news_index, "marrowgate") == {str(corpus / "good.txt")}
    lines = [r.getMessage() for r in caplog.records if r.name == "newsbot.watch"]
    assert any("added 1" in line and "failed" in line and "s" in line for line in lines)
    assert any("bad.json" in line and "invalid JSON" in line for line in lines)


def test_a_failed_sync_is_retried(news_index, tmp_path, monkeypatch):
    """A sync that raises (a Chroma server down, a full disk) is logged and retried; watching goes on."""
    from indexing.errors import StoreError

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    real_sync, calls = news_index.sync, []

    def flaky_sync(paths=None, progress=None):
        calls.append(paths)
        if len(calls) == 2:
            raise StoreError("cannot reach the Chroma server (test)")
        return real_sync(paths, progress)

    monkeypatch.setattr(news_index, "sync", flaky_sync)
    with Watcher(news_index, [corpus], FAST) as watcher:
        assert watcher.wait_ready(60)
        (corpus / "late.txt").write_text("Late\n\nThe story of the pellucid ferry timetable.\n")
        assert watcher.wait_for(lambda h: any(e.report and e.report.added for e in h), 30)
        reasons = [(e.reason, e.report is not None) for e in watcher.history]
    assert reasons == [("start", True), ("changes", False), ("retry", True)]
    assert "Chroma server" in watcher.history[1].error
    assert answerable(news_index, "pellucid") == {str(corpus / "late.txt")}


def test_queries_during_syncs_never_fail_nor_mix_versions(news_index, tmp_path):
    """Readers query the dense store and the keyword index while syncs replace every article."""
    corpus = tmp_path / "corpus"
    n_articles = 4

    def write_version(v: int) -> None:
        for a in range(n_articles):
            body = "\n\n".join(f"Version v{v}x of article {a}. " + news_text(100 * a + p, paragraphs=1) for p in range(4))
            write_txt_article(corpus, f"art{a}.txt", f"Article {a}", body)

    write_version(0)
    news_index.sync([corpus])
    store = news_index.store
    vectors = [news_index.embedder.embed_query(q) for q in ("the new budget for schools", "Version of article", "wind power")]
    stop = threading.Event()
    errors: list[BaseException] = []
    seen_versions: list[set[str]] = []
    counts = {"dense": 0, "keyword": 0}

    def check(chunks) -> None:
        by_article: dict[str, set[str]] = {}
        for chunk in chunks:
            by_article.setdefault(chunk.article_id, set()).add(chunk.sha256)
            version = {w for w in chunk.text.split() if w.startswith("v") and w.endswith("x")}
            if version:
                seen_versions.append(version)
        mixed = {a: s for a, s in by_article.items() if len(s) > 1}
        assert not mixed, f"chunks of two versions of one article: {mixed}"

    def dense_reader() -> None:
        try:
            while not stop.is_set():
                for vector in vectors:
                    committed = store.committed_hashes()
                    hits = [c for c, _ in store.query(vector, 40) if committed.get(c.article_id) == c.sha256]
                    check(hits)
                    counts["dense"] += 1
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            import traceback

            traceback.print_exc()
            errors.append(exc)

    def keyword_reader() -> None:
        try:
            while not stop.is_set():
                generation = store.generation()
                committed = store.committed_hashes()
                hits = news_index.keywords.current(generation).search("version article budget", 40)
                ids = [h.chunk_id for h in hits if committed.get(h.article_id) == h.sha256]
                check(store.get_chunks(ids))
                counts["keyword"] += 1
        except BaseException as exc:  # noqa: BLE001
            import traceback

            traceback.print_exc()
            errors.append(exc)

    readers = [threading.Thread(target=dense_reader), threading.Thread(target=keyword_reader)]
    for t in readers:
        t.start()
    try:
        for v in range(1, 4):
            write_version(v)
            report = news_index.sync([corpus])
            assert report.updated == n_articles
    finally:
        stop.set()
        for t in readers:
            t.join(60)
    assert not errors, errors[0]
    assert counts["dense"] > 0 and counts["keyword"] > 0
    # Every chunk the readers saw held one version marker; afterwards only the last version is left.
    assert all(len(v) == 1 for v in seen_versions)
    final = {c.id for c in store.iter_chunks()}
    assert all(c.sha256 == store.committed_hashes()[c.article_id] for c in store.iter_chunks())
    assert set(news_index.keywords.current().ids) == final  # the keyword index did not drift


def test_newsbot_watch_command_end_to_end(tmp_path):
    """`newsbot watch DIR --json` in its own process: a start sync, a sync per change, a clean SIGTERM stop."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    env = {
        **os.environ,
        "NEWSBOT_DATA_DIR": str(tmp_path / "data"),
        "NEWSBOT_CONFIG": str(tmp_path / "none.toml"),
        "NEWSBOT_WATCH_QUIET_MS": "100",
        "PYTHONPATH": str(REPO),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "watch", str(corpus), "--json", "--no-feeds"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=REPO,
    )
    lines: list[dict] = []

    def read() -> None:
        for line in process.stdout:
            lines.append(json.loads(line))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 60
        while not lines and time.monotonic() < deadline:
            time.sleep(0.1)
        assert lines and lines[0]["reason"] == "start", lines
        write_txt_article(corpus, "one.txt", "Ferry strike", news_text(7))
        deadline = time.monotonic() + 90
        while len(lines) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(lines) >= 2, (lines, process.poll())
        assert (lines[1]["event"], lines[1]["added"], lines[1]["failed"]) == ("sync", 1, [])
    finally:
        process.send_signal(signal.SIGTERM)
        code = process.wait(30)
        reader.join(5)
    stderr = process.stderr.read()
    assert code == 0, stderr
    assert "watching" in stderr


def test_watch_rejects_missing_folders(news_index, tmp_path):
    from indexing.errors import ConfigError

    with pytest.raises(ConfigError, match="no such file or folder"):
        Watcher(news_index, [tmp_path / "nope"], FAST)


@pytest.fixture(autouse=True)
def _no_leftover_threads():
    before = set(threading.enumerate())
    yield
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        extra = [t for t in set(threading.enumerate()) - before if t.name.startswith("newsbot-watch")]
        if not extra:
            return
        time.sleep(0.1)
    raise AssertionError(f"watcher threads still running: {extra}")
