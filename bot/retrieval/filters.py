"""Limiting a question to a source or a period: `--source`, `--since`, `--until` (Slack: from:, after:, before:).

A filter limits the search itself, not its results: dense retrieval passes Chroma a `where` on the
chunks' filter fields (indexing.store.fields), keyword retrieval scores only the rows of the
articles that match. So a filtered question still gets its 30 candidates from each side.

Both sides are decided from one read of the registry (cached per sync generation): the user's
`source` text is resolved to the concrete domains and folders that hold indexed articles, and the
articles that pass every filter are listed. That same read says which filter left nothing when
nothing passes.

`source` is, in this order: a folder that exists (its articles and its subfolders'), a feed's
name or address (the feeds followed: its site's articles), a domain ("reuters.com" also takes
"uk.reuters.com"), or the name of a folder anywhere in the index ("b" for ".../b/").
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from indexing import UNKNOWN_DAY, ArticleRecord, ChunkStore, day_number, domain_of, filter_fields, text_path


@dataclass(frozen=True)
class Filters:
    source: str | None = None  # a folder, a feed's name or a domain
    since: date | None = None  # published on or after
    until: date | None = None  # published on or before
    within: tuple[str, ...] = ()  # the sources the place asked from is bound to (a Slack channel's): any of them

    def __bool__(self) -> bool:
        return bool(self.source) or self.since is not None or self.until is not None or bool(self.within)

    @property
    def dated(self) -> bool:
        return self.since is not None or self.until is not None

    def period(self) -> str:
        """ "between 2024-05-01 and 2024-06-01", "since 2024-05-01", "until 2024-06-01"."""
        if self.since and self.until:
            return f"between {self.since.isoformat()} and {self.until.isoformat()}"
        return f"since {self.since.isoformat()}" if self.since else f"until {self.until.isoformat()}" if self.until else ""

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
            **({"within": list(self.within)} if self.within else {}),
        }


@dataclass(frozen=True)
class Scope:
    """What a filtered search may return: the articles that pass (keyword side) and the `where` (dense side)."""

    articles: frozenset[str]
    where: dict[str, Any] | None
    empty_because: str = ""  # when nothing passes: a plain sentence naming the filter that left nothing


@dataclass
class _Fields:
    domain: str
    folder: str
    day: int


@dataclass
class _Registry:
    generation: int
    fields: dict[str, _Fields] = field(default_factory=dict)


class FilterScopes:
    """Resolves Filters against the registry, read once per sync generation."""

    def __init__(self, store: ChunkStore, feeds: Mapping[str, str] | None = None):
        self.store = store
        self.feeds = {k.lower(): v for k, v in (feeds or {}).items()}  # a feed's name or URL -> its site's domain
        self._registry: _Registry | None = None
        self._lock = threading.Lock()

    def scope(self, filters: Filters, generation: int) -> Scope:
        fields = self._fields(generation)
        by_source = _by_source(filters.source, fields, self.feeds) if filters.source else None
        within = _by_sources(filters.within, fields, self.feeds) if filters.within else None
        since = day_number(filters.since) if filters.since else None
        until = day_number(filters.until) if filters.until else None
        articles = frozenset(a for a, f in fields.items() if _from(f, by_source) and _from(f, within) and _in_period(f.day, since, until))
        where = _where(by_source, since, until, within)
        if articles:
            return Scope(articles, where)
        others = any(_from(f, by_source) and _in_period(f.day, since, until) for f in fields.values())
        if within is not None and others:  # the channel's binding is what left nothing
            named = ", ".join(filters.within)
            return Scope(articles, where, f"No indexed article from this channel's sources ({named}) passes: nothing to answer from.")
        return Scope(articles, where, _why_empty(filters, fields, by_source, since, until))

    def _fields(self, generation: int) -> dict[str, _Fields]:
        with self._lock:
            if self._registry is not None and self._registry.generation == generation:
                return self._registry.fields
        records = self.store.article_records()
        fields = {a: _Fields(**_record_fields(r)) for a, r in records.items() if r.sha256}
        with self._lock:
            self._registry = _Registry(generation, fields)
        return fields


def _record_fields(record: ArticleRecord) -> dict[str, Any]:
    return filter_fields(record.url or None, record.origin, record.published)


def _from(f: _Fields, source: tuple[set[str], set[str]] | None) -> bool:
    return source is None or f.domain in source[0] or f.folder in source[1]


def _by_sources(texts: Iterable[str], fields: Mapping[str, _Fields], feeds: Mapping[str, str]) -> tuple[set[str], set[str]]:
    """(domains, folders) that any of `texts` names."""
    domains: set[str] = set()
    folders: set[str] = set()
    for text in texts:
        found = _by_source(text, fields, feeds)
        domains |= found[0]
        folders |= found[1]
    return domains, folders


def _in_period(day: int, since: int | None, until: int | None) -> bool:
    if since is None and until is None:
        return True
    return day != UNKNOWN_DAY and (since is None or day >= since) and (until is None or day <= until)


def _by_source(text: str, fields: Mapping[str, _Fields], feeds: Mapping[str, str]) -> tuple[set[str], set[str]]:
    """(domains, folders) of indexed articles that `text` names; both empty when it names none."""
    held_folders = {f.folder for f in fields.values() if f.folder}
    held_domains = {f.domain for f in fields.values() if f.domain}
    wanted = text.strip()
    folder = _existing_folder(wanted)
    if folder is not None:
        return set(), {f for f in held_folders if _is_within(f, folder)}
    domain = feeds.get(wanted.lower()) or _as_domain(wanted)
    if domain:
        found = {d for d in held_domains if d == domain or d.endswith("." + domain)}
        if found:
            return found, set()
    name = wanted.strip("/").lower()
    return set(), {f for f in held_folders if name and text_path(f).name.lower() == name}


def _existing_folder(text: str) -> Path | None:
    try:
        path = Path(text).expanduser()
        return path.resolve() if path.is_dir() else None
    except (OSError, ValueError):
        return None


def _is_within(folder_text: str, root: Path) -> bool:
    folder = text_path(folder_text)
    return folder == root or root in folder.parents


def _as_domain(text: str) -> str:
    """ "https://www.Reuters.com/world" or "reuters.com" -> "reuters.com"; "" when it is not host-like."""
    candidate = text if "://" in text else f"https://{text}"
    domain = domain_of(candidate)
    return domain if "." in domain and " " not in text else ""


def _where(
    by_source: tuple[set[str], set[str]] | None,
    since: int | None,
    until: int | None,
    within: tuple[set[str], set[str]] | None = None,
) -> dict[str, Any] | None:
    """The Chroma `where` that selects the same chunks as the filters (None: no filter)."""
    clauses: list[dict[str, Any]] = []
    for source in (by_source, within):
        if source is None:
            continue
        domains, folders = source
        either = ([{"domain": {"$in": sorted(domains)}}] if domains else []) + ([{"folder": {"$in": sorted(folders)}}] if folders else [])
        if not either:
            either = [{"domain": {"$in": ["\x00none"]}}]  # Chroma wants a non-empty list: this one matches nothing
        clauses.append(either[0] if len(either) == 1 else {"$or": either})
    if since is not None or until is not None:
        clauses.append({"day": {"$gte": since if since is not None else UNKNOWN_DAY + 1}})
        if until is not None:
            clauses.append({"day": {"$lte": until}})
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


def _why_empty(
    filters: Filters, fields: Mapping[str, _Fields], by_source: tuple[set[str], set[str]] | None, since: int | None, until: int | None
) -> str:
    source = f"from {filters.source!r}"
    if by_source is not None and not any(by_source):
        return f"No indexed article is {source}: the source filter left nothing to answer from."
    if by_source is None:
        return f"No indexed article was published {filters.period()}: the date filter left nothing to answer from."
    if not any(_in_period(f.day, since, until) for f in fields.values()):
        return f"No indexed article was published {filters.period()}: the date filter left nothing to answer from."
    return f"No indexed article {source} was published {filters.period()}: the source and date filters together left nothing."


def feed_domains(feeds: Iterable[tuple[str, str]]) -> dict[str, str]:
    """(url, title) of followed feeds -> {title or url: the domain of the site} ("feeds.bbci.co.uk" -> "bbci.co.uk")."""
    found: dict[str, str] = {}
    for url, title in feeds:
        domain = domain_of(url)
        for prefix in ("feeds.", "feed.", "rss."):
            if domain.startswith(prefix) and domain.count(".") >= 2:
                domain = domain[len(prefix) :]
        if domain:
            found[url] = domain
            if title:
                found[title] = domain
    return found
