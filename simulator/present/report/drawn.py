"""Charts drawn once per report: the same laid-out figure serves the HTML and the PDF.

A chart costs most of its time in matplotlib creating its artists and solving
their layout (measuring every label). The report used to do both twice per
chart, once for the PNG of the HTML and again inside a PDF page; now
:class:`DrawnCharts` keeps each chart's figure, laid out once, and
:func:`draw_on_page` draws that same figure onto a PDF page at its place (a
PDF translation), as vectors with text as text. A chart in the PDF is thus laid
out exactly as its PNG is.
"""

from __future__ import annotations

from dataclasses import replace

from matplotlib.backends.backend_mixed import MixedModeRenderer
from matplotlib.backends.backend_pdf import Op, PdfFile, RendererPdf
from matplotlib.figure import Figure

from simulator.present.charts import DPI, Chart


class DrawnCharts:
    """Each chart's figure, drawn and laid out on first use (call inside ``chart_style``).

    Keyed by the chart and its height: a chart shrunk to fit a PDF page is a
    figure of its own (its layout depends on its size).
    """

    def __init__(self) -> None:
        self._figures: dict[tuple[int, float], tuple[Chart, Figure]] = {}

    def figure(self, chart: Chart, height: float | None = None) -> Figure:
        """The laid-out figure of ``chart``, ``height`` inches tall (default: its own height)."""
        # To a millionth of an inch: a page's rows are placed in floating point.
        height = round(chart.size[1] if height is None else height, 6)
        key = (id(chart), height)
        if key not in self._figures:
            sized = chart
            if height != round(chart.size[1], 6):
                sized = replace(chart, size=(chart.size[0], height))
            # The chart is kept with its figure, so its id is not reused while the key lives.
            self._figures[key] = (chart, sized.figure())
        return self._figures[key][1]


def draw_on_page(file: PdfFile, fig: Figure, x: float = 0.0, y: float = 0.0) -> None:
    """Draw ``fig`` onto the current page of ``file`` with its lower left corner at (x, y) inches.

    What ``savefig`` to a PDF does for a figure without a layout engine (points
    for pixels, images at :data:`DPI`), inside a saved graphics state moved by
    (x, y): the renderer starts from, and leaves, the page's initial state, so
    figures drawn one after another on a page cannot disturb each other.
    """
    if fig.get_layout_engine() is not None:
        raise ValueError("draw_on_page: solve and freeze the figure's layout first")
    width, height = fig.get_size_inches()
    dpi = fig.dpi
    fig.dpi = 72  # PDF units are points, as in matplotlib's own PDF writer
    try:
        file.output(Op.gsave)
        file.output(1, 0, 0, 1, 72 * x, 72 * y, Op.concat_matrix)
        renderer = MixedModeRenderer(fig, width, height, DPI, RendererPdf(file, DPI, height, width))
        fig.draw(renderer)
        renderer.finalize()
        file.output(Op.grestore)
    finally:
        fig.dpi = dpi
