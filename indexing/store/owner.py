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

The socket and its server are indexing.store.owner_socket; what travels is indexing.store.frames (JSON
and arrays, never pickle); indexing.store.peers makes sure both ends run as this same user (docs/security.md). Where there is no `fcntl`
or `AF_UNIX` (Windows), every process opens Chroma itself, as before: there, run one process at a
time or use a Chroma server.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import socket
import threading
import time
from pathlib import Path
from typing import Any

from indexing.errors import StoreBusy, StoreUnavailable
from indexing.store.frames import OwnerGone, error_from, receive, send
from indexing.store.owner_socket import PROTOCOL, OwnerServer, remove_stale_socket
from indexing.store.peers import check_connected, check_socket_path
from indexing.store.turns import Turns

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger(__name__)

_ELECTION_SECONDS = 20.0  # how long a process waits for an owner that is starting before it gives up
_OPS = frozenset({"get", "query", "upsert", "delete", "count"})
_WRITES = frozenset({"upsert", "delete"})
SHARED = bool(fcntl is not None and hasattr(socket, "AF_UNIX"))


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
        self._server: OwnerServer | None = None
        self._local = threading.local()  # this thread's connection to the owner
        self._opened: dict[str, dict[str, Any]] = {}  # collection name -> how it was opened (metadata)
        self._collections: dict[str, Any] = {}  # the owner's open Chroma collections, by name
        # Questions first on this folder, for this process's calls and, when it owns, for those it runs
        # for others (indexing.store.turns); ChunkStore uses this one.
        self.turns = Turns()
        self._elect()

    # ---- what ChunkStore sees ---------------------------------------------------------------------
    @property
    def owner(self) -> bool:
        return self._client is not None

    def get_or_create_collection(self, name: str, metadata: dict[str, Any] | None = None, embedding_function: Any = None) -> Any:
        self._opened[name] = {"metadata": metadata}
        stored = self.call("open", name, {"metadata": metadata})
        return RoutedCollection(self, name, stored)

    def call(self, op: str, name: str, kwargs: dict[str, Any]) -> Any:
        """Run one collection call here (owner) or at the owner; after the owner went away, elect and repeat."""
        deadline = time.monotonic() + _ELECTION_SECONDS
        while True:
            if self._client is not None:
                return self.run(op, name, kwargs)
            try:
                status, answer = self._ask_owner(op, name, kwargs)
            except (OwnerGone, OSError, EOFError) as exc:
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
            raise error_from(answer)  # the owner's Chroma raised it: the same exception (if an allowed one), here

    def run(self, op: str, name: str, kwargs: dict[str, Any]) -> Any:
        """One call on this process's own client (the owner's, for itself or for a process that asked)."""
        if op == "open":
            self._opened.setdefault(name, {"metadata": kwargs.get("metadata")})
            return self._collection(name).metadata
        if op not in _OPS:
            raise ValueError(f"unknown store call {op!r}")
        return getattr(self._collection(name), op)(**kwargs)

    def run_for_peer(self, op: str, name: str, kwargs: dict[str, Any]) -> Any:
        """A call another process sent: a write takes its turn after this process's questions (in
        small calls, when serving), and a question is one in flight that this process's writes wait for."""
        if op in _WRITES:
            return self.turns.write(lambda **piece: self.run(op, name, piece), kwargs)
        if op == "query":
            self.turns.serve_questions()
            with self.turns.answering():
                return self.run(op, name, kwargs)
        return self.run(op, name, kwargs)

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
        handle = _open_lock_file(self.lock_path)
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
        remove_stale_socket(self._owner_info())
        server = OwnerServer(self.run_for_peer)
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
        except (OwnerGone, OSError, EOFError):
            self._drop_connection()
            return False

    # ---- asking the owner -------------------------------------------------------------------------
    def _connection(self) -> socket.socket:
        sock = getattr(self._local, "sock", None)
        if sock is not None:
            return sock
        info = self._owner_info()
        if not info.get("socket"):
            raise OwnerGone("no owner has said where it listens yet")
        address = str(info["socket"])
        check_socket_path(address, str(self.lock_path))  # before connecting: a folder only we can enter
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.connect(address)
            check_connected(sock, address, str(self.lock_path))  # and the kernel's word on who listens there
            send(sock, ["hello", "", {"protocol": PROTOCOL}])
            status, answer = _reply(sock)
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
        send(sock, [op, name, kwargs])
        return _reply(sock)

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


def _reply(sock: socket.socket) -> tuple[str, Any]:
    reply = receive(sock)
    if not (isinstance(reply, list) and len(reply) == 2 and reply[0] in ("ok", "error")):
        raise OwnerGone("the owner's reply is not [status, answer]")
    return reply[0], reply[1]


def _open_lock_file(path: Path) -> Any:
    """`<data dir>/chroma.owner` for reading and writing, 0600: a user who could open it could hold its
    lock (flock works on a read-only handle) and so keep the owner's place."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND | getattr(os, "O_NOFOLLOW", 0), 0o600)
    try:
        if os.fstat(fd).st_uid == os.geteuid():
            os.fchmod(fd, 0o600)  # one an older newsbot made 0644
        return os.fdopen(fd, "a+")
    except BaseException:
        os.close(fd)
        raise


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
