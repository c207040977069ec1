"""The owner's socket (indexing.store.owner): the listening server, one accept thread, the sweep.

Messages are indexing.store.frames (JSON and raw arrays, never pickle): [op, collection, kwargs]
one way, ["ok", result] or ["error", {type, message}] the other, after a hello that names the
protocol. Only processes of the same user reach the socket (its folder is 0700, made by
`tempfile.mkdtemp`), and the owner also drops any connection whose peer uid is another
(indexing.store.peers), so a wrong folder mode alone lets no one in.
"""

from __future__ import annotations

import atexit
import logging
import os
import selectors
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Callable
from typing import Any

from indexing.errors import StoreError
from indexing.store.frames import OwnerGone, encode, error_payload, receive, send
from indexing.store.peers import is_own_peer, peer_uid

__all__ = ["PROTOCOL", "OwnerGone", "OwnerServer", "receive", "remove_stale_socket", "send"]

log = logging.getLogger(__name__)

PROTOCOL = 2  # bump when a frame's meaning changes: a newer client refuses an older owner in one line (2: JSON, not pickle)
_HELLO_SECONDS = 10.0  # a connection that says nothing this long after connecting is dropped
# Socket folders are named for what they are, so the sweep can never take another "newsbot-..." folder
# (an eval's or a benchmark's temporary data dir).
_FOLDER_PREFIX = "newsbot-owner-"
_SOCKET = "owner.sock"


class OwnerServer:
    """The owner's listening socket; each connection is served by a thread of its own."""

    def __init__(self, run: Callable[[str, str, dict[str, Any]], Any]):
        self.run = run  # executes one call on the owner's Chroma
        self.folder = tempfile.mkdtemp(prefix=_FOLDER_PREFIX)  # 0700: only this user reaches the socket
        self.address = os.path.join(self.folder, _SOCKET)
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            self.listener.bind(self.address)
            self.listener.listen(64)
        except OSError as exc:
            self.listener.close()
            shutil.rmtree(self.folder, ignore_errors=True)
            raise StoreError(f"cannot listen on {self.address} ({exc.strerror or exc}); set TMPDIR to a short, writable folder") from exc
        self.ready = threading.Event()
        self.busy = 0
        self.idle = threading.Condition()
        _acceptor.add(self)
        atexit.register(self.close)

    def serve(self, conn: socket.socket) -> None:
        with conn:
            try:
                if not is_own_peer(conn):
                    log.warning("refused a connection to the store owner's socket from uid %s", peer_uid(conn))
                    return
                conn.settimeout(_HELLO_SECONDS)
                hello = _request(receive(conn))
                if hello is None or hello[0] != "hello":
                    return
                if hello[2].get("protocol") != PROTOCOL:
                    send(conn, ["error", f"protocol {PROTOCOL}, not {str(hello[2].get('protocol'))[:20]}"])
                    return
                conn.settimeout(None)  # a client keeps its connection, idle, between calls
                send(conn, ["ok", {"pid": os.getpid(), "protocol": PROTOCOL}])
                self.ready.wait()
                while (call := _request(receive(conn))) is not None:
                    conn.sendall(self._reply(*call))
            except (OwnerGone, OSError):
                return  # the asker went away, or spoke nonsense (a bad frame)
            except Exception:  # noqa: BLE001 - one connection's failure must not show as a thread traceback
                log.exception("store owner: a connection failed")

    def _reply(self, op: str, name: str, kwargs: dict[str, Any]) -> bytes:
        """The reply frame to one call: its result, or the exception it raised."""
        with self.idle:
            self.busy += 1
        try:
            reply = ["ok", self.run(op, name, kwargs)]
        except Exception as exc:  # noqa: BLE001 - the asker raises it as its own
            reply = ["error", error_payload(exc)]
        finally:
            with self.idle:
                self.busy -= 1
                self.idle.notify_all()
        try:
            return encode(reply)
        except (TypeError, ValueError) as exc:  # a result that cannot travel (too large): say so instead
            return encode(["error", error_payload(exc)])

    def close(self) -> None:
        """At exit: stop taking connections, let calls in progress finish (a few seconds at most)."""
        _acceptor.remove(self)
        self.listener.close()
        with self.idle:
            self.idle.wait_for(lambda: self.busy == 0, timeout=5.0)
        shutil.rmtree(self.folder, ignore_errors=True)


