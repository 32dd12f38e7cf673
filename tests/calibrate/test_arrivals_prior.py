"""Arrivals: the trend written with its uncertainty, shrunk by a normal prior (issue 13).

The prior update is checked against the posterior computed by quadrature, the
written growth of real and flat trends against the truth within its own standard
errors over many histories, and the short-record guard against the months it
needs. Tolerances are Z standard errors (the fits' own, or Monte Carlo's), or
binomial ones for shares.
"""

from __future__ import annotations

import math
import tomllib

import numpy as np
import pytest

from simulator.calibrate import calibrate, load_packages, to_toml
from simulator.calibrate.arrivals import (
    MIN_MONTHS_FOR_TREND,
    MIN_STARTS_FOR_TREND,
    TREND_PRIOR_SD,
    ArrivalModel,
    days_in_fy,
    fit_arrivals,
    monthly_counts,
    shrink,
)
from simulator.calibrate.records import to_day
from simulator.calibrate.synthetic import simulate_records
from simulator.config.load import config_from_dict

Z = 4.0
AS_OF = to_day("2024-03-31")
ORIGIN = to_day("2024-04-01")
FIRST = to_day("2019-04-01")
#: The 80% interval's half-width in standard errors.
Z80 = 1.2816


def starts(per_year: float, growth: float, seed: int, first: int = FIRST) -> np.ndarray:
    """Start days following the engine's arrivals equation (as in test_calibrate_fit)."""
    rng = np.random.default_rng(seed)
    days = np.arange(first, AS_OF + 1)
    rate = per_year / days_in_fy(days) * (1 + growth) ** ((days - ORIGIN) / 365.25)
    return np.repeat(days, rng.poisson(rate))


def test_the_update_is_the_normal_posterior():
    """Against the posterior of a normal likelihood times the prior, by quadrature on a grid."""
    fitted = ArrivalModel(np.array([5.2, 0.15]), np.array([[0.03, 0.012], [0.012, 0.02]]))
    got, weight = shrink(fitted, 0.2)
    sd = np.sqrt(np.diag(fitted.cov))
    a, b = np.meshgrid(
        np.linspace(5.2 - 9 * sd[0], 5.2 + 9 * sd[0], 801),
        np.linspace(0.15 - 9 * sd[1], 0.15 + 9 * sd[1], 801),
        indexing="ij",
    )
    d = np.stack([a - 5.2, b - 0.15], axis=-1)
    q = np.einsum("...i,ij,...j->...", d, np.linalg.inv(fitted.cov), d)
    density = np.exp(-0.5 * q - 0.5 * (b / 0.2) ** 2)
    density /= density.sum()
    mean = np.array([(density * a).sum(), (density * b).sum()])
    da, db = a - mean[0], b - mean[1]
    cov = np.array(
        [[(density * da * da).sum(), (density * da * db).sum()],
         [(density * da * db).sum(), (density * db * db).sum()]]
    )  # fmt: skip
    np.testing.assert_allclose(got.coef, mean, atol=1e-6)
    np.testing.assert_allclose(got.cov, cov, atol=1e-6)
    # The growth keeps sd^2 / (sd^2 + var) of the fitted b.
    assert weight == pytest.approx(0.04 / 0.06)
    assert got.coef[1] == pytest.approx(weight * 0.15)
    # A trend measured exactly is kept whole; one not measured at all falls to the prior.
    exact, w = shrink(ArrivalModel(fitted.coef, fitted.cov * 1e-12), 0.2)
    assert w == pytest.approx(1.0) and exact.coef == pytest.approx(fitted.coef)
    vague, w = shrink(ArrivalModel(fitted.coef, fitted.cov * 1e6), 0.2)
    assert w < 1e-3 and math.sqrt(vague.cov[1, 1]) == pytest.approx(0.2, rel=1e-3)


