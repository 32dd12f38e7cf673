"""Fixtures shared by the benchmark tests."""

from __future__ import annotations

import pytest

from tests.helpers import make_config, placement_service


@pytest.fixture(scope="module")
def mixed():
    """Every length family, known and steady-state starts, tails, dispersion, a cost line."""
    return make_config(
        {
            "foster": placement_service(
                department="Children",
                caseload={"open": 40},
                arrivals={"per_year": 30.0, "growth": {"dist": "normal", "mean": 0.02, "sd": 0.02}, "dispersion": 0.2},
                length={"dist": "lognormal", "median_weeks": 40.0, "sigma": {"dist": "normal", "mean": 0.9, "sd": 0.1}},
                unit_cost={"mean_gbp_per_week": 800.0, "cv": 0.3, "high_cost_share": 0.1,
                           "high_cost_mean_gbp_per_week": 4000.0, "high_cost_cv": 0.2},
                savings={"s": {"target_gbp": 100_000, "delivery": {"dist": "beta", "mean": 0.6, "sd": 0.2}}},
            ),
            "homes": placement_service(
                department="Children",
                caseload={"elapsed_weeks": [5.0, 30.0, 60.0, 120.0, 300.0, 2.0]},
                arrivals={"per_year": 8.0},
                length={"dist": "gamma", "mean_weeks": 50.0, "shape": 0.8},
                unit_cost={"mean_gbp_per_week": 6000.0, "cv": 0.25},
            ),
            "care": placement_service(
                department="Adults",
                caseload={"open": 60, "elapsed_weeks": 8.0},
                arrivals={"per_year": 20.0, "seasonality": [2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2]},
                length={"dist": "weibull", "mean_weeks": 90.0, "shape": 0.8},
                unit_cost={"mean_gbp_per_week": 900.0, "cv": 0.2},
                income={"share": {"dist": "beta", "mean": 0.3, "sd": 0.05}},
            ),
            "respite": placement_service(
                department="Adults",
                caseload={"open": 10},
                length={"dist": "exponential", "median_weeks": 10.0},
                inflation={"factors": {"cpi": 0.5}, "extra": {"dist": "normal", "mean": 0.01, "sd": 0.01}},
            ),
            "agency": {
                "kind": "cost",
                "department": "Children",
                "budget_gbp": 300_000,
                "cost": {"annual_gbp": 280_000, "growth": {"dist": "normal", "mean": 0.0, "sd": 0.05}, "monthly_cv": 0.1},
                "inflation": {"factors": {"cpi": 1.0}},
            },
        },
        years=2,
        inflation={"factors": {"cpi": {"uplift": {"dist": "normal", "mean": 0.03, "sd": 0.01}}}},
    )  # fmt: skip
