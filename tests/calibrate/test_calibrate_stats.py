"""The statistical defects, checked against synthetic histories with known parameters.

8. Placements whose earlier episodes predate the first return: their start is
   left-censored in the length fit.
10. Trend or flat is chosen by likelihood.
11. Arrival standard errors are cluster-robust by child.

Tolerances are Z standard errors (the fits' own), and for frequencies and
spreads over many simulated data sets their sampling error (binomial, and
the sd of n standard normals).
"""

from __future__ import annotations

import math
import tomllib

import numpy as np
import pytest
from scipy import integrate

from simulator.calibrate import calibrate, load_packages, load_ssda903, to_toml
from simulator.calibrate.arrivals import days_in_fy, fit_arrivals, monthly_counts
from simulator.calibrate.lengths import FAMILIES, fit_lengths, length_data
from simulator.calibrate.records import day_numbers, to_day
from simulator.calibrate.synthetic import simulate_records
from simulator.config.load import config_from_dict

Z = 4.0
AS_OF = to_day("2024-03-31")
ORIGIN = to_day("2024-04-01")
FIRST = to_day("2018-04-01")
EPISODE_HEADER = "CHILD,DECOM,RNE,LS,CIN,PLACE,PLACE_PROVIDER,DEC,REC\n"


def starts(per_year: float, growth: float, seed: int, first: int = FIRST) -> np.ndarray:
    """Start days following the engine's arrivals equation (as in test_calibrate_fit)."""
    rng = np.random.default_rng(seed)
    days = np.arange(first, AS_OF + 1)
    rate = per_year / days_in_fy(days) * (1 + growth) ** ((days - ORIGIN) / 365.25)
    return np.repeat(days, rng.poisson(rate))


def one_service(per_year: float, length: dict, growth: float = 0.0) -> dict:
    return {
        "council": {"name": "Synthetic"},
        "horizon": {"start": "2024/25", "years": 1},
        "services": {
            "childrens_homes": {
                "budget_gbp": 0,
                "arrivals": {"per_year": per_year, "growth": growth},
                "length": length,
                "unit_cost": {"mean_gbp_per_week": 5000, "cv": 0.2},
            }
        },
    }


# ---------------------------------------------------------------- 10: trend or flat


def test_two_years_of_flat_records_find_no_trend():
    first = to_day("2022-04-01")
    for seed in range(3):
        fit = fit_arrivals(monthly_counts(starts(120.0, 0.0, seed, first), first, AS_OF, ORIGIN))
        assert not fit.trend and fit.flat.growth == 0.0 and fit.flat.cov[1, 1] == 0.0
        assert fit.trend_tried
        assert fit.trend_lr <= 3.84  # chi-square(1) at 5%
        assert abs(fit.flat.per_year - 120.0) < Z * fit.flat.per_year_se
        # What is written is the trend with its SE (and the prior), holding the truth.
        assert 0.0 < fit.trend_weight < 1.0
        assert abs(fit.per_year - 120.0) < Z * fit.per_year_se
        assert abs(fit.growth) < Z * fit.growth_se


def test_a_trend_under_about_two_standard_errors_is_not_kept():
    # Six years of a 2% trend at 150 a year: about 1.3 SE, so some histories show it and
    # some do not. The flat model's rate is the average over the records, whose truth is the
    # mean of the trend over them; what is written (the trend, with the prior) is the rate at
    # the horizon start and the growth.
    b = math.log1p(0.02)
    average = 150.0 * (1 - math.exp(-6 * b)) / (6 * b)
    kept = []
    for seed in range(12):
        fit = fit_arrivals(monthly_counts(starts(150.0, 0.02, seed), FIRST, AS_OF, ORIGIN))
        z = fit.trend_growth / fit.trend_growth_se
        assert fit.trend_lr == pytest.approx(z**2, rel=0.1)  # the likelihood ratio is about z^2
        if abs(z) < 1.9:
            assert not fit.trend and fit.flat.growth == 0.0
            assert abs(fit.flat.per_year - average) < Z * fit.flat.per_year_se
        assert abs(fit.per_year - 150.0) < Z * fit.per_year_se
        assert abs(fit.growth - 0.02) < Z * fit.growth_se
        if abs(z) > 2.0:
            assert fit.trend
        kept.append(fit.trend)
    assert 0 < sum(kept) < len(kept)


