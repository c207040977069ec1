"""The writer lock on real servers: a Chroma lease and a PostgreSQL advisory lock. A second writer
waits naming the holder, gives up after its wait, takes over a killed holder's lock."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from indexing.settings import IndexSettings, SettingsSource
from indexing.store.advisory import AdvisoryLock
from indexing.store.chroma import ChunkStore
from indexing.store.lease import ChromaLease
from indexing.store.writer_lock import WriterBusy, WriterLost, hold_writer
from testsupport.cli import REPO
from testsupport.servers import PostgresServer, PostgresUnavailable


@pytest.fixture
def store(chroma_server, tmp_path) -> ChunkStore:
    env = {"NEWSBOT_DATA_DIR": str(tmp_path / "data"), "NEWSBOT_CONFIG": str(tmp_path / "none.toml")}
    env.update(CHROMA_HOST="127.0.0.1", CHROMA_PORT=str(chroma_server.port), NEWSBOT_EMBED_BACKEND="torch")
    return ChunkStore(IndexSettings.from_env(SettingsSource(env=env)))


@pytest.fixture(scope="module")
def postgres():
    try:
        server = PostgresServer().start()
    except PostgresUnavailable as exc:
        pytest.skip(str(exc))
    yield server
    server.stop()


def _lease(store: ChunkStore, ttl: float = 2.0) -> ChromaLease:
    return ChromaLease(store.writer_collection(), store.settings.location, ttl)


def test_a_second_writer_waits_naming_the_holder_then_gives_up(store):
    said: list[str] = []
    with hold_writer(_lease(store)):
        began = time.monotonic()
        with pytest.raises(WriterBusy) as busy, hold_writer(_lease(store), wait=1.0, on_wait=said.append):
            pass
        assert 0.9 <= time.monotonic() - began < 5
    line = str(busy.value)
    assert f"pid {os.getpid()}" in line and "gave up after 1 s" in line and "since 20" in line and "\n" not in line
    assert len(said) == 1 and f"pid {os.getpid()}" in said[0] and os.uname().nodename in said[0]


def test_a_released_lease_is_taken_at_once_and_a_held_one_is_renewed_past_its_ttl(store):
    first = _lease(store, ttl=1.0)
    with hold_writer(first) as fence:
        time.sleep(2.5)  # past the ttl: renewed meanwhile, so still held
        fence()
        assert _lease(store).try_acquire() is not None
    began = time.monotonic()
    with hold_writer(_lease(store), wait=0):
        assert time.monotonic() - began < 1


def test_a_killed_holders_lease_expires_and_the_next_writer_takes_over(store):
    code = (
        "import sys, time; from indexing.store.chroma import ChunkStore; from indexing.settings import IndexSettings, SettingsSource;"
        "from indexing.store.lease import ChromaLease; import os;"
        "s = ChunkStore(IndexSettings.from_env(SettingsSource(env=dict(os.environ))));"
        "assert ChromaLease(s.writer_collection(), s.settings.location, 2.0).try_acquire() is None; print('held', flush=True); time.sleep(600)"
    )
    env = {**os.environ, "NEWSBOT_DATA_DIR": str(store.settings.data_dir), "CHROMA_HOST": "127.0.0.1"}
    env.update(CHROMA_PORT=str(store.settings.chroma_port), PYTHONPATH=str(REPO), NEWSBOT_CONFIG=str(store.settings.data_dir / "none"))
    holder = subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait()
        said: list[str] = []
        began = time.monotonic()
        with hold_writer(_lease(store), wait=20, on_wait=said.append):
            waited = time.monotonic() - began
        assert 2.0 <= waited < 10 and f"pid {holder.pid}" in said[0]
    finally:
        holder.kill()


def test_a_writer_whose_lease_was_taken_over_stops_at_its_next_write(store):
    stalled = _lease(store, ttl=1.0)
    stalled.keep_every = 60  # a holder paused too long to renew (a stopped VM, a lost network)
    with hold_writer(stalled) as fence:
        with hold_writer(_lease(store), wait=10):
            pass
        with pytest.raises(WriterLost, match="lost its writer lock"):
            fence()


def test_postgres_advisory_lock_waits_names_the_holder_and_frees_with_a_killed_holder(postgres, store):
    collection = str(store.chunks.inner.id)
    said: list[str] = []
    with hold_writer(AdvisoryLock(postgres.url, collection, "here")):
        with (
            pytest.raises(WriterBusy, match=f"pid {os.getpid()} on .*advisory lock"),
            hold_writer(AdvisoryLock(postgres.url, collection, "here"), wait=0.6, on_wait=said.append),
        ):
            pass
    assert f"pid {os.getpid()}" in said[0]
    code = (
        "import sys, time; from indexing.store.advisory import AdvisoryLock;"
        f"lock = AdvisoryLock({postgres.url!r}, {collection!r}, 'x'); assert lock.try_acquire() is None; print('held', flush=True); time.sleep(600)"
    )
    holder = subprocess.Popen([sys.executable, "-c", code], env={**os.environ, "PYTHONPATH": str(REPO)}, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        assert f"pid {holder.pid}" in AdvisoryLock(postgres.url, collection, "here").try_acquire().describe()
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait()
        with hold_writer(AdvisoryLock(postgres.url, collection, "here"), wait=5):
            pass  # freed with the killed holder's connection, no expiry to wait for
    finally:
        holder.kill()
