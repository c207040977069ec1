#!/usr/bin/env python
"""Indexing throughput: newsbot with its defaults beside LangChain's textbook pipeline, on one corpus, in one run.

    python benchmarks/index_throughput.py                         # RealTimeQA dev articles when ../shared/eval has them
    python benchmarks/index_throughput.py --articles 419          # a generated corpus of that many articles instead
    python benchmarks/index_throughput.py --corpus ~/news --json  # your own folder or file
    python benchmarks/index_throughput.py --also fp32:NEWSBOT_EMBED_PRECISION=fp32 --also overlap40:NEWSBOT_CHUNK_OVERLAP=40

Each pipeline runs in a fresh process of its own (so neither inherits the other's threads, caches
or memory), after its model is loaded and warmed up:

- textbook: `RecursiveCharacterTextSplitter(1000, 200)`, the same all-MiniLM-L6-v2 weights by
  sentence-transformers on torch's default threads (every core), `langchain_chroma.Chroma`
  (bot.evaluation.baseline, the baseline `newsbot eval --baseline` runs);
- newsbot: `NewsIndex.sync` with default settings into an empty data dir (what `newsbot index` does),
  then a no-op re-index, then a raw embed of the same chunks by the same embedder.

It prints, per pipeline, the wall time, articles/s, chunks/s and peak RSS, and newsbot's speed-up
in articles/s (target >= 2x); for newsbot, the no-op re-index (target >= 50x faster than the full
one), the index over the raw embed of its chunks (target >= 0.9: the indexer adds little to the
model), where the full index spent its time, and the one-time export of the embedding graph when
this machine had none yet (kept out of the index time: it happens once per machine).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.generated_corpus import generate_corpus  # noqa: E402
from indexing.indexer import embedding_text  # noqa: E402
from indexing.store.chroma import ChunkStore  # noqa: E402

REAL_CORPUS = Path("realtimeqa_dev") / "articles.jsonl"  # inside the eval dir, when it is there
TARGET_SPEEDUP, TARGET_INDEX_OVER_RAW, TARGET_FULL_OVER_NOOP = 2.0, 0.9, 50.0

# ---- timing helpers -----------------------------------------------------------------------------


class TimedEmbedder:
    """The real embedder, with the time spent in the tokenizer and in the model added up."""

    def __init__(self, inner: Any):
        self.inner = inner
        self.name, self.backend, self.precision = inner.name, inner.backend, inner.precision
        self.encode_seconds = 0.0
        self.tokenize_seconds = 0.0
        self._lock = threading.Lock()
        self._running: dict[str, list] = {}  # total -> [blocks running, since when]
        if hasattr(inner, "embed_with_spans"):  # the indexer's path when the model exposes its tokens
            self.embed_with_spans = self._embed_with_spans
        if hasattr(inner, "worker_processes"):  # a long sync embeds in processes
            self.worker_processes = inner.worker_processes

    @contextmanager
    def _clock(self, total: str) -> Iterator[None]:
        """Add to the attribute `total` the time during which at least one such block runs: the indexer
        embeds two batches at once, and their overlap counts once."""
        with self._lock:
            running = self._running.setdefault(total, [0, 0.0])
            if running[0] == 0:
                running[1] = time.perf_counter()
            running[0] += 1
        try:
            yield
        finally:
            with self._lock:
                running[0] -= 1
                if running[0] == 0:
                    setattr(self, total, getattr(self, total) + time.perf_counter() - running[1])

    def _embed_with_spans(self, texts, spans):
        with self._clock("encode_seconds"):
            return self.inner.embed_with_spans(texts, spans)

    def count_tokens(self, texts):
        with self._clock("tokenize_seconds"):
            return self.inner.count_tokens(texts)

    def embed_documents(self, texts):
        with self._clock("encode_seconds"):
            return self.inner.embed_documents(texts)

    def embed_query(self, text):
        return self.inner.embed_query(text)


class TimedStore(ChunkStore):
    """The real store, with the time spent writing articles added up."""

    write_seconds = 0.0

    def write_articles(self, items):
        began = time.perf_counter()
        try:
            return super().write_articles(items)
        finally:
            self.write_seconds += time.perf_counter() - began


def _mb(kb: int) -> float:
    return kb / 1024 if sys.platform != "darwin" else kb / 1024 / 1024  # ru_maxrss: kilobytes on Linux, bytes on macOS


def peak_rss_mb(workers: int = 0) -> float:
    """This process's peak resident memory, plus `workers` times the largest finished child's: the
    embedding worker processes ran side by side, so together they held at most that much."""
    return _mb(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) + workers * worker_rss_mb()


def worker_rss_mb() -> float:
    return _mb(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)


def _cpu_seconds() -> float:
    """CPU time of this process and of its finished children (the embedding workers)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


