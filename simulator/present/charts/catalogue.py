"""The set of charts for a run: the :class:`Chart` type and :func:`chart_list`.

A :class:`Chart` is a file name, a size and a function that draws it on a
figure; :func:`chart_list` gives a run's charts in report order.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import xarray as xr
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure, SubFigure

from simulator.present.charts.distributions import draw_distribution
from simulator.present.charts.drivers import draw_drivers
from simulator.present.charts.fans import (
    draw_inyear,
    draw_inyear_grid,
    draw_medium,
    draw_medium_grid,
)
from simulator.present.charts.frame import RunInfo, fit_after_layout, sensitivity_run
from simulator.present.charts.scenarios import draw_scenarios
from simulator.present.charts.sensitivity import draw_sobol, draw_tornado
from simulator.present.charts.stats import (
    drivers_data,
    inyear_data,
    line_services,
    medium_data,
    officer_forecast,
    service_label,
    services_of,
)
from simulator.present.charts.style import CHART_WIDTH, DPI, FAN_HEIGHT


@dataclass(frozen=True)
class Chart:
    """One chart: a file name, a size and a function that draws it on a figure.

    Attributes
    ----------
    name : str
        File stem, e.g. ``inyear_total_2024-25``.
    title : str
        Short description (alternative text in the report).
    size : tuple of float
        Width and height in inches.
    draw : callable
        ``draw(fig)`` draws the chart on a ``Figure`` or ``SubFigure``.
    kind : str
        ``inyear``, ``medium``, ``distribution``, ``drivers``, ``tornado``,
        ``sobol`` or ``scenarios``: where the report puts it.
    year : str or None
        The financial year shown, for single-year charts.
    """

    name: str
    title: str
    size: tuple[float, float]
    draw: Callable[[Figure | SubFigure], None] = field(repr=False)
    kind: str = ""
    year: str | None = None

    def figure(self) -> Figure:
        """A new figure of the chart (call inside :func:`chart_style`).

        Laid out, not yet drawn: what only a draw places (a legend's entries) is
        measured after saving or drawing it.
        """
        fig = Figure(figsize=self.size, dpi=DPI, layout="constrained")
        fig.get_layout_engine().set(w_pad=0.06, h_pad=0.06)
        FigureCanvasAgg(fig)  # a canvas that can measure text, for layout and for tests
        self.draw(fig)
        freeze_layout(fig)
        return fig


def freeze_layout(fig: Figure) -> None:
    """Solve the constrained layout once and keep it.

    Saving a figure with a layout engine draws it twice (a dry run, then the
    real one), solving the layout each time, and again for every format;
    freezing it after one solve halves the time to write PNG and SVG. Axes
    whose limits depend on their solved size (:func:`frame.after_layout`) are
    fitted, and the layout solved again with their new ticks.
    """
    # The solve alone, not ``draw_without_rendering``: that also draws every artist (with
    # rendering off) after solving, which the layout does not need (a third of its time).
    engine = fig.get_layout_engine()
    engine.execute(fig)
    if fit_after_layout(fig):
        # Limits fitted to the solved sizes change some ticks: solve once more, fit again.
        engine.execute(fig)
        fit_after_layout(fig)
    # With no engine at all (not even the "none" placeholder) saving skips its dry-run draw;
    # the positions solved above stay. STYLE keeps the rc defaults that make None mean none.
    fig.set_layout_engine(None)


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in text.lower()).strip("-")


#: Longest service or department part of a chart's file name (a file name may
#: have 255 bytes; a department can be named at length).
MAX_SLUG = 40


def file_stems(keys: list[str]) -> dict[str, str]:
    """The part of a chart's file name for each service, department or the total.

    The key in lower case with anything but letters and digits as hyphens,
    e.g. ``children-and-family-services``. Where that is longer than
    :data:`MAX_SLUG` characters, empty, or the same for two keys
    (``Children/Families`` and ``Children-Families``), it is cut short and ends
    in eight characters of a hash of the key, so that every key has a short
    file name of its own and keeps it from run to run.
    """
    plain = {key: _slug(key) for key in keys}
    seen = Counter(plain.values())
    stems = {}
    for key, slug in plain.items():
        if not slug or len(slug) > MAX_SLUG or seen[slug] > 1:
            digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:8]
            slug = "-".join(part for part in (slug[: MAX_SLUG - 9].strip("-"), digest) if part)
        stems[key] = slug
    return stems


#: Small multiples per figure: five rows of three fill an A4 page.
GRID_PANELS = 15


def _chunks(keys: list[str], size: int = GRID_PANELS) -> list[list[str]]:
    return [keys[i : i + size] for i in range(0, len(keys), size)]


def _grid_height(panels: int) -> float:
    return 1.3 + 1.72 * int(np.ceil(panels / 3))


def chart_list(
    ds: xr.Dataset,
    sensitivity: xr.Dataset | None = None,
    scenarios: xr.Dataset | None = None,
    every: bool = False,
    headline: bool = False,
) -> list[Chart]:
    """The charts for a run, in report order.

    By default (about 20 charts for a four-year horizon, so that drawing takes
    seconds, not minutes): the in-year fan of all services for every year; of
    each department, and of each service as small multiples, for the first
    year; the medium-term fan of all services and of each department, and small
    multiples of every line; the overspend distribution of all services and the
    risk drivers for every year; and tornado, Sobol and scenario charts when
    those results are given. ``every=True`` draws the in-year fans (full size
    and small multiples), medium-term fans and distributions of every service
    and department for every year.

    Parameters
    ----------
    ds : xarray.Dataset
        Results Dataset.
    sensitivity, scenarios : xarray.Dataset, optional
        Contents of ``sensitivity.nc`` and ``scenarios.nc``.
    every : bool
        Draw every service and year in full.
    headline : bool
        Only the headline charts (:func:`headline_names`), what ``overspend run``
        draws; ``overspend chart`` and the report draw the rest.

    Returns
    -------
    list of Chart
    """
    if headline:
        wanted = headline_names(ds)
        return [c for c in chart_list(ds) if c.name in wanted]
    run = RunInfo.from_dataset(ds)
    years = [str(y) for y in ds["financial_year"].values]
    depts = services_of(ds, "department")
    lines = line_services(ds)
    stem = file_stems(services_of(ds))
    detail_years = years if every else years[:1]
    charts: list[Chart] = []
    for key in ["total", *depts, *(lines if every else [])]:
        for year in years if key == "total" else detail_years:
            d = inyear_data(ds, key, year)
            charts.append(
                Chart(
                    f"inyear_{stem[key]}_{_slug(year)}",
                    f"In-year fan chart: {d.label}, {year}",
                    (CHART_WIDTH, FAN_HEIGHT),
                    lambda f, d=d: draw_inyear(f, d, run),
                    "inyear",
                    year,
                )
            )
    for year in detail_years:
        for part, panels in enumerate(_chunks(lines)):
            charts.append(
                Chart(
                    f"inyear_services_{_slug(year)}" + (f"_{part + 1}" if part else ""),
                    f"In-year fan charts of each service, {year}",
                    (CHART_WIDTH, _grid_height(len(panels))),
                    lambda f, y=year, p=panels: draw_inyear_grid(f, ds, y, p, run),
                    "inyear",
                    year,
                )
            )
    for key in ["total", *depts, *(lines if every else [])]:
        d = medium_data(ds, key)
        charts.append(
            Chart(
                f"medium_{stem[key]}",
                f"Medium-term fan chart: {d.label}",
                (CHART_WIDTH, FAN_HEIGHT),
                lambda f, d=d: draw_medium(f, d, run),
                "medium",
            )
        )
    for part, panels in enumerate(_chunks([*depts, *lines])):
        charts.append(
            Chart(
                "medium_services" + (f"_{part + 1}" if part else ""),
                "Medium-term fan charts of each department and service",
                (CHART_WIDTH, _grid_height(len(panels))),
                lambda f, p=panels: draw_medium_grid(f, ds, p, run),
                "medium",
            )
        )
    for key in ["total", *(depts + lines if every else [])]:
        label = service_label(ds, key)
        for year in years:
            over = ds["overspend"].sel(service=key, financial_year=year).values
            forecast = officer_forecast(ds, key, year)
            charts.append(
                Chart(
                    f"distribution_{stem[key]}_{_slug(year)}",
                    f"Overspend distribution: {label}, {year}",
                    (CHART_WIDTH, 4.0),
                    lambda f, o=over, lab=label, y=year, fc=forecast: draw_distribution(
                        f, o, lab, y, run, fc
                    ),
                    "distribution",
                    year,
                )
            )
    for year in years:
        d = drivers_data(ds, year)
        charts.append(
            Chart(
                f"drivers_{_slug(year)}",
                f"What drives the risk, {year}",
                (CHART_WIDTH, 1.7 + 0.3 * len(lines)),
                lambda f, d=d: draw_drivers(f, d, run),
                "drivers",
                year,
            )
        )
    return charts + _sensitivity_charts(ds, sensitivity, scenarios)


def headline_names(ds: xr.Dataset) -> set[str]:
    """File stems of the headline charts: one of each kind, all services, the first year.

    The in-year fan, the medium-term fan, the overspend distribution and the risk
    drivers. ``overspend run`` draws only these, so that a run costs little more
    than its simulation (a chart costs about a third of a second of CPU); the
    other charts of the default set are drawn by ``overspend chart`` and in the report.
    """
    year = _slug(str(ds["financial_year"].values[0]))
    total = file_stems(services_of(ds))["total"]
    return {f"inyear_{total}_{year}", f"medium_{total}", f"distribution_{total}_{year}",
            f"drivers_{year}"}  # fmt: skip


def _sensitivity_charts(
    ds: xr.Dataset, sens: xr.Dataset | None, scen: xr.Dataset | None
) -> list[Chart]:
    """Tornado, Sobol and scenario charts for whatever those results hold."""
    charts: list[Chart] = []
    labels = {k: service_label(ds, k) for k in services_of(ds)}
    years = [str(y) for y in ds["financial_year"].values]
    if sens is not None and "input" in sens.dims:
        if "financial_year" in sens.dims:
            years = [y for y in years if y in {str(v) for v in sens["financial_year"].values}]
        n = min(12, sens.sizes["input"])
        has = set(sens.data_vars)
        tornado_run = sensitivity_run(ds, sens, "tornado")
        sobol_run = sensitivity_run(ds, sens, "sobol")
        for year in years:
            if {"tornado_mean_low", "tornado_mean_high"} <= has:
                charts.append(
                    Chart(
                        f"tornado_{_slug(year)}",
                        f"Tornado chart, {year}",
                        (CHART_WIDTH, 1.9 + 0.34 * n),
                        lambda f, y=year: draw_tornado(f, sens, y, tornado_run, labels),
                        "tornado",
                        year,
                    )
                )
            if {"first_order", "total_order"} <= has:
                charts.append(
                    Chart(
                        f"sobol_{_slug(year)}",
                        f"Sobol sensitivity indices, {year}",
                        (CHART_WIDTH, 2.1 + 0.42 * (n + 1)),
                        lambda f, y=year: draw_sobol(f, sens, y, sobol_run, labels),
                        "sobol",
                        year,
                    )
                )
    if scen is not None and "scenario" in scen.dims:
        has_draws = "overspend" in scen and "draw" in scen["overspend"].dims
        if has_draws or {"mean_overspend", "p_overspend"} <= set(scen.data_vars):
            charts.append(
                Chart(
                    "scenarios",
                    "Scenarios compared",
                    (CHART_WIDTH, 3.8),
                    lambda f: draw_scenarios(f, scen, sensitivity_run(ds, scen, "scenarios")),
                    "scenarios",
                )
            )
    return charts
