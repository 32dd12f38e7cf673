"""Actual spend to date held against the model's own range for those months (defect 12)."""

from __future__ import annotations

import numpy as np
import pytest

from simulator.analysis.actuals import (
    actual_to_date,
    simulated_to_date,
    spend_to_date_warnings,
)
from simulator.cli import app as cli
from simulator.config.load import loads_config

TOML = """
[council]
name = "Run-rate Borough"
[horizon]
start = "2025/26"
years = 1
[actuals]
as_of = 2025-09-30
months = [{rows}]
[services.homes]
label = "Children's homes"
budget_gbp = 2_000_000
caseload = {{ open = 10 }}
arrivals = {{ per_year = {arrivals} }}
length = {{ dist = "lognormal", median_weeks = {median}, sigma = {sigma} }}
unit_cost = {{ mean_gbp_per_week = 4_000, cv = {cv} }}
"""


def _config(monthly: float, arrivals=6, median=60, sigma=0.8, cv=0.2):
    rows = ", ".join(
        f'{{ service = "homes", month = "2025-{m:02d}", net_spend_gbp = {monthly}, caseload = 10 }}'
        for m in range(4, 10)
    )
    text = TOML.format(rows=rows, arrivals=arrivals, median=median, sigma=sigma, cv=cv)
    return loads_config(text, "runrate.toml")


def test_with_nothing_uncertain_the_simulated_spend_to_date_is_exact():
    """Ten placements that outlast the year at £4,000 a week, no arrivals: 183 days' charge."""
    config = _config(100_000, arrivals=0, median=100_000, sigma=0.0, cv=0.0)
    simulated = simulated_to_date(config, draws=50)
    days = 30 + 31 + 30 + 31 + 31 + 30  # April to September
    np.testing.assert_allclose(simulated, 10 * 4_000 * days / 7, rtol=1e-12)
    assert actual_to_date(config).tolist() == [600_000]


def test_spend_inside_the_simulated_range_is_not_warned_of():
    simulated = simulated_to_date(_config(0), draws=1000)
    typical = float(np.median(simulated)) / 6
    assert spend_to_date_warnings(_config(typical)) == []


@pytest.mark.parametrize(
    ("factor", "word", "rest"), [(1.6, "above", "low"), (0.5, "below", "high")]
)
def test_spend_outside_the_simulated_range_is_said_with_the_service_label(factor, word, rest):
    typical = float(np.median(simulated_to_date(_config(0), draws=1000))) / 6
    (line,) = spend_to_date_warnings(_config(typical * factor))
    assert line.startswith("actuals: Children's homes: net spend from April 2025 to September 2025")
    assert f" is {word} " in line
    assert f"simulated rest of the year is probably too {rest}" in line


def test_the_range_is_the_5th_to_95th_percentile_of_the_check_draws():
    config = _config(0)
    simulated = simulated_to_date(config, draws=1000)[:, 0]
    low, high = np.quantile(simulated, [0.05, 0.95])
    inside = (low + high) / 2 / 6
    assert spend_to_date_warnings(_config(inside)) == []
    assert len(spend_to_date_warnings(_config(high * 1.001 / 6))) == 1
    assert len(spend_to_date_warnings(_config(low * 0.999 / 6))) == 1


def test_validate_says_when_spend_to_date_runs_outside_the_simulated_range(tmp_path, capsys):
    typical = float(np.median(simulated_to_date(_config(0), draws=1000))) / 6
    rows = ", ".join(
        f'{{ service = "homes", month = "2025-{m:02d}", net_spend_gbp = {typical * 1.6:.2f}, '
        "caseload = 10 }"
        for m in range(4, 10)
    )
    path = tmp_path / "runrate.toml"
    path.write_text(TOML.format(rows=rows, arrivals=6, median=60, sigma=0.8, cv=0.2))
    assert cli.main(["validate", str(path)]) == 0
    err = capsys.readouterr().err
    assert f"warning: {path}: actuals: Children's homes: net spend from April 2025" in err


def test_the_check_of_a_huge_council_is_skipped_and_said_not_minutes_long(monkeypatch):
    """A million arrivals a year: the check would take minutes at 1,000 draws."""
    from simulator.analysis import actuals

    assert actuals._affordable(_config(100_000), 1_000) == 1_000  # a small council: all
    huge = _config(100_000, arrivals=1_000_000)

    def never(*args, **kwargs):
        raise AssertionError("simulated a council too large to check")

    monkeypatch.setattr(actuals, "simulated_to_date", never)
    assert spend_to_date_warnings(huge) == [
        "actuals: spend to date not checked against the model's own range for those months: "
        "the council is too large to simulate 200 draws in 5 s"
    ]
