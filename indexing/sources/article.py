"""The Article record every reader produces, the rules an article must meet, and the small helpers
that normalise its fields."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import urlparse

# The date rules live in indexing.sources.dates; these names stay importable from here.
from indexing.sources.dates import is_only_a_date, looks_like_date_line, parse_date, parse_date_field

__all__ = ["Article", "article_problem", "looks_like_date_line", "parse_date", "parse_date_field"]


@dataclass(frozen=True)
class Article:
    id: str  # stable: the URL, or the file path plus record id
    title: str
    published: date | None
    url: str | None
    source: str  # the URL when there is one, else the file path
    origin: str  # the absolute path of the file it was read from, as indexing.sources.paths.path_text writes it
    text: str
    sha256: str  # of title, date, url and text: a change to any of them re-indexes

    @classmethod
    def create(
        cls,
        *,
        id: str,
        title: str,
        published: date | None,
        url: str | None,
        origin: str,
        text: str,
    ) -> Article:
        digest = hashlib.sha256(
            "\x1f".join([title, published.isoformat() if published else "", url or "", text]).encode("utf-8", "surrogatepass")
        ).hexdigest()
        return cls(
            id=id,
            title=title.strip(),
            published=published,
            url=url or None,
            source=url or origin,
            origin=origin,
            text=text,
            sha256=digest,
        )


def article_problem(article: Article) -> tuple[str, str] | None:
    """(kind, reason) when the article must not be indexed, else None. Every reader's articles pass here."""
    for name in ("id", "title", "url", "text"):
        value = getattr(article, name) or ""
        bad = next((i for i, c in enumerate(value) if "\ud800" <= c <= "\udfff"), None)
        if bad is not None:
            return "invalid Unicode", f"the {name} holds a lone surrogate (U+{ord(value[bad]):04X} at character {bad}): not valid Unicode"
        if "\x00" in value:
            return "invalid Unicode", f"the {name} holds a NUL character"
    if not any(c.isalnum() for c in article.text):
        return "no article text", "no article text (only blanks, punctuation or invisible characters)"
    if is_only_a_date(article.text):
        return "no article text", "the text is only a date"
    return None


def first_field(mapping: Mapping[str, Any], keys: Iterable[str]) -> Any:
    """The first of `keys` that is set (not None, not "")."""
    for key in keys:
        if mapping.get(key) not in (None, ""):
            return mapping[key]
    return None


def clean_url(value: Any) -> str | None:
    """An http(s) URL, stripped; None for anything else."""
    if not isinstance(value, str) or not value.strip():
        return None
    value = value.strip()
    return value if urlparse(value).scheme in ("http", "https") else None


def title_from_url(url: str | None) -> str:
    """The words of the URL's last path part ("tram-vote-3.html": "Tram vote"); "" when they are not words."""
    if not url:
        return ""
    parts = [p for p in urlparse(url).path.split("/") if p and p not in ("index.html", "index.htm")]
    slug = re.sub(r"\.(s?html?|php|aspx?)$", "", parts[-1]) if parts else ""
    words = [w for w in re.split(r"[-_]+", slug) if w and not w.isdigit()]
    return " ".join(words).capitalize() if len(words) >= 2 else ""


def title_from_text(text: str, limit: int = 100) -> str:
    """The first line, cut at a word before `limit` characters."""
    first = text.strip().split("\n", 1)[0].strip()
    return first if len(first) <= limit else first[: limit - 1].rsplit(" ", 1)[0] + "…"
