"""The numbers the what-if page shows, with Monte Carlo standard errors.

For one result row and financial year, of the base case and the what-if on
the same draws: the chance of overspend, the mean and median overspend, the
1-in-10 bad case (the 90th percentile) and the reserve for 90% confidence
(that percentile, none when it is an underspend, as
:mod:`simulator.results.reserve` defines it).

Standard errors: a chance's is sqrt(p (1 - p) / n) and a mean's sd / sqrt(n);
a percentile's comes from order statistics
(:func:`simulator.results.summary.quantile_se`). The differences are paired
(both cases on the same draws), so their standard errors are those of the
paired differences actually observed: for chances and means the sample
standard deviation of the per-draw differences over sqrt(n), as ``overspend
compare`` reports; for a percentile, the same applied to each draw's
influence on it (the Bahadur representation: q_hat - q ~ mean of
(tau - 1{x_i <= q}) / f(q)), with 1 / f(q) read off the order-statistic
standard error. A what-if that moves every draw by the same amount moves the
percentiles by exactly that amount, with a standard error of zero.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simulator.model.equations import Plan
from simulator.results.summary import quantile_se

#: The bad case shown: the overspend exceeded in 1 future in 10.
BAD_CASE = 0.9

#: Confidence of the reserve shown.
RESERVE_LEVEL = 0.9

#: How many drivers the page lists.
TOP_DRIVERS = 3


@dataclass(frozen=True)
class Measure:
    """One figure of the base case and the what-if, with standard errors (GBP or fraction)."""

    name: str
    kind: str  # "chance" or "money"
    base: float
    base_se: float
    what_if: float
    what_if_se: float
    diff: float
    diff_se: float


def _se_of_mean(x: np.ndarray) -> float:
    return float(np.std(x, ddof=1) / np.sqrt(x.size)) if x.size > 1 else float("nan")


def _chance(name: str, base: np.ndarray, what_if: np.ndarray) -> Measure:
    b, w = (base > 0).astype(float), (what_if > 0).astype(float)
    n = b.size
    pb, pw = float(b.mean()), float(w.mean())
    return Measure(
        name, "chance", pb, float(np.sqrt(pb * (1 - pb) / n)), pw,
        float(np.sqrt(pw * (1 - pw) / n)), pw - pb, _se_of_mean(w - b),
    )  # fmt: skip


def _mean(name: str, base: np.ndarray, what_if: np.ndarray) -> Measure:
    mb, mw = float(base.mean()), float(what_if.mean())
    return Measure(
        name, "money", mb, _se_of_mean(base), mw, _se_of_mean(what_if), mw - mb,
        _se_of_mean(what_if - base),
    )  # fmt: skip


def quantile_influence(x: np.ndarray, tau: float) -> tuple[float, float, np.ndarray]:
    """The ``tau``-quantile of ``x``, its standard error, and each draw's influence on it.

    Returns
    -------
    (float, float, numpy.ndarray)
        The quantile (``numpy.quantile``'s default), its order-statistic
        standard error, and (tau - 1{x_i <= q}) / f(q) for each draw, whose
        mean over n draws the quantile's error follows to first order.
    """
    q = float(np.quantile(x, tau))
    se = float(quantile_se(x, tau))
    inverse_density = se * np.sqrt(x.size) / np.sqrt(tau * (1 - tau))
    return q, se, (tau - (x <= q)) * inverse_density


def _quantile(
    name: str, base: np.ndarray, what_if: np.ndarray, tau: float, floor: bool = False
) -> Measure:
    qb, seb, ib = quantile_influence(base, tau)
    qw, sew, iw = quantile_influence(what_if, tau)
    diff_se = _se_of_mean(iw - ib)
    if floor:  # a reserve: none when the quantile is an underspend
        qb, qw = max(qb, 0.0), max(qw, 0.0)
        if qb == qw == 0.0:
            diff_se = 0.0
    return Measure(name, "money", qb, seb, qw, sew, qw - qb, diff_se)


def measures(base: np.ndarray, what_if: np.ndarray) -> list[Measure]:
    """The page's figures for one row and year.

    Parameters
    ----------
    base, what_if : numpy.ndarray
        Overspend of each draw (GBP), the same draws in both.

    Returns
    -------
    list of Measure
        Chance of overspend, median, 1-in-10 bad case, reserve for 90%
        confidence, mean.
    """
    return [
        _chance("Chance of overspend", base, what_if),
        _quantile("Median overspend", base, what_if, 0.5),
        _quantile("1-in-10 bad case (90th percentile)", base, what_if, BAD_CASE),
        _quantile("Reserve for 90% confidence", base, what_if, RESERVE_LEVEL, floor=True),
        _mean("Mean overspend", base, what_if),
    ]


# ------------------------------------------------------------------ drivers


@dataclass(frozen=True)
class Driver:
    """One of the things that drive a row's risk, and how much."""

    label: str
    share: float  # share of the variance (a budget line) or squared rank correlation (an input)
    kind: str  # "line" or "input"


def row_index(plan: Plan, key: str) -> int:
    """The index of result row ``key`` in ``plan.groups``."""
    return [g.key for g in plan.groups].index(key)


def line_drivers(plan: Plan, overspend: np.ndarray, g: int, y: int) -> list[Driver]:
    """The budget lines of an aggregate row by their share of its variance.

    Cov(line, row) / Var(row) for each member line: the shares add to one (as
    the report's drivers chart, :func:`simulator.present.charts.stats.drivers_data`).
    """
    row = overspend[:, g, y]
    centred = row - row.mean()
    var = float(np.mean(centred**2))
    index = {grp.key: k for k, grp in enumerate(plan.groups)}
    found = []
    for s in plan.groups[g].members:
        line = overspend[:, index[plan.keys[s]], y]
        share = float(np.mean((line - line.mean()) * centred) / var) if var > 0 else 0.0
        found.append(Driver(plan.groups[index[plan.keys[s]]].label, share, "line"))
    return sorted(found, key=lambda d: -d.share)[:TOP_DRIVERS]


def _ranks(x: np.ndarray) -> np.ndarray:
    return np.argsort(np.argsort(x, axis=0, kind="stable"), axis=0, kind="stable").astype(float)


def input_drivers(
    plan: Plan, overspend: np.ndarray, inputs: np.ndarray, g: int, y: int, labels: dict[str, str]
) -> list[Driver]:
    """A single line's uncertain inputs by their squared rank correlation with its overspend."""
    from simulator.config.inputs import input_label

    row = _ranks(overspend[:, g, y])
    found = []
    for k, inp in enumerate(plan.inputs):
        x = inputs[:, k]
        if np.ptp(x) == 0 or np.ptp(row) == 0:
            continue
        rho = float(np.corrcoef(_ranks(x), row)[0, 1])
        if rho * rho >= 0.01:  # below 1%: not a driver worth a line
            found.append(Driver(input_label(inp.name, labels), rho * rho, "input"))
    return sorted(found, key=lambda d: -d.share)[:TOP_DRIVERS]


def drivers(
    plan: Plan, overspend: np.ndarray, inputs: np.ndarray, key: str, y: int, labels: dict[str, str]
) -> list[Driver]:
    """The top drivers of row ``key`` in year index ``y``: lines for a total, inputs for a line."""
    g = row_index(plan, key)
    if len(plan.groups[g].members) > 1:
        return line_drivers(plan, overspend, g, y)
    return input_drivers(plan, overspend, inputs, g, y, labels)
