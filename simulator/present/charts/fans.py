"""Fan charts: in-year cumulative spend and medium-term annual outturn against budget.

Each comes full size (spend from zero above, gap to budget below) and as small
multiples of the gap to budget, one panel per service.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import xarray as xr
from matplotlib.figure import Figure, SubFigure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator
from matplotlib.transforms import Bbox

from simulator.present.charts.formatting import (
    chart_decimals,
    money_axis,
    money_text,
    pct_text,
    signed_money,
    wrap,
)
from simulator.present.charts.frame import RunInfo, frame
from simulator.present.charts.stats import (
    FAN_COVERAGES,
    Fan,
    InYear,
    MediumTerm,
    fan,
    inyear_data,
    medium_data,
)
from simulator.present.charts.style import BAND_COLOURS, BUDGET_COLOUR, BUDGET_DASH, MEDIAN_HALO


def _draw_fan(ax, x: np.ndarray, f: Fan, gid: str) -> None:
    for coverage, colour in zip(FAN_COVERAGES, BAND_COLOURS, strict=True):
        lo, hi = f.bands[coverage]
        band = ax.fill_between(x, lo, hi, facecolor=colour, edgecolor="none", zorder=1)
        band.set_gid(f"{gid}-band-{round(coverage * 100)}")
    (line,) = ax.plot(x, f.median, color="black", lw=1.5, zorder=4, path_effects=MEDIAN_HALO)
    line.set_gid(f"{gid}-median")


def _fan_legend_handles(budget_label: str) -> list:
    middle = len(FAN_COVERAGES) // 2
    return [
        Line2D([], [], color="black", lw=1.5, label="Median (central estimate)"),
        Line2D([], [], color=BUDGET_COLOUR, lw=2, ls=BUDGET_DASH, label=budget_label),
        Patch(facecolor=BAND_COLOURS[-1], label="Central 10% of outcomes"),
        Patch(facecolor=BAND_COLOURS[middle], label="Central 50%"),
        Patch(facecolor=BAND_COLOURS[0], label="Central 90%"),
    ]


def _budget_line(ax, x, y, gid: str, **kw) -> None:
    (line,) = ax.plot(x, y, color=BUDGET_COLOUR, lw=2, ls=BUDGET_DASH, zorder=5, **kw)
    line.set_gid(gid)


def _panel_titles(axes: np.ndarray, ncols: int, titles: Sequence[str]) -> None:
    """Small multiples' titles, above each panel, starting where its column's tick labels start.

    Not ``ax.set_title(loc="left")``: that starts at the axes' edge, right of
    the tick labels, and constrained layout counts a title's height but not its
    width, so a title wider than its panel ran past the figure's right edge.
    Starting at the column's widest tick label gives each title the column's
    whole width (the titles of a column line up), and as annotations the layout
    makes room for all of them.
    """
    lefts: dict[int, tuple] = {}  # column -> (what the tick labels depend on, their left edge)

    def column_left(col: int, renderer) -> float:
        column = [a for a in axes[col::ncols] if a.get_visible()]
        key = (id(renderer), *((*a.bbox.bounds, *a.get_ylim()) for a in column))
        if lefts.get(col, (None,))[0] != key:
            ticks = [a.yaxis.get_tightbbox(renderer) for a in column]
            lefts[col] = (key, min([b.x0 for b in ticks if b is not None] + [column[0].bbox.x0]))
        return lefts[col][1]

    for i, (ax, title) in enumerate(zip(axes, titles, strict=False)):

        def corner(renderer, ax=ax, col=i % ncols) -> Bbox:
            return Bbox.from_extents(column_left(col, renderer), ax.bbox.y0, ax.bbox.x1, ax.bbox.y1)

        ax.annotate(title, (0, 1), xycoords=corner, xytext=(0, 6), textcoords="offset points",
                    ha="left", va="bottom", fontsize=8, fontweight="bold",
                    annotation_clip=False, gid="panel-title")  # fmt: skip


def _month_axis(ax, d: InYear, every: int = 1) -> None:
    ticks = d.days[1:][every - 1 :: every]
    names = d.month_names[every - 1 :: every]
    ax.set_xticks(ticks, names)
    ax.set_xlim(0, d.days[-1])


def draw_inyear(fig: Figure | SubFigure, d: InYear, run: RunInfo) -> None:
    """Draw the in-year fan chart: cumulative spend against the budget profile.

    The top panel shows cumulative net spend from zero, with the budget line, so
    the size of the risk is seen against the whole budget; the lower panel shows
    the same fan as the gap to the budget profile, where the spread is readable.
    """
    body = frame(
        fig,
        f"{d.label}, {d.financial_year}: cumulative net spend against budget",
        run,
        "Shaded bands hold the central 10%, 20%, ... 90% of simulated outcomes, darkest "
        "in the middle. The budget is spread over the year in proportion to days.",
    )
    top, gap = body.subplots(2, 1, sharex=True)
    # Months of actual spend are history: one solid line, and the fan opens where it ends.
    k = d.actual_months
    future = fan(d.cum_spend[:, k:])
    _draw_fan(top, d.days[k:], future, "spend")
    _budget_line(top, d.days, d.cum_budget, "budget")
    _draw_fan(gap, d.days[k:], future.shifted(d.cum_budget[k:]), "gap")
    _budget_line(gap, d.days, np.zeros_like(d.days), "gap-budget")
    handles = _fan_legend_handles("Budget, spread by days")
    if k:
        for ax, offset, gid in ((top, 0, "spend"), (gap, d.cum_budget[: k + 1], "gap")):
            ax.plot(d.days[: k + 1], d.cum_spend[0, : k + 1] - offset, color="black", lw=2.8,
                    solid_capstyle="butt", zorder=6, gid=f"{gid}-actual")  # fmt: skip
        handles.insert(0, Line2D([], [], color="black", lw=2.8, label=f"Actual to {d.as_of}"))
    if np.isfinite(d.forecast):
        for ax, y in ((top, d.budget + d.forecast), (gap, d.forecast)):
            ax.plot([d.days[-1]], [y], "D", color="black", mfc="white", mew=1.5, ms=7, zorder=7,
                    clip_on=False, gid=f"{'spend' if ax is top else 'gap'}-forecast")  # fmt: skip
        handles.append(Line2D([], [], ls="", marker="D", color="black", mfc="white", mew=1.5,
                              label=f"Officer's forecast {signed_money(d.forecast)}"))  # fmt: skip
    top.set_ylim(bottom=0)
    money_axis(top.yaxis)
    top.set_ylabel("Cumulative net spend")
    median_end = float(np.median(d.cum_spend[:, -1]))
    places = chart_decimals(d.budget)
    top.text(
        0.02,
        0.97,
        f"Year-end chance of overspend: {pct_text(d.p_overspend)}\n"
        f"Budget {money_text(d.budget, places)}; median outturn {money_text(median_end, places)}",
        transform=top.transAxes,
        va="top",
        ha="left",
        fontsize=9,
        bbox={"boxstyle": "round,pad=0.4", "facecolor": "white", "edgecolor": "#999999"},
    ).set_gid("p-overspend")
    # Above the panels, not inside: wherever the fan goes, the legend never hides it.
    body.legend(handles=handles, loc="outside upper center", ncols=3, fontsize=7.5)
    money_axis(gap.yaxis)
    gap.set_ylabel("Over (+) or under (−)\nbudget profile")
    _month_axis(gap, d)
    gap.set_xlabel(f"Cumulative to the end of each month, {d.financial_year}")


def draw_inyear_grid(
    fig: Figure | SubFigure,
    ds: xr.Dataset,
    financial_year: str,
    services: Sequence[str],
    run: RunInfo,
) -> None:
    """Small multiples: each service's in-year gap to its budget profile."""
    body = frame(
        fig,
        f"Each service, {financial_year}: cumulative spend over (+) or under (−) "
        "its budget profile, by month",
        run,
        "Dashed line: on budget. Bands: central 10% to 90% of outcomes, darkest in the middle; "
        "black line: median. Each panel has its own £m scale.",
    )
    ncols = 3
    nrows = int(np.ceil(len(services) / ncols))
    axes = np.atleast_1d(body.subplots(nrows, ncols, sharex=True)).ravel()
    titles = []
    for ax, key in zip(axes, services, strict=False):
        d = inyear_data(ds, key, financial_year)
        k = d.actual_months
        _draw_fan(ax, d.days[k:], fan(d.cum_spend[:, k:]).shifted(d.cum_budget[k:]), f"gap-{key}")
        _budget_line(ax, d.days, np.zeros_like(d.days), f"budget-{key}")
        if k:
            ax.plot(d.days[: k + 1], d.cum_spend[0, : k + 1] - d.cum_budget[: k + 1],
                    color="black", lw=2.4, zorder=6, gid=f"actual-{key}")  # fmt: skip
        money_axis(ax.yaxis)
        ax.yaxis.set_major_locator(MaxNLocator(nbins=4, steps=[1, 2, 2.5, 5, 10]))
        _month_axis(ax, d, every=3)
        titles.append(f"{wrap(d.label, 24)}\nP(overspend) {pct_text(d.p_overspend)}")
    for ax in axes[len(services) :]:
        ax.set_visible(False)
    _panel_titles(axes, ncols, titles)
    for ax in axes[len(services) - ncols : len(services)]:
        ax.xaxis.set_tick_params(labelbottom=True)


