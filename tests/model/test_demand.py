"""Shared demand factors: services' arrivals move together by a stated assumption (issue 12)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import simulator
from simulator.config.inputs import group_key, input_label
from simulator.config.load import loads_config
from simulator.config.messages import ConfigError
from simulator.present.describe import describe

SD = 0.2
RATES, WEIGHTS = (100.0, 50.0), (1.0, 0.5)

TOML = """
[council]
name = "Demand Borough"
[horizon]
start = "2025/26"
years = 2
[demand.factors.discharges]
description = "hospital discharges"
shock = {{ dist = "uniform", low = {low}, high = {high} }}
{extra}
[services.a]
budget_gbp = 1_000_000
arrivals = {{ per_year = {r0}, demand = {{ discharges = {w0} }} }}
length = {{ dist = "exponential", mean_weeks = 10 }}
unit_cost = {{ mean_gbp_per_week = 100 }}
[services.b]
budget_gbp = 1_000_000
arrivals = {{ per_year = {r1}, demand = {{ discharges = {w1} }} }}
length = {{ dist = "exponential", mean_weeks = 10 }}
unit_cost = {{ mean_gbp_per_week = 100 }}
"""


def _toml(extra: str = "", w0=WEIGHTS[0], w1=WEIGHTS[1]) -> str:
    half = SD * math.sqrt(3)  # a uniform with standard deviation SD
    return TOML.format(low=-half, high=half, extra=extra, r0=RATES[0], r1=RATES[1], w0=w0, w1=w1)


def _yearly_arrivals(text: str, draws: int = 20_000) -> np.ndarray:
    ds = simulator.run(loads_config(text, "demand.toml"), draws=draws, seed=3)
    by_year = ds["arrivals"].groupby("month_financial_year").sum()
    return np.stack([by_year.sel(service=s).values for s in ("a", "b")])  # (2, draws, years)


def test_yearly_arrivals_have_the_correlation_the_weights_imply():
    """Poisson given the shared shock X: cov = L1 L2 w1 w2 var X, var = L + L^2 w^2 var X."""
    counts = _yearly_arrivals(_toml())
    (l1, l2), (w1, w2), s2 = RATES, WEIGHTS, SD**2
    expected = (
        l1 * l2 * w1 * w2 * s2 / math.sqrt((l1 + l1**2 * w1**2 * s2) * (l2 + l2**2 * w2**2 * s2))
    )
    n = counts.shape[1]
    for y in range(2):
        r = np.corrcoef(counts[0, :, y], counts[1, :, y])[0, 1]
        # Fisher's z has standard error 1 / sqrt(n - 3) whatever the distribution's shape
        # (near enough for this size); 4 standard errors.
        assert abs(math.atanh(r) - math.atanh(expected)) < 4 / math.sqrt(n - 3), (y, r, expected)
        for s, (rate, w) in enumerate(zip(RATES, WEIGHTS, strict=True)):
            var = rate + rate**2 * w**2 * s2
            assert abs(counts[s, :, y].mean() - rate) < 4 * math.sqrt(var / n)
            # Variance of a sample variance: about 2 var^2 / n for these near-normal counts.
            assert abs(counts[s, :, y].var() / var - 1) < 4 * math.sqrt(2 / n) * 1.5


def test_the_shock_is_one_input_per_factor_and_year_named_in_words():
    config = loads_config(_toml(), "demand.toml")
    ds = simulator.run(config, draws=10, seed=1)
    names = [str(n) for n in ds["input"].values]
    assert names == [
        "demand.factors.discharges.shock[2025/26]",
        "demand.factors.discharges.shock[2026/27]",
    ]
    assert input_label(names[0]) == "Demand shock: discharges, 2025/26"
    assert group_key(names[1], "section") == "demand.factors.discharges"
    assert input_label("demand.factors.discharges") == "Demand shock: discharges"
    text = describe(config)
    assert "Shared demand factors (a shock to new placements each financial year):" in text
    assert "moved by demand factors discharges x1" in text


def test_a_shock_that_would_end_all_demand_floors_the_rate_at_zero():
    text = _toml(extra='by_year."2026/27" = -1.0', w0=2.0)
    counts = _yearly_arrivals(text, draws=200)
    assert counts[:, :, 1].sum() == 0 or counts[0, :, 1].sum() == 0
    assert counts[0, :, 1].sum() == 0  # 1 + 2 x (-1) < 0: no arrivals, not negative ones


@pytest.mark.parametrize(
    ("extra", "w0", "message"),
    [
        (
            "",
            "{ storms = 1.0 }",
            "services.a.arrivals.demand.storms: no such factor in [demand.factors] (defined: discharges)",
        ),
        (
            'by_year."2030/31" = 0.1',
            None,
            'demand.factors.discharges.by_year."2030/31": not a year of the horizon; allowed: 2025/26, 2026/27',
        ),
        (
            "",
            "{ discharges = 11.0 }",
            "services.a.arrivals.demand.discharges = 11.0: weight must be between -10 and 10",
        ),
    ],
)
def test_bad_demand_factors_and_weights_are_refused_naming_the_field(extra, w0, message):
    text = _toml(extra=extra)
    if w0 is not None:
        text = text.replace("demand = { discharges = 1.0 }", f"demand = {w0}", 1)
    with pytest.raises(ConfigError) as info:
        loads_config(text, "demand.toml")
    assert message in str(info.value)


def test_a_scenario_can_change_a_demand_shock_on_common_random_numbers():
    from simulator.analysis.scenarios import compare_scenarios

    text = _toml() + (
        '\n[scenarios.surge]\ndescription = "A discharge surge"\n'
        "changes = { demand = { factors = { discharges = { shock = 0.3 } } } }\n"
    )
    config = loads_config(text, "demand.toml")
    ds = compare_scenarios(config, 400, 5, ["surge"], threads=1)
    spend = ds["mean_overspend"].sel(service="total")
    # 30% more arrivals (x1 and x0.5 weights) raise spend; the base case is the config's own.
    assert (spend.sel(scenario="surge") > spend.sel(scenario="base")).all()
