"""The owner's socket lets no other user in (docs/security.md, item 1 of issue 25): another user who
stands in for a dead owner is refused before a byte is read, the owner drops connections from other
uids, and frames that are too large or malformed close one connection, never the owner."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import socket
import struct
import sys

import numpy as np
import pytest

import indexing.store.owner as owner_module
from indexing.errors import StoreBusy
from indexing.settings import IndexSettings, SettingsSource
from indexing.store.chroma import ChunkStore
from indexing.store.frames import encode, receive, send
from indexing.store.owner_socket import PROTOCOL
from testsupport.cli import REPO
from testsupport.strangers import needs_root, run_as_stranger, shared_folder, stranger_uid

pytestmark = pytest.mark.skipif(not owner_module.SHARED, reason="no fcntl/AF_UNIX here: every process opens Chroma itself")

# The probe of issue 25: read the lock file (flock works on a read-only handle), hold it, re-create the
# dead owner's socket folder and answer with a pickle that runs code in whoever unpickles it.
IMPOSTOR = r"""
import fcntl, os, pickle, socket, struct, sys
lock_path, folder, marker = sys.argv[1:4]
class Payload:
    def __reduce__(self):
        return (open, (marker, "w"))
frame = pickle.dumps(Payload())
#: become stranger
handle = open(lock_path, "r")
fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
os.mkdir(folder, 0o700)
listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
listener.bind(os.path.join(folder, "owner.sock"))
listener.listen(4)
print("holding", flush=True)
while True:
    conn, _ = listener.accept()
    conn.recv(65536)
    conn.sendall(struct.pack("!Q", len(frame)) + frame)
    conn.close()
"""

# Another user who speaks newsbot's own protocol (whatever this checkout's is).
SPEAKER = r"""
import os, socket, sys
sys.path.insert(0, sys.argv[1])
from indexing.store.owner_socket import PROTOCOL, receive, send
mode, address = sys.argv[2], sys.argv[3]
#: become stranger
if mode == "ask":
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(address)
    sock.settimeout(10)
    try:
        send(sock, ("hello", "", {"protocol": PROTOCOL}))
        print("answered", receive(sock), flush=True)
    except Exception as exc:
        print("closed", exc.__class__.__name__, flush=True)
else:
    os.mkdir(os.path.dirname(address), 0o700)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(address)
    listener.listen(4)
    print("listening", flush=True)
    while True:
        conn, _ = listener.accept()
        receive(conn)
        send(conn, ("ok", {"pid": os.getpid(), "protocol": PROTOCOL}))
        while True:
            receive(conn)
            print("served a call", flush=True)
            send(conn, ("ok", None))
