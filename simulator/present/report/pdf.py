"""``report.pdf``: the report typeset on A4 pages with matplotlib's own PDF backend.

Laid out like a cabinet paper appendix (running header, page numbers); the
charts are drawn as vectors onto the pages and all text is real text, so it can
be searched and copied. Text is measured with the same font metrics the PDF
uses, wrapped, and split into pages (:func:`paginate`).

A page is a figure of text rows placed by their heights (no layout engine: the
rows' heights are known, and solving a layout for a page of text cost as much as
drawing it); each chart is the figure the HTML's PNG was drawn from
(:class:`~simulator.present.report.drawn.DrawnCharts`), drawn onto the page at
its row (:func:`~simulator.present.report.drawn.draw_on_page`). A row's lines of
text are one artist (:class:`_Lines`) that hands each line to the PDF renderer
where a ``Text`` would have put it: a ``Text`` per line measured every line again
before drawing it, which cost a third of the text pages' time.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import ClassVar

import matplotlib
import numpy as np
from matplotlib.artist import Artist
from matplotlib.backends.backend_agg import FigureCanvasAgg, RendererAgg
from matplotlib.backends.backend_pdf import PdfFile
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure, SubFigure
from matplotlib.font_manager import FontProperties

from simulator.present.charts import Chart, RunInfo, chart_style
from simulator.present.report.blocks import (
    Block,
    Bullets,
    CabinetPage,
    ChartBlock,
    Heading,
    PageBreak,
    Paragraph,
    Table,
)
from simulator.present.report.drawn import DrawnCharts, draw_on_page

A4 = (8.27, 11.69)  # inches
MARGIN_X, MARGIN_TOP, MARGIN_BOTTOM = 0.8, 0.75, 0.75
TEXT_WIDTH = A4[0] - 2 * MARGIN_X
BODY_HEIGHT = A4[1] - MARGIN_TOP - MARGIN_BOTTOM
FONT = FontProperties(family="DejaVu Sans")
# (font size in points, bold, space above in inches) for each heading level
HEADINGS = {0: (17, True, 0.0), 1: (13, True, 0.12), 2: (10.5, True, 0.08), 3: (9.5, True, 0.04)}
BODY_PT, LIST_PT, TABLE_PT, LEADING = 9.5, 9, 7.5, 1.35
#: A page is ended early (by a section's page break, or a chart that does not fit) only when
#: at least this share of it is used; else the section runs on and charts shrink to fit.
FULL = 2 / 3
#: The least a chart may shrink to, as a share of its height, to fill a page.
SHRINK = 0.5
#: Space below a chart, inches.
CHART_GAP = 0.08


class _Measure:
    """Text widths in inches, measured with the same font metrics the PDF uses."""

    def __init__(self) -> None:
        self._renderer = RendererAgg(10, 10, 72)
        self._cache: dict[tuple[str, float, bool], float] = {}

    def width(self, text: str, size: float, bold: bool = False) -> float:
        key = (text, size, bold)
        if key not in self._cache:
            prop = FONT.copy()
            prop.set_size(size)
            prop.set_weight("bold" if bold else "normal")
            w, _, _ = self._renderer.get_text_width_height_descent(text, prop, ismath=False)
            self._cache[key] = w / 72
        return self._cache[key]

    def wrap(self, text: str, size: float, width: float, bold: bool = False) -> list[str]:
        """Greedy word wrap of ``text`` into lines no wider than ``width`` inches.

        Words are measured one at a time (cached) and summed with the width of
        a space; the 3% allowance covers kerning between words.
        """
        space = self.width("a b", size, bold) - self.width("ab", size, bold)
        limit = width * 0.97
        lines: list[str] = []
        line, used = "", 0.0
        for word in text.split():
            w = self.width(word, size, bold)
            if line and used + space + w > limit:
                lines.append(line)
                line, used = word, w
            else:
                line, used = (f"{line} {word}", used + space + w) if line else (word, w)
        return [*lines, line] if line else lines


@dataclass
class _Placed:
    """A block laid out for the PDF: its height (inches) and how to draw it."""

    height: float
    draw: Callable[[SubFigure], None]
    keep_with_next: bool = False
    header: _Placed | None = None  # a table row's header, repeated on a new page
    group: float = 0.0  # on a table's header: the whole table's height
    page: Callable[[Figure, str], None] | None = None  # draws a whole page (with its footer)
    shrink: float = 0.0  # the least height it may be drawn at to fill a page (0: as it is)
    chart: Chart | None = None  # a chart, drawn in the top of the piece (less CHART_GAP)


def _line_h(size: float) -> float:
    return size * LEADING / 72


class _Lines(Artist):
    """Lines of plain text, each drawn on its baseline at a point of a (sub)figure.

    Each line goes straight to the renderer's ``draw_text`` at the place a
    ``Text(x, y, line, va="baseline")`` would give it (left aligned at ``x``, or
    right aligned: ending at ``x``), in the same font, size and colour, so the
    PDF holds the same text at the same places (to rounding in the tenth
    decimal of a point). Only a right-aligned line is measured (for its width).
    Text is never read as mathematics: a ``$`` is a dollar sign.
    """

    zorder = 3  # a Text's
    #: Widths of right-aligned lines by renderer kind and scale, text and font: table cells
    #: repeat ("£0.0m"). Kept while the process lives, as matplotlib's text metrics cache is.
    _widths: ClassVar[dict[tuple, float]] = {}

    def __init__(self, fig: SubFigure) -> None:
        super().__init__()
        self.set_transform(fig.transSubfigure)
        self._items: list[tuple[float, float, str, FontProperties, tuple, bool]] = []

    def add(self, x: float, y: float, text: str, size: float, bold: bool = False,
            color="black", right: bool = False) -> None:  # fmt: skip
        """A line whose baseline starts (or, ``right``, ends) at (x, y), in figure fractions."""
        if not text:
            return  # a Text of no text draws nothing
        # The font a Text would take from the style in force (a Text reads rcParams too).
        prop = FontProperties(size=size, weight="bold" if bold else "normal")
        self._items.append((x, y, text, prop, to_rgba(color), right))

    def draw(self, renderer) -> None:
        if not self.get_visible():
            return
        trans = self.get_transform()
        gc = renderer.new_gc()
        gc.set_antialiased(matplotlib.rcParams["text.antialiased"])
        for x, y, text, prop, rgba, right in self._items:
            px, py = trans.transform((x, y))
            if right:
                px -= self._width(renderer, text, prop)
            gc.set_foreground(rgba, isRGBA=True)
            renderer.draw_text(gc, px, py, text, prop, 0.0, ismath=False)
        gc.restore()
        self.stale = False

    @classmethod
    def _width(cls, renderer, text: str, prop: FontProperties) -> float:
        """The width the renderer measures, in its units (the same for renderers of one kind
        and scale: a PDF renderer's metrics are in points whatever the page)."""
        measure = renderer.get_text_width_height_descent  # the PDF's, through a mixed renderer
        key = (type(measure.__self__), renderer.points_to_pixels(1.0), text, prop)
        if key not in cls._widths:
            if len(cls._widths) > 50_000:
                cls._widths.clear()
            cls._widths[key] = measure(text, prop, ismath=False)[0]
        return cls._widths[key]


def _lines_artist(fig: SubFigure) -> _Lines:
    """The (sub)figure's one :class:`_Lines` artist, added on first use."""
    for artist in fig.artists:
        if isinstance(artist, _Lines):
            return artist
    lines = _Lines(fig)
    fig.add_artist(lines)
    return lines


def _text_lines(
    fig: SubFigure, lines: list[str], size: float, x: float, top: float = 0.0, bold=False,
    color="black",
) -> None:  # fmt: skip
    """Draw lines downwards from ``top`` inches below the top of ``fig``, ``x`` inches from the left."""
    height = fig.bbox.height / fig.figure.dpi
    out = _lines_artist(fig)
    for i, line in enumerate(lines):
        y = 1 - (top + (i + 0.8) * _line_h(size)) / height
        out.add(x / A4[0], y, line, size, bold, color)


def _place(block: Block, m: _Measure) -> list[_Placed]:
    """Lay out one block; long lists and tables become several pieces that may split."""
    if isinstance(block, Heading):
        size, bold, above = HEADINGS[block.level]
        lines = m.wrap(block.text, size, TEXT_WIDTH, bold)
        colour = "#08519c" if block.level <= 1 else "black"

        def draw(f, lines=lines, size=size, above=above):
            _text_lines(f, lines, size, MARGIN_X, above, bold, color=colour)

        return [_Placed(above + len(lines) * _line_h(size) + 0.06, draw, keep_with_next=True)]
    if isinstance(block, Paragraph):
        indent = 0.12 if block.emphasis else 0
        lines = m.wrap(block.text, BODY_PT, TEXT_WIDTH - 2 * indent, block.emphasis)

        pad = 0.07 if block.emphasis else 0.0  # inside the tinted box, above and below
        gap = 0.08  # after the paragraph
        height = len(lines) * _line_h(BODY_PT) + 2 * pad + gap

        def draw(f, lines=lines, indent=indent, emphasis=block.emphasis):
            if emphasis:
                f.add_artist(_tint(f, MARGIN_X, gap, TEXT_WIDTH, height - gap))
            _text_lines(f, lines, BODY_PT, MARGIN_X + indent, pad, emphasis)

        return [_Placed(height, draw)]
    if isinstance(block, Bullets):
        out = []
        for item in block.items:
            lines = m.wrap(item, LIST_PT, TEXT_WIDTH - 0.2)

            def draw(f, lines=lines):
                _text_lines(f, ["\u2022"], LIST_PT, MARGIN_X + 0.03)
                _text_lines(f, lines, LIST_PT, MARGIN_X + 0.2)

            out.append(_Placed(len(lines) * _line_h(LIST_PT) + 0.04, draw))
        return out
    if isinstance(block, Table):
        return _place_table(block, m)
    if isinstance(block, CabinetPage):
        from simulator.present.report.cabinet import draw_cabinet_page

        def page(fig, footer, s=block.summary):
            draw_cabinet_page(fig, s, None, footer)

        return [_Placed(BODY_HEIGHT, lambda f: None, page=page)]
    if isinstance(block, ChartBlock):
        chart = block.chart
        # A chart taller than the page is drawn shorter (its panels shrink) rather than cut.
        height = min(chart.size[1], BODY_HEIGHT - 0.2)
        return [_Placed(height + CHART_GAP, lambda f: None, shrink=SHRINK * height, chart=chart)]
    return []


def _tint(fig: SubFigure, x: float, y: float, w: float, h: float):
    """A tinted box behind a key message; position and size in inches within ``fig``."""
    from matplotlib.patches import Rectangle

    fh = fig.bbox.height / fig.figure.dpi
    return Rectangle(
        (x / A4[0], y / fh), w / A4[0], h / fh, transform=fig.transSubfigure,
        facecolor="#eef3fa", edgecolor="none", zorder=-1,
    )  # fmt: skip


def _place_table(table: Table, m: _Measure) -> list[_Placed]:
    """A table as one piece per row (the header is redrawn after a page break)."""
    weights = np.asarray(table.widths or [1.0] * len(table.columns), float)
    widths = TEXT_WIDTH * weights / weights.sum()
    pad = 0.04

    def cell_lines(row: Sequence[str], bold: bool) -> list[list[str]]:
        return [
            m.wrap(v, TABLE_PT, w - 2 * pad, bold) or [""] for v, w in zip(row, widths, strict=True)
        ]

    def piece(row: Sequence[str], bold: bool, header: bool) -> _Placed:
        cells = cell_lines(row, bold)
        n = max(len(c) for c in cells)
        height = n * _line_h(TABLE_PT) + 0.06

        def draw(f, cells=cells):
            x = MARGIN_X
            out = _lines_artist(f)
            for lines, w, a in zip(cells, widths, table.align, strict=True):
                for i, line in enumerate(lines):
                    y = 1 - (i + 0.85) * _line_h(TABLE_PT) / height - 0.02 / height
                    left = a == "l"
                    xx = x + pad if left else x + w - pad
                    out.add(xx / A4[0], y, line, TABLE_PT, bold, right=not left)
                x += w
            f.add_artist(_rule(f, height, header))

        return _Placed(height, draw, keep_with_next=header)

    header = piece(table.columns, True, True)
    strong = table.strong or [False] * len(table.rows)
    rows = [piece(r, s, False) for r, s in zip(table.rows, strong, strict=True)]
    for r in rows:
        r.header = header
    header.group = header.height + sum(r.height for r in rows)
    return [header, *rows]


def _rule(fig: SubFigure, height: float, heavy: bool):
    from matplotlib.lines import Line2D

    return Line2D(
        [MARGIN_X / A4[0], (MARGIN_X + TEXT_WIDTH) / A4[0]], [0, 0],
        transform=fig.transSubfigure, color="#555555" if heavy else "#cccccc",
        lw=0.9 if heavy else 0.5,
    )  # fmt: skip


def _need(piece: _Placed, whole: bool = True) -> float:
    """Room a piece needs on the page: a whole table's, if ``whole`` and it fits on one page."""
    return piece.group if whole and 0 < piece.group <= BODY_HEIGHT * 0.9 else piece.height


def _shrink_to_fit(pieces: list, i: int, room: float, need: float) -> float:
    """Shrink the chart at ``i`` (or just after the heading at ``i``) to fit ``room`` inches.

    Returns how much less room the pieces now need (0 when the chart cannot
    shrink enough, or there is none).
    """
    k = i if pieces[i].shrink or not pieces[i].keep_with_next else i + 1
    chart = pieces[k] if k < len(pieces) else None
    if chart is None or not chart.shrink:
        return 0.0
    others = need - chart.height
    if others + chart.shrink + CHART_GAP > room:
        return 0.0
    height = room - others
    pieces[k] = replace(chart, height=height)
    return chart.height - height


def paginate(blocks: Sequence[Block], m: _Measure | None = None) -> list[list[_Placed]]:
    """Split the blocks into A4 pages: headings stay with what follows, tables repeat headers."""
    m = m or _Measure()
    pages: list[list[_Placed]] = [[]]
    used = 0.0
    pieces: list[_Placed | None] = []
    for block in blocks:
        pieces += [None] if isinstance(block, PageBreak) else _place(block, m)
    i = 0
    while i < len(pieces):
        piece = pieces[i]
        if piece is None:
            if pages[-1] and used >= FULL * BODY_HEIGHT:
                pages.append([])
                used = 0.0
            i += 1
            continue
        # A heading must fit with what follows it, and a table that fits on a page stays whole.
        if piece.page is not None:  # a page of its own
            if pages[-1]:
                pages.append([])
            pages[-1].append(piece)
            pages.append([])
            used = 0.0
            i += 1
            continue
        # A table is kept whole unless that would leave the page a third empty.
        whole = used >= FULL * BODY_HEIGHT
        need = _need(piece, whole)
        if piece.keep_with_next and i + 1 < len(pieces) and pieces[i + 1] is not None:
            need += _need(pieces[i + 1], whole)
        if used + need > BODY_HEIGHT and pages[-1] and used < FULL * BODY_HEIGHT:
            need -= _shrink_to_fit(pieces, i, BODY_HEIGHT - used, need)
            piece = pieces[i]
        if used + need > BODY_HEIGHT and pages[-1]:
            pages.append([])
            used = 0.0
            if piece.header is not None:
                pages[-1].append(piece.header)
                used += piece.header.height
        pages[-1].append(piece)
        used += piece.height
        i += 1
    return [p for p in pages if p]


def _page_figure(page: list[_Placed], footer: str, run: RunInfo) -> tuple[Figure, list]:
    """The page's running header, text and footer, with an empty row for each chart.

    Returns the figure and the rows of ``page``'s pieces. The rows are placed by
    their heights alone: the constrained layout the page once had gave them the
    same places (to a billionth of a pixel) and only served the charts drawn in them.
    """
    fig = Figure(figsize=A4)
    filler = BODY_HEIGHT - sum(p.height for p in page)
    heights = [MARGIN_TOP, *(p.height for p in page), max(filler, 0.01), MARGIN_BOTTOM]
    rows = fig.subfigures(len(heights), 1, height_ratios=heights, hspace=0)
    for row, piece in zip(rows[1:-2], page, strict=True):
        piece.draw(row)
    header = f"Appendix: social care budget risk \u2013 {run.council}"
    rows[0].text((A4[0] - MARGIN_X) / A4[0], 0.45, header, ha="right", va="center",
                 fontsize=7.5, color="#555555")  # fmt: skip
    rows[-1].text(0.5, 0.55, footer, ha="center", va="center", fontsize=7, color="#555555")
    return fig, list(rows[1:-2])


def _write_page(
    file: PdfFile, page: list[_Placed], number: int, count: int, run: RunInfo, drawn: DrawnCharts
) -> None:
    """Draw one page into ``file``: its text, then each chart at the top of its row."""
    footer = f"{run.caption()}  Page {number} of {count}"
    file.newPage(*A4)
    if page[0].page is not None:
        fig = Figure(figsize=A4)
        FigureCanvasAgg(fig)
        page[0].page(fig, footer)
        draw_on_page(file, fig)
    else:
        fig, rows = _page_figure(page, footer, run)
        draw_on_page(file, fig)
        for row, piece in zip(rows, page, strict=True):
            if piece.chart is None:
                continue
            # The row's place on the page, in inches (as laid out, should the page overflow).
            top, bottom = row.bbox.y1 / fig.dpi, row.bbox.y0 / fig.dpi
            height = top - bottom - CHART_GAP
            if 0 < piece.chart.size[1] - height < CHART_GAP:
                # Shrunk by less than the gap below it: the chart as drawn for the HTML fits
                # in its row, and a figure of its own would cost as much as the chart.
                height = piece.chart.size[1]
            x = MARGIN_X - (piece.chart.size[0] - TEXT_WIDTH) / 2
            draw_on_page(file, drawn.figure(piece.chart, height), x, top - height)
    file.endStream()


def render_pdf(
    blocks: Sequence[Block],
    run: RunInfo,
    path: Path,
    step: Callable[[int], None] | None = None,
    drawn: DrawnCharts | None = None,
    pages: list[list[_Placed]] | None = None,
) -> int:
    """Write the report as an A4 PDF; returns the number of pages.

    ``step(1)`` is called after each page is drawn (for a progress bar).
    ``drawn``: the charts already drawn for the HTML (their figures are reused).
    ``pages``: ``paginate(blocks)``, when already laid out.
    """
    drawn = drawn if drawn is not None else DrawnCharts()
    with chart_style():
        pages = paginate(blocks) if pages is None else pages
        file = PdfFile(
            path,
            metadata={
                "Title": f"{run.council}: social care budget risk",
                "Creator": f"overspend {run.version}",
                "Subject": "Monte Carlo forecast of social care overspend",
            },
        )
        try:
            for n, page in enumerate(pages, start=1):
                _write_page(file, page, n, len(pages), run, drawn)
                if step is not None:
                    step(1)
            file.finalize()
        finally:
            file.close()
    return len(pages)
