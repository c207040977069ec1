"""Terminal output of `newsbot eval`: progress on stderr, then one table of every figure per system."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from bot.cli.console import RichSyncProgress, err
from bot.evaluation.runner import EvalProgress, EvalReport
from indexing import SyncProgress

# (summary key, label, format): the rows of the table, in order.
METRICS: tuple[tuple[str, str, str], ...] = (
    ("recall@1", "retrieval recall@1", "rate"),
    ("recall@5", "retrieval recall@5", "rate"),
    ("recall@10", "retrieval recall@10", "rate"),
    ("mrr", "retrieval MRR@10", "rate"),
    ("exact_match", "answer exact match", "rate"),
    ("f1", "answer F1", "rate"),
    ("containment", "answer contained", "rate"),
    ("correct", "right (answer contained, or refused)", "rate"),
    ("refusal_precision", "refusal precision", "rate"),
    ("refusal_recall", "refusal recall", "rate"),
    ("refused_answerable", "answerable questions refused", "rate"),
    ("refused_absent", "refused when no article holds the answer", "rate"),
    ("refusal_recall_at_p80", "refusal recall at precision >= 0.80", "rate"),
    ("right_when_sure", "right when confidence >= 0.9", "rate"),
    ("verbatim_citations", "verbatim citations", "rate"),
    ("latency_p50_ms", "latency p50 (ms)", "ms"),
    ("latency_p95_ms", "latency p95 (ms)", "ms"),
)
_COUNTS = {
    "recall@1": "retrieval_questions",
    "recall@5": "retrieval_questions",
    "recall@10": "retrieval_questions",
    "mrr": "retrieval_questions",
    "exact_match": "answer_questions",
    "f1": "answer_questions",
    "correct": "answer_questions",
    "refusal_recall": "unanswerable",
    "refused_absent": "answer_absent",
    "right_when_sure": "sure_answers",
    "latency_p50_ms": "questions",
}


def format_value(value: Any, kind: str) -> str:
    if value is None:
        return "—"
    return f"{value:.0f}" if kind == "ms" else f"{value:.3f}"


def metric_rows(report: EvalReport) -> list[tuple[str, list[str]]]:
    """(label with its question count, one formatted value per system) for every metric."""
    summaries = [s.summary for s in report.systems]
    rows = []
    for key, label, kind in METRICS:
        count_key = _COUNTS.get(key)
        if count_key and summaries:
            label = f"{label} (n={summaries[0][count_key]})"
        rows.append((label, [format_value(s.get(key), kind) for s in summaries]))
    return rows


def render_report(report: EvalReport, console: Console) -> None:
    table = Table(title=f"{escape(report.dataset)}: {report.articles} articles, answerer {escape(report.answerer)}")
    table.add_column("metric")
    for system in report.systems:
        table.add_column(f"{system.name}\n({system.chunks} chunks)", justify="right")
    for label, values in metric_rows(report):
        table.add_row(label, *values)
    console.print(table)
    for note in report.notes:
        console.print(f"[yellow]note:[/] {escape(note)}")
    for system in report.systems:
        wrong = [r.id for r in system.results if r.answer_scored and not r.correct]
        if wrong:
            shown = ", ".join(wrong[:10]) + (f" and {len(wrong) - 10} more" if len(wrong) > 10 else "")
            console.print(f"[dim]{system.name} missed {len(wrong)}: {escape(shown)}[/]")


class RichEvalProgress(EvalProgress):
    """Stages as dim lines, embedding and question bars, all on stderr."""

    def __init__(self, console: Console = err):
        self.console = console
        self.bars: Progress | None = None
        self.tasks: dict[str, TaskID] = {}

    def stage(self, message: str) -> None:
        self.console.print(f"[dim]{escape(message)}[/]")

    def sync_progress(self) -> SyncProgress | None:
        return RichSyncProgress(self.console)

    def _advance(self, key: str, label: str, done: int, total: int) -> None:
        if self.bars is None:
            self.bars = Progress(
                TextColumn("[bold]{task.description}[/]"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=self.console,
            )
            self.bars.start()
        if key not in self.tasks:
            self.tasks[key] = self.bars.add_task(label, total=total)
        self.bars.update(self.tasks[key], completed=done)
        if done >= total and all(t.finished for t in self.bars.tasks):
            self.bars.stop()
            self.bars, self.tasks = None, {}

    def baseline_chunks(self, done: int, total: int) -> None:
        self._advance("baseline-embed", "Embedding (baseline) chunks", done, total)

    def questions(self, system: str, done: int, total: int) -> None:
        self._advance(f"{system}-questions", f"Asking ({system})", done, total)
