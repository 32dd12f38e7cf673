"""Sensitivity analysis: Sobol indices (Ishigami and a model with a known
decomposition), the case-level share, the tornado, and the sensitivity.nc contract.

Tolerances come from the sample size: each check allows four bootstrap
standard errors of the estimate (the bootstrap treats the scrambled Sobol
points as independent, which overstates their error, so this is
conservative), and each test also asserts that this tolerance is small, so
the test can fail.
"""

from __future__ import annotations

import hashlib
import math

import numpy as np
import pytest

import simulator
from simulator.analysis.sensitivity import (
    ModelEvaluator,
    group_inputs,
    sensitivity_dataset,
    sobol_analysis,
    sobol_design,
    sobol_model,
    tornado,
)
from simulator.engine.chunks import simulate
from simulator.errors import UserError
from simulator.model.equations import build_plan
from simulator.results.dataset import build_dataset
from tests.helpers import make_config, placement_service

# ------------------------------------------------------------------ Ishigami

A, B = 7.0, 0.1
V = A**2 / 8 + B * math.pi**4 / 5 + B**2 * math.pi**8 / 18 + 0.5
V1 = 0.5 * (1 + B * math.pi**4 / 5) ** 2
V2 = A**2 / 8
V13 = B**2 * math.pi**8 * (1 / 18 - 1 / 50)
FIRST = np.array([V1, V2, 0.0]) / V  # about 0.314, 0.442, 0
TOTAL = np.array([V1 + V13, V2, V13]) / V  # about 0.558, 0.442, 0.244


def ishigami(noise_sd: float = 0.0, redraw: str | None = None, seed: int = 11):
    """The Ishigami function of uniforms on (-pi, pi), with optional case-level noise.

    Noise is drawn from a generator keyed by the matrix's stream, so matrices
    on one stream share it, as :class:`ModelEvaluator` does. With ``redraw =
    "x2"`` the key also depends on the x2 values (moving x2 redraws the
    noise, like a demand input re-drawing the cases); with ``"all"`` on every
    input.
    """

    def evaluate(design: np.ndarray, streams) -> tuple[np.ndarray, list]:
        x = -math.pi + 2 * math.pi * design
        y = np.sin(x[..., 0]) + A * np.sin(x[..., 1]) ** 2 + B * x[..., 2] ** 4 * np.sin(x[..., 0])
        keys = []
        for j, stream in enumerate(streams):
            moved = {None: design[j][:, :0], "x2": design[j][:, 1], "all": design[j]}[redraw]
            key = [seed, stream, int.from_bytes(hashlib.blake2b(moved.tobytes()).digest()[:8])]
            y[j] += noise_sd * np.random.default_rng(key).standard_normal(y.shape[1])
            keys.append(tuple(key))
        return y[..., None], keys

    return evaluate


