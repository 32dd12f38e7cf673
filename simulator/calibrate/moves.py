"""Moves between services (step-ups and step-downs) fitted from SSDA903 episodes.

A child whose episode ends with REC X1 (care continues) and whose next episode,
starting that day, is a change of placement (RNE P, or B: placement and legal
status) in another service has *moved* between services: the loader marks the
pair on the two placements (``moved_to``, ``moved_from``; see :mod:`.ssda903`).

The engine moves each open placement of service p to service q at a constant
rate per year while it is open (``services.p.moves.q.per_year``). Its maximum
likelihood estimate from the records is a Poisson rate: the moves p -> q made
while the records are complete, over the years of open placement time in p
then (the exposure). With k moves the estimate is k / exposure and its
relative standard error 1 / sqrt(k), whatever the exposure, which is what the
config's lognormal carries (as for every calibrated rate).

Only pairs with at least :data:`MIN_MOVES` moves are modelled as moves, and
only as many as form no circle (the engine refuses a circle of moves: a
step-up and the step-down back cannot both be moves); the others stay an end
in one service and a new arrival in the other, as before. Which pairs are
modelled decides how the services' other figures are fitted
(:func:`~.calibration.calibrate_service`): a modelled move is taken out of the
destination's arrivals and counts as censoring, not an end, in the source's
lengths.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .records import day_numbers

#: Fewest moves between two services for them to be written as a move. With k moves the
#: rate's relative SE is 1 / sqrt(k): from 10 on it is under a third, and the written
#: lognormal is close to the Poisson likelihood. A smaller flow changes the destination's
#: spend little whether it is simulated as a move or as an end and a new arrival, which is
#: how it is kept.
MIN_MOVES = 10
DAYS_PER_YEAR = 365.25


@dataclass(frozen=True)
class MoveFit:
    """The fitted rate of moves from one service to another.

    Attributes
    ----------
    source, dest : str
        Service keys: the placements move from ``source`` to ``dest``.
    moves : int
        Moves while the records are complete (from ``first`` to ``last``).
    exposure_years : float
        Years of open placement time in ``source`` over that period.
    first, last : int
        The period, days since 1970-01-01.
    modelled : bool
        Whether the config writes it as a move (enough moves, and no circle).
    why : str
        When not modelled, why not, in words.
    """

    source: str
    dest: str
    moves: int
    exposure_years: float
    first: int
    last: int
    modelled: bool = True
    why: str = ""

    @property
    def per_year(self) -> float:
        """Moves per placement-year (maximum likelihood)."""
        return self.moves / self.exposure_years if self.exposure_years > 0 else math.nan

    @property
    def se(self) -> float:
        """Standard error of :attr:`per_year` (Poisson: sqrt(moves) / exposure)."""
        return math.sqrt(self.moves) / self.exposure_years if self.exposure_years > 0 else math.nan

    @property
    def log_se(self) -> float:
        """Relative standard error, the written lognormal's log-scale sd: 1 / sqrt(moves)."""
        return 1.0 / math.sqrt(self.moves) if self.moves > 0 else math.nan


def exposure_years(
    start: np.ndarray, stop: np.ndarray, first: int, last: int
) -> float:  # fmt: skip
    """Years of placement time inside the days ``first`` to ``last`` (inclusive).

    Parameters
    ----------
    start, stop : numpy.ndarray
        Days since 1970-01-01: each placement is open from ``start`` up to, not
        including, ``stop`` (its end, or the day after the last day it is known open).
    first, last : int

    Returns
    -------
    float
    """
    lo = np.maximum(start, first)
    hi = np.minimum(stop, last + 1)
    return float(np.clip(hi - lo, 0.0, None).sum() / DAYS_PER_YEAR)


