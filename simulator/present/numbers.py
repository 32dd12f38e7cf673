"""How every number a person reads is written: £ figures, percentages, counts, uncertain values.

The one home of number formatting: the console tables, ``overspend
validate``, the charts, the report and the sensitivity tables all write their
numbers with these functions, so they never disagree. Printed documents
(charts, report) use a true minus sign (U+2212); console text uses the ASCII
hyphen, which every terminal shows.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

#: The minus sign of printed documents.
MINUS = "\u2212"


# ------------------------------------------------------------------ money


def money_m(x: float, decimals: int = 1, minus: str = MINUS) -> str:
    """GBP as £m, e.g. ``£12.3m`` or ``−£0.4m``; ``n/a`` for a missing value.

    The sign shows only when the rounded figure is below zero (``£0.0m``, never
    ``−£0.0m``).
    """
    if not np.isfinite(x):
        return "n/a"
    text = f"£{abs(x) / 1e6:,.{decimals}f}m"
    return (minus + text) if round(x / 1e6, decimals) < 0 else text


def gbp_m(x: float) -> str:
    """Console money: £m to one decimal with an ASCII minus, e.g. ``-£0.4m``."""
    return money_m(x, 1, "-")


def money_text(x: float, decimals: int = 1) -> str:
    """Printed money: £m with ``decimals`` places and a true minus sign, e.g. ``−£1.5m``."""
    return money_m(x, decimals, MINUS)


def signed_money(x: float) -> str:
    """Printed money with an explicit sign: ``+£9.6m`` over, ``−£1.2m`` under budget."""
    text = money_text(x)
    return text if text.startswith(MINUS) or round(x / 1e6, 1) == 0 else "+" + text


def money_k_or_m(x: float) -> str:
    """Console money as £m, or as £k under £0.05m so small standard errors still show."""
    if np.isfinite(x) and abs(x) < 0.05e6:
        text = f"£{abs(x) / 1e3:,.0f}k"
        return ("-" + text) if round(x / 1e3) < 0 else text
    return gbp_m(x)


def signed_k_or_m(x: float) -> str:
    """:func:`money_k_or_m` with a ``+`` on increases (``0`` for none)."""
    if x == 0:
        return "0"
    return money_k_or_m(x) if x < 0 else "+" + money_k_or_m(x)


def gbp(x: float, minus: str = MINUS) -> str:
    """An amount in words: in £m from £1m up, else in whole pounds, e.g. ``£1,250``."""
    return money_m(x, 1, minus) if abs(x) >= 1e6 else f"£{x:,.0f}"


def by_year(money, years: list[str], fmt: Callable[[float], str] = gbp) -> str:
    """An amount that may differ by year: ``£1.2m a year`` or ``£1.2m in 2024/25, ...``."""
    if money.every_year is not None:
        return f"{fmt(money.every_year)} a year"
    return ", ".join(f"{fmt(money.table[y])} in {y}" for y in years if y in money.table)


# ------------------------------------------------------------------ chances and rates


def pct_text(p: float) -> str:
    """A probability as a whole percentage, never rounding to a false 0% or 100%."""
    if 0 < p < 0.005:
        return "<1%"
    if 0.995 < p < 1:
        return ">99%"
    return f"{p * 100:.0f}%"


def pct_table(p: float) -> str:
    """A probability for a console table: whole percent, one decimal near 0% and 100%."""
    return f"{p * 100:.0f}%" if 0.005 <= p <= 0.995 or p in (0.0, 1.0) else f"{p * 100:.1f}%"


def pct_whole(p: float) -> str:
    """A probability or change in it as a plain whole percentage, e.g. ``73%``."""
    return f"{p * 100:.0f}%"


def pct1(x: float, minus: str = MINUS) -> str:
    """A rate as a percentage to one decimal, e.g. ``6.0%`` or ``−3.8%``."""
    return f"{x * 100:.1f}%".replace("-", minus)


# ------------------------------------------------------------------ counts and uncertain values


def count(x: float, digits: int = 2) -> str:
    """A count or a number of weeks: whole from 10 up, else to ``digits`` significant figures."""
    return f"{x:,.0f}" if abs(x) >= 10 else f"{x:.{digits}g}"


def uncertain(p, fmt: Callable[[float], str], unit: str = "") -> str:
    """A config value in words: ``6.0% a year (80% between 2.2% and 9.8%)`` or ``6.0% a year``."""
    if not p.is_uncertain:
        return f"{fmt(p.median())}{unit}"
    lo, hi = p.ppf(np.array([0.1, 0.9]))
    return f"{fmt(p.median())}{unit} (80% between {fmt(lo)} and {fmt(hi)})"
