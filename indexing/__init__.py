"""Reading, chunking, embedding and storing news articles in Chroma; never imports `bot`.

The public API, imported lazily (chromadb and the models load only when used):

    from indexing import NewsIndex, IndexSettings
    index = NewsIndex(IndexSettings.from_env())
    report = index.sync()          # the default sources: new, changed and deleted articles
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from indexing.arrivals.watch import Watcher
    from indexing.errors import ArticleError, ConfigError, ModelError, NewsbotError, StoreBusy, StoreError, StoreUnavailable
    from indexing.index import NewsIndex
    from indexing.indexer import SyncReport
    from indexing.settings import IndexSettings, SettingsSource, WatchSettings
    from indexing.sources.article import Article

_EXPORTS = {
    "Article": "indexing.sources.article",
    "ArticleError": "indexing.errors",
    "ConfigError": "indexing.errors",
    "IndexSettings": "indexing.settings",
    "ModelError": "indexing.errors",
    "NewsIndex": "indexing.index",
    "NewsbotError": "indexing.errors",
    "SettingsSource": "indexing.settings",
    "StoreBusy": "indexing.errors",
    "StoreError": "indexing.errors",
    "StoreUnavailable": "indexing.errors",
    "SyncReport": "indexing.indexer",
    "WatchSettings": "indexing.settings",
    "Watcher": "indexing.arrivals.watch",
}
__all__ = [
    "Article",
    "ArticleError",
    "ConfigError",
    "IndexSettings",
    "ModelError",
    "NewsIndex",
    "NewsbotError",
    "SettingsSource",
    "StoreBusy",
    "StoreError",
    "StoreUnavailable",
    "SyncReport",
    "WatchSettings",
    "Watcher",
]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'indexing' has no attribute {name!r}")
