"""The speed half of the benchmark report (benchmarks/report.py): indexing beside LangChain's textbook
pipeline, retrieval by embedding precision and overlap, query latency by index size; their markdown
sections and charts, from the `--json` outputs of the scripts that measure them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

LATENCY_PNG, INDEXING_PNG = "benchmarks_latency.png", "benchmarks_indexing.png"


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" if i == 0 else "---:" for i in range(len(header))) + "|"]
    return "\n".join([*lines, *("| " + " | ".join(r) + " |" for r in rows)])


def latency_section(latency: dict[str, Any]) -> str:
    parts = []
    warm = latency.get("warm")
    if warm:
        rows = [
            [
                f"{r['chunks']:,}",
                f"{r['p50_ms']:.0f} / {r['p95_ms']:.0f}",
                f"{r['retrieval_p50_ms']:.0f} / {r['retrieval_p95_ms']:.0f}",
                f"{r['first_question_after_sync_ms']:.0f}",
                f"{r['keyword_reconcile_one_article_s']:.3f}",
                f"{r['keyword_load_s']:.2f}",
                f"{r['keyword_update_s']:.1f}",
                f"{r['disk_mb_per_100k']:,.0f}",
                f"{r['rss_mb']:,.0f}",
                f"{r['load_average']:.1f}",
            ]
            for r in warm["sizes"]
        ]
        header = [
            "chunks",
            "ask p50 / p95 ms",
            "retrieval p50 / p95 ms",
            "1st ask after a sync ms",
            "BM25 catch-up after 1 article s",
            "BM25 load s",
            "BM25 update s",
            "disk MB per 100k chunks",
            "RSS MB",
            "load avg",
        ]
        parts.append(markdown_table(header, rows))
        parts.append(
            f"Synthetic corpus: {warm['distinct_embedded']:,} distinct news-like paragraphs embedded for real "
            f"({warm['embed_s']:.0f} s); every stored chunk is one of them with varied numbers and names and its vector "
            f"perturbed (N(0, {warm['noise']}) per dimension, renormalised). {warm['sizes'][0]['queries']} questions per size, "
            f'after 3 warm-up questions; "retrieval" is the hybrid search alone, "ask" adds the default answerer '
            f"(the reader, reading the top passages with its int8 ONNX graph; spaCy's entity cache cleared before each question). "
            f'"BM25 update" brings the keyword index up to date with the chunks written since the previous size; '
            '"1st ask after a sync": the first question after a one-article write (the keyword index catches up in the '
            'background meanwhile); "BM25 catch-up": that catch-up alone, after another one-article write; "BM25 load": '
            "reading the saved keyword index; disk: the Chroma folder and the keyword index; RSS: the benchmark process, "
            "which built the store too (a serving process needs at most this); load avg: the 1-minute load when the row was taken."
        )
        if latency.get("note"):
            parts.append(f"_{latency['note']}_")
        parts.append(f"![latency vs corpus size]({LATENCY_PNG})")
    cold = latency.get("cold")
    if cold:
        rows = [
            ["`newsbot ask` (seed index, JSON out)", f"{cold['newsbot_ask_s']:.1f}"],
            ["python startup", f"{cold['python_startup_s']:.2f}"],
        ]
        rows += [[f"`import {m}`", f"{s:.1f}"] for m, s in cold["imports_s"].items()]
        parts.append(
            f"Cold start, wall time in seconds (median of {cold['repeat']} runs; imports net of python startup):\n\n"
            + markdown_table(["what", "s"], rows)
        )
    return "\n\n".join(parts)


def throughput_section(result: dict[str, Any]) -> str:
    """The side-by-side table of benchmarks/index_throughput.py, and newsbot's own figures."""
    runs = result["runs"]
    rows = [
        [
            name + (f" ({', '.join(f'`{k}={v}`' for k, v in r['env'].items())})" if r.get("env") else ""),
            f"{r['seconds']:.1f}",
            f"{r['articles_per_s']:.2f}",
            f"{r['chunks']:,}",
            f"{r['chunks_per_s']:.1f}",
            f"{r['peak_rss_mb']:,.0f}",
            f"{r['speedup']:.2f}x",
        ]
        for name, r in runs.items()
    ]
    table = markdown_table(["pipeline", "wall s", "articles/s", "chunks", "chunks/s", "peak RSS MB", "vs textbook"], rows)
    nb = runs["newsbot"]
    settings = ", ".join(f"{k} {v}" for k, v in nb["settings"].items())
    detail = markdown_table(
        ["newsbot (defaults)", "value"],
        [
            ["no-op re-index", f"{nb['noop_seconds']:.2f} s ({nb['full_over_noop']:.0f}x faster than the full index)"],
            ["index / raw embed of the same chunks", f"{nb['index_over_raw']:.2f}"],
            *[[f"full index: {k}", f"{v:.1f} s"] for k, v in nb["breakdown_seconds"].items()],
            ["graph export (once per machine)", "cached" if nb["graph_export_seconds"] is None else f"{nb['graph_export_seconds']} s"],
        ],
    )
    return (
        f"`benchmarks/index_throughput.py` on {result['corpus']}: each pipeline in a fresh process of its own, its model "
        "loaded and warmed up first. The textbook pipeline is `RecursiveCharacterTextSplitter(1000, 200)`, the same "
        "all-MiniLM-L6-v2 weights on torch's default threads, `langchain_chroma.Chroma`; newsbot is `NewsIndex.sync` "
        f"with its default settings ({settings}), the rows below it with the settings named. Target: newsbot's "
        f"defaults at 2x the textbook's articles/s or more.\n\n{table}\n\n![indexing speed]({INDEXING_PNG})\n\n{detail}"
        + (f"\n\n_{result['note']}_" if result.get("note") else "")
    )


