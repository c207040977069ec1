"""The owner's socket (indexing.store.owner): frames, the listening server, one accept thread.

A frame is a length and a pickle: (op, collection, kwargs) one way, ("ok", result) or ("error",
exception) the other. Only processes of the same user reach the socket (its folder is 0700, made
by `tempfile.mkdtemp`), and both ends are newsbot.
"""

from __future__ import annotations

import atexit
import os
import pickle
import selectors
import shutil
import socket
import struct
import tempfile
import threading
import time
from collections.abc import Callable
from typing import Any

from indexing.errors import StoreError

PROTOCOL = 1  # bump when a frame's meaning changes: a newer client refuses an older owner in one line
_LENGTH = struct.Struct("!Q")
# Socket folders are named for what they are, so the sweep can never take another "newsbot-..." folder
# (an eval's or a benchmark's temporary data dir).
_FOLDER_PREFIX = "newsbot-owner-"
_SOCKET = "owner.sock"


class OwnerGone(Exception):
    """The owner's socket closed or refused us: elect again."""


def send(sock: socket.socket, payload: Any) -> None:
    data = pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL)
    sock.sendall(_LENGTH.pack(len(data)) + data)


def receive(sock: socket.socket) -> Any:
    header = _exactly(sock, _LENGTH.size)
    return pickle.loads(_exactly(sock, _LENGTH.unpack(header)[0]))  # noqa: S301 - our own processes, a 0700 folder


def _exactly(sock: socket.socket, n: int) -> bytes:
    chunks, left = [], n
    while left:
        chunk = sock.recv(min(left, 1 << 20))
        if not chunk:
            raise OwnerGone("connection closed")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


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
                _, _, hello = receive(conn)
                if hello.get("protocol") != PROTOCOL:
                    send(conn, ("error", f"protocol {PROTOCOL}, not {hello.get('protocol')}"))
                    return
                send(conn, ("ok", {"pid": os.getpid(), "protocol": PROTOCOL}))
                self.ready.wait()
                while True:
                    op, name, kwargs = receive(conn)
                    with self.idle:
                        self.busy += 1
                    try:
                        reply = ("ok", self.run(op, name, kwargs))
                    except Exception as exc:  # noqa: BLE001 - the asker raises it as its own
                        reply = ("error", _portable(exc))
                    finally:
                        with self.idle:
                            self.busy -= 1
                            self.idle.notify_all()
                    send(conn, reply)
            except (OwnerGone, OSError, EOFError, pickle.UnpicklingError, ValueError, TypeError):
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
            info = os.stat(folder)
            if info.st_uid != os.getuid():
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
        if os.path.exists(address) and not os.path.isdir(address):
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
                except OSError:
                    continue
                threading.Thread(target=server.serve, args=(conn,), name="newsbot-store-call", daemon=True).start()


_acceptor = _Acceptor()
