"""The movement waterfall: the total's expected overspend before, each line's change, now."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure, SubFigure

from simulator.present.charts.formatting import money_axis, wrap
from simulator.present.charts.frame import RunInfo, frame
from simulator.present.charts.style import BAND_COLOURS, BUDGET_COLOUR, BUDGET_DASH

#: Lines shown one by one; the rest are summed in one bar.
TOP_LINES = 8


def waterfall_steps(m, year: str, top: int = TOP_LINES) -> tuple[list[str], np.ndarray]:
    """Labels and amounts (GBP) of the waterfall: before, each line's change, the rest, now.

    The changes add up from the first amount to the last exactly (the mean of a
    sum is the sum of the means).
    """
    total = m.of("total", year)
    lines = m.lines(year)
    labels = ["Before", *(r.label for r in lines[:top])]
    values = [total.mean_before, *(r.mean_change for r in lines[:top])]
    rest = lines[top:]
    if rest:
        labels.append(f"{len(rest)} other lines")
        values.append(sum(r.mean_change for r in rest))
    labels.append("Now")
    values.append(total.mean_after)
    return labels, np.asarray(values, float)


def cause_steps(split) -> tuple[list[str], np.ndarray]:
    """Labels and amounts (GBP) of the waterfall by cause: last forecast, each cause, now."""
    means = [mean for _, _, mean in split.steps]
    labels = ["Last forecast (re-run)", *(label for label, _, _ in split.steps[1:]), "Now"]
    return labels, np.asarray([means[0], *np.diff(means), means[-1]], float)


def draw_movement(fig: Figure | SubFigure, m, year: str, run: RunInfo) -> None:
    """Draw the waterfall of the total's mean overspend from the last forecast, by line."""
    labels, values = waterfall_steps(m, year)
    draw_waterfall(
        fig, labels, values, run,
        f"All services together, {year}: expected overspend since the last forecast",
        "Each bar is a budget line's change in mean overspend; rises dark, falls light and "
        "hatched. The changes add up from the last forecast to this one.",
    )  # fmt: skip


def draw_causes(fig: Figure | SubFigure, split, run: RunInfo) -> None:
    """Draw the waterfall of the total's mean overspend by cause (see ``cause_split``)."""
    labels, values = cause_steps(split)
    draw_waterfall(
        fig, labels, values, run,
        f"All services together, {split.financial_year}: what moved the expected overspend",
        "The last forecast's config re-run on this run's random numbers, then with the new "
        "actuals, the new caseload, and the new assumptions swapped in, one at a time.",
    )  # fmt: skip


def draw_waterfall(
    fig: Figure | SubFigure, labels: list[str], values: np.ndarray, run: RunInfo, title: str,
    note: str,
) -> None:  # fmt: skip
    """A waterfall: the first and last bars are totals, those between the changes (GBP)."""
    body = frame(fig, title, run, note)
    ax = body.subplots()
    x = np.arange(len(values))
    start = np.concatenate([[0.0], np.cumsum(values[:-1])])
    start[-1] = 0.0
    heights = values.copy()
    ends = np.r_[values[0], start[1:-1] + values[1:-1], values[-1]]
    for i in range(len(values)):
        first_or_last = i in (0, len(values) - 1)
        rising = values[i] >= 0
        ax.bar(x[i], heights[i], bottom=0.0 if first_or_last else start[i], width=0.7,
               color="#555555" if first_or_last else BAND_COLOURS[-2 if rising else 2],
               hatch="" if first_or_last or rising else "///", edgecolor="black", lw=0.6)  # fmt: skip
        if 0 < i < len(values) - 1:
            ax.plot([x[i] - 0.35, x[i + 1] + 0.35], [ends[i]] * 2, color="#888888", lw=0.6)
    ax.axhline(0, color=BUDGET_COLOUR, lw=1.5, ls=BUDGET_DASH)
    money_axis(ax.yaxis)
    ax.set_ylabel("Mean overspend")
    ax.set_xticks(x, [wrap(label, 22) for label in labels], fontsize=7, rotation=30, ha="right")
    ax.grid(axis="x", visible=False)
