"""The feed registry: which feeds to follow, their HTTP validators, and every item already saved.

One JSON file in the data dir (`<data dir>/feeds.json`), rewritten atomically (a temporary file in
the same folder, fsync, rename) under an advisory file lock, so `newsbot feeds add` in one process
and a watcher polling in another never lose each other's changes. The saved items themselves are
article files in the feeds folder: the registry only remembers what was seen (URL, content hash,
file) so a poll skips it, and can be deleted at the cost of re-fetching.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from indexing.errors import NewsbotError
from indexing.private import private_dir, private_file

try:  # POSIX; elsewhere writes are still atomic, only concurrent writers are not serialised
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None  # type: ignore[assignment]

_VERSION = 1


class FeedError(NewsbotError):
    """A feed command cannot be carried out (bad URL, unknown feed, unreadable registry)."""


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def normalize_url(url: str) -> str:
    """The form URLs are compared in: no fragment, no utm_* tracking parameters, lower-case host."""
    parts = urlsplit(url.strip())
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not k.lower().startswith("utm_")])
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path or "/", query, ""))


def check_feed_url(url: str) -> str:
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise FeedError(f"{url!r} is not a feed address: give an http:// or https:// URL of an RSS or Atom feed")
    return normalize_url(url)


_Record = TypeVar("_Record")


def _from_json(cls: Any, raw: dict[str, Any]) -> Any:
    """A record from its JSON, ignoring keys this version does not know (written by a newer one)."""
    known = {f.name for f in fields(cls)}
    return cls(**{k: v for k, v in raw.items() if k in known})


@dataclass
class FeedState:
    url: str
    title: str = ""
    added_at: str = ""
    etag: str = ""
    last_modified: str = ""
    last_polled: str = ""
    last_status: str = ""  # "ok" | "not modified" | "error"
    last_error: str = ""
    items_saved: int = 0

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> FeedState:
        return _from_json(cls, raw)


@dataclass
class SeenItem:
    url: str  # normalised
    sha256: str  # of the saved text (whitespace-normalised): catches one story under two URLs
    file: str  # relative to the feeds folder
    feed: str
    saved_at: str = ""
    extracted_from: str = "page"  # "page" | "summary"

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> SeenItem:
        return _from_json(cls, raw)


@dataclass
class RegistryData:
    feeds: dict[str, FeedState] = field(default_factory=dict)  # by normalised URL, in the order added
    items: dict[str, SeenItem] = field(default_factory=dict)  # by normalised item URL

    def hashes(self) -> set[str]:
        return {item.sha256 for item in self.items.values()}

    def to_json(self) -> dict[str, Any]:
        return {
            "version": _VERSION,
            "feeds": [asdict(f) for f in self.feeds.values()],
            "items": [asdict(i) for i in self.items.values()],
        }

    @classmethod
    def from_json(cls, raw: Any, path: Path) -> RegistryData:
        if not isinstance(raw, dict) or not isinstance(raw.get("feeds", []), list) or not isinstance(raw.get("items", []), list):
            raise FeedError(f"{path}: not a newsbot feed registry; fix or delete it (saved articles stay in the feeds folder)")
        try:
            feeds = [FeedState.from_json(f) for f in raw.get("feeds", [])]
            items = [SeenItem.from_json(i) for i in raw.get("items", [])]
        except TypeError as exc:
            raise FeedError(f"{path}: a feed or item entry is malformed ({exc}); fix or delete the file") from exc
        return cls({f.url: f for f in feeds}, {i.url: i for i in items})


class FeedRegistry:
    def __init__(self, path: Path):
        self.path = Path(path)

    def load(self) -> RegistryData:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return RegistryData()
        except OSError as exc:
            raise FeedError(f"{self.path}: cannot read the feed registry ({exc.strerror or exc})") from exc
        try:
            raw = json.loads(text)
        except json.JSONDecodeError as exc:
            raise FeedError(
                f"{self.path}: the feed registry is not valid JSON (line {exc.lineno}: {exc.msg}); "
                "fix or delete it (saved articles stay in the feeds folder)"
            ) from exc
        return RegistryData.from_json(raw, self.path)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[RegistryData]:
        """Load under the lock, let the caller change the data, save atomically when the block succeeds."""
        with self._locked():
            data = self.load()
            yield data
            self._save(data)

    # ---- the commands ---------------------------------------------------------------------------
    def feeds(self) -> list[FeedState]:
        return list(self.load().feeds.values())

    def add(self, url: str) -> tuple[FeedState, bool]:
        """Register a feed; returns (state, True) when new, (existing state, False) when already followed."""
        url = check_feed_url(url)
        with self.transaction() as data:
            if url in data.feeds:
                return data.feeds[url], False
            state = FeedState(url=url, added_at=now_iso())
            data.feeds[url] = state
        return state, True

    def remove(self, url: str, forget_items: bool = False) -> tuple[FeedState, list[SeenItem]]:
        """Stop following a feed. Returns it and the items it saved (forgotten too when `forget_items`)."""
        key = normalize_url(url)
        with self.transaction() as data:
            state = data.feeds.pop(key, None)
            if state is None:
                followed = ", ".join(data.feeds) or "none"
                raise FeedError(f"not following {url!r} (followed feeds: {followed}); see `newsbot feeds list`")
            items = [i for i in data.items.values() if i.feed == key]
            if forget_items:
                for item in items:
                    del data.items[item.url]
        return state, items

    # ---- storage --------------------------------------------------------------------------------
    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        try:
            private_dir(self.path.parent)  # the data dir
            lock = self.path.with_name(self.path.name + ".lock")
            private_file(lock, create=True)
            private_file(self.path)  # an older newsbot's 0644 one
            handle = open(lock, "a+")
        except OSError as exc:
            raise FeedError(
                f"{self.path.parent}: cannot write the feed registry there ({exc.strerror or exc}); set NEWSBOT_DATA_DIR"
            ) from exc
        with handle:
            if fcntl is not None:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                if fcntl is not None:
                    fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

    def _save(self, data: RegistryData) -> None:
        write_atomically(self.path, json.dumps(data.to_json(), ensure_ascii=False, indent=1) + "\n")


def write_atomically(path: Path, text: str) -> None:
    """Write a file so that readers (and a crash) see the old or the new content, never a mix.

    The temporary file is hidden (a leading dot), so folder scans and the watcher ignore it.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    with contextlib.suppress(OSError):  # make the rename itself durable
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
