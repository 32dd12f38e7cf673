"""Convergence control: ``run_to_precision`` stops at the first whole chunk that
meets the target in every year, and its result is an ordinary run."""

from __future__ import annotations

import numpy as np
import pytest

import simulator
from simulator.engine.chunks import CHUNK_DRAWS
from simulator.errors import UserError
from simulator.runs.precision import precision_note, run_to_precision, stopping_se
from tests.helpers import make_config, placement_service

EVEN_ODDS = {"2024/25": 2_390_000, "2025/26": 2_270_000}


def council(budget: float | dict = EVEN_ODDS):
    """Two small services whose total overspend is near even odds in both years by default."""
    return make_config(
        {
            "fostering": placement_service(
                budget_gbp=budget,
                caseload={"open": 60},
                arrivals={"per_year": 30.0, "growth": {"dist": "normal", "mean": 0.03, "sd": 0.03}},
                length={"dist": "lognormal", "median_weeks": 52.0, "sigma": 1.0},
                unit_cost={"mean_gbp_per_week": 800.0, "cv": 0.3},
            ),
            "staff": {
                "kind": "cost",
                "budget_gbp": 500_000,
                "cost": {"annual_gbp": {"dist": "normal", "mean": 500_000, "sd": 50_000}},
            },
        },
        years=2,
        run={"draws": 1000, "seed": 12},
    )


def _rule_se(ds, draws: int) -> float:
    """The stopping rule's SE over the first ``draws`` draws, worst year."""
    over = ds["overspend"].sel(service="total").values[:draws] > 0
    return float(stopping_se(over.sum(axis=0), draws).max())


@pytest.mark.parametrize("precision", [0.015, 0.01])
def test_stops_at_the_first_chunk_that_meets_the_target(precision):
    config = council()
    ds = run_to_precision(config, precision, seed=5, threads=2)
    draws = ds.attrs["draws"]
    assert draws % CHUNK_DRAWS == 0 and draws > 2 * CHUNK_DRAWS  # past the minimum
    assert ds.attrs["precision_met"] == 1
    assert _rule_se(ds, draws) < precision  # met ...
    assert _rule_se(ds, draws - CHUNK_DRAWS) >= precision  # ... and not one chunk earlier
    p = (ds["overspend"].sel(service="total") > 0).mean("draw").values
    assert np.sqrt(p * (1 - p) / draws).max() == pytest.approx(ds.attrs["precision_se"])
    assert ds.attrs["precision_se"] < precision  # the reported SE meets it too
    # Near even odds, n is about 0.25 / precision**2: not long after that.
    assert draws <= 0.25 / precision**2 + CHUNK_DRAWS
    assert "reached" in precision_note(ds) and f"{draws:,}" in precision_note(ds)


def test_result_is_the_ordinary_run_whatever_the_threads():
    config = council()
    one = run_to_precision(config, 0.02, seed=8, threads=1)
    two = run_to_precision(config, 0.02, seed=8, threads=2)
    plain = simulator.run(config, draws=one.attrs["draws"], seed=8, threads=1)
    for ds in (two, plain):
        assert ds.attrs["draws"] == one.attrs["draws"]
        np.testing.assert_array_equal(ds["spend"].values, one["spend"].values)
        np.testing.assert_array_equal(ds["overspend"].values, one["overspend"].values)


def test_a_near_certain_overspend_does_not_stop_on_a_zero_standard_error():
    """With a tiny budget every draw overspends, so sqrt(p (1 - p) / n) is zero
    after one chunk; the rule's p~ = (n + 2) / (n + 4) gives about 1.4 / n, so a
    target of 0.002 needs more than 707 draws: two chunks."""
    ds = run_to_precision(council(budget=1.0), 0.002, seed=2, threads=1, min_draws=1)
    assert ds.attrs["draws"] == 2 * CHUNK_DRAWS
    assert ds.attrs["precision_se"] == 0.0


def test_stops_at_the_limit_and_says_so():
    ds = run_to_precision(council(), 0.001, seed=3, threads=1, max_draws=1200)
    assert ds.attrs["draws"] == 1200 and ds.attrs["precision_met"] == 0
    assert "NOT reached" in precision_note(ds)


@pytest.mark.parametrize("precision", [0.0, -0.1, 0.5, 2.0])
def test_rejects_a_meaningless_target(precision):
    with pytest.raises(UserError, match="precision"):
        run_to_precision(council(), precision)


def test_stopping_se_pulls_towards_one_half():
    k, n = np.array([0, 250, 500]), 500
    plain = np.sqrt((k / n) * (1 - k / n) / n)
    rule = stopping_se(k, n)
    assert np.all(rule >= plain)
    assert rule[1] == pytest.approx(plain[1])