@contextmanager
def clocked(result: dict[str, float]) -> Iterator[None]:
    """Wall and CPU seconds of the block (workers' included), into result["seconds"] and result["cpu_seconds"]."""
    began, began_cpu = time.perf_counter(), _cpu_seconds()
    try:
        yield
    finally:
        result["seconds"] = time.perf_counter() - began
        result["cpu_seconds"] = _cpu_seconds() - began_cpu


# ---- one pipeline per process ---------------------------------------------------------------------


def measure_newsbot(corpus: Path, workdir: Path) -> dict[str, Any]:
    """A full index with the default settings (an empty data dir of its own), a no-op re-index, a raw embed."""
    from indexing.index import NewsIndex
    from indexing.settings import IndexSettings, SettingsSource

    env = {k: v for k, v in os.environ.items() if k.startswith(("NEWSBOT_", "CHROMA_"))}
    env |= {"NEWSBOT_DATA_DIR": str(workdir / "data"), "NEWSBOT_CONFIG": str(workdir / "no-config.toml")}
    settings = IndexSettings.from_env(SettingsSource(env=env))
    index = NewsIndex(settings)
    index.__dict__["store"] = store = TimedStore(settings)
    export: dict[str, float] = {}
    if settings.backend == "onnx":
        already = index._graph_at_hand()
        with clocked(export):
            index.ensure_graph()  # once per machine: kept out of the index time, reported beside it
        export["cached"] = already
    embedder = TimedEmbedder(index.batch_embedder)
    embedder.inner.embed_documents(["warm up the model", "and its kernels"] * 4)  # load before any timing
    index.__dict__["batch_embedder"] = embedder

    full: dict[str, float] = {}
    with clocked(full):
        report = index.sync([corpus])
    if report.embedded_chunks == 0:
        raise SystemExit("error: nothing was indexed (is the corpus empty?)")
    noop: dict[str, float] = {}
    with clocked(noop):
        again = index.sync([corpus])
    # The very texts the indexer embedded (title line + chunk), embedded again by the same embedder.
    texts = [embedding_text(SimpleNamespace(title=c.title), c.text) for c in store.iter_chunks()]  # type: ignore[arg-type]
    raw: dict[str, float] = {}
    with clocked(raw):
        embedder.inner.embed_documents(texts)
    # Chunking and writes overlap the embedding; what remains is the time with no batch being embedded.
    processes = embedder.inner.workers if worker_rss_mb() > 0 and hasattr(embedder.inner, "worker_processes") else 0
    other = full["seconds"] - embedder.encode_seconds
    return {
        "pipeline": "newsbot",
        "articles": report.articles,
        "chunks": report.chunks,
        "failed": len(report.failed),
        "seconds": full["seconds"],
        "cpu_seconds": full["cpu_seconds"],
        "peak_rss_mb": peak_rss_mb(workers=processes),
        "worker_processes": processes,
        "worker_rss_mb": worker_rss_mb() if processes else 0.0,
        "settings": {
            "backend": settings.backend,
            "precision": index.store.precision,
            "sessions": getattr(embedder.inner, "workers", 1),
            "threads": settings.batch_thread_count,
            "chunk_tokens": settings.chunk_tokens,
            "overlap_tokens": settings.chunk_overlap_tokens,
        },
        "graph_export_seconds": None if export.get("cached", True) else round(export["seconds"], 1),
        "noop_seconds": noop["seconds"],
        "noop_embedded_chunks": again.embedded_chunks,
        "raw_embed_seconds": raw["seconds"],
        "breakdown_seconds": {
            "a batch being embedded": embedder.encode_seconds,
            "none being embedded (the plan, the first chunks, the last write)": other,
            "tokenizer for chunk budgets (overlaps the embedding)": embedder.tokenize_seconds,
            "chroma writes (their own thread, overlaps the embedding)": store.write_seconds,
        },
    }


