"""How the report writes numbers in words: chances, amounts, counts and uncertain values.

The phrases here are the report's own; the numbers in them are written by
:mod:`simulator.present.numbers`, the one home of number formatting.
"""

from __future__ import annotations

import numpy as np

from simulator.present.numbers import money_text, pct_text


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
