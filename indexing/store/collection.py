"""What the store calls on a Chroma collection, wherever it runs.

Three things answer these calls: chromadb's own collection (a server's, or this process's when it owns
an embedded data dir), `indexing.store.owner.RoutedCollection` (the owner process's, over its socket) and
`indexing.store.guard.GuardedCollection` around either (an unreachable store as StoreUnavailable).
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class Collection(Protocol):
    """A Chroma collection's reads and writes, by keyword as chromadb names them."""

    metadata: Any  # the collection's metadata (chromadb's CollectionMetadata), None when it has none

    def get(self, **kwargs: Any) -> Any: ...

    def query(self, **kwargs: Any) -> Any: ...

    def upsert(self, **kwargs: Any) -> Any: ...

    def delete(self, **kwargs: Any) -> Any: ...

    def count(self) -> int: ...
