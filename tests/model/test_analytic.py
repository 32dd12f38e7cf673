"""The model against results known in closed form.

Tolerances are Monte Carlo standard errors times Z (about 1 in 30,000 chance
of a false alarm for a correct model), never guessed fractions.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate, stats

import simulator
from simulator.config.calendar import month_grid
from tests.helpers import make_config, placement_service

Z = 4.0


def lognormal(median: float, sigma: float):
    return stats.lognorm(s=sigma, scale=median)


# ---------------------------------------------------------------- M/G/infinity


@pytest.fixture(scope="module")
def mg_infinity():
    """Poisson arrivals, lognormal lengths, fixed cost, no caseload, 5 years."""
    svc = placement_service(
        arrivals={"per_year": 520.0},
        length={"dist": "lognormal", "median_weeks": 20.0, "sigma": 0.8},
        unit_cost={"mean_gbp_per_week": 100.0},
    )
    config = make_config({"queue": svc}, years=5)
    ds = simulator.run(config, draws=2000, seed=11)
    return ds.sel(service="queue"), lognormal(20.0, 0.8)


def _year_rates(per_year: float, start_year: int, years: int) -> list[tuple[float, float, float]]:
    """(start week, end week, arrivals per week) for each financial year.

    A year's arrivals are spread over its own days (365 or 366).
    """
    grid = month_grid(start_year, years)
    edges = grid.edges_weeks[::12]
    return [(edges[y], edges[y + 1], per_year / (edges[y + 1] - edges[y])) for y in range(years)]


def _g(dist, x: float) -> float:
    """G(x) = integral_0^x S(u) du."""
    return integrate.quad(dist.sf, 0, max(x, 0.0), limit=200)[0]


def _expected_open(rates, dist, t: float) -> float:
    """E[N(t)] = integral_0^t lambda(u) S(t - u) du for an M/G/infinity queue started empty."""
    return sum(lam * (_g(dist, t - a) - _g(dist, t - min(b, t))) for a, b, lam in rates if a < t)


def test_mg_infinity_caseload_mean_and_poisson_variance(mg_infinity):
    ds, dist = mg_infinity
    rates = _year_rates(520.0, 2024, 5)
    edges = month_grid(2024, 5).edges_weeks
    for m in (5, 30, 59):  # early (transient) and late (steady state)
        counts = ds["caseload"].isel(month=m).values.astype(float)
        expected = _expected_open(rates, dist, edges[m + 1])
        se = math.sqrt(expected / counts.size)  # Poisson: variance = mean
        assert abs(counts.mean() - expected) < Z * se, (m, counts.mean(), expected)
        # Variance-to-mean ratio is 1; its SE is about sqrt(2 / (n - 1)) for a large mean.
        ratio = counts.var(ddof=1) / expected
        assert abs(ratio - 1.0) < Z * math.sqrt(2.0 / (counts.size - 1)), (m, ratio)


def test_mg_infinity_steady_state_is_arrivals_times_mean_length(mg_infinity):
    ds, dist = mg_infinity
    steady = 520.0 / (365 / 7) * dist.mean()  # lambda * E[L]; the last year has 365 days
    counts = ds["caseload"].isel(month=-1).values
    assert abs(counts.mean() - steady) < Z * math.sqrt(steady / counts.size) + 0.001 * steady


def _expected_weeks(rates, dist, a: float, b: float) -> float:
    """Expected placement-weeks in [a, b]: the integral of E[N(t)] over it."""
    return integrate.quad(lambda t: _expected_open(rates, dist, t), a, b, limit=200)[0]


def test_mg_infinity_spend_is_cost_times_placement_weeks(mg_infinity):
    ds, dist = mg_infinity
    rates = _year_rates(520.0, 2024, 5)
    edges = month_grid(2024, 5).edges_weeks
    for y in (0, 4):
        spend = ds["outturn"].isel(financial_year=y).values
        expected = 100.0 * _expected_weeks(rates, dist, edges[12 * y], edges[12 * y + 12])
        se = spend.std(ddof=1) / math.sqrt(spend.size)
        assert abs(spend.mean() - expected) < Z * se, (y, spend.mean(), expected)


def test_arrivals_are_poisson_per_month(mg_infinity):
    ds, _ = mg_infinity
    days = ds["days_in_month"].values
    fy_days = ds["days_in_month"].groupby("month_financial_year").sum()
    expected = 520.0 * days / fy_days.sel(month_financial_year=ds["month_financial_year"]).values
    arrivals = ds["arrivals"].values.astype(float)
    n = arrivals.shape[0]
    assert np.all(np.abs(arrivals.mean(axis=0) - expected) < Z * np.sqrt(expected / n))


# ---------------------------------------------------------------- residual lengths

FAMILIES = {
    "lognormal": ({"dist": "lognormal", "median_weeks": 30.0, "sigma": 1.0}, lognormal(30.0, 1.0)),
    "gamma": (
        {"dist": "gamma", "mean_weeks": 40.0, "shape": 0.6},
        stats.gamma(0.6, scale=40 / 0.6),
    ),
    "gamma_k3": (
        {"dist": "gamma", "mean_weeks": 40.0, "shape": 3.0},
        stats.gamma(3.0, scale=40 / 3),
    ),
    "weibull": (
        {"dist": "weibull", "median_weeks": 35.0, "shape": 1.4},
        stats.weibull_min(1.4, scale=35.0 / math.log(2) ** (1 / 1.4)),
    ),
    "exponential": ({"dist": "exponential", "mean_weeks": 25.0}, stats.expon(scale=25.0)),
}


def _cohort(length: dict, elapsed, n_open: int, draws: int, seed: int, years: int = 2):
    """A cohort open at the start, no arrivals, £1 a week: spend = weeks open."""
    svc = placement_service(
        caseload={"open": n_open, "elapsed_weeks": elapsed},
        arrivals={"per_year": 0.0},
        length=length,
        unit_cost={"mean_gbp_per_week": 1.0},
    )
    ds = simulator.run(make_config({"cohort": svc}, years=years), draws=draws, seed=seed)
    return ds.sel(service="cohort")


def _conditional_weeks(dist, a: float, horizon: float) -> float:
    """E[min(L - a, T) | L > a] = int_0^T S(a + r) dr / S(a)."""
    return integrate.quad(lambda r: dist.sf(a + r), 0, horizon, limit=200)[0] / dist.sf(a)


@pytest.mark.parametrize("family", list(FAMILIES))
@pytest.mark.parametrize("elapsed", [0.0, 12.0, 150.0])
def test_residual_length_given_elapsed_time(family, elapsed):
    length, dist = FAMILIES[family]
    n_open, draws, years = 100, 200, 2
    ds = _cohort(length, elapsed, n_open, draws, seed=3)
    horizon = month_grid(2024, years).edges_weeks[-1]
    per_draw = ds["outturn"].sum("financial_year").values / n_open  # mean weeks open
    expected = _conditional_weeks(dist, elapsed, horizon)
    se = per_draw.std(ddof=1) / math.sqrt(draws)
    assert abs(per_draw.mean() - expected) < Z * se, (per_draw.mean(), expected)
    # Month-end counts follow the conditional survival curve S(a + t) / S(a).
    edges = month_grid(2024, years).edges_weeks
    share = ds["caseload"].values.mean(axis=0) / n_open
    surv = dist.sf(elapsed + edges[1:]) / dist.sf(elapsed)
    se_share = np.sqrt(surv * (1 - surv) / (n_open * draws)) + 1e-12
    assert np.all(np.abs(share - surv) < Z * se_share + 1e-9)


def test_lognormal_residual_mean_matches_closed_form():
    """E[L - a | L > a] for a lognormal, from its closed form, with a long horizon."""
    mu, sigma, a = math.log(30.0), 1.0, 40.0
    z0 = (math.log(a) - mu) / sigma
    closed = math.exp(mu + sigma**2 / 2) * stats.norm.cdf(sigma - z0) / stats.norm.sf(z0) - a
    length = {"dist": "lognormal", "median_weeks": 30.0, "sigma": 1.0}
    ds = _cohort(length, a, n_open=100, draws=200, seed=9, years=5)
    per_draw = ds["outturn"].sum("financial_year").values / 100
    truncated = _conditional_weeks(lognormal(30.0, 1.0), a, month_grid(2024, 5).edges_weeks[-1])
    # The 5-year horizon cuts off part of the tail (about 7% here); add exactly that part back.
    tail = closed - truncated
    assert 0 <= tail < closed
    se = per_draw.std(ddof=1) / math.sqrt(per_draw.size)
    assert abs(per_draw.mean() + tail - closed) < Z * se


@pytest.mark.parametrize("family", ["lognormal", "gamma_k3", "weibull", "exponential"])
def test_steady_state_start_keeps_caseload_on_the_equilibrium_curve(family):
    """With no elapsed times given, remaining time has density S(r) / E[L]."""
    length, dist = FAMILIES[family]
    n_open, draws = 100, 200
    ds = _cohort(length, None, n_open, draws, seed=5)
    edges = month_grid(2024, 2).edges_weeks
    # P(R > t) for the equilibrium residual = int_t^inf S(u) du / E[L]
    surv = np.array([integrate.quad(dist.sf, t, np.inf, limit=200)[0] for t in edges[1:]])
    surv /= dist.mean()
    share = ds["caseload"].values.mean(axis=0) / n_open
    se = np.sqrt(surv * (1 - surv) / (n_open * draws))
    assert np.all(np.abs(share - surv) < Z * se + 1e-9)


# ---------------------------------------------------------------- deterministic limit


def _deterministic_home_care(years: int = 1, **extra) -> dict:
    svc = placement_service(
        caseload={"open": 2660, "elapsed_weeks": 0.0},
        arrivals={"per_year": 0.0},
        length={"dist": "lognormal", "median_weeks": 100_000.0, "sigma": 0.0},
        unit_cost={"mean_gbp_per_week": 328.0},
        budget_gbp=45_000_000,
    )
    svc.update(extra)
    return svc


def test_deterministic_limit_home_care_year():
    """2,660 clients at £328 a week for the 365 days of 2024/25, every draw."""
    ds = simulator.run(make_config({"home_care": _deterministic_home_care()}), draws=20, seed=1)
    outturn = ds["outturn"].sel(service="home_care", financial_year="2024/25").values
    hand = 2660 * 328 * 365 / 7
    np.testing.assert_allclose(outturn, hand, rtol=1e-12)
    np.testing.assert_allclose(
        ds["overspend"].sel(service="total").values, hand - 45_000_000, rtol=1e-12
    )
    assert np.all(ds["caseload"].sel(service="home_care").values == 2660)


def test_deterministic_limit_with_inflation_income_savings_and_cost_line():
    services = {
        "home_care": _deterministic_home_care(
            inflation={"factors": {"nlw": 1.0}, "extra": 0.01},
            income={"share": 0.1},
            savings={"tec": {"target_gbp": {"2025/26": 1_000_000}, "delivery": 0.5}},
        ),
        "transport": {
            "kind": "cost",
            "budget_gbp": 5_000_000,
            "cost": {"annual_gbp": 5_000_000, "growth": 0.0},
        },
    }
    config = make_config(
        services,
        years=2,
        inflation={"price_base": "2023/24", "factors": {"nlw": {"uplift": 0.05}}},
    )
    ds = simulator.run(config, draws=5, seed=2)
    days = [365, 365]  # 2024/25 and 2025/26
    index = [1.06, 1.06**2]  # April 2024 and April 2025 uplifts: 5% factor + 1% extra
    for y, year in enumerate(["2024/25", "2025/26"]):
        gross = 2660 * 328 * days[y] / 7 * index[y]
        saving = 500_000 if year == "2025/26" else 0.0
        got = ds["outturn"].sel(service="home_care", financial_year=year).values
        np.testing.assert_allclose(got, gross * 0.9 - saving, rtol=1e-12)
        line = ds["outturn"].sel(service="transport", financial_year=year).values
        np.testing.assert_allclose(line, 5_000_000, rtol=1e-12)  # a flat line: exactly annual
        total = ds["outturn"].sel(service="total", financial_year=year).values
        np.testing.assert_allclose(total, got + line, rtol=1e-12)


def test_partial_months_are_pro_rated_by_days():
    """One placement of exactly 10 days from the start costs 10/7 weeks of fees."""
    svc = placement_service(
        caseload={"open": 1, "elapsed_weeks": 0.0},
        arrivals={"per_year": 0.0},
        length={"dist": "lognormal", "median_weeks": 10 / 7, "sigma": 0.0},
        unit_cost={"mean_gbp_per_week": 700.0},
    )
    ds = simulator.run(make_config({"one": svc}), draws=1, seed=1)
    spend = ds["spend"].sel(service="one").values[0]
    np.testing.assert_allclose(spend[0], 1000.0, rtol=1e-12)
    assert np.all(spend[1:] == 0)


def test_weibull_remaining_length_far_past_its_scale_is_finite_and_right():
    """(a/lambda)^k overflows for a large shape far past the scale; the log form does not."""
    length = {"dist": "weibull", "median_weeks": 10.0, "shape": 60.0}
    dist = stats.weibull_min(60.0, scale=10.0 / math.log(2) ** (1 / 60.0))
    horizon = month_grid(2024, 1).edges_weeks[-1]
    # Just past the scale, where scipy can still compute the conditional mean.
    ds = _cohort(length, 10.5, n_open=100, draws=100, seed=4, years=1)
    per_draw = ds["outturn"].sum("financial_year").values / 100
    # The conditional survival falls to nothing within hundredths of a week, so
    # integrate over the first week only (quad over the year misses it).
    expected = _conditional_weeks(dist, 10.5, 1.0)
    assert horizon > 1.0
    se = per_draw.std(ddof=1) / math.sqrt(per_draw.size)
    assert abs(per_draw.mean() - expected) < Z * se
    # Far past it ((1000/10)^60 = 1e120 overflows nothing now): a placement that has
    # survived so long under such a steep hazard ends almost at once, not never.
    ds = _cohort(length, 1000.0, n_open=10, draws=5, seed=4, years=1)
    weeks = ds["outturn"].sum("financial_year").values / 10
    assert np.all(np.isfinite(weeks)) and np.all((weeks >= -1e-9) & (weeks < 1e-3))
