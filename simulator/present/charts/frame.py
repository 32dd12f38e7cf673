"""The frame of every chart: a title above, the chart's body, and a caption about the run.

:class:`RunInfo` holds what the caption says (council, draws, seed, run date and
version); :func:`frame` splits a figure into title, body and caption rows.
:func:`after_layout` lets a chart set limits that depend on the size its layout
gives an axes (labels measured in pixels); :func:`fit_after_layout` runs them.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from dataclasses import dataclass

import xarray as xr
from matplotlib.axes import Axes
from matplotlib.backend_bases import RendererBase
from matplotlib.figure import Figure, SubFigure

from simulator._version import __version__
from simulator.present.charts.formatting import date_text, wrap


@dataclass(frozen=True)
class RunInfo:
    """What a chart's caption says about the run it comes from."""

    council: str
    draws: int
    seed: int | None
    created: str
    version: str
    unit: str = "simulated outcomes"

    @classmethod
    def from_dataset(cls, ds: xr.Dataset) -> RunInfo:
        """Read the run details from a results Dataset's attributes."""
        return cls(
            council=str(ds.attrs.get("council", "")),
            draws=int(ds.attrs.get("draws") or ds.sizes.get("draw", 0)),
            seed=int(ds.attrs["seed"]) if "seed" in ds.attrs else None,
            created=date_text(ds.attrs.get("created")),
            version=str(ds.attrs.get("simulator_version", __version__)),
        )

    def caption(self) -> str:
        """One line naming the council, draws, seed, run date and version."""
        seed = f", seed {self.seed}" if self.seed is not None else ""
        return (
            f"{self.council}. {self.draws:,} {self.unit}{seed}; "
            f"run {self.created}; overspend {self.version}."
        )


def sensitivity_run(ds: xr.Dataset, sens: xr.Dataset, what: str) -> RunInfo:
    """Caption details of a sensitivity or scenario file (its own draws, seed and date)."""
    base = RunInfo.from_dataset(ds)
    draws = sens.attrs.get("draws") or sens.attrs.get("tornado_draws")
    if what == "sobol":
        draws = sens.attrs.get("sobol_evaluations") or draws
    return RunInfo(
        council=str(sens.attrs.get("council", base.council)),
        draws=int(draws) if draws else base.draws,
        seed=int(sens.attrs["seed"]) if "seed" in sens.attrs else base.seed,
        created=date_text(sens.attrs.get("created")) if "created" in sens.attrs else base.created,
        version=str(sens.attrs.get("simulator_version", base.version)),
        unit={"tornado": "simulated outcomes per run", "sobol": "model runs"}.get(
            what, "simulated outcomes per scenario"
        ),
    )


def _width_in(fig: Figure | SubFigure) -> float:
    return fig.bbox.width / fig.figure.dpi


def frame(fig: Figure | SubFigure, title: str, run: RunInfo, note: str = "") -> SubFigure:
    """Split ``fig`` into a title, a body for the chart and a caption; return the body.

    The title and caption get rows of their own, sized to their wrapped text,
    because constrained layout gives a figure legend and a suptitle the same
    top margin (they overlap). The caption names the council, draws, seed, run
    date and version, after an optional note on reading the chart.
    """
    width = _width_in(fig) * 72  # points
    title = wrap(title, int(width / (11 * 0.64)))
    caption = wrap(f"{note} {run.caption()}".strip(), int(width / (7 * 0.6)))
    head_in = 0.1 + 0.2 * (title.count("\n") + 1)
    foot_in = 0.08 + 0.125 * (caption.count("\n") + 1)
    height = fig.bbox.height / fig.figure.dpi
    head, body, foot = fig.subfigures(
        3, 1, height_ratios=[head_in, height - head_in - foot_in, foot_in], hspace=0
    )
    head.text(0.5, 0.45, title, ha="center", va="center", fontsize=11, fontweight="bold")
    foot.text(0.5, 0.5, caption, ha="center", va="center", fontsize=7, color="#333333",
              linespacing=1.3)  # fmt: skip
    return body


#: What to do to an axes once its figure's layout is solved (see :func:`after_layout`).
_AFTER_LAYOUT: weakref.WeakKeyDictionary[Axes, Callable[[RendererBase], None]] = (
    weakref.WeakKeyDictionary()
)


def after_layout(ax: Axes, fit: Callable[[RendererBase], None]) -> None:
    """Call ``fit(renderer)`` once the layout has given ``ax`` its size.

    For what depends on the axes' size in pixels, such as limits that leave
    room for value labels: before the layout is solved that size is unknown.
    :func:`simulator.present.charts.freeze_layout` (every chart file and every
    report page) runs these.
    """
    _AFTER_LAYOUT[ax] = fit


def fit_after_layout(fig: Figure) -> bool:
    """Run the :func:`after_layout` functions of the axes of ``fig``; say whether there were any."""
    fits = [_AFTER_LAYOUT[ax] for ax in fig.findobj(Axes) if ax in _AFTER_LAYOUT]
    if fits:
        renderer = fig.canvas.get_renderer()
        for fit in fits:
            fit(renderer)
    return bool(fits)
