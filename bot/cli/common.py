"""What every `newsbot` command shares: the typer app, settings, the error wrapper, opening the index and bot."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TypeVar

import typer
from rich.markup import escape

from bot.cli.console import RichSyncProgress, err
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
AsOfOption = typer.Option(
    None,
    "--as-of",
    formats=["%Y-%m-%d"],
    help="Answer as if today were this day (YYYY-MM-DD): 'this week' means the week before it, later articles are left out.",
)


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


def open_bot():
    from bot.chain import NewsBot

    settings = load_settings()
    return NewsBot(settings)


def ready_bot(quiet: bool):
    """The chain, with the seeds indexed first when the index is empty (fresh installs answer at once)."""
    bot = open_bot()
    report = bot.ensure_indexed(progress=None if quiet else RichSyncProgress())
    if report is not None and not quiet:
        sources = ", ".join(str(p) for p in bot.settings.index.default_sources)
        err.print(f"[dim]indexed {report.articles} article(s) from {escape(sources)} first[/]")
    if quiet:
        bot.answerer  # noqa: B018  (built now: a missing model fails here, before the first question)
    else:
        # The first run derives the reader's ONNX graph from the shipped weights (a few seconds, once).
        with err.status("loading the answerer"):
            bot.answerer  # noqa: B018
    return bot


def read_question(question: str) -> str:
    if question == "-":
        import sys

        question = sys.stdin.read()
    question = question.strip()
    if not question:
        from indexing.errors import NewsbotError

        raise NewsbotError("the question is empty: pass it as an argument, or '-' to read it from stdin")
    return question
