"""Which forecast origins a backtest uses.

An origin is a 1 April (the horizon of a calibrated config starts on one). By
default every 1 April with at least two years of complete records before it
(one year for the fit and the flat forecast, two for the trend forecast) and a
whole year of records after it (to score against).
"""

from __future__ import annotations

from datetime import date

from simulator.calibrate.records import from_day, to_day
from simulator.errors import UserError

from .outcomes import add_years

#: Complete years of records wanted before a default origin.
YEARS_BEFORE = 2


def _day_text(day: int) -> str:
    return str(from_day(day))


def default_origins(
    complete_from: int, last_day: int, years_before: int = YEARS_BEFORE
) -> list[int]:
    """Every 1 April with ``years_before`` complete years before it and one after it.

    Parameters
    ----------
    complete_from, last_day : int
        First and last day of complete records (days since 1970-01-01).
    years_before : int
        2 by default; 1 (``--every-year``) also scores origins where the trend
        forecast cannot be made.

    Returns
    -------
    list of int
        Days since 1970-01-01, earliest first.
    """
    first_year = from_day(complete_from).astype(object).year
    last_year = from_day(last_day).astype(object).year
    out = []
    for year in range(first_year, last_year + 1):
        origin = to_day(date(year, 4, 1))
        if (
            add_years(origin, -years_before) >= complete_from
            and add_years(origin, 1) <= last_day + 1
        ):
            out.append(origin)
    return out


def check_origins(given: list[date], complete_from: int, last_day: int) -> list[int]:
    """The origins asked for, or every problem with them in one error.

    Each must be a 1 April with at least a year of complete records before it
    and a whole year after it.

    Raises
    ------
    UserError
        One line per bad origin, naming it and what is allowed.
    """
    span = f"the records are complete from {_day_text(complete_from)} to {_day_text(last_day)}"
    problems, out = [], []
    for day in given:
        origin = to_day(day)
        if (day.month, day.day) != (4, 1):
            problems.append(f"--origins {day}: not a 1 April (a forecast starts on one)")
        elif add_years(origin, -1) < complete_from:
            problems.append(
                f"--origins {day}: less than a year of complete records before it ({span})"
            )
        elif add_years(origin, 1) > last_day + 1:
            problems.append(f"--origins {day}: no whole year of records after it ({span})")
        else:
            out.append(origin)
    if problems:
        raise UserError("\n".join(problems))
    return sorted(set(out))


def no_origins_error(complete_from: int, last_day: int) -> UserError:
    """Why there is no default origin, and what would give one."""
    return UserError(
        f"no forecast origin: the records are complete from {_day_text(complete_from)} to "
        f"{_day_text(last_day)}, and an origin (a 1 April) needs {YEARS_BEFORE} complete years "
        "of records before it and one after it; give older returns, or --origins with a "
        "1 April that has at least one year before it"
    )
