"""The writer lock of an embedded data dir: a `flock` on `<data dir>/sync.lock` (one machine, its processes).

Two writers replacing one article at once could each delete the other's new chunks, so a watcher in
the Slack bot and `newsbot index` in a shell take turns. The holder writes who it is into the file,
so the one waiting can say so. The kernel frees the lock when the holder exits or is killed.
"""

from __future__ import annotations

from pathlib import Path
from typing import IO

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no lock between processes there
    fcntl = None  # type: ignore[assignment]

from indexing.private import private_dir, private_file
from indexing.store.writer_lock import Holder, me


def available() -> bool:
    return fcntl is not None


class FileLock:
    """indexing.store.writer_lock.WriterLock over flock."""

    keep_every = 3600.0  # nothing to renew: the kernel holds it for as long as the file is open
    lost_after = float("inf")

    def __init__(self, data_dir: Path):
        self.path = data_dir / "sync.lock"
        self.location = str(data_dir)
        self._file: IO[str] | None = None
        private_dir(data_dir)
        private_file(self.path, create=True)

    def try_acquire(self) -> Holder | None:
        handle = open(self.path, "a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            said = handle.read().split("\t")
            handle.close()
            if len(said) == 3 and said[1].isdigit():
                return Holder(said[0], int(said[1]), said[2], "sync.lock")
            return Holder("", 0, "just now", "sync.lock")
        me_now = me("sync.lock")
        handle.seek(0)
        handle.truncate()
        handle.write(f"{me_now.host}\t{me_now.pid}\t{me_now.since}")
        handle.flush()
        self._file = handle
        return None

    def keep(self) -> bool:
        return True

    def release(self) -> None:
        if self._file is not None:
            self._file.close()  # closing the file releases the lock
            self._file = None
