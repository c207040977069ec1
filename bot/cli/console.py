"""Terminal output shared by the CLI commands: rich consoles, the indexing progress bar, errors."""

from __future__ import annotations

import json
import sys
import time
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from indexing import SyncProgress, SyncReport


def _console(stderr: bool) -> Console:
    """A terminal gets lines fitted to its width; a pipe or a file gets every line whole (no 80-column wrap):
    a script reads a quote, an id or a report line as one line."""
    stream = sys.stderr if stderr else sys.stdout
    if stream.isatty():
        # Errors stay one line even on a terminal (the terminal folds it; copying it gives one line).
        return Console(stderr=stderr, highlight=False, soft_wrap=stderr)
    # Wide enough that nothing wraps, and panels still fit their text (they are drawn expand=False).
    return Console(stderr=stderr, highlight=False, soft_wrap=True, width=100_000)


out = _console(stderr=False)
err = _console(stderr=True)


def print_json(payload: Any) -> None:
    """Exactly one JSON document on stdout, nothing else (progress goes to stderr)."""
    sys.stdout.write(json.dumps(payload, ensure_ascii=False, default=str) + "\n")
    sys.stdout.flush()


class RichSyncProgress(SyncProgress):
    """Articles embedded (the bar), chunks and their rate, on stderr; silent when nothing needs embedding."""

    def __init__(self, console: Console = err):
        self.console = console
        self.progress: Progress | None = None

    def start(self, articles: int) -> None:
        if not articles:
            return
        self.progress = Progress(
            TextColumn("[bold]Embedding[/]"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("articles · {task.fields[chunks]} chunks · {task.fields[rate]}"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=self.console,
            transient=False,
        )
        self.progress.start()
        self.task = self.progress.add_task("embed", total=articles, chunks=0, rate="")
        self._chunks = 0
        self._began = time.perf_counter()

    def advance(self, articles: int, chunks: int) -> None:
        if self.progress is None:
            return
        self._chunks += chunks
        seconds = time.perf_counter() - self._began
        rate = f"{self._chunks / seconds:.0f} chunks/s" if seconds > 0 else ""
        self.progress.update(self.task, advance=articles, chunks=self._chunks, rate=rate)

    def finish(self) -> None:
        if self.progress is not None:
            self.progress.stop()


def print_sync_report(report: SyncReport, console: Console = out, skip_kinds: tuple[str, ...] = ()) -> None:
    """The sync in one line, then the failures by kind (less `skip_kinds`: what the caller says on its own)."""
    console.print(
        f"[green]added {report.added}[/] · [yellow]updated {report.updated}[/] · [red]removed {report.removed}[/] · "
        f"unchanged {report.unchanged} · [bold]{report.articles}[/] articles, {report.chunks} chunks "
        f"in the index ({report.seconds:.1f}s)"
    )
    if report.repaired:
        console.print(f"repaired {report.repaired} article(s) left half-written by an earlier interrupted run")
    groups = [group for group in report.failures_by_kind() if group[0] not in skip_kinds]
    if groups:
        console.print(f"[bold red]{sum(count for _, count, _ in groups)} file(s) or record(s) could not be indexed:[/]")
        for kind, count, shown in groups:
            console.print(f"  [red]{count} × {escape(kind)}[/]")
            for error in shown:
                console.print(f"    [red]✗[/] {escape(error.place)}: {escape(error.reason)}", soft_wrap=True)  # one line each
            if count > len(shown):
                console.print(f"    … and {count - len(shown)} more (`newsbot index --json` lists them all)")
