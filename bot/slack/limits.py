"""What keeps one client from holding the Slack HTTP endpoint (docs/security.md, issue 25 item 7).

- A connection must send a whole request head within HEAD_SECONDS of connecting (or of its last
  response): uvicorn sets no such timer, so an idle or dripping connection stayed open for ever.
- A body must arrive within BODY_SECONDS (bot.slack.asgi answers 408 past it).
- Past MAX_CONNECTIONS open connections, requests get 503 (uvicorn's limit_concurrency).
- `/slack/install` (unauthenticated, and each GET stores an OAuth state) takes INSTALLS_PER_MINUTE
  per client address.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import defaultdict, deque
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

HEAD_SECONDS = 10.0
BODY_SECONDS = 10.0
MAX_CONNECTIONS = 1000
INSTALLS_PER_MINUTE = 10


class HeadDeadlineProtocol(H11Protocol):
    """uvicorn's h11 protocol, closing a connection whose request head is not in by the deadline."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._answered: Any = None  # the request cycle whose head already arrived
        self._head_timer: asyncio.TimerHandle | None = None
        self._start_head_timer()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.cycle is not None and self.cycle is not self._answered:  # a whole head: the app has it now
            self._answered = self.cycle
            self._stop_head_timer()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._start_head_timer()  # the next request's head is due in time too (a byte cancels keep-alive's timer)

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_head_timer()
        super().connection_lost(exc)

    def _start_head_timer(self) -> None:
        self._stop_head_timer()
        self._head_timer = self.loop.call_later(HEAD_SECONDS, self._head_late)

    def _stop_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_late(self) -> None:
        if self.cycle is None or self.cycle is self._answered:  # no request in progress: nothing to answer
            self.transport.close()


class InstallRate:
    """At most `per_minute` install starts per client address in any minute (thread-safe)."""

    def __init__(self, per_minute: int = INSTALLS_PER_MINUTE):
        self.per_minute = per_minute
        self._seen: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def allow(self, address: str) -> bool:
        now = time.monotonic()
        with self._lock:
            if len(self._seen) > 10_000:  # many addresses: forget the quiet ones
                for key in [k for k, times in self._seen.items() if not times or now - times[-1] > 60]:
                    del self._seen[key]
            times = self._seen[address]
            while times and now - times[0] > 60:
                times.popleft()
            if len(times) >= self.per_minute:
                return False
            times.append(now)
            return True
