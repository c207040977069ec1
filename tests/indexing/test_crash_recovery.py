"""kill -9 a real indexing process at points of a sync, rerun, and compare with a clean build.

The subprocess runs the real CLI (`newsbot index DIR --json`, i.e. `bot.cli`) twice in one process:
version 1 of a corpus, then version 2 (articles changed, deleted and added), during which it is
killed with SIGKILL, either at an exact step of the store's write protocol (a hook wraps the step
and kills the process right after it) or after a delay. A rerun must then converge to exactly what
a clean index of version 2 holds: the same article ids, hashes and chunk ids, every article
committed, no duplicate chunk, no orphan chunk, and a keyword index over exactly those chunks.
"""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from indexing.index import NewsIndex
from indexing.settings import IndexSettings, SettingsSource
from testsupport.corpora import REPO, news_text, write_txt_article

# Runs in the subprocess: index v1, switch the corpus to v2, arm the kill hook, index v2.
HELPER = r"""
import os, shutil, signal, sys
from pathlib import Path

target, nth, only, corpus, v2 = sys.argv[1], int(sys.argv[2]), sys.argv[3], Path(sys.argv[4]), Path(sys.argv[5])
import bot.cli as cli
import indexing.store.chroma as store_module


def run_index():
    try:
        cli.app(["index", str(corpus), "--json"], standalone_mode=False)
    finally:
        sys.stdout.flush()


run_index()
for old in corpus.iterdir():
    if not (v2 / old.name).exists():
        old.unlink()
for new in v2.iterdir():
    shutil.copyfile(new, corpus / new.name)

if target != "none":
    owner_name, method_name = target.split(".")
    owner = store_module.ChunkStore if owner_name == "ChunkStore" else type(cli.open_index().store.chunks)
    original = getattr(owner, method_name)
    calls = [0]

    def counts(args):
        # For registry writes, tell the steps apart: "pending" marks articles (no generation);
        # "commit" writes articles and a new generation; "removal" a tombstone and a new generation;
        # "generation" only bumps it.
        if only == "any":
            return True
        ids, metas = args[1], args[2]
        has_meta, has_articles = store_module.META_ID in ids, any(i != store_module.META_ID for i in ids)
        kind = "pending" if not has_meta else ("commit" if has_articles else "generation")
        if any(m.get("kind") == "removed" for m in metas):
            kind = "removal"
        return kind == only

    def killing(*args, **kwargs):
        result = original(*args, **kwargs)
        calls[0] += counts(args)
        if calls[0] == nth and counts(args):
            os.kill(os.getpid(), signal.SIGKILL)
        return result

    setattr(owner, method_name, killing)
print("PHASE2", flush=True)
run_index()
"""

# (what to wrap, which calls count, die after the nth, does it leave a half-written index?)
KILL_POINTS = {
    "mid-removal": ("Collection.delete", "any", 1, True),  # a deleted article's chunks gone, its record not
    "one-removed": ("ChunkStore.remove_article", "any", 1, False),  # one of two deleted articles removed
    "pending-marked": ("ChunkStore._put_records", "pending", 1, True),  # registry says pending, no new chunks yet
    "chunks-added": ("ChunkStore._upsert_chunks", "any", 1, True),  # the new chunks written, nothing committed
    "committed": ("ChunkStore._put_records", "commit", 1, True),  # new hashes committed, stale chunks still there
    "stale-deleted": ("ChunkStore._delete_stale_chunks", "any", 1, True),  # one replaced article cleaned, others not
    "completed": ("ChunkStore.mark_synced", "any", 0, False),  # never fires: the run completes (control)
}


def _settings(data: Path) -> IndexSettings:
    return IndexSettings.from_env(SettingsSource(env={"NEWSBOT_DATA_DIR": str(data), "NEWSBOT_CONFIG": str(data / "none.toml")}))


@pytest.fixture(scope="module")
def corpora(tmp_path_factory, embedder):
    """v1 and v2 of a corpus, the live folder every run indexes (ids are paths), and a clean v2 build."""
    root = tmp_path_factory.mktemp("crash")
    v1, v2, live = root / "v1", root / "v2", root / "live"
    for i in range(10):
        write_txt_article(v1, f"a{i:02d}.txt", f"Story {i}", news_text(i, paragraphs=5, sentences=5))
    shutil.copytree(v1, v2)
    for i in (1, 4, 7):  # changed
        write_txt_article(v2, f"a{i:02d}.txt", f"Story {i} (updated)", news_text(1000 + i, paragraphs=5, sentences=5))
    for i in (2, 8):  # deleted
        (v2 / f"a{i:02d}.txt").unlink()
    for i in (10, 11, 12):  # added
        write_txt_article(v2, f"a{i:02d}.txt", f"Story {i}", news_text(i, paragraphs=5, sentences=5))
    shutil.copytree(v2, live)
    clean = NewsIndex(_settings(root / "clean-data"))
    clean.sync([live])
    return {"root": root, "v1": v1, "v2": v2, "live": live, "clean": snapshot(clean)}


