"""From the reader's logits to answer spans: numpy only, shared by training's evaluation and the bot.

Each window yields start/end logits per token and one has-answer logit. A span's score is
start + end logit (SQuAD convention); the null score is the [CLS] position's start + end. Across
the windows of one passage the best span wins and the lowest null score counts (the window that
sees the answer best), as in the SQuAD 2.0 reference readers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from newsbot_reader.features import Window

MAX_ANSWER_TOKENS = 30
TOP_N = 20
ALTERNATIVES = 30  # runner-up spans kept per passage, for a caller that knows what form the answer takes


@dataclass(frozen=True)
class SpanGuess:
    """The reader's best reading of one passage: character span, its score and the no-answer evidence."""

    start: int
    end: int
    span_score: float  # start + end logit of the span
    null_score: float  # start + end logit of [CLS]: "no answer here"
    has_answer_logit: float  # the separate has-answer head
    alternatives: tuple[tuple[int, int, float], ...] = ()  # the next best (start, end, span_score), best first

    def instead(self, start: int, end: int, span_score: float) -> SpanGuess:
        """This reading with another of its spans as the answer (its own score, the same no-answer evidence)."""
        return SpanGuess(start, end, span_score, self.null_score, self.has_answer_logit)

    @property
    def margin(self) -> float:
        """How much the best span beats "no answer" (> 0: the span wins)."""
        return self.span_score - self.null_score


def window_spans(
    start_logits: np.ndarray, end_logits: np.ndarray, window: Window, n_best: int = 1, max_answer_tokens: int = MAX_ANSWER_TOKENS
) -> list[tuple[int, int, float]]:
    """The n best (first, last, score) token spans inside the window's passage tokens."""
    lo, hi = window.context_start, window.context_end
    if hi <= lo:
        return []
    starts = start_logits[lo:hi]
    ends = end_logits[lo:hi]
    top = min(TOP_N, hi - lo)
    s_idx = np.argpartition(-starts, top - 1)[:top]
    e_idx = np.argpartition(-ends, top - 1)[:top]
    scores = starts[s_idx][:, None] + ends[e_idx][None, :]
    length = e_idx[None, :] - s_idx[:, None]
    scores = np.where((length >= 0) & (length < max_answer_tokens), scores, -np.inf)
    order = np.argsort(-scores, axis=None)[:n_best]
    spans = []
    for flat in order:
        i, j = divmod(int(flat), top)
        if not np.isfinite(scores[i, j]):
            break
        spans.append((lo + int(s_idx[i]), lo + int(e_idx[j]), float(scores[i, j])))
    return spans


def best_span(
    start_logits: Sequence[np.ndarray], end_logits: Sequence[np.ndarray], has_answer: Sequence[float], windows: Sequence[Window]
) -> SpanGuess | None:
    """The best span over all windows of one passage (None if no window has passage tokens), with
    its runners-up as alternatives."""
    null = min(float(s[0] + e[0]) for s, e in zip(start_logits, end_logits))
    scored: dict[tuple[int, int], float] = {}
    for s, e, window in zip(start_logits, end_logits, windows):
        for first, last, score in window_spans(s, e, window, n_best=ALTERNATIVES + 1):
            span = window.char_span(first, last)
            scored[span] = max(score, scored.get(span, -np.inf))  # overlapping windows see a span twice
    if not scored:
        return None
    ranked = sorted(scored.items(), key=lambda item: item[1], reverse=True)
    (start, end), score = ranked[0]
    alternatives = tuple((a, b, value) for (a, b), value in ranked[1 : ALTERNATIVES + 1])
    return SpanGuess(start, end, score, null, float(max(has_answer)), alternatives)
