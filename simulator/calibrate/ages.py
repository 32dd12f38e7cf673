"""Children's ages from the SSDA903 header's dates of birth.

For a service with ``ageing`` the engine draws each new placement's age from
``age_at_entry`` (shares by band of whole years, uniform within a band), each
placement open at the start from ``open_ages``, and ends a placement on the
child's ``leave_at`` (18th) birthday. From the records:

- ``age_at_entry``: the ages, in whole years on the day it starts, of the
  placements the arrivals fit counts (new placements in the service while the
  records are complete; not those that moved in, which keep the child's age);
- ``open_ages``: the ages at the horizon start of the placements open on the
  as-of date (the starting caseload).

The bands are those of the DfE's children-looked-after tables: under 1, 1-4,
5-9, 10-15 and 16-17. Each share is a binomial proportion with standard
error sqrt(p (1 - p) / n).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

#: Age bands (config name, from age, to age in years), as the DfE counts children looked after.
BANDS = (("0", 0, 1), ("1-4", 1, 5), ("5-9", 5, 10), ("10-15", 10, 16), ("16-17", 16, 18))
#: The age at which a child leaves care (years): the engine's ``leave_at``.
LEAVE_AT = 18
#: Fewest new placements with a date of birth for a service's ages to be fitted: with
#: fewer, a band's share has an SE of 0.1 or more.
MIN_AGES = 20
#: A placement ending this close before the 18th birthday (days) ended because the child
#: reached 18: returns often end it the day before the birthday.
LEAVING_SLACK_DAYS = 7
#: ... or this many days after it: the end may be recorded on the next working day (a
#: birthday on a Friday before a bank holiday is ended the Tuesday after, 4 days late).
#: No child is looked after past 18, so an end later than this is not leaving at 18: the
#: placement's own end recorded late, or a wrong date of birth (see ``MAX_AGE_AT_START``).
LEAVING_LATE_DAYS = 7
_DECIMALS = 4


@dataclass(frozen=True)
class AgeShares:
    """Ages of a group of placements, by band.

    Attributes
    ----------
    counts : numpy.ndarray of int
        Placements in each of :data:`BANDS`.
    unknown : int
        Placements with no date of birth (or an age outside 0 to 17 on the day).
    """

    counts: np.ndarray
    unknown: int

    @property
    def n(self) -> int:
        """Placements with a known age."""
        return int(self.counts.sum())

    @property
    def shares(self) -> np.ndarray:
        """Share in each band (maximum likelihood: count / n)."""
        return self.counts / self.n

    @property
    def se(self) -> np.ndarray:
        """Binomial standard error of each share."""
        p = self.shares
        return np.sqrt(p * (1.0 - p) / self.n)

    def config(self) -> dict[str, float]:
        """The shares as a config's bands, rounded so that they add up to exactly 1."""
        rounded = np.round(self.shares, _DECIMALS)
        # Put the rounding error on the largest band, where it matters least.
        biggest = int(np.argmax(rounded))
        rounded[biggest] = round(1.0 - (rounded.sum() - rounded[biggest]), _DECIMALS)
        return {name: float(r) for (name, _, _), r in zip(BANDS, rounded, strict=True)}


@dataclass(frozen=True)
class AgeFit:
    """Ages at entry and of the open caseload for one service.

    Attributes
    ----------
    entry : AgeShares
    open : AgeShares or None
        ``None`` when fewer than :data:`MIN_AGES` open placements have a known age
        (the config then leaves ``open_ages`` out, and the simulation draws their ages
        from ``age_at_entry``).
    open_few : AgeShares or None
        The ages of the open placements when there are too few for ``open``.
    """

    entry: AgeShares
    open: AgeShares | None
    open_few: AgeShares | None = None