@pytest.mark.slow
def test_flat_histories_rarely_get_a_trend_and_real_trends_keep_theirs():
    """The choice is a 5% test: over R flat histories about 5% get a trend; a trend of
    five standard errors is kept in (nearly) all."""
    r = 60
    chosen = [
        fit_arrivals(monthly_counts(starts(150.0, 0.0, 1000 + s), FIRST, AS_OF, ORIGIN)).trend
        for s in range(r)
    ]
    share = float(np.mean(chosen))
    assert share <= 0.05 + Z * math.sqrt(0.05 * 0.95 / r), share
    kept = [
        fit_arrivals(monthly_counts(starts(600.0, 0.10, 2000 + s), FIRST, AS_OF, ORIGIN)).trend
        for s in range(10)
    ]
    assert all(kept)


def test_the_config_says_whether_a_trend_was_kept_and_why(tmp_path):
    truth = config_from_dict(one_service(150, {"dist": "exponential", "mean_weeks": 30}) | {})
    path = tmp_path / "packages.csv"
    simulate_records(truth, "2018-04-01", "2024-03-31", seed=4).to_csv(path, index=False)
    cal = calibrate(load_packages(path), as_of="2024-03-31")
    fit = cal.services[0].arrivals
    assert not fit.trend
    text = to_toml(cal, budget_draws=20)
    words = " ".join(line.lstrip("# ") for line in text.splitlines())
    assert "Trend or flat, by likelihood: no significant trend, as a trend (" in words
    assert f"(likelihood ratio {fit.trend_lr:.2f}; not above 3.84, the 5% level)" in words
    # The growth written is the trend's with its SE, and says so.
    assert f"kept at {fit.trend_weight:.0%} of its size" in words
    growth = tomllib.loads(text)["services"]["childrens_homes"]["arrivals"]["growth"]
    assert growth["dist"] == "normal"
    assert growth["mean"] == pytest.approx(fit.growth, rel=1e-3)
    assert growth["sd"] == pytest.approx(fit.growth_se, rel=1e-3)


# ---------------------------------------------------------------- 11: clustered starts


def clustered_starts(
    seed: int, children_per_year: float, extra: float, gap_days: float
) -> tuple[np.ndarray, np.ndarray]:
    """Children arrive at a steady rate; each starts Poisson(extra) further placements,
    exponential gaps apart. Placements start at children_per_year * (1 + extra) a year."""
    rng = np.random.default_rng(seed)
    lead = 3 * 366
    n = rng.poisson(children_per_year * (AS_OF - FIRST + 1 + lead) / 365.25)
    arrive = rng.integers(FIRST - lead, AS_OF + 1, n)
    more = rng.poisson(extra, n)
    child = np.repeat(np.arange(n), 1 + more)
    offset = np.concatenate([np.r_[0.0, np.cumsum(rng.exponential(gap_days, k))] for k in more])
    days = np.repeat(arrive, 1 + more) + np.round(offset).astype(np.int64)
    inside = (days >= FIRST) & (days <= AS_OF)
    return days[inside], child[inside]


def test_one_start_per_child_leaves_the_standard_errors_as_they_were():
    days = starts(200.0, 0.05, 3)
    plain = fit_arrivals(monthly_counts(days, FIRST, AS_OF, ORIGIN))
    by_child = fit_arrivals(monthly_counts(days, FIRST, AS_OF, ORIGIN, np.arange(days.size)))
    np.testing.assert_array_equal(plain.cov, by_child.cov)
    assert by_child.model_se_ratio == 1.0 and by_child.data.repeat_starts == 0


def test_repeat_starts_widen_the_standard_errors():
    days, child = clustered_starts(5, 100.0, 1.0, 60.0)
    plain = fit_arrivals(monthly_counts(days, FIRST, AS_OF, ORIGIN))
    robust = fit_arrivals(monthly_counts(days, FIRST, AS_OF, ORIGIN, child))
    assert robust.data.repeat_starts > 0 and plain.model_se_ratio == 1.0
    assert robust.model_se_ratio > 1.2 and robust.design_effect > 1.2
    # Here the model-based SEs made a chance dip look like a trend; by child, it is not one.
    assert plain.trend and not robust.trend


