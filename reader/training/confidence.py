"""Honest confidence: the probability that an answer is right, fitted on held-apart questions.

The reader's answerability (span-vs-null margin plus the has-answer logit) ranks well but is no
probability: its sigmoid saturates at 1.0 for wrong answers too. Platt scaling fits
p = sigmoid(scale * answerability + offset) to "was the answer right" (F1 >= 0.5 against the
crowd answers; an unanswerable question's answer is never right), with the answerable questions
and the unanswerable ones weighted equally, and within the unanswerable ones the real SQuAD 2.0
questions as much as all the made kinds together, so that no prior of the held-apart slice leaks
into the probability. The reliability table and the expected calibration error say how well it fits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

RIGHT_F1 = 0.5  # an answer with at least this F1 against an accepted answer counts as right
BINS = 10
VALUE_LIMIT = 30.0  # answerability beyond this says nothing more (a passage with no tokens scores -1e9)


@dataclass(frozen=True)
class Platt:
    scale: float
    offset: float

    def __call__(self, values: np.ndarray) -> np.ndarray:
        z = self.scale * np.clip(values, -VALUE_LIMIT, VALUE_LIMIT) + self.offset
        return 1.0 / (1.0 + np.exp(-np.clip(z, -60, 60)))


def balanced_weights(answerable: np.ndarray, real: np.ndarray) -> np.ndarray:
    """Half the weight on answerable questions; of the other half, a half on the real unanswerables
    and a half on the made ones (each group shared evenly by its members)."""
    weights = np.zeros(len(answerable))
    groups = (answerable, ~answerable & real, ~answerable & ~real)
    shares = (0.5, 0.25, 0.25) if (~answerable & ~real).any() else (0.5, 0.5, 0.0)
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


def best_min_confidence(probabilities: np.ndarray, answer_f1: np.ndarray, answerable: np.ndarray, weights: np.ndarray) -> float:
    """The refusal point on the calibrated probability that maximises the weighted F1 (a refusal of
    an unanswerable question scores 1, of an answerable one 0)."""
    refusal_f1 = (~answerable).astype(float)
    best = (-1.0, 0.5)
    for threshold in np.unique(np.round(probabilities, 3)):
        f1 = float(np.sum(weights * np.where(probabilities < threshold, refusal_f1, answer_f1)))
        if f1 > best[0]:
            best = (f1, float(threshold))
    return best[1]


def calibrate_confidence(
    values: Sequence[float], answer_f1: Sequence[float], answerable: Sequence[bool], real_unanswerable: Sequence[bool]
) -> dict:
    """Platt parameters, the refusal point, the reliability table and the ECE for these held-apart readings."""
    v = np.asarray(values, dtype=float)
    f1 = np.asarray(answer_f1, dtype=float)
    has = np.asarray(answerable, dtype=bool)
    real = np.asarray(real_unanswerable, dtype=bool)
    right = (has & (f1 >= RIGHT_F1)).astype(float)
    weights = balanced_weights(has, real)
    platt = fit_platt(v, right, weights)
    probabilities = platt(v)
    table, ece = reliability(probabilities, right, weights)
    answered_high = probabilities >= 0.9
    return {
        "platt": {"scale": platt.scale, "offset": platt.offset},
        "min_confidence": best_min_confidence(probabilities, np.where(has, f1, 0.0), has, weights),
        "reliability": table,
        "ece": ece,
        "right_at_0.9": float(np.average(right[answered_high], weights=weights[answered_high])) if answered_high.any() else None,
        "right_means": f"F1 >= {RIGHT_F1} against an accepted answer",
    }
