"""The house chart style: matplotlib rcParams, colours, line styles, sizes and DPI.

Probability bands are one blue hue whose lightness steps with the band, darkest
in the middle (readable in black-and-white print and for every kind of colour
blindness); the budget is a dashed vermilion line and the median a black line
with a white halo, so they differ by dash pattern as well as colour.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import matplotlib
import numpy as np
from matplotlib.patheffects import withStroke

from simulator.present.charts.stats import FAN_COVERAGES

#: One hue, lightness stepping with the band: monotonic in grey when printed.
BAND_COLOURS = tuple(
    matplotlib.colors.to_hex(c)
    for c in matplotlib.colormaps["Blues"](np.linspace(0.14, 0.78, len(FAN_COVERAGES)))
)

BUDGET_COLOUR = "#D55E00"  # Okabe-Ito vermilion: distinct from blue for all colour vision

BUDGET_DASH = (0, (6, 3))

MEDIAN_HALO = [withStroke(linewidth=3.2, foreground="white")]

#: Okabe-Ito colours and hatches for departments: colour and pattern both differ.
DEPT_COLOURS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#F0E442")

DEPT_HATCHES = ("", "///", "...", "xxx", "\\\\\\", "---")

SCENARIO_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")

SCENARIO_LINES = ("-", "--", "-.", ":", (0, (5, 1, 1, 1)), (0, (1, 1)), (0, (8, 2)), (0, (3, 3)))

#: Width of a chart in inches: the text width of an A4 page with 2 cm margins.
CHART_WIDTH = 6.7

#: Height of a full-size fan chart: two fit on an A4 page of the report.
FAN_HEIGHT = 5.0

DPI = 150


STYLE = {
    "font.family": "DejaVu Sans",
    "font.size": 9,
    "axes.titlesize": 9.5,
    "axes.titleweight": "bold",
    "axes.labelsize": 9,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "legend.fontsize": 8,
    "legend.frameon": True,
    "legend.framealpha": 0.95,
    "legend.edgecolor": "#bbbbbb",
    "figure.titlesize": 11,
    "figure.titleweight": "bold",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#dddddd",
    "grid.linewidth": 0.6,
    "axes.axisbelow": True,
    "axes.unicode_minus": True,
    "hatch.linewidth": 0.6,
    # Text stays text: searchable and editable in SVG, extractable in PDF.
    "svg.fonttype": "none",
    # Labels are the council's text, never formulas: "Costs $5 to $10" keeps its
    # dollar signs, and a label like "$\\foo$" cannot stop a chart being drawn.
    "text.parse_math": False,
    # A fixed salt for the ids of SVG paths and clips: with none, matplotlib
    # draws random ones, so the same run gave different files each time.
    "svg.hashsalt": "overspend",
    "pdf.fonttype": 42,
    "savefig.dpi": DPI,
    # matplotlib's own defaults, pinned: a user's matplotlibrc (a tight bounding box, a
    # transparent or coloured background) must not change the charts, whose PNGs are drawn
    # from the canvas (files._save_png) and whose SVGs go through savefig.
    "figure.facecolor": "white",
    "figure.edgecolor": "white",
    "savefig.facecolor": "auto",
    "savefig.edgecolor": "auto",
    "savefig.transparent": False,
    "savefig.bbox": "standard",
    "figure.autolayout": False,
    "figure.constrained_layout.use": False,
}


@contextmanager
def chart_style() -> Iterator[None]:
    """Apply the house chart style for drawing and saving."""
    with matplotlib.rc_context(STYLE):
        yield
