"""Arrivals: flat and trend averaged by their Akaike weights (issue 13).

The weights are checked against AICs computed here from the closed-form flat
Poisson fit, the mixture's moments against draws from the mixture itself, and a
real trend against the truth within the written figure's own standard errors.
Tolerances are Z standard errors (the fits' own, or Monte Carlo's).
"""

from __future__ import annotations

import math
import tomllib

import numpy as np
import pytest
from scipy import stats

from simulator.calibrate import calibrate, load_packages, to_toml
from simulator.calibrate.arrivals import (
    MIN_STARTS_FOR_TREND,
    ArrivalModel,
    akaike_weight,
    average,
    days_in_fy,
    fit_arrivals,
    monthly_counts,
)
from simulator.calibrate.records import to_day
from simulator.calibrate.synthetic import simulate_records
from simulator.config.load import config_from_dict

Z = 4.0
AS_OF = to_day("2024-03-31")
ORIGIN = to_day("2024-04-01")
FIRST = to_day("2019-04-01")


def starts(per_year: float, growth: float, seed: int) -> np.ndarray:
    """Start days following the engine's arrivals equation (as in test_calibrate_fit)."""
    rng = np.random.default_rng(seed)
    days = np.arange(FIRST, AS_OF + 1)
    rate = per_year / days_in_fy(days) * (1 + growth) ** ((days - ORIGIN) / 365.25)
    return np.repeat(days, rng.poisson(rate))


def test_the_weight_is_the_trends_share_of_exp_minus_aic_over_two():
    assert akaike_weight(0.0) == pytest.approx(1 / (1 + math.e))
    assert akaike_weight(2.0) == pytest.approx(0.5)
    # The old 5% test's threshold: a trend kept by it had about 72% of the weight.
    assert akaike_weight(stats.chi2.ppf(0.95, 1)) == pytest.approx(0.7152, abs=1e-4)
    checked = 0
    for seed in range(6):
        data = monthly_counts(starts(150.0, 0.0, seed), FIRST, AS_OF, ORIGIN)
        fit = fit_arrivals(data)
        if fit.model != "poisson":
            continue  # by chance the counts looked overdispersed: not the closed form below
        checked += 1
        assert fit.design_effect == pytest.approx(1.0)
        # The flat Poisson fit in closed form: the rate is starts over exposure.
        mu = data.exposure * data.total / data.exposure.sum()
        aic_flat = 2 * 1 - 2 * stats.poisson.logpmf(data.count, mu).sum()
        aic_trend = fit.aic_poisson  # the trended Poisson fit's
        expected = 1 / (1 + math.exp((aic_trend - aic_flat) / 2))
        assert fit.trend_weight == pytest.approx(expected, rel=1e-6)
    assert checked >= 3


def test_the_average_has_the_mixtures_mean_and_covariance():
    flat = ArrivalModel(np.array([5.0, 0.0]), np.array([[0.004, 0.0], [0.0, 0.0]]))
    trended = ArrivalModel(np.array([5.3, 0.12]), np.array([[0.02, 0.006], [0.006, 0.0025]]))
    w = 0.7
    got = average(flat, trended, w)
    # Draws from the mixture: the trend's normal with probability w, else the flat one's.
    rng = np.random.default_rng(1)
    n = 400_000
    pick = rng.random(n) < w
    draws = np.where(
        pick[:, None],
        rng.multivariate_normal(trended.coef, trended.cov, n),
        rng.multivariate_normal(flat.coef, flat.cov, n),
    )
    sd = np.sqrt(np.diag(got.cov))
    np.testing.assert_array_less(np.abs(draws.mean(axis=0) - got.coef), Z * sd / math.sqrt(n))
    sample = np.cov(draws.T)
    # A sample (co)variance has SE about sqrt(2 / n) of sd_i sd_j (generous for the mixture's
    # heavier tails).
    np.testing.assert_array_less(np.abs(sample - got.cov), Z * 2 * np.outer(sd, sd) / math.sqrt(n))
    # Weight 0 and 1 give each model back.
    np.testing.assert_array_equal(average(flat, trended, 0.0).cov, flat.cov)
    np.testing.assert_allclose(average(flat, trended, 1.0).coef, trended.coef)


