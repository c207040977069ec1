#!/usr/bin/env python
"""Indexing throughput: a full index, a no-op re-index, and a raw `model.encode` of the same chunks.

    python benchmarks/index_throughput.py                 # 1,000 generated articles
    python benchmarks/index_throughput.py --articles 300 --json
    python benchmarks/index_throughput.py --corpus ~/news  # your own folder instead

It prints chunks/s for the full index and for the raw encode, the ratio of the two (target >= 0.9:
the indexer adds little on top of the model), the ratio of the full index time to the no-op
re-index time (target >= 50x: unchanged articles cost nearly nothing), where the full index spent
its time, and the peak RSS. The model is loaded and warmed up before any timing starts.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from indexing.embedding.models import get_embedder  # noqa: E402
from indexing.indexer import embedding_text, sync  # noqa: E402
from indexing.settings import IndexSettings, SettingsSource  # noqa: E402
from indexing.store.chroma import ChunkStore  # noqa: E402

# ---- a deterministic synthetic corpus -----------------------------------------------------------

_FIRST = ["Alice", "Omar", "Maria", "Ken", "Priya", "Lars", "Fatima", "Diego", "Mei", "Tomasz", "Grace", "Kwame"]
_LAST = ["Grant", "Haddad", "Lopez", "Ito", "Raman", "Nilsen", "Okafor", "Silva", "Chen", "Nowak", "Byrne", "Mensah"]
_ROLES = ["Mayor", "Finance Minister", "Sen.", "Dr.", "Prof.", "Chief Executive", "Police Chief", "Gov.", "Judge"]
_PLACES = ["Lisbon", "Nairobi", "Osaka", "Calgary", "Krakow", "Porto Alegre", "Dundee", "Hobart", "Accra", "Tampere"]
_ORGS = [
    "the city council",
    "the health ministry",
    "the central bank",
    "the transport authority",
    "the teachers' union",
    "the energy regulator",
    "the port authority",
    "the national weather service",
    "the supreme court",
    "a citizens' group",
]
_TOPICS = [
    "a plan to extend the tram network",
    "the new budget for public schools",
    "a proposal to raise water prices",
    "the contract for repairing the harbour bridge",
    "an inquiry into last spring's floods",
    "a trade agreement with Norway",
    "a ban on night flights",
    "the strategy for offshore wind power",
    "the merger of two regional hospitals",
    "a tax on sugary drinks",
    "new rules for short-term rentals",
    "the closure of a coal power station",
]
_VERBS = ["announced", "criticised", "approved", "postponed", "questioned", "welcomed", "rejected", "defended", "outlined"]
_WHEN = [
    "on Monday",
    "on Tuesday evening",
    "late on Wednesday",
    "on Thursday",
    "in a statement on Friday",
    "over the weekend",
    "at a press conference",
    "during a heated session",
    "after months of negotiation",
]
_SENTENCES = [
    "{role} {first} {last} {verb} {topic} {when}.",
    "{org_cap} {verb} {topic} {when}, saying the decision could not wait any longer.",
    "Officials in {place} estimated that the measure would cost about {n} million dollars over {k} years.",
    "About {n} people gathered outside the offices of {org} to protest against {topic}.",
    '"We have listened to everyone, and this is the fairest outcome," {first} {last} told reporters.',
    "Critics argued that {topic} would hurt families on low incomes in {place} and beyond.",
    "The vote passed by {n} to {k}, with several members abstaining.",
    "According to figures released by {org}, prices rose by {k}.{n2} percent in the year to {month}.",
    "A final decision is expected in {month}, once {org} has published its review.",
    "It was not immediately clear how the new rules would be enforced, or who would pay for them.",
    "{first} {last}, who has led {org} since {year}, said the changes were long overdue.",
    "Residents of {place} said they had first raised their concerns more than {k} years ago.",
    "The opposition called for an independent inquiry and demanded that {role} {last} appear before parliament.",
    "Analysts said the announcement was likely to shape the debate ahead of next year's elections.",
]
_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"]


def _sentence(rng: random.Random) -> str:
    org = rng.choice(_ORGS)
    text = rng.choice(_SENTENCES).format(
        role=rng.choice(_ROLES),
        first=rng.choice(_FIRST),
        last=rng.choice(_LAST),
        verb=rng.choice(_VERBS),
        topic=rng.choice(_TOPICS),
        when=rng.choice(_WHEN),
        org=org,
        org_cap=org[0].upper() + org[1:],
        place=rng.choice(_PLACES),
        n=rng.randint(12, 950),
        n2=rng.randint(0, 9),
        k=rng.randint(2, 19),
        month=rng.choice(_MONTHS),
        year=rng.randint(1998, 2021),
    )
    return text[0].upper() + text[1:]


def generate_corpus(folder: Path, articles: int, seed: int = 2022) -> None:
    """`articles` .txt files in the seed convention, 4-7 paragraphs of 3-6 sentences each."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(articles):
        day = 1 + i % 28
        month = _MONTHS[i % 12]
        title = f"{rng.choice(_PLACES)}: {rng.choice(_ORGS)} {rng.choice(_VERBS)} {rng.choice(_TOPICS)}"
        paragraphs = [" ".join(_sentence(rng) for _ in range(rng.randint(3, 6))) for _ in range(rng.randint(4, 7))]
        body = "\n\n".join(paragraphs)
        (folder / f"{i:05d}.txt").write_text(f"{month} {day}, 2022\n\n{title[0].upper() + title[1:]}\n\n{body}\n", encoding="utf-8")


