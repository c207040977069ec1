"""One owner per embedded data dir: the process holding its lock opens Chroma, every other process
asks that one over a local socket.

Why: Chroma's `PersistentClient` is not process-safe (its cookbook's "system constraints"; chroma-core
issues #961 and #3792). A bot answering while `newsbot index` wrote in another shell failed every
question with `InternalError: Error finding id` and never saw the update. So exactly one process
has the folder open at a time:

- The first process to use the data dir takes an exclusive `flock` on `<data dir>/chroma.owner`,
  listens on a Unix socket (in a private 0700 temporary folder, named in that file), and opens the
  PersistentClient. Alone, that is all it costs: one lock and one listening socket.
- Any other process finds the lock taken and sends its collection calls (get, query, upsert,
  delete, count) to the owner, which runs them on its client: one Chroma in one process, so a write
  is visible to every reader as soon as it returns.
- When the owner exits or is killed, the kernel drops its lock; the next call of a waiting process
  fails on the socket, that process takes the lock (or finds the new owner) and repeats the call.
  Every call the store makes is idempotent (upserts of fixed ids, deletes by filter, reads), so a
  repeat is safe. A killed owner leaves Chroma as a killed embedded writer does, which the next
  sync repairs (indexing.store.chroma's write protocol).

Frames are a length and a pickle. Only processes of the same user can reach the socket (its folder
is 0700), and both ends are newsbot. Where there is no `fcntl` or `AF_UNIX` (Windows), every process
opens Chroma itself, as before: there, run one process at a time or use a Chroma server.
"""

from __future__ import annotations

import atexit
import errno
import json
import logging
import os
import pickle
import selectors
import shutil
import socket
import struct
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from indexing.errors import StoreBusy, StoreUnavailable

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger(__name__)

PROTOCOL = 1  # bump when a frame's meaning changes: a newer client refuses an older owner in one line
_ELECTION_SECONDS = 20.0  # how long a process waits for an owner that is starting before it gives up
_LENGTH = struct.Struct("!Q")
_OPS = frozenset({"get", "query", "upsert", "delete", "count"})
SHARED = bool(fcntl is not None and hasattr(socket, "AF_UNIX"))


class _OwnerGone(Exception):
    """The owner's socket closed or refused us: elect again."""


def _send(sock: socket.socket, payload: Any) -> None:
    data = pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL)
    sock.sendall(_LENGTH.pack(len(data)) + data)


def _receive(sock: socket.socket) -> Any:
    header = _exactly(sock, _LENGTH.size)
    return pickle.loads(_exactly(sock, _LENGTH.unpack(header)[0]))  # noqa: S301 - our own processes, a 0700 folder


def _exactly(sock: socket.socket, n: int) -> bytes:
    chunks, left = [], n
    while left:
        chunk = sock.recv(min(left, 1 << 20))
        if not chunk:
            raise _OwnerGone("connection closed")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


