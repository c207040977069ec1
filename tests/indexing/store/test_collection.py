"""The store's three kinds of collection answer the same calls (indexing.store.collection.Collection)."""

from __future__ import annotations

from indexing.store.chroma import ChunkStore
from indexing.store.collection import Collection
from indexing.store.guard import GuardedCollection
from indexing.store.owner import RoutedCollection


def test_routed_and_guarded_collections_are_collections(index_settings):
    store = ChunkStore(index_settings)
    routed = RoutedCollection(store.client, "news_chunks", {"hnsw:space": "cosine"})
    assert isinstance(routed, Collection)
    assert isinstance(GuardedCollection(routed, "here"), Collection)
    assert isinstance(store.chunks, Collection) and isinstance(store.chunks.inner, Collection)  # chromadb's own