# ---- timing helpers -----------------------------------------------------------------------------


class TimedEmbedder:
    """The real embedder, with the time spent in the tokenizer and in the model added up."""

    def __init__(self, inner):
        self.inner = inner
        self.name, self.backend, self.precision = inner.name, inner.backend, inner.precision
        self.encode_seconds = 0.0
        self.tokenize_seconds = 0.0
        if hasattr(inner, "embed_with_spans"):  # the indexer's path when the model exposes its tokens
            self.embed_with_spans = self._embed_with_spans

    @contextmanager
    def _clock(self, total: str) -> Iterator[None]:
        """Add the time the block takes to the attribute `total`."""
        began = time.perf_counter()
        try:
            yield
        finally:
            setattr(self, total, getattr(self, total) + time.perf_counter() - began)

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


def peak_rss_mb() -> float:
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kilobytes on Linux
    return kb / 1024 if sys.platform != "darwin" else kb / 1024 / 1024


# ---- the benchmark ------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> dict:
    workdir = Path(tempfile.mkdtemp(prefix="newsbot-bench-"))
    try:
        if args.corpus:
            corpus = Path(args.corpus).expanduser().resolve()
            if not corpus.exists():
                raise SystemExit(f"error: corpus folder {corpus} does not exist")
        else:
            corpus = workdir / "corpus"
            generate_corpus(corpus, args.articles)
        data_dir = Path(args.data_dir).expanduser() if args.data_dir else workdir / "data"
        if (data_dir / "chroma").exists() and any((data_dir / "chroma").iterdir()):
            raise SystemExit(f"error: {data_dir} already holds an index; pass an empty --data-dir (a full index needs one)")

        env = {"NEWSBOT_DATA_DIR": str(data_dir), "NEWSBOT_CONFIG": str(workdir / "no-config.toml")}
        settings = IndexSettings.from_env(SettingsSource(env=env), threads=args.threads, embed_batch_size=args.batch_size)
        load_before = os.getloadavg()[0]
        model = get_embedder(settings.embed_model, settings.threads, settings.embed_batch_size)
        model.embed_documents(["warm up the model", "and its kernels"])  # load before any timing
        embedder = TimedEmbedder(model)
        store = TimedStore(settings)

        began, began_cpu = time.perf_counter(), time.process_time()
        full = sync([corpus], store, embedder, settings)
        full_seconds, full_cpu = time.perf_counter() - began, time.process_time() - began_cpu
        if full.embedded_chunks == 0:
            raise SystemExit("error: nothing was indexed (is the corpus empty?)")

        began = time.perf_counter()
        noop = sync([corpus], store, embedder, settings)
        noop_seconds = time.perf_counter() - began

        # The very texts the indexer embedded (title line + chunk), in the order it embedded them.
        texts = [embedding_text_of(c) for c in sorted(store.iter_chunks(), key=lambda c: (c.article_id, c.ordinal))]
        st_model = model.model
        began, began_cpu = time.perf_counter(), time.process_time()
        st_model.encode(
            texts, batch_size=settings.embed_batch_size, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
        )
        raw_seconds, raw_cpu = time.perf_counter() - began, time.process_time() - began_cpu

        full_rate = full.embedded_chunks / full_seconds
        raw_rate = len(texts) / raw_seconds
        other = full_seconds - embedder.encode_seconds - store.write_seconds - embedder.tokenize_seconds
        return {
            "articles": full.articles,
            "chunks": full.chunks,
            "failed": len(full.failed),
            "threads": settings.threads,
            "batch_size": settings.embed_batch_size,
            "full_index_seconds": round(full_seconds, 2),
            "full_index_chunks_per_s": round(full_rate, 1),
            "noop_reindex_seconds": round(noop_seconds, 3),
            "noop_embedded_chunks": noop.embedded_chunks,
            "raw_encode_seconds": round(raw_seconds, 2),
            "raw_encode_chunks_per_s": round(raw_rate, 1),
            "index_over_raw": round(full_rate / raw_rate, 3),
            # CPU seconds of this process: steadier than wall time when other work shares the cores.
            "full_index_cpu_seconds": round(full_cpu, 2),
            "raw_encode_cpu_seconds": round(raw_cpu, 2),
            "index_over_raw_cpu": round((full.embedded_chunks / full_cpu) / (len(texts) / raw_cpu), 3),
            "full_over_noop": round(full_seconds / noop_seconds, 1),
            "breakdown_seconds": {
                "embed": round(embedder.encode_seconds, 2),
                "chroma_writes": round(store.write_seconds, 2),
                "tokenizer": round(embedder.tokenize_seconds, 2),
                "read_chunk_rest": round(other, 2),
            },
            "peak_rss_mb": round(peak_rss_mb(), 1),
            # The figures are only as steady as the machine: other work on the cores shows up here.
            "load_average_start_end": [round(load_before, 2), round(os.getloadavg()[0], 2)],
            "python": sys.version.split()[0],
            "cpus": os.cpu_count(),
        }
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)


