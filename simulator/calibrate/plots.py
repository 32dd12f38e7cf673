"""Goodness-of-fit plots written next to the calibrated config.

One figure per service: the fitted survival curves against Kaplan-Meier with
its confidence band, the observed monthly starts against the fitted trend with
its 80% interval (continued dashed over the first forecast year), and, where
costs were fitted, their histogram against the fitted density. Built with
matplotlib's object API (no pyplot), so nothing depends on a display or on
global state.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from simulator.config.calendar import DAYS_PER_YEAR

from .arrivals import days_in_fy
from .calibration import Calibration, ServiceCalibration
from .records import from_day

_FITTED, _OTHER, _DATA, _BAND = "#1f4e79", "#8c8c8c", "#222222", "#9ecae1"


def _survival(ax, svc: ServiceCalibration) -> None:
    fits, km = svc.lengths, svc.lengths.km
    x_max = float(np.quantile(np.r_[km.time, fits.data.low], 0.98)) if km.time.size else 1.0
    t = np.r_[0.0, km.time]
    ax.fill_between(
        t,
        np.r_[1.0, km.low],
        np.r_[1.0, km.high],
        step="post",
        color=_BAND,
        alpha=0.6,
        label=f"Kaplan-Meier {km.level:.0%} band",
    )
    ax.step(t, np.r_[1.0, km.sf], where="post", color=_DATA, lw=1.2, label="Kaplan-Meier")
    grid = np.linspace(0.0, x_max, 300)
    for fit in fits.fits.values():
        chosen = fit is fits.chosen
        ax.plot(
            grid,
            fit.family.sf(grid, fit.estimate.theta),
            color=_FITTED if chosen else _OTHER,
            lw=2.0 if chosen else 1.0,
            ls="-" if chosen else "--",
            label=f"{fit.name} (AIC {fit.aic:.0f}){' - chosen' if chosen else ''}",
        )
    ax.set_xlim(0, x_max)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("weeks since the placement started")
    ax.set_ylabel("share of placements still open")
    ax.set_title(f"Placement length ({fits.data.n:,} placements, {fits.data.events:,} ended)")
    ax.legend(fontsize=7, loc="upper right")


def _arrivals(ax, svc: ServiceCalibration, cal: Calibration) -> None:
    fit, data = svc.arrivals, svc.arrivals.data
    when = data.month.astype("datetime64[D]") + 14
    mean = fit.expected(data.exposure, data.t)
    lo, hi = fit.interval(mean)
    ax.fill_between(when, lo, hi, color=_BAND, alpha=0.6, step="mid", label="fitted 80% interval")
    ax.plot(when, data.count, "o", ms=3, color=_DATA, label="observed starts")
    # The written trend is the records' pulled towards flat by a prior: say how much is kept.
    shape = f"trend, {fit.trend_weight:.0%} of it kept" if fit.trend_weight > 0 else "flat"
    ax.plot(when, mean, color=_FITTED, lw=2.0, label=f"fitted ({fit.model}, {shape})")
    # The first forecast year: whole months from the horizon start.
    first = np.datetime64(f"{cal.start_year}-04", "M")
    ahead = np.arange(first, first + 12)
    edges = np.append(ahead, ahead[-1] + 1).astype("datetime64[D]").astype(np.int64)
    exposure = np.diff(edges) / days_in_fy(edges[:-1])
    t = (0.5 * (edges[:-1] + edges[1:]) - cal.origin) / DAYS_PER_YEAR
    future = fit.expected(exposure, t)
    f_lo, f_hi = fit.interval(future)
    days = ahead.astype("datetime64[D]") + 14
    ax.fill_between(days, f_lo, f_hi, color=_BAND, alpha=0.3, step="mid")
    ax.plot(days, future, color=_FITTED, lw=1.5, ls="--", label="first forecast year")
    ax.axvline(from_day(cal.as_of), color=_OTHER, lw=0.8)
    ax.set_ylabel("placements starting per month")
    ax.set_title(f"Arrivals ({data.total:,} starts, {data.month.size} months)")
    ax.legend(fontsize=7, loc="upper left")
    ax.tick_params(axis="x", labelrotation=30, labelsize=7)


def _costs(ax, svc: ServiceCalibration) -> None:
    fit, costs = svc.costs, svc.cost_sample
    if costs.max() > costs.min():
        bins = np.geomspace(costs.min(), costs.max(), 40)
        ax.hist(costs, bins=bins, density=True, color=_BAND, label="recorded costs")
    grid = np.geomspace(costs.min() / 1.5, costs.max() * 1.5, 400)
    ax.plot(grid, fit.density(grid), color=_FITTED, lw=2.0, label="fitted density")
    ax.set_xscale("log")
    ax.set_xlabel("weekly cost, GBP (log scale)")
    ax.set_ylabel("density")
    tail = f", {fit.share:.0%} high-cost" if fit.tail else ""
    ax.set_title(f"Unit cost ({fit.n:,} costs{tail})")
    ax.legend(fontsize=7)


def service_figure(svc: ServiceCalibration, cal: Calibration) -> Figure:
    """The goodness-of-fit figure of one service.

    Parameters
    ----------
    svc : ServiceCalibration
    cal : Calibration

    Returns
    -------
    matplotlib.figure.Figure
    """
    panels = 3 if svc.costs is not None else 2
    fig = Figure(figsize=(5.0 * panels, 4.2), layout="constrained")
    axes = fig.subplots(1, panels)
    _survival(axes[0], svc)
    _arrivals(axes[1], svc, cal)
    if svc.costs is not None:
        _costs(axes[2], svc)
    fig.suptitle(f"{svc.info.label}: calibration as of {from_day(cal.as_of)}", fontsize=11)
    return fig


def write_plots(cal: Calibration, folder: str | Path) -> list[Path]:
    """Write ``<folder>/<service>.png`` for every fitted service.

    Parameters
    ----------
    cal : Calibration
    folder : str or pathlib.Path

    Returns
    -------
    list of pathlib.Path
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for svc in cal.services:
        fig = service_figure(svc, cal)
        path = folder / f"{svc.key}.png"
        fig.savefig(path, dpi=110)
        written.append(path)
    return written
