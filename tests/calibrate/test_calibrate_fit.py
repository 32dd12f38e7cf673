"""The calibration's fits recover known parameters within their standard errors.

Records are simulated from known distributions with the features real extracts
have: placements still open on the as-of date (right-censored), placements
that started before the records are complete (left-truncated), and dates in
whole days. Tolerances are Z standard errors, the SEs being the fits' own
(inverse observed information, delta method); separate tests check those SEs
against the spread of estimates over many simulated data sets, so a loose SE
cannot make a recovery test pass.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from simulator.calibrate.arrivals import days_in_fy, fit_arrivals, monthly_counts
from simulator.calibrate.costs import fit_costs
from simulator.calibrate.lengths import (
    FAMILIES,
    LengthData,
    fit_lengths,
    kaplan_meier,
    length_data,
)
from simulator.calibrate.records import to_day

Z = 4.0  # about 1 in 16,000 chance of a false alarm per check for a correct fit
AS_OF = to_day("2024-03-31")
ORIGIN = to_day("2024-04-01")
OBSERVED_FROM = to_day("2018-04-01")


def simulate_lengths(dist, n: int, seed: int, years: float = 12.0) -> LengthData:
    """Placements starting uniformly over ``years`` to the as-of date, lengths from ``dist``."""
    rng = np.random.default_rng(seed)
    start = rng.integers(AS_OF - int(years * 365.25), AS_OF + 1, n).astype(float)
    end = start + np.round(dist.rvs(n, random_state=rng) * 7.0)
    return length_data(start, end, AS_OF, OBSERVED_FROM)


# The engine's four families, with the config parameters each is written with.
TRUE_LENGTHS = {
    "lognormal": (stats.lognorm(s=1.0, scale=40.0), {"scale": 40.0, "shape": 1.0}),
    "gamma": (stats.gamma(a=1.6, scale=50.0 / 1.6), {"scale": 50.0, "shape": 1.6}),
    "weibull": (
        stats.weibull_min(c=0.8, scale=60.0 / math.gamma(1 + 1 / 0.8)),
        {"scale": 60.0, "shape": 0.8},
    ),
    "exponential": (stats.expon(scale=45.0), {"scale": 45.0}),
}


@pytest.mark.parametrize("family", list(TRUE_LENGTHS))
def test_lengths_recovered_within_standard_errors(family):
    dist, truth = TRUE_LENGTHS[family]
    data = simulate_lengths(dist, 4000, seed=11)
    assert data.truncated > 200 and data.n - data.events > 200  # both features present
    fit = fit_lengths(data, (family,)).chosen
    for what, value in truth.items():
        estimate, se = fit.value(what), fit.se(what)
        assert abs(estimate - value) < Z * se, (what, estimate, se, value)
        assert se < 0.1 * value  # and the SE is informative, not vacuous


def test_left_truncation_matters():
    """Ignoring that early placements are in the records only because they lasted biases the fit."""
    dist, truth = TRUE_LENGTHS["lognormal"]
    data = simulate_lengths(dist, 4000, seed=11)
    naive = LengthData(data.low, data.high, np.zeros_like(data.entry))
    fit = fit_lengths(naive, ("lognormal",)).chosen
    assert fit.value("scale") - truth["scale"] > Z * fit.se("scale")


@pytest.mark.parametrize("family", list(TRUE_LENGTHS))
def test_aic_prefers_the_true_family(family):
    dist, _ = TRUE_LENGTHS[family]
    fits = fit_lengths(simulate_lengths(dist, 4000, seed=3))
    assert set(fits.fits) == set(FAMILIES)
    # A nested family (gamma or Weibull with shape near 1 for the exponential) may win
    # by chance by up to the LR statistic; within 4 AIC units is a 95%-level statement.
    assert fits.fits[family].aic - fits.chosen.aic < 4.0
    if family in ("lognormal", "gamma"):
        assert fits.chosen.name == family


def test_length_standard_errors_match_the_spread_of_estimates():
    """Over 40 data sets, (estimate - truth) / SE has mean 0 and sd 1."""
    dist, truth = TRUE_LENGTHS["lognormal"]
    z = []
    for seed in range(40):
        fit = fit_lengths(simulate_lengths(dist, 400, seed=100 + seed), ("lognormal",)).chosen
        z.append([(fit.value(w) - truth[w]) / fit.se(w) for w in ("scale", "shape")])
    z = np.array(z)
    n = len(z)
    # Bounds from the sampling distributions of a mean and an sd of n standard normals.
    assert np.all(np.abs(z.mean(axis=0)) < Z / math.sqrt(n)), z.mean(axis=0)
    sd = z.std(axis=0, ddof=1)
    assert np.all(np.abs(sd - 1) < Z / math.sqrt(2 * (n - 1))), sd


def test_matches_scipy_censored_fit_without_truncation():
    rng = np.random.default_rng(5)
    n = 3000
    start = rng.integers(OBSERVED_FROM, AS_OF + 1, n).astype(float)
    end = start + np.round(stats.lognorm(s=0.9, scale=30).rvs(n, random_state=rng) * 7)
    data = length_data(start, end, AS_OF, OBSERVED_FROM)
    assert data.truncated == 0
    mid = 0.5 * (data.low + data.high)
    censored = stats.CensoredData(uncensored=mid[data.ended], right=data.low[~data.ended])
    sigma, _, median = stats.lognorm.fit(censored, floc=0)
    ours = fit_lengths(data, ("lognormal",)).chosen
    # Ours treats a recorded day as an interval, scipy's as a point: agreement to 2% of an SE.
    assert abs(ours.value("scale") - median) < 0.02 * ours.se("scale")
    assert abs(ours.value("shape") - sigma) < 0.02 * ours.se("shape")


def test_kaplan_meier_matches_scipy():
    rng = np.random.default_rng(2)
    time = stats.lognorm(s=1.0, scale=40).rvs(300, random_state=rng)
    censored = rng.random(300) < 0.3
    km = kaplan_meier(time, ~censored)
    ref = stats.ecdf(stats.CensoredData(uncensored=time[~censored], right=time[censored]))
    with np.errstate(all="ignore"), pytest.warns(RuntimeWarning):
        band = ref.sf.confidence_interval(0.95, method="log-log")
    np.testing.assert_allclose(km.sf, ref.sf.evaluate(km.time), atol=1e-12)
    low, high = band.low.evaluate(km.time), band.high.evaluate(km.time)
    # scipy leaves the band undefined where S reaches 0; ours collapses onto S there.
    defined = np.isfinite(low)
    assert defined.sum() >= len(km.time) - 2
    np.testing.assert_allclose(km.low[defined], low[defined], atol=1e-12)
    np.testing.assert_allclose(km.high[defined], high[defined], atol=1e-12)


def test_kaplan_meier_with_delayed_entry_by_hand():
    # Exits at 1, 2, 3 (ended) and 4 (open); the third entered at 2.5, so it is not at
    # risk at times 1 and 2: S = (1 - 1/3)(1 - 1/2) at 2, then (1 - 1/2) at 3.
    km = kaplan_meier(
        np.array([1.0, 2.0, 3.0, 4.0]),
        np.array([True, True, True, False]),
        np.array([0.0, 0.0, 2.5, 0.0]),
    )
    np.testing.assert_allclose(km.time, [1.0, 2.0, 3.0])
    np.testing.assert_allclose(km.at_risk, [3.0, 2.0, 2.0])
    np.testing.assert_allclose(km.sf, [2 / 3, 1 / 3, 1 / 6])


def test_no_ended_placements_cannot_be_fitted():
    data = LengthData(np.array([3.0, 4.0]), np.full(2, np.inf), np.zeros(2))
    assert fit_lengths(data) is None


def test_few_ended_placements_get_the_exponential_only():
    data = LengthData(
        np.array([3.0, 5.0, 7.0, 1.0]), np.array([3.2, 5.2, np.inf, np.inf]), np.zeros(4)
    )
    fits = fit_lengths(data)
    assert list(fits.fits) == ["exponential"]
    # The exponential MLE is time at risk over events (here with interval-censored ends).
    assert fits.chosen.value("mean") == pytest.approx((3.1 + 5.1 + 7 + 1) / 2, rel=1e-3)


# ---------------------------------------------------------------- arrivals


def simulate_starts(per_year: float, growth: float, dispersion: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    days = np.arange(OBSERVED_FROM, AS_OF + 1)
    # The engine's equation: each day is 1 / (days in its financial year) of a year.
    rate = per_year / days_in_fy(days) * (1 + growth) ** ((days - ORIGIN) / 365.25)
    if dispersion > 0:
        month = days.astype("datetime64[D]").astype("datetime64[M]")
        _, which = np.unique(month, return_inverse=True)
        rate = rate * rng.gamma(1 / dispersion, dispersion, which.max() + 1)[which]
    return np.repeat(days, rng.poisson(rate))


def arrival_fit(per_year, growth, dispersion, seed, first=OBSERVED_FROM):
    starts = simulate_starts(per_year, growth, dispersion, seed)
    return fit_arrivals(monthly_counts(starts, first, AS_OF, ORIGIN))


@pytest.mark.parametrize(("dispersion", "model"), [(0.0, "poisson"), (0.1, "negative binomial")])
def test_arrivals_recovered_within_standard_errors(dispersion, model):
    # A trend of about five standard errors, so the likelihood keeps it (see test_calibrate_stats).
    fit = arrival_fit(600.0, 0.05, dispersion, seed=4)
    assert fit.model == model and fit.trend
    assert abs(fit.per_year - 600.0) < Z * fit.per_year_se
    assert abs(fit.growth - 0.05) < Z * fit.growth_se
    if dispersion:
        assert abs(fit.dispersion - dispersion) < Z * fit.dispersion_se
    assert 0.5 < fit.pearson < 1.5


@pytest.mark.slow  # many synthetic fits
def test_arrival_standard_errors_match_the_spread_of_estimates():
    z = []
    for seed in range(40):
        # A trend the likelihood always keeps (over 5 SEs): the trend model's SEs are checked.
        fit = arrival_fit(400.0, 0.08, 0.0, seed=200 + seed)
        assert fit.trend
        z.append([(fit.per_year - 400.0) / fit.per_year_se, (fit.growth - 0.08) / fit.growth_se])
    z = np.array(z)
    n = len(z)
    assert np.all(np.abs(z.mean(axis=0)) < Z / math.sqrt(n)), z.mean(axis=0)
    sd = z.std(axis=0, ddof=1)
    assert np.all(np.abs(sd - 1) < Z / math.sqrt(2 * (n - 1))), sd


def test_partial_months_count_by_exposure():
    counts = monthly_counts(np.array([to_day("2024-03-20")]), to_day("2024-02-15"), AS_OF, ORIGIN)
    assert list(counts.month.astype(str)) == ["2024-02", "2024-03"]
    np.testing.assert_allclose(counts.exposure * 366, [15, 31])  # 2023/24 holds 29 February
    assert list(counts.count) == [0, 1]
    assert counts.t[-1] == pytest.approx(-15.5 / 365.25)


def test_short_records_fit_no_trend():
    fit = arrival_fit(120.0, 0.0, 0.0, seed=1, first=to_day("2023-10-01"))
    assert not fit.trend and fit.growth == 0.0 and fit.cov[1, 1] == 0.0
    assert abs(fit.per_year - 120.0) < Z * fit.per_year_se


def test_per_year_spread_matches_the_fitted_rate_mid_year():
    fit = arrival_fit(600.0, 0.05, 0.0, seed=4)
    assert fit.trend
    t = 0.5
    true_var = fit.cov[0, 0] + 2 * t * fit.cov[0, 1] + t * t * fit.cov[1, 1]
    config_var = fit.log_rate_sd_for_config(t) ** 2 + t * t * fit.cov[1, 1]
    assert config_var == pytest.approx(true_var)
    assert fit.cov[0, 1] > 0  # extrapolating forward: level and slope move together


# ---------------------------------------------------------------- unit costs


def lognormal_costs(rng, mean: float, cv: float, n: int) -> np.ndarray:
    sigma = math.sqrt(math.log1p(cv * cv))
    return np.exp(math.log(mean) - sigma**2 / 2 + sigma * rng.standard_normal(n))


def test_costs_with_a_high_cost_tail_recovered():
    rng = np.random.default_rng(8)
    costs = lognormal_costs(rng, 5600, 0.25, 3000)
    tail = rng.random(3000) < 0.12
    costs[tail] = lognormal_costs(rng, 11500, 0.2, int(tail.sum()))
    fit = fit_costs(costs)
    assert fit.tail
    assert abs(fit.mean - 5600) < Z * fit.mean_se
    assert abs(fit.share - 0.12) < Z * fit.share_se
    assert abs(fit.tail_mean - 11500) < Z * fit.tail_mean_se
    assert fit.cv == pytest.approx(0.25, abs=0.03) and fit.tail_cv == pytest.approx(0.2, abs=0.05)


def test_costs_without_a_tail_get_one_lognormal():
    rng = np.random.default_rng(9)
    fit = fit_costs(lognormal_costs(rng, 820, 0.2, 1500))
    assert not fit.tail and fit.why_no_tail
    assert abs(fit.mean - 820) < Z * fit.mean_se
    assert fit.cv == pytest.approx(0.2, abs=0.02)


def test_identical_costs_do_not_break_the_fit():
    fit = fit_costs(np.full(200, 450.0))
    assert not fit.tail and fit.mean == pytest.approx(450.0, rel=1e-3)
    assert fit_costs(np.array([450.0])) is None


@pytest.mark.parametrize(
    ("fy", "days", "next_days"), [("2022-04-01", 365, 366), ("2023-04-01", 366, 365)]
)
def test_a_whole_financial_year_is_exactly_one_year_of_exposure(fy, days, next_days):
    # As in the engine, a flat rate gives exactly per_year starts each financial year,
    # leap years included.
    first = to_day(fy)
    last = first + days - 1
    assert days_in_fy(np.array([first, last, last + 1])).tolist() == [days, days, next_days]
    counts = monthly_counts(np.array([], dtype=np.int64), first, last, ORIGIN)
    month_days = np.diff(np.arange(counts.month[0], counts.month[-1] + 2).astype("datetime64[D]"))
    np.testing.assert_allclose(counts.exposure, month_days.astype(float) / days)
    assert counts.years == pytest.approx(1.0, abs=1e-12)