@pytest.mark.slow
def test_cluster_robust_standard_errors_match_the_spread_of_estimates():
    """Over R histories of clustered starts (a child starts 2 placements on average), the
    standardised errors of log per_year have sd 1 with the cluster-robust SEs, and are far
    wider with the model-based ones."""
    r, truth = 60, 200.0
    z, z_model = [], []
    for seed in range(r):
        days, child = clustered_starts(300 + seed, 100.0, 1.0, 60.0)
        fit = fit_arrivals(monthly_counts(days, FIRST, AS_OF, ORIGIN, child))
        # The flat model's own rate and SE (what is written adds the trend's weight).
        error = math.log(fit.flat.per_year / truth)
        rel = fit.flat.per_year_se / fit.flat.per_year
        z.append(error / rel)
        z_model.append(error * fit.model_se_ratio / rel)
    bound = Z / math.sqrt(2 * (r - 1))
    assert abs(np.mean(z)) < Z / math.sqrt(r)
    assert abs(np.std(z, ddof=1) - 1) < bound, np.std(z, ddof=1)
    assert np.std(z_model, ddof=1) > 1 + bound, np.std(z_model, ddof=1)


# ---------------------------------------------------------------- 8: left-censored starts


@pytest.mark.parametrize("family", list(FAMILIES))
def test_integrated_survival_functions_match_numerical_integration(family):
    theta = {
        "lognormal": np.array([math.log(40.0), math.log(1.0)]),
        "gamma": np.array([math.log(1.5), math.log(40.0 / 1.5)]),
        "weibull": np.array([math.log(0.8), math.log(50.0)]),
        "exponential": np.array([math.log(45.0)]),
    }[family]
    f = FAMILIES[family]
    for x in (0.0, 0.3, 10.0, 100.0, 400.0):
        ref = integrate.quad(
            lambda u: f.sf(np.array([u]), theta)[0], x, np.inf, limit=500, epsabs=0, epsrel=1e-11
        )[0]
        assert math.exp(f.log_isf(np.array([x]), theta)[0]) == pytest.approx(ref, rel=1e-7)


def test_a_placement_continuing_unrecorded_episodes_is_flagged(tmp_path):
    path = tmp_path / "episodes.csv"
    path.write_text(
        EPISODE_HEADER
        + "1,06/08/2017,L,C2,N1,K2,PR4,,\n"  # its earlier episodes are not in the records
        + "2,01/05/2018,S,C2,N1,K2,PR4,01/06/2018,X1\n"
        + "2,01/06/2018,L,C1,N1,K2,PR4,,\n",  # continues row 3: joined, not flagged
        encoding="utf-8",
    )
    records = load_ssda903(path)
    assert list(records.placements["start_censored"]) == [True, False]
    assert [str(p) for p in records.log.problems if p.reason.startswith("continues an")] == [
        "episodes.csv row 2, column RNE: RNE 'L' continues an earlier episode that is not in the "
        "records (from before the first return, or missing): the placement started on or before "
        "2017-08-06 (start left-censored)"
    ]


@pytest.fixture(scope="module")
def late_starts(tmp_path_factory):
    """Four yearly returns of a history whose legal status changes once a year on average,
    so a third of the placements open when the first return begins show a late start."""
    from simulator.calibrate.synthetic import returns_from_history, simulate_episodes

    truth = config_from_dict(one_service(400, {"dist": "lognormal", "median_weeks": 100,
                                               "sigma": 1.0}))  # fmt: skip
    history = simulate_episodes(truth, "2024-03-31", seed=6, history_years=40,
                                legal_changes_per_year=1.0)  # fmt: skip
    folder = tmp_path_factory.mktemp("late")
    for year, table in returns_from_history(history, 2021, 2024).items():
        table.to_csv(folder / f"episodes_{year}.csv", index=False)
    return load_ssda903(folder)


@pytest.mark.slow
def test_left_censored_starts_give_back_the_true_lengths(late_starts):
    cal = calibrate(late_starts)
    svc = cal.services[0]
    assert svc.observed_from == to_day("2020-04-01")
    assert svc.lengths.data.censored.sum() > 500
    fit = svc.lengths.fits["lognormal"]
    for what, truth in (("scale", 100.0), ("shape", 1.0)):
        assert abs(fit.value(what) - truth) < Z * fit.se(what), (what, fit.value(what))
    # Taking the late starts as true starts (as before) overstates the lengths.
    p = late_starts.placements
    naive = fit_lengths(
        length_data(day_numbers(p["start"]), day_numbers(p["end"]), cal.as_of, svc.observed_from),
        ("lognormal",),
    ).chosen
    assert naive.value("shape") - 1.0 > Z * naive.se("shape")
    # The config says how many were treated so.
    text = to_toml(cal, budget_draws=20)
    assert "continue episodes from before the records (RNE L, T or U first)" in text
