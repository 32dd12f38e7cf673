"""Financial years and the monthly time grid.

English councils budget by financial year, 1 April to 31 March, labelled like
"2024/25". The simulation steps month by month; time inside the kernels is
measured in weeks from 1 April of the first financial year, so that a
placement starting or ending part-way through a month is charged for exactly
the days it is open.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

DAYS_PER_WEEK = 7.0
DAYS_PER_YEAR = 365.25

_FY_PATTERN = re.compile(r"^(\d{4})/(\d{2})$")

#: The first and last financial years a config may name (by the year they start).
FIRST_YEAR, LAST_YEAR = 1990, 2099


def parse_fy(label: str) -> int:
    """Return the calendar year in which financial year ``label`` starts.

    Parameters
    ----------
    label : str
        A financial year such as ``"2024/25"``.

    Returns
    -------
    int
        The starting year, e.g. 2024.

    Raises
    ------
    ValueError
        If the label is not of the form ``YYYY/YY`` with consecutive years, or
        starts before :data:`FIRST_YEAR` or after :data:`LAST_YEAR`.
    """
    match = _FY_PATTERN.match(str(label))
    if not match:
        shown = repr(label) if len(repr(label)) <= 40 else "this"
        raise ValueError(f"{shown} is not a financial year: write it like '2024/25'")
    start = int(match.group(1))
    if not FIRST_YEAR <= start <= LAST_YEAR:
        raise ValueError(
            f"{label!r} is outside the years overspend works with: give a financial year from "
            f"{fy_label(FIRST_YEAR)} to {fy_label(LAST_YEAR)}"
        )
    if (start + 1) % 100 != int(match.group(2)):
        raise ValueError(
            f"{label!r} is not a financial year: the two years must be consecutive, "
            f"like '{start}/{(start + 1) % 100:02d}'"
        )
    return start


def fy_label(start_year: int) -> str:
    """Return the label of the financial year starting in April of ``start_year``."""
    return f"{start_year}/{(start_year + 1) % 100:02d}"


@dataclass(frozen=True)
class MonthGrid:
    """The months of a horizon of whole financial years.

    Attributes
    ----------
    start_year : int
        Calendar year of the first April.
    years : int
        Number of financial years.
    month_start : numpy.ndarray
        ``datetime64[D]`` first day of each month, shape ``(n_months,)``.
    days : numpy.ndarray
        Days in each month, shape ``(n_months,)``.
    edges_weeks : numpy.ndarray
        Month boundaries in weeks since the horizon start, shape ``(n_months + 1,)``.
    fy_index : numpy.ndarray
        Index of each month's financial year (0 for the first), shape ``(n_months,)``.
    """

    start_year: int
    years: int
    month_start: np.ndarray
    days: np.ndarray
    edges_weeks: np.ndarray
    fy_index: np.ndarray

    @property
    def n_months(self) -> int:
        """Number of months in the horizon."""
        return int(self.days.size)

    @property
    def fy_labels(self) -> list[str]:
        """Financial-year labels of the horizon, in order."""
        return [fy_label(self.start_year + i) for i in range(self.years)]

    @property
    def fy_days(self) -> np.ndarray:
        """Days in each financial year, shape ``(years,)``."""
        return np.bincount(self.fy_index, weights=self.days, minlength=self.years)

    def month_labels(self) -> list[str]:
        """Each month as ``YYYY-MM`` (as in an actuals file)."""
        return [str(m)[:7] for m in self.month_start]

    def year_share(self) -> np.ndarray:
        """Each month's share of its financial year, by days; shape ``(n_months,)``.

        Annual amounts are spread over months with it, so a year's months add up
        to exactly the annual amount, leap years included.
        """
        return self.days / self.fy_days[self.fy_index]

    def month_of_day(self) -> np.ndarray:
        """Month index of each whole day since the start, and ``n_months`` for the day after.

        Shape ``(total days + 1,)``; the kernels look up the month a placement
        ends in with it.
        """
        return np.append(np.repeat(np.arange(self.n_months), self.days), self.n_months)

    def years_since_start(self) -> np.ndarray:
        """Mid-month time in years since the horizon start, shape ``(n_months,)``.

        Used for growth trends, which compound continuously through the year.
        """
        mid_weeks = 0.5 * (self.edges_weeks[:-1] + self.edges_weeks[1:])
        return mid_weeks * DAYS_PER_WEEK / DAYS_PER_YEAR


def month_grid(start_year: int, years: int) -> MonthGrid:
    """Build the monthly grid for ``years`` financial years from April ``start_year``.

    Parameters
    ----------
    start_year : int
        Calendar year of the first April.
    years : int
        Number of financial years (1 to 5 in a config).

    Returns
    -------
    MonthGrid
    """
    first = np.datetime64(f"{start_year:04d}-04", "M")
    months = first + np.arange(12 * years + 1)
    day_edges = months.astype("datetime64[D]")
    days = np.diff(day_edges).astype(np.int64)
    since = (day_edges - day_edges[0]).astype(np.int64)
    return MonthGrid(
        start_year=start_year,
        years=years,
        month_start=day_edges[:-1],
        days=days,
        edges_weeks=since.astype(np.float64) / DAYS_PER_WEEK,
        fy_index=np.repeat(np.arange(years), 12),
    )
