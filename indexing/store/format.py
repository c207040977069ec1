"""The store's format version: what a newsbot must understand to write an index, recorded in its meta record.

One number for the whole layout a writer relies on (collections, registry records, commit protocol,
chunk metadata). Every change to that layout so far has been additive and derivable from what was
there, so an older format is upgraded in place by the next sync (indexing.store.upgrade) rather than
refused. A store in a *newer* format than this newsbot's is refused for writing: this newsbot would
write records the newer one does not expect. Readers are not refused (a question reads what any
format since 1 holds).

The number lives under the meta key `fields_version`, its name since format 1 (when it counted the
chunks' filter fields): indexes written since already carry it, and newsbots from before this check
read and write it too, so the key stays.

Formats: 0, before the chunks' filter fields; 1, chunks carry `domain`, `folder`, `day`
(indexing.store.fields); 2, article records carry MinHash signatures (indexing.text.minhash).
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import Any

from indexing.errors import StoreError

STORE_FORMAT = 2
OLDEST_UPGRADABLE = 0  # an index in an older format than this cannot be upgraded in place
FORMAT_KEY = "fields_version"
WRITTEN_BY_KEY = "format_written_by"


class StoreFormatError(StoreError):
    """The index is in a format this newsbot cannot write."""


def newsbot_version() -> str:
    try:
        return version("newsbot")
    except PackageNotFoundError:  # a checkout run without installing it
        return "unknown"


def stored_format(meta: dict[str, Any]) -> int:
    """The format recorded in the meta record; 0 when none is (an index from before format 1, or a new one)."""
    return int(meta.get(FORMAT_KEY, 0))


def format_fields() -> dict[str, Any]:
    """What a writer records in the meta record once the index is in this newsbot's format."""
    return {FORMAT_KEY: STORE_FORMAT, WRITTEN_BY_KEY: f"newsbot {newsbot_version()}"}


def check_writable(meta: dict[str, Any], location: str) -> None:
    """StoreFormatError, in one line naming both formats, unless this newsbot can write (or upgrade) the index."""
    stored = stored_format(meta)
    ours = f"this newsbot ({newsbot_version()}) writes format {STORE_FORMAT}"
    by = f", written by {meta[WRITTEN_BY_KEY]}" if meta.get(WRITTEN_BY_KEY) else ""
    if stored > STORE_FORMAT:
        raise StoreFormatError(
            f"the index at {location} is in store format {stored}{by}; {ours}: upgrade newsbot on this machine, "
            "or set NEWSBOT_COLLECTION (or NEWSBOT_DATA_DIR) to another index"
        )
    if stored < OLDEST_UPGRADABLE:
        raise StoreFormatError(
            f"the index at {location} is in store format {stored}{by}, too old to upgrade in place; {ours}: "
            "rebuild it under another NEWSBOT_COLLECTION (or NEWSBOT_DATA_DIR) with `newsbot index`"
        )