def embedding_quality_section(result: dict[str, Any]) -> str:
    """The table of benchmarks/embedding_quality.py."""
    figures = [("realtimeqa_dev", "recall@5"), ("realtimeqa_dev", "mrr"), ("squad2_dev", "recall@1")]
    rows = [
        [
            f"`{name}`",
            *(f"{v[s][m]:.3f}" for s, m in figures),
            f"{v['realtimeqa_dev']['chunks']:,}",
            "reference" if name == result["reference"] else f"{'yes' if v['within'] else 'no'} ({v['worst_drop']:+.3f})",
        ]
        for name, v in result["variants"].items()
    ]
    header = ["precision:overlap", *(f"{s} {m}" for s, m in figures), "RealTimeQA chunks", f"within {result['tolerance']} (worst drop)"]
    note = f"\n\n_{result['note']}_" if result.get("note") else ""
    return (
        "`benchmarks/embedding_quality.py`: each variant indexes the evaluation sets privately with that embedding "
        f"precision and chunk overlap (word-pieces) and is scored by gold article, ranked by the {result['answerer']} "
        "answerer. RealTimeQA's retrieval figures rest on 112 questions, so one question moves recall by 0.009.\n\n"
        + markdown_table(header, rows)
        + note
    )


# ---- charts ---------------------------------------------------------------------------------------


def latency_chart(latency: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = latency["warm"]["sizes"]
    chunks = [r["chunks"] for r in rows]
    fig, ax = plt.subplots(figsize=(7, 4))
    for key, label, style in (
        ("p50_ms", "ask p50", "o-"),
        ("p95_ms", "ask p95", "o--"),
        ("retrieval_p50_ms", "retrieval p50", "s-"),
        ("retrieval_p95_ms", "retrieval p95", "s--"),
    ):
        ax.plot(chunks, [r[key] for r in rows], style, label=label)
    ax.axhline(50, color="grey", lw=0.8, ls=":", label="target p50 50 ms")
    ax.axhline(100, color="grey", lw=0.8, ls="-.", label="target p95 100 ms")
    ax.set_xscale("log")
    ax.set_xticks(chunks, [f"{c / 1e6:g}M" if c >= 1e6 else f"{c / 1000:g}k" for c in chunks])
    ax.minorticks_off()
    ax.set_xlabel("chunks in the index")
    ax.set_ylabel("ms (warm)")
    ax.set_title("newsbot ask latency vs corpus size (2-core machine)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def indexing_chart(throughput: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    runs = throughput["runs"]
    names = list(runs)
    fig, ax = plt.subplots(figsize=(7, 0.6 * len(names) + 1.5))
    bars = ax.barh(names, [runs[n]["articles_per_s"] for n in names], color=["grey" if n == "textbook" else "tab:blue" for n in names])
    for bar, name in zip(bars, names):
        ax.annotate(f" {runs[name]['speedup']:.2f}x", (bar.get_width(), bar.get_y() + bar.get_height() / 2), va="center", fontsize=8)
    ax.axvline(2 * runs["textbook"]["articles_per_s"], color="grey", lw=0.8, ls=":", label="target: 2x the textbook")
    ax.invert_yaxis()
    ax.set_xlabel("articles/s (full index, model loaded)")
    ax.set_title(f"full index of {throughput['corpus']}", fontsize=9)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