def test_a_real_trend_is_written_with_its_growth():
    """A clear 10% a year (five years at 600 starts a year, about 7 SEs): the prior moves it
    by under 1%, and the written growth holds 10% within its SE."""
    for seed in range(5):
        fit = fit_arrivals(monthly_counts(starts(600.0, 0.10, seed), FIRST, AS_OF, ORIGIN))
        assert fit.trend and fit.trend_weight > 0.99
        assert abs(fit.growth - 0.10) < Z * fit.growth_se
        assert abs(fit.per_year - 600.0) < Z * fit.per_year_se
        # The prior only narrows, and never beyond its own sd.
        assert fit.growth_se <= fit.trend_growth_se * (1 + 1e-9)
        assert fit.growth_se <= TREND_PRIOR_SD * (1 + fit.growth)


@pytest.mark.slow
@pytest.mark.parametrize("growth, per_year", [(0.10, 600.0), (0.0, 120.0), (0.08, 120.0)])
def test_written_growth_has_honest_standard_errors(growth, per_year):
    """Over R histories of five years, flat or trending, the written growth's standardised
    errors have mean 0 and sd 1 within their sampling error, and its 80% interval holds the
    truth 80% of the time within Z binomial SEs: a real trend keeps its growth, and a chance
    drift in flat records carries its SE."""
    r = 60
    z = []
    for seed in range(r):
        data = monthly_counts(starts(per_year, growth, 500 + seed), FIRST, AS_OF, ORIGIN)
        fit = fit_arrivals(data)
        z.append((fit.growth - growth) / fit.growth_se)
    z = np.array(z)
    assert abs(z.mean()) < Z / math.sqrt(r), z.mean()
    assert abs(z.std(ddof=1) - 1) < Z / math.sqrt(2 * (r - 1)), z.std(ddof=1)
    held = np.mean(np.abs(z) < Z80)
    assert abs(held - 0.8) < Z * math.sqrt(0.8 * 0.2 / r), held


def test_under_two_years_of_records_no_trend_is_tried():
    month = np.datetime64("2024-04", "M")
    for months, tried in ((MIN_MONTHS_FOR_TREND - 1, False), (MIN_MONTHS_FOR_TREND, True)):
        first = int((month - months).astype("datetime64[D]").astype(np.int64))
        data = monthly_counts(starts(200.0, 0.0, 3, first), first, AS_OF, ORIGIN)
        assert data.month.size == months
        fit = fit_arrivals(data)
        assert fit.trend_tried is tried
        assert (fit.trend_weight > 0) is tried
        if not tried:
            assert fit.growth == 0.0 and fit.cov[1, 1] == 0.0


def test_the_prior_bounds_a_poorly_measured_trend():
    """Two years at 27 starts a year: the trend alone has an SE of about 25 points, and
    raised to the years ahead it would inflate a four-year forecast; the written growth's SE
    stays under the prior's sd, and its 80% interval still holds the (flat) truth at least
    80% of the time."""
    first = to_day("2022-04-01")
    se, alone, held = [], [], []
    for seed in range(40):
        fit = fit_arrivals(monthly_counts(starts(27.0, 0.0, seed, first), first, AS_OF, ORIGIN))
        assert fit.trend_tried
        se.append(math.sqrt(fit.cov[1, 1]))
        alone.append(fit.trend_growth_se)
        held.append(abs(fit.growth) < Z80 * fit.growth_se)
    assert max(se) < TREND_PRIOR_SD
    assert np.median(alone) > TREND_PRIOR_SD
    assert np.mean(held) >= 0.8 - Z * math.sqrt(0.8 * 0.2 / len(held))


def test_the_config_says_what_was_written(tmp_path):
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
    assert (
        f"Growth {fit.growth * 100:+.1f}% a year (SE {fit.growth_se * 100:.1f} points): the trend "
        f"in the records, {fit.trend_growth * 100:+.1f}% a year" in words
    )
    assert f"kept at {fit.trend_weight:.0%} of its size" in words
    assert "a sustained trend beyond +-40% a year is rare (a prior with sd 20 points)" in words
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
