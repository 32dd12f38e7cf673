"""How every number a person reads is written: £ figures, percentages, counts, uncertain values.

The one home of number formatting: the console tables, ``overspend
validate``, the charts, the report and the sensitivity tables all write their
numbers with these functions, so they never disagree. Printed documents
(charts, report) use a true minus sign (U+2212); console text uses the ASCII
hyphen, which every terminal shows.

One rounding rule everywhere: halves away from zero, as people round
(£1.25m is £1.3m and £2.75m is £2.8m; Python's own formatting rounds halves to
even). A negative amount that rounds to zero keeps its sign (``-£0.0m``), and
a probability never shows a false 0% or 100%.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal

import numpy as np


def round_half_away(x: float, decimals: int = 0) -> float:
    """``x`` to ``decimals`` places, halves away from zero, judged on its shortest decimal form."""
    step = Decimal(1).scaleb(-decimals)
    return float(Decimal(repr(float(x))).quantize(step, rounding=ROUND_HALF_UP))


def fixed(x: float, decimals: int = 0, sign: bool = False, grouping: bool = False) -> str:
    """``x`` with ``decimals`` places, rounded halves away from zero (``+`` shown if ``sign``)."""
    spec = f"{'+' if sign else ''}{',' if grouping else ''}.{decimals}f"
    value = round_half_away(x, decimals)
    return format(value if value != 0 else 0.0 * np.sign(x) + 0.0, spec)


#: The minus sign of printed documents.
MINUS = "\u2212"


# ------------------------------------------------------------------ money


def money_m(x: float, decimals: int = 1, minus: str = MINUS) -> str:
    """GBP as £m, e.g. ``£12.3m`` or ``−£0.4m``; ``n/a`` for a missing value.

    A negative amount keeps its sign even when it rounds to zero (``−£0.0m``
    beside an 80% chance of overspend must not read as nothing).
    """
    if not np.isfinite(x):
        return "n/a"
    text = f"£{fixed(abs(x) / 1e6, decimals, grouping=True)}m"
    return (minus + text) if x < 0 else text


def gbp_m(x: float) -> str:
    """Console money: £m to one decimal with an ASCII minus, e.g. ``-£0.4m``."""
    return money_m(x, 1, "-")


def money_text(x: float, decimals: int = 1) -> str:
    """Printed money: £m with ``decimals`` places and a true minus sign, e.g. ``−£1.5m``."""
    return money_m(x, decimals, MINUS)


def signed_money(x: float) -> str:
    """Printed money with an explicit sign: ``+£9.6m`` over, ``−£1.2m`` under budget."""
    text = money_text(x)
    return text if text.startswith(MINUS) or round_half_away(x / 1e6, 1) == 0 else "+" + text


def money_k_or_m(x: float) -> str:
    """Console money as £m, or as £k under £0.05m so small standard errors still show."""
    if np.isfinite(x) and abs(x) < 0.05e6:
        text = f"£{fixed(abs(x) / 1e3, grouping=True)}k"
        return ("-" + text) if x < 0 else text
    return gbp_m(x)


def signed_k_or_m(x: float) -> str:
    """:func:`money_k_or_m` with a ``+`` on increases (``0`` for none)."""
    if x == 0:
        return "0"
    return money_k_or_m(x) if x < 0 else "+" + money_k_or_m(x)


def money_unit(values, minus: str = "-") -> Callable[[float], str]:
    """One money unit for a whole table of ``values`` (GBP): £m, or £k when all are small.

    £m to one decimal, or to two when the smallest non-zero amount would round
    to £0.0m; £k when every amount is under £0.05m. So a table never mixes
    units ("one money unit per table").
    """
    finite = np.abs(np.asarray(values, float))
    finite = finite[np.isfinite(finite) & (finite > 0)]
    if finite.size and finite.max() < 0.05e6:

        def k(x: float) -> str:
            if not np.isfinite(x):
                return "n/a"
            text = f"£{fixed(abs(x) / 1e3, grouping=True)}k"
            return (minus + text) if x < 0 else text

        return k
    decimals = 2 if finite.size and finite.min() < 0.05e6 else 1
    return lambda x: money_m(x, decimals, minus)


def gbp(x: float, minus: str = MINUS) -> str:
    """An amount in words: in £m from £1m up, else in whole pounds, e.g. ``£1,250``."""
    return money_m(x, 1, minus) if abs(x) >= 1e6 else f"£{fixed(x, grouping=True)}"


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
    if 0.995 <= p < 1:
        return ">99%"
    return f"{fixed(p * 100)}%"


def pct_table(p: float) -> str:
    """A probability for a console table: whole percent, one decimal near 0% and 100%.

    Never a false ``0.0%`` or ``100.0%``: ``<0.1%`` and ``>99.9%`` instead.
    """
    if 0 < p < 0.0005:
        return "<0.1%"
    if 0.9995 <= p < 1:
        return ">99.9%"
    if 0.005 <= p <= 0.995 or p in (0.0, 1.0):
        return f"{fixed(p * 100)}%"
    return f"{fixed(p * 100, 1)}%"


def pct_whole(p: float) -> str:
    """A probability or change in it as a plain whole percentage, e.g. ``73%``."""
    return f"{fixed(p * 100)}%"


def pct1(x: float, minus: str = MINUS) -> str:
    """A rate as a percentage to one decimal, e.g. ``6.0%`` or ``−3.8%``."""
    return f"{fixed(x * 100, 1)}%".replace("-", minus)


# ------------------------------------------------------------------ counts and uncertain values


def count(x: float, digits: int = 2) -> str:
    """A count or a number of weeks: whole from 10 up, else to ``digits`` significant figures."""
    return fixed(x, grouping=True) if abs(x) >= 10 else f"{x:.{digits}g}"


def uncertain(p, fmt: Callable[[float], str], unit: str = "") -> str:
    """A config value in words: ``6.0% a year (80% between 2.2% and 9.8%)`` or ``6.0% a year``."""
    if not p.is_uncertain:
        return f"{fmt(p.median())}{unit}"
    lo, hi = p.ppf(np.array([0.1, 0.9]))
    return f"{fmt(p.median())}{unit} (80% between {fmt(lo)} and {fmt(hi)})"
