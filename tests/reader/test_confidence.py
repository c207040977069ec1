"""The confidence fit: Platt scaling recovers a known probability, the reliability table and ECE
say how well it fits, and the refusal point falls where answering stops paying."""

from __future__ import annotations

import numpy as np
import pytest

from reader.training.confidence import balanced_weights, best_min_confidence, calibrate_confidence, fit_platt, reliability


def synthetic(n: int = 20_000, seed: int = 0):
    """Answerability values whose chance of a right answer is exactly sigmoid(1.5 * v - 1)."""
    rng = np.random.default_rng(seed)
    values = rng.normal(0.0, 3.0, n)
    right = rng.random(n) < 1.0 / (1.0 + np.exp(-(1.5 * values - 1.0)))
    return values, right


def test_platt_scaling_recovers_the_true_probability():
    values, right = synthetic()
    platt = fit_platt(values, right.astype(float), np.full(len(values), 1.0 / len(values)))
    assert platt.scale == pytest.approx(1.5, abs=0.1) and platt.offset == pytest.approx(-1.0, abs=0.1)
    table, ece = reliability(platt(values), right.astype(float), np.full(len(values), 1.0 / len(values)))
    assert ece < 0.02
    assert all(abs(row["confidence"] - row["right"]) < 0.05 for row in table if row["n"] > 500)


def test_a_saturated_score_is_not_a_calibrated_one():
    values, right = synthetic()
    weights = np.full(len(values), 1.0 / len(values))
    raw = 1.0 / (1.0 + np.exp(-4.0 * values))  # overconfident: the sigmoid of a scaled margin
    _, raw_ece = reliability(raw, right.astype(float), weights)
    _, fitted_ece = reliability(fit_platt(values, right.astype(float), weights)(values), right.astype(float), weights)
    assert raw_ece > 3 * fitted_ece


def test_balanced_weights_give_answerable_and_unanswerable_questions_equal_mass():
    answerable = np.array([True] * 8 + [False] * 4)
    real = np.array([False] * 8 + [True, False, False, False])
    weights = balanced_weights(answerable, real)
    assert weights[answerable].sum() == pytest.approx(0.5)
    assert weights[real].sum() == pytest.approx(0.25) and weights[~answerable & ~real].sum() == pytest.approx(0.25)


def test_the_refusal_point_separates_right_answers_from_unanswerable_questions():
    probabilities = np.array([0.95, 0.9, 0.8, 0.3, 0.2, 0.1])
    answerable = np.array([True, True, True, False, False, False])
    f1 = np.array([1.0, 1.0, 1.0, 0.0, 0.0, 0.0])
    point = best_min_confidence(probabilities, f1, answerable, np.full(6, 1 / 6))
    assert 0.3 < point <= 0.8


def test_calibrate_confidence_reports_its_fit():
    values, right = synthetic(4000, seed=1)
    answerable = right | (np.arange(len(values)) % 3 == 0)
    f1 = np.where(right, 1.0, 0.0)
    report = calibrate_confidence(values, f1, answerable, ~answerable)
    assert set(report) >= {"platt", "min_confidence", "reliability", "ece", "right_at_0.9"}
    assert 0.0 < report["min_confidence"] < 1.0 and report["ece"] < 0.1