def embedding_text_of(chunk) -> str:
    """What the indexer gave the model for this chunk (embedding_text reads only the title)."""
    return embedding_text(SimpleNamespace(title=chunk.title), chunk.text)  # type: ignore[arg-type]


def print_table(result: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    def verdict(ok: bool) -> str:
        return "[green]meets target[/]" if ok else "[red]below target[/]"

    table = Table(
        title=f"newsbot indexing: {result['articles']} articles, {result['chunks']} chunks "
        f"({result['threads']} thread(s), batch {result['batch_size']})"
    )
    table.add_column("measure", no_wrap=True)
    table.add_column("value", justify="right", no_wrap=True)
    table.add_column("note")
    table.add_row("full index", f"{result['full_index_chunks_per_s']:.1f} chunks/s", f"{result['full_index_seconds']:.1f} s")
    table.add_row("no-op re-index", f"{result['noop_reindex_seconds']:.2f} s", f"{result['noop_embedded_chunks']} chunks embedded")
    table.add_row("raw model.encode", f"{result['raw_encode_chunks_per_s']:.1f} chunks/s", f"{result['raw_encode_seconds']:.1f} s")
    table.add_row("index / raw encode", f"{result['index_over_raw']:.3f}", "target >= 0.9: " + verdict(result["index_over_raw"] >= 0.9))
    table.add_row(
        "  same, by CPU time",
        f"{result['index_over_raw_cpu']:.3f}",
        f"{result['full_index_cpu_seconds']:.1f} / {result['raw_encode_cpu_seconds']:.1f} CPU s: "
        + verdict(result["index_over_raw_cpu"] >= 0.9),
    )
    table.add_row("full / no-op", f"{result['full_over_noop']:.0f}x", "target >= 50x: " + verdict(result["full_over_noop"] >= 50))
    for name, seconds in result["breakdown_seconds"].items():
        share = 100 * seconds / result["full_index_seconds"]
        table.add_row(f"  full index: {name.replace('_', ' ')}", f"{seconds:.1f} s", f"{share:.0f}% of the full index")
    table.add_row("peak RSS", f"{result['peak_rss_mb']:.0f} MB", "")
    start, end = result["load_average_start_end"]
    table.add_row("load average", f"{start:.1f} / {end:.1f}", f"start / end, {result['cpus']} CPUs")
    if result["failed"]:
        table.add_row("files that failed", str(result["failed"]), "")
    Console().print(table)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=1000, help="how many articles to generate (default 1000)")
    parser.add_argument("--corpus", help="index this folder instead of a generated corpus")
    parser.add_argument("--data-dir", help="where to build the index (default: a temporary folder, deleted afterwards)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads for both the index and the raw encode (default 1)")
    parser.add_argument("--batch-size", type=int, default=32, help="model batch size for both (default 32)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary corpus and index")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    args = parser.parse_args(argv)
    if args.articles < 1:
        parser.error("--articles must be at least 1")
    result = run(args)
    if args.json:
        print(json.dumps(result))
    else:
        print_table(result)


if __name__ == "__main__":
    main()
