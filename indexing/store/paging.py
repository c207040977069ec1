"""Reading every record a Chroma `get` finds, in pages: large reads fail in one go.

Chroma's embedded store binds each id of a read's result as one SQL variable, and SQLite takes at
most 32,766: a read of more records fails ("too many SQL variables"). Reads that may return that
many go in pages of READ_PAGE (a page with a filter costs ~0.4 s per 10,000 records, measured).
"""

from __future__ import annotations

from typing import Any

WRITE_BATCH = 1000  # records a writer adds or deletes per call: well under Chroma's max batch (5,461 here)
READ_PAGE = 10_000
READ_OVERLAP = WRITE_BATCH


def read_all(collection: Any, **get: Any) -> list[tuple[str, dict[str, Any]]]:
    """(id, metadata) of every record `collection.get(**get)` finds, read READ_PAGE at a time.
    Pages are by position, and a record deleted meanwhile moves the later ones up: so each page
    starts READ_OVERLAP records before the previous one ended (writers delete at most WRITE_BATCH
    records a call), and the repeats are dropped."""
    found: dict[str, dict[str, Any]] = {}
    offset = 0
    while True:
        got = collection.get(limit=READ_PAGE, offset=offset, **get)
        metadatas = got.get("metadatas") or [{}] * len(got["ids"])
        found.update((i, dict(m or {})) for i, m in zip(got["ids"], metadatas))
        if len(got["ids"]) < READ_PAGE:
            return list(found.items())
        offset += READ_PAGE - READ_OVERLAP
