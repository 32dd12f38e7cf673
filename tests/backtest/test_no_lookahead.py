"""No look-ahead: nothing recorded after a forecast origin can change that origin's forecast.

The records are cut back to what an extract made the day before the origin held
(:mod:`simulator.calibrate.censor`), so a later end date, a new episode, a corrected
row or a child seen again in a later return leave the origin's forecast bit for bit
the same, while the outcome the backtest scores it against does see them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from simulator.backtest.forecast import forecast_origin
from simulator.backtest.run import Inputs
from simulator.calibrate import load_packages, load_ssda903
from simulator.calibrate.records import day_numbers, to_day
from simulator.calibrate.synthetic import (
    returns_from_history,
    simulate_episodes,
    simulate_records,
)
from simulator.config.load import config_from_dict
from tests.backtest import KNOWN_AT, ORIGIN, look_ahead_truth
from tests.backtest import LOOK_AHEAD_SETTINGS as SETTINGS

COLUMNS = ["client", "service", "start", "end", "start_censored", "last_seen"]


@pytest.fixture(scope="module")
def returns(tmp_path_factory) -> dict[int, pd.DataFrame]:
    """Yearly returns 2018/19 to 2022/23 of one history, with a few exits never recorded."""
    history = simulate_episodes(
        config_from_dict(look_ahead_truth()), "2023-03-31", seed=11, legal_changes_per_year=0.5,
        moves_per_child=0.3,
    )  # fmt: skip
    return returns_from_history(history, 2019, 2023, seed=3, missed_exits=0.05)


def _write(folder, tables: dict[int, pd.DataFrame]) -> list:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for year, table in tables.items():
        path = folder / f"episodes_{year}.csv"
        table.to_csv(path, index=False)
        paths.append(path)
    return paths


def _placements(records) -> pd.DataFrame:
    p = records.placements[COLUMNS].sort_values(["client", "start", "service"])
    return p.reset_index(drop=True)


def _later_changes(tables: dict[int, pd.DataFrame]) -> dict[int, pd.DataFrame]:
    """The returns with the 2022/23 return changed in every way that comes after the origin."""
    later = tables[2023].copy()
    starts = pd.to_datetime(later["DECOM"], format="%d/%m/%Y")
    open_then = later.index[(starts <= pd.Timestamp(KNOWN_AT)) & (later["DEC"] == "")]
    # A different end date for a placement open at the origin.
    later.loc[open_then[0], ["DEC", "REC"]] = ["15/07/2022", "E11"]
    # A corrected row: an episode that began before the origin, its placement code changed.
    later.loc[open_then[1], "PLACE"] = "K2" if later.loc[open_then[1], "PLACE"] != "K2" else "U4"
    # A new episode after the origin, and a child from an earlier return seen again.
    gone = sorted(set(tables[2021]["CHILD"]) - set(tables[2022]["CHILD"]))[0]
    extra = pd.DataFrame(
        [["NEW000001", "01/06/2022", "S", "U4", "PR4", "", ""],
         [gone, "01/05/2022", "P", "K2", "PR4", "", ""]],
        columns=later.columns,
    )  # fmt: skip
    return {**tables, 2023: pd.concat([later, extra], ignore_index=True)}


def test_records_known_at_a_date_are_the_returns_that_existed_then(returns, tmp_path):
    everything = _write(tmp_path / "all", returns)
    then = _write(tmp_path / "then", {y: t for y, t in returns.items() if y <= 2022})
    cut = load_ssda903(everything, known_at=KNOWN_AT)
    pd.testing.assert_frame_equal(_placements(cut), _placements(load_ssda903(then)))
    # ... and not the whole history, which knows more.
    assert not _placements(load_ssda903(everything)).equals(_placements(cut))


@pytest.mark.slow
def test_later_records_cannot_change_the_forecast(returns, tmp_path):
    changed = _later_changes(returns)
    first = Inputs(episodes=tuple(_write(tmp_path / "first", returns)))
    second = Inputs(episodes=tuple(_write(tmp_path / "second", changed)))
    # The outcome does see the changes (so this test could fail) ...
    assert not _placements(first.load()).equals(_placements(second.load()))
    # ... the forecast from the origin does not.
    a = forecast_origin(first.load, to_day(ORIGIN), SETTINGS)
    b = forecast_origin(second.load, to_day(ORIGIN), SETTINGS)
    assert a.config == b.config
    for name in ("caseload", "new_placements", "placement_days", "cost"):
        assert np.array_equal(getattr(a, name), getattr(b, name)), name


@pytest.mark.slow
def test_a_package_list_is_read_as_it_stood(tmp_path):
    truth = config_from_dict(look_ahead_truth())
    table = simulate_records(truth, "2019-04-01", "2023-03-31", seed=4)
    path = tmp_path / "packages.csv"
    table.to_csv(path, index=False)
    changed = table.copy()
    open_then = changed.index[
        (changed["start_date"] <= str(KNOWN_AT)) & (changed["end_date"] == "")
    ]  # fmt: skip
    changed.loc[open_then[0], "end_date"] = "2022-09-30"
    new = pd.DataFrame([["Z1", "ifa_fostering", "2022-05-01", "", 950.0]], columns=table.columns)
    changed = pd.concat([changed, new], ignore_index=True)
    path2 = tmp_path / "changed" / "packages.csv"
    path2.parent.mkdir()
    changed.to_csv(path2, index=False)
    cut = load_packages(path, known_at=KNOWN_AT)
    p = cut.placements
    assert (day_numbers(p["start"]) <= to_day(KNOWN_AT)).all()
    assert not (day_numbers(p["end"]) > to_day(KNOWN_AT)).any()
    a = forecast_origin(Inputs(packages=(path,)).load, to_day(ORIGIN), SETTINGS)
    b = forecast_origin(Inputs(packages=(path2,)).load, to_day(ORIGIN), SETTINGS)
    assert a.config == b.config
    for name in ("caseload", "new_placements", "placement_days", "cost"):
        assert np.array_equal(getattr(a, name), getattr(b, name)), name


def test_one_cumulative_extract_is_cut_back_row_by_row(returns, tmp_path):
    # One file holding every year (no YEAR column): kept, its later rows cut, not dropped whole.
    whole = pd.concat(list(returns.values()), ignore_index=True).drop_duplicates(
        ["CHILD", "DECOM"], keep="last"
    )
    path = tmp_path / "extract.csv"
    whole.to_csv(path, index=False)
    cut = load_ssda903(path, known_at=KNOWN_AT).placements
    assert len(cut) > 100
    assert (day_numbers(cut["start"]) <= to_day(KNOWN_AT)).all()
    assert not (day_numbers(cut["end"]) > to_day(KNOWN_AT)).any()
