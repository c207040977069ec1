"""`newsbot`: the command line. Thin: every command calls into the index or the chain and formats.

Errors a user can fix print as one line on stderr with exit code 1; `--json` prints exactly one
JSON document on stdout.
"""

from __future__ import annotations

import functools
import json
import logging
import os
from pathlib import Path
from typing import Callable, Optional, TypeVar

import typer
from rich.markup import escape

from bot.console import RichSyncProgress, err, out, print_json, print_sync_report
from bot.settings import BotSettings
from indexing.errors import NewsbotError

app = typer.Typer(
    name="newsbot",
    help="Ask questions about news articles; answers cite the passages they rest on.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
F = TypeVar("F", bound=Callable)

JsonOption = typer.Option(False, "--json", help="Print one JSON object on stdout, for machines.")


def user_errors(func: F) -> F:
    """Turn a NewsbotError into one line on stderr and exit code 1, instead of a traceback."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except NewsbotError as exc:
            err.print(f"[bold red]error:[/] {escape(str(exc))}")
            raise typer.Exit(1) from None
        except KeyboardInterrupt:
            err.print("interrupted")
            raise typer.Exit(130) from None

    return wrapper  # type: ignore[return-value]


@functools.lru_cache(maxsize=1)
def load_settings() -> BotSettings:
    return BotSettings.from_env()


def open_index():
    from indexing.index import NewsIndex

    return NewsIndex(load_settings().index)


@app.command()
@user_errors
def index(
    paths: Optional[list[Path]] = typer.Argument(None, help="Files or folders (default: the bundled seeds plus NEWSBOT_CORPUS)."),
    as_json: bool = JsonOption,
) -> None:
    """Index articles incrementally: add new, replace changed, drop deleted, skip unchanged."""
    news_index = open_index()
    report = news_index.sync(paths or None, progress=None if as_json else RichSyncProgress())
    if as_json:
        print_json(report.to_json())
    else:
        print_sync_report(report)


@app.command()
@user_errors
def status(as_json: bool = JsonOption) -> None:
    """Where the index lives, what it holds, the model, and the last sync."""
    info = open_index().status()
    if as_json:
        print_json(info.to_json())
        return
    out.print(f"[bold]index[/]      {escape(info.location)} ({info.mode})")
    out.print(f"[bold]articles[/]   {info.articles}")
    out.print(f"[bold]chunks[/]     {info.chunks}")
    out.print(f"[bold]model[/]      {escape(info.model)}")
    out.print(f"[bold]last sync[/]  {info.last_sync}")


def open_bot():
    from bot.chain import NewsBot

    settings = load_settings()
    return NewsBot(settings)


def _ready_bot(quiet: bool):
    """The chain, with the seeds indexed first when the index is empty (fresh installs answer at once)."""
    bot = open_bot()
    report = bot.ensure_indexed(progress=None if quiet else RichSyncProgress())
    if report is not None and not quiet:
        err.print(f"[dim]indexed {report.articles} article(s) from {escape(str(bot.settings.index.seeds_dir))} first[/]")
    return bot


def _read_question(question: str) -> str:
    if question == "-":
        import sys

        question = sys.stdin.read()
    question = question.strip()
    if not question:
        from indexing.errors import NewsbotError

        raise NewsbotError("the question is empty: pass it as an argument, or '-' to read it from stdin")
    return question


@app.command()
@user_errors
def ask(
    question: str = typer.Argument(..., help="The question ('-' reads it from stdin)."),
    as_json: bool = JsonOption,
    explain: bool = typer.Option(False, "--explain", help="Print the retrieval trace: each stage's candidates and scores."),
) -> None:
    """Answer one question from the indexed articles, citing the passages."""
    from bot.render import render_answer, render_trace

    bot = _ready_bot(quiet=as_json)
    answer = bot.ask(_read_question(question), explain=explain)
    if as_json:
        payload = answer.to_json()
        if explain:
            payload["trace"] = answer.trace
        print_json(payload)
        return
    render_answer(answer, out)
    if explain:
        render_trace(answer, out)


@app.command()
@user_errors
def chat(
    as_json: bool = typer.Option(False, "--json", help="One JSON object per answer (JSON Lines)."),
) -> None:
    """An interactive session: follow-up questions are understood from the earlier turns."""
    from bot.answer import Turn
    from bot.render import render_answer

    bot = _ready_bot(quiet=as_json)
    history: list[Turn] = []
    if not as_json:
        err.print("[dim]Ask about the news. Empty line or Ctrl-D to quit; /new starts over.[/]")
    while True:
        try:
            question = input("» " if not as_json else "").strip()
        except EOFError:
            break
        if not question:
            break
        if question == "/new":
            history.clear()
            continue
        answer = bot.ask(question, history)
        history.append(Turn(question, answer.text if answer.answered else ""))
        if as_json:
            print_json(answer.to_json())
        else:
            render_answer(answer, out)


# ---- new articles: watch folders and follow feeds ------------------------------------------------
feeds_app = typer.Typer(
    help="Follow RSS/Atom feeds: new items are saved as article files in the feeds folder and indexed.",
    no_args_is_help=True,
)
app.add_typer(feeds_app, name="feeds")


def make_watcher(news_index, paths: Optional[list[Path]] = None, **options):
    """The watcher `newsbot watch` runs (and `newsbot slack --watch` runs in its own process)."""
    from indexing.watch import Watcher

    return Watcher(news_index, paths or None, load_settings().watch_settings(), **options)


def _feed_registry():
    from indexing.feed_registry import FeedRegistry

    return FeedRegistry(load_settings().feed_registry_path)


@app.command()
@user_errors
def watch(
    paths: Optional[list[Path]] = typer.Argument(None, help="Folders or files (default: the default sources plus the feeds folder)."),
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
    polling = f"; feeds every {settings.feed_poll_minutes:g} min" if watcher.poller is not None else ""
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


@feeds_app.command("add")
@user_errors
def feeds_add(url: str = typer.Argument(..., help="The RSS or Atom feed's URL."), as_json: bool = JsonOption) -> None:
    """Follow a feed; `newsbot feeds poll` fetches it now, `newsbot watch` on a timer."""
    state, created = _feed_registry().add(url)
    if as_json:
        print_json({"url": state.url, "added": created})
    elif created:
        out.print(f"following {escape(state.url)}; run [bold]newsbot feeds poll[/] to fetch it now")
    else:
        out.print(f"already following {escape(state.url)}")


@feeds_app.command("list")
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


@feeds_app.command("remove")
@user_errors
def feeds_remove(
    url: str = typer.Argument(..., help="The feed's URL, as `newsbot feeds list` shows it."),
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


@feeds_app.command("poll")
@user_errors
def feeds_poll(
    urls: Optional[list[str]] = typer.Argument(None, help="Only these feeds (default: all followed feeds)."),
    index_new: bool = typer.Option(True, "--index/--no-index", help="Index the saved items right away."),
    as_json: bool = JsonOption,
) -> None:
    """Fetch the followed feeds once: save new items as articles, then index them."""
    from indexing.feeds import FeedPoller

    settings = load_settings()
    registry = _feed_registry()
    if not registry.feeds():
        raise NewsbotError("no feeds followed; add one with `newsbot feeds add URL`")
    poller = FeedPoller(registry, settings.feeds_folder, timeout=settings.feed_timeout)
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


@app.command("eval")
@user_errors
def eval_command(
    dataset: str = typer.Argument(
        ..., help="realtimeqa_dev, squad2_dev or seed_qa.jsonl (a path, or a name in NEWSBOT_EVAL_DIR), or your questions .jsonl."
    ),
    corpus: Optional[Path] = typer.Option(None, "--corpus", help="Articles to index (default: the set's own; for a .jsonl, seeds/)."),
    as_json: bool = JsonOption,
    out_file: Optional[Path] = typer.Option(None, "--out", help="Also write the full report (every question, the misses) as JSON."),
    baseline: bool = typer.Option(False, "--baseline", help="Run LangChain's textbook RAG on the same corpus, side by side."),
    limit: Optional[int] = typer.Option(None, "--limit", min=1, help="Ask only the first N questions."),
) -> None:
    """Score answers and retrieval on a question set, in a temporary index (never yours)."""
    from bot.evaluation.datasets import EvalDataMissing, load_dataset, resolve_dataset
    from bot.evaluation.render import RichEvalProgress, render_report
    from bot.evaluation.runner import run_eval

    settings = load_settings()
    try:
        path = resolve_dataset(dataset, settings.eval_dir)
    except EvalDataMissing as exc:
        err.print(f"[yellow]skipped:[/] {escape(str(exc))}")
        if as_json:
            print_json({"skipped": str(exc)})
        return
    data = load_dataset(path, corpus, default_corpus=settings.index.seeds_dir)
    report = run_eval(data, settings, baseline=baseline, limit=limit, progress=RichEvalProgress())
    if out_file is not None:
        try:
            out_file.write_text(json.dumps(report.to_json(), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        except OSError as exc:
            raise NewsbotError(f"{out_file}: cannot write the report ({exc.strerror or exc})") from exc
    if as_json:
        print_json(report.to_json())
    else:
        render_report(report, out)


@app.command()
@user_errors
def slack(
    host: str = typer.Option("127.0.0.1", "--host", help="HTTP mode: the address to listen on."),
    port: int = typer.Option(3000, "--port", help="HTTP mode: the port (Events API endpoint /slack/events)."),
    watch: bool = typer.Option(False, "--watch", help="Also keep the index in step with its folders and feeds, in this process."),
) -> None:
    """Run the Slack app: Socket Mode when SLACK_APP_TOKEN is set, else HTTP on --host/--port."""
    from bot.slack.client import connect
    from bot.slack.serve import serve

    logging.getLogger("newsbot").setLevel(logging.INFO)
    connection = connect(load_settings())  # settings and auth.test first: fail in a second, before the model loads
    bot = _ready_bot(quiet=False)
    watcher = make_watcher(bot.index).start() if watch else None
    try:
        serve(bot, connection, host, port, announce=lambda line: err.print(escape(line)))
    finally:
        if watcher is not None:
            watcher.stop()


def main() -> None:
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("bm25s").setLevel(logging.WARNING)
    app()


if __name__ == "__main__":
    main()
