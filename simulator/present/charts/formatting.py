"""Text of the charts' numbers: £m amounts, percentages, dates and the £m axis ticks.

Every chart writes money as £m with a true minus sign and probabilities as whole
percentages that never round to a false 0% or 100%; :class:`MoneyFormatter`
gives axis ticks the fewest decimals that show each tick exactly.
"""

from __future__ import annotations

import datetime as dt
import textwrap

import numpy as np
from matplotlib.ticker import Formatter, MaxNLocator

from simulator.present.numbers import money_text, pct_text, round_half_away, signed_money

__all__ = ["money_text", "pct_text", "signed_money"]  # re-exported for the chart modules


class MoneyFormatter(Formatter):
    """Axis ticks in £m with the fewest decimals that show every tick exactly."""

    def __init__(self) -> None:
        self._decimals: int | None = None

    def set_locs(self, locs) -> None:
        """Choose the decimals once for all the ticks (they depend on every tick value)."""
        self._decimals = self._fewest_decimals(np.asarray(locs, dtype=float))
        super().set_locs(locs)

    @staticmethod
    def _fewest_decimals(values: np.ndarray) -> int:
        millions = values / 1e6
        for decimals in range(3):
            if np.all(np.abs(np.round(millions, decimals) - millions) < 1e-9):
                return decimals
        return 3

    def __call__(self, x: float, pos: int | None = None) -> str:
        decimals = self._decimals
        if decimals is None:
            decimals = self._fewest_decimals(np.array([x], dtype=float))
        return money_text(x, decimals)


def money_axis(axis, nbins: int = 7) -> None:
    """Put £m ticks at round steps (1, 2, 5, 10 and their powers of ten) on ``axis``."""
    axis.set_major_locator(MaxNLocator(nbins=nbins, steps=[1, 2, 5, 10]))
    axis.set_major_formatter(MoneyFormatter())


def chart_decimals(scale: float) -> int:
    """Decimals for £m labels on a chart whose amounts are of size ``scale`` (GBP).

    One decimal (£0.1m) from £2m up; two below, where £0.1m steps would hide the answer.
    """
    return 1 if abs(scale) >= 2e6 else 2


def p90_phrase(p90: float, decimals: int = 1) -> str:
    """The 1-in-10 worst outcome in words, for overspends and underspends alike.

    Parameters
    ----------
    p90 : float
        90th percentile of overspend (GBP; negative is an underspend).
    decimals : int
        Decimals of the £m amount.
    """
    if round_half_away(p90 / 1e6, decimals) > 0:
        return f"1 in 10 chance of more than {money_text(p90, decimals)} over budget"
    if round_half_away(p90 / 1e6, decimals) < 0:
        return f"1 in 10 chance of an underspend smaller than {money_text(-p90, decimals)}"
    # Not "a 1 in 10 chance of any overspend": the chance of that is the measured one.
    return f"90th percentile on budget (within £{0.5 * 10**-decimals:g}m)"


def wrap(text: str, width: int) -> str:
    """``text`` broken into lines of at most ``width`` characters."""
    return "\n".join(textwrap.wrap(text, width)) if text else text


def date_text(iso: str | None) -> str:
    """An ISO date or time as words, e.g. ``24 November 2026``."""
    try:
        when = dt.datetime.fromisoformat(str(iso))
    except ValueError:
        return "date unknown"
    return f"{when.day} {when:%B %Y}"
