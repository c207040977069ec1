#!/usr/bin/env python
"""Tune the reader answerer's constants on a shared evaluation set, reading every passage only once.

    python benchmarks/reader_tuning.py squad2_dev
    python benchmarks/reader_tuning.py realtimeqa_dev --weights 0,1,2,4 --limit 100

For every question it retrieves the passages as `newsbot ask` does (asked on the set's date), reads
all of them with the reader (no early stop), and keeps each reading. The answerer's choices are
then replayed offline over a grid: the retrieval weight in the passage rank, the round size and
early-stop confidence (which passages a question would have read), and the refusal threshold.
It prints, per setting, exact match, F1, containment, refusal precision/recall, recall@1 of the
reranked passages, and passages read per question (the latency driver). Nothing is written into
the project: the evaluation data stays where it is.
"""

from __future__ import annotations

import argparse
import itertools
import math
import os
import pickle
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.answering import reader as reader_answering  # noqa: E402
from bot.answering.choose import reader_answerer  # noqa: E402
from bot.chain import NewsBot  # noqa: E402
from bot.evaluation.datasets import load_dataset, resolve_dataset  # noqa: E402
from bot.evaluation.metrics import contains_answer, exact_match, f1_score, refusal_scores  # noqa: E402
from bot.evaluation.runner import eval_settings  # noqa: E402
from bot.settings import BotSettings  # noqa: E402
from indexing.index import NewsIndex  # noqa: E402


@dataclass(frozen=True)
class Read:
    article_id: str
    retrieval: float
    answerability: float
    span: str


@dataclass(frozen=True)
class Question:
    answers: tuple[str, ...]
    gold: tuple[str, ...]
    scored: bool
    readings: tuple[Read, ...]  # in retrieval order


def collect(dataset_name: str, limit: int | None) -> list[Question]:
    settings = BotSettings.from_env()
    dataset = load_dataset(resolve_dataset(dataset_name, settings.eval_dir), default_corpus=settings.index.seeds_dir).limited(limit)
    with tempfile.TemporaryDirectory(prefix="newsbot-tuning-") as tmp:
        settings = eval_settings(settings, Path(tmp) / "data")
        index = NewsIndex(settings.index)
        index.sync(list(dataset.corpus))
        answerer = reader_answerer(settings, index)
        assert isinstance(answerer, reader_answering.ReaderAnswerer)
        bot = NewsBot(settings, index, answerer)
        out = []
        for n, q in enumerate(dataset.questions, start=1):
            request = bot.request(q.question, (), q.asked_on)
            passages = bot.search.search(request.standalone, k=reader_answering.MAX_READ, as_of=q.asked_on).passages
            readings = answerer.read(reader_answering.reading_question(request), passages, stop_early=False)
            by_passage = {id(r.passage): r for r in readings}
            ordered = [by_passage[id(p)] for p in passages]
            out.append(
                Question(
                    q.answers,
                    q.gold_article_ids,
                    q.score_answer,
                    tuple(Read(r.passage.chunk.article_id, r.passage.score, r.answerability, r.span_text) for r in ordered),
                )
            )
            if n % 25 == 0:
                print(f"read {n}/{len(dataset.questions)}", file=sys.stderr, flush=True)
    return out


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def rank_value(read: Read, weight: float, threshold: float, mode: str) -> float:
    """The passage rank: the reader's answerability (raw logit, or as a 0..1 confidence) plus retrieval."""
    evidence = read.answerability if mode == "logit" else _sigmoid(read.answerability - threshold)
    return evidence + weight * read.retrieval


def replay(questions: list[Question], weight: float, batch: int, stop: float, threshold: float, mode: str = "logit") -> dict[str, float]:
    em = f1 = contained = answerable_n = 0.0
    refused, unanswerable, top1, gold_n, read_total = [], [], 0, 0, 0
    for q in questions:
        read: list[Read] = []
        for lo in range(0, len(q.readings), batch):
            read += q.readings[lo : lo + batch]
            if max(_sigmoid(r.answerability - threshold) for r in read) >= stop:
                break
        read_total += len(read)
        ranked = sorted(read, key=lambda r: rank_value(r, weight, threshold, mode), reverse=True)
        if q.gold and ranked:
            gold_n += 1
            top1 += ranked[0].article_id in q.gold
        if not q.scored:
            continue
        best = ranked[0] if ranked else None
        answered = best is not None and best.answerability >= threshold
        prediction = best.span if answered and best else ""
        em += exact_match(prediction, list(q.answers))
        f1 += f1_score(prediction, list(q.answers))
        if q.answers:
            answerable_n += 1
            contained += answered and contains_answer(prediction, list(q.answers))
        refused.append(not answered)
        unanswerable.append(not q.answers)
    n = max(1, len(refused))
    precision, recall = refusal_scores(refused, unanswerable)
    return {
        "em": em / n,
        "f1": f1 / n,
        "contained": contained / max(1.0, answerable_n),
        "refusal_p": precision if precision is not None else float("nan"),
        "refusal_r": recall if recall is not None else float("nan"),
        "recall@1": top1 / max(1, gold_n),
        "read": read_total / max(1, len(questions)),
    }


def floats(text: str) -> list[float]:
    return [float(x) for x in text.split(",") if x]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dataset")
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--weights", type=floats, default=[0.0, 1.0, 2.0, 4.0, 8.0])
    parser.add_argument("--thresholds", type=floats, default=[-2.0, -1.0, 0.0, 1.0, 2.0, 3.0, 4.0])
    parser.add_argument("--batches", type=lambda s: [int(x) for x in s.split(",")], default=[2, 3, 4])
    parser.add_argument("--stops", type=floats, default=[0.8, 0.9, 0.95, 1.01])
    parser.add_argument("--modes", type=lambda s: s.split(","), default=["logit", "prob"])
    parser.add_argument("--max-read", type=int, default=None, help="replay reading at most this many passages")
    parser.add_argument("--cache", type=Path, default=None, help="keep the readings in this file (outside the project) and reuse them")
    args = parser.parse_args()
    if args.cache and args.cache.is_file():
        questions = pickle.loads(args.cache.read_bytes())
    else:
        questions = collect(args.dataset, args.limit)
        if args.cache:
            args.cache.write_bytes(pickle.dumps(questions))
    if args.max_read:
        questions = [Question(q.answers, q.gold, q.scored, q.readings[: args.max_read]) for q in questions]
    header = f"{'mode':>5} {'weight':>6} {'batch':>5} {'stop':>5} {'thresh':>6} | {'EM':>5} {'F1':>5} {'cont':>5} {'ref_p':>5} {'ref_r':>5} {'R@1':>5} {'read':>4}"
    print(header)
    print("-" * len(header))
    for mode, weight, batch, stop, threshold in itertools.product(args.modes, args.weights, args.batches, args.stops, args.thresholds):
        r = replay(questions, weight, batch, stop, threshold, mode)
        print(
            f"{mode:>5} {weight:6.1f} {batch:5d} {stop:5.2f} {threshold:6.1f} | {r['em']:5.3f} {r['f1']:5.3f} {r['contained']:5.3f} "
            f"{r['refusal_p']:5.2f} {r['refusal_r']:5.2f} {r['recall@1']:5.3f} {r['read']:4.1f}"
        )


if __name__ == "__main__":
    main()
