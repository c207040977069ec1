"""One writer at a time per collection, across machines: wait for the lock, keep it while the sync runs.

On an embedded data dir one machine writes, and a `flock` serialises its processes (indexing.index).
On a Chroma server, writers on several machines share no folder: they take a lock that lives where
they all reach, a PostgreSQL advisory lock when NEWSBOT_STATE_URL names PostgreSQL
(indexing.store.advisory), else a lease record in Chroma itself (indexing.store.lease). Either way a
second writer waits, saying who holds the lock (host, pid, since when), or gives up after `wait`
seconds; a holder killed mid-sync frees it (the advisory lock with its connection, the lease when it
expires), and the next sync repairs what the dead one left (ChunkStore.repair).

While the sync runs a thread keeps the lock (renews the lease, or checks the connection). If that
fails for longer than the lease, the lock may be someone else's by now: the sync's next write stops
it with WriterLost instead of writing beside another writer.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from indexing.errors import StoreError

log = logging.getLogger(__name__)

POLL_SECONDS = 0.5  # how often a waiting writer tries again


class WriterBusy(StoreError):
    """Another writer held the collection for longer than this one would wait."""


class WriterLost(StoreError):
    """This writer's lock could not be kept (the store unreachable, or the lease expired): it stops writing."""


@dataclass(frozen=True)
class Holder:
    """Who holds a writer lock, as it says of itself."""

    host: str
    pid: int
    since: str  # ISO 8601, UTC, by the holder's clock
    kind: str  # "lease" | "advisory lock"

    def describe(self) -> str:
        return f"newsbot pid {self.pid} on {self.host or 'an unknown host'} (since {self.since}, {self.kind})"


def me(kind: str) -> Holder:
    return Holder(socket.gethostname(), os.getpid(), datetime.now(UTC).isoformat(timespec="seconds"), kind)


class WriterLock(Protocol):
    """A lock one writer of a collection holds at a time."""

    location: str
    keep_every: float  # seconds between two `keep` calls while held
    lost_after: float  # seconds without a successful `keep` after which it may be another's

    def try_acquire(self) -> Holder | None:
        """Take it: None when taken, else who holds it now."""
        ...

    def keep(self) -> bool:
        """Renew or check it while held; False once it is known to be another's."""
        ...

    def release(self) -> None: ...


@contextmanager
def hold_writer(lock: WriterLock, wait: float | None = None, on_wait: Callable[[str], None] | None = None) -> Iterator[Callable[[], None]]:
    """Hold `lock` for the block, waiting for it first (`wait`: at most this many seconds; None: as long
    as it takes). Yields a fence: call it before each write; it raises WriterLost once the lock is lost."""
    say = on_wait or log.warning
    deadline = None if wait is None else time.monotonic() + wait
    announced: Holder | None = None
    while (holder := lock.try_acquire()) is not None:
        if deadline is not None and time.monotonic() >= deadline:
            raise WriterBusy(
                f"the index at {lock.location} is being written by {holder.describe()}; gave up after {wait:g} s "
                "(--wait SECONDS waits longer; a writer that was killed frees it when its lease expires)"
            )
        if holder != announced:
            say(f"waiting for the index at {lock.location}: it is being written by {holder.describe()}")
            announced = holder
        time.sleep(POLL_SECONDS if deadline is None else max(0.0, min(POLL_SECONDS, deadline - time.monotonic())))
    keeper = _Keeper(lock)
    keeper.start()
    try:
        yield keeper.fence
    finally:
        keeper.stop()
        try:
            lock.release()
        except Exception as exc:  # the lease expires, the connection's lock goes with it: nothing stays held
            # Debug only: the failure that stopped the sync (a store gone away) is already said in its one line.
            log.debug("could not release the writer lock on %s cleanly (%s)", lock.location, exc)


class _Keeper(threading.Thread):
    """Keeps the lock while the sync runs; remembers when it was lost."""

    def __init__(self, lock: WriterLock):
        super().__init__(name="newsbot-writer-lock", daemon=True)
        self.lock = lock
        self.kept = time.monotonic()
        self.lost = ""
        self._stopping = threading.Event()

    def run(self) -> None:
        while not self._stopping.wait(self.lock.keep_every):
            try:
                if self.lock.keep():
                    self.kept = time.monotonic()
                else:
                    self.lost = "another writer took it over"
            except Exception as exc:  # unreachable for now: lost only once the lease could have expired
                if time.monotonic() - self.kept > self.lock.lost_after:
                    self.lost = f"it could not be renewed for {self.lock.lost_after:g} s ({exc.__class__.__name__})"
            if self.lost:
                return

    def fence(self) -> None:
        if not self.lost and time.monotonic() - self.kept > self.lock.lost_after:
            self.lost = f"it was not renewed for {self.lock.lost_after:g} s"
        if self.lost:
            raise WriterLost(
                f"this sync lost its writer lock on the index at {self.lock.location} ({self.lost}) and stopped; "
                "what it wrote is repaired by the next sync: run it again"
            )

    def stop(self) -> None:
        self._stopping.set()
        self.join(timeout=10)
