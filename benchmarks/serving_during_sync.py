#!/usr/bin/env python
"""Answers while a sync runs in the same process (the Slack app with a watcher): question latency idle
and during a sync of 500 new articles.

    nice -n 5 python benchmarks/serving_during_sync.py              # 500 articles per sync, both modes
    python benchmarks/serving_during_sync.py --articles 100 --json

One process holds one NewsIndex and one NewsBot, as `newsbot slack --watch` does. The store starts with
a background of synthetic chunks (benchmarks/synthetic_store.py). Questions are asked one after
another from the main thread: first with nothing else running (idle), then while a sync of
`--articles` generated articles (benchmarks/generated_corpus.py, embedded for real, in worker
processes as any long sync) runs in another thread, as the watcher's does. A question follows the
previous answer after `--gap` seconds (0.2: a busy channel; 0 is the worst case for the sync, which
then only writes when a write has waited its full patience). Each mode syncs its own
new folder. Modes, in one run:
- `one call`: `NewsIndex.serving(False)`, as newsbot was before: the chunks of a commit go to Chroma
  in one upsert of up to 1,000, and Chroma's bindings hold the GIL for the whole call;
- `bounded`: what a serving process does now (`NewsIndex.serving()`, indexing.store.turns): writes
  of at most SERVING_BATCH records, each after the question in flight, and embedding workers at a
  lower CPU priority than the process answering.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from benchmarks.generated_corpus import generate_corpus  # noqa: E402
from benchmarks.query_latency import isolated_settings, percentiles  # noqa: E402
from benchmarks.synthetic_store import SyntheticCorpus, synthetic_questions  # noqa: E402
from bot.answering.entities import clear_cache  # noqa: E402
from bot.chain import NewsBot  # noqa: E402
from indexing.index import NewsIndex  # noqa: E402

MODES = ("one call", "bounded")


def ask_until(bot: NewsBot, questions: list[str], done: threading.Event | None, count: int, gap: float = 0.0) -> list[float]:
    """Ask one question after another, `gap` seconds apart: `count` of them, or (with `done`) until it is set."""
    seconds = []
    n = 0
    while (done is None and n < count) or (done is not None and not done.is_set()):
        clear_cache()
        began = time.perf_counter()
        bot.ask(questions[n % len(questions)])
        seconds.append(time.perf_counter() - began)
        n += 1
        time.sleep(gap)
    return seconds


def one_mode(
    index: NewsIndex, bot: NewsBot, mode: str, folder: Path, questions: list[str], idle: int, gap: float, log: Any
) -> dict[str, Any]:
    index.serving(mode == "bounded")
    idle_s = ask_until(bot, questions, None, idle, gap)
    done = threading.Event()
    report: dict[str, Any] = {}

    def run_sync() -> None:
        try:
            report["sync"] = index.sync([folder])
        finally:
            done.set()

    syncing = threading.Thread(target=run_sync, name="benchmark-sync")
    began = time.perf_counter()
    syncing.start()
    during = ask_until(bot, questions, done, 0, gap)
    syncing.join()
    sync_s = time.perf_counter() - began
    idle_p, during_p = percentiles(idle_s), percentiles(during)
    row = {
        "mode": mode,
        "idle_p50_ms": idle_p["p50_ms"],
        "idle_p95_ms": idle_p["p95_ms"],
        "sync_p50_ms": during_p["p50_ms"],
        "sync_p95_ms": during_p["p95_ms"],
        "p95_ratio": round(during_p["p95_ms"] / idle_p["p95_ms"], 2),
        "sync_max_ms": round(1000 * max(during), 1),
        "questions_during": len(during),
        "sync_s": round(sync_s, 1),
        "articles_added": report["sync"].added,
        "chunks_embedded": report["sync"].embedded_chunks,
        "load_average": round(os.getloadavg()[0], 2),
    }
    log(f"  {row}")
    return row


def render(rows: list[dict[str, Any]]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="question latency in a process that serves while it syncs (ms)")
    for title in ("writes", "idle p50", "idle p95", "sync p50", "sync p95", "p95 sync/idle", "sync max", "questions", "sync s", "chunks"):
        table.add_column(title, justify="right")
    for r in rows:
        table.add_row(
            r["mode"],
            str(r["idle_p50_ms"]),
            str(r["idle_p95_ms"]),
            str(r["sync_p50_ms"]),
            str(r["sync_p95_ms"]),
            f"{r['p95_ratio']:.2f}x",
            str(r["sync_max_ms"]),
            str(r["questions_during"]),
            str(r["sync_s"]),
            f"{r['chunks_embedded']:,}",
        )
    Console(width=160).print(table)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=500, help="articles per sync (default 500)")
    parser.add_argument("--background", type=int, default=10_000, help="synthetic chunks in the store first (default 10,000)")
    parser.add_argument("--idle", type=int, default=40, help="idle questions per mode (default 40)")
    parser.add_argument("--gap", type=float, default=0.2, help="seconds between one answer and the next question (default 0.2)")
    parser.add_argument("--modes", default=",".join(MODES), help=f"comma-separated, of: {', '.join(MODES)}")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    args = parser.parse_args(argv)

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    with tempfile.TemporaryDirectory(prefix="newsbot-serving-") as tmp:
        root = Path(tmp)
        settings = isolated_settings(root / "data")
        index = NewsIndex(settings.index)
        log(f"a background of {args.background:,} synthetic chunks ...")
        SyntheticCorpus(index, 300).grow_to(args.background)
        bot = NewsBot(settings, index)
        questions = synthetic_questions(20)
        ask_until(bot, questions, None, 5)  # models loaded, keyword index built
        rows = []
        for n, mode in enumerate(m.strip() for m in args.modes.split(",")):
            folder = root / f"arrivals-{n}"
            generate_corpus(folder, args.articles, seed=100 + n)
            log(f"{mode}: {args.idle} idle questions, then questions during a sync of {args.articles} articles ...")
            rows.append(one_mode(index, bot, mode, folder, questions, args.idle, args.gap, log))
    result = {"benchmark": "serving_during_sync", "cpus": os.cpu_count(), "articles": args.articles, "gap_s": args.gap, "rows": rows}
    if args.json:
        print(json.dumps(result))
    else:
        render(rows)
    return result


if __name__ == "__main__":
    main()
