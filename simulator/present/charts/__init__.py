"""Risk charts: fan charts, overspend distributions, risk drivers, sensitivity.

Every chart is drawn by a function that takes a matplotlib ``Figure`` (or a
``SubFigure`` of a report page) and the data it shows, so the same drawing
serves the PNG and SVG files of ``overspend chart`` and the vector pages of the
PDF report. Nothing here uses ``pyplot``: figures are plain ``Figure`` objects,
so drawing is free of global state and works without a display.

Conventions that hold for every chart (the cabinet-paper rules of the issue):

- money on axes is in £m, drawn from GBP values (the plotted data are the
  Dataset's numbers, unscaled, so tests can compare them exactly);
- probability bands are one blue hue whose lightness steps with the band,
  darkest in the middle (Bank of England style): readable in black-and-white
  print and for every kind of colour blindness;
- the budget is a dashed vermilion line (Okabe-Ito palette) and the median a
  black line with a white halo, so they differ by dash pattern as well as colour;
- cumulative and annual spend start their axis at zero and always show the
  budget; "gap to budget" panels always show the zero (on-budget) line;
- the council, financial year, number of draws, seed and run date are in the
  title or caption.

The data functions (:func:`fan`, :func:`inyear_data`, :func:`drivers_data`, ...)
are separate from the drawing ones so that tests can check the plotted numbers
against quantiles computed directly from the Dataset.

Modules
-------
style
    rcParams (:func:`chart_style`), colours, line styles, sizes and DPI.
formatting
    £m, percentage and date text, and the £m axis ticks.
stats
    The numbers a chart shows: fan quantiles, in-year and medium-term data,
    risk drivers, histogram bins, sensitivity and scenario summaries.
frame
    :class:`RunInfo` and the title, body and caption every chart is drawn in.
fans, distributions, drivers, sensitivity, scenarios
    Drawing of each chart kind.
catalogue
    The :class:`Chart` type and :func:`chart_list`, a run's charts in report order.
files
    Writing the charts to PNG and SVG files (:func:`write_charts`, :func:`replace_charts`).

Every name that callers used from the single module ``charts.py`` is importable
from this package; the sensitivity inputs' labels come from the one table of
inputs (:func:`simulator.config.inputs.input_label`).
"""

from __future__ import annotations

from simulator.config.inputs import input_label
from simulator.present.charts.catalogue import GRID_PANELS, Chart, chart_list, freeze_layout
from simulator.present.charts.distributions import draw_distribution
from simulator.present.charts.drivers import draw_drivers, drivers_title
from simulator.present.charts.fans import (
    draw_inyear,
    draw_inyear_grid,
    draw_medium,
    draw_medium_grid,
)
from simulator.present.charts.files import (
    CHART_SUFFIXES,
    FORMATS,
    _metadata,
    check_charts_folder,
    replace_charts,
    write_charts,
)
from simulator.present.charts.formatting import (
    MoneyFormatter,
    chart_decimals,
    date_text,
    money_text,
    p90_phrase,
    pct_text,
    signed_money,
)
from simulator.present.charts.frame import RunInfo, sensitivity_run
from simulator.present.charts.scenarios import draw_scenarios
from simulator.present.charts.sensitivity import CASE_LEVEL_LABEL, draw_sobol, draw_tornado
from simulator.present.charts.stats import (
    FAN_COVERAGES,
    Drivers,
    Fan,
    InYear,
    MediumTerm,
    ScenarioSummary,
    band_levels,
    drivers_data,
    fan,
    inyear_data,
    line_services,
    medium_data,
    officer_forecast,
    scenario_summary,
    service_label,
    services_of,
)
from simulator.present.charts.style import (
    BAND_COLOURS,
    BUDGET_COLOUR,
    BUDGET_DASH,
    CHART_WIDTH,
    DEPT_COLOURS,
    DEPT_HATCHES,
    DPI,
    FAN_HEIGHT,
    MEDIAN_HALO,
    SCENARIO_LINES,
    SCENARIO_MARKERS,
    STYLE,
    chart_style,
)

__all__ = [
    "BAND_COLOURS",
    "BUDGET_COLOUR",
    "BUDGET_DASH",
    "CASE_LEVEL_LABEL",
    "CHART_SUFFIXES",
    "CHART_WIDTH",
    "DEPT_COLOURS",
    "DEPT_HATCHES",
    "DPI",
    "FAN_COVERAGES",
    "FAN_HEIGHT",
    "FORMATS",
    "GRID_PANELS",
    "MEDIAN_HALO",
    "SCENARIO_LINES",
    "SCENARIO_MARKERS",
    "STYLE",
    "Chart",
    "Drivers",
    "Fan",
    "InYear",
    "MediumTerm",
    "MoneyFormatter",
    "RunInfo",
    "ScenarioSummary",
    "_metadata",
    "band_levels",
    "chart_decimals",
    "chart_list",
    "chart_style",
    "check_charts_folder",
    "date_text",
    "draw_distribution",
    "draw_drivers",
    "draw_inyear",
    "draw_inyear_grid",
    "draw_medium",
    "draw_medium_grid",
    "draw_scenarios",
    "draw_sobol",
    "draw_tornado",
    "drivers_data",
    "drivers_title",
    "fan",
    "freeze_layout",
    "input_label",
    "inyear_data",
    "line_services",
    "medium_data",
    "money_text",
    "officer_forecast",
    "p90_phrase",
    "pct_text",
    "replace_charts",
    "scenario_summary",
    "sensitivity_run",
    "service_label",
    "services_of",
    "signed_money",
    "write_charts",
]
