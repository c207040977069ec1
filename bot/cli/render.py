"""Render an Answer for the terminal (rich): the answer, then numbered passages with the span highlighted."""

from __future__ import annotations

import json
from typing import Any

from rich.console import Console, Group
from rich.markup import escape
from rich.panel import Panel
from rich.text import Text

from bot.answer import Answer, Citation


def quote_text(citation: Citation, style: str = "bold yellow") -> Text:
    """The quote, with the answer span (if any) styled."""
    text = Text(citation.quote)
    if citation.highlight:
        a, b = citation.highlight
        text.stylize(style, a - citation.start, b - citation.start)
    return text


def _header(n: int, citation: Citation) -> Text:
    line = Text(f"[{n}] ", style="bold cyan")
    line.append(citation.title or "(untitled)", style="bold")
    if citation.published:
        line.append(f" · {citation.published.isoformat()}", style="dim")
    line.append(f"\n    {citation.source}", style="dim")
    if citation.also_in:
        line.append(f"\n    also in: {also_in_text(citation)}", style="dim")
    return line


def also_in_text(citation: Citation) -> str:
    """ "feeds/ap/x.json (2024-05-02), https://..." : the other articles that carry the passage."""
    return ", ".join(f"{c.source} ({c.published.isoformat()})" if c.published else c.source for c in citation.also_in)


def _passages(citations: tuple[Citation, ...]) -> list[Any]:
    blocks: list[Any] = []
    for n, citation in enumerate(citations, start=1):
        blocks.append(_header(n, citation))
        body = Text("    “")
        body.append_text(quote_text(citation))
        body.append("”")
        blocks.append(body)
    return blocks


def render_answer(answer: Answer, console: Console) -> None:
    if answer.standalone_question and answer.standalone_question != answer.question:
        console.print(f"[dim]searched for: {escape(answer.standalone_question)}[/]")
    if answer.answered:
        console.print(Panel(Text(answer.text, style="bold"), title="answer", title_align="left", expand=False))
        console.print(Group(*_passages(answer.citations)))
    else:
        console.print(Panel(Text(answer.text), title="not found", title_align="left", border_style="red", expand=False))
        if answer.closest:
            console.print("[dim]Closest passages (they do not answer the question):[/]")
            console.print(Group(*_passages(answer.closest)))


def render_trace(answer: Answer, console: Console) -> None:
    """`--explain`: each stage's candidates with their scores."""
    trace = answer.trace
    retrieval = trace.get("retrieval", {})
    if "as_of" in retrieval:
        window = retrieval.get("window_days")
        console.print(
            f"[bold]time scope[/] asked on {retrieval['as_of']}; "
            + (f"articles of the last {window} days preferred" if window else "no time window")
            + ("; the newest preferred" if retrieval.get("latest") else "")
        )
    for stage in ("dense", "keyword", "fused"):
        console.print(f"[bold]{stage}[/]")
        for row in retrieval.get(stage, []):
            console.print("  " + escape(json.dumps(row, ensure_ascii=False)), soft_wrap=True)  # JSON is never wrapped
    console.print("[bold]sentences[/]")
    for row in trace.get("sentences", []):
        console.print("  " + escape(json.dumps(row, ensure_ascii=False)), soft_wrap=True)
    rest = {k: v for k, v in trace.items() if k not in ("retrieval", "sentences")}
    console.print("[bold]answer[/] " + escape(json.dumps(rest, ensure_ascii=False)), soft_wrap=True)
