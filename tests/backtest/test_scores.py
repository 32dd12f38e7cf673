"""Scores: the randomised PIT is uniform for a right forecast, coverage follows from it,
CRPS matches its closed form, and the coverage interval is the exact binomial one."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from simulator.backtest.scores import (
    coverage_interval,
    crps,
    flatness_pvalue,
    inside,
    pit,
    pit_histogram,
)

# A chi-square flatness test at this level fails a right forecast one time in 1,000.
P_FLAT = 1e-3
Z = 4.0


def test_pit_of_counts_is_uniform_for_the_right_forecast():
    # Poisson(12) outcomes against Poisson(12) draws: many ties, which the randomised
    # PIT spreads, so the histogram is flat and every interval covers its level.
    rng = np.random.default_rng(1)
    n, m = 4000, 300
    forecast = rng.poisson(12.0, size=(n, m)).astype(float)
    outcome = rng.poisson(12.0, size=n).astype(float)
    p = pit(forecast, outcome, np.random.default_rng(2))
    assert flatness_pvalue(pit_histogram(p)) > P_FLAT
    for level in (0.5, 0.8, 0.9):
        se = math.sqrt(level * (1 - level) / n)
        assert abs(np.mean(inside(p, level)) - level) < Z * se


def test_pit_sees_a_forecast_too_narrow():
    rng = np.random.default_rng(3)
    forecast = rng.normal(0.0, 1.0, size=(3000, 200))
    outcome = rng.normal(0.0, 2.0, size=3000)
    p = pit(forecast, outcome, np.random.default_rng(4))
    assert flatness_pvalue(pit_histogram(p)) < 1e-10
    assert np.mean(inside(p, 0.8)) < 0.55  # truth: P(|N(0, 4)| < 1.28) = 0.52


def test_pit_and_crps_leave_missing_values_missing():
    forecast = np.array([[1.0, 2.0, 3.0], [1.0, np.nan, 3.0]])
    outcome = np.array([np.nan, 2.0])
    assert np.isnan(pit(forecast, outcome, np.random.default_rng(0))).all()
    assert np.isnan(crps(forecast, outcome)).all()
    assert np.isnan(inside(np.array([np.nan]), 0.8)).all()


def test_inside_is_strict_at_the_interval_ends():
    p = np.array([0.1, 0.1000001, 0.5, 0.8999999, 0.9])
    assert inside(p, 0.8).tolist() == [0.0, 1.0, 1.0, 1.0, 0.0]


def _crps_normal(y: float, sd: float) -> float:
    z = y / sd
    return sd * (z * (2 * stats.norm.cdf(z) - 1) + 2 * stats.norm.pdf(z) - 1 / math.sqrt(math.pi))


def test_crps_of_draws_matches_the_normal_closed_form():
    # The empirical CRPS of m draws has expectation CRPS(F, y) + E|X - X'| / (2m); its
    # replicate-to-replicate spread gives the tolerance.
    rng = np.random.default_rng(5)
    reps, m, sd, y = 200, 2000, 3.0, 1.7
    scores = crps(rng.normal(0.0, sd, size=(reps, m)), np.full(reps, y))
    bias = (2 * sd / math.sqrt(math.pi)) / (2 * m)
    se = scores.std(ddof=1) / math.sqrt(reps)
    assert abs(scores.mean() - _crps_normal(y, sd) - bias) < Z * se + 1e-12


def test_crps_of_a_single_number_is_the_absolute_error():
    assert crps(np.array([[7.0]]), np.array([3.5]))[0] == pytest.approx(3.5)


def test_coverage_interval_is_clopper_pearson():
    low, high = coverage_interval(4, 5)
    assert low == pytest.approx(stats.beta.ppf(0.025, 4, 2))
    assert high == pytest.approx(stats.beta.ppf(0.975, 5, 1))
    assert coverage_interval(0, 3)[0] == 0.0
    assert all(np.isnan(coverage_interval(0, 0)))
