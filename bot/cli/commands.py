"""The core commands: index, status, ask, chat, eval, slack. Thin: each calls into the index or the chain and formats.

Errors a user can fix print as one line on stderr with exit code 1; `--json` prints exactly one
JSON document on stdout.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Optional

import typer
from rich.markup import escape

from bot.cli.common import (
    AsOfOption,
    JsonOption,
    SinceOption,
    SourceOption,
    UntilOption,
    command,
    load_settings,
    open_index,
    parse_as_of,
    parse_filters,
    read_question,
    ready_bot,
    user_errors,
)
from bot.cli.console import RichSyncProgress, err, out, print_json, print_sync_report
from indexing import ConfigError, NewsbotError, StoreUnavailable


@command()
@user_errors
def index(
    paths: Optional[list[Path]] = typer.Argument(
        None, metavar="PATH", help="Files or folders (default: NEWSBOT_CORPUS, or the bundled demo seeds when it is unset)."
    ),
    as_json: bool = JsonOption,
    wait: Optional[float] = typer.Option(
        None, "--wait", metavar="SECONDS", min=0, help="Give up after SECONDS when another writer holds the index (default: wait for it)."
    ),
) -> None:
    """Index articles incrementally: add new, replace changed, drop deleted, skip unchanged."""
    news_index = open_index()
    report = news_index.sync(
        paths or None, progress=None if as_json else RichSyncProgress(), wait=wait, on_wait=lambda line: err.print(escape(line))
    )
    if as_json:
        print_json(report.to_json())
    else:
        print_sync_report(report, skip_kinds=("missing",))  # a missing path is said once, by the error below
    if report.missing:  # a mistyped path is the user's to fix: the run says so in its exit code too
        raise NewsbotError(f"{', '.join(report.missing)}: no such file or folder (nothing under it was indexed or removed)")


@command()
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
    out.print(f"[bold]sources[/]    {'' if info.sources else 'none'}")
    for path, articles in info.sources:
        out.print(f"  {escape(path)}  [dim]{articles} article(s)[/]")


@command()
@user_errors
def ask(
    question: str = typer.Argument(..., metavar="QUESTION", help="The question ('-' reads it from stdin)."),
    as_json: bool = JsonOption,
    explain: bool = typer.Option(False, "--explain", help="Print the retrieval trace: each stage's candidates and scores."),
    as_of: Optional[str] = AsOfOption,
    source: Optional[str] = SourceOption,
    since: Optional[str] = SinceOption,
    until: Optional[str] = UntilOption,
) -> None:
    """Answer one question from the indexed articles, citing the passages."""
    from bot.cli.render import render_answer, render_trace

    day = parse_as_of(as_of)  # a bad date fails before the models load
    filters = parse_filters(source, since, until)
    text = read_question(question)
    bot = ready_bot(quiet=as_json)
    answer = bot.ask(text, explain=explain, as_of=day, filters=filters)
    if as_json:
        payload = answer.to_json()
        if explain:
            payload["trace"] = answer.trace
        print_json(payload)
        return
    render_answer(answer, out)
    if explain:
        render_trace(answer, out)


@command()
@user_errors
def chat(
    as_json: bool = typer.Option(False, "--json", help="One JSON object per answer (JSON Lines)."),
    as_of: Optional[str] = AsOfOption,
    source: Optional[str] = SourceOption,
    since: Optional[str] = SinceOption,
    until: Optional[str] = UntilOption,
) -> None:
    """An interactive session: follow-up questions are understood from the earlier turns."""
    from bot.answer import Turn
    from bot.cli.render import render_answer

    day = parse_as_of(as_of)
    filters = parse_filters(source, since, until)
    bot = ready_bot(quiet=as_json)
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
            # On stderr: with --json, stdout holds answers only.
            err.print("[dim]New conversation: the next question does not follow on from earlier ones.[/]")
            continue
        try:
            answer = bot.ask(question, history, as_of=day, filters=filters)
        except StoreUnavailable as exc:  # a store that went away mid-session: say so, keep the session
            if as_json:
                print_json({"question": question, "answered": False, "error": str(exc)})
            else:
                err.print(f"[bold red]the index is unreachable:[/] {escape(str(exc))}")
            continue
        history.append(Turn(question, answer.text if answer.answered else ""))
        if as_json:
            print_json(answer.to_json())
        else:
            render_answer(answer, out)


@command("eval")
@user_errors
def eval_command(
    dataset: str = typer.Argument(
        ...,
        metavar="DATASET",
        help="realtimeqa_dev, squad2_dev or seed_qa.jsonl (a path, or a name in NEWSBOT_EVAL_DIR), or your questions .jsonl.",
    ),
    corpus: Optional[Path] = typer.Option(
        None, "--corpus", metavar="PATH", help="Articles to index (default: the set's own; for a .jsonl, seeds/)."
    ),
    as_json: bool = JsonOption,
    out_file: Optional[Path] = typer.Option(
        None, "--out", metavar="FILE", help="Also write the full report (every question, the misses) as JSON."
    ),
    baseline: bool = typer.Option(False, "--baseline", help="Run LangChain's textbook RAG on the same corpus, side by side."),
    limit: Optional[int] = typer.Option(None, "--limit", min=1, metavar="N", help="Ask only the first N questions."),
    ignore_dates: bool = typer.Option(
        False, "--ignore-dates", help="Ask every question as of today, not on the day the set says it was asked."
    ),
    answerers: Optional[list[str]] = typer.Option(
        None, "--answerer", metavar="NAME", help="reader, heuristic or generative (repeat to compare them side by side on one index)."
    ),
) -> None:
    """Score answers and retrieval on a question set, in a temporary index (never yours)."""
    from bot.cli.eval_report import RichEvalProgress, render_report
    from bot.evaluation.datasets import EvalDataMissing, load_dataset, resolve_dataset
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
    if ignore_dates:
        data = data.undated()
    report = run_eval(data, settings, baseline=baseline, limit=limit, progress=RichEvalProgress(), answerers=answerers or ())
    if out_file is not None:
        try:
            out_file.write_text(json.dumps(report.to_json(), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        except OSError as exc:
            raise NewsbotError(f"{out_file}: cannot write the report ({exc.strerror or exc})") from exc
    if as_json:
        print_json(report.to_json())
    else:
        render_report(report, out)


@command()
@user_errors
def slack(
    host: str = typer.Option("127.0.0.1", "--host", metavar="HOST", help="HTTP mode: the address to listen on."),
    port: int = typer.Option(3000, "--port", metavar="PORT", help="HTTP mode: the port (Events API endpoint /slack/events)."),
    watch: bool = typer.Option(False, "--watch", help="Also keep the index in step with its folders and feeds, in this process."),
    workers: Optional[int] = typer.Option(
        None,
        "--workers",
        min=1,
        metavar="N",
        help="HTTP mode: server processes on the one port (default NEWSBOT_SLACK_WORKERS); needs a Chroma server.",
    ),
) -> None:
    """Run the Slack app: Socket Mode when SLACK_APP_TOKEN is set, else HTTP on --host/--port."""
    from bot.slack.client import connect
    from bot.slack.serve import serve, serve_workers

    logging.getLogger("newsbot").setLevel(logging.INFO)
    settings = load_settings()
    connection = connect(settings)  # settings and auth.test first: fail in a second, before the model loads
    processes = workers or settings.slack_workers
    if processes > 1 and connection.mode == "socket":
        raise ConfigError("--workers is for HTTP mode; Socket Mode runs one process (unset SLACK_APP_TOKEN to serve HTTP)")
    if processes > 1 and not settings.index.chroma_host:
        raise ConfigError(
            "several worker processes share the index only through a Chroma server (embedded Chroma is not process-safe): "
            "set CHROMA_HOST/CHROMA_PORT, or run one worker"
        )
    bot = ready_bot(quiet=False)
    from bot.cli.feeds import make_watcher

    watcher = make_watcher(bot.index).start() if watch else None
    try:
        if processes > 1:
            err.print(escape(f"newsbot is starting {processes} worker processes on http://{host}:{port}/slack/events (Ctrl-C stops)"))
            serve_workers(host, port, processes)
        else:
            serve(bot, connection, host, port, announce=lambda line: err.print(escape(line)))
    finally:
        if watcher is not None:
            watcher.stop()
