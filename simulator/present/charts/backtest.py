"""Backtest charts: the track record and the calibration chart (``overspend backtest``).

- Track record: for each forecast origin, the fan of the forecast with what
  happened marked. Top, the monthly caseload (bands of 50%, 80% and 90%, the
  outcome as a black line through every month); bottom, the year's cost (the
  same bands as bars, the outcome as a vermilion diamond, the two naive
  forecasts as hollow markers).
- Calibration: nominal against observed coverage of the 50%, 80% and 90%
  ranges, every service and origin pooled, with exact 95% intervals (a
  well-calibrated forecast lies on the diagonal, within them), and the PIT
  histogram (flat for a well-calibrated forecast).

The data functions (:func:`track_record_data`, :func:`calibration_data`) are
separate from the drawing so tests can check the plotted numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

import matplotlib
import numpy as np
import xarray as xr
from matplotlib.figure import Figure, SubFigure

from simulator.present.charts.catalogue import Chart
from simulator.present.charts.formatting import date_text, money_axis
from simulator.present.charts.style import BUDGET_COLOUR, CHART_WIDTH, MEDIAN_HALO
from simulator.present.numbers import pct_whole

#: Central ranges drawn, widest first, and their colours (one hue, darker inside).
RANGES = (0.9, 0.8, 0.5)
RANGE_COLOURS = tuple(
    matplotlib.colors.to_hex(c) for c in matplotlib.colormaps["Blues"]([0.25, 0.45, 0.7])
)
OUTCOME_COLOUR = BUDGET_COLOUR
TARGET_MARKERS = {"caseload": "o", "new_placements": "s", "placement_days": "^", "cost": "D"}


@dataclass
class TrackRecord:
    """What the track record chart shows for one service (or the total).

    Attributes
    ----------
    label : str
    origins : list of str
        Financial years forecast, e.g. ``'2021/22'``.
    months : numpy.ndarray
        (origin, month) first days of the months (datetime64).
    caseload_bands : numpy.ndarray
        (origin, range, 2, month): lower and upper bounds of each range in :data:`RANGES`.
    caseload_median, caseload_actual : numpy.ndarray
        (origin, month).
    cost_bands : numpy.ndarray
        (origin, range, 2).
    cost_median, cost_actual : numpy.ndarray
        (origin,).
    cost_naive : numpy.ndarray
        (naive, origin).
    """

    label: str
    origins: list[str]
    months: np.ndarray
    caseload_bands: np.ndarray
    caseload_median: np.ndarray
    caseload_actual: np.ndarray
    cost_bands: np.ndarray
    cost_median: np.ndarray
    cost_actual: np.ndarray
    cost_naive: np.ndarray


def _bands(values: np.ndarray) -> np.ndarray:
    """(..., draw) -> (..., range, 2) bounds of the central ranges."""
    qs = [q for r in RANGES for q in ((1 - r) / 2, (1 + r) / 2)]
    out = np.nanquantile(values, qs, axis=-1)  # (2 * ranges, ...)
    out = np.moveaxis(out, 0, -1)
    return out.reshape(*out.shape[:-1], len(RANGES), 2)


def track_record_data(ds: xr.Dataset, service: str = "total") -> TrackRecord:
    """The numbers of the track record chart for ``service``."""
    one = ds.sel(service=service)
    case = one["forecast_caseload"].transpose("origin", "month", "draw").values
    cost = one["forecast"].sel(target="cost").transpose("origin", "draw").values
    return TrackRecord(
        label=str(one["service_label"].values),
        origins=[str(v) for v in ds["origin_year"].values],
        months=ds["month_start"].values,
        caseload_bands=np.moveaxis(_bands(case), 1, -1),
        caseload_median=np.nanmedian(case, axis=-1),
        caseload_actual=one["actual_caseload"].transpose("origin", "month").values,
        cost_bands=_bands(cost),
        cost_median=np.nanmedian(cost, axis=-1),
        cost_actual=one["actual"].sel(target="cost").values,
        cost_naive=one["naive_forecast"].sel(target="cost").transpose("naive", "origin").values,
    )


def _caption(ds: xr.Dataset) -> str:
    return (
        f"{ds.attrs.get('council', '')}: backtest of {ds.sizes['origin']} forecast origins, "
        f"{int(ds.attrs.get('draws', 0)):,} draws each (seed {ds.attrs.get('seed')}), "
        f"run {date_text(ds.attrs.get('created'))}."
    )


def draw_track_record(fig: Figure | SubFigure, ds: xr.Dataset, service: str = "total") -> None:
    """Draw the track record of ``service`` on ``fig``."""
    data = track_record_data(ds, service)
    top, bottom = fig.subplots(2, 1, height_ratios=[3, 2])
    for o in range(len(data.origins)):
        x = data.months[o]
        for r, colour in enumerate(RANGE_COLOURS):
            lo, hi = data.caseload_bands[o, r]
            top.fill_between(x, lo, hi, color=colour, lw=0, step=None,
                             label=f"{pct_whole(RANGES[r])} range" if o == 0 else None)  # fmt: skip
        top.plot(x, data.caseload_median[o], color="black", lw=1.2, path_effects=MEDIAN_HALO,
                 label="median forecast" if o == 0 else None)  # fmt: skip
        top.plot(x, data.caseload_actual[o], color=OUTCOME_COLOUR, lw=1.6, marker="o", ms=2.5,
                 label="what happened" if o == 0 else None)  # fmt: skip
    top.set_title(f"{data.label}: placements open at each month end, forecast from each 1 April")
    top.set_ylabel("placements")
    top.set_ylim(bottom=0)
    top.legend(loc="best", ncols=2)
    _draw_cost(bottom, data)
    fig.suptitle(f"Track record: {data.label}")
    fig.supxlabel(_caption(ds), fontsize=7, color="#555555")


def _draw_cost(ax, data: TrackRecord) -> None:
    x = np.arange(len(data.origins))
    widths = (3, 7, 12)
    for r, colour in enumerate(RANGE_COLOURS):
        lo, hi = data.cost_bands[:, r, 0], data.cost_bands[:, r, 1]
        ax.vlines(x, lo, hi, color=colour, lw=widths[r], label=f"{pct_whole(RANGES[r])} range")
    ax.scatter(x, data.cost_median, marker="_", s=150, color="black", zorder=3, label="median")
    ax.scatter(x, data.cost_actual, marker="D", s=30, color=OUTCOME_COLOUR, zorder=4,
               label="what happened")  # fmt: skip
    for n, (marker, name) in enumerate((("o", "last year held flat"), ("^", "last year + trend"))):
        ax.scatter(x + 0.22, data.cost_naive[n], marker=marker, s=22, facecolors="none",
                   edgecolors="#444444", zorder=3, label=name)  # fmt: skip
    ax.set_xticks(x, [f"{o}" for o in data.origins])
    ax.set_xlim(-0.6, len(x) - 0.4)
    ax.set_title("Cost of the year's placements, forecast from each 1 April")
    money_axis(ax.yaxis)
    ax.set_ylim(bottom=0)
    ax.legend(loc="best", fontsize=7, ncols=3)


@dataclass
class Calibration:
    """What the calibration chart shows.

    Attributes
    ----------
    levels : numpy.ndarray
        Nominal coverages.
    targets : list of str
    labels : list of str
    coverage, low, high : numpy.ndarray
        (target, level): observed coverage, pooled over services and origins,
        and its exact 95% interval.
    n : numpy.ndarray
        (target,) outcomes scored.
    pit : numpy.ndarray
        (target, bin) PIT histogram counts.
    """

    levels: np.ndarray
    targets: list[str]
    labels: list[str]
    coverage: np.ndarray
    low: np.ndarray
    high: np.ndarray
    n: np.ndarray
    pit: np.ndarray


def calibration_data(ds: xr.Dataset) -> Calibration:
    """The numbers of the calibration chart (the simulation's forecasts)."""
    sim = {"forecaster": "simulation"}
    return Calibration(
        levels=ds["level"].values,
        targets=[str(t) for t in ds["target"].values],
        labels=[str(t) for t in ds["target_label"].values],
        coverage=ds["coverage_all"].sel(sim).transpose("target", "level").values,
        low=ds["coverage_all_low"].sel(sim).transpose("target", "level").values,
        high=ds["coverage_all_high"].sel(sim).transpose("target", "level").values,
        n=ds["outcomes_scored_all"].values,
        pit=ds["pit_histogram_all"].transpose("target", "pit_bin").values,
    )


def draw_calibration(fig: Figure | SubFigure, ds: xr.Dataset) -> None:
    """Draw nominal against observed coverage, and the PIT histograms, on ``fig``."""
    data = calibration_data(ds)
    left, right = fig.subplots(1, 2, width_ratios=[1, 1])
    left.plot([0, 1], [0, 1], color="#888888", lw=1, ls="--", label="perfect calibration")
    spread = np.linspace(-0.015, 0.015, len(data.targets))
    for t, target in enumerate(data.targets):
        x = data.levels + spread[t]
        err = [data.coverage[t] - data.low[t], data.high[t] - data.coverage[t]]
        left.errorbar(x, data.coverage[t], yerr=err, fmt=TARGET_MARKERS.get(target, "o"),
                      ms=4, capsize=2, lw=1, label=f"{data.labels[t]} (n = {int(data.n[t])})")  # fmt: skip
    left.set_xlim(0.4, 1.0)
    left.set_ylim(0, 1.02)
    left.set_xlabel("nominal coverage of the range")
    left.set_ylabel("share of outcomes inside it")
    left.set_title("Ranges: nominal against observed")
    left.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), fontsize=6.5)
    edges = np.linspace(0, 1, data.pit.shape[1] + 1)
    for t in range(len(data.targets)):
        share = data.pit[t] / max(data.pit[t].sum(), 1)
        right.stairs(share, edges, lw=1.3, label=data.labels[t],
                     ls=("-", "--", "-.", ":")[t % 4])  # fmt: skip
    right.axhline(1 / data.pit.shape[1], color="#888888", lw=1, ls="--", label="flat (calibrated)")
    right.set_xlabel("where the outcome fell in the forecast (PIT)")
    right.set_ylabel("share of outcomes")
    right.set_title("PIT histogram")
    right.set_ylim(bottom=0)
    right.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), fontsize=6.5)
    fig.suptitle("Calibration: did the ranges hold the outcomes as often as they said?")
    fig.supxlabel(_caption(ds), fontsize=7, color="#555555")


def backtest_charts(ds: xr.Dataset) -> list[Chart]:
    """The backtest's charts, in report order."""
    return [
        Chart(
            "backtest_track_record",
            "Track record: each year's forecast fan with what happened marked",
            (CHART_WIDTH, 6.4),
            lambda fig: draw_track_record(fig, ds),
            kind="backtest",
        ),
        Chart(
            "backtest_calibration",
            "Calibration: nominal against observed coverage, and the PIT histogram",
            (CHART_WIDTH, 4.4),
            lambda fig: draw_calibration(fig, ds),
            kind="backtest",
        ),
    ]
