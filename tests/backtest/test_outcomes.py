"""Outcomes and naive forecasts, measured by hand on placements small enough to count."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from simulator.backtest.outcomes import (
    Spans,
    add_years,
    caseload_at,
    month_boundaries,
    naive,
    outcome,
    spans,
    year_measures,
)
from simulator.calibrate.records import to_day

ORIGIN = to_day("2022-04-01")
NEXT_YEAR = to_day("2023-04-01")


def _spans(rows: list[tuple[str, str | None, float]]) -> Spans:
    start = np.array([to_day(s) for s, _, _ in rows], dtype=float)
    end = np.array([to_day(e) if e else np.inf for _, e, _ in rows], dtype=float)
    return Spans(start, end, np.array([c for _, _, c in rows], dtype=float))


def test_month_boundaries_are_first_days_of_months():
    b = month_boundaries(ORIGIN)
    assert b[0] == ORIGIN and b[1] == to_day("2022-05-01") and b[-1] == NEXT_YEAR
    assert len(b) == 13


def test_caseload_counts_a_placement_open_at_the_month_end():
    s = _spans([
        ("2022-03-01", "2022-04-30", 1.0),  # ended on the last day of April: not open then
        ("2022-03-01", "2022-05-01", 1.0),  # left on 1 May: open on the night of 30 April
        ("2022-04-30", None, 1.0),          # started on the last day: open
        ("2022-05-01", None, 1.0),          # started in May
    ])  # fmt: skip
    assert caseload_at(s, [to_day("2022-05-01")]).tolist() == [2.0]


def test_year_measures_count_days_starts_and_cost():
    s = _spans([
        ("2021-01-01", "2022-04-11", 700.0),  # 10 days in the year
        ("2022-06-01", "2022-06-08", np.nan),  # 7 days, cost unknown: the unit cost
        ("2023-01-01", None, 70.0),            # open to the year end: 90 days
        ("2023-04-01", None, 70.0),            # starts after the year
    ])  # fmt: skip
    m = year_measures(s, ORIGIN, unit_cost=140.0)
    assert m["placement_days"] == 10 + 7 + 90
    assert m["new_placements"] == 2
    assert m["cost"] == pytest.approx((10 * 700 + 7 * 140 + 90 * 70) / 7)


def test_without_recorded_costs_the_outcome_is_valued_at_the_unit_cost():
    s = _spans([("2022-04-01", "2022-04-15", 5000.0)])
    assert outcome(s, ORIGIN, 700.0, costs_recorded=False).year["cost"] == pytest.approx(1400.0)
    assert outcome(s, ORIGIN, 700.0, costs_recorded=True).year["cost"] == pytest.approx(10000.0)


def test_naive_forecasts_hold_last_year_or_add_its_change():
    # One placement a month started in 2020/21, two a month in 2021/22, none ending.
    rows = [(f"{y}-{m:02d}-15", None, 7.0) for y, m in
            [(2020, m) for m in range(4, 13)] + [(2021, m) for m in range(1, 4)]]  # fmt: skip
    rows += [(f"{y}-{m:02d}-1{d}", None, 7.0) for d in (0, 5) for y, m in
             [(2021, m) for m in range(4, 13)] + [(2022, m) for m in range(1, 4)]]  # fmt: skip
    s = _spans(rows)
    got = naive(s, ORIGIN, complete_from=to_day("2020-04-01"), unit_cost=7.0, costs_recorded=True)
    assert got["flat"].year["new_placements"] == 24
    assert got["trend"].year["new_placements"] == 36  # 24 + (24 - 12)
    assert got["flat"].caseload.tolist() == [36.0] * 12
    # The caseload rose by 24 in the year to the origin: 2 a month.
    assert got["trend"].caseload.tolist() == [36.0 + 2 * h for h in range(1, 13)]
    # With one complete year the yearly trend cannot be made (the caseload's can: the
    # records hold every placement open on their first day).
    short = naive(s, ORIGIN, complete_from=to_day("2021-04-01"), unit_cost=7.0,
                  costs_recorded=True)  # fmt: skip
    assert np.isnan(short["trend"].year["new_placements"])
    assert short["flat"].year["new_placements"] == 24
    assert short["trend"].caseload[-1] == 60.0
    later = naive(s, ORIGIN, complete_from=to_day("2021-05-01"), unit_cost=7.0,
                  costs_recorded=True)  # fmt: skip
    assert np.isnan(later["trend"].caseload).all()
    assert np.isnan(later["flat"].year["new_placements"])


def test_a_stale_placement_ends_after_its_last_return():
    p = pd.DataFrame({
        "service": ["a", "a"],
        "start": pd.to_datetime(["2020-01-01", "2020-01-01"]).astype("datetime64[s]"),
        "end": pd.Series([pd.NaT, pd.NaT], dtype="datetime64[s]"),
        "weekly_cost": [np.nan, np.nan],
        "last_seen": pd.to_datetime(["2022-03-31", None]).astype("datetime64[s]"),
    })  # fmt: skip
    assert caseload_at(spans(p, "a"), [ORIGIN, to_day("2022-05-01")]).tolist() == [2.0, 1.0]
    assert caseload_at(spans(p, "a", keep_stale=True), [to_day("2022-05-01")]).tolist() == [2.0]


def test_add_years_keeps_the_calendar_day():
    assert add_years(ORIGIN, 1) == NEXT_YEAR
    assert add_years(to_day("2024-02-29"), 1) == to_day("2025-02-28")