def draw_medium(fig: Figure | SubFigure, d: MediumTerm, run: RunInfo) -> None:
    """Draw the medium-term fan: annual outturn against budget for each year."""
    body = frame(
        fig,
        f"{d.label}: net outturn against budget, {d.years[0]} to {d.years[-1]}",
        run,
        "Each year's outturn in cash terms (after inflation, savings and income). Bands: "
        "central 10% to 90% of outcomes, darkest in the middle.",
    )
    top, gap = body.subplots(2, 1, sharex=True)
    x = np.arange(len(d.years), dtype=float)
    xs, outturn, budget = _widen(x, d.outturn, d.budget)
    _draw_fan(top, xs, fan(outturn), "outturn")
    _budget_line(top, xs, budget, "budget", marker="D" if len(x) > 1 else None, markersize=4)
    top.set_ylim(bottom=0)
    money_axis(top.yaxis)
    top.set_ylabel("Net outturn for the year")
    body.legend(
        handles=_fan_legend_handles("Budget"), loc="outside upper center", ncols=3, fontsize=7.5
    )

    _draw_fan(gap, xs, fan(outturn).shifted(budget), "gap")
    _budget_line(gap, xs, np.zeros_like(xs), "gap-budget")
    money_axis(gap.yaxis)
    gap.set_ylabel("Overspend (+) or\nunderspend (−)")
    labels = [
        f"{y}\n{pct_text(p)} chance\nof overspend"
        for y, p in zip(d.years, d.p_overspend, strict=True)
    ]
    gap.set_xticks(x, labels)
    gap.set_xlim(x[0] - 0.45, x[-1] + 0.45)
    gap.grid(axis="x", visible=False)
    top.grid(axis="x", visible=False)


