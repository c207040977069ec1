#!/usr/bin/env python
"""A fresh serving process on a big store: seconds from its start to its first answer, and its RSS.

    nice -n 5 python benchmarks/fast_restart.py --data-dir DIR --chunks 250000   # build or grow, then measure
    python benchmarks/fast_restart.py --data-dir DIR --repeat 3 --json            # measure the store as it is

The store is the synthetic one of benchmarks/query_latency.py (benchmarks/synthetic_store.py: a few
thousand paragraphs embedded for real, every chunk a varied copy with a perturbed vector), kept in
DIR so it is built once. Each measurement starts a new Python process that does what a Slack worker
does at start (bot.slack.app.SlackFace.warm_up): build a NewsBot over the store and ask one question.
It reports the wall time from the parent's `Popen` to the answer, the child's phases (imports,
the keyword index's load, the first question), its peak RSS, then the p50 of 20 more questions.
Rows come in pairs from the same run: the keyword index's segments memory-mapped (what newsbot
does) and read into memory (indexing.keyword.files.MMAP = False in the child: the baseline).

With `--server`, a team's deployment: `chroma run` serves the store's Chroma folder, and the fresh
processes are workers pointed at it (CHROMA_HOST; the keyword index stays in the data dir). It adds
the server's seconds to its first heartbeat, its RSS after the workers' questions, its seconds to
stop on SIGTERM, and the disk the store takes per 100k chunks.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

QUESTION = "How many people protested against a bridge toll in Gdansk?"
CHILD = r"""
import json, os, resource, sys, time
began = time.perf_counter()
import indexing.keyword.files as keyword_files
keyword_files.MMAP = {mmap}
from bot.chain import NewsBot
from bot.settings import BotSettings
from bot.answering.entities import clear_cache
imported = time.perf_counter()
bot = NewsBot(BotSettings.from_env())
loaded = 0.0
real_load = keyword_files.load
def timed_load(folder):
    global loaded
    t = time.perf_counter()
    try:
        return real_load(folder)
    finally:
        loaded += time.perf_counter() - t
keyword_files.load = timed_load
answer = bot.ask({question!r})
first = time.perf_counter()
answered_at = time.time()
asks = []
for q in {questions!r}:
    clear_cache()
    t = time.perf_counter()
    bot.ask(q)
    asks.append(time.perf_counter() - t)
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({{"answered_at": answered_at, "import_s": imported - began, "keyword_load_s": loaded, "first_ask_s": first - imported,
    "answered": answer.answered, "warm_p50_ms": 1000 * sorted(asks)[len(asks) // 2], "peak_rss_mb": rss,
    "chunks": bot.index.store.chunk_count()}}))
"""


def isolated_env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEWSBOT_", "CHROMA_", "SLACK_"))}
    return {
        **env,
        "NEWSBOT_DATA_DIR": str(data_dir),
        "NEWSBOT_CONFIG": str(data_dir / "none.toml"),
        "HF_HUB_OFFLINE": "1",
        "HF_HUB_DISABLE_PROGRESS_BARS": "1",
        "TOKENIZERS_PARALLELISM": "false",
        "PYTHONPATH": str(REPO),
    }


def build(data_dir: Path, chunks: int, distinct: int, log: Any) -> dict[str, Any]:
    """Grow the synthetic store in `data_dir` to `chunks`, then bring its keyword index up to date (and save it)."""
    from benchmarks.query_latency import isolated_settings
    from benchmarks.synthetic_store import SyntheticCorpus
    from indexing.index import NewsIndex

    index = NewsIndex(isolated_settings(data_dir).index)
    corpus = SyntheticCorpus(index, distinct)
    log(f"store holds {corpus.chunks:,} chunks; growing to {chunks:,} ...")
    write_s = corpus.grow_to(chunks)
    began = time.perf_counter()
    index.keywords.current()
    keyword_s = time.perf_counter() - began
    log(f"  written in {write_s:.0f} s, keyword index brought up to date in {keyword_s:.0f} s")
    return {"write_s": round(write_s, 1), "keyword_update_s": round(keyword_s, 1)}


def fresh_process(data_dir: Path, mmap: bool, questions: list[str], port: int = 0) -> dict[str, Any]:
    """One new serving process: its seconds to the first answer (from the parent's Popen) and its figures."""
    code = CHILD.format(mmap=mmap, question=QUESTION, questions=questions)
    env = isolated_env(data_dir)
    if port:
        env.update(CHROMA_HOST="127.0.0.1", CHROMA_PORT=str(port))
    began = time.time()
    done = subprocess.run([sys.executable, "-c", code], env=env, cwd=REPO, capture_output=True, text=True, timeout=600)
    if done.returncode:
        raise RuntimeError(f"the serving process failed: {done.stderr.strip().splitlines()[-1:]}")
    row = json.loads(done.stdout.strip().splitlines()[-1])
    row["first_answer_s"] = row.pop("answered_at") - began
    row["python_start_s"] = row["first_answer_s"] - row["import_s"] - row["first_ask_s"]
    return {"mmap": mmap, **{k: round(v, 3) if isinstance(v, float) else v for k, v in row.items()}}


def measure(data_dir: Path, repeat: int, log: Any, port: int = 0) -> list[dict[str, Any]]:
    """Fresh processes, mapped and read alternately (the page cache is as warm for both)."""
    from benchmarks.synthetic_store import synthetic_questions

    questions = synthetic_questions(20)
    fresh_process(data_dir, True, questions[:1], port)  # once, unmeasured: the files in the page cache for both
    runs = []
    for n in range(repeat):
        for mmap in (False, True):
            log(f"fresh process {n + 1}/{repeat}, keyword index {'mapped' if mmap else 'read'} ...")
            runs.append(fresh_process(data_dir, mmap, questions, port))
            log(f"  {runs[-1]}")
    return runs


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _disk_gb(folder: Path) -> float:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file()) / 2**30


