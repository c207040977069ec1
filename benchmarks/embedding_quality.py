#!/usr/bin/env python
"""Retrieval quality by embedding precision and chunk overlap: is the faster index as good?

    python benchmarks/embedding_quality.py                      # fp32/40 (the reference) against int8 at 40, 20 and 0
    python benchmarks/embedding_quality.py --variant int8:20 --variant fp32:0 --json
    python benchmarks/embedding_quality.py --answerer reader    # rank by the reader too (slower)

Each variant indexes the evaluation sets' own articles privately (`newsbot eval`'s runner, the same
code) with that precision and overlap, and scores retrieval by gold article: RealTimeQA dev recall@5
and MRR@10, SQuAD 2.0 dev recall@1. The ranking is the answerer's (`heuristic`: hybrid retrieval's
own order; `reader`: reranked by the reader). A variant is "within" when no figure falls more than
0.01 below the reference's. Needs the evaluation data beside the project (`NEWSBOT_EVAL_DIR`).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.evaluation.datasets import load_dataset  # noqa: E402
from bot.evaluation.runner import run_eval  # noqa: E402
from bot.settings import BotSettings  # noqa: E402

REFERENCE = "fp32:40"
DEFAULT_VARIANTS = ("int8:40", "int8:20", "int8:0")
# (set, metric): the figures the faster index must keep within TOLERANCE of the reference's.
FIGURES = (("realtimeqa_dev", "recall@5"), ("realtimeqa_dev", "mrr"), ("squad2_dev", "recall@1"))
TOLERANCE = 0.01


def parse_variant(text: str) -> tuple[str, int]:
    precision, _, overlap = text.partition(":")
    if precision not in ("fp32", "int8") or not overlap.isdigit():
        raise SystemExit(f"error: --variant {text!r}: expected PRECISION:OVERLAP, e.g. int8:20")
    return precision, int(overlap)


def measure(settings: BotSettings, eval_dir: Path, precision: str, overlap: int, answerer: str, limit: int | None) -> dict[str, Any]:
    """The variant's figures on each set, and the chunks and seconds its index took."""
    variant = settings.replace(index=settings.index.replace(embed_precision=precision, chunk_overlap_tokens=overlap))
    figures: dict[str, Any] = {}
    for name in sorted({s for s, _ in FIGURES}):
        began = time.perf_counter()
        report = run_eval(load_dataset(eval_dir / name), variant, limit=limit, answerers=[answerer])
        (system,) = report.systems
        summary = system.summary
        figures[name] = {
            **{metric: summary[metric] for s, metric in FIGURES if s == name},
            "chunks": system.chunks,
            "index_seconds": round(system.index_seconds, 1),
            "seconds": round(time.perf_counter() - began, 1),
        }
    return figures


def run(args: argparse.Namespace) -> dict[str, Any]:
    settings = BotSettings.from_env()
    eval_dir = Path(args.eval_dir or settings.eval_dir)
    missing = [s for s, _ in FIGURES if not (eval_dir / s).exists()]
    if missing:
        raise SystemExit(f"error: {', '.join(sorted(set(missing)))} not found in {eval_dir} (set NEWSBOT_EVAL_DIR)")
    results: dict[str, Any] = {}
    for text in (REFERENCE, *(args.variant or DEFAULT_VARIANTS)):
        precision, overlap = parse_variant(text)
        print(f"measuring {text} ...", file=sys.stderr, flush=True)
        results[text] = measure(settings, eval_dir, precision, overlap, args.answerer, args.limit)
    reference = results[REFERENCE]
    for figures in results.values():
        drops = [reference[s][m] - figures[s][m] for s, m in FIGURES]
        figures["worst_drop"] = round(max(drops), 4)
        figures["within"] = max(drops) <= TOLERANCE
    return {"answerer": args.answerer, "reference": REFERENCE, "tolerance": TOLERANCE, "variants": results}


def print_table(result: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"retrieval by embedding precision : chunk overlap (ranked by the {result['answerer']} answerer)")
    table.add_column("variant")
    for s, m in FIGURES:
        table.add_column(f"{s} {m}", justify="right")
    table.add_column("RealTimeQA chunks", justify="right")
    table.add_column(f"within {result['tolerance']} of {result['reference']}")
    for name, figures in result["variants"].items():
        verdict = "reference" if name == result["reference"] else ("[green]yes[/]" if figures["within"] else "[red]no[/]")
        table.add_row(
            name,
            *(f"{figures[s][m]:.3f}" for s, m in FIGURES),
            f"{figures['realtimeqa_dev']['chunks']:,}",
            f"{verdict} (worst drop {figures['worst_drop']:+.3f})" if name != result["reference"] else verdict,
        )
    Console().print(table)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--variant", action="append", help=f"PRECISION:OVERLAP to compare with {REFERENCE} (repeatable)")
    parser.add_argument("--answerer", default="heuristic", choices=("heuristic", "reader"), help="whose ranking to score")
    parser.add_argument("--limit", type=int, help="ask only the first N questions of each set (a quick check)")
    parser.add_argument("--eval-dir", help="where the evaluation sets are (default: NEWSBOT_EVAL_DIR)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    args = parser.parse_args(argv)
    result = run(args)
    if args.json:
        print(json.dumps(result))
    else:
        print_table(result)


if __name__ == "__main__":
    main()
