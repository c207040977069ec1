"""A writer lease kept in Chroma itself: for a Chroma server without PostgreSQL beside it.

Chroma has no compare-and-swap, but `add()` of an id that exists is ignored (the first add wins, and
every reader then sees the winner; checked on `chroma run` 1.5.9 with four processes adding one id at
once). So leases are numbered records in a small collection `<prefix>_writer`: the current lease is
the highest number. To take the lock a writer adds the next number and reads it back; whoever's add
landed first holds it, the others wait. The next number may be taken when the current lease is
released, or expired: its record unchanged (same number, same renewal count) for its `ttl` seconds
as the waiter's own clock measures, so the machines' clocks never need to agree. The holder renews
it every third of the ttl, and checks first that nobody took the next number (then it has lost it).
"""

from __future__ import annotations

import logging
import time
import uuid
from typing import Any

from indexing.store.writer_lock import Holder, me

log = logging.getLogger(__name__)

_PREFIX = "lease-"
_VECTOR = [1.0]  # Chroma needs a vector per record; a lease needs none


def _lease_id(number: int) -> str:
    return f"{_PREFIX}{number:012d}"


def _number(lease_id: str) -> int:
    return int(lease_id.removeprefix(_PREFIX))


class ChromaLease:
    """The writer lease of one collection prefix on a Chroma server (indexing.store.writer_lock.WriterLock)."""

    def __init__(self, collection: Any, location: str, ttl: float):
        self.collection = collection  # a GuardedCollection: an unreachable server is StoreUnavailable
        self.location = location
        self.ttl = ttl
        self.keep_every = ttl / 3
        self.lost_after = ttl
        self.token = uuid.uuid4().hex
        self.holder = me("lease")
        self.number = 0  # of the lease held; 0: none
        self.renewals = 0
        self._seen: tuple[int, int] | None = None  # (number, renewals) of the other's lease, and since when
        self._seen_at = 0.0

    def try_acquire(self) -> Holder | None:
        leases = self._leases()
        current = max(leases) if leases else 0
        if current:
            meta = leases[current]
            if meta.get("state") != "released" and not self._expired(current, meta):
                return _holder(meta)
            if meta.get("state") != "released":
                log.warning("the writer lease of %s expired (%s); taking over", self.location, _holder(meta).describe())
        taking = current + 1
        self.holder = me("lease")  # since now
        self.collection.add(ids=[_lease_id(taking)], embeddings=[_VECTOR], metadatas=[self._record(0, "held")])
        got = self.collection.get(ids=[_lease_id(taking)], include=["metadatas"])
        winner = dict(got["metadatas"][0]) if got["ids"] and got["metadatas"] else {}
        if winner.get("token") != self.token:
            return _holder(winner)
        self.number, self.renewals = taking, 0
        old = [_lease_id(n) for n in leases if n < taking]
        if old:  # only the current lease matters; a late add of an old number is harmless (not the highest)
            self.collection.delete(ids=old)
        return None

    def keep(self) -> bool:
        if self._taken_over():
            return False
        self.renewals += 1
        self.collection.upsert(ids=[_lease_id(self.number)], embeddings=[_VECTOR], metadatas=[self._record(self.renewals, "held")])
        return True

    def release(self) -> None:
        if self.number and not self._taken_over():
            self.collection.upsert(ids=[_lease_id(self.number)], embeddings=[_VECTOR], metadatas=[self._record(self.renewals, "released")])
        self.number = 0

    def _taken_over(self) -> bool:
        return bool(self.collection.get(ids=[_lease_id(self.number + 1)], include=[])["ids"])

    def _leases(self) -> dict[int, dict[str, Any]]:
        got = self.collection.get(include=["metadatas"])
        return {_number(i): dict(m or {}) for i, m in zip(got["ids"], got["metadatas"] or []) if i.startswith(_PREFIX)}

    def _expired(self, number: int, meta: dict[str, Any]) -> bool:
        """Unchanged for its ttl by this process's clock (a live holder renews it every third of that)."""
        seen = (number, int(meta.get("renewals", 0)))
        if seen != self._seen:
            self._seen, self._seen_at = seen, time.monotonic()
        return time.monotonic() - self._seen_at > float(meta.get("ttl", self.ttl))

    def _record(self, renewals: int, state: str) -> dict[str, Any]:
        h = self.holder
        return {"token": self.token, "host": h.host, "pid": h.pid, "since": h.since, "ttl": self.ttl, "renewals": renewals, "state": state}


def _holder(meta: dict[str, Any]) -> Holder:
    return Holder(str(meta.get("host", "")), int(meta.get("pid", 0)), str(meta.get("since", "")), "lease")