def _boot_se(low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """Standard error implied by a 95% bootstrap interval."""
    return (high - low) / (2 * 1.959964)


def _assert_close(est, low, high, truth, max_tol: float) -> None:
    tol = 4 * _boot_se(low, high)
    assert np.all(tol < max_tol), f"tolerance {tol} too loose to test anything"
    np.testing.assert_array_less(np.abs(est - truth), tol)


ISHIGAMI_GROUPS = group_inputs(["x1", "x2", "x3"], by="input")


def test_ishigami_indices_match_the_analytic_values():
    res = sobol_analysis(ishigami(), 3, ISHIGAMI_GROUPS, n=16384, seed=3, n_resamples=300)
    _assert_close(res.first_order[0], res.first_order_low[0], res.first_order_high[0], FIRST, 0.06)
    _assert_close(res.total_order[0], res.total_order_low[0], res.total_order_high[0], TOTAL, 0.06)
    assert res.case_level_share[0] == 0.0  # deterministic: re-running A changes nothing
    assert res.evaluations == 16384 * (3 + 3)


@pytest.mark.parametrize(
    ("redraw", "flags"),
    [(None, [False] * 3), ("x2", [False, True, False]), ("all", [True] * 3)],
)
def test_ishigami_with_noise_reports_the_noise_as_case_level_share(redraw, flags):
    """With independent noise of variance s2, every index scales by V / (V + s2),
    totals exclude the noise, and the case-level share is s2 / (V + s2), both
    when moving an input keeps the noise (compared on the same noise) and when
    it redraws it (total from an independent re-run, less the case share)."""
    s2 = 4.0
    scale = V / (V + s2)
    res = sobol_analysis(
        ishigami(math.sqrt(s2), redraw), 3, ISHIGAMI_GROUPS, n=16384, seed=5, n_resamples=300
    )
    assert list(res.redraws_cases) == flags
    assert res.evaluations == 16384 * (3 + 3 + sum(flags))
    _assert_close(
        res.first_order[0], res.first_order_low[0], res.first_order_high[0], FIRST * scale, 0.08
    )
    _assert_close(
        res.total_order[0], res.total_order_low[0], res.total_order_high[0], TOTAL * scale, 0.08
    )
    share = s2 / (V + s2)
    _assert_close(
        res.case_level_share, res.case_level_share_low, res.case_level_share_high, share, 0.08
    )


def test_grouped_inputs_give_the_index_of_the_group():
    """x1 and x3 together: first order of the pair is (V1 + V13) / V, total the same."""
    groups = group_inputs(["x1", "x2", "x3"], by="input")
    pair = [type(groups[0])("x1+x3", (0, 2), ("x1", "x3")), groups[1]]
    res = sobol_analysis(ishigami(), 3, pair, n=16384, seed=3, n_resamples=300)
    truth = np.array([(V1 + V13) / V, V2 / V])
    _assert_close(res.first_order[0], res.first_order_low[0], res.first_order_high[0], truth, 0.06)
    _assert_close(res.total_order[0], res.total_order_low[0], res.total_order_high[0], truth, 0.06)


def test_sobol_design_is_saltelli_on_scrambled_sobol_points():
    groups = group_inputs(["a[2025/26]", "a[2026/27]", "b"], by="parameter")
    assert [g.name for g in groups] == ["a", "b"] and groups[0].members == (0, 1)
    d = sobol_design(64, 3, groups, seed=1)
    assert d.shape == (len(groups) + 3, 64, 3)
    a, b = d[0], d[1]
    np.testing.assert_array_equal(d[-1], a)  # A again, for fresh case-level draws
    np.testing.assert_array_equal(d[2][:, :2], b[:, :2])  # group a from B
    np.testing.assert_array_equal(d[2][:, 2], a[:, 2])
    np.testing.assert_array_equal(d[3][:, 2], b[:, 2])
    # Balanced Sobol points: each column has exactly one point per 1/64 stratum.
    for col in np.concatenate([a, b], axis=1).T:
        assert sorted(np.floor(col * 64).astype(int)) == list(range(64))


def test_sample_size_must_be_a_power_of_two():
    with pytest.raises(UserError, match="power of two"):
        sobol_analysis(ishigami(), 3, ISHIGAMI_GROUPS, n=1000, seed=1)


def test_grouping_choices():
    names = [
        "inflation.factors.nlw.uplift[2025/26]",
        "inflation.factors.nlw.uplift[2026/27]",
        "services.homes.arrivals.growth",
        "services.homes.inflation.extra[2025/26]",
        "services.homes.income.share",
    ]
    assert [g.name for g in group_inputs(names, "input")] == names
    assert [g.name for g in group_inputs(names, "parameter")] == [
        "inflation.factors.nlw.uplift",
        "services.homes.arrivals.growth",
        "services.homes.inflation.extra",
        "services.homes.income.share",
    ]
    by_section = group_inputs(names, "section")
    assert [(g.name, g.members) for g in by_section] == [
        ("inflation.factors.nlw", (0, 1)),
        ("services.homes", (2, 3, 4)),
    ]
    with pytest.raises(UserError, match="grouping"):
        group_inputs(names, "bogus")


# ------------------------------------------------------------------ a model with a known decomposition

YEARS = 3


def decomposable_config():
    """Three independent services, each with one source of variance.

    * ``homes``: 2,000 placements that outlast the horizon at a fixed £500 a
      week; uncertain only in the ``market`` inflation factor (no uplift in
      the first year, so it has no variance then).
    * ``transport``: a cost line with no monthly noise; uncertain only in its growth.
    * ``churn``: placements with random arrivals, lengths and costs, and an
      uncertain growth rate: moving it re-draws the cases.
    """
    return make_config(
        {
            "homes": placement_service(
                budget_gbp=52_000_000,
                caseload={"open": 2000, "elapsed_weeks": 0.0},
                arrivals={"per_year": 0.0},
                length={"dist": "lognormal", "median_weeks": 90_000.0, "sigma": 0.01},
                unit_cost={"mean_gbp_per_week": 500.0},
                inflation={"factors": {"market": 1.0}},
            ),
            "transport": {
                "kind": "cost",
                "budget_gbp": 20_000_000,
                "cost": {
                    "annual_gbp": 20_000_000,
                    "growth": {"dist": "normal", "mean": 0.03, "sd": 0.05},
                },
            },
            "churn": placement_service(
                budget_gbp=15_000_000,
                caseload={"open": 150},
                arrivals={"per_year": 100.0, "growth": {"dist": "normal", "mean": 0.0, "sd": 0.1}},
                length={"dist": "lognormal", "median_weeks": 52.0, "sigma": 1.0},
                unit_cost={"mean_gbp_per_week": 1500.0, "cv": 0.8},
            ),
        },
        years=YEARS,
        inflation={
            "price_base": "2024/25",
            "factors": {"market": {"uplift": {"dist": "normal", "mean": 0.05, "sd": 0.03}}},
        },
        run={"draws": 1000, "seed": 4},
    )


def _transport_outturn(plan, growth: np.ndarray) -> np.ndarray:
    """Reference: the transport line's outturn by year (GBP) for given growth rates."""
    grid = plan.grid
    monthly = 20_000_000 * grid.year_share() * (1 + growth[:, None]) ** grid.years_since_start()
    return np.add.reduceat(monthly, np.arange(0, grid.n_months, 12), axis=1)


def direct_variances(plan, churn_draws: int) -> tuple[np.ndarray, np.ndarray]:
    """Variance of each service's overspend by year, computed without the Sobol code.

    homes: 2,000 placements at £500 a week for every day of the year, times
    the product of independent N(0.05, 0.03) uplifts: exact moments.
    transport: its outturn is a known function of one N(0.03, 0.05) growth
    rate: Gauss-Hermite quadrature. churn: growth and cases, so a plain run's
    sample variance, with its standard error sqrt(2 / (n - 1)) relative.

    Returns the variances (3, years) and the standard error of churn's (years,).
    """
    fy_days = plan.grid.fy_days
    uplifts = np.arange(YEARS)  # Aprils since the price base by each year
    m1, m2 = 1.05, 1.05**2 + 0.03**2
    homes = (2000 * 500 / 7 * fy_days) ** 2 * (m2**uplifts - m1 ** (2 * uplifts))
    z, w = np.polynomial.hermite_e.hermegauss(60)
    w = w / w.sum()
    values = _transport_outturn(plan, 0.03 + 0.05 * z)
    transport = w @ values**2 - (w @ values) ** 2
    run = build_dataset(plan, simulate(plan, churn_draws, seed=21, threads=1), 21, churn_draws)
    churn = run["overspend"].sel(service="churn").var("draw", ddof=1).values
    return np.array([homes, transport, churn]), churn * math.sqrt(2.0 / (churn_draws - 1))


@pytest.fixture(scope="module")
def decomposition():
    config = decomposable_config()
    plan = build_plan(config)
    groups = group_inputs([i.name for i in plan.inputs], "parameter")
    assert [g.name for g in groups] == [
        "inflation.factors.market.uplift",
        "services.transport.cost.growth",
        "services.churn.arrivals.growth",
    ]
    est = sobol_model(plan, groups, n=4096, seed=9, n_resamples=200, threads=1)
    ds = sensitivity_dataset(plan, groups, 9, "parameter", sobol=est)
    return ds, *direct_variances(plan, churn_draws=4000)


def test_direct_variances_agree_with_a_plain_run(decomposition):
    """Check the reference itself: homes and transport variances against a simulation."""
    _, var, _ = decomposition
    plan = build_plan(decomposable_config())
    n = 4000
    run = build_dataset(plan, simulate(plan, n, seed=5, threads=1), 5, n)
    mc = run["overspend"].sel(service=["homes", "transport"]).var("draw", ddof=1).values
    np.testing.assert_allclose(mc[:, 1:], var[:2, 1:], rtol=5 * math.sqrt(2 / n))
    np.testing.assert_allclose(mc[1, 0], var[1, 0], rtol=5 * math.sqrt(2 / n))
    assert mc[0, 0] < 1e-6 * var[0, 1]  # homes: nothing uncertain in the price-base year


def _check(est, est_se, truth, truth_se, max_tol: float = 0.08) -> None:
    """|estimate - truth| within 4 standard errors of each, combined."""
    tol = 4 * np.hypot(est_se, truth_se)
    assert np.all(tol < max_tol), f"tolerance {tol} too loose to test anything"
    error = np.abs(np.asarray(est) - truth)
    assert np.all(error <= tol), f"error {error} beyond tolerance {tol}"


def _se(ds, name: str, *index) -> np.ndarray:
    """Bootstrap standard error of a variable, from its interval."""
    return _boot_se(ds[f"{name}_low"].values[index], ds[f"{name}_high"].values[index])


def test_model_indices_match_directly_computed_variance_shares(decomposition):
    ds, var, churn_se = decomposition
    assert list(ds["input_redraws_cases"].values) == [False, False, True]
    total = ds.sel(service="total")
    whole = var.sum(axis=0)
    shares = var / whole  # (homes, transport, churn) x year
    # Error of the direct shares, from churn's sampled variance (delta method).
    share_se = np.abs(np.eye(3)[:, 2:3] * whole - var) / whole**2 * churn_se
    for name in ("first_order", "total_order"):
        for g in range(2):  # homes' inflation and transport's growth: all of their service
            _check(total[name].values[g], _se(total, name, g), shares[g], share_se[g])
    # churn's growth and the cases together make up churn's share (their SEs
    # combined as if independent).
    both = total["first_order"].values[2] + total["case_level_share"].values
    both_se = np.hypot(_se(total, "first_order", 2), _se(total, "case_level_share"))
    _check(both, both_se, shares[2], share_se[2], max_tol=0.11)
    # No uplift in the first year: inflation explains nothing then.
    assert abs(total["first_order"].values[0, 0]) < 0.03


def test_each_service_row_is_explained_by_its_own_source(decomposition):
    ds, _, _ = decomposition
    homes, transport, churn = (ds.sel(service=s) for s in ("homes", "transport", "churn"))
    # homes: no variance at all in the price-base year (indices undefined), inflation after.
    assert np.all(np.isnan(homes["first_order"].values[:, 0]))
    np.testing.assert_allclose(homes["first_order"].values[0, 1:], 1.0, atol=0.05)
    np.testing.assert_allclose(homes["total_order"].values[0, 1:], 1.0, atol=0.05)
    np.testing.assert_allclose(homes["case_level_share"].values[1:], 0.0, atol=1e-6)
    np.testing.assert_allclose(transport["first_order"].values[1], 1.0, atol=0.05)
    np.testing.assert_allclose(transport["case_level_share"].values, 0.0, atol=1e-9)
    # churn: growth and cases only, so S(growth) + case share = 1, and the total
    # index of growth (which leaves out its interaction with the cases) = S(growth).
    s, t, case = (churn[v].values for v in ("first_order", "total_order", "case_level_share"))
    np.testing.assert_allclose(s[2] + case, 1.0, atol=0.08)
    np.testing.assert_allclose(t[2], s[2], atol=0.08)
    assert s[2, -1] > 0.3  # growth matters by the last year
    np.testing.assert_allclose(s[:2], 0.0, atol=0.05)


def test_sobol_results_do_not_depend_on_threads():
    plan = build_plan(decomposable_config())
    groups = group_inputs([i.name for i in plan.inputs], "parameter")
    one = sobol_model(plan, groups, n=64, seed=2, n_resamples=20, threads=1)
    two = sobol_model(plan, groups, n=64, seed=2, n_resamples=20, threads=2)
    for name in ("first_order", "total_order", "first_order_low", "case_level_share"):
        np.testing.assert_array_equal(getattr(one, name), getattr(two, name))


def test_model_evaluator_streams_and_fingerprints():
    plan = build_plan(decomposable_config())
    names = [i.name for i in plan.inputs]
    u = np.full((4, 20, len(names)), 0.5)
    u[2, :, names.index("inflation.factors.market.uplift[2025/26]")] = 0.9  # cases stay
    u[3, :, names.index("services.churn.arrivals.growth")] = 0.9  # cases drawn anew
    out, prints = ModelEvaluator(plan, seed=1, threads=1)(u, [0, 1, 0, 0])
    churn = [g.key for g in plan.groups].index("churn")
    assert not np.allclose(out[0, :, churn], out[1, :, churn])  # other stream, other cases
    assert prints[0] != prints[1]
    np.testing.assert_array_equal(out[2, :, churn], out[0, :, churn])  # same stream, same cases
    assert prints[2] == prints[0]
    assert prints[3] != prints[0]
    transport = [g.key for g in plan.groups].index("transport")
    np.testing.assert_allclose(out[0, :, transport], out[1, :, transport])  # no case noise


# ------------------------------------------------------------------ tornado


@pytest.fixture(scope="module")
def tornado_run():
    config = decomposable_config()
    plan = build_plan(config)
    groups = group_inputs([i.name for i in plan.inputs], "parameter")
    draws = 1000
    result = tornado(plan, groups, draws, seed=8, threads=2)
    return plan, groups, result, simulator.run(config, draws=draws, seed=8, threads=1)


def test_tornado_base_is_the_ordinary_run(tornado_run):
    _, _, result, run = tornado_run
    np.testing.assert_allclose(result.base_mean, run["overspend"].mean("draw").values, rtol=1e-9)
    np.testing.assert_allclose(result.base_p, (run["overspend"] > 0).mean("draw").values)


def test_tornado_matches_a_reference_calculation(tornado_run):
    """Transport growth at its 10th/90th percentile: the change in every draw is known exactly."""
    plan, groups, result, run = tornado_run
    g = [x.name for x in groups].index("services.transport.cost.growth")
    row = [x.key for x in plan.groups].index("transport")
    drawn = run["input_value"].sel(input="services.transport.cost.growth").values
    base = _transport_outturn(plan, drawn)
    param = plan.inputs[groups[g].members[0]].param
    for q, mean, se in (
        (0.1, result.mean_low, result.mean_low_se),
        (0.9, result.mean_high, result.mean_high_se),
    ):
        moved = _transport_outturn(plan, param.ppf(np.full(len(drawn), q)))
        change = moved - base
        np.testing.assert_allclose(mean[g, row], change.mean(axis=0), rtol=1e-9)
        np.testing.assert_allclose(
            se[g, row], change.std(axis=0, ddof=1) / math.sqrt(len(drawn)), rtol=1e-6
        )
    assert np.all(result.mean_low[g, row] < 0) and np.all(result.mean_high[g, row] > 0)


def test_tornado_common_random_numbers_isolate_the_input(tornado_run):
    """Moving transport growth leaves the other services' draws exactly as they were."""
    plan, groups, result, _ = tornado_run
    g = [x.name for x in groups].index("services.transport.cost.growth")
    for key in ("homes", "churn"):
        row = [x.key for x in plan.groups].index(key)
        assert np.all(result.mean_low[g, row] == 0) and np.all(result.mean_high_se[g, row] == 0)
        assert np.all(result.p_high[g, row] == 0)
    # Inflation moves homes in the uplift years only, with a small paired standard error.
    g = [x.name for x in groups].index("inflation.factors.market.uplift")
    row = [x.key for x in plan.groups].index("homes")
    assert result.mean_high[g, row, 0] == 0
    assert np.all(result.mean_high[g, row, 1:] > 20 * result.mean_high_se[g, row, 1:])


def test_tornado_rejects_bad_percentiles():
    plan = build_plan(decomposable_config())
    groups = group_inputs([i.name for i in plan.inputs])
    with pytest.raises(UserError, match="percentiles"):
        tornado(plan, groups, 10, seed=1, percentiles=(0.0, 0.9))


# ------------------------------------------------------------------ the file contract


def test_sensitivity_dataset_contract(decomposition, tornado_run):
    plan, groups, result, _ = tornado_run
    ds_sobol, _, _ = decomposition
    est_ds = sensitivity_dataset(plan, groups, 8, "parameter", tornado_result=result)
    ds = ds_sobol.merge(est_ds, compat="override")
    dims = ("input", "service", "financial_year")
    for name in (
        "first_order", "total_order", "first_order_low", "first_order_high",
        "total_order_low", "total_order_high", "tornado_mean_low", "tornado_mean_high",
        "tornado_p_low", "tornado_p_high", "tornado_mean_low_se", "tornado_mean_high_se",
        "tornado_p_low_se", "tornado_p_high_se",
    ):  # fmt: skip
        assert ds[name].dims == dims, name
    assert ds["case_level_share"].dims == ("service", "financial_year")
    for name, var in ds.data_vars.items():
        assert var.attrs.get("units") and var.attrs.get("long_name"), name
    assert list(ds["service"].values)[-1] == "total"
    assert ds.sizes["financial_year"] == YEARS
    assert "0.05" in ds_sobol.attrs["config"] and ds_sobol.attrs["sobol_samples"] == 4096
    low, high = est_ds["input_value_low"].values, est_ds["input_value_high"].values
    assert float(low[1]) < 0.03 < float(high[1])  # transport growth at its 10th / 90th percentile
