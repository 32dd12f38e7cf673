"""The scenarios chart: mean overspend and chance of overspend of each scenario by year."""

from __future__ import annotations

import numpy as np
import xarray as xr
from matplotlib.figure import Figure, SubFigure
from matplotlib.ticker import PercentFormatter

from simulator.present.charts.formatting import money_axis, wrap
from simulator.present.charts.frame import RunInfo, frame
from simulator.present.charts.stats import scenario_summary
from simulator.present.charts.style import (
    BUDGET_COLOUR,
    BUDGET_DASH,
    DEPT_COLOURS,
    SCENARIO_LINES,
    SCENARIO_MARKERS,
)


def draw_scenarios(fig: Figure | SubFigure, scen: xr.Dataset, run: RunInfo) -> None:
    """Draw mean overspend and probability of overspend of all services for each scenario."""
    d = scenario_summary(scen)
    body = frame(
        fig,
        "Scenarios compared: overspend of all services",
        run,
        "Each scenario laid over the base case and run with the same random numbers, so the "
        "differences are due to the scenario alone. Whiskers: 95% Monte Carlo intervals.",
    )
    money_ax, p_ax = body.subplots(1, 2, sharex=True)
    x = np.arange(len(d.years))
    for i in range(len(d.names)):
        kw = {
            "marker": SCENARIO_MARKERS[i % len(SCENARIO_MARKERS)],
            "ls": SCENARIO_LINES[i % len(SCENARIO_LINES)],
            "color": "black" if i == 0 else DEPT_COLOURS[(i - 1) % len(DEPT_COLOURS)],
            "lw": 1.6,
            "ms": 5,
        }
        err = None if d.mean_se is None else 1.96 * d.mean_se[i]
        money_ax.errorbar(x, d.mean[i], yerr=err, capsize=2,
                          label=wrap(_legend_label(d, i), 40), **kw)  # fmt: skip
        p_ax.plot(x, 100 * d.p[i], **kw)
    money_ax.axhline(0, color=BUDGET_COLOUR, lw=1.5, ls=BUDGET_DASH)
    money_axis(money_ax.yaxis)
    money_ax.set_title("Mean overspend", loc="left")
    p_ax.set_ylim(0, 100)
    p_ax.yaxis.set_major_formatter(PercentFormatter(decimals=0))
    p_ax.set_title("Chance of overspend", loc="left")
    for ax in (money_ax, p_ax):
        ax.set_xticks(x, d.years)
        ax.set_xlim(-0.3, len(d.years) - 0.7)
        ax.grid(axis="x", visible=False)
    # Descriptions are sentences: one or two to a row of the legend.
    body.legend(loc="outside upper center", ncols=min(2, len(d.names)))


def _legend_label(d, i: int) -> str:
    """A scenario in the legend: its description, the way the report and ``compare`` name it."""
    text = d.descriptions[i].strip() if i < len(d.descriptions) else ""
    if i == 0:
        return "Base case" if text in ("", "the config as written") else f"Base case: {text}"
    return text or d.names[i].replace("_", " ").capitalize()
