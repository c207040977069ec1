#!/usr/bin/env python
"""Arrival latency: from a file landing in a watched folder until a query finds it.

    python benchmarks/arrivals.py                          # ~10,000 chunks in the index, 50 arrivals
    python benchmarks/arrivals.py --chunks 2000 --arrivals 20 --json
    python benchmarks/arrivals.py --embed-corpus           # embed the background corpus for real (slow)

A synthetic corpus of news-like articles fills the index to --chunks chunks first. By default its
chunks get random unit vectors, written through the store's own write protocol, so the set-up takes
seconds instead of minutes of embedding; the index, the registry, the keyword index and every step
an arrival goes through are the real ones. Then a real `Watcher` (watchfiles, the model, Chroma) runs
in this process and, one at a time, an article with a unique word lands in the folder (written to a
hidden temporary file and renamed, as a downloader or the feed poller does). From the rename on, the
benchmark queries until the article is answerable:
- dense: the top 10 of a vector query for its last paragraph hold one of its committed chunks;
- keyword: BM25 for its unique word finds one of its committed chunks (this includes the update of
  the keyword index the new generation triggers);
and prints p50/p95/max of each, and of whichever came first ("answerable").
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

from bot.evaluation.metrics import percentile  # noqa: E402
from indexing.arrivals.watch import Watcher
from indexing.index import NewsIndex  # noqa: E402
from indexing.indexer import indexing_signature, versioned  # noqa: E402
from indexing.settings import (  # noqa: E402
    IndexSettings,
    SettingsSource,
    WatchSettings,  # noqa: E402
)
from indexing.sources.files import read_file  # noqa: E402
from indexing.store.records import PreparedArticle  # noqa: E402
from indexing.text.chunking import chunk_text  # noqa: E402

_SYLLABLES = ["ka", "lo", "mi", "ren", "to", "sa", "vel", "dor", "an", "is", "ul", "mar", "ten", "ro", "bi", "gan", "el", "os"]
_COMMON = "the a of to in and said on for that with was by at from would its after has been will new".split()


def vocabulary(rng: random.Random, size: int = 4000) -> list[str]:
    words = set()
    while len(words) < size:
        words.add("".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 4))))
    return sorted(words)


def sentence(rng: random.Random, vocab: list[str]) -> str:
    words = [rng.choice(vocab) if rng.random() < 0.55 else rng.choice(_COMMON) for _ in range(rng.randint(12, 22))]
    return " ".join(words).capitalize() + "."


def article_text(rng: random.Random, vocab: list[str], sentences: int = 40) -> str:
    paragraphs, current = [], []
    for _ in range(sentences):
        current.append(sentence(rng, vocab))
        if len(current) == 4:
            paragraphs.append(" ".join(current))
            current = []
    if current:
        paragraphs.append(" ".join(current))
    return "\n\n".join(paragraphs)


def write_article(folder: Path, name: str, title: str, body: str) -> Path:
    """Land a file the way downloaders do: a hidden temporary file, then one rename."""
    temporary = folder / f".{name}.part"
    temporary.write_text(f"2024-03-01\n\n{title}\n\n{body}\n", encoding="utf-8")
    final = folder / name
    os.replace(temporary, final)
    return final


def build_background(index: NewsIndex, corpus: Path, target_chunks: int, embed: bool, rng: random.Random, vocab: list[str]) -> int:
    """Write articles until the index holds about `target_chunks` chunks; returns the chunk count."""
    embedder, settings = index.embedder, index.settings
    dim = embedder.dimension
    vec_rng = np.random.default_rng(7)
    pending: list[PreparedArticle] = []
    chunks_total, number = 0, 0
    while chunks_total < target_chunks:
        path = write_article(corpus, f"bg{number:05d}.txt", f"Background story {number}", article_text(rng, vocab))
        number += 1
        if embed:
            chunks_total += len(chunk_text(path.read_text(), embedder.count_tokens, settings.chunk_tokens, settings.chunk_overlap_tokens))
            continue
        (article,) = read_file(path).articles
        article = versioned(article, indexing_signature(settings))  # the hash a sync compares: unchanged at start
        chunks = chunk_text(article.text, embedder.count_tokens, settings.chunk_tokens, settings.chunk_overlap_tokens)
        vectors = vec_rng.standard_normal((len(chunks), dim)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        pending.append(PreparedArticle(article=article, chunks=chunks, vectors=vectors))
        chunks_total += len(chunks)
        if sum(len(p.chunks) for p in pending) >= 900:
            index.store.write_articles(pending)
            pending = []
    if pending:
        index.store.write_articles(pending)
    if embed:
        index.sync([corpus])
    index.keywords.current()
    return index.store.chunk_count()


def measure(index: NewsIndex, watcher: Watcher, corpus: Path, arrivals: int, rng: random.Random, vocab: list[str], timeout: float):
    store, embedder = index.store, index.embedder
    rows = []
    for i in range(arrivals):
        word = f"zq{i:03d}" + "".join(rng.choice("bcdfghjklmnpqrstvwxz") for _ in range(6))
        key_paragraph = article_text(rng, vocab, sentences=3) + f" The {word} committee published its report on Tuesday."
        body = article_text(rng, vocab, sentences=12) + "\n\n" + key_paragraph
        vector = embedder.embed_query(key_paragraph)  # before the landing: not part of the latency
        name = f"arrival{i:03d}.txt"
        article_id = str((corpus / name).resolve())
        syncs_before = len(watcher.history)
        write_article(corpus, name, f"Arrival {i}", body)
        landed = time.perf_counter()
        dense = keyword = None
        while (dense is None or keyword is None) and time.perf_counter() - landed < timeout:
            # The committed hash of this one article (what `committed_hashes()` gives for it, cheaper).
            got = store.articles.get(ids=[article_id], include=["metadatas"])
            sha = str(got["metadatas"][0].get("sha256", "")) if got["ids"] else ""
            if sha and dense is None:
                if any(c.article_id == article_id and c.sha256 == sha for c, _ in store.query(vector, 10)):
                    dense = time.perf_counter() - landed
            if sha and keyword is None:
                hits = index.keywords.current().search(word, 5)
                if any(h.article_id == article_id and h.sha256 == sha for h in hits):
                    keyword = time.perf_counter() - landed
            time.sleep(0.02)
        watcher.wait_for(lambda h, before=syncs_before: len(h) > before, timeout)  # let the sync (and its keyword update) finish
        events = [e for e in watcher.history[syncs_before:] if e.report is not None]
        indexer = sum(e.report.seconds for e in events)
        rows.append(
            {
                "arrival": i,
                "dense": dense,
                "keyword": keyword,
                "syncs": len(events),
                "sync": sum(e.seconds for e in events),  # the watcher's whole sync
                "indexer": indexer,  # read, chunk, embed, write, commit
                "keyword_refresh": sum(e.seconds for e in events) - indexer,  # the BM25 update after it
            }
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chunks", type=int, default=10_000, help="chunks in the index before the arrivals (default 10,000)")
    parser.add_argument("--arrivals", type=int, default=50, help="files to land, one at a time (default 50)")
    parser.add_argument("--embed-corpus", action="store_true", help="embed the background corpus for real instead of random vectors")
    parser.add_argument("--quiet-ms", type=int, default=WatchSettings.quiet_ms, help="the watcher's quiet period (default %(default)s)")
    parser.add_argument("--debounce-ms", type=int, default=WatchSettings.debounce_ms)
    parser.add_argument("--timeout", type=float, default=60.0, help="give up on one arrival after this many seconds")
    parser.add_argument("--dir", type=Path, help="work folder (default: a temporary one, removed afterwards)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    work = args.dir or Path(tempfile.mkdtemp(prefix="newsbot-arrivals-"))
    corpus = work / "corpus"
    corpus.mkdir(parents=True, exist_ok=True)
    settings = IndexSettings.from_env(SettingsSource(env={"NEWSBOT_DATA_DIR": str(work / "data"), "NEWSBOT_CONFIG": str(work / "none")}))
    index = NewsIndex(settings)
    rng = random.Random(2024)
    vocab = vocabulary(rng)
    try:
        index.embedder.embed_query("warm up")
        began = time.perf_counter()
        chunks = build_background(index, corpus, args.chunks, args.embed_corpus, rng, vocab)
        setup = time.perf_counter() - began
        watch_settings = WatchSettings(debounce_ms=args.debounce_ms, quiet_ms=args.quiet_ms, feed_poll_minutes=0)
        with Watcher(index, [corpus], watch_settings) as watcher:
            if not watcher.wait_ready(600):
                raise SystemExit("the watcher did not start")
            start_sync = watcher.history[0].seconds
            rows = measure(index, watcher, corpus, args.arrivals, rng, vocab, args.timeout)
        report(rows, chunks, setup, start_sync, args)
    finally:
        if args.dir is None:
            shutil.rmtree(work, ignore_errors=True)


def report(rows: list[dict], chunks: int, setup: float, start_sync: float, args) -> None:
    def series(key: str) -> list[float]:
        return [r[key] for r in rows if r[key] is not None]

    first = [
        min(v for v in (r["dense"], r["keyword"]) if v is not None) for r in rows if r["dense"] is not None or r["keyword"] is not None
    ]
    metrics = {
        "answerable (first of dense, keyword)": first,
        "dense (vector query, committed filter)": series("dense"),
        "keyword (BM25 incl. its update)": series("keyword"),
        "  watcher sync, all of it": series("sync"),
        "  of which indexer (read, embed, write)": series("indexer"),
        "  of which keyword index refresh": series("keyword_refresh"),
    }
    nan = float("nan")
    summary = {
        name: {"n": len(v), "p50": percentile(v, 50) if v else nan, "p95": percentile(v, 95) if v else nan, "max": max(v) if v else nan}
        for name, v in metrics.items()
    }
    missed = sum(r["dense"] is None and r["keyword"] is None for r in rows)
    extra_syncs = sum(r["syncs"] != 1 for r in rows)
    if args.json:
        print(
            json.dumps(
                {
                    "chunks": chunks,
                    "arrivals": len(rows),
                    "missed": missed,
                    "setup_seconds": setup,
                    "start_sync_seconds": start_sync,
                    "quiet_ms": args.quiet_ms,
                    "metrics": summary,
                    "rows": rows,
                }
            )
        )
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"Arrival latency, seconds ({len(rows)} arrivals, {chunks:,} chunks in the index)")
    for column in ("from landing until", "n", "p50", "p95", "max"):
        table.add_column(column, justify="left" if column.startswith("from") else "right")
    for name, s in summary.items():
        table.add_row(name, str(s["n"]), f"{s['p50']:.3f}", f"{s['p95']:.3f}", f"{s['max']:.3f}")
    console = Console()
    console.print(table)
    vectors = "embedded" if args.embed_corpus else "random vectors"
    console.print(
        f"background: {chunks:,} chunks ({vectors}) set up in {setup:.1f}s; the watcher's start sync took {start_sync:.2f}s; "
        f"quiet {args.quiet_ms} ms; {missed} arrival(s) never answerable; {extra_syncs} arrival(s) took other than one sync"
    )


if __name__ == "__main__":
    main()