def measure_textbook(corpus: Path, workdir: Path) -> dict[str, Any]:
    """LangChain's textbook pipeline over the same articles: split, embed on every core, Chroma."""
    from bot.evaluation.baseline import NaiveRag
    from bot.evaluation.datasets import read_corpus
    from indexing.embedding.models import SentenceTransformerEmbedder

    embedder = SentenceTransformerEmbedder(threads=len(os.sched_getaffinity(0)))  # torch's own default: every core
    embedder.embed_documents(["warm up the model", "and its kernels"] * 4)
    rag = NaiveRag(embedder, workdir / "textbook")
    full: dict[str, float] = {}
    with clocked(full):
        articles = read_corpus((corpus,))
        chunks = rag.build(articles.values())
    return {
        "pipeline": "textbook",
        "articles": len(articles),
        "chunks": chunks,
        "failed": 0,
        "seconds": full["seconds"],
        "cpu_seconds": full["cpu_seconds"],
        "peak_rss_mb": peak_rss_mb(),
    }


SIDES = {"newsbot": measure_newsbot, "textbook": measure_textbook}


def run_side(side: str, corpus: Path, env: dict[str, str]) -> dict[str, Any]:
    """One pipeline in a fresh process of its own; its JSON result."""
    command = [sys.executable, __file__, "--side", side, "--corpus", str(corpus), "--json"]
    done = subprocess.run(command, env={**os.environ, **env}, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"error: the {side} run failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# ---- the run -------------------------------------------------------------------------------------


def default_corpus() -> Path | None:
    from bot.settings import default_eval_dir

    path = Path(os.environ.get("NEWSBOT_EVAL_DIR") or default_eval_dir()) / REAL_CORPUS
    return path if path.is_file() else None


def parse_variant(text: str) -> tuple[str, dict[str, str]]:
    """`name:KEY=VALUE,KEY=VALUE` -> (name, env)."""
    name, _, pairs = text.partition(":")
    env = dict(pair.split("=", 1) for pair in pairs.split(",") if "=" in pair)
    if not name or not env:
        raise SystemExit(f"error: --also {text!r}: expected NAME:KEY=VALUE[,KEY=VALUE]")
    return name, env


def run(args: argparse.Namespace) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix="newsbot-bench-"))
    try:
        if args.corpus:
            corpus = Path(args.corpus).expanduser().resolve()
            if not corpus.exists():
                raise SystemExit(f"error: corpus {corpus} does not exist")
            corpus_name = str(corpus)
        elif args.articles is None and (real := default_corpus()):
            corpus, corpus_name = real, "RealTimeQA dev articles (../shared/eval)"
        else:
            corpus = workdir / "corpus"
            generate_corpus(corpus, args.articles or 419)
            corpus_name = f"{args.articles or 419} generated articles"
        load_before = os.getloadavg()[0]
        runs = {"textbook": run_side("textbook", corpus, {}), "newsbot": run_side("newsbot", corpus, {})}
        for name, env in map(parse_variant, args.also):
            runs[f"newsbot {name}"] = run_side("newsbot", corpus, env) | {"env": env}
        base = runs["textbook"]
        for result in runs.values():
            result["articles_per_s"] = result["articles"] / result["seconds"]
            result["chunks_per_s"] = result["chunks"] / result["seconds"]
            result["speedup"] = result["articles_per_s"] / base["articles_per_s"]
            if "noop_seconds" in result:
                result["full_over_noop"] = result["seconds"] / result["noop_seconds"]
                result["index_over_raw"] = (result["chunks"] / result["seconds"]) / (result["chunks"] / result["raw_embed_seconds"])
        return {
            "corpus": corpus_name,
            "runs": runs,
            "load_average_start_end": [round(load_before, 2), round(os.getloadavg()[0], 2)],
            "python": sys.version.split()[0],
            "cpus": os.cpu_count(),
        }
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)