def snapshot(index: NewsIndex) -> dict:
    """Everything that must match a clean build; asserts the invariants that hold within one index."""
    store = index.store
    records = store.article_records()
    got = store.chunks.get(include=["metadatas"])
    chunk_ids = list(got["ids"])
    assert len(chunk_ids) == len(set(chunk_ids)), "duplicate chunk ids"
    per_article = Counter()
    for cid, meta in zip(chunk_ids, got["metadatas"]):
        record = records.get(meta["article_id"])
        assert record is not None, f"orphan chunk {cid}: no article record"
        assert meta["sha256"] == record.sha256, f"orphan chunk {cid}: not the committed version"
        per_article[meta["article_id"]] += 1
    for record in records.values():
        assert record.status == "ok", f"{record.id} left {record.status}"
        assert per_article[record.id] == record.n_chunks, f"{record.id}: {per_article[record.id]} chunks, registry says {record.n_chunks}"
    assert set(index.keywords.current().ids) == set(chunk_ids), "keyword index differs from the chunks"
    return {
        "articles": {r.id: (r.sha256, r.n_chunks, r.title) for r in records.values()},
        "chunks": sorted(chunk_ids),
        "count": store.chunk_count(),
    }


def _reset_live(corpora) -> None:
    live = corpora["live"]
    shutil.rmtree(live)
    shutil.copytree(corpora["v1"], live)


def _spawn(corpora, data: Path, target: str = "none", only: str = "any", nth: int = 0) -> subprocess.Popen:
    env = {**os.environ, "NEWSBOT_DATA_DIR": str(data), "NEWSBOT_CONFIG": str(data / "none.toml"), "PYTHONPATH": str(REPO)}
    return subprocess.Popen(
        [sys.executable, "-c", HELPER, target, str(nth), only, str(corpora["live"]), str(corpora["v2"])],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=REPO,
    )


def half_written(index: NewsIndex) -> list[str]:
    """What a crash left unfinished: pending articles, chunks not of the committed version, missing chunks."""
    records = index.store.article_records()
    problems = [f"{r.id} pending" for r in records.values() if r.status != "ok"]
    counts = Counter()
    for chunk in index.store.iter_chunks():
        record = records.get(chunk.article_id)
        if record is None or record.sha256 != chunk.sha256:
            problems.append(f"uncommitted chunk {chunk.id}")
        else:
            counts[chunk.article_id] += 1
    problems += [f"{r.id} lacks chunks" for r in records.values() if r.status == "ok" and counts[r.id] != r.n_chunks]
    return problems


def _recover_and_compare(corpora, data: Path, expect_half_written: bool | None = None) -> None:
    # The crashed index is opened in this process only now, after its writer is dead.
    index = NewsIndex(_settings(data))
    if expect_half_written is not None:
        assert bool(half_written(index)) == expect_half_written
    report = index.sync([corpora["live"]])
    assert not report.failed
    assert snapshot(index) == corpora["clean"]
    again = index.sync([corpora["live"]])  # and it stays converged: nothing left to do
    assert (again.added, again.updated, again.removed, again.repaired) == (0, 0, 0, 0)


def _kill_at(corpora, tmp_path: Path, point: str) -> None:
    target, only, nth, leaves_half_written = KILL_POINTS[point]
    _reset_live(corpora)
    data = tmp_path / "data"
    process = _spawn(corpora, data, target, only, nth)
    stdout, stderr = process.communicate(timeout=300)
    if nth:
        assert process.returncode == -signal.SIGKILL, f"not killed at {point}: rc={process.returncode}\n{stderr[-2000:]}"
    else:
        assert process.returncode == 0, stderr[-2000:]
    assert "PHASE2" in stdout
    _recover_and_compare(corpora, data, expect_half_written=leaves_half_written)


def test_killed_right_after_commit_converges_to_a_clean_build(corpora, tmp_path):
    """The quick variant: killed after the new versions were committed but before old chunks went."""
    _kill_at(corpora, tmp_path, "committed")


@pytest.mark.slow
@pytest.mark.parametrize("point", [p for p in KILL_POINTS if p != "committed"])
def test_killed_at_each_step_of_the_write_protocol(corpora, tmp_path, point):
    _kill_at(corpora, tmp_path, point)


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(3))
def test_killed_after_a_random_delay(corpora, tmp_path, seed):
    _reset_live(corpora)
    data = tmp_path / "data"
    process = _spawn(corpora, data)
    line = process.stdout.readline()
    while line and "PHASE2" not in line:
        line = process.stdout.readline()
    assert "PHASE2" in line, process.stderr.read()[-2000:]
    time.sleep(random.Random(seed).uniform(0.0, 2.5))
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=60)
    _recover_and_compare(corpora, data)


@pytest.mark.slow
def test_plain_cli_index_killed_mid_build(corpora, tmp_path):
    """`python -m bot.cli index DIR --json` from scratch, killed while it embeds and writes."""
    _reset_live(corpora)
    shutil.rmtree(corpora["live"])
    shutil.copytree(corpora["v2"], corpora["live"])
    data = tmp_path / "data"
    env = {**os.environ, "NEWSBOT_DATA_DIR": str(data), "NEWSBOT_CONFIG": str(data / "none.toml"), "PYTHONPATH": str(REPO)}
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "index", str(corpora["live"]), "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        cwd=REPO,
    )
    # Kill once writes have begun: the first records are in Chroma's write-ahead log (read-only peek).
    deadline = time.monotonic() + 120
    database = data / "chroma" / "chroma.sqlite3"
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with contextlib.closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=0.1)) as peek:
                if peek.execute("SELECT count(*) FROM embeddings_queue").fetchone()[0] > 0:
                    break
        except sqlite3.Error:
            pass  # not created yet, or busy
        time.sleep(0.02)
    assert process.poll() is None, "the index run ended before it could be killed"
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=60)
    _recover_and_compare(corpora, data)
