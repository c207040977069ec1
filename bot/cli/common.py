"""What every `newsbot` command shares: the typer app, settings, the error wrapper, opening the index and bot."""

from __future__ import annotations

import calendar
import functools
from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING, Optional, TypeVar

import typer
from rich.markup import escape

from bot.cli.console import RichSyncProgress, err, out
from bot.cli.help import CONTEXT, Command
from bot.settings import BotSettings
from indexing import NewsbotError

if TYPE_CHECKING:  # imported when used: a command that needs neither starts without chromadb or the models
    from bot.chain import NewsBot
    from indexing import NewsIndex

app = typer.Typer(
    name="newsbot",
    help="Ask questions about news articles; answers cite the passages they rest on.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain help, the usual shape (bot.cli.help)
    context_settings=CONTEXT,
)
F = TypeVar("F", bound=Callable)
command = functools.partial(app.command, cls=Command)


def _print_version(wanted: bool) -> None:
    if wanted:
        from bot.cli.version import version_lines

        out.print("\n".join(version_lines()), markup=False)
        raise typer.Exit()


@app.callback()
def _options(
    version: bool = typer.Option(
        False, "--version", is_eager=True, callback=_print_version, help="Print the version and the digests of the shipped models."
    ),
) -> None:
    """Ask questions about news articles; answers cite the passages they rest on."""


JsonOption = typer.Option(False, "--json", help="Print one JSON object on stdout, for machines.")
AsOfOption = typer.Option(
    None,
    "--as-of",
    metavar="DATE",
    help="Answer as if today were DATE (YYYY-MM-DD): 'this week' means the week before it; later articles are left out.",
)


SourceOption = typer.Option(
    None, "--source", metavar="TEXT", help="Answer only from this source: a domain (reuters.com), a followed feed's name, or a folder."
)
SinceOption = typer.Option(None, "--since", metavar="DATE", help="Answer only from articles published on or after DATE (YYYY-MM-DD).")
UntilOption = typer.Option(None, "--until", metavar="DATE", help="Answer only from articles published on or before DATE (YYYY-MM-DD).")


def parse_filters(source: Optional[str], since: Optional[str], until: Optional[str]):
    """--source/--since/--until as retrieval filters (None when none is given); bad dates fail in one line."""
    from bot.retrieval.filters import Filters

    first, last = parse_day(since, "--since"), parse_day(until, "--until")
    if first and last and first > last:
        raise NewsbotError(f"--since {first.isoformat()} is after --until {last.isoformat()}: no day is in between")
    if source is not None and not source.strip():
        raise NewsbotError("--source is empty: give a domain (reuters.com), a feed's name or a folder")
    filters = Filters(source.strip() if source else None, first, last)
    return filters or None


def parse_as_of(value: Optional[str]) -> date | None:
    """The --as-of day, or a one-line error that says whether the text is no date or a day that does not exist."""
    return parse_day(value, "--as-of")


def parse_day(value: Optional[str], option: str) -> date | None:
    """A YYYY-MM-DD option's day, or a one-line error naming the option: no date, or a day that does not exist."""
    if value is None:
        return None
    try:
        year, month, day = (int(part) for part in value.strip().split("-"))
    except ValueError:
        raise NewsbotError(f"{option} {value!r} is not a date: write it as YYYY-MM-DD, e.g. 2022-06-16") from None
    try:
        return date(year, month, day)
    except ValueError:
        if not 1 <= month <= 12:
            detail = f"there is no month {month}"
        elif not 1 <= year <= 9999:
            detail = f"the year {year} is out of range"
        else:
            detail = f"{calendar.month_name[month]} {year} has {calendar.monthrange(year, month)[1]} days"
        raise NewsbotError(f"{option} {value}: that date does not exist ({detail})") from None


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


def open_index() -> NewsIndex:
    from indexing import NewsIndex

    return NewsIndex(load_settings().index)


def open_bot() -> NewsBot:
    from bot.chain import NewsBot

    return NewsBot(load_settings())


def ready_bot(quiet: bool) -> NewsBot:
    """The chain, with the seeds indexed first when the index is empty (fresh installs answer at once)."""
    bot = open_bot()
    report = bot.ensure_indexed(progress=None if quiet else RichSyncProgress())
    if report is not None and not quiet:
        sources = ", ".join(str(p) for p in bot.settings.index.default_sources)
        err.print(f"[dim]indexed {report.articles} article(s) from {escape(sources)} first[/]")
    if quiet:
        bot.warm_up()
    else:
        # The first run derives the reader's ONNX graph from the shipped weights (a few seconds, once).
        with err.status("loading the answerer"):
            bot.warm_up()
    return bot


def read_question(question: str) -> str:
    if question == "-":
        import sys

        question = sys.stdin.read()
    question = question.strip()
    if not question:
        from indexing import NewsbotError

        raise NewsbotError("the question is empty: pass it as an argument, or '-' to read it from stdin")
    return question