class EmbeddedChroma:
    """This process's way into one embedded Chroma folder: its own PersistentClient when it owns the
    folder, else calls to the owner. `get_or_create_collection` is the one client method ChunkStore uses."""

    def __init__(self, path: Path, open_persistent: Any):
        self.path = path
        self.lock_path = path.parent / f"{path.name}.owner"
        self._open_persistent = open_persistent  # () -> chromadb client
        self._role_lock = threading.RLock()
        self._client: Any = None  # the PersistentClient, once this process owns the folder
        self._lock_file: Any = None
        self._server: _Server | None = None
        self._local = threading.local()  # this thread's connection to the owner
        self._opened: dict[str, dict[str, Any]] = {}  # collection name -> how it was opened (metadata)
        self._collections: dict[str, Any] = {}  # the owner's open Chroma collections, by name
        self._elect()

    # ---- what ChunkStore sees ---------------------------------------------------------------------
    @property
    def owner(self) -> bool:
        return self._client is not None

    def get_or_create_collection(self, name: str, metadata: dict[str, Any] | None = None, embedding_function: Any = None) -> Any:
        self._opened[name] = {"metadata": metadata}
        stored = self.call("open", name, {"metadata": metadata})
        return RoutedCollection(self, name, stored)

    def heartbeat(self) -> int:
        return time.time_ns()

    def call(self, op: str, name: str, kwargs: dict[str, Any]) -> Any:
        """Run one collection call here (owner) or at the owner; after the owner went away, elect and repeat."""
        deadline = time.monotonic() + _ELECTION_SECONDS
        while True:
            if self._client is not None:
                return self.run(op, name, kwargs)
            try:
                status, answer = self._ask_owner(op, name, kwargs)
            except (_OwnerGone, OSError, EOFError) as exc:
                self._drop_connection()
                if time.monotonic() > deadline:
                    raise StoreUnavailable(
                        f"the index at {self.path} is held by another process that stopped answering ({exc}); "
                        "stop that process and try again"
                    ) from None
                self._elect(deadline)
                continue
            if status == "ok":
                return answer
            raise answer  # the owner's Chroma raised it: the same exception, here

    def run(self, op: str, name: str, kwargs: dict[str, Any]) -> Any:
        """One call on this process's own client (the owner's, for itself or for a process that asked)."""
        if op == "open":
            self._opened.setdefault(name, {"metadata": kwargs.get("metadata")})
            return self._collection(name).metadata
        if op not in _OPS:
            raise ValueError(f"unknown store call {op!r}")
        return getattr(self._collection(name), op)(**kwargs)

    def _collection(self, name: str) -> Any:
        collection = self._collections.get(name)
        if collection is None:
            metadata = self._opened.get(name, {}).get("metadata")
            collection = self._collections[name] = self._client.get_or_create_collection(name, metadata=metadata, embedding_function=None)
        return collection

    # ---- owning -----------------------------------------------------------------------------------
    def _elect(self, deadline: float | None = None) -> None:
        """Become the owner, or find one to talk to; StoreBusy when neither happens in time."""
        deadline = deadline or time.monotonic() + _ELECTION_SECONDS
        with self._role_lock:
            while self._client is None:
                if self._try_to_own():
                    return
                if self._reachable_owner():
                    return
                if time.monotonic() > deadline:
                    info = self._owner_info()
                    raise StoreBusy(
                        f"the index at {self.path} is held by process {info.get('pid', '?')}, which does not answer; "
                        "stop it, or point this one at another NEWSBOT_DATA_DIR"
                    )
                time.sleep(0.05)

    def _try_to_own(self) -> bool:
        if not SHARED:
            self._client = self._open_persistent()
            return True
        handle = open(self.lock_path, "a+")  # noqa: SIM115 - held open for the life of the process
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            handle.close()
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                return False  # another process holds it
            raise StoreBusy(
                f"cannot lock {self.lock_path} ({exc.strerror or exc}: a file system without file locks?), so processes cannot "
                "share this embedded index safely; set NEWSBOT_DATA_DIR to a local folder, or use a Chroma server (CHROMA_HOST)"
            ) from None
        _remove_stale_socket(self._owner_info())
        server = _Server(self)
        # Listen first, then say where: a process that finds this file finds a socket that answers
        # (its calls wait until the client below is open).
        handle.seek(0)
        handle.truncate()
        handle.write(json.dumps({"pid": os.getpid(), "socket": server.address, "protocol": PROTOCOL}))
        handle.flush()
        try:
            self._client = self._open_persistent()
        except BaseException:
            server.close()
            handle.close()
            raise
        finally:
            server.ready.set()
        self._server, self._lock_file = server, handle
        log.debug("process %d owns %s", os.getpid(), self.path)
        return True

    def _owner_info(self) -> dict[str, Any]:
        try:
            info = json.loads(self.lock_path.read_text(encoding="utf-8") or "{}")
        except (OSError, ValueError):
            return {}
        return info if isinstance(info, dict) else {}

    def _reachable_owner(self) -> bool:
        try:
            self._connection()
            return True
        except (_OwnerGone, OSError, EOFError):
            self._drop_connection()
            return False

    # ---- asking the owner -------------------------------------------------------------------------
    def _connection(self) -> socket.socket:
        sock = getattr(self._local, "sock", None)
        if sock is not None:
            return sock
        info = self._owner_info()
        if not info.get("socket"):
            raise _OwnerGone("no owner has said where it listens yet")
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.connect(str(info["socket"]))
            _send(sock, ("hello", "", {"protocol": PROTOCOL}))
            status, answer = _receive(sock)
        except BaseException:
            sock.close()
            raise
        if status != "ok":
            sock.close()
            raise StoreBusy(
                f"the index at {self.path} is open in newsbot process {info.get('pid', '?')}, which speaks another version "
                f"({answer}); run the same newsbot version in both, or stop that one"
            )
        self._local.sock = sock
        return sock

    def _ask_owner(self, op: str, name: str, kwargs: dict[str, Any]) -> tuple[str, Any]:
        sock = self._connection()
        _send(sock, (op, name, kwargs))
        return _receive(sock)

    def _drop_connection(self) -> None:
        sock = getattr(self._local, "sock", None)
        self._local.sock = None
        if sock is not None:
            sock.close()


class RoutedCollection:
    """A Chroma collection's five calls and its metadata, run wherever the folder's owner is."""

    def __init__(self, chroma: EmbeddedChroma, name: str, metadata: dict[str, Any] | None):
        self._chroma = chroma
        self.name = name
        self.metadata = metadata

    def get(self, **kwargs: Any) -> Any:
        return self._chroma.call("get", self.name, kwargs)

    def query(self, **kwargs: Any) -> Any:
        return self._chroma.call("query", self.name, kwargs)

    def upsert(self, **kwargs: Any) -> Any:
        return self._chroma.call("upsert", self.name, kwargs)

    def delete(self, **kwargs: Any) -> Any:
        return self._chroma.call("delete", self.name, kwargs)

    def count(self) -> int:
        return int(self._chroma.call("count", self.name, {}))


