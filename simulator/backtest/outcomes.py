"""What the records show happened, and the two forecasts a spreadsheet would have made.

Every quantity is measured from a placements table the way the engine counts
it, so forecast and outcome are like for like:

- caseload at a month end: placements that started by its last day and had
  not ended by then (the engine counts a placement open over [start, end));
- new placements: placements starting in the 12 months;
- placement-days: the days of the 12 months each placement was open;
- cost: each placement's days times its weekly cost over 7, where the records
  give costs (an unknown cost taken as the calibrated mean), else times the
  calibrated mean weekly cost of the service.

A stale open placement (open in an earlier return, the child in no later one)
ended, unrecorded, by the end of the child's last return: it is counted open
until then, not for ever (with ``keep_stale``, as still open).

The naive forecasts use only the records known at the origin: last year's level
held flat, and last year's level plus the change over the year before it (the
caseload: its level at the origin plus the last 12 months' change, pro rata).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from simulator.calibrate.records import day_numbers, from_day, to_day

from .forecast import MONTHS

#: The yearly quantities scored besides the caseload.
YEARLY = ("new_placements", "placement_days", "cost")
#: Forecasts a spreadsheet would make.
NAIVE = ("flat", "trend")


def add_years(day: int, years: int) -> int:
    """The same calendar day ``years`` later (days since 1970-01-01)."""
    return to_day(pd.Timestamp(from_day(day)) + pd.DateOffset(years=years))


def month_boundaries(origin: int) -> np.ndarray:
    """First days of the 12 months after each month from ``origin`` (13 numbers, days)."""
    first = np.datetime64(from_day(origin), "M")
    months = first + np.arange(MONTHS + 1)
    return months.astype("datetime64[D]").astype(np.int64)


@dataclass
class Spans:
    """Placements of one service as day numbers, ready to measure.

    Attributes
    ----------
    start, end : numpy.ndarray
        Days since 1970-01-01; ``end`` is +inf while open.
    weekly_cost : numpy.ndarray
        GBP per week, NaN when unknown.
    """

    start: np.ndarray
    end: np.ndarray
    weekly_cost: np.ndarray


def spans(placements: pd.DataFrame, service: str, keep_stale: bool = False) -> Spans:
    """A service's placements as day spans, a stale open one ending after its last return."""
    rows = placements[placements["service"] == service]
    start, end = day_numbers(rows["start"]), day_numbers(rows["end"])
    if not keep_stale and "last_seen" in rows.columns:
        seen = day_numbers(rows["last_seen"])
        stale = np.isnan(end) & np.isfinite(seen)
        end[stale] = seen[stale] + 1
    end[np.isnan(end)] = np.inf
    return Spans(start, end, rows["weekly_cost"].to_numpy(dtype=float))


def caseload_at(s: Spans, boundaries: np.ndarray) -> np.ndarray:
    """Placements open at the end of the day before each boundary (a month end)."""
    b = np.asarray(boundaries, dtype=np.float64)[:, None]
    return ((s.start[None, :] < b) & (s.end[None, :] >= b)).sum(axis=1).astype(np.float64)


def year_measures(s: Spans, first: int, unit_cost: float) -> dict[str, float]:
    """New placements, placement-days and cost (GBP) in the year from day ``first``."""
    last = add_years(first, 1)
    days = np.clip(np.minimum(s.end, last) - np.maximum(s.start, first), 0.0, None)
    cost = np.where(np.isfinite(s.weekly_cost), s.weekly_cost, unit_cost)
    return {
        "new_placements": float(((s.start >= first) & (s.start < last)).sum()),
        "placement_days": float(days.sum()),
        "cost": float((days * cost).sum() / 7.0),
    }


@dataclass
class Outcome:
    """One service's outcome after an origin, or its history before it.

    Attributes
    ----------
    caseload : numpy.ndarray
        At the 12 month ends after the origin.
    year : dict of str to float
        :data:`YEARLY` quantities over the 12 months.
    """

    caseload: np.ndarray
    year: dict[str, float]


def outcome(s: Spans, origin: int, unit_cost: float, costs_recorded: bool) -> Outcome:
    """What happened in the 12 months after ``origin``."""
    if not costs_recorded:
        s = Spans(s.start, s.end, np.full_like(s.weekly_cost, np.nan))
    boundaries = month_boundaries(origin)[1:]
    return Outcome(caseload_at(s, boundaries), year_measures(s, origin, unit_cost))


def naive(
    s: Spans, origin: int, complete_from: int, unit_cost: float, costs_recorded: bool
) -> dict[str, Outcome]:
    """The flat and trend forecasts from the records known at ``origin``.

    Years before ``complete_from`` (incomplete records) give no level: the
    forecast needing them is NaN.
    """
    if not costs_recorded:
        s = Spans(s.start, s.end, np.full_like(s.weekly_cost, np.nan))
    last_year, year_before = add_years(origin, -1), add_years(origin, -2)
    now, then = caseload_at(s, [origin, last_year])
    if last_year < complete_from:
        then = np.nan
    ahead = np.arange(1, MONTHS + 1)
    nan = dict.fromkeys(YEARLY, np.nan)
    last = year_measures(s, last_year, unit_cost) if last_year >= complete_from else nan
    before = year_measures(s, year_before, unit_cost) if year_before >= complete_from else nan
    trend = {k: max(2.0 * last[k] - before[k], 0.0) for k in YEARLY}
    return {
        "flat": Outcome(np.full(MONTHS, now), dict(last)),
        "trend": Outcome(np.maximum(now + ahead * (now - then) / MONTHS, 0.0), trend),
    }