"""


def _settings(data) -> IndexSettings:
    return IndexSettings.from_env(SettingsSource(env={"NEWSBOT_DATA_DIR": str(data), "NEWSBOT_CONFIG": str(data / "none")}))


def _stop(child) -> None:
    child.kill()
    child.communicate()


@needs_root
def test_another_user_standing_in_for_a_dead_owner_is_refused_and_never_unpickled(monkeypatch):
    monkeypatch.setattr(owner_module, "_ELECTION_SECONDS", 3.0)
    shared = shared_folder()
    try:
        data = shared / "data"
        data.mkdir()
        data.chmod(0o755)  # as older newsbots made it
        public = shared / "public"
        public.mkdir()
        public.chmod(0o1777)  # like /tmp
        folder = public / "newsbot-owner-gone"
        lock = data / "chroma.owner"  # the last owner's, naming its (now removed) socket folder
        lock.write_text(json.dumps({"pid": 1, "socket": str(folder / "owner.sock"), "protocol": PROTOCOL}))
        lock.chmod(0o644)
        marker = shared / "unpickled"
        impostor = run_as_stranger(IMPOSTOR, str(lock), str(folder), str(marker))
        try:
            assert impostor.stdout is not None and impostor.stdout.readline().strip() == "holding", impostor.stderr
            with pytest.raises(StoreBusy) as refused:
                ChunkStore(_settings(data))
            assert not marker.exists(), "the impostor's pickle ran in this process"
            message = str(refused.value)
            assert "not a private folder of this user" in message and str(folder) in message and "\n" not in message
        finally:
            _stop(impostor)
    finally:
        shutil.rmtree(shared, ignore_errors=True)


@needs_root
def test_the_owner_drops_a_connection_from_another_uid(index_settings):
    store = ChunkStore(index_settings)
    server = store.client._server
    assert server is not None
    os.chmod(server.folder, 0o755)  # as if the folder's mode did not hold (a TMPDIR that ignores modes)
    os.chmod(server.address, 0o777)
    try:
        asker = run_as_stranger(SPEAKER, str(REPO), "ask", server.address)
        out, err = asker.communicate(timeout=60)
        assert out.startswith("closed"), out + err
    finally:
        os.chmod(server.folder, 0o700)


@needs_root
def test_a_peer_of_another_uid_is_refused_even_where_its_files_look_ours(monkeypatch):
    """The folder and the socket are root's and 0700 (as if swapped in after the check): the kernel's
    word on the listening process (SO_PEERCRED) still refuses it."""
    if not hasattr(socket, "SO_PEERCRED"):
        pytest.skip("no SO_PEERCRED here")
    monkeypatch.setattr(owner_module, "_ELECTION_SECONDS", 3.0)
    shared = shared_folder()
    try:
        data = shared / "data"
        data.mkdir(mode=0o700)
        public = shared / "public"
        public.mkdir()
        public.chmod(0o1777)
        address = public / "newsbot-owner-x" / "owner.sock"
        listener = run_as_stranger(SPEAKER, str(REPO), "listen", str(address))
        try:
            assert listener.stdout is not None and listener.stdout.readline().strip() == "listening", listener.stderr
            os.chown(address.parent, 0, 0)
            os.chown(address, 0, 0)
            lock = data / "chroma.owner"
            lock.write_text(json.dumps({"pid": listener.pid, "socket": str(address), "protocol": PROTOCOL}))
            with open(lock) as held:  # another open file: its flock keeps this process from owning
                fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
                with pytest.raises(StoreBusy) as refused:
                    ChunkStore(_settings(data))
            assert f"served by uid {stranger_uid()}" in str(refused.value)
        finally:
            _stop(listener)
    finally:
        shutil.rmtree(shared, ignore_errors=True)


def _exchange(address: str, raw: bytes) -> bytes:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.connect(address)
        sock.settimeout(10)
        sock.sendall(raw)
        return sock.recv(65536)


def test_malformed_frames_close_one_connection_and_the_owner_keeps_serving(index_settings):
    store = ChunkStore(index_settings)
    server = store.client._server
    assert server is not None
    address = server.address
    assert _exchange(address, struct.pack("!Q", 1 << 40)) == b""  # a terabyte announced: dropped unread
    text = b"{not json"
    assert _exchange(address, struct.pack("!QI", 4 + len(text), len(text)) + text) == b""
    assert _exchange(address, encode(["hello", "", ["protocol", PROTOCOL]])) == b""  # once an AttributeError
    assert _exchange(address, encode({"hello": PROTOCOL})) == b""
    assert _exchange(address, encode(["hello", "", {"protocol": {"x": 1}}])).startswith(b"\x00")  # "another version"

    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:  # the accept thread still serves
        sock.connect(address)
        send(sock, ["hello", "", {"protocol": PROTOCOL}])
        assert receive(sock)[0] == "ok"
        name = store.chunks.inner.name
        vectors = np.random.default_rng(0).random((2, 384), dtype=np.float32)
        send(sock, ["upsert", name, {"ids": ["a", "b"], "embeddings": vectors, "documents": ["x", "y"], "metadatas": [{"n": 1}, {"n": 2}]}])
        assert receive(sock) == ["ok", None]
        send(sock, ["get", name, {"ids": ["a", "b"], "include": ["embeddings", "metadatas"]}])
        status, got = receive(sock)
        assert status == "ok" and got["metadatas"] == [{"n": 1}, {"n": 2}]
        assert np.allclose(np.asarray(got["embeddings"]), vectors, atol=1e-6)
        send(sock, ["get", name, {"where": {"$bad": 1}}])
        status, error = receive(sock)
        assert status == "error" and error["type"] == "chromadb.errors.InvalidArgumentError"


def test_calls_routed_through_the_owner_raise_the_owners_chroma_error(index_settings):
    """A second process's view: the owner's exception comes back as the same Chroma class (no pickle)."""
    code = r"""
import sys
from indexing.settings import IndexSettings, SettingsSource
from indexing.store.chroma import ChunkStore
data = sys.argv[1]
store = ChunkStore(IndexSettings.from_env(SettingsSource(env={"NEWSBOT_DATA_DIR": data, "NEWSBOT_CONFIG": data + "/none"})))
assert not store.client.owner
try:
    store.chunks.get(where={"$bad": 1})
except Exception as exc:
    print(type(exc).__module__, type(exc).__name__)
print(store.chunk_count())
"""
    store = ChunkStore(index_settings)
    assert store.client.owner
    import subprocess

    result = subprocess.run(
        [sys.executable, "-c", code, str(index_settings.data_dir)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert result.stdout.split() == ["chromadb.errors", "InvalidArgumentError", "0"], result.stderr
