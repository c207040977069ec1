"""Keep the index following its folders (watchfiles) and its feeds (a timer), in a background thread.

    watcher = Watcher(news_index, paths=None, settings=WatchSettings(...)).start()
    ...                      # queries keep working; new articles become answerable as they land
    watcher.stop()

What it does:
- Starts watching first, then runs a full sync of every watched path, so files that arrived while
  nothing watched (or a sync a crash cut short) are caught up before the first event.
- Gathers file events until the folders are quiet for `quiet_ms` (at most `debounce_ms` for a
  running burst, plus however long the previous sync took): a burst of 500 files is one sync.
- Created or modified files are synced alone (only they are read and embedded). Any deletion or
  move makes it a full sync of the watched paths: the indexer's own rule for what to remove, so the
  index always equals a clean index of the files.
- Polls the followed feeds every `feed_poll_minutes` into the feeds folder, whose new files then
  sync like any other (the feeds folder is watched by default).
- One log line per sync (added / updated / removed / failed, seconds), one per feed poll.

Queries made while a sync runs never fail and never see half an article: the store shows a chunk
only when its sha256 is its article's committed one, and commits are single registry writes.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from indexing.errors import ConfigError, NewsbotError
from indexing.indexer import SyncReport
from indexing.settings import WatchSettings
from indexing.sources.formats import supported_suffixes
from indexing.sources.paths import is_hidden, is_under, root_of

if TYPE_CHECKING:
    from indexing.arrivals.feeds import FeedPoller, PollReport
    from indexing.index import NewsIndex

log = logging.getLogger("newsbot.watch")

_RETRY_SECONDS = (2.0, 5.0, 15.0, 60.0)  # after a failed sync (Chroma server down, disk full ...)


def feed_poller(settings: WatchSettings) -> FeedPoller | None:
    if settings.feeds_dir is None or settings.registry_path is None:
        return None
    from indexing.arrivals.feed_registry import FeedRegistry
    from indexing.arrivals.feeds import FeedPoller

    return FeedPoller(
        FeedRegistry(settings.registry_path), settings.feeds_dir, settings.feed_timeout, allow_private=settings.feeds_allow_private
    )


@dataclass(frozen=True)
class SyncEvent:
    """One sync the watcher ran: why, over which paths, and its report (or the error it hit)."""

    reason: str  # "start" | "changes" | "deletions" | "feeds" | "retry"
    paths: tuple[Path, ...]
    report: SyncReport | None
    error: str = ""
    seconds: float = 0.0  # wall time, including the keyword index refresh after the sync
    finished_at: float = field(default_factory=time.monotonic)

    def summary(self) -> str:
        if self.report is None:
            return f"sync ({self.reason}, {len(self.paths)} path(s)) failed: {self.error}"
        r = self.report
        return (
            f"sync ({self.reason}, {len(self.paths)} path(s)): added {r.added} · updated {r.updated} · "
            f"removed {r.removed} · failed {len(r.failed)} · {self.seconds:.2f}s"
        )

    def to_json(self) -> dict:
        payload = {"event": "sync", "reason": self.reason, "paths": len(self.paths), "error": self.error}
        if self.report is not None:
            payload.update(self.report.to_json())
        payload["seconds"] = round(self.seconds, 3)
        return payload


def default_watch_paths(index: NewsIndex, settings: WatchSettings) -> list[Path]:
    """The sources `newsbot index` syncs by default (those that exist), plus the feeds folder."""
    paths = [p for p in index.settings.default_sources if Path(p).exists()]
    if settings.feeds_dir is not None:
        paths.append(settings.feeds_dir)
    return paths


class Watcher:
    """Daemon threads (file events, syncs, feed polls); `start()` returns at once, `stop()` joins them."""

    def __init__(
        self,
        index: NewsIndex,
        paths: Sequence[Path] | None = None,
        settings: WatchSettings | None = None,
        *,
        on_sync: Callable[[SyncEvent], None] | None = None,
        on_poll: Callable[[PollReport], None] | None = None,
        poll_feeds: bool = True,
    ):
        self.index = index
        self.settings = settings or WatchSettings()
        if self.settings.feeds_dir is not None:
            Path(self.settings.feeds_dir).mkdir(parents=True, exist_ok=True)
        chosen = list(paths) if paths else default_watch_paths(index, self.settings)
        missing = [str(p) for p in chosen if not Path(p).exists()]
        if missing:
            raise ConfigError(f"cannot watch {', '.join(missing)}: no such file or folder")
        if not chosen:
            raise ConfigError("nothing to watch: give folders to `newsbot watch` or set NEWSBOT_CORPUS")
        self.roots: tuple[Path, ...] = tuple(dict.fromkeys(Path(p).resolve() for p in chosen))
        self.poller = feed_poller(self.settings) if poll_feeds and self.settings.feed_poll_minutes > 0 else None
        self.on_sync = on_sync
        self.on_poll = on_poll
        self.history: list[SyncEvent] = []  # every sync so far, oldest first
        self._changes: queue.Queue[set[tuple[int, str]] | None] = queue.Queue()
        self._requested: set[Path] = set()  # paths asked for by the feed poller or `request_sync`
        self._stop = threading.Event()
        self._watching = threading.Event()
        self._ready = threading.Event()
        self._cond = threading.Condition()
        self._threads: list[threading.Thread] = []
        self.error: BaseException | None = None  # set when the watcher died (watchfiles could not start)

    # ---- the public surface ---------------------------------------------------------------------
    def start(self) -> Watcher:
        if self._threads:
            raise RuntimeError("this watcher was already started")
        self._threads = [
            threading.Thread(target=self._watch_files, name="newsbot-watch-events", daemon=True),
            threading.Thread(target=self._run, name="newsbot-watch-sync", daemon=True),
        ]
        if self.poller is not None:
            self._threads.append(threading.Thread(target=self._poll_feeds, name="newsbot-watch-feeds", daemon=True))
        for thread in self._threads:
            thread.start()
        return self

    def stop(self, timeout: float = 60.0) -> None:
        """Stop watching; a sync in progress finishes first (it is crash-safe, but finishing is cheaper)."""
        self._stop.set()
        self._changes.put(None)
        with self._cond:
            self._cond.notify_all()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    def wait_ready(self, timeout: float | None = None) -> bool:
        """True once watching has begun and the first full sync is done."""
        return self._ready.wait(timeout)

    @property
    def running(self) -> bool:
        return any(t.is_alive() for t in self._threads) and not self._stop.is_set()

    def request_sync(self, paths: Iterable[Path]) -> None:
        """Sync these files soon, as if they had changed (for writers outside the watched folders)."""
        with self._cond:
            self._requested.update(Path(p).resolve() for p in paths)
        self._changes.put(set())

    def wait_for(self, predicate: Callable[[list[SyncEvent]], bool], timeout: float) -> bool:
        """Block until `predicate(history)` holds (checked after each sync) or the timeout passes."""
        with self._cond:
            return self._cond.wait_for(lambda: predicate(self.history) or self._stop.is_set(), timeout) and predicate(self.history)

    def __enter__(self) -> Watcher:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---- thread 1: file events --------------------------------------------------------------------
    def _watch_files(self) -> None:
        import watchfiles

        try:
            for changes in watchfiles.watch(
                *self.roots,
                watch_filter=self._wanted,
                debounce=max(self.settings.debounce_ms, 1),
                step=min(50, max(self.settings.quiet_ms, 1)),
                stop_event=self._stop,
                rust_timeout=250,
                yield_on_timeout=True,
                raise_interrupt=False,
            ):
                self._watching.set()  # the first yield, even an empty one, means the OS watches are in place
                if changes:
                    self._changes.put({(int(change), path) for change, path in changes})
        except Exception as exc:  # e.g. inotify watch limit reached
            self.error = exc
            log.error("cannot watch %s: %s", ", ".join(map(str, self.roots)), exc)
        finally:
            self._watching.set()
            self._changes.put(None)

    def _wanted(self, change: object, path: str) -> bool:
        """Article files and folders, not hidden ones nor editors' temporary files (the indexer's own rule)."""
        p = Path(path)
        if is_hidden(p, root_of(p, self.roots)):
            return False
        if p.suffix.lower() in supported_suffixes():
            return True
        return p.is_dir() or not p.exists()  # a folder, or something deleted (maybe a folder)

    # ---- thread 2: syncs --------------------------------------------------------------------------
    def _run(self) -> None:
        self._watching.wait()
        retry_at, retry_paths, failures = None, set(), 0
        if self.error is None and not self._stop.is_set():
            if self._sync("start", self.roots).report is None:
                retry_at, retry_paths, failures = time.monotonic() + _RETRY_SECONDS[0], set(self.roots), 1
        self._ready.set()
        with self._cond:
            self._cond.notify_all()
        while not self._stop.is_set():
            batch = self._gather(None if retry_at is None else max(0.0, retry_at - time.monotonic()))
            if batch is None:
                break
            changed, deleted = batch
            with self._cond:
                requested, self._requested = self._requested, set()
            if changed or deleted:
                reason = "deletions" if deleted else "changes"
            elif requested:
                reason = "feeds"
            elif retry_paths:
                reason = "retry"
            else:
                continue
            changed |= requested | retry_paths
            full = bool(deleted) or any(p in self.roots or not p.exists() for p in changed)
            targets = self.roots if full else _outermost(changed)
            event = self._sync(reason, targets)
            if event.report is None:
                failures += 1
                retry_paths = set(targets)
                retry_at = time.monotonic() + _RETRY_SECONDS[min(failures, len(_RETRY_SECONDS)) - 1]
            else:
                retry_at, retry_paths, failures = None, set(), 0

    def _gather(self, timeout: float | None) -> tuple[set[Path], set[Path]] | None:
        """Wait for changes, then keep gathering until `quiet_ms` pass without any. None: stopping."""
        changed: set[Path] = set()
        deleted: set[Path] = set()
        try:
            first = self._changes.get(timeout=timeout)
        except queue.Empty:
            return changed, deleted  # time to retry a failed sync
        if first is None:
            return None
        batches = [first]
        quiet = self.settings.quiet_ms / 1000
        deadline = time.monotonic() + max(self.settings.debounce_ms / 1000, quiet)
        while True:
            try:
                more = self._changes.get(timeout=min(quiet, max(0.0, deadline - time.monotonic())))
            except queue.Empty:
                break
            if more is None:
                return None
            batches.append(more)
        from watchfiles import Change

        for batch in batches:
            for change, path in batch:
                (deleted if change == Change.deleted else changed).add(Path(path))
        # A path deleted and then created again is a change; one created and then deleted is a deletion.
        return {p for p in changed if p.exists()}, deleted | {p for p in changed if not p.exists()}

    def _sync(self, reason: str, paths: Sequence[Path]) -> SyncEvent:
        began = time.perf_counter()
        try:
            report = self.index.sync(list(paths))
            event = SyncEvent(reason, tuple(paths), report, seconds=time.perf_counter() - began)
            log.info(event.summary())
            for kind, count, shown in report.failures_by_kind():
                for failure in shown:
                    log.warning("  could not index %s: %s", failure.place, failure.reason)
                if count > len(shown):
                    log.warning("  ... and %d more: %s", count - len(shown), kind)
        except Exception as exc:  # keep watching: the next change (or the retry) syncs again
            event = SyncEvent(reason, tuple(paths), None, f"{exc.__class__.__name__}: {exc}", time.perf_counter() - began)
            log.error(event.summary())
        with self._cond:
            self.history.append(event)
            self._cond.notify_all()
        if self.on_sync is not None:
            try:
                self.on_sync(event)
            except Exception:
                log.exception("the on_sync callback failed")
        return event

    # ---- thread 3: feeds --------------------------------------------------------------------------
    def _poll_feeds(self) -> None:
        assert self.poller is not None
        self._ready.wait()
        interval = self.settings.feed_poll_minutes * 60
        while not self._stop.is_set():
            try:
                if self.poller.registry.load().feeds:
                    report = self.poller.poll()
                    log.info(report.summary())
                    for feed in report.feeds:
                        if feed.error:
                            log.warning("  feed %s: %s", feed.url, feed.error)
                        for problem in feed.failed:
                            log.warning("  feed item %s skipped: %s", problem.url, problem.reason)
                    self._after_poll(report)
            except NewsbotError as exc:  # e.g. an unreadable registry: say it in one line, try again later
                log.error("feed poll failed: %s", exc)
            except Exception:
                log.exception("feed poll failed")
            self._stop.wait(interval)

    def _after_poll(self, report: PollReport) -> None:
        unwatched = [p for p in report.saved if not is_under(p, self.roots)]
        if unwatched:
            self.request_sync(unwatched)
        if self.on_poll is not None:
            try:
                self.on_poll(report)
            except Exception:
                log.exception("the on_poll callback failed")


def _outermost(paths: Iterable[Path]) -> tuple[Path, ...]:
    """The paths minus those inside another one (a new folder and its files: read the folder once)."""
    ordered = sorted(set(paths), key=lambda p: len(p.parts))
    kept: list[Path] = []
    for path in ordered:
        if not is_under(path, kept):
            kept.append(path)
    return tuple(sorted(kept))
