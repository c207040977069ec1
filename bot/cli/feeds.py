"""`newsbot watch` and `newsbot feeds ...`: new articles from folders and RSS/Atom feeds."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Optional

import typer
from rich.markup import escape

from bot.cli.common import JsonOption, app, command, load_settings, open_index, user_errors
from bot.cli.console import RichSyncProgress, err, out, print_json, print_sync_report
from bot.cli.help import CONTEXT, Command
from indexing import NewsbotError

feeds_app = typer.Typer(
    help="Follow RSS/Atom feeds: new items are saved as article files in the feeds folder and indexed.",
    no_args_is_help=True,
    rich_markup_mode=None,
    context_settings=CONTEXT,
)
app.add_typer(feeds_app, name="feeds")


def make_watcher(news_index, paths: Optional[list[Path]] = None, **options):
    """The watcher `newsbot watch` runs (and `newsbot slack --watch` runs in its own process)."""
    from indexing import Watcher

    return Watcher(news_index, paths or None, load_settings().watch_settings(), **options)


def _feed_registry():
    from indexing import FeedRegistry

    return FeedRegistry(load_settings().feed_registry_path)


@command()
@user_errors
def watch(
    paths: Optional[list[Path]] = typer.Argument(
        None, metavar="PATH", help="Folders or files (default: the default sources plus the feeds folder)."
    ),
    feeds: bool = typer.Option(True, "--feeds/--no-feeds", help="Poll the followed feeds every NEWSBOT_FEED_POLL_MINUTES."),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per sync and per feed poll (JSON Lines) on stdout."),
) -> None:
    """Keep the index in step with folders and feeds: a full sync first, then one sync per burst of changes."""
    import signal
    import threading

    settings = load_settings()
    logging.getLogger("newsbot.watch").setLevel(logging.INFO)
    options = {}
    if as_json:
        options = dict(on_sync=lambda e: print_json(e.to_json()), on_poll=lambda r: print_json({"event": "feeds", **r.to_json()}))
    watcher = make_watcher(open_index(), paths, poll_feeds=feeds, **options)
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    watcher.start()
    polling = f"; feeds every {settings.watch.feed_poll_minutes:g} min" if watcher.poller is not None else ""
    err.print(f"[dim]watching {escape(', '.join(map(str, watcher.roots)))}{polling} (Ctrl-C stops)[/]")
    try:
        while watcher.running and not stopping.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        watcher.stop()
    if watcher.error is not None:
        raise NewsbotError(f"cannot watch the folders: {watcher.error} (on Linux, raise fs.inotify.max_user_watches)")


@feeds_app.command("add", cls=Command)
@user_errors
def feeds_add(url: str = typer.Argument(..., metavar="URL", help="The RSS or Atom feed's URL."), as_json: bool = JsonOption) -> None:
    """Follow a feed; `newsbot feeds poll` fetches it now, `newsbot watch` on a timer."""
    state, created = _feed_registry().add(url)
    if as_json:
        print_json({"url": state.url, "added": created})
    elif created:
        out.print(f"following {escape(state.url)}; run [bold]newsbot feeds poll[/] to fetch it now")
    else:
        out.print(f"already following {escape(state.url)}")


@feeds_app.command("list", cls=Command)
@user_errors
def feeds_list(as_json: bool = JsonOption) -> None:
    """The followed feeds, when each was last polled, and how many items it saved."""
    from dataclasses import asdict

    from rich.table import Table

    states = _feed_registry().feeds()
    if as_json:
        print_json([asdict(s) for s in states])
        return
    if not states:
        out.print("no feeds followed; add one with [bold]newsbot feeds add URL[/]")
        return
    table = Table("feed", "title", "last polled", "status", "items", box=None)
    for s in states:
        status = s.last_status or "never polled"
        if s.last_error:
            status += f": {s.last_error}"
        table.add_row(escape(s.url), escape(s.title), s.last_polled or "-", escape(status), str(s.items_saved))
    out.print(table)


@feeds_app.command("remove", cls=Command)
@user_errors
def feeds_remove(
    url: str = typer.Argument(..., metavar="URL", help="The feed's URL, as `newsbot feeds list` shows it."),
    purge: bool = typer.Option(False, "--purge", help="Also delete the articles it saved, and drop them from the index."),
    as_json: bool = JsonOption,
) -> None:
    """Stop following a feed (its saved articles stay indexed unless --purge)."""
    settings = load_settings()
    state, items = _feed_registry().remove(url, forget_items=purge)
    deleted = 0
    if purge:
        for item in items:
            try:
                (settings.feeds_folder / item.file).unlink()
                deleted += 1
            except FileNotFoundError:
                pass
        if deleted and settings.feeds_folder.exists():
            open_index().sync([settings.feeds_folder])
    if as_json:
        print_json({"url": state.url, "removed": True, "articles_deleted": deleted, "articles_kept": 0 if purge else len(items)})
    elif purge:
        out.print(f"stopped following {escape(state.url)}; deleted its {deleted} article(s) and dropped them from the index")
    else:
        out.print(f"stopped following {escape(state.url)}; its {len(items)} saved article(s) stay (use --purge to delete them)")


@feeds_app.command("poll", cls=Command)
@user_errors
def feeds_poll(
    urls: Optional[list[str]] = typer.Argument(None, metavar="URL", help="Only these feeds (default: all followed feeds)."),
    index_new: bool = typer.Option(True, "--index/--no-index", help="Index the saved items right away."),
    as_json: bool = JsonOption,
) -> None:
    """Fetch the followed feeds once: save new items as articles, then index them."""
    from indexing import FeedPoller

    settings = load_settings()
    registry = _feed_registry()
    if not registry.feeds():
        raise NewsbotError("no feeds followed; add one with `newsbot feeds add URL`")
    poller = FeedPoller(
        registry, settings.feeds_folder, timeout=settings.watch.feed_timeout, allow_private=settings.watch.feeds_allow_private
    )
    report = poller.poll(urls or None)
    if urls and not report.feeds:
        raise NewsbotError(f"not following {', '.join(urls)}; see `newsbot feeds list`")
    sync_report = None
    if index_new and report.saved:
        sync_report = open_index().sync([settings.feeds_folder], progress=None if as_json else RichSyncProgress())
    if as_json:
        print_json({**report.to_json(), "index": sync_report.to_json() if sync_report else None})
        return
    for feed in report.feeds:
        line = f"[bold]{escape(feed.url)}[/]: "
        if feed.status == "error":
            line += f"[red]failed[/]: {escape(feed.error)}"
        elif feed.status == "not modified":
            line += "not modified"
        else:
            line += f"[green]{len(feed.saved)} new[/] · {feed.duplicates} already saved"
        out.print(line)
        for problem in feed.failed:
            out.print(f"  [red]✗[/] {escape(problem.url)}: {escape(problem.reason)}")
        for problem in feed.warnings:
            out.print(f"  [yellow]![/] {escape(problem.url)}: {escape(problem.reason)}")
    out.print(escape(report.summary()))
    if sync_report is not None:
        print_sync_report(sync_report)
