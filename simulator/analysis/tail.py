"""What drives the worst outcomes: each budget line's part in the total's worst futures.

For one financial year, take the draws in which the total overspend is in its
worst ``tail`` (default 1 in 10, at or above its 90th percentile). Since the
total is the sum of the lines, the lines' mean overspends in those draws add up
to the total's mean there: each line's *expected share of the overspend in the
worst futures*, set against its share on average. With them, the placements
behind them: how many more placements started in the year in those futures than
on average (new arrivals above trend), how many high-cost placements were open
and how many planned end dates were extended (counted by the kernel), and each
line's own worst 1 in 10 (its mean overspend at or above its own 90th percentile).

Everything is read from the simulated draws; nothing is simulated again.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xarray as xr

#: The share of the worst futures looked at.
TAIL = 0.1


@dataclass(frozen=True)
class TailLine:
    """One budget line in the total's worst futures of one year (money in GBP).

    Attributes
    ----------
    mean_overspend, tail_overspend : float
        The line's mean overspend over all futures, and in the total's worst ones.
    share_average, share_tail : float
        Those as shares of the total's (NaN when the total's is not an overspend).
    arrivals_average, arrivals_tail : float
        Mean new placements started in the year, over all futures and in the worst
        (NaN for lines without placements).
    own_tail_overspend, own_arrivals_tail : float
        The line's mean overspend, and new placements, in its own worst ``tail``
        of futures (NaN placements for lines without them).
    high_cost_average, high_cost_tail : float
        Mean high-cost placements open in the year, over all futures and in the
        total's worst (NaN for lines without placements or results without them).
    extended_average, extended_tail : float
        The same for snapshot placements whose planned end was extended.
    """

    service: str
    label: str
    mean_overspend: float
    tail_overspend: float
    share_average: float
    share_tail: float
    arrivals_average: float
    arrivals_tail: float
    own_tail_overspend: float
    own_arrivals_tail: float
    high_cost_average: float = float("nan")
    high_cost_tail: float = float("nan")
    extended_average: float = float("nan")
    extended_tail: float = float("nan")


@dataclass(frozen=True)
class TailAttribution:
    """The lines in the total's worst futures of one year, largest tail overspend first."""

    financial_year: str
    tail: float
    draws_in_tail: int
    total_mean: float
    total_tail_mean: float
    lines: list[TailLine]


def _year_arrivals(ds: xr.Dataset, keys: list[str], year: str) -> np.ndarray | None:
    """New placements started in ``year`` by draw and line, shape (draws, lines); None without."""
    if "arrivals" not in ds or "month_financial_year" not in ds.coords:
        return None
    months = np.flatnonzero(ds["month_financial_year"].values == year)
    rows = [int(np.flatnonzero(ds["service"].values == k)[0]) for k in keys]
    got = ds["arrivals"].isel(service=rows, month=months).transpose("draw", "service", "month")
    return got.values.sum(axis=2)


def _year_counts(ds: xr.Dataset, name: str, keys: list[str], year: str) -> np.ndarray | None:
    """A yearly count by draw and line, shape (draws, lines); None in results without it."""
    if name not in ds:
        return None
    return ds[name].sel(service=keys, financial_year=year).transpose("draw", "service").values


def _means(counts: np.ndarray | None, j: int, worst: np.ndarray, placements: bool):
    """(mean over all futures, mean over the worst) of column j, NaN where there is none."""
    if counts is None or not placements:
        return float("nan"), float("nan")
    return float(counts[:, j].mean()), float(counts[worst, j].mean())


def _share(part: float, whole: float) -> float:
    return part / whole if whole > 0 else float("nan")


def tail_attribution(ds: xr.Dataset, year: str, tail: float = TAIL) -> TailAttribution:
    """Each budget line's part in the total's worst ``tail`` of futures in ``year``.

    Parameters
    ----------
    ds : xarray.Dataset
        Results, with ``overspend`` (and ``arrivals`` for the placements behind).
    year : str
        Financial year label.
    tail : float
        Share of the worst futures (default 1 in 10).

    Returns
    -------
    TailAttribution
        The lines' tail overspends add up to ``total_tail_mean`` (the total is
        the sum of the lines), up to rounding in the last bits.
    """
    kinds = ds["service_type"].values
    keys = [  # the budget lines: neither department subtotals nor the total
        str(k) for k, t in zip(ds["service"].values, kinds, strict=True)
        if t not in ("department", "total")
    ]  # fmt: skip
    labels = dict(
        zip(ds["service"].values.astype(str), ds["service_label"].values.astype(str), strict=True)
    )
    over = ds["overspend"].sel(financial_year=year)
    lines = over.sel(service=keys).transpose("draw", "service").values
    total = over.sel(service="total").values
    worst = total >= np.quantile(total, 1 - tail)
    arrivals = _year_arrivals(ds, keys, year)
    high_cost = _year_counts(ds, "high_cost_open", keys, year)
    extended = _year_counts(ds, "extended", keys, year)
    placements = {
        str(k): t == "placements" for k, t in zip(ds["service"].values, kinds, strict=True)
    }
    total_mean, total_tail = float(total.mean()), float(total[worst].mean())
    found = []
    for j, key in enumerate(keys):
        own = lines[:, j]
        own_worst = own >= np.quantile(own, 1 - tail)
        has_arrivals = arrivals is not None and arrivals[:, j].any()
        high = _means(high_cost, j, worst, placements.get(key, False))
        ext = _means(extended, j, worst, placements.get(key, False))
        found.append(TailLine(
            service=key,
            label=str(labels[key]),
            mean_overspend=float(own.mean()),
            tail_overspend=float(own[worst].mean()),
            share_average=_share(float(own.mean()), total_mean),
            share_tail=_share(float(own[worst].mean()), total_tail),
            arrivals_average=float(arrivals[:, j].mean()) if has_arrivals else float("nan"),
            arrivals_tail=float(arrivals[worst, j].mean()) if has_arrivals else float("nan"),
            own_tail_overspend=float(own[own_worst].mean()),
            own_arrivals_tail=float(arrivals[own_worst, j].mean()) if has_arrivals else float("nan"),
            high_cost_average=high[0],
            high_cost_tail=high[1],
            extended_average=ext[0],
            extended_tail=ext[1],
        ))  # fmt: skip
    found.sort(key=lambda t: -t.tail_overspend)
    return TailAttribution(year, tail, int(worst.sum()), total_mean, total_tail, found)


def tail_rows(t: TailAttribution) -> list[dict[str, object]]:
    """The attribution as plain rows (GBP, fractions, counts), for tables and sheets."""
    return [
        {
            "financial_year": t.financial_year,
            "service": line.service,
            "service_label": line.label,
            "mean_overspend_gbp": line.mean_overspend,
            "share_average": line.share_average,
            "worst_futures_overspend_gbp": line.tail_overspend,
            "share_worst_futures": line.share_tail,
            "arrivals_average": line.arrivals_average,
            "arrivals_worst_futures": line.arrivals_tail,
            "own_worst_overspend_gbp": line.own_tail_overspend,
            "arrivals_own_worst": line.own_arrivals_tail,
            "high_cost_open_average": line.high_cost_average,
            "high_cost_open_worst_futures": line.high_cost_tail,
            "extended_average": line.extended_average,
            "extended_worst_futures": line.extended_tail,
        }
        for line in t.lines
    ]
