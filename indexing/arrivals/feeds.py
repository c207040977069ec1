"""Follow RSS and Atom feeds: fetch each new item's page, extract it, save it as an article file.

A poll, per feed: a conditional GET (If-None-Match / If-Modified-Since from the last answer; a 304
ends there), feedparser on the body, then for every item not seen before (by normalised URL, and by
a hash of its text so one story under two URLs is saved once): fetch the page, take the main text,
title and date with trafilatura, fall back to the entry's summary when the page fails, and save a
JSON record {url, title, date, text, ...} in the feeds folder. That folder is indexed like any
corpus, so the index can always be rebuilt from files. Every HTTP call has a timeout; a broken feed
or item is reported and skipped, and the poll carries on with the rest.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import re
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from indexing.arrivals.expat import warn_if_old_expat
from indexing.arrivals.feed_registry import FeedRegistry, FeedState, RegistryData, SeenItem, normalize_url, now_iso, write_atomically
from indexing.arrivals.fetching import Fetched, FetchError, fetch
from indexing.errors import ArticleError
from indexing.sources.article import parse_date

__all__ = ["FeedPoller", "PollReport", "FeedResult", "FetchError", "Fetched", "fetch", "parse_feed", "extract_item", "item_path"]

MAX_FEED_BYTES = 10_000_000
MAX_ITEMS_PER_FEED = 200  # newest first in nearly every feed; bounds the work of a first poll
_PAGE_WORKERS = 4


# ---- reports ----------------------------------------------------------------------------------------
@dataclass
class ItemProblem:
    url: str
    reason: str

    def to_json(self) -> dict[str, str]:
        return {"url": self.url, "reason": self.reason}


@dataclass
class FeedResult:
    url: str
    status: str = "ok"  # "ok" | "not modified" | "error"
    title: str = ""
    error: str = ""
    saved: list[Path] = field(default_factory=list)  # article files written by this poll
    duplicates: int = 0  # items skipped because their URL or text was saved before
    failed: list[ItemProblem] = field(default_factory=list)  # items skipped: no page and no summary
    warnings: list[ItemProblem] = field(default_factory=list)  # saved, but from the summary (page failed)

    def to_json(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "status": self.status,
            "title": self.title,
            "error": self.error,
            "saved": [str(p) for p in self.saved],
            "duplicates": self.duplicates,
            "failed": [p.to_json() for p in self.failed],
            "warnings": [p.to_json() for p in self.warnings],
        }


@dataclass
class PollReport:
    feeds: list[FeedResult] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def saved(self) -> list[Path]:
        return [p for f in self.feeds for p in f.saved]

    @property
    def failed_items(self) -> int:
        return sum(len(f.failed) for f in self.feeds)

    @property
    def failed_feeds(self) -> int:
        return sum(f.status == "error" for f in self.feeds)

    @property
    def duplicates(self) -> int:
        return sum(f.duplicates for f in self.feeds)

    def summary(self) -> str:
        return (
            f"feeds: {len(self.feeds)} polled · {len(self.saved)} new · {self.duplicates} duplicate · "
            f"{self.failed_items} item(s) failed · {self.failed_feeds} feed(s) failed · {self.seconds:.1f}s"
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "feeds": [f.to_json() for f in self.feeds],
            "saved": len(self.saved),
            "duplicates": self.duplicates,
            "failed_items": self.failed_items,
            "failed_feeds": self.failed_feeds,
            "seconds": round(self.seconds, 3),
        }


# ---- items ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class FeedItem:
    url: str  # normalised
    title: str
    published: date | None
    summary: str  # plain text ("" when the entry has none)


@dataclass(frozen=True)
class SavedArticle:
    url: str
    title: str
    published: date | None
    text: str
    extracted_from: str  # "page" | "summary"
    note: str = ""  # why the summary was used

    @property
    def sha256(self) -> str:
        return content_hash(self.text)


def content_hash(text: str) -> str:
    return hashlib.sha256(" ".join(text.split()).encode("utf-8")).hexdigest()


def parse_feed(body: bytes, content_type: str = "") -> tuple[str, list[FeedItem], list[ItemProblem], str]:
    """(feed title, items, items skipped, warning). Raises FetchError when the body is no feed at all."""
    import feedparser

    warn_if_old_expat()

    # A stream, never the bytes: given bytes or a string, feedparser first tries them as a URL to fetch and
    # as a file name to open (a body of "/dev/zero" read until memory ran out).
    parsed = feedparser.parse(io.BytesIO(body), response_headers={"content-type": content_type} if content_type else None)
    entries = list(parsed.get("entries") or [])
    if not entries and (parsed.get("bozo") or not parsed.get("version")):
        problem = parsed.get("bozo_exception")
        detail = f" ({problem})" if problem else ""
        raise FetchError(f"not a readable RSS or Atom feed{detail}")
    warning = ""
    if parsed.get("bozo"):
        warning = f"malformed feed ({parsed.get('bozo_exception')}); read the {len(entries)} item(s) that parse"
    items, skipped, seen = [], [], set()
    for number, entry in enumerate(entries[:MAX_ITEMS_PER_FEED], start=1):
        link = entry.get("link") or (entry.get("id") if str(entry.get("id", "")).startswith(("http://", "https://")) else "")
        title = _plain(entry.get("title") or "")
        if not link or urlsplit(link).scheme not in ("http", "https"):
            skipped.append(ItemProblem(f"item {number} ({title or 'untitled'})", "item has no http(s) link"))
            continue
        url = normalize_url(link)
        if url in seen:
            continue  # the same item twice in one feed
        seen.add(url)
        summary = ""
        for content in entry.get("content") or []:
            if len(content.get("value") or "") > len(summary):
                summary = content.get("value") or ""
        summary = _plain(summary or entry.get("summary") or entry.get("description") or "")
        items.append(FeedItem(url, title, _entry_date(entry), summary))
    return _plain(parsed.get("feed", {}).get("title") or ""), items, skipped, warning


def _entry_date(entry: Any) -> date | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        value = entry.get(key)
        if value:
            try:
                return datetime(*value[:6]).replace(tzinfo=UTC).date()
            except (TypeError, ValueError):
                continue
    for key in ("published", "updated"):
        found = parse_date(entry.get(key))
        if found:
            return found
    return None


class _TextExtractor(HTMLParser):
    _BLOCKS = {"p", "div", "br", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "tr", "section", "article"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        elif tag in self._BLOCKS:
            self.parts.append("\n\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._skip = max(0, self._skip - 1)
        elif tag in self._BLOCKS:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def _plain(html: str) -> str:
    """Plain text of an HTML fragment (feed titles and summaries): paragraphs kept, tags dropped."""
    if "<" not in html and "&" not in html:
        return " ".join(html.split())
    parser = _TextExtractor()
    parser.feed(html)
    parser.close()
    paragraphs = (" ".join(p.split()) for p in "".join(parser.parts).split("\n\n"))
    return "\n\n".join(p for p in paragraphs if p)


def extract_item(item: FeedItem, timeout: float, fetcher: Callable[..., Fetched] = fetch) -> SavedArticle:
    """The page's main text, title and date; the entry's summary when the page fails. Raises ArticleError."""
    from indexing.sources.html import extract_html

    reason = ""
    try:
        page = fetcher(item.url, timeout=timeout)
        extracted = extract_html(page.text(), origin=item.url, url=item.url)
        return SavedArticle(
            url=item.url,
            title=item.title or extracted.title,
            published=item.published or extracted.published,
            text=extracted.text,
            extracted_from="page",
        )
    except FetchError as exc:
        reason = f"page: {exc}"
    except ArticleError as exc:
        reason = f"page: {exc.reason}"
    if item.summary:
        return SavedArticle(item.url, item.title, item.published, item.summary, "summary", f"{reason}; saved the feed's summary")
    raise ArticleError(item.url, f"{reason}, and the feed gives no summary")


def item_path(feeds_dir: Path, url: str) -> Path:
    """Where an item is saved: decided by its URL alone, so a re-fetch overwrites rather than duplicates."""
    parts = urlsplit(url)
    host = re.sub(r"[^A-Za-z0-9.-]+", "-", parts.netloc).strip(".-") or "feed"
    words = [w for w in re.split(r"[^A-Za-z0-9]+", parts.path.lower()) if w and w not in ("html", "htm", "php", "index")]
    slug = "-".join(words)[-60:].strip("-") or "item"
    return feeds_dir / host / f"{slug}-{hashlib.sha256(url.encode()).hexdigest()[:12]}.json"


def save_article(feeds_dir: Path, article: SavedArticle, feed_url: str) -> Path:
    record = {
        "url": article.url,
        "title": article.title,
        "date": article.published.isoformat() if article.published else None,
        "text": article.text,
        "feed": feed_url,
        "extracted_from": article.extracted_from,
        "fetched_at": now_iso(),
    }
    path = item_path(feeds_dir, article.url)
    write_atomically(path, json.dumps({k: v for k, v in record.items() if v is not None}, ensure_ascii=False, indent=1) + "\n")
    return path


# ---- polling ----------------------------------------------------------------------------------------
class FeedPoller:
    """Polls the registry's feeds into the feeds folder. One poll at a time per poller."""

    def __init__(
        self,
        registry: FeedRegistry,
        feeds_dir: Path,
        timeout: float = 20.0,
        fetcher: Callable[..., Fetched] | None = None,
        allow_private: bool = False,
    ):
        self.registry = registry
        self.feeds_dir = Path(feeds_dir)
        self.timeout = timeout
        # Intranet addresses only when the setting says so (indexing.arrivals.addresses).
        self.fetcher = fetcher or functools.partial(fetch, allow_private=allow_private)
        self._lock = threading.Lock()

    def poll(self, urls: Sequence[str] | None = None) -> PollReport:
        """Poll every followed feed (or only `urls`); never raises for a feed or an item that fails."""
        began = time.perf_counter()
        report = PollReport()
        with self._lock:
            data = self.registry.load()
            wanted = {normalize_url(u) for u in urls} if urls else None
            for state in list(data.feeds.values()):
                if wanted is not None and state.url not in wanted:
                    continue
                result = self._poll_one(state, data)
                report.feeds.append(result)
                data = self._record(state, result, data)
        report.seconds = time.perf_counter() - began
        return report

    def _poll_one(self, state: FeedState, data: RegistryData) -> FeedResult:
        result = FeedResult(state.url, title=state.title)
        headers = {"Accept": "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.8, */*;q=0.5"}
        if state.etag:
            headers["If-None-Match"] = state.etag
        if state.last_modified:
            headers["If-Modified-Since"] = state.last_modified
        try:
            response = self.fetcher(state.url, timeout=self.timeout, headers=headers, max_bytes=MAX_FEED_BYTES)
            if response.status == 304:
                result.status = "not modified"
                return result
            title, items, skipped, warning = parse_feed(response.body, response.headers.get("content-type", ""))
        except FetchError as exc:
            result.status, result.error = "error", str(exc)
            return result
        result.title = title or state.title
        result.failed.extend(skipped)
        if warning:
            result.warnings.append(ItemProblem(state.url, warning))
        validators = (response.headers.get("etag", ""), response.headers.get("last-modified", ""))

        seen_urls, seen_hashes = set(data.items), data.hashes()
        fresh = [item for item in items if item.url not in seen_urls]
        result.duplicates += len(items) - len(fresh)
        with ThreadPoolExecutor(max_workers=_PAGE_WORKERS) as pool:
            outcomes = list(pool.map(self._extract, fresh))
        retry_later = False
        for item, outcome in zip(fresh, outcomes):
            if isinstance(outcome, ArticleError):
                result.failed.append(ItemProblem(item.url, outcome.reason))
                retry_later = True
                continue
            if outcome.sha256 in seen_hashes:
                result.duplicates += 1
                continue
            try:
                path = save_article(self.feeds_dir, outcome, state.url)
            except OSError as exc:
                result.failed.append(ItemProblem(item.url, f"cannot save to {self.feeds_dir} ({exc.strerror or exc})"))
                retry_later = True
                continue
            seen_hashes.add(outcome.sha256)
            result.saved.append(path)
            if outcome.note:
                result.warnings.append(ItemProblem(item.url, outcome.note))
            data.items[item.url] = SeenItem(
                url=item.url,
                sha256=outcome.sha256,
                file=str(path.relative_to(self.feeds_dir)),
                feed=state.url,
                saved_at=now_iso(),
                extracted_from=outcome.extracted_from,
            )
        # An item whose page failed (and had no summary) is retried next poll: keep the old validators
        # so that poll gets the whole feed again instead of a 304. Items the feed itself breaks (no
        # link) would fail the same way every time, so they do not hold the validators back.
        if not retry_later:
            state.etag, state.last_modified = validators
        return result

    def _extract(self, item: FeedItem) -> SavedArticle | ArticleError:
        try:
            return extract_item(item, self.timeout, self.fetcher)
        except ArticleError as exc:
            return exc
        except Exception as exc:  # an extractor bug on one page must not stop the poll
            return ArticleError(item.url, f"{exc.__class__.__name__}: {exc}")

    def _record(self, state: FeedState, result: FeedResult, polled: RegistryData) -> RegistryData:
        """Merge this feed's outcome into the registry on disk (others may have changed it meanwhile)."""
        with self.registry.transaction() as data:
            current = data.feeds.get(state.url)
            if current is not None:  # still followed
                current.last_polled = now_iso()
                current.last_status = result.status
                current.last_error = result.error
                if result.status == "ok":
                    current.title = result.title or current.title
                    current.etag, current.last_modified = state.etag, state.last_modified
                    current.items_saved += len(result.saved)
            for item in polled.items.values():
                if item.feed == state.url:
                    data.items.setdefault(item.url, item)
        return data
