"""Records as they stood on an earlier date: what an extract made then would have held.

A backtest (``overspend backtest``) fits the model on what was known at each
forecast origin. Calibrating with an earlier ``as_of`` alone is not enough for
that: the later returns would still be stitched in, and they carry information
from after the origin (a corrected row of an earlier episode, an episode
recorded late, a child seen again, which un-flags a stale placement). So the
records are cut back *before* cleaning, row by row, to what a council
extracting them on ``known_at`` would have had:

- a return that describes only later times is left out whole: its collection
  year starts after ``known_at`` and none of its recorded end dates is on or
  before ``known_at`` (a single cumulative extract holds earlier end dates, so
  it is kept and cut back row by row instead);
- a row starting after ``known_at`` is dropped;
- an end date after ``known_at`` is blanked (the episode or package was still
  open then), with its reason for ending (``REC``).

Nothing else in the records changes, so cleaning then runs on exactly the rows
an extract of that date would hold.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from .records import day_numbers, from_day, to_day


def known_day(known_at) -> int | None:
    """``known_at`` (a date, ISO text or ``None``) as days since 1970-01-01."""
    return None if known_at is None else to_day(known_at)


def _year_start(end: int) -> int:
    """First day of the year of records ending on day ``end``: 1 April 2022 for 31 March 2023."""
    return to_day(pd.Timestamp(from_day(end + 1)) - pd.DateOffset(years=1))


def censor_rows(table: pd.DataFrame, known: int, end_text: tuple[str, ...]) -> pd.DataFrame:
    """Rows as known on day ``known``: later starts dropped, later ends blanked.

    Parameters
    ----------
    table : pandas.DataFrame
        Parsed ``start`` and ``end`` (dates; ``end`` NaT while open) and the text
        columns they came from.
    known : int
        Days since 1970-01-01.
    end_text : tuple of str
        Text columns to blank with a later end (e.g. ``("DEC", "REC")``).

    Returns
    -------
    pandas.DataFrame
        A new table.
    """
    start, end = day_numbers(table["start"]), day_numbers(table["end"])
    table = table[start <= known].copy()
    later = (np.isfinite(end) & (end > known))[start <= known]
    table.loc[later, "end"] = pd.NaT
    for column in end_text:
        if column in table.columns:
            table.loc[later, column] = ""
    return table


def censor_returns(table: pd.DataFrame, returns: list, known_at) -> tuple[pd.DataFrame, list]:
    """An SSDA903 episodes table (its returns ranked) as an extract on ``known_at`` held it.

    Parameters
    ----------
    table : pandas.DataFrame
        After step 1 of cleaning, with ``_return`` (index into ``returns``).
    returns : list of Return
        Sorted by the end of their collection year.
    known_at : date, str or None
        ``None`` leaves everything as it is.

    Returns
    -------
    table : pandas.DataFrame
    returns : list of Return
        The returns kept, renumbered in ``table``; a kept return whose year runs
        past ``known_at`` ends on ``known_at``.
    """
    known = known_day(known_at)
    if known is None:
        return table, returns
    ends = day_numbers(table["end"])
    kept, number = [], {}
    for i, ret in enumerate(returns):
        rows = table["_return"].to_numpy() == i
        earlier_end = bool((ends[rows] <= known).any())
        if _year_start(ret.end) > known and not earlier_end:
            continue  # a later year's return: nothing in it was known then
        number[i] = len(kept)
        kept.append(replace(ret, end=min(ret.end, known)))
    table = table[table["_return"].isin(list(number))]
    table = table.assign(_return=table["_return"].map(number).astype(np.int64))
    return censor_rows(table, known, ("DEC", "REC")), kept
