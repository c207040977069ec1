"""The fields a question can be limited by, as stored on every chunk so Chroma's `where` can filter on them.

- `domain`: the host of the article's URL, lower-cased, without "www." ("" for a file without a URL);
- `folder`: the folder of the file it was read from (path text, as `indexing.sources.paths` writes it);
- `day`: the publication date as a number, YYYYMMDD (0 when unknown): Chroma compares numbers only.

The registry records (`ArticleRecord`) hold what these are derived from (url, origin, published), so a
filter can be checked in Python against the registry too (the keyword index's side) with the same rules.
An index written before they existed is in an older store format (indexing.store.format) and is
brought up to date by the next sync (`indexing.store.upgrade`), without re-embedding.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import urlsplit

from indexing.sources.paths import path_text, text_path

UNKNOWN_DAY = 0


def domain_of(url: str | None) -> str:
    """ "www.Reuters.com" -> "reuters.com"; "" for no URL."""
    if not url:
        return ""
    host = (urlsplit(url).hostname or "").lower().rstrip(".")
    return host[4:] if host.startswith("www.") else host


def folder_of(origin: str) -> str:
    """The folder of an article's file, as path text ("" when the origin is not a path)."""
    return path_text(text_path(origin).parent) if origin else ""


def day_number(published: date | str | None) -> int:
    """2024-05-01 -> 20240501; UNKNOWN_DAY when there is no (readable) date."""
    if isinstance(published, str):
        try:
            published = date.fromisoformat(published) if published else None
        except ValueError:
            published = None
    return published.year * 10_000 + published.month * 100 + published.day if published else UNKNOWN_DAY


def filter_fields(url: str | None, origin: str, published: date | str | None) -> dict[str, Any]:
    return {"domain": domain_of(url), "folder": folder_of(origin), "day": day_number(published)}
