"""No look-ahead through the header: a date of birth sent in a later return cannot change
an earlier origin's forecast (issue 13).

The header has no dates of its own, only its return's YEAR; with ``known_at`` the rows
of returns made after it are left out, as the episodes of those returns are
(:class:`simulator.calibrate.ssda903.HeaderDates`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from simulator.backtest.forecast import forecast_origin
from simulator.backtest.run import Inputs
from simulator.calibrate import load_ssda903
from simulator.calibrate import ssda903 as ssda903_module
from simulator.calibrate.records import to_day
from simulator.calibrate.synthetic import (
    header_from_history,
    returns_from_history,
    simulate_episodes,
)
from simulator.config.load import config_from_dict
from tests.backtest import KNOWN_AT, ORIGIN, look_ahead_truth
from tests.backtest import LOOK_AHEAD_SETTINGS as SETTINGS

AGES = {"5-9": 0.2, "10-15": 0.5, "16-17": 0.3}


@pytest.fixture(scope="module")
def history() -> pd.DataFrame:
    return simulate_episodes(
        config_from_dict(look_ahead_truth()),
        "2023-03-31",
        seed=11,
        history_years=15,
        age_at_entry=AGES,
    )


def _write(folder, history: pd.DataFrame, corrected: bool) -> list:
    """Yearly returns 2018/19 to 2022/23 with their headers (YEAR: the year ending 31 March).

    ``corrected``: the 2022/23 return's header moves every child's date of birth
    three years earlier, as a later correction would.
    """
    folder.mkdir(parents=True, exist_ok=True)
    dob = header_from_history(history).set_index("CHILD")["DOB"]
    headers = []
    for year, table in returns_from_history(history, 2019, 2023).items():
        table.assign(YEAR=str(year)).to_csv(folder / f"episodes_{year}.csv", index=False)
        children = pd.unique(table["CHILD"])
        rows = pd.DataFrame({"CHILD": children, "DOB": dob[children].to_numpy(), "YEAR": year})
        if corrected and year == 2023:
            born = pd.to_datetime(rows["DOB"], format="%d/%m/%Y") - pd.DateOffset(years=3)
            rows["DOB"] = born.dt.strftime("%d/%m/%Y")
        headers.append(rows)
    pd.concat(headers).to_csv(folder / "header.csv", index=False)
    return sorted(folder.glob("episodes_*.csv")), folder / "header.csv"


def _ages(records) -> pd.DataFrame:
    return records.ages.sort_values("client").reset_index(drop=True)


def test_header_rows_of_later_returns_are_left_out(history, tmp_path):
    first = _write(tmp_path / "first", history, corrected=False)
    second = _write(tmp_path / "second", history, corrected=True)
    # The whole history sees the correction (so this test could fail) ...
    assert not _ages(load_ssda903(*first)).equals(_ages(load_ssda903(*second)))
    # ... an extract made on the day before the origin does not.
    a, b = load_ssda903(*first, known_at=KNOWN_AT), load_ssda903(*second, known_at=KNOWN_AT)
    pd.testing.assert_frame_equal(_ages(a), _ages(b))
    assert any("rows from returns after 2022-03-31 left out" in n for n in b.log.notes)


def test_a_year_no_episodes_return_has_is_read_by_their_convention(tmp_path):
    header = pd.DataFrame(
        {"CHILD": ["1", "2", "3"], "DOB": ["2010-01-01"] * 3, "YEAR": ["2022", "2023", "x"]}
    )
    dated = ssda903_module.HeaderDates(
        to_day(KNOWN_AT), frozenset(), frozenset(), offset=0
    )  # YEAR is the year of the 31 March ending the collection year
    log = ssda903_module.ProblemLog()
    kept = dated.rows_known(header, "header.csv", log)
    # 2021/22 was under way on the day; 2022/23 had not started; 'x' cannot be dated (noted).
    assert kept["CHILD"].tolist() == ["1", "3"]
    assert any("cannot be dated" in n for n in log.notes)
    later = ssda903_module.HeaderDates(to_day(KNOWN_AT), frozenset(), frozenset(), offset=1)
    assert later.rows_known(header, "header.csv", log)["CHILD"].tolist() == ["3"]


def _forecasts(history, tmp_path):
    inputs = []
    for name in ("first", "second"):
        episodes, header = _write(tmp_path / name, history, corrected=name == "second")
        inputs.append(Inputs(episodes=tuple(episodes), header=(header,)))
    return [forecast_origin(i.load, to_day(ORIGIN), SETTINGS) for i in inputs]


@pytest.mark.slow
def test_a_later_header_cannot_change_the_forecast(history, tmp_path):
    a, b = _forecasts(history, tmp_path)
    assert a.config == b.config
    for name in ("caseload", "new_placements", "placement_days", "cost"):
        assert np.array_equal(getattr(a, name), getattr(b, name)), name


@pytest.mark.slow
def test_without_the_cut_the_later_header_would_change_it(history, tmp_path, monkeypatch):
    # The same two forecasts with header rows never cut: the correction reaches the origin,
    # so the test above can fail.
    monkeypatch.setattr(ssda903_module.HeaderDates, "of", classmethod(lambda *a: None))
    a, b = _forecasts(history, tmp_path)
    assert a.config != b.config
    assert not np.array_equal(a.placement_days, b.placement_days)
