"""Movement since the last forecast: rows before and after, and the split by cause."""

from __future__ import annotations

import tomllib

import numpy as np
import pytest

import simulator
from simulator.analysis.movement import cause_split, movement
from simulator.config.load import config_from_dict, dumps_config, loads_config
from simulator.present.answers import cause_sentence, cause_table_rows
from simulator.present.numbers import money_m
from tests.present.test_report import CONFIG

DRAWS = 300


def _total_mean(ds) -> float:
    return float(ds["overspend"].sel(service="total", financial_year="2024/25").values.mean())


@pytest.fixture(scope="module")
def runs():
    """The same council before its actuals arrived, and after (same seed and draws)."""
    after_config = loads_config(CONFIG, "test.toml")
    data = tomllib.loads(dumps_config(after_config))
    data.pop("actuals")
    before_config = config_from_dict(data, "before.toml")
    before = simulator.run(before_config, draws=DRAWS, seed=2)
    after = simulator.run(after_config, draws=DRAWS, seed=2)
    return before, after


def test_the_split_by_cause_adds_up_and_puts_the_change_on_the_actuals(runs):
    before, after = runs
    split = cause_split(before, after)
    assert split is not None
    labels = [label for label, _, _ in split.steps]
    assert labels == ["Last forecast", "New actuals", "New caseload", "Changed assumptions"]
    means = [mean for _, _, mean in split.steps]
    # Same seed and draws: the re-run last forecast is the last forecast, bit for bit.
    assert means[0] == _total_mean(before) and split.sampling == 0.0
    # Only the actuals changed: after swapping them in, nothing else moves the total.
    assert means[1] == means[2] == means[3] == _total_mean(after)
    assert means[1] != means[0]
    text = cause_sentence(split)
    change = money_m(means[1] - means[0])
    sign = "" if change.startswith("\u2212") else "+"
    assert f"the new actuals contributed {sign}{change}" in text
    assert "the new caseload +£0.0m and changed assumptions +£0.0m" in text
    rows = cause_table_rows(split)
    assert [r[0] for r in rows] == labels and rows[0][3] == ""


def test_no_split_when_the_configs_do_not_combine(runs):
    before, after = runs
    other = before.copy()
    other.attrs = {**before.attrs, "config": before.attrs["config"].replace("[services.staffing]",
                   "[services.staff_renamed]")}  # fmt: skip
    assert cause_split(other, after) is None
    assert cause_split(before.assign_attrs(config=""), after) is None


def test_rows_compare_like_with_like(runs):
    before, after = runs
    m = movement(before, after)
    row = m.of("homes", "2025/26")
    over = after["overspend"].sel(service="homes", financial_year="2025/26").values
    assert row.p_after == np.mean(over > 0)
    assert row.p90_after == pytest.approx(np.quantile(over, 0.9))