def open_until(placements: pd.DataFrame, as_of: int, keep_stale: bool) -> np.ndarray:
    """The day after each placement was last known open: its end, ``as_of + 1`` while open,
    or the end of its last return for a stale open one (unless ``keep_stale``)."""
    end = day_numbers(placements["end"])
    stop = np.where(np.isfinite(end) & (end <= as_of), end, as_of + 1.0)
    if not keep_stale and "last_seen" in placements.columns:
        seen = day_numbers(placements["last_seen"])
        stale = np.isfinite(seen) & (seen < as_of) & ~np.isfinite(end)
        stop = np.where(stale, seen + 1.0, stop)
    return stop


def count_moves(
    placements: pd.DataFrame,
    services: list[str],
    as_of: int,
    observed_from: dict[str, int],
    keep_stale: bool = False,
) -> list[MoveFit]:
    """Moves between the ``services`` and their exposures, while each source is complete.

    Parameters
    ----------
    placements : pandas.DataFrame
        The records' placements (with ``moved_to``; without it there are no moves).
    services : list of str
        Services that can take part (those being calibrated).
    as_of : int
        Moves after it are not yet known.
    observed_from : dict of str to int
        By service: first day of complete records.
    keep_stale : bool
        As in :func:`~.calibration.calibrate`: stale open placements count as open
        to the as-of date rather than to the end of their last return.

    Returns
    -------
    list of MoveFit
        One per pair with at least one move, all marked modelled; most moves first.
    """
    if "moved_to" not in placements.columns:
        return []
    moved_to = placements["moved_to"].fillna("").astype(str)
    start = day_numbers(placements["start"])
    end = day_numbers(placements["end"])
    stop = open_until(placements, as_of, keep_stale)
    fits = []
    for source in services:
        mine = (placements["service"] == source).to_numpy() & (start <= as_of)
        first = observed_from[source]
        exposure = exposure_years(start[mine], stop[mine], first, as_of)
        moving = mine & (end >= first) & (end <= as_of) & moved_to.isin(services).to_numpy()
        for dest, k in sorted(pd.Series(moved_to[moving]).value_counts().items()):
            fits.append(MoveFit(source, dest, int(k), exposure, first, as_of))
    return sorted(fits, key=lambda f: (-f.moves, f.source, f.dest))


def choose_moves(fits: list[MoveFit], min_moves: int = MIN_MOVES) -> list[MoveFit]:
    """Mark the pairs to write as moves: enough of them, most moves first, and no circle.

    A pair that would close a circle with those already chosen (a step-down back
    after a step-up, or a longer loop) is left as an end and an arrival, as the
    engine refuses a circle of moves.

    Returns
    -------
    list of MoveFit
        The same pairs in the same order, each marked ``modelled`` or not with ``why``.
    """
    onward: dict[str, set[str]] = {}
    out = []
    for fit in fits:
        if fit.moves < min_moves:
            why = (
                f"only {fit.moves} move{'s' if fit.moves != 1 else ''} (under {min_moves}): "
                "kept as an end and a new arrival"
            )
            out.append(_not_modelled(fit, why))
        elif _reaches(onward, fit.dest, fit.source):
            why = (
                f"it would close a circle of moves with {fit.dest} -> ... -> {fit.source}, "
                "which has more moves: kept as an end and a new arrival"
            )
            out.append(_not_modelled(fit, why))
        else:
            onward.setdefault(fit.source, set()).add(fit.dest)
            out.append(fit)
    return out


def _not_modelled(fit: MoveFit, why: str) -> MoveFit:
    return MoveFit(
        fit.source, fit.dest, fit.moves, fit.exposure_years, fit.first, fit.last, False, why
    )


def _reaches(onward: dict[str, set[str]], frm: str, to: str) -> bool:
    """Whether ``to`` can be reached from ``frm`` by the chosen moves (``frm == to`` counts)."""
    seen, stack = set(), [frm]
    while stack:
        here = stack.pop()
        if here == to:
            return True
        if here not in seen:
            seen.add(here)
            stack.extend(onward.get(here, ()))
    return False


def modelled_pairs(fits: list[MoveFit]) -> set[tuple[str, str]]:
    """The (source, destination) pairs written as moves."""
    return {(f.source, f.dest) for f in fits if f.modelled}
