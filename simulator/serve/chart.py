"""The page's fan chart: cumulative spend through the chosen year against its budget.

:func:`in_year` puts the page's arrays into the report's
:class:`~simulator.present.charts.stats.InYear`, so the PNG download is the
in-year fan chart of ``overspend run`` (drawn by
:func:`simulator.present.charts.fans.draw_inyear`), and the page's interactive
chart (:func:`fan_figure`, plotly) shows the same quantiles, with the base
case's median beside the what-if's.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

import numpy as np

from simulator.model.equations import Plan, row_budgets
from simulator.present.charts.stats import InYear, band_levels, fan
from simulator.present.numbers import pct_text

if TYPE_CHECKING:
    import plotly.graph_objects as go

#: Bands on the page, outermost first (the PNG has every band of the house style).
PAGE_BANDS = (0.9, 0.5)


def in_year(plan: Plan, monthly: np.ndarray, overspend: np.ndarray, g: int, y: int) -> InYear:
    """Cumulative net spend of row ``g`` through financial year ``y``.

    As :func:`simulator.present.charts.stats.inyear_data` reads it from a
    results Dataset (the total is labelled "All services", as in the charts).

    Parameters
    ----------
    plan : Plan
    monthly : numpy.ndarray
        Net spend of every row in every month, GBP, (draws, rows, months).
    overspend : numpy.ndarray
        GBP, (draws, rows, years).
    g, y : int
        Row and financial year indices.
    """
    grid = plan.grid
    months = np.flatnonzero(grid.fy_index == y)
    spend = monthly[:, g, months].astype(float)
    cum_days = np.concatenate([[0.0], np.cumsum(grid.days[months].astype(float))])
    budget = float(row_budgets(plan)[g, y])
    names = [m.strftime("%b") for m in grid.month_start[months].astype("datetime64[ms]").tolist()]
    actual = int(np.sum(months < plan.start_month))
    as_of = ""
    if actual and plan.about.as_of:
        from simulator.present.charts.formatting import date_text

        as_of = date_text(plan.about.as_of)
    return InYear(
        service=plan.groups[g].key,
        label="All services" if plan.groups[g].kind == "total" else plan.groups[g].label,
        financial_year=grid.fy_labels[y],
        days=cum_days,
        month_names=names,
        cum_spend=np.concatenate([np.zeros((spend.shape[0], 1)), np.cumsum(spend, axis=1)], axis=1),
        cum_budget=budget * cum_days / cum_days[-1],
        p_overspend=float(np.mean(overspend[:, g, y] > 0)),
        actual_months=actual,
        as_of=as_of,
    )


def _m(x: np.ndarray) -> list[float]:
    """GBP to £m for the chart's axis."""
    return (np.asarray(x, float) / 1e6).tolist()


def fan_figure(what_if: InYear, base: InYear, changed: bool) -> go.Figure:
    """The page's fan chart: cumulative spend less the budget profile through the year.

    Against the gap to the budget (as the lower panel of the report's in-year
    chart) the spread is readable at any budget size: the what-if's bands and
    median, the base case's median dashed, the budget as the zero line.
    """
    import plotly.graph_objects as go

    labels = ["Start", *what_if.month_names]
    f = fan(what_if.cum_spend).shifted(what_if.cum_budget)
    fig = go.Figure()
    shades = ("rgba(192,57,43,0.18)", "rgba(192,57,43,0.35)")
    for coverage, shade in zip(PAGE_BANDS, shades, strict=True):
        lo, hi = f.bands[coverage]
        lo_q, hi_q = band_levels(coverage)
        fig.add_trace(go.Scatter(x=labels, y=_m(hi), mode="lines", line={"width": 0},
                                 showlegend=False, hoverinfo="skip"))  # fmt: skip
        fig.add_trace(go.Scatter(
            x=labels, y=_m(lo), mode="lines", line={"width": 0}, fill="tonexty", fillcolor=shade,
            name=f"{round(coverage * 100)}% of futures ({round(lo_q * 100)}th to "
            f"{round(hi_q * 100)}th percentile)", hoverinfo="skip",
        ))  # fmt: skip
    fig.add_trace(go.Scatter(x=labels, y=_m(f.median), mode="lines",
                             name="What-if median" if changed else "Median",
                             line={"color": "#922b21", "width": 2.5}))  # fmt: skip
    if changed:
        gap = np.median(base.cum_spend, axis=0) - base.cum_budget
        fig.add_trace(go.Scatter(x=labels, y=_m(gap), mode="lines", name="Base case median",
                                 line={"color": "#555555", "width": 2, "dash": "dash"}))  # fmt: skip
    fig.add_trace(go.Scatter(x=labels, y=[0.0] * len(labels), mode="lines",
                             name="Budget, spread by days", line={"color": "black", "width": 2}))  # fmt: skip
    fig.update_layout(
        title={
            "text": f"{what_if.label}, {what_if.financial_year}: cumulative spend over (+) or "
            f"under (−) the budget<br><sup>Chance of overspend "
            f"{pct_text(what_if.p_overspend)}</sup>",
            "x": 0.01,
            "font": {"size": 15},
        },
        yaxis_title="Over or under budget to date (£m)",
        margin={"l": 60, "r": 20, "t": 80, "b": 40},
        legend={"orientation": "h", "y": -0.15},
        template="simple_white",
        height=440,
    )
    return fig


def fan_png(d: InYear, council: str, draws: int, seed: int) -> bytes:
    """The in-year fan chart of ``overspend run`` for the page's what-if, as PNG bytes."""
    from simulator._version import __version__
    from simulator.present.charts.catalogue import Chart
    from simulator.present.charts.fans import draw_inyear
    from simulator.present.charts.frame import RunInfo
    from simulator.present.charts.style import CHART_WIDTH, FAN_HEIGHT, chart_style

    run = RunInfo(council, draws, seed, "on the what-if page", __version__)
    chart = Chart("what_if", d.label, (CHART_WIDTH, FAN_HEIGHT), lambda f: draw_inyear(f, d, run),
                  "inyear", d.financial_year)  # fmt: skip
    out = io.BytesIO()
    with chart_style():
        chart.figure().savefig(out, format="png")
    return out.getvalue()
