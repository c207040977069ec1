"""Reading, chunking, embedding and storing news articles in Chroma; never imports `bot`.

The public API, imported lazily (chromadb and the models load only when used):

    from indexing import NewsIndex, IndexSettings
    index = NewsIndex(IndexSettings.from_env())
    report = index.sync()          # the default sources: new, changed and deleted articles
    hits = index.search(question, vector, pool=60)   # committed versions only, while syncs run

Other packages (`bot`) import these names only, never a module under `indexing` (tests/test_imports.py).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from indexing.arrivals.feed_registry import FeedRegistry
    from indexing.arrivals.feeds import FeedPoller
    from indexing.arrivals.watch import Watcher
    from indexing.bundled import bundled_dir
    from indexing.embedding.models import DEFAULT_MODEL, Embedder, SentenceTransformerEmbedder, get_embedder, resolve_model_dir
    from indexing.errors import ArticleError, ConfigError, ModelError, NewsbotError, StoreBusy, StoreError, StoreUnavailable
    from indexing.index import NewsIndex
    from indexing.indexer import SyncProgress, SyncReport
    from indexing.keyword.index import KeywordHit
    from indexing.private import private_file, restrict_umask
    from indexing.settings import (
        IndexSettings,
        SettingsModel,
        SettingsSource,
        UserPath,
        WatchSettings,
        bundled_seeds_dir,
        secret,
        setting,
        settings_table,
    )
    from indexing.sources.article import Article
    from indexing.sources.dates import parse_date_field
    from indexing.sources.files import article_from_record, iter_article_files, read_file
    from indexing.sources.paths import text_path
    from indexing.store.chroma import ChunkStore
    from indexing.store.fields import UNKNOWN_DAY, day_number, domain_of, filter_fields
    from indexing.store.records import ArticleRecord, StoredChunk
    from indexing.text.sentences import split_sentences
    from indexing.text.stemming import english_stemmer
    from indexing.visible import DenseHit, VisibleHits

_MODULES = {
    # the index and its errors
    "indexing.index": ("NewsIndex",),
    "indexing.indexer": ("SyncProgress", "SyncReport"),
    "indexing.visible": ("DenseHit", "VisibleHits"),
    "indexing.errors": ("ArticleError", "ConfigError", "ModelError", "NewsbotError", "StoreBusy", "StoreError", "StoreUnavailable"),
    # settings, files the package ships, private files
    "indexing.settings": (
        "IndexSettings",
        "SettingsModel",
        "SettingsSource",
        "UserPath",
        "WatchSettings",
        "bundled_seeds_dir",
        "secret",
        "setting",
        "settings_table",
    ),
    "indexing.bundled": ("bundled_dir",),
    "indexing.private": ("private_file", "restrict_umask"),
    # what is stored, and the fields filters compare
    "indexing.store.chroma": ("ChunkStore",),
    "indexing.store.records": ("ArticleRecord", "StoredChunk"),
    "indexing.store.fields": ("UNKNOWN_DAY", "day_number", "domain_of", "filter_fields"),
    "indexing.keyword.index": ("KeywordHit",),
    # articles, their files and feeds
    "indexing.sources.article": ("Article",),
    "indexing.sources.dates": ("parse_date_field",),
    "indexing.sources.files": ("article_from_record", "iter_article_files", "read_file"),
    "indexing.sources.paths": ("text_path",),
    "indexing.arrivals.watch": ("Watcher",),
    "indexing.arrivals.feeds": ("FeedPoller",),
    "indexing.arrivals.feed_registry": ("FeedRegistry",),
    # text and the embedding model
    "indexing.text.sentences": ("split_sentences",),
    "indexing.text.stemming": ("english_stemmer",),
    "indexing.embedding.models": ("DEFAULT_MODEL", "Embedder", "SentenceTransformerEmbedder", "get_embedder", "resolve_model_dir"),
}
_EXPORTS = {name: module for module, names in _MODULES.items() for name in names}
__all__ = [  # _MODULES's names, as a literal that linters and type checkers read (tests/test_imports.py)
    "Article",
    "ArticleError",
    "ArticleRecord",
    "ChunkStore",
    "ConfigError",
    "DEFAULT_MODEL",
    "DenseHit",
    "Embedder",
    "FeedPoller",
    "FeedRegistry",
    "IndexSettings",
    "KeywordHit",
    "ModelError",
    "NewsIndex",
    "NewsbotError",
    "SentenceTransformerEmbedder",
    "SettingsModel",
    "SettingsSource",
    "StoreBusy",
    "StoreError",
    "StoreUnavailable",
    "StoredChunk",
    "SyncProgress",
    "SyncReport",
    "UNKNOWN_DAY",
    "UserPath",
    "VisibleHits",
    "WatchSettings",
    "Watcher",
    "article_from_record",
    "bundled_dir",
    "bundled_seeds_dir",
    "day_number",
    "domain_of",
    "english_stemmer",
    "filter_fields",
    "get_embedder",
    "iter_article_files",
    "parse_date_field",
    "private_file",
    "read_file",
    "resolve_model_dir",
    "restrict_umask",
    "secret",
    "setting",
    "settings_table",
    "split_sentences",
    "text_path",
]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'indexing' has no attribute {name!r}")