def with_server(data_dir: Path, repeat: int, log: Any) -> dict[str, Any]:
    """`chroma run` on the store's Chroma folder, fresh workers against it, then SIGTERM."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    chroma = shutil.which("chroma") or str(Path(sys.executable).parent / "chroma")
    began = time.perf_counter()
    server = subprocess.Popen(
        [chroma, "run", "--path", str(data_dir / "chroma"), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1):
                    break
            except OSError:
                if server.poll() is not None or time.perf_counter() - began > 300:
                    raise RuntimeError("chroma run did not start") from None
                time.sleep(0.1)
        ready_s = time.perf_counter() - began
        log(f"chroma run ready in {ready_s:.1f} s (RSS {_rss_mb(server.pid):.0f} MB)")
        runs = measure(data_dir, repeat, log, port)
        rss = _rss_mb(server.pid)
    finally:
        stopping = time.perf_counter()
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=120)
    chunks = runs[0]["chunks"]
    return {
        "server_ready_s": round(ready_s, 2),
        "server_rss_mb": round(rss),
        "server_stop_s": round(time.perf_counter() - stopping, 2),
        "chroma_gb_per_100k": round(_disk_gb(data_dir / "chroma") * 100_000 / chunks, 3),
        "keyword_gb_per_100k": round(_disk_gb(data_dir / "keyword") * 100_000 / chunks, 3),
        "runs": runs,
    }


def summary(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for mmap in (False, True):
        mine = [r for r in runs if r["mmap"] == mmap]
        median = {k: round(statistics.median(r[k] for r in mine), 2) for k in mine[0] if isinstance(mine[0][k], float)}
        rows.append({"keyword index": "mapped" if mmap else "read", "chunks": mine[0]["chunks"], "runs": len(mine), **median})
    return rows


def render(rows: list[dict[str, Any]], title: str = "a fresh serving process: start to first answer (medians)") -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    columns = (
        ("keyword index", "keyword index"),
        ("chunks", "chunks"),
        ("first_answer_s", "first answer s"),
        ("python_start_s", "python start s"),
        ("import_s", "imports s"),
        ("keyword_load_s", "BM25 load s"),
        ("first_ask_s", "first ask s (load included)"),
        ("warm_p50_ms", "warm ask p50 ms"),
        ("peak_rss_mb", "peak RSS MB"),
    )
    for _, title in columns:
        table.add_column(title, justify="right")
    for row in rows:
        table.add_row(*(f"{row[k]:,}" if isinstance(row[k], int) else str(row[k]) for k, _ in columns))
    Console(width=160).print(table)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", required=True, help="where the synthetic store is kept (built once, grown on later runs)")
    parser.add_argument("--chunks", type=int, default=0, help="grow the store to this many chunks first (default: measure it as it is)")
    parser.add_argument("--distinct", type=int, default=2000, help="paragraphs embedded for real when building (default 2000)")
    parser.add_argument("--repeat", type=int, default=2, help="fresh processes per mode (default 2)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    parser.add_argument("--server", action="store_true", help="also measure workers against `chroma run` serving the store")
    parser.add_argument("--build-only", action="store_true", help=argparse.SUPPRESS)  # the building child
    args = parser.parse_args(argv)

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    data_dir = Path(args.data_dir).resolve()
    result: dict[str, Any] = {"benchmark": "fast_restart", "cpus": os.cpu_count(), "load_average": os.getloadavg()[0]}
    if args.build_only:
        print(json.dumps(build(data_dir, args.chunks, args.distinct, log)))
        return {}
    if args.chunks:  # in a process of its own: it owns the data dir while it runs (indexing.store.owner)
        building = [
            sys.executable,
            __file__,
            "--data-dir",
            str(data_dir),
            "--chunks",
            str(args.chunks),
            "--distinct",
            str(args.distinct),
            "--build-only",
        ]
        done = subprocess.run(building, stdout=subprocess.PIPE, text=True, check=True)
        result["build"] = json.loads(done.stdout.strip().splitlines()[-1])
    runs = measure(data_dir, args.repeat, log)
    result["runs"], result["summary"] = runs, summary(runs)
    if args.server:
        result["server"] = with_server(data_dir, args.repeat, log)
        result["server"]["summary"] = summary(result["server"]["runs"])
    if args.json:
        print(json.dumps(result))
        return result
    render(result["summary"])
    if args.server:
        served = result["server"]
        render(served["summary"], "workers against `chroma run` on the same store (medians)")
        print({k: v for k, v in served.items() if k not in ("runs", "summary")})
    return result


if __name__ == "__main__":
    main()
