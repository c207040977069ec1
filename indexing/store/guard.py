"""Store calls that fail because the store is gone become StoreUnavailable, after one quiet retry.

A Chroma server stopped mid-run raises `httpx.ConnectError` from deep inside chromadb (a 113-line
traceback from `newsbot index`, a dead `newsbot chat`). Here that, and an embedded owner that went
away (indexing.store.owner), is one exception type the faces handle: `index` prints one line and
exits 1, `chat` and Slack say the index is unreachable and carry on, the watcher retries. Nothing
is cached about the failure, so the first call after the store is back simply works: httpx opens
new connections, and the embedded handle elects a new owner.
"""

from __future__ import annotations

import time
from typing import Any

from indexing.errors import StoreUnavailable
from indexing.store.collection import Collection
from indexing.store.turns import Turns

_RETRY_PAUSE = 0.2  # one retry: a keep-alive connection the restarted server dropped fails only once


def unreachable(exc: BaseException) -> bool:
    """Whether `exc` means the store could not be reached (not that a call was wrong)."""
    import httpx
    from chromadb.errors import InternalError

    return isinstance(exc, (ConnectionError, TimeoutError, httpx.TransportError, InternalError))


class GuardedCollection:
    """A Chroma collection (or indexing.store.owner.RoutedCollection) whose unreachable store raises StoreUnavailable.
    Its writes take their turn after the questions in flight (`turns`: indexing.store.turns)."""

    def __init__(self, inner: Collection, location: str, turns: Turns | None = None):
        self.inner = inner
        self.location = location
        self.metadata = inner.metadata
        self.turns = turns or Turns()

    def get(self, **kwargs: Any) -> Any:
        return self._call("get", kwargs)

    def query(self, **kwargs: Any) -> Any:
        return self._call("query", kwargs)

    def add(self, **kwargs: Any) -> Any:
        return self.turns.write(lambda **piece: self._call("add", piece), kwargs)

    def upsert(self, **kwargs: Any) -> Any:
        return self.turns.write(lambda **piece: self._call("upsert", piece), kwargs)

    def delete(self, **kwargs: Any) -> Any:
        return self.turns.write(lambda **piece: self._call("delete", piece), kwargs)

    def count(self) -> int:
        return int(self._call("count", {}))

    def _call(self, op: str, kwargs: dict[str, Any]) -> Any:
        for attempt in (1, 2):
            try:
                return getattr(self.inner, op)(**kwargs)
            except StoreUnavailable:
                raise
            except Exception as exc:
                if not unreachable(exc):
                    raise
                if attempt == 2:
                    raise StoreUnavailable(
                        f"the index at {self.location} is unreachable ({exc.__class__.__name__}: {str(exc)[:120]}); "
                        "nothing was lost: start the Chroma server again (or check CHROMA_HOST) and retry"
                    ) from None
                time.sleep(_RETRY_PAUSE)
        raise AssertionError("unreachable")
