"""Two machines writing one Chroma server: real `newsbot index` processes with their own data dirs, over
overlapping folders, one killed mid-sync. They take turns (the second names the first while it waits),
the killed one's lease expires, and the end state equals a clean build: article ids and hashes,
chunk ids and texts, and each machine's keyword index (its chunks, and what a keyword search finds). The default test runs one round; the soak (`-m slow`) runs many, with edits and
deletions between rounds and kills at random moments."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from indexing.index import NewsIndex
from indexing.settings import IndexSettings, SettingsSource
from indexing.store.chroma import ChunkStore
from testsupport.cli import REPO, clean_env
from testsupport.corpora import news_text, write_txt_article

LEASE = "3"  # seconds: a killed writer frees the index after this long


class Writer:
    """`newsbot index` on one "machine" (its own data dir), stderr collected as it comes."""

    def __init__(self, env: dict[str, str], *folders: Path):
        args = [sys.executable, "-m", "bot.cli", "index", "--json", *map(str, folders)]
        self.popen = subprocess.Popen(args, env=env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.err: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.popen.stderr is not None
        for line in self.popen.stderr:
            self.err.append(line)

    def finish(self, timeout: float = 240) -> int:
        self.popen.wait(timeout=timeout)
        self._reader.join(timeout=10)
        return self.popen.returncode


def _settings(env: dict[str, str]) -> IndexSettings:
    return IndexSettings.from_env(SettingsSource(env=env))


def state(store: ChunkStore) -> tuple[dict[str, str], dict[str, str]]:
    """(article id -> committed sha, chunk id -> text) of every article and chunk the collection holds."""
    articles = {i: r.sha256 for i, r in store.article_records().items()}
    got = store.chunks.get(include=["documents"])
    return articles, dict(zip(got["ids"], got["documents"]))


QUERIES = ("city council vote", "bridge repairs contract", "night flights ban Norway")


def keyword_state(env: dict[str, str]) -> tuple[list[str], dict[str, tuple[str, int]], list[dict[str, float]]]:
    """One machine's keyword index, brought up to date with the server as a question would: its chunk
    ids, its articles (sha, rows), and the score of every chunk a few searches find (all of them, so
    that ties cannot reorder a top k)."""
    index = NewsIndex(_settings(env))
    keywords = index.keywords.current()
    hits = [{h.chunk_id: round(h.score, 4) for h in keywords.search(q, 100_000)} for q in QUERIES]
    return sorted(keywords.ids), dict(keywords.articles), hits


def lease_of(store: ChunkStore, pid: int) -> bool:
    got = store.writer_collection().get(include=["metadatas"])
    return any(m and m.get("pid") == pid and m.get("state") == "held" for m in got["metadatas"])


@pytest.fixture
def machines(chroma_server, tmp_path):
    base = clean_env(
        CHROMA_HOST="127.0.0.1",
        CHROMA_PORT=str(chroma_server.port),
        NEWSBOT_EMBED_BACKEND="torch",
        NEWSBOT_WRITER_LEASE=LEASE,
        NEWSBOT_CONFIG=str(tmp_path / "none.toml"),
    )
    return {name: {**base, "NEWSBOT_DATA_DIR": str(tmp_path / name)} for name in ("a", "b", "watcher")}


def corpus(tmp_path: Path, per_folder: int) -> list[Path]:
    folders = [tmp_path / f"f{n}" for n in range(3)]
    for f, folder in enumerate(folders):
        for n in range(per_folder):
            write_txt_article(folder, f"a{n}.txt", f"Story {f}-{n}", news_text(100 * f + n, paragraphs=2))
    return folders


def one_round(machines: dict, folders: list[Path], rng: random.Random, store: ChunkStore) -> dict[str, object]:
    """A on f0+f1, B on f1+f2 while A holds the index; A killed at a random moment of its sync; then A again."""
    a = Writer(machines["a"], folders[0], folders[1])
    deadline = time.monotonic() + 120
    while not lease_of(store, a.popen.pid) and a.popen.poll() is None:
        assert time.monotonic() < deadline, "A never took the writer lease"
        time.sleep(0.05)
    b = Writer(machines["b"], folders[1], folders[2])
    time.sleep(rng.uniform(0.0, 2.0))  # into A's sync: embedding and commits
    killed = a.popen.poll() is None
    if killed:
        os.kill(a.popen.pid, signal.SIGKILL)
    a.finish()
    assert b.finish() == 0, "".join(b.err)
    again = Writer(machines["a"], folders[0], folders[1])
    assert again.finish() == 0, "".join(again.err)
    return {"killed": killed, "a_pid": a.popen.pid, "b_err": "".join(b.err)}


def clean_build(machines: dict, folders: list[Path], embedder) -> tuple[dict[str, str], dict[str, str]]:
    """The store and keyword index a single writer builds from scratch: `state()`, and `keyword_state()`
    is checked against it for every machine."""
    env = {**machines["watcher"], "NEWSBOT_COLLECTION": f"clean{time.time_ns()}"}
    index = NewsIndex(_settings(env))
    index.sync(folders)
    clean_keywords = keyword_state(env)
    assert clean_keywords[0] and all(clean_keywords[2]), "the clean build's keyword index finds nothing: nothing to compare"
    for name in ("a", "b", "watcher"):
        assert keyword_state(machines[name]) == clean_keywords, f"machine {name}'s keyword index differs from a clean build's"
    return state(index.store)


def test_two_machines_take_turns_and_a_killed_writer_is_repaired(machines, tmp_path, embedder):
    folders = corpus(tmp_path, per_folder=12)
    store = ChunkStore(_settings(machines["watcher"]))
    began = time.monotonic()
    result = one_round(machines, folders, random.Random(7), store)
    assert result["killed"], "A finished before its kill: give it more articles"
    assert f"pid {result['a_pid']}" in str(result["b_err"]) and "waiting for the index" in str(result["b_err"])
    assert state(store) == clean_build(machines, folders, embedder)
    assert time.monotonic() - began < 120


@pytest.mark.slow
@pytest.mark.timeout(3600)
def test_soak_two_machines_with_edits_deletions_and_kills(machines, tmp_path, embedder):
    rng = random.Random(24)
    folders = corpus(tmp_path, per_folder=30)
    store = ChunkStore(_settings(machines["watcher"]))
    kills = 0
    for _ in range(8):
        for folder in folders:  # edits, deletions and additions between rounds
            files = sorted(folder.glob("*.txt"))
            for path in rng.sample(files, 3):
                write_txt_article(folder, path.name, f"Edited {path.stem}", news_text(rng.randrange(10_000), paragraphs=2))
            rng.choice(files).unlink()
            write_txt_article(folder, f"n{rng.randrange(10**6)}.txt", "New story", news_text(rng.randrange(10_000), paragraphs=2))
        kills += bool(one_round(machines, folders, rng, store)["killed"])
        assert state(store) == clean_build(machines, folders, embedder)
    assert kills >= 4
