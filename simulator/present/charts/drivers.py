"""The risk-drivers chart: each budget line's share of the total's risk, largest first."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from matplotlib.figure import Figure, SubFigure
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator, PercentFormatter

from simulator.present.charts.formatting import chart_decimals, money_axis, money_text, wrap
from simulator.present.charts.frame import RunInfo, after_layout, frame
from simulator.present.charts.stats import Drivers
from simulator.present.charts.style import DEPT_COLOURS, DEPT_HATCHES
from simulator.present.numbers import fixed


def drivers_title(financial_year: str) -> str:
    """The drivers chart's title, which the report's key messages refer to."""
    return f"What drives the risk to the total, {financial_year}"


def draw_drivers(fig: Figure | SubFigure, d: Drivers, run: RunInfo) -> None:
    """Draw each budget line's contribution to the total's risk, largest first."""
    body = frame(
        fig,
        drivers_title(d.financial_year),
        run,
        "Left: each line's covariance with the total divided by the total's variance; shares "
        "add to 100% (shared inflation is counted in the lines it moves). Right: each line's "
        "mean overspend in the 10% of outcomes where the total is worst.",
    )
    share_ax, tail_ax = body.subplots(1, 2, sharey=True)
    y = np.arange(len(d.services))[::-1]
    depts = list(dict.fromkeys(d.departments))
    style = {
        dept: (DEPT_COLOURS[i % len(DEPT_COLOURS)], DEPT_HATCHES[i % len(DEPT_HATCHES)])
        for i, dept in enumerate(depts)
    }
    colours = [style[x][0] for x in d.departments]
    hatches = [style[x][1] for x in d.departments]
    share_ax.barh(
        y, 100 * d.variance_share, color=colours, hatch=hatches, edgecolor="white", lw=0.5
    )
    tail_ax.barh(y, d.tail_mean, color=colours, hatch=hatches, edgecolor="white", lw=0.5)
    _bar_labels(share_ax, y, 100 * d.variance_share, lambda v: f"{fixed(v)}%".replace("-", "−"))
    places = chart_decimals(np.max(np.abs(d.tail_mean)))
    _bar_labels(tail_ax, y, d.tail_mean, lambda v: money_text(v, places))
    share_ax.set_yticks(y, [wrap(label, 34) for label in d.labels])
    share_ax.xaxis.set_major_formatter(PercentFormatter(decimals=0))
    share_ax.set_xlabel("Share of the total's variance")
    share_ax.set_title("Share of the uncertainty", loc="left")
    money_axis(tail_ax.xaxis)
    tail_ax.xaxis.set_major_locator(MaxNLocator(nbins=4, steps=[1, 2, 2.5, 5, 10]))
    tail_ax.set_xlabel("Mean overspend, worst 10%")
    tail_ax.set_title("Worst 1 in 10 outcomes", loc="left")
    for ax in (share_ax, tail_ax):
        ax.axvline(0, color="black", lw=0.8)
        ax.grid(axis="y", visible=False)
    if len(depts) > 1:
        body.legend(
            handles=[
                Patch(
                    facecolor=style[x][0], hatch=style[x][1], edgecolor="white", label=x or "Other"
                )
                for x in depts
            ],
            loc="outside upper center",
            ncols=min(len(depts), 3),
        )


def _bar_labels(ax, y: np.ndarray, values: np.ndarray, fmt: Callable[[float], str]) -> None:
    """Value labels at the ends of bars, with room made for them inside the axes.

    A label goes right of a bar that is zero or more and left of a negative one.
    The room is a guess until the layout gives the axes its width; then the
    limits are set so that every label, measured in pixels, stays inside.
    """
    lo, hi = min(0.0, float(values.min())), max(0.0, float(values.max()))
    span = (hi - lo) or 1.0
    ax.set_xlim(lo - 0.28 * span * (lo < 0), hi + 0.28 * span)
    texts = [
        ax.text(v, yi, f" {fmt(v)} ", va="center", ha="left" if v >= 0 else "right",
                fontsize=7.5)
        for yi, v in zip(y, values, strict=True)
    ]  # fmt: skip
    after_layout(ax, lambda renderer: _make_room(ax, values, texts, renderer))


#: Pixels kept clear between a value label and the frame of its axes.
LABEL_CLEARANCE = 3.0


def _make_room(ax, values: np.ndarray, texts: list, renderer) -> None:
    """Set x limits that hold every bar and, inside the axes' frame, every value label.

    With ``s`` data units a pixel, a label ``w`` pixels wide right of ``v`` needs
    the right limit at ``v + w s`` or more, one left of ``v`` the left limit at
    ``v - w s`` or less, and ``s`` is the span of the limits over the axes'
    width: the smallest ``s`` meeting all of these is found exactly.
    """
    width = ax.bbox.width
    extents = [t.get_window_extent(renderer).width + LABEL_CLEARANCE for t in texts]
    right = [(max(0.0, float(values.max())), 0.0)]
    left = [(min(0.0, float(values.min())), 0.0)]
    for v, w in zip(values, extents, strict=True):
        (right if v >= 0 else left).append((float(v), w))
    needed = [
        (vr - vl) / (width - wr - wl) for vr, wr in right for vl, wl in left if width > wr + wl
    ]
    scale = max(needed, default=0.0)
    if scale <= 0:  # every value zero: the first guess holds the labels
        return
    ax.set_xlim(min(v - w * scale for v, w in left), max(v + w * scale for v, w in right))
