"""The scores: SQuAD exact match and F1, answer containment, retrieval recall@k and MRR, refusal
precision and recall, the share of verbatim citations, and latency percentiles.

Answer metrics follow the official SQuAD 2.0 script: lower case, strip ASCII punctuation and the
articles a/an/the, collapse white space; the maximum over the accepted answers; a refusal is the
empty prediction, which is exactly right on an unanswerable question and wrong elsewhere.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from newsbot_reader.metrics import exact_match, f1_score, normalize_answer

RECALL_KS = (1, 5, 10)
MRR_CUTOFF = 10


def contains_answer(prediction: str, answers: Sequence[str]) -> bool:
    """An accepted answer appears in the prediction as whole words (after normalisation)."""
    text = normalize_answer(prediction)
    for answer in answers:
        gold = normalize_answer(answer)
        if gold and re.search(rf"(?<!\w){re.escape(gold)}(?!\w)", text):
            return True
    return False


def gold_rank(ranked_ids: Sequence[str], gold_ids: Sequence[str]) -> int | None:
    """1-based rank of the first gold id in a ranking of distinct ids; None when absent."""
    gold = set(gold_ids)
    return next((rank for rank, item in enumerate(ranked_ids, start=1) if item in gold), None)


def distinct(ids: Sequence[str]) -> list[str]:
    """Ids in first-seen order (a ranking of chunks becomes a ranking of articles)."""
    return list(dict.fromkeys(ids))


def recall_at_k(ranks: Sequence[int | None], k: int) -> float | None:
    return _mean([r is not None and r <= k for r in ranks])


def mean_reciprocal_rank(ranks: Sequence[int | None], cutoff: int = MRR_CUTOFF) -> float | None:
    return _mean([1.0 / r if r is not None and r <= cutoff else 0.0 for r in ranks])


def refusal_scores(refused: Sequence[bool], unanswerable: Sequence[bool]) -> tuple[float | None, float | None]:
    """(precision, recall) of refusing, with the unanswerable questions as positives.

    Both are None when every question is answerable (then see the share of answerable questions
    refused); precision is None when nothing was refused.
    """
    hits = sum(r and u for r, u in zip(refused, unanswerable))
    n_refused, n_unanswerable = sum(refused), sum(unanswerable)
    if not n_unanswerable:
        return None, None
    return (hits / n_refused if n_refused else None, hits / n_unanswerable)


def refusal_recall_at_precision(confidences: Sequence[float | None], unanswerable: Sequence[bool], floor: float = 0.8) -> float | None:
    """The most unanswerable questions refused (as a share of them) by any confidence threshold at
    which at least `floor` of the refusals are right: the refusal decision's quality, apart from
    where the shipped threshold sits. None without confidences or unanswerable questions."""
    if not any(unanswerable) or any(c is None for c in confidences):
        return None
    pairs = sorted(zip((float(c) for c in confidences if c is not None), unanswerable))
    best, hits = 0.0, 0
    total = sum(unanswerable)
    for n, (_, is_unanswerable) in enumerate(pairs, start=1):  # refuse the n least confident
        hits += is_unanswerable
        if hits / n >= floor:
            best = max(best, hits / total)
    return best


def right_when_sure(results: Sequence[QuestionResult], sure: float = 0.9) -> float | None:
    """The share of right answers among those given with at least `sure` confidence."""
    given = [r for r in results if r.answered and r.confidence is not None and r.confidence >= sure]
    return _mean([bool(r.correct) for r in given])


def percentile(values: Sequence[float], q: float) -> float | None:
    return float(np.percentile(np.asarray(values, dtype=float), q)) if len(values) else None


def _mean(values: Sequence[float | bool]) -> float | None:
    return float(np.mean(np.asarray(values, dtype=float))) if len(values) else None


@dataclass
class QuestionResult:
    """One question as one system saw it, with its scores (None where the question is not scored)."""

    id: str
    question: str
    answers: list[str]
    gold_article_ids: list[str]
    prediction: str  # the answer text without citation marks ("" for a refusal)
    answered: bool
    seconds: float
    retrieved: list[str] = field(default_factory=list)  # article ids, best first (top 10)
    gold_rank: int | None = None
    exact: float | None = None
    f1: float | None = None
    contains: bool | None = None
    correct: bool | None = None  # answerable: an accepted answer in the text; unanswerable: refused
    citations: int = 0
    verbatim: int = 0  # citations whose quote equals the article text at its offsets
    answer_scored: bool = True
    retrieval_scored: bool = True
    confidence: float | None = None
    answer_in_corpus: bool | None = None  # EvalQuestion.answer_in_corpus

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def score_answer(result: QuestionResult) -> None:
    """Fill the answer scores of `result` from its prediction and accepted answers."""
    prediction = result.prediction if result.answered else ""
    result.exact = exact_match(prediction, result.answers)
    result.f1 = f1_score(prediction, result.answers)
    if result.answers:
        result.contains = result.answered and contains_answer(prediction, result.answers)
        result.correct = result.contains
    else:
        result.correct = not result.answered


def summarise(results: Sequence[QuestionResult]) -> dict[str, Any]:
    """Every figure of one system on one data set (None where it cannot be computed)."""
    retrieval = [r for r in results if r.retrieval_scored]
    scored = [r for r in results if r.answer_scored]
    answerable = [r for r in scored if r.answers]
    absent = [r for r in answerable if r.answer_in_corpus is False]  # the articles do not say
    ranks = [r.gold_rank for r in retrieval]
    precision, recall = refusal_scores([not r.answered for r in scored], [not r.answers for r in scored])
    citations = sum(r.citations for r in results)
    latencies = [r.seconds * 1000 for r in results]
    summary: dict[str, Any] = {
        "questions": len(results),
        "retrieval_questions": len(retrieval),
        "answer_questions": len(scored),
        "unanswerable": len(scored) - len(answerable),
        "answer_absent": len(absent),
    }
    summary.update({f"recall@{k}": recall_at_k(ranks, k) for k in RECALL_KS})
    summary.update(
        {
            "mrr": mean_reciprocal_rank(ranks),
            "exact_match": _mean([r.exact or 0.0 for r in scored]),
            "f1": _mean([r.f1 or 0.0 for r in scored]),
            "containment": _mean([bool(r.contains) for r in answerable]),
            "correct": _mean([bool(r.correct) for r in scored]),
            "refusal_precision": precision,
            "refusal_recall": recall,
            "refused_answerable": _mean([not r.answered for r in answerable]),
            "refused_absent": _mean([not r.answered for r in absent]),
            "refusal_recall_at_p80": refusal_recall_at_precision([r.confidence for r in scored], [not r.answers for r in scored]),
            "right_when_sure": right_when_sure(scored),
            "sure_answers": sum(1 for r in scored if r.answered and r.confidence is not None and r.confidence >= 0.9),
            "citations": citations,
            "verbatim_citations": sum(r.verbatim for r in results) / citations if citations else None,
            "latency_p50_ms": percentile(latencies, 50),
            "latency_p95_ms": percentile(latencies, 95),
        }
    )
    return summary


def misses(results: Sequence[QuestionResult], k: int = 5) -> dict[str, list[str]]:
    """Ids of the questions each system got wrong: wrong answers, and gold articles not in the top k."""
    return {
        "answer": [r.id for r in results if r.answer_scored and not r.correct],
        f"retrieval@{k}": [r.id for r in results if r.retrieval_scored and (r.gold_rank is None or r.gold_rank > k)],
        "not_verbatim": [r.id for r in results if r.verbatim < r.citations],
    }
