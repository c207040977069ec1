"""Who is at the other end of the owner's socket: only a process of this same user, checked twice.

Before connecting, the socket's folder (named in `<data dir>/chroma.owner`, which another user may
have been able to read or even hold locked) must be a real directory of ours, closed to everyone
else (0700), and the socket in it ours too: another user cannot make such a folder, so cannot stand
in for a dead owner. After connecting, and on the owner's side after accepting, the kernel says
the peer's uid (SO_PEERCRED, Linux): anything but ours is dropped. Where SO_PEERCRED is missing
(macOS, the BSDs), the folder check stands alone.
"""

from __future__ import annotations

import os
import socket
import stat
import struct

from indexing.errors import StoreBusy

_CREDENTIALS = struct.Struct("3i")  # struct ucred: pid, uid, gid


class StrangerOwner(StoreBusy):
    """The owner named in chroma.owner is not a process of this user: refused, never talked to."""


def peer_uid(sock: socket.socket) -> int | None:
    """The uid of the process at the other end of a connected Unix socket; None where the OS will not say."""
    option = getattr(socket, "SO_PEERCRED", None)
    if option is None:
        return None
    _, uid, _ = _CREDENTIALS.unpack(sock.getsockopt(socket.SOL_SOCKET, option, _CREDENTIALS.size))
    return uid


def is_own_peer(sock: socket.socket) -> bool:
    uid = peer_uid(sock)
    return uid is None or uid == os.geteuid()


def check_socket_path(address: str, named_in: str) -> None:
    """StrangerOwner unless `address` is a socket of ours in a folder of ours that only we can enter.
    A missing folder or socket raises FileNotFoundError: the owner is gone, not a stranger."""
    folder = os.path.dirname(address) or "."
    me = os.geteuid()
    info = os.lstat(folder)
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != me or info.st_mode & 0o077:
        raise StrangerOwner(
            f"{named_in} names the owner socket folder {folder}, which is not a private folder of this user "
            f"({_describe(info)}); another user may be standing in for the owner: remove that folder, and run every "
            "newsbot process on this data dir as one user"
        )
    info = os.lstat(address)
    if not stat.S_ISSOCK(info.st_mode) or info.st_uid != me:
        raise StrangerOwner(
            f"{named_in} names {address}, which is not a socket of this user ({_describe(info)}); remove it, and run every "
            "newsbot process on this data dir as one user"
        )


def check_connected(sock: socket.socket, address: str, named_in: str) -> None:
    """StrangerOwner when the process that answered at `address` runs as another user."""
    uid = peer_uid(sock)
    if uid is not None and uid != os.geteuid():
        raise StrangerOwner(
            f"the owner socket {address} (named in {named_in}) is served by uid {uid}, not this user's {os.geteuid()}; "
            "stop that process, and run every newsbot process on this data dir as one user"
        )


def _describe(info: os.stat_result) -> str:
    kind = "folder" if stat.S_ISDIR(info.st_mode) else "socket" if stat.S_ISSOCK(info.st_mode) else "link or file"
    return f"a {kind} of uid {info.st_uid}, mode {stat.S_IMODE(info.st_mode):04o}"