class _Server:
    """The owner's listening socket; each connection is served by a thread of its own."""

    def __init__(self, chroma: EmbeddedChroma):
        self.chroma = chroma
        self.folder = tempfile.mkdtemp(prefix="newsbot-")  # 0700: only this user reaches the socket
        self.address = os.path.join(self.folder, "owner.sock")
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(self.address)
        self.listener.listen(64)
        self.ready = threading.Event()
        self.busy = 0
        self.idle = threading.Condition()
        _acceptor.add(self)
        atexit.register(self.close)

    def serve(self, conn: socket.socket) -> None:
        with conn:
            try:
                _, _, hello = _receive(conn)
                if hello.get("protocol") != PROTOCOL:
                    _send(conn, ("error", f"protocol {PROTOCOL}, not {hello.get('protocol')}"))
                    return
                _send(conn, ("ok", {"pid": os.getpid(), "protocol": PROTOCOL}))
                self.ready.wait()
                while True:
                    op, name, kwargs = _receive(conn)
                    with self.idle:
                        self.busy += 1
                    try:
                        reply = ("ok", self.chroma.run(op, name, kwargs))
                    except Exception as exc:  # noqa: BLE001 - the asker raises it as its own
                        reply = ("error", _portable(exc))
                    finally:
                        with self.idle:
                            self.busy -= 1
                            self.idle.notify_all()
                    _send(conn, reply)
            except (_OwnerGone, OSError, EOFError, pickle.UnpicklingError, ValueError, TypeError):
                return  # the asker went away (or spoke nonsense)

    def close(self) -> None:
        """At exit: stop taking connections, let calls in progress finish (a few seconds at most)."""
        _acceptor.remove(self)
        self.listener.close()
        with self.idle:
            self.idle.wait_for(lambda: self.busy == 0, timeout=5.0)
        shutil.rmtree(self.folder, ignore_errors=True)


def _portable(exc: Exception) -> Exception:
    """The exception itself when it survives pickling, else a RuntimeError saying what it was."""
    try:
        pickle.loads(pickle.dumps(exc))  # noqa: S301
        return exc
    except Exception:  # noqa: BLE001
        return RuntimeError(f"{exc.__class__.__name__}: {exc}")


def _remove_stale_socket(info: dict[str, Any]) -> None:
    """A killed owner's socket folder (we hold the lock now, so it is dead): remove it if it is one of ours."""
    folder = os.path.dirname(str(info.get("socket") or ""))
    if folder and os.path.basename(folder).startswith("newsbot-") and os.path.dirname(folder) == tempfile.gettempdir():
        shutil.rmtree(folder, ignore_errors=True)


class _Acceptor:
    """One thread per process accepts connections for every folder it owns (a test run owns hundreds)."""

    def __init__(self) -> None:
        self._selector: selectors.BaseSelector | None = None
        self._lock = threading.Lock()
        self._wake_r, self._wake_w = -1, -1

    def add(self, server: _Server) -> None:
        with self._lock:
            if self._selector is None:
                self._selector = selectors.DefaultSelector()
                self._wake_r, self._wake_w = os.pipe()
                self._selector.register(self._wake_r, selectors.EVENT_READ, None)
                threading.Thread(target=self._loop, name="newsbot-store-owner", daemon=True).start()
            self._selector.register(server.listener, selectors.EVENT_READ, server)
        os.write(self._wake_w, b"x")

    def remove(self, server: _Server) -> None:
        with self._lock:
            if self._selector is not None:
                try:
                    self._selector.unregister(server.listener)
                except (KeyError, ValueError):
                    pass

    def _loop(self) -> None:
        assert self._selector is not None
        while True:
            with self._lock:
                selector = self._selector
            for key, _ in selector.select(timeout=1.0):
                if key.data is None:
                    os.read(self._wake_r, 64)
                    continue
                server: _Server = key.data
                try:
                    conn, _ = server.listener.accept()
                except OSError:
                    continue
                threading.Thread(target=server.serve, args=(conn,), name="newsbot-store-call", daemon=True).start()


_acceptor = _Acceptor()
_HANDLES: dict[Path, EmbeddedChroma] = {}
_HANDLES_LOCK = threading.Lock()


def embedded_chroma(path: Path, open_persistent: Any) -> EmbeddedChroma:
    """The one handle of this process on the folder (a second lock on it from this process would fail)."""
    key = Path(os.path.realpath(path))
    with _HANDLES_LOCK:
        handle = _HANDLES.get(key)
        if handle is None:
            handle = _HANDLES[key] = EmbeddedChroma(key, open_persistent)
        return handle