def _widen(x: np.ndarray, values: np.ndarray, budget: np.ndarray):
    """A single year is drawn as a short flat block so that its bands have width."""
    if len(x) > 1:
        return x, values, budget
    return (
        np.array([x[0] - 0.3, x[0] + 0.3]),
        np.repeat(values, 2, axis=1),
        np.repeat(budget, 2),
    )


def draw_medium_grid(
    fig: Figure | SubFigure, ds: xr.Dataset, services: Sequence[str], run: RunInfo
) -> None:
    """Small multiples: each service's annual overspend fan across the horizon."""
    years = [str(y) for y in ds["financial_year"].values]
    body = frame(
        fig,
        f"Each service: annual overspend (+) or underspend (−), {years[0]} to {years[-1]}",
        run,
        "Dashed line: on budget. Bands: central 10% to 90% of outcomes; black line: median. "
        f"P(overspend): chance of overspend in {years[0]} → in {years[-1]}. "
        "Each panel has its own £m scale.",
    )
    ncols = 3
    nrows = int(np.ceil(len(services) / ncols))
    axes = np.atleast_1d(body.subplots(nrows, ncols, sharex=True)).ravel()
    titles = []
    x = np.arange(len(years), dtype=float)
    for ax, key in zip(axes, services, strict=False):
        d = medium_data(ds, key)
        xs, outturn, budget = _widen(x, d.outturn, d.budget)
        _draw_fan(ax, xs, fan(outturn).shifted(budget), f"gap-{key}")
        _budget_line(ax, xs, np.zeros_like(xs), f"budget-{key}")
        money_axis(ax.yaxis)
        ax.yaxis.set_major_locator(MaxNLocator(nbins=4, steps=[1, 2, 2.5, 5, 10]))
        ax.set_xticks(x, [y[2:] for y in years])
        ax.set_xlim(x[0] - 0.3, x[-1] + 0.3)
        ax.grid(axis="x", visible=False)
        chances = " → ".join(pct_text(p) for p in d.p_overspend[[0, -1]][: len(years)])
        titles.append(f"{wrap(d.label, 24)}\nP(overspend) {chances}")
    for ax in axes[len(services) :]:
        ax.set_visible(False)
    _panel_titles(axes, ncols, titles)
    for ax in axes[len(services) - ncols : len(services)]:
        ax.xaxis.set_tick_params(labelbottom=True)