def whole_years(dob: pd.Series, day: np.ndarray) -> np.ndarray:
    """Age in whole years (completed birthdays) on each ``day`` (days since 1970-01-01).

    NaN where the date of birth is unknown.
    """
    born = pd.to_datetime(dob.reset_index(drop=True))
    on = pd.Series(np.asarray(day, dtype=np.int64).astype("datetime64[D]"))
    before = (on.dt.month < born.dt.month) | (
        (on.dt.month == born.dt.month) & (on.dt.day < born.dt.day)
    )
    years = on.dt.year - born.dt.year - before.astype(int)
    return years.to_numpy(dtype=np.float64, na_value=np.nan)


def band_counts(ages: np.ndarray) -> AgeShares:
    """Count ages (whole years, NaN unknown) into :data:`BANDS`."""
    ages = np.asarray(ages, dtype=np.float64)
    known = np.isfinite(ages) & (ages >= 0) & (ages < LEAVE_AT)
    edges = [low for _, low, _ in BANDS] + [BANDS[-1][2]]
    counts, _ = np.histogram(ages[known], bins=edges)
    return AgeShares(counts.astype(np.int64), int((~known).sum()))


def fit_ages(entry_ages: np.ndarray, open_ages: np.ndarray | None) -> AgeFit | None:
    """Band the ages of a service's new placements and of its open caseload.

    Returns
    -------
    AgeFit or None
        ``None`` when fewer than :data:`MIN_AGES` new placements have a known age;
        the open ones' shares likewise need :data:`MIN_AGES`.
    """
    entry = band_counts(entry_ages)
    if entry.n < MIN_AGES:
        return None
    opened = band_counts(open_ages if open_ages is not None else np.empty(0))
    if opened.n >= MIN_AGES:
        return AgeFit(entry, opened)
    return AgeFit(entry, None, opened if opened.n else None)


def left_at_leaving_age(dob: pd.Series, end: np.ndarray) -> np.ndarray:
    """Whether each placement ended because the child reached 18.

    Parameters
    ----------
    dob : pandas.Series
        Dates of birth (NaT when unknown).
    end : numpy.ndarray
        End days since 1970-01-01 (NaN while open).

    Returns
    -------
    numpy.ndarray of bool
        True where it ended from :data:`LEAVING_SLACK_DAYS` days before the 18th
        birthday to :data:`LEAVING_LATE_DAYS` days after it.
    """
    end = np.asarray(end, dtype=np.float64)
    ended = np.isfinite(end)
    out = np.zeros(end.size, dtype=bool)
    if not ended.any():
        return out
    reached = whole_years(dob, np.where(ended, end + LEAVING_SLACK_DAYS, 0.0)) >= LEAVE_AT
    # 18 already the day before the last day of the window: the birthday is too far behind.
    past = whole_years(dob, np.where(ended, end - LEAVING_LATE_DAYS - 1, 0.0)) >= LEAVE_AT
    out[ended] = (reached & ~past)[ended]
    return out


def describe(shares: AgeShares) -> str:
    """The shares in words, e.g. ``'under 1 2%, 1-4 10%, ..., 16-17 21%'``."""
    parts = []
    for (name, _, _), p in zip(BANDS, shares.shares, strict=True):
        label = "under 1" if name == "0" else name
        parts.append(f"{label} {p:.0%}")
    return ", ".join(parts)


def se_words(shares: AgeShares) -> str:
    """How sure the shares are: the largest SE of a share, in points.

    When one band holds every placement each SE is 0, which says nothing of how
    few they were; the words then give the count and the rule of three (none in
    n means a share under 3/n at 95%).
    """
    if not shares.n:
        return "n/a"
    if np.max(shares.se) > 0:
        return f"the largest SE {100 * float(np.max(shares.se)):.1f} points"
    only = "only " if shares.n < 2 * MIN_AGES else ""
    return (
        f"from {only}{shares.n:,} placements, all in one band: the other bands together "
        f"hold under {min(3 / shares.n, 1):.0%} of such placements (95%, rule of three)"
    )
