"""How the report writes numbers in words: chances, amounts, counts and uncertain values.

These formatters are the report's own (the charts have theirs in
:mod:`simulator.present.charts`); the headline sentences, the summary table and
the "Key assumptions" section all write their numbers with them.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from simulator.present.charts import money_text, pct_text


def article(pct: str) -> str:
    """'a' or 'an' before a spoken percentage ("an 8%", "an 11%", "an 80%")."""
    digits = pct.lstrip("<>")
    return "an" if digits.startswith("8") or digits.startswith(("11%", "18%")) else "a"


def chance(p: float) -> str:
    """A probability strictly between 0 and 1 in words, e.g. "a 73% chance"."""
    pct = pct_text(p)
    if pct.startswith("<"):
        return "less than a 1% chance"
    if pct.startswith(">"):
        return "more than a 99% chance"
    return f"{article(pct)} {pct} chance"


def se_text(se: float) -> str:
    """A standard error in £m to two decimals, never a misleading £0.00m."""
    if not np.isfinite(se):
        return "n/a"
    return "<£0.01m" if se < 5e3 else money_text(se, 2)


def param(p, fmt: Callable[[float], str], unit: str = "") -> str:
    """A config value in words: "6.0% a year (80% between 2.2% and 9.8%)" or "6.0% a year"."""
    if not p.is_uncertain:
        return f"{fmt(p.median())}{unit}"
    lo, hi = p.ppf(np.array([0.1, 0.9]))
    return f"{fmt(p.median())}{unit} (80% between {fmt(lo)} and {fmt(hi)})"


def pct1(x: float) -> str:
    """A rate as a percentage to one decimal, with a true minus sign, e.g. "6.0%"."""
    return f"{x * 100:.1f}%".replace("-", "\u2212")


def gbp(x: float) -> str:
    """An amount: in £m from £1m up, else in whole pounds, e.g. "£1,250"."""
    return money_text(x) if abs(x) >= 1e6 else f"£{x:,.0f}"


def count(x: float) -> str:
    """A count or a number of weeks: whole from 10 up, else to two significant figures."""
    return f"{x:,.0f}" if abs(x) >= 10 else f"{x:.2g}"


def by_year(money, years: list[str]) -> str:
    """A config amount that may differ by year: "£1.2m a year" or "£1.2m in 2024/25, ..."."""
    if money.every_year is not None:
        return f"{gbp(money.every_year)} a year"
    return ", ".join(f"{gbp(money.table[y])} in {y}" for y in years if y in money.table)
