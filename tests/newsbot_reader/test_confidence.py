"""The confidence fit: Platt scaling recovers a known probability, the reliability table and ECE
say how well it fits, and the refusal point falls where answering stops paying."""

from __future__ import annotations

import numpy as np
import pytest

from newsbot_reader.training.confidence import (
    best_min_confidence,
    calibrate_confidence,
    fit_isotonic,
    fit_platt,
    prior_weights,
    reliability,
)


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


def test_prior_weights_give_unanswerable_questions_their_share_whatever_the_slice_holds():
    answerable = np.array([True] * 8 + [False] * 4)
    real = np.array([False] * 8 + [True, False, False, False])
    weights = prior_weights(answerable, real, 0.3)
    assert weights[answerable].sum() == pytest.approx(0.7)
    assert weights[real].sum() == pytest.approx(0.15) and weights[~answerable & ~real].sum() == pytest.approx(0.15)


def test_the_refusal_point_separates_right_answers_from_unanswerable_questions():
    probabilities = np.array([0.95, 0.9, 0.8, 0.3, 0.2, 0.1])
    answerable = np.array([True, True, True, False, False, False])
    f1 = np.array([1.0, 1.0, 1.0, 0.0, 0.0, 0.0])
    point = best_min_confidence(probabilities, f1, answerable, np.full(6, 1 / 6))
    assert 0.3 < point <= 0.8


def test_of_refusal_points_about_as_good_the_lowest_wins():
    probabilities = np.array([0.9, 0.6, 0.5, 0.45, 0.2])
    answerable = np.array([True, True, False, True, False])
    f1 = np.array([1.0, 1.0, 0.0, 1.0, 0.0])
    weights = np.array([0.3, 0.2, 0.2, 0.001, 0.299])
    # Refusing below 0.5 loses the 0.45 answer (weight 0.001) but gains nothing; below 0.6 gains the 0.5 refusal.
    assert best_min_confidence(probabilities, f1, answerable, weights, tolerance=0.0) == 0.6
    assert best_min_confidence(probabilities, f1, answerable, weights, tolerance=0.25) == 0.45


def test_calibrate_confidence_reports_its_fit():
    values, right = synthetic(4000, seed=1)
    answerable = right | (np.arange(len(values)) % 3 == 0)
    f1 = np.where(right, 1.0, 0.0)
    report = calibrate_confidence(values, f1, answerable, ~answerable)
    assert set(report) >= {"platt", "min_confidence", "reliability", "ece", "right_at_0.9"}
    assert 0.0 < report["min_confidence"] < 1.0 and report["ece"] < 0.1


def test_the_isotonic_curve_is_monotone_and_bends_where_a_sigmoid_cannot():
    rng = np.random.default_rng(2)
    values = rng.uniform(-10, 10, 20_000)
    truth = np.where(values < 0, 0.05, 0.95)  # a step: right 95% of the time above 0
    right = (rng.random(len(values)) < truth).astype(float)
    weights = np.full(len(values), 1.0 / len(values))
    curve = fit_isotonic(values, right, weights)
    assert all(a <= b for a, b in zip(curve.ps, curve.ps[1:])) and all(a < b for a, b in zip(curve.xs, curve.xs[1:]))
    assert curve(np.array([8.0]))[0] == pytest.approx(0.95, abs=0.02) and curve(np.array([-8.0]))[0] == pytest.approx(0.05, abs=0.02)
    _, iso_ece = reliability(curve(values), right, weights)
    assert iso_ece < 0.02


def test_the_runtime_reads_the_curve_as_the_fit_wrote_it(tmp_path):
    import json

    from newsbot_reader.runtime import load_calibration

    values, right = synthetic(4000, seed=3)
    report = calibrate_confidence(values, right.astype(float), right | (values > 0), ~(right | (values > 0)))
    (tmp_path / "calibration.json").write_text(json.dumps({"signal": "combined", "threshold": 1.5, **report}))
    calibration = load_calibration(tmp_path)
    curve = report["curve"]
    for x in (-20.0, -1.0, 0.0, 0.7, 3.0, 20.0):
        assert calibration.probability(x) == pytest.approx(float(np.interp(x, curve["answerability"], curve["probability"])), abs=1e-9)
    assert calibration.min_confidence == report["min_confidence"]
