"""The engine against the slow reference implementation in ``tests/reference.py``.

Both are run on a small config that uses every feature; their outturns must
agree in distribution (two-sample Kolmogorov-Smirnov) and in mean (within
Monte Carlo standard errors of both runs).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

import simulator
from tests import reference
from tests.helpers import make_config, placement_service

Z = 4.0
P_MIN = 1e-4  # per comparison; a handful of comparisons keeps false alarms below 1 in 1,000


@pytest.fixture(scope="module")
def small_config():
    services = {
        "homes": placement_service(
            department="Children",
            caseload={"open": 12},
            arrivals={
                "per_year": 15.0,
                "growth": {"dist": "normal", "mean": 0.05, "sd": 0.03},
                "dispersion": 0.2,
                "seasonality": [1, 1, 1, 1, 1, 1, 1.5, 1.5, 1, 1, 1, 1],
            },
            length={
                "dist": "lognormal",
                "median_weeks": {"dist": "uniform", "low": 30, "high": 50},
                "sigma": 0.9,
            },
            unit_cost={
                "mean_gbp_per_week": 5000.0,
                "cv": 0.3,
                "high_cost_share": 0.2,
                "high_cost_mean_gbp_per_week": 11000.0,
                "high_cost_cv": 0.2,
            },
            inflation={"factors": {"market": 1.0}},
            income={"share": {"dist": "beta", "mean": 0.1, "sd": 0.05}},
            savings={
                "eoc": {
                    "target_gbp": {"2024/25": 200_000},
                    "delivery": {"dist": "pert", "low": 0, "mode": 0.7, "high": 1},
                }
            },
        ),
        "packages": placement_service(
            department="Adults",
            caseload={"elapsed_weeks": [0.0, 5.0, 20.0, 60.0, 100.0, 200.0, 400.0, 3.0]},
            arrivals={"per_year": 20.0},
            length={"dist": "gamma", "mean_weeks": 60.0, "shape": 0.8},
            unit_cost={"mean_gbp_per_week": 400.0, "cv": 0.5},
            inflation={
                "factors": {"market": 0.5},
                "extra": {"dist": "normal", "mean": 0.02, "sd": 0.01},
            },
        ),
        "weibull_line": placement_service(
            caseload={"open": 10},
            arrivals={"per_year": 12.0},
            length={"dist": "weibull", "mean_weeks": 50.0, "shape": 1.5},
            unit_cost={"mean_gbp_per_week": 900.0, "cv": 0.2},
        ),
        "transport": {
            "kind": "cost",
            "department": "Children",
            "budget_gbp": 1_000_000,
            "cost": {
                "annual_gbp": {"dist": "lognormal", "mean": 1_000_000, "sd": 100_000},
                "growth": 0.03,
                "monthly_cv": 0.1,
            },
        },
    }
    return make_config(
        services,
        years=2,
        inflation={"price_base": "2023/24", "factors": {"market": {"uplift": {"dist": "normal", "mean": 0.06, "sd": 0.03}}}},
    )  # fmt: skip


@pytest.fixture(scope="module")
def both(small_config):
    engine = simulator.run(small_config, draws=4000, seed=21)
    ref = reference.simulate(small_config, draws=500, seed=22)
    return engine, ref


def _agree(a: np.ndarray, b: np.ndarray, what: str) -> None:
    se = math.sqrt(a.var(ddof=1) / a.size + b.var(ddof=1) / b.size)
    assert abs(a.mean() - b.mean()) <= Z * se + 1e-9 * abs(a.mean()), (what, a.mean(), b.mean(), se)
    if a.std() > 0:
        p = stats.ks_2samp(a, b).pvalue
        assert p > P_MIN, (what, p)


@pytest.mark.parametrize("service", ["homes", "packages", "weibull_line", "transport"])
def test_annual_outturn_agrees_with_reference(both, small_config, service):
    engine, ref = both
    s = list(small_config.services).index(service)
    for y in range(2):
        months = slice(12 * y, 12 * y + 12)
        _agree(
            engine["outturn"].sel(service=service).values[:, y],
            ref["spend"][:, s, months].sum(axis=1),
            f"{service} year {y}",
        )


def test_month_end_caseload_agrees_with_reference(both, small_config):
    engine, ref = both
    for service in ("homes", "packages", "weibull_line"):
        s = list(small_config.services).index(service)
        for m in (0, 11, 23):
            _agree(
                engine["caseload"].sel(service=service).values[:, m].astype(float),
                ref["caseload"][:, s, m],
                f"{service} caseload month {m}",
            )


def test_department_and_total_rows_add_up(both):
    engine, _ = both
    out = engine["outturn"]
    children = out.sel(service=["homes", "transport"]).sum("service")
    np.testing.assert_allclose(out.sel(service="Children").values, children.values, rtol=1e-12)
    services = out.where(out.service_type.isin(["placements", "cost"]), drop=True).sum("service")
    np.testing.assert_allclose(out.sel(service="total").values, services.values, rtol=1e-12)
