"""One owner per embedded data dir (indexing.store.owner): other processes route to it, take over when
it exits, and a holder that cannot serve is refused up front in one line. Real processes, real Chroma."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

import indexing.store.owner as owner_module
from indexing.errors import StoreBusy
from indexing.store.chroma import ChunkStore
from testsupport.cli import REPO

OWNER = r"""
import sys
from indexing.settings import IndexSettings, SettingsSource
from indexing.store.chroma import ChunkStore
data = sys.argv[1]
store = ChunkStore(IndexSettings.from_env(SettingsSource(env={"NEWSBOT_DATA_DIR": data, "NEWSBOT_CONFIG": data + "/none"})))
store.bump_generation()
print(store.client.owner, store.generation(), flush=True)
sys.stdin.readline()  # hold the data dir until told to go
"""

# Holds the lock like an owner but answers nothing, or answers in another protocol version.
SQUATTER = r"""
import fcntl, json, os, socket, sys
from indexing.store.owner_socket import receive as _receive, send as _send
lock_path, mode, folder = sys.argv[1], sys.argv[2], sys.argv[3]
handle = open(lock_path, "a+")
fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
address = os.path.join(folder, "owner.sock")
handle.truncate(0)
handle.write(json.dumps({"pid": os.getpid(), "socket": address, "protocol": 999}))
handle.flush()
listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
if mode == "old-version":
    listener.bind(address)
    listener.listen(4)
print("holding", flush=True)
if mode == "old-version":
    while True:
        conn, _ = listener.accept()
        _receive(conn)
        _send(conn, ("error", "protocol 999, not 1"))
        conn.close()
sys.stdin.readline()
"""

pytestmark = pytest.mark.skipif(not owner_module.SHARED, reason="no fcntl/AF_UNIX here: every process opens Chroma itself")


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO)}


def test_a_second_process_routes_to_the_owner_and_takes_over_when_it_exits(index_settings):
    holder = subprocess.Popen(
        [sys.executable, "-c", OWNER, str(index_settings.data_dir)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=_env()
    )
    try:
        assert holder.stdout is not None and holder.stdin is not None
        is_owner, generation = holder.stdout.readline().split()
        assert is_owner == "True"
        store = ChunkStore(index_settings)
        assert not store.client.owner, "this process found the data dir owned"
        assert store.generation() == int(generation)  # read through the owner
        store.bump_generation()  # written through the owner
        written = store.generation()
        assert written != int(generation)
        holder.stdin.write("go\n")
        holder.stdin.flush()
        holder.wait(timeout=60)
        assert store.generation() == written  # the next call found the owner gone and took over
        assert store.client.owner
        assert json.loads((index_settings.data_dir / "chroma.owner").read_text())["pid"] == os.getpid()
    finally:
        holder.kill()
        holder.wait()


@pytest.mark.parametrize("mode, needle", [("silent", "does not answer"), ("old-version", "another version")])
def test_a_holder_that_cannot_serve_is_refused_up_front_in_one_line(index_settings, monkeypatch, tmp_path, mode, needle):
    monkeypatch.setattr(owner_module, "_ELECTION_SECONDS", 1.5)
    index_settings.data_dir.mkdir(parents=True)
    lock = index_settings.data_dir / "chroma.owner"
    squatter = subprocess.Popen(
        [sys.executable, "-c", SQUATTER, str(lock), mode, str(tmp_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=_env(),
    )
    try:
        assert squatter.stdout is not None and squatter.stdout.readline().strip() == "holding"
        with pytest.raises(StoreBusy) as refused:
            ChunkStore(index_settings)
        message = str(refused.value)
        assert needle in message and str(squatter.pid) in message and "\n" not in message
    finally:
        squatter.kill()
        squatter.wait()


def test_the_sweep_removes_dead_owner_sockets_and_nothing_else(tmp_path):
    """It once took every 'newsbot-*' folder in the temp dir without a socket: an eval's temporary data
    dir (newsbot-eval-...) vanished under its running Chroma ('attempt to write a readonly database')."""
    import socket
    import time

    from indexing.store.owner_socket import _FOLDER_PREFIX, _sweep

    old = time.time() - 3600
    eval_dir = tmp_path / "newsbot-eval-abc123"  # someone else's data dir, with work in it
    (eval_dir / "chroma").mkdir(parents=True)
    (eval_dir / "chroma" / "chroma.sqlite3").write_text("data")
    litter = tmp_path / f"{_FOLDER_PREFIX}empty"  # an owner killed before it bound
    litter.mkdir()
    dead = tmp_path / f"{_FOLDER_PREFIX}dead"  # an owner killed while it listened
    dead.mkdir()
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.bind(str(dead / "owner.sock"))  # bound, never listening: connecting is refused
        crowded = tmp_path / f"{_FOLDER_PREFIX}crowded"  # a dead socket beside a file that is not ours to take
        crowded.mkdir()
        (crowded / "notes.txt").write_text("keep")
        for folder in (eval_dir, litter, dead, crowded):
            os.utime(folder, (old, old))
        _sweep(str(tmp_path))
    assert (eval_dir / "chroma" / "chroma.sqlite3").read_text() == "data"
    assert not litter.exists() and not dead.exists()
    assert (crowded / "notes.txt").read_text() == "keep"
