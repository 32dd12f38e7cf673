"""Per-draw counts the kernel keeps for 'what drives the worst outcomes' (issue 14 item 5)."""

from __future__ import annotations

import math

import numpy as np

import simulator
from simulator.analysis.tail import tail_attribution
from simulator.config.load import load_config, loads_config
from simulator.present.answers import tail_sentence
from tests.runs.test_in_year import _write

COHORT = """
[council]
name = "Count Borough"
[horizon]
start = "2025/26"
years = 2
[services.homes]
budget_gbp = 1_000_000
caseload = {{ open = 400, elapsed_weeks = 0 }}
arrivals = {{ per_year = 0 }}
length = {{ dist = "lognormal", median_weeks = 100_000, sigma = 0.0 }}
unit_cost = {{ mean_gbp_per_week = 1_000, high_cost_share = {share}, high_cost_mean_gbp_per_week = 9_000 }}
"""


def test_high_cost_placements_open_are_binomial_in_the_tail_share():
    """400 placements open all horizon, each high-cost with chance s: Binomial(400, s) a year."""
    draws, share = 2_000, 0.15
    ds = simulator.run(loads_config(COHORT.format(share=share), "c.toml"), draws, 6)
    high = ds["high_cost_open"].sel(service="homes").values
    assert np.array_equal(high[:, 0], high[:, 1])  # the same placements in both years
    se = math.sqrt(400 * share * (1 - share) / draws)
    assert abs(high[:, 0].mean() - 400 * share) < 4 * se
    assert abs(high[:, 0].var() / (400 * share * (1 - share)) - 1) < 4 * math.sqrt(2 / draws)
    assert np.array_equal(ds["high_cost_open"].sel(service="total").values, high)
    none = simulator.run(loads_config(COHORT.format(share=0.0), "c.toml"), 50, 6)
    assert not none["high_cost_open"].values.any()


def test_counting_draws_nothing_more_than_before():
    """The counts come from flags the kernel already had: spend is the same either way."""
    ds = simulator.run(loads_config(COHORT.format(share=0.15), "c.toml"), 200, 6)
    high = ds["high_cost_open"].sel(service="homes").values[:, 0]
    spend = ds["spend"].sel(service="homes").values[:, 0]
    weeks = ds["days_in_month"].values[0] / 7.0
    # Body costs are exactly £1,000 and tail costs lognormal around £9,000: spend rises
    # with the count drawn, draw by draw (so the flag is the one that set the cost).
    body_only = (400 - high) * 1_000 * weeks
    assert np.all(spend > body_only)
    assert np.corrcoef(high, spend)[0, 1] > 0.9


def test_extended_planned_ends_are_counted_in_their_year(tmp_path):
    """The monitoring test council: one snapshot placement has a planned end (2024-09-30)."""
    config = load_config(_write(tmp_path, extension=0.3))
    draws = 4_000
    ds = simulator.run(config, draws, 3)
    extended = ds["extended"].sel(service="homes").values[:, 0]
    assert set(np.unique(extended)) <= {0, 1}
    assert abs(extended.mean() - 0.3) < 4 * math.sqrt(0.3 * 0.7 / draws)
    assert not ds["extended"].sel(service="staff").values.any()


def test_the_worst_futures_name_the_high_cost_placements_behind_them():
    text = COHORT.format(share=0.15).replace("budget_gbp = 1_000_000", "budget_gbp = 20_000_000")
    ds = simulator.run(loads_config(text, "c.toml"), 2_000, 6)
    t = tail_attribution(ds, "2025/26")
    (line,) = t.lines
    assert line.high_cost_tail > line.high_cost_average + 5  # the worst futures have more
    worst = ds["overspend"].sel(service="total", financial_year="2025/26").values
    high = ds["high_cost_open"].sel(service="homes", financial_year="2025/26").values
    in_tail = worst >= np.quantile(worst, 0.9)
    assert line.high_cost_tail == high[in_tail].mean()
    assert "high-cost placements open (" in tail_sentence(t)
