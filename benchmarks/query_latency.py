#!/usr/bin/env python
"""Query latency: warm p50/p95 of `NewsBot.ask` (hybrid retrieval + the offline answerer) at growing
index sizes, and the cold `newsbot ask` wall time beside the bare import time of its dependencies.

    python benchmarks/query_latency.py                          # 1k, 10k and 100k chunks
    python benchmarks/query_latency.py --sizes 1000,10000 --json
    python benchmarks/query_latency.py --no-warm                # only the cold start and imports

The synthetic corpus is built so that 100k chunks do not take an hour of embedding on 2 cores:
a few thousand distinct news-like paragraphs are embedded for real; every stored chunk is one of
them with its numbers and names varied, and its vector is the paragraph's vector plus a small
random perturbation (renormalised; cosine ~0.96 to the original). The chunks are written straight
into the store (`ChunkStore.write_articles`), ten per article, with exact offsets and sentences,
and with the per-sentence vectors the indexer stores for the answerer (perturbed the same way).
The questions go through the real chain (embedded by the same query path a synced index uses), so
the retrieval and answer work is what a user's question costs; only the corpus is synthetic.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

import indexing.keyword.files as bm25_files  # noqa: E402
from benchmarks.synthetic_store import CHUNKS_PER_ARTICLE, NOISE, SyntheticCorpus  # noqa: E402
from bot.answering.entities import clear_cache as clear_ner_cache  # noqa: E402
from bot.chain import NewsBot  # noqa: E402
from bot.settings import BotSettings  # noqa: E402
from indexing.index import NewsIndex  # noqa: E402
from indexing.settings import SettingsSource  # noqa: E402

HEAVY_MODULES = ("torch", "sentence_transformers", "transformers", "chromadb", "spacy", "bm25s", "langchain_core", "bot.cli")
COLD_QUESTION = "Who led the US delegation?"


def percentiles(seconds: Sequence[float]) -> dict[str, float]:
    ms = np.asarray(seconds) * 1000
    return {"p50_ms": round(float(np.percentile(ms, 50)), 1), "p95_ms": round(float(np.percentile(ms, 95)), 1)}


def measure_warm(bot: NewsBot, questions: Sequence[str], warmup: int = 3) -> dict[str, Any]:
    """Warm `ask` (and, apart, the retrieval step alone) over the questions."""
    for q in questions[:warmup]:
        bot.ask(q)
    asks, searches = [], []
    for q in questions:
        clear_ner_cache()  # the synthetic corpus repeats sentences, which the NER cache would flatter
        t0 = time.perf_counter()
        bot.ask(q)
        asks.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        bot.search.search(q, k=8)
        searches.append(time.perf_counter() - t0)
    retrieval = percentiles(searches)
    return {
        **percentiles(asks),
        "retrieval_p50_ms": retrieval["p50_ms"],
        "retrieval_p95_ms": retrieval["p95_ms"],
        "queries": len(questions),
    }


def _timed(work: Callable[[], object]) -> float:
    began = time.perf_counter()
    work()
    return time.perf_counter() - began


def after_one_article(index: NewsIndex, bot: NewsBot, corpus: SyntheticCorpus, question: str) -> dict[str, float]:
    """A one-article sync, then: the first question (the keyword index catches up in the background
    meanwhile), and, after a second one-article sync, the keyword catch-up itself, timed alone. First
    the store's bulk writes are let age past the catch-up's margin, as in a store that grew over days
    (the catch-up re-reads what changed within the margin before its stamp)."""
    time.sleep(index.store.change_margin_ns / 1e9 + 1)
    corpus.grow_to(corpus.chunks + CHUNKS_PER_ARTICLE)
    clear_ner_cache()
    first = _timed(lambda: bot.ask(question))
    index.keywords.current()  # let the background catch-up finish
    corpus.grow_to(corpus.chunks + CHUNKS_PER_ARTICLE)
    return {
        "first_question_after_sync_ms": round(first * 1000, 1),
        "keyword_reconcile_one_article_s": round(_timed(index.keywords.current), 3),
    }


def disk_mb(folder: Path) -> float:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file()) / 2**20


def rss_mb() -> float:
    """This process's resident memory now (Linux): it built the store too, so a serving process needs at most this."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def isolated_settings(data_dir: Path) -> BotSettings:
    return BotSettings.from_env(SettingsSource(env={"NEWSBOT_DATA_DIR": str(data_dir), "NEWSBOT_CONFIG": str(data_dir / "none.toml")}))


def warm_benchmark(sizes: Sequence[int], distinct: int, queries: int, data_dir: Path, log: Callable[[str], None]) -> dict[str, Any]:
    settings = isolated_settings(data_dir)
    index = NewsIndex(settings.index)
    log(f"embedding {distinct} distinct paragraphs for real ...")
    corpus = SyntheticCorpus(index, min(distinct, max(sizes)))
    log(f"  {corpus.embed_seconds:.0f} s")
    bot = NewsBot(settings, index)
    questions = corpus.questions(queries)
    rows = []
    for size in sorted(sizes):
        log(f"writing the store up to {size:,} chunks ...")
        write_seconds = corpus.grow_to(size)
        t0 = time.perf_counter()
        index.keywords.current()  # brings BM25 up to date with the chunks written since the last size
        keyword_seconds = time.perf_counter() - t0
        row = {
            "chunks": index.store.chunk_count(),
            "articles": corpus.articles,
            "write_s": round(write_seconds, 1),
            "keyword_update_s": round(keyword_seconds, 1),
            **measure_warm(bot, questions),
            **after_one_article(index, bot, corpus, questions[0]),
            "keyword_load_s": round(_timed(lambda: bm25_files.load(index.keywords.folder)), 2),
            "disk_mb_per_100k": round(
                (disk_mb(data_dir / "chroma") + disk_mb(index.keywords.folder)) * 100_000 / max(1, index.store.chunk_count()), 0
            ),
            "rss_mb": round(rss_mb(), 0),
            "load_average": round(os.getloadavg()[0], 2),  # other work on the cores shows up here
        }
        log(f"  {row}")
        rows.append(row)
    return {"distinct_embedded": len(corpus.paragraphs), "embed_s": round(corpus.embed_seconds, 1), "noise": NOISE, "sizes": rows}


