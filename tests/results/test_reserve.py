"""Reserve and savings answers: quantiles of the draws, their standard errors, and a re-run check."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from scipy import stats

import simulator
from simulator.results.reserve import (
    LEVELS,
    expected_shortfall,
    reserve_dataset,
    reserve_rows,
    savings_needed,
)
from tests.helpers import make_config, placement_service

DRAWS = 4000


def _services(extra_saving: float = 0.0) -> dict:
    """Two lines whose total overspends more often than not (so savings are needed)."""
    homes = {
        "budget_gbp": 4_300_000,
        "caseload": {"open": 20},
        "arrivals": {"per_year": 12.0, "growth": {"dist": "normal", "mean": 0.05, "sd": 0.03}},
        "length": {"dist": "lognormal", "median_weeks": 40.0, "sigma": 0.8},
        "unit_cost": {"mean_gbp_per_week": 5_000.0, "cv": 0.25},
    }
    if extra_saving:
        homes["savings"] = {"extra": {"target_gbp": extra_saving, "delivery": 1.0}}
    return {
        "homes": placement_service(**homes),
        "foster": placement_service(budget_gbp=140_000, caseload={"open": 30}),
    }


@pytest.fixture(scope="module")
def run() -> xr.Dataset:
    return simulator.run(make_config(_services()), draws=DRAWS, seed=3)


def test_reserve_is_the_quantile_of_the_draws(run):
    r = reserve_dataset(run)
    for key in ("homes", "foster", "total"):
        over = run["overspend"].sel(service=key, financial_year="2024/25").values
        for level in LEVELS:
            got = float(r["reserve"].sel(service=key, financial_year="2024/25", confidence=level))
            assert got == max(float(np.quantile(over, level)), 0.0)
        evens = float(r["savings_to_evens"].sel(service=key, financial_year="2024/25"))
        assert evens == max(float(np.median(over)), 0.0)
        worst = over[over >= np.quantile(over, 0.95)]
        es = float(r["expected_shortfall"].sel(service=key, financial_year="2024/25"))
        assert es == pytest.approx(worst.mean(), rel=1e-12)
        assert float(r["p_overspend"].sel(service=key, financial_year="2024/25")) == np.mean(
            over > 0
        )


def test_savings_to_evens_applied_and_run_again_gives_evens(run):
    """The answer, delivered as a saving on the same seed, leaves a 50% chance of overspend."""
    r = reserve_dataset(run, target=0.2)
    p_before = float(r["p_overspend"].sel(service="total", financial_year="2024/25"))
    assert p_before > 0.6, "the test needs a line that overspends more often than not"
    mc = np.sqrt(0.25 / DRAWS)  # Monte Carlo s.e. of a 50% chance from DRAWS draws
    for key, chance in (("savings_to_evens", 0.5), ("savings_to_target", 0.2)):
        saving = float(r[key].sel(service="total", financial_year="2024/25"))
        again = simulator.run(make_config(_services(saving)), draws=DRAWS, seed=3)
        over = again["overspend"].sel(service="total", financial_year="2024/25").values
        assert abs(np.mean(over > 0) - chance) < 3 * mc


def test_no_savings_needed_when_already_below_the_chance():
    over = np.linspace(-10.0, 1.0, 1001)  # overspends in 10% of draws
    assert savings_needed(over, 0.5) == (0.0, pytest.approx(savings_needed(over, 0.5)[1]))
    assert savings_needed(over, 0.05)[0] == pytest.approx(np.quantile(over, 0.95))


def test_expected_shortfall_matches_the_normal_closed_form_and_its_se_the_spread():
    """ES of a standard normal at 1 in 20 is phi(z) / 0.05; the s.e. matches repeated runs."""
    exact = stats.norm.pdf(stats.norm.ppf(0.95)) / 0.05
    rng = np.random.default_rng(1)
    estimates = np.array([expected_shortfall(rng.standard_normal(2000)) for _ in range(400)])
    se_mean = estimates[:, 1].mean()
    spread = estimates[:, 0].std(ddof=1)
    # The spread of 400 estimates is known to about 1/sqrt(2 * 399) = 3.5% (four of them: 14%).
    assert spread == pytest.approx(se_mean, rel=0.14)
    assert abs(estimates[:, 0].mean() - exact) < 4 * spread / np.sqrt(400) + 0.01 * exact


def test_rows_are_plain_numbers_for_a_sheet(run):
    rows = reserve_rows(reserve_dataset(run), ["total"])
    assert [r["financial_year"] for r in rows] == ["2024/25"]
    row = rows[0]
    assert row["service_label"] == "Total"
    assert all(isinstance(v, float) for k, v in row.items() if k.endswith("_gbp"))
    assert row["reserve_80_gbp"] <= row["reserve_90_gbp"] <= row["reserve_95_gbp"]


def test_only_the_rows_asked_for(run):
    r = reserve_dataset(run, services=["total", "homes"])
    assert list(r["service"].values) == ["total", "homes"]
    full = reserve_dataset(run)
    assert float(r["reserve"].sel(service="homes")[0, 1]) == float(
        full["reserve"].sel(service="homes")[0, 1]
    )


def test_a_run_folder_holds_reserve_nc(run, tmp_path):
    from simulator.results.dataset import write_run

    written = write_run(run, tmp_path / "out")
    assert tmp_path / "out" / "reserve.nc" in written
    with xr.open_dataset(tmp_path / "out" / "reserve.nc") as saved:
        expected = reserve_dataset(run)
        np.testing.assert_array_equal(saved["reserve"].values, expected["reserve"].values)
        assert saved["reserve"].attrs["units"] == "GBP"
        assert list(saved["confidence"].values) == list(LEVELS)