def print_table(result: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    def verdict(ok: bool) -> str:
        return "[green]meets target[/]" if ok else "[red]below target[/]"

    console = Console()
    table = Table(title=f"full index of {result['corpus']}: each pipeline in its own process, model loaded first")
    for column in ("pipeline", "wall", "articles/s", "chunks", "chunks/s", "peak RSS", "vs textbook"):
        table.add_column(column, justify="left" if column == "pipeline" else "right")
    for name, r in result["runs"].items():
        speed = f"{r['speedup']:.2f}x" if name != "textbook" else "1x"
        if name == "newsbot":
            speed += f" (target >= {TARGET_SPEEDUP:.0f}x: {verdict(r['speedup'] >= TARGET_SPEEDUP)})"
        table.add_row(
            name + (f" ({', '.join(f'{k}={v}' for k, v in r['env'].items())})" if r.get("env") else ""),
            f"{r['seconds']:.1f} s",
            f"{r['articles_per_s']:.2f}",
            f"{r['chunks']:,}",
            f"{r['chunks_per_s']:.1f}",
            f"{r['peak_rss_mb']:,.0f} MB" + (f" (with {r['worker_processes']} workers)" if r.get("worker_processes") else ""),
            speed,
        )
    console.print(table)

    r = result["runs"]["newsbot"]
    detail = Table(title="newsbot, default settings: " + ", ".join(f"{k} {v}" for k, v in r["settings"].items()))
    detail.add_column("measure", no_wrap=True)
    detail.add_column("value", justify="right", no_wrap=True)
    detail.add_column("note")
    detail.add_row(
        "no-op re-index",
        f"{r['noop_seconds']:.2f} s",
        f"{r['full_over_noop']:.0f}x faster than the full index, target >= {TARGET_FULL_OVER_NOOP:.0f}x: "
        + verdict(r["full_over_noop"] >= TARGET_FULL_OVER_NOOP),
    )
    detail.add_row(
        "index / raw embed",
        f"{r['index_over_raw']:.2f}",
        f"raw embed of the same chunks {r['raw_embed_seconds']:.1f} s, target >= {TARGET_INDEX_OVER_RAW}: "
        + verdict(r["index_over_raw"] >= TARGET_INDEX_OVER_RAW),
    )
    for name, seconds in r["breakdown_seconds"].items():
        detail.add_row(f"  full index: {name}", f"{seconds:.1f} s", f"{100 * seconds / r['seconds']:.0f}% of the full index's wall time")
    export = r["graph_export_seconds"]
    detail.add_row("graph export", "cached" if export is None else f"{export:.1f} s", "once per machine, before the first index")
    start, end = result["load_average_start_end"]
    detail.add_row("load average", f"{start:.1f} / {end:.1f}", f"start / end, {result['cpus']} CPUs")
    if r["failed"]:
        detail.add_row("articles that failed", str(r["failed"]), "")
    console.print(detail)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, help="index this many generated articles (default: the real corpus, else 419)")
    parser.add_argument("--corpus", help="index this folder or file instead")
    parser.add_argument(
        "--also", action="append", default=[], metavar="NAME:KEY=VALUE", help="one more newsbot run with these settings (repeatable)"
    )
    parser.add_argument("--side", choices=sorted(SIDES), help=argparse.SUPPRESS)  # one pipeline, in the child process
    parser.add_argument("--keep", action="store_true", help="keep the temporary corpus and indexes")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the tables")
    args = parser.parse_args(argv)
    if args.articles is not None and args.articles < 1:
        parser.error("--articles must be at least 1")
    if args.side:
        with tempfile.TemporaryDirectory(prefix=f"newsbot-bench-{args.side}-") as tmp:
            print(json.dumps(SIDES[args.side](Path(args.corpus), Path(tmp))))
        return
    result = run(args)
    if args.json:
        print(json.dumps(result))
    else:
        print_table(result)


if __name__ == "__main__":
    main()
