#!/usr/bin/env python
"""The benchmark report: `newsbot eval --baseline` on every shared set, indexing throughput beside
LangChain's textbook pipeline, retrieval by embedding precision, and query latency by index size,
written to docs/benchmarks.md with PNG charts beside it.

    python benchmarks/report.py                              # everything (takes hours on 2 cores)
    python benchmarks/report.py --limit 20 --sizes 1000,10000 --throughput-articles 50
    python benchmarks/report.py --results /tmp/newsbot-bench  # also keep the per-question JSON reports
    python benchmarks/report.py --skip-eval --latency-json L.json --throughput-json T.json --quality-json Q.json
                                                             # write from saved `--json` outputs of the scripts

With --skip-eval the answer-quality section already in the file is kept as it is, with its date.

The per-question reports quote the evaluation data, so they are never written into the project
(only with --results, to a folder of your choice). The markdown holds aggregate figures only.
Sets missing from the eval dir (../shared/eval or NEWSBOT_EVAL_DIR) are skipped with a note.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from benchmarks.report_speed import (  # noqa: E402
    INDEXING_PNG,
    LATENCY_PNG,
    embedding_quality_section,
    indexing_chart,
    latency_chart,
    latency_section,
    markdown_table,
    throughput_section,
)
from bot.cli.eval_report import METRICS, RichEvalProgress, format_value, metric_rows  # noqa: E402
from bot.evaluation.datasets import SHARED_SETS, load_dataset  # noqa: E402
from bot.evaluation.runner import EvalReport, run_eval  # noqa: E402
from bot.settings import BotSettings  # noqa: E402

DOCS = REPO / "docs"
QUALITY_PNG = "benchmarks_quality.png"
QUALITY_HEADING, LATENCY_HEADING = "## Answer quality: newsbot vs a naive LangChain RAG", "## Query latency"
CHART_METRICS = ("recall@5", "mrr", "exact_match", "f1", "containment", "refusal_precision", "refusal_recall", "verbatim_citations")
ANSWERERS = ("reader", "heuristic")  # side by side on one index, with the baseline
HEADLINE = ("recall@5", "mrr", "exact_match", "f1", "containment", "refusal_precision", "refusal_recall", "latency_p50_ms")


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def machine() -> dict[str, Any]:
    def first(path: str, key: str) -> str:
        try:
            for line in Path(path).read_text().splitlines():
                if line.startswith(key):
                    return line.split(":", 1)[1].strip()
        except OSError:
            pass
        return ""

    mem_kb = first("/proc/meminfo", "MemTotal").split()[0] if first("/proc/meminfo", "MemTotal") else ""
    git = lambda *a: subprocess.run(["git", *a], cwd=REPO, capture_output=True, text=True).stdout.strip()  # noqa: E731
    commit = git("rev-parse", "--short", "HEAD")
    dirty = git("diff", "--name-only", "HEAD", "--", "bot", "indexing").split()
    if dirty:
        commit += f" with uncommitted changes to {', '.join(dirty)}"
    return {
        "cpu": first("/proc/cpuinfo", "model name") or platform.processor() or platform.machine(),
        "cores": os.cpu_count(),
        "ram_gb": round(int(mem_kb) / 1024**2, 1) if mem_kb else None,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": commit,
    }


def run_script(name: str, args: list[str]) -> dict[str, Any] | None:
    """A sibling benchmark script with --json, in its own process; None when it is absent or fails."""
    script = REPO / "benchmarks" / name
    if not script.is_file():
        log(f"{name} not found: skipped")
        return None
    log(f"running {name} {' '.join(args)} ...")
    done = subprocess.run([sys.executable, str(script), *args, "--json"], cwd=REPO, stdout=subprocess.PIPE, text=True)
    lines = [line for line in done.stdout.splitlines() if line.strip().startswith("{")]
    if done.returncode != 0 or not lines:
        log(f"{name} failed (exit {done.returncode}): skipped")
        return None
    return json.loads(lines[-1])


def run_evals(settings: BotSettings, limit: int | None, results: Path | None) -> list[EvalReport]:
    reports = []
    for name in SHARED_SETS:
        path = settings.eval_dir / name
        if not path.exists():
            log(f"{name}: not in {settings.eval_dir}: skipped")
            continue
        log(f"== eval {name} ({', '.join(ANSWERERS)} and the baseline)")
        dataset = load_dataset(path, default_corpus=settings.index.seeds_dir)
        report = run_eval(dataset, settings, True, limit, RichEvalProgress(), answerers=ANSWERERS)
        reports.append(report)
        if results is not None:
            results.mkdir(parents=True, exist_ok=True)
            (results / f"eval-{report.dataset}.json").write_text(json.dumps(report.to_json(), ensure_ascii=False, indent=1))
    return reports


# ---- charts ---------------------------------------------------------------------------------------


def quality_chart(reports: list[EvalReport], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    labels = {key: label for key, label, _ in METRICS}
    fig, axes = plt.subplots(len(reports), 1, figsize=(10, 3.2 * len(reports)), squeeze=False)
    for ax, report in zip(axes[:, 0], reports):
        x = np.arange(len(CHART_METRICS))
        width = 0.8 / max(len(report.systems), 1)
        for i, system in enumerate(report.systems):
            values = [system.summary.get(key) for key in CHART_METRICS]
            offset = (i - (len(report.systems) - 1) / 2) * width
            bars = ax.bar(x + offset, [v or 0.0 for v in values], width, label=system.name)
            for bar, value in zip(bars, values):
                ax.annotate(
                    "n/a" if value is None else f"{value:.2f}",
                    (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                    ha="center",
                    va="bottom",
                    fontsize=7,
                )
        ax.set_xticks(x, [labels[k].replace("retrieval ", "").replace("answer ", "") for k in CHART_METRICS], fontsize=8)
        ax.set_ylim(0, 1.3)
        ax.set_title(f"{report.dataset}: newsbot's answerers vs LangChain naive RAG", fontsize=10)
        ax.legend(fontsize=8, loc="upper right", ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


# ---- markdown -------------------------------------------------------------------------------------


def headline_table(reports: list[EvalReport]) -> str:
    kinds = {key: kind for key, _, kind in METRICS}
    labels = {key: label for key, label, _ in METRICS}
    header = ["set", *[labels[k].replace("retrieval ", "").replace("answer ", "") for k in HEADLINE]]
    rows = []
    for report in reports:
        summaries = {s.name: s.summary for s in report.systems}
        cells = [" / ".join(format_value(summary.get(k), kinds[k]) for summary in summaries.values()) for k in HEADLINE]
        rows.append([report.dataset, *cells])
    return markdown_table(header, rows)


def eval_section(report: EvalReport) -> str:
    systems = report.systems
    header = ["metric", *[f"{s.name} ({s.chunks:,} chunks, indexed in {s.index_seconds:.0f} s)" for s in systems]]
    n = systems[0].summary
    intro = (
        f"{report.articles} articles; {n['questions']} questions ({n['answer_questions']} scored for answers, "
        f"{n['unanswerable']} of them unanswerable; {n['retrieval_questions']} with a gold article); answerer: {report.answerer}."
    )
    notes = "".join(f"\n\n_Note: {note.split(':')[0]}._" for note in report.notes)
    rows = [[label, *values] for label, values in metric_rows(report)]
    return f"### {report.dataset}\n\n{intro}{notes}\n\n{markdown_table(header, rows)}\n"


def _options(args: argparse.Namespace) -> str:
    """The options that shaped the figures (never paths: they would name this machine's folders)."""
    shown = [
        ("--limit", args.limit),
        ("--sizes", None if args.latency_json else args.sizes),
        ("--distinct", None if args.latency_json else args.distinct),
        ("--throughput-articles", None if args.throughput_json else args.throughput_articles),
    ]
    flags = [f" {flag} {value}" for flag, value in shown if value is not None]
    flags += [" --skip-eval"] if args.skip_eval else []
    flags += [f" {flag} FILE" for flag, path in _saved_inputs(args) if path]
    return "".join(flags)


def _saved_inputs(args: argparse.Namespace) -> list[tuple[str, Path | None]]:
    saved_quality = [("--quality-json", path) for path in args.quality_json]
    return [("--throughput-json", args.throughput_json), ("--latency-json", args.latency_json), *saved_quality]


def _fmt(value: Any) -> str:
    return f"{value:,.2f}" if isinstance(value, float) else str(value)


def kept_quality_section(path: Path) -> str | None:
    """The answer-quality section of the file as it is, with the date line of the run that wrote it."""
    if not path.is_file():
        return None
    text = path.read_text(encoding="utf-8")
    if QUALITY_HEADING not in text:
        return None
    dated = next((line for line in text.splitlines() if line.startswith("Measured ")), "")
    section = text[text.index(QUALITY_HEADING) : text.index(LATENCY_HEADING) if LATENCY_HEADING in text else len(text)]
    heading, _, body = section.partition("\n")
    if "_Kept from an earlier run" in body:  # kept before: its note already names the run that measured it
        return f"{heading}\n{body.rstrip()}\n"
    note = f"_Kept from an earlier run (`--skip-eval`): {dated[len('Measured ') :]}_" if dated else "_Kept from an earlier run._"
    return f"{heading}\n\n{note}\n{body.rstrip()}\n"


def write_markdown(
    path: Path,
    info: dict[str, Any],
    reports: list[EvalReport],
    latency: dict | None,
    throughput: dict | None,
    settings: BotSettings,
    args: argparse.Namespace,
    quality: list[dict] | None = None,
) -> None:
    s = settings
    kept = None if reports else kept_quality_section(path)
    lines = [
        "# Benchmarks",
        "",
        f"Measured {info['date']} on {info['cores']} cores ({info['cpu']}), {info['ram_gb']} GB RAM, {info['os']}, "
        f"Python {info['python']}, commit `{info['commit']}`. Written by `python benchmarks/report.py{_options(args)}`; "
        "each table says how busy the machine was where it matters.",
        "",
        "## Indexing: newsbot vs LangChain's textbook pipeline",
        "",
        throughput_section(throughput) if throughput else "_Not measured (benchmarks/index_throughput.py absent or failed)._",
        "",
        "## Retrieval by embedding precision and chunk overlap",
        "",
        "\n\n".join(map(embedding_quality_section, quality)) if quality else "_Not measured (benchmarks/embedding_quality.py not run)._",
        "",
        *([kept] if kept else []),
        *(
            []
            if kept
            else [
                QUALITY_HEADING,
                "",
                "`newsbot eval DATASET --baseline` on the evaluation sets kept beside the project (`../shared/eval`, not part of it). "
                "The baseline is LangChain's textbook pipeline on the same articles: `RecursiveCharacterTextSplitter(1000, 200)`, "
                "the same all-MiniLM-L6-v2 weights through LangChain's `Embeddings` interface, `langchain_chroma.Chroma` dense top-4, "
                "and as the answer the top chunk's sentence most similar to the question. It never refuses. "
                f"newsbot ran with its defaults (top_k {s.top_k}, {s.candidates} candidates per retriever, refusal threshold "
                f"{s.min_confidence}, {s.index.chunk_tokens}-token chunks, {s.index.threads} thread).",
                "",
                "Retrieval is scored by gold article id (recall@k and MRR@10 over distinct articles); answers with SQuAD "
                'normalisation (EM and F1, max over accepted answers, a refusal counting as the empty answer); "contained": '
                "an accepted answer appears in the answer text; refusal precision/recall treat the unanswerable questions "
                'as positives ("—" where a set has none, or a system never refuses). RealTimeQA: answers scored without '
                "the choice-dependent questions, retrieval on the questions that have a gold article, each question asked on its "
                "own date (`question_date`: later articles left out, 'this week' the week before it; the baseline ignores dates).",
                "",
                f"Headline ({' / '.join(s.name for s in reports[0].systems) if reports else 'newsbot / baseline'}):",
                "",
                headline_table(reports) if reports else "_No evaluation set found: nothing measured._",
                "",
                f"![quality per metric]({QUALITY_PNG})" if reports else "",
                "",
                *[eval_section(r) for r in reports],
            ]
        ),
        LATENCY_HEADING,
        "",
        latency_section(latency) if latency else "_Not measured (benchmarks/query_latency.py did not run)._",
        "",
    ]
    path.write_text("\n".join(lines), encoding="utf-8")


def saved(path: Path | None) -> dict[str, Any] | None:
    """A script's saved `--json` output (its last JSON line)."""
    if path is None:
        return None
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip().startswith("{")]
    if not lines:
        raise SystemExit(f"error: {path} holds no JSON output")
    return json.loads(lines[-1])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--limit", type=int, help="ask only the first N questions of each set")
    parser.add_argument("--sizes", default="1000,10000,100000", help="chunk counts for query_latency.py")
    parser.add_argument("--distinct", type=int, default=2000, help="paragraphs query_latency.py embeds for real")
    parser.add_argument("--throughput-articles", type=int, default=200, help="articles for index_throughput.py")
    parser.add_argument("--skip-eval", action="store_true")
    parser.add_argument("--skip-latency", action="store_true")
    parser.add_argument("--skip-throughput", action="store_true")
    parser.add_argument("--throughput-json", type=Path, help="index_throughput.py's --json output, instead of running it")
    parser.add_argument("--latency-json", type=Path, help="query_latency.py's --json output, instead of running it")
    parser.add_argument(
        "--quality-json", type=Path, action="append", default=[], help="embedding_quality.py's --json output (repeatable; not run here)"
    )
    parser.add_argument("--results", type=Path, help="also write each set's full JSON report here (never inside the project)")
    parser.add_argument("--docs", type=Path, default=DOCS, help="where benchmarks.md and the charts go (default docs/)")
    args = parser.parse_args(argv)
    settings = BotSettings.from_env()
    info = machine()
    reports = [] if args.skip_eval else run_evals(settings, args.limit, args.results)
    throughput = saved(args.throughput_json) or (
        None if args.skip_throughput else run_script("index_throughput.py", ["--articles", str(args.throughput_articles)])
    )
    latency = saved(args.latency_json) or (
        None if args.skip_latency else run_script("query_latency.py", ["--sizes", args.sizes, "--distinct", str(args.distinct)])
    )
    quality = [q for q in map(saved, args.quality_json) if q]
    args.docs.mkdir(parents=True, exist_ok=True)
    if reports:
        quality_chart(reports, args.docs / QUALITY_PNG)
    if latency and latency.get("warm"):
        latency_chart(latency, args.docs / LATENCY_PNG)
    if throughput:
        indexing_chart(throughput, args.docs / INDEXING_PNG)
    write_markdown(args.docs / "benchmarks.md", info, reports, latency, throughput, settings, args, quality)
    log(f"wrote {args.docs / 'benchmarks.md'}")


if __name__ == "__main__":
    main()
