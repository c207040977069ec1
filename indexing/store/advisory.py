"""A writer lock as a PostgreSQL advisory lock: for a team whose NEWSBOT_STATE_URL is PostgreSQL.

A session-level advisory lock on a key derived from the Chroma collection's id (the same for every
machine, whatever address each reaches the server by). It lives as long as its connection: a holder
killed mid-sync frees it at once (the kernel closes the socket, the server ends the session). Who
holds it is written to a small table `newsbot_writers` once the lock is taken; a waiter reads the
row whose backend holds the lock, so a row a killed holder left is never named.
"""

from __future__ import annotations

import hashlib
from typing import Any

from indexing.errors import StoreError
from indexing.store.writer_lock import Holder, me

_TABLE = """CREATE TABLE IF NOT EXISTS newsbot_writers (
    lock_key bigint PRIMARY KEY, host text NOT NULL, pid integer NOT NULL, since text NOT NULL, backend integer NOT NULL
)"""
_HOLDER = """SELECT w.host, w.pid, w.since FROM newsbot_writers w
JOIN pg_locks l ON l.pid = w.backend AND l.locktype = 'advisory' AND l.granted
WHERE w.lock_key = %s LIMIT 1"""
CHECK_EVERY = 5.0  # seconds between two checks that the connection (and so the lock) is still there


def lock_key(collection_id: str) -> int:
    """A signed 64-bit key for pg_advisory_lock, the same on every machine for one collection."""
    return int.from_bytes(hashlib.sha256(f"newsbot-writer:{collection_id}".encode()).digest()[:8], "big", signed=True)


def conninfo(url: str) -> str:
    """NEWSBOT_STATE_URL as libpq takes it (SQLAlchemy's `postgresql+psycopg://` spelling too)."""
    scheme, _, rest = url.partition("://")
    return f"postgresql://{rest}" if scheme.split("+")[0] in ("postgresql", "postgres") else url


def is_postgres(url: str | None) -> bool:
    return bool(url) and url.partition("://")[0].split("+")[0] in ("postgresql", "postgres")  # type: ignore[union-attr]


class AdvisoryLock:
    """The writer lock of one collection as a PostgreSQL advisory lock (indexing.store.writer_lock.WriterLock)."""

    keep_every = CHECK_EVERY
    lost_after = 3 * CHECK_EVERY

    def __init__(self, url: str, collection_id: str, location: str):
        self.url = url
        self.key = lock_key(collection_id)
        self.location = location
        self._connection: Any = None

    def _connect(self) -> Any:
        if self._connection is None or self._connection.closed:
            import psycopg

            try:
                self._connection = psycopg.connect(conninfo(self.url), autocommit=True, application_name="newsbot writer")
                self._connection.execute(_TABLE)
            except psycopg.errors.UniqueViolation:  # two first writers created the table at once: it is there
                pass
            except psycopg.Error as exc:
                reason = str(exc).strip().splitlines()[0] if str(exc).strip() else exc.__class__.__name__
                raise StoreError(f"cannot take the writer lock in PostgreSQL ({reason}); check NEWSBOT_STATE_URL") from None
        return self._connection

    def try_acquire(self) -> Holder | None:
        connection = self._connect()
        if connection.execute("SELECT pg_try_advisory_lock(%s)", (self.key,)).fetchone()[0]:
            holder = me("advisory lock")
            connection.execute(
                "INSERT INTO newsbot_writers (lock_key, host, pid, since, backend) VALUES (%s, %s, %s, %s, pg_backend_pid()) "
                "ON CONFLICT (lock_key) DO UPDATE SET host = EXCLUDED.host, pid = EXCLUDED.pid, since = EXCLUDED.since, "
                "backend = EXCLUDED.backend",
                (self.key, holder.host, holder.pid, holder.since),
            )
            return None
        row = connection.execute(_HOLDER, (self.key,)).fetchone()
        # The holder has the lock but has not written its row yet: named at the next try.
        return Holder(str(row[0]), int(row[1]), str(row[2]), "advisory lock") if row else Holder("", 0, "just now", "advisory lock")

    def keep(self) -> bool:
        import psycopg

        try:
            self._connection.execute("SELECT 1")
        except psycopg.Error:  # the connection is gone, and the lock with it (another writer may hold it now)
            return False
        return True

    def release(self) -> None:
        if self._connection is None or self._connection.closed:
            return
        try:
            self._connection.execute("DELETE FROM newsbot_writers WHERE lock_key = %s AND backend = pg_backend_pid()", (self.key,))
            self._connection.execute("SELECT pg_advisory_unlock(%s)", (self.key,))
        finally:
            self._connection.close()
