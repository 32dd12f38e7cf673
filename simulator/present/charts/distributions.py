"""The overspend distribution chart: histogram and exceedance curve for one year."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure, SubFigure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator, PercentFormatter

from simulator.present.charts.formatting import (
    chart_decimals,
    money_axis,
    money_text,
    p90_phrase,
    pct_text,
    signed_money,
)
from simulator.present.charts.frame import RunInfo, frame
from simulator.present.charts.stats import bin_edges, exceedance
from simulator.present.charts.style import BAND_COLOURS, BUDGET_COLOUR, BUDGET_DASH, MEDIAN_HALO


def draw_distribution(
    fig: Figure | SubFigure,
    over: np.ndarray,
    label: str,
    financial_year: str,
    run: RunInfo,
    forecast: float = float("nan"),
) -> None:
    """Draw the overspend histogram and the exceedance curve for one year.

    Parameters
    ----------
    over : numpy.ndarray
        Overspend by draw (GBP; negative is an underspend).
    forecast : float, optional
        The officer's own point forecast (GBP), marked when given.
    """
    body = frame(
        fig,
        f"{label}: overspend in {financial_year}",
        run,
        "Overspend is net outturn minus budget for the financial year.",
    )
    hist, exceed = body.subplots(1, 2)
    p = float(np.mean(over > 0))
    p50, p90 = np.quantile(over, [0.5, 0.9])
    places = chart_decimals(np.ptp(np.quantile(over, [0.05, 0.95])))
    p90_text = money_text(p90, places)
    edges = bin_edges(over)
    counts, _ = np.histogram(over, edges)
    share = 100 * counts / over.size
    left = edges[:-1]
    colours = np.where(left >= 0, BAND_COLOURS[6], BAND_COLOURS[1])
    hist.bar(
        left, share, width=np.diff(edges), align="edge", color=colours, edgecolor="white", lw=0.3
    )
    hist.axvline(0, color=BUDGET_COLOUR, lw=2, ls=BUDGET_DASH, zorder=5)
    hist.axvline(p50, color="black", lw=1.5, zorder=5, path_effects=MEDIAN_HALO)
    hist.axvline(p90, color="black", lw=1.2, ls=":", zorder=5)
    money_axis(hist.xaxis)
    hist.xaxis.set_major_locator(MaxNLocator(nbins=5, steps=[1, 2, 2.5, 5, 10]))
    hist.yaxis.set_major_formatter(PercentFormatter(decimals=0))
    hist.set_ylim(bottom=0)
    hist.set_xlabel("Overspend (+) or underspend (−)")
    hist.set_ylabel("Share of simulated outcomes")
    hist.set_title("How likely each outcome is", loc="left")

    x, y = exceedance(over)  # P(overspend > x) at each draw
    (curve,) = exceed.step(x, y, where="post", color=BAND_COLOURS[-1], lw=2)
    curve.set_gid("exceedance")
    exceed.axvline(0, color=BUDGET_COLOUR, lw=2, ls=BUDGET_DASH, zorder=2)
    # The two readings are marked on the curve, with guides to the axes, and written out in
    # the legend: labels inside the axes would collide when the two points are close.
    guide = {"color": "#555555", "lw": 0.8, "ls": (0, (1, 2)), "zorder": 3}
    exceed.plot([x[0], 0], [100 * p, 100 * p], **guide)
    exceed.plot([x[0], p90, p90], [10, 10, 0], **guide)
    exceed.plot([0], [100 * p], "o", color="black", ms=6, zorder=6, gid="p-overspend-point")
    exceed.plot([p90], [10], "s", color="black", ms=6, zorder=6, gid="p90-point")
    if x[-1] > x[0]:  # one draw, or all draws equal, leaves matplotlib's default limits
        exceed.set_xlim(x[0], x[-1])
    money_axis(exceed.xaxis)
    exceed.xaxis.set_major_locator(MaxNLocator(nbins=5, steps=[1, 2, 2.5, 5, 10]))
    exceed.set_ylim(0, 100)
    exceed.yaxis.set_major_formatter(PercentFormatter(decimals=0))
    exceed.set_xlabel("Overspend more than")
    exceed.set_ylabel("Chance")
    exceed.set_title("Chance of more than £X m over", loc="left")
    handles = [
        Patch(facecolor=BAND_COLOURS[6], label="Overspend"),
        Patch(facecolor=BAND_COLOURS[1], label="Underspend"),
        Line2D([], [], color=BUDGET_COLOUR, lw=2, ls=BUDGET_DASH, label="On budget"),
        Line2D([], [], color="black", lw=1.5, label=f"Median {money_text(p50, places)}"),
        Line2D([], [], color="black", lw=1.2, ls=":", label=f"90th percentile {p90_text}"),
        Line2D(
            [], [], ls="", marker="o", color="black", label=f"{pct_text(p)} chance of overspend"
        ),
        Line2D([], [], ls="", marker="s", color="black", label=p90_phrase(p90, places)),
    ]
    if np.isfinite(forecast):
        worse = float(np.mean(over > forecast))
        for ax in (hist, exceed):
            ax.axvline(forecast, color="black", lw=1.2, ls="-.", zorder=5, gid="forecast")
        handles.append(Line2D([], [], color="black", lw=1.2, ls="-.",
                              label=f"Officer's forecast {signed_money(forecast)} "
                              f"({pct_text(worse)} chance of worse)"))  # fmt: skip
    body.legend(
        handles=handles,
        loc="outside lower center",
        ncols=3,
        fontsize=7.5,
        handlelength=1.6,
        columnspacing=1.0,
    )