def _request(message: Any) -> tuple[str, str, dict[str, Any]] | None:
    """[op, collection, kwargs] with their types checked; None for anything else (the connection is dropped)."""
    if isinstance(message, list) and len(message) == 3:
        op, name, kwargs = message
        if isinstance(op, str) and isinstance(name, str) and isinstance(kwargs, dict):
            return op, name, kwargs
    return None


def remove_stale_socket(info: dict[str, Any]) -> None:
    """A killed owner's socket folder (we hold the lock now, so it is dead): remove it if it is one of ours;
    and, once per process, the folders other killed owners left whose sockets nobody listens on."""
    address = str(info.get("socket") or "")
    folder = os.path.dirname(address)
    if folder and os.path.basename(address) == _SOCKET and os.path.dirname(folder) == tempfile.gettempdir():
        _remove_socket_folder(folder)
    if not _swept.is_set():
        _swept.set()
        _sweep(tempfile.gettempdir())


_swept = threading.Event()


def _sweep(tmp: str) -> None:
    try:
        names = [n for n in os.listdir(tmp) if n.startswith(_FOLDER_PREFIX)]
    except OSError:
        return
    for name in names:
        folder = os.path.join(tmp, name)
        address = os.path.join(folder, _SOCKET)
        try:
            info = os.lstat(folder)
            if info.st_uid != os.geteuid():
                continue
            if not os.path.exists(address):  # an owner binds right after making the folder: an old empty one is litter
                if time.time() - info.st_mtime > 60:
                    _remove_socket_folder(folder)
                continue
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
                probe.settimeout(0.2)
                probe.connect(address)  # a live owner answers: leave it
        except ConnectionRefusedError:  # a socket file nobody listens on: its owner was killed
            _remove_socket_folder(folder)
        except OSError:
            continue


def _remove_socket_folder(folder: str) -> None:
    """The dead socket, then the folder only if that left it empty: never anything else that is in it."""
    address = os.path.join(folder, _SOCKET)
    try:
        if os.lstat(folder).st_uid != os.geteuid():
            return  # another user's folder under our socket's name: not ours to touch (peers refuses it)
        if os.path.lexists(address) and not os.path.isdir(address):
            os.unlink(address)
        os.rmdir(folder)
    except OSError:
        pass


class _Acceptor:
    """One thread per process accepts connections for every folder it owns (a test run owns hundreds)."""

    def __init__(self) -> None:
        self._selector: selectors.BaseSelector | None = None
        self._lock = threading.Lock()
        self._wake_r, self._wake_w = -1, -1

    def add(self, server: OwnerServer) -> None:
        with self._lock:
            if self._selector is None:
                self._selector = selectors.DefaultSelector()
                self._wake_r, self._wake_w = os.pipe()
                self._selector.register(self._wake_r, selectors.EVENT_READ, None)
                threading.Thread(target=self._loop, name="newsbot-store-owner", daemon=True).start()
            self._selector.register(server.listener, selectors.EVENT_READ, server)
        os.write(self._wake_w, b"x")

    def remove(self, server: OwnerServer) -> None:
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
                server: OwnerServer = key.data
                try:
                    conn, _ = server.listener.accept()
                    threading.Thread(target=server.serve, args=(conn,), name="newsbot-store-call", daemon=True).start()
                except Exception:  # noqa: BLE001 - this thread serves every owner of the process: it must not end
                    log.debug("store owner: accepting a connection failed", exc_info=True)
                    continue


_acceptor = _Acceptor()