def _clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEWSBOT_", "CHROMA_", "SLACK_"))}
    return {**env, "HF_HUB_OFFLINE": "1", "HF_HUB_DISABLE_PROGRESS_BARS": "1", "TOKENIZERS_PARALLELISM": "false", **extra}


def _wall(args: list[str], env: dict[str, str], repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        subprocess.run(args, env=env, capture_output=True, check=True, timeout=300)
        times.append(time.perf_counter() - t0)
    return times


def cold_benchmark(repeat: int, data_dir: Path, log: Callable[[str], None]) -> dict[str, Any]:
    """Wall time of a cold `newsbot ask` (seeds indexed beforehand) and of bare imports, medians."""
    NewsIndex(isolated_settings(data_dir).index).sync()
    env = _clean_env(NEWSBOT_DATA_DIR=str(data_dir), NEWSBOT_CONFIG=str(data_dir / "none.toml"))
    newsbot = shutil.which("newsbot")
    command = [newsbot] if newsbot else [sys.executable, "-m", "bot.cli"]
    log(f"cold `newsbot ask` x{repeat} ...")
    ask = _wall([*command, "ask", COLD_QUESTION, "--json"], env, repeat)
    python = statistics.median(_wall([sys.executable, "-c", "pass"], env, repeat))
    imports = {}
    for module in HEAVY_MODULES:
        log(f"import {module} x{repeat} ...")
        imports[module] = round(statistics.median(_wall([sys.executable, "-c", f"import {module}"], env, repeat)) - python, 2)
    return {
        "repeat": repeat,
        "newsbot_ask_s": round(statistics.median(ask), 2),
        "newsbot_ask_min_s": round(min(ask), 2),
        "python_startup_s": round(python, 3),
        "imports_s": imports,
    }


def render(result: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    warm = result.get("warm")
    if warm:
        table = Table(title="warm `ask` latency in ms (retrieval + offline answer), synthetic corpus")
        columns = (
            "chunks",
            "ask p50",
            "ask p95",
            "search p50",
            "1st ask after sync",
            "BM25 catch-up, 1 article s",
            "BM25 load s",
            "disk MB/100k",
            "RSS MB",
            "write s",
        )
        for column in columns:
            table.add_column(column, justify="right")
        for row in warm["sizes"]:
            table.add_row(
                f"{row['chunks']:,}",
                f"{row['p50_ms']:.1f}",
                f"{row['p95_ms']:.1f}",
                f"{row['retrieval_p50_ms']:.1f}",
                f"{row['first_question_after_sync_ms']:.0f}",
                f"{row['keyword_reconcile_one_article_s']:.3f}",
                f"{row['keyword_load_s']:.2f}",
                f"{row['disk_mb_per_100k']:,.0f}",
                f"{row['rss_mb']:,.0f}",
                f"{row['write_s']:.0f}",
            )
        console.print(table)
        console.print(
            f"[dim]{warm['distinct_embedded']:,} distinct paragraphs embedded for real ({warm['embed_s']:.0f} s); every "
            f"stored chunk reuses one with varied numbers/names and a perturbed vector (noise {warm['noise']}/dim).[/]"
        )
    cold = result.get("cold")
    if cold:
        table = Table(title=f"cold start (median of {cold['repeat']}, seconds)")
        table.add_column("what")
        table.add_column("s", justify="right")
        table.add_row("`newsbot ask` wall time", f"{cold['newsbot_ask_s']:.2f}")
        table.add_row("python startup", f"{cold['python_startup_s']:.2f}")
        for module, seconds in cold["imports_s"].items():
            table.add_row(f"import {module}", f"{seconds:.2f}")
        console.print(table)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000,100000", help="chunk counts, comma-separated (default 1000,10000,100000)")
    parser.add_argument("--distinct", type=int, default=3000, help="paragraphs embedded for real (default 3000)")
    parser.add_argument("--queries", type=int, default=60, help="timed questions per size (default 60)")
    parser.add_argument("--repeat", type=int, default=3, help="cold runs per measurement (default 3)")
    parser.add_argument("--no-warm", action="store_true", help="skip the warm benchmark")
    parser.add_argument("--no-cold", action="store_true", help="skip the cold start and import timings")
    parser.add_argument("--data-dir", help="where to build the indexes (default: a temporary folder, deleted afterwards)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the tables")
    args = parser.parse_args(argv)
    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    root = Path(args.data_dir) if args.data_dir else Path(tempfile.mkdtemp(prefix="newsbot-latency-"))
    result: dict[str, Any] = {"benchmark": "query_latency", "cpus": os.cpu_count()}
    try:
        if not args.no_warm:
            result["warm"] = warm_benchmark(sizes, args.distinct, args.queries, root / "synthetic", log)
        if not args.no_cold:
            result["cold"] = cold_benchmark(args.repeat, root / "seeds", log)
    finally:
        if not args.data_dir:
            shutil.rmtree(root, ignore_errors=True)
    if args.json:
        print(json.dumps(result))
    else:
        render(result)
    return result


if __name__ == "__main__":
    main()