def test_a_real_trend_is_written_with_its_growth():
    """A clear 10% a year (five years at 600 starts a year, about 7 SEs): nearly all the
    weight is on the trend, and the written growth holds 10% within its SE."""
    for seed in range(5):
        fit = fit_arrivals(monthly_counts(starts(600.0, 0.10, seed), FIRST, AS_OF, ORIGIN))
        assert fit.trend and fit.trend_weight > 0.9
        assert abs(fit.growth - 0.10) < Z * fit.growth_se
        assert abs(fit.per_year - 600.0) < Z * fit.per_year_se
        # Averaging only widens: never tighter than the trend alone.
        assert fit.growth_se >= fit.trend_growth_se * (1 - 1e-9)


def test_written_growth_of_a_real_trend_has_honest_standard_errors():
    """Over R histories with a clear 10% trend (about 7 SEs), the written growth's
    standardised errors have mean 0 and sd 1 within their sampling error: a real trend keeps
    its growth and its SE."""
    r = 60
    z = []
    for seed in range(r):
        fit = fit_arrivals(monthly_counts(starts(600.0, 0.10, 500 + seed), FIRST, AS_OF, ORIGIN))
        z.append((fit.growth - 0.10) / fit.growth_se)
    z = np.array(z)
    assert abs(z.mean()) < Z / math.sqrt(r), z.mean()
    assert abs(z.std(ddof=1) - 1) < Z / math.sqrt(2 * (r - 1)), z.std(ddof=1)


def test_the_config_says_what_was_averaged(tmp_path):
    truth = config_from_dict(
        {
            "council": {"name": "Synthetic"},
            "horizon": {"start": "2024/25", "years": 1},
            "services": {
                "homes": {
                    "budget_gbp": 0,
                    "arrivals": {"per_year": 400, "growth": 0.10},
                    "length": {"dist": "exponential", "mean_weeks": 30},
                    "unit_cost": {"mean_gbp_per_week": 5000, "cv": 0.2},
                }
            },
        }
    )
    path = tmp_path / "packages.csv"
    simulate_records(truth, "2019-04-01", "2024-03-31", seed=3).to_csv(path, index=False)
    cal = calibrate(load_packages(path), as_of="2024-03-31")
    fit = cal.services[0].arrivals
    assert fit.trend and abs(fit.growth - 0.10) < Z * fit.growth_se
    text = to_toml(cal, budget_draws=20)
    words = " ".join(line.lstrip("# ") for line in text.splitlines())
    assert f"Growth averaged over flat and trend, weight {fit.trend_weight:.2f} on the trend" in (
        words
    )
    assert "flat gives 0%" in words
    growth = tomllib.loads(text)["services"]["homes"]["arrivals"]["growth"]
    assert growth["mean"] == pytest.approx(fit.growth, rel=1e-3)
    assert growth["sd"] == pytest.approx(fit.growth_se, rel=1e-3)


def test_a_handful_of_starts_tries_no_trend():
    # One start at the beginning of three years: a trend would run off to -100% a year.
    few = np.array([FIRST + 10] * 1 + [FIRST + 400] * (MIN_STARTS_FOR_TREND - 2))
    for days in (few[:1], few):
        fit = fit_arrivals(monthly_counts(days, FIRST, AS_OF, ORIGIN))
        assert not fit.trend_tried and fit.trend_weight == 0.0
        assert fit.growth == 0.0 and fit.cov[1, 1] == 0.0
    enough = np.append(few, FIRST + 800)
    assert fit_arrivals(monthly_counts(enough, FIRST, AS_OF, ORIGIN)).trend_tried
