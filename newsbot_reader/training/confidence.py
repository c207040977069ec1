"""Honest confidence: the probability that an answer is right, fitted on held-apart questions.

The reader's answerability (span-vs-null margin plus the has-answer logit) ranks well but is no
probability: its sigmoid saturates at 1.0 for wrong answers too. Isotonic regression fits a
monotone curve from answerability to "was the answer right" (F1 >= 0.5 against the crowd
answers; an unanswerable question's answer is never right). A probability needs a prior: the
held-apart slice is reweighted so that unanswerable questions are `UNANSWERABLE_SHARE` of them,
the real SQuAD 2.0 ones as much as all the made kinds together, whatever the slice's own mix. (Platt scaling, a sigmoid, was tried first: it could not bend at the top, where
answers are right 94% of the time, and never said more than 0.85.) The reliability table and
the expected calibration error say how well it fits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

RIGHT_F1 = 0.5  # an answer with at least this F1 against an accepted answer counts as right
BINS = 10
# The share of questions whose answer is not in the passage read, assumed when fitting: a news bot is
# mostly asked what its articles say, and retrieval finds the right article for most questions.
UNANSWERABLE_SHARE = 0.3
F1_TOLERANCE = 0.003  # refusal points this close to the best held-apart F1 count as equally good
VALUE_LIMIT = 30.0  # answerability beyond this says nothing more (a passage with no tokens scores -1e9)


@dataclass(frozen=True)
class Platt:
    scale: float
    offset: float

    def __call__(self, values: np.ndarray) -> np.ndarray:
        z = self.scale * np.clip(values, -VALUE_LIMIT, VALUE_LIMIT) + self.offset
        return 1.0 / (1.0 + np.exp(-np.clip(z, -60, 60)))


def prior_weights(answerable: np.ndarray, real: np.ndarray, unanswerable_share: float = UNANSWERABLE_SHARE) -> np.ndarray:
    """Weights that give the unanswerable questions `unanswerable_share` of the mass, split evenly
    between the real ones and the made ones, and the answerable ones the rest (each group shared
    evenly by its members)."""
    weights = np.zeros(len(answerable))
    groups = (answerable, ~answerable & real, ~answerable & ~real)
    if (~answerable & ~real).any():
        shares = (1 - unanswerable_share, unanswerable_share / 2, unanswerable_share / 2)
    else:
        shares = (1 - unanswerable_share, unanswerable_share, 0.0)
    for group, share in zip(groups, shares):
        if group.any():
            weights[group] = share / group.sum()
    return weights / weights.sum()


def _log_loss(x: np.ndarray, y: np.ndarray, weights: np.ndarray, theta: np.ndarray) -> float:
    z = x @ theta
    return float(np.sum(weights * (np.logaddexp(0.0, z) - y * z)) + 0.5e-6 * theta @ theta)


def fit_platt(values: np.ndarray, right: np.ndarray, weights: np.ndarray, iterations: int = 100) -> Platt:
    """Weighted logistic regression of `right` on `values`: Newton's method with step halving (so it
    never diverges on separable data), a little L2 for safety."""
    x = np.stack([np.clip(values, -VALUE_LIMIT, VALUE_LIMIT), np.ones_like(values)], axis=1)
    y = right.astype(float)
    theta = np.array([1.0, 0.0])
    loss = _log_loss(x, y, weights, theta)
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-np.clip(x @ theta, -60, 60)))
        gradient = x.T @ (weights * (p - y)) + 1e-6 * theta
        hessian = (x * (weights * p * (1 - p))[:, None]).T @ x + 1e-6 * np.eye(2)
        step = np.linalg.solve(hessian, gradient)
        size = 1.0
        while size > 1e-6 and _log_loss(x, y, weights, theta - size * step) > loss:
            size /= 2
        if size <= 1e-6:
            break
        theta = theta - size * step
        previous, loss = loss, _log_loss(x, y, weights, theta)
        if previous - loss < 1e-12:
            break
    return Platt(float(theta[0]), float(theta[1]))


@dataclass(frozen=True)
class Curve:
    """A monotone map from answerability to probability: points (x, p), linear in between, flat outside."""

    xs: tuple[float, ...]
    ps: tuple[float, ...]

    def __call__(self, values: np.ndarray) -> np.ndarray:
        return np.interp(values, self.xs, self.ps)


def fit_isotonic(values: np.ndarray, right: np.ndarray, weights: np.ndarray, bins: int = 100, floor: float = 0.005) -> Curve:
    """Weighted isotonic regression (pool adjacent violators) over `bins` quantile bins of the values,
    each pooled block a point at its weighted mean value; probabilities kept within [floor, 1 - floor]."""
    v = np.clip(values, -VALUE_LIMIT, VALUE_LIMIT)
    edges = np.unique(np.quantile(v, np.linspace(0, 1, bins + 1)))
    which = np.clip(np.searchsorted(edges, v, side="right") - 1, 0, max(len(edges) - 2, 0))
    blocks: list[list[float]] = []  # [weight, weighted x sum, weighted y sum]
    for b in range(int(which.max()) + 1):
        inside = which == b
        mass = float(weights[inside].sum())
        if mass <= 0:
            continue
        blocks.append([mass, float((weights[inside] * v[inside]).sum()), float((weights[inside] * right[inside]).sum())])
        while len(blocks) > 1 and blocks[-2][2] / blocks[-2][0] >= blocks[-1][2] / blocks[-1][0]:
            last = blocks.pop()
            blocks[-1] = [a + b for a, b in zip(blocks[-1], last)]
    xs = tuple(round(x / w, 4) for w, x, _ in blocks)
    ps = tuple(round(min(max(y / w, floor), 1 - floor), 4) for w, _, y in blocks)
    return Curve(xs, ps)


def reliability(probabilities: np.ndarray, right: np.ndarray, weights: np.ndarray, bins: int = BINS) -> tuple[list[dict], float]:
    """Per confidence bin: the mean confidence, the share right, the weight; and the expected calibration error."""
    table, ece = [], 0.0
    edges = np.linspace(0.0, 1.0, bins + 1)
    for lo, hi in zip(edges[:-1], edges[1:]):
        inside = (probabilities >= lo) & ((probabilities < hi) if hi < 1.0 else (probabilities <= hi))
        mass = float(weights[inside].sum())
        if not inside.any() or mass <= 0:
            continue
        confidence = float(np.average(probabilities[inside], weights=weights[inside]))
        accuracy = float(np.average(right[inside], weights=weights[inside]))
        ece += mass * abs(confidence - accuracy)
        table.append({"bin": f"{lo:.1f}-{hi:.1f}", "confidence": round(confidence, 3), "right": round(accuracy, 3), "n": int(inside.sum())})
    return table, float(ece / max(float(weights.sum()), 1e-12))


def best_min_confidence(
    probabilities: np.ndarray, answer_f1: np.ndarray, answerable: np.ndarray, weights: np.ndarray, tolerance: float = F1_TOLERANCE
) -> float:
    """The refusal point on the calibrated probability: the lowest one whose weighted F1 (a refusal of
    an unanswerable question scores 1, of an answerable one 0) is within `tolerance` of the best.
    The F1 is flat near its top, and there a lower point answers more questions for the same F1."""
    refusal_f1 = (~answerable).astype(float)
    thresholds = np.unique(np.round(probabilities, 3))
    f1s = np.array([float(np.sum(weights * np.where(probabilities < t, refusal_f1, answer_f1))) for t in thresholds])
    if not len(f1s):
        return 0.5
    return float(thresholds[np.argmax(f1s >= f1s.max() - tolerance)])


def calibrate_confidence(
    values: Sequence[float],
    answer_f1: Sequence[float],
    answerable: Sequence[bool],
    real_unanswerable: Sequence[bool],
    unanswerable_share: float = UNANSWERABLE_SHARE,
) -> dict:
    """The confidence curve, the refusal point, the reliability table and the ECE for these held-apart
    readings (and the Platt fit with its ECE, for comparison)."""
    v = np.asarray(values, dtype=float)
    f1 = np.asarray(answer_f1, dtype=float)
    has = np.asarray(answerable, dtype=bool)
    real = np.asarray(real_unanswerable, dtype=bool)
    right = (has & (f1 >= RIGHT_F1)).astype(float)
    weights = prior_weights(has, real, unanswerable_share)
    curve = fit_isotonic(v, right, weights)
    probabilities = curve(v)
    table, ece = reliability(probabilities, right, weights)
    platt = fit_platt(v, right, weights)
    _, platt_ece = reliability(platt(v), right, weights)
    answered_high = probabilities >= 0.9
    return {
        "curve": {"answerability": list(curve.xs), "probability": list(curve.ps)},
        "platt": {"scale": platt.scale, "offset": platt.offset, "ece": platt_ece},
        "min_confidence": best_min_confidence(probabilities, np.where(has, f1, 0.0), has, weights),
        "reliability": table,
        "ece": ece,
        "right_at_0.9": float(np.average(right[answered_high], weights=weights[answered_high])) if answered_high.any() else None,
        "right_means": f"F1 >= {RIGHT_F1} against an accepted answer",
        "unanswerable_share": unanswerable_share,
    }
