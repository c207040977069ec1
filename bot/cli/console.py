"""Terminal output shared by the CLI commands: rich consoles, the indexing progress bar, errors."""

from __future__ import annotations

import json
import sys
import time
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from indexing.indexer import SyncProgress, SyncReport

out = Console(highlight=False, soft_wrap=False)
# soft_wrap: an error is one line however long (scripts and tests read it line by line), never re-wrapped at 80 columns.
err = Console(stderr=True, highlight=False, soft_wrap=True)


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


def print_sync_report(report: SyncReport, console: Console = out) -> None:
    console.print(
        f"[green]added {report.added}[/] · [yellow]updated {report.updated}[/] · [red]removed {report.removed}[/] · "
        f"unchanged {report.unchanged} · [bold]{report.articles}[/] articles, {report.chunks} chunks "
        f"in the index ({report.seconds:.1f}s)"
    )
    if report.repaired:
        console.print(f"repaired {report.repaired} article(s) left half-written by an earlier interrupted run")
    if report.failed:
        console.print(f"[bold red]{len(report.failed)} file(s) or record(s) could not be indexed:[/]")
        for kind, count, shown in report.failures_by_kind():
            console.print(f"  [red]{count} × {escape(kind)}[/]")
            for error in shown:
                console.print(f"    [red]✗[/] {escape(error.path)}: {escape(error.reason)}", soft_wrap=True)  # one line each
            if count > len(shown):
                console.print(f"    … and {count - len(shown)} more (`newsbot index --json` lists them all)")
