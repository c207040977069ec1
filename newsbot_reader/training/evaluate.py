"""Score the reader on held-apart examples: SQuAD EM/F1 with the best refusal threshold.

The no-answer decision compares a score with a threshold: the span-vs-null margin, the has-answer
logit, or their sum. Each is swept over the observed values and the best overall F1 kept, as
the SQuAD 2.0 script's "best_f1_thresh" does; the ranking quality of each (AUC for telling
answerable from unanswerable) is reported too, so the calibration can be chosen on evidence.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from newsbot_reader.decoding import SpanGuess
from newsbot_reader.metrics import exact_match, f1_score
from newsbot_reader.training.data import Example

SIGNALS = ("margin", "has_answer", "combined")


def signal(guess: SpanGuess | None, name: str) -> float:
    """How strongly the reader believes the passage answers: higher means answer."""
    if guess is None:
        return -1e9
    if name == "margin":
        return guess.margin
    if name == "has_answer":
        return guess.has_answer_logit
    return guess.margin + guess.has_answer_logit


@dataclass(frozen=True)
class Scores:
    f1: float  # over all examples, refusing below the best threshold
    em: float
    threshold: float
    signal: str
    answerable_f1: float  # span quality alone: answerable examples, never refusing
    auc: float  # answerable vs unanswerable ranking by the signal
    refusal_precision: float
    refusal_recall: float
    n: int

    def as_dict(self) -> dict[str, float | str | int]:
        return dict(self.__dict__)


def _auc(positive: np.ndarray, negative: np.ndarray) -> float:
    if not len(positive) or not len(negative):
        return float("nan")
    values = np.concatenate([positive, negative])
    ranks = values.argsort().argsort() + 1.0
    return float((ranks[: len(positive)].sum() - len(positive) * (len(positive) + 1) / 2) / (len(positive) * len(negative)))


def score(examples: Sequence[Example], guesses: Sequence[SpanGuess | None], signal_name: str = "margin") -> Scores:
    """EM/F1 at the threshold on `signal_name` that maximises F1 over these examples."""
    texts = [e.context[g.start : g.end] if g else "" for e, g in zip(examples, guesses)]
    answers = [list(e.answers) if e.answerable else [] for e in examples]
    f1_answer = np.array([f1_score(t, a) for t, a in zip(texts, answers)])
    em_answer = np.array([exact_match(t, a) for t, a in zip(texts, answers)])
    f1_refuse = np.array([0.0 if a else 1.0 for a in answers])
    values = np.array([signal(g, signal_name) for g in guesses])
    answerable = np.array([bool(a) for a in answers])
    best = (-1.0, 0.0, -np.inf)
    for threshold in np.concatenate([[-np.inf], np.unique(values)]):
        refuse = values < threshold
        f1 = float(np.where(refuse, f1_refuse, f1_answer).mean())
        if f1 > best[0]:
            best = (f1, float(np.where(refuse, f1_refuse, em_answer).mean()), float(threshold))
    refuse = values < best[2]
    refused = int(refuse.sum())
    return Scores(
        f1=best[0],
        em=best[1],
        threshold=best[2],
        signal=signal_name,
        answerable_f1=float(f1_answer[answerable].mean()) if answerable.any() else float("nan"),
        auc=_auc(values[answerable], values[~answerable]),
        refusal_precision=float((refuse & ~answerable).sum() / refused) if refused else float("nan"),
        refusal_recall=float((refuse & ~answerable).sum() / max(int((~answerable).sum()), 1)),
        n=len(examples),
    )
