"""``report.html``: the report as one self-contained page.

Charts are PNG images embedded as base64 and there are no scripts, fonts or
links to fetch, so the file opens offline in any browser and can be e-mailed as
it is.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Callable, Sequence

import numpy as np
from PIL import Image

from simulator.present.charts import Chart, RunInfo, chart_style
from simulator.present.charts.files import ChartFiles
from simulator.present.report.blocks import (
    Block,
    Bullets,
    CabinetPage,
    ChartBlock,
    Heading,
    Paragraph,
    Table,
)
from simulator.present.report.drawn import DrawnCharts

CSS = """
:root { --ink: #1a1a1a; --rule: #c8c8c8; --tint: #eef3fa; --accent: #08519c; }
* { box-sizing: border-box; }
body { font-family: "Segoe UI", "Helvetica Neue", Arial, "DejaVu Sans", sans-serif;
       color: var(--ink); max-width: 52rem; margin: 2rem auto; padding: 0 1rem;
       line-height: 1.45; font-size: 11pt; }
h1 { font-size: 1.7rem; margin: 0 0 .3rem; color: var(--accent); }
h2 { font-size: 1.3rem; margin: 2rem 0 .6rem; border-bottom: 2px solid var(--accent);
     padding-bottom: .2rem; }
h3 { font-size: 1.05rem; margin: 1.4rem 0 .4rem; }
h4 { font-size: .95rem; margin: 1rem 0 .2rem; }
p.key { background: var(--tint); border-left: 4px solid var(--accent); padding: .5rem .8rem;
        margin: .5rem 0; font-weight: 600; }
ul { padding-left: 1.3rem; } li { margin: .2rem 0; }
table { border-collapse: collapse; width: 100%; font-size: 9pt; margin: .5rem 0 1rem; }
th, td { padding: .25rem .4rem; border-bottom: 1px solid var(--rule); vertical-align: top; }
th { background: #f2f2f2; text-align: right; font-weight: 600; }
th:first-child, td.l { text-align: left; } td.r { text-align: right; white-space: nowrap; }
tr.strong td { font-weight: 700; background: #f7f7f7; }
figure { margin: 1.2rem 0; page-break-inside: avoid; }
figure img { width: 100%; height: auto; border: 1px solid #e0e0e0; }
footer { margin-top: 3rem; font-size: 9pt; color: #555; }
@media print { body { max-width: none; margin: 0; } h2 { page-break-before: always; }
               h2.first { page-break-before: avoid; } }
"""


def chart_pixels(chart: Chart, drawn: DrawnCharts) -> np.ndarray:
    """The chart rendered at :data:`~simulator.present.charts.DPI`: RGBA pixels, (rows, columns, 4).

    The pixels of its PNG file (``overspend chart``), read from the canvas rather
    than encoded as a PNG and decoded again.
    """
    with chart_style():
        canvas = drawn.figure(chart).canvas
        canvas.draw()
        return np.array(canvas.buffer_rgba())


def palette_image(rgba: np.ndarray) -> Image.Image:
    """A chart's pixels reduced to 256 colours (a "P" image), by Pillow's fast octree.

    The charts have a few flat colours and a few thousand shades at the edges of
    text and lines. The octree method costs a tenth of median cut (5 against 50 ms
    a chart); on the charts of a run no pixel moved by more than 15 levels of 255
    in any channel (median cut's worst was 63), the average by about one level,
    and flat colours by at most four (a near-white #fafafa shows as #fefefe):
    invisible, and tested (``tests/present/test_pictures.py``). Its palettes also
    compress better: the images are 30% smaller.
    """
    image = Image.fromarray(np.asarray(rgba)).convert("RGB")
    return image.quantize(256, method=Image.Quantize.FASTOCTREE)


def _png_base64(
    chart: Chart, drawn: DrawnCharts, files: ChartFiles | None = None
) -> tuple[str, int, int]:
    """The chart as a base64 PNG, with its width and height in pixels.

    From the chart's file in ``files`` when that is the picture of these results
    (the run drew it: the same pixels, not drawn again), else drawn.

    Reduced to a 256-colour palette (:func:`palette_image`), which makes the
    self-contained HTML file about four times smaller. Written at zlib's default
    level: Pillow's ``optimize`` made the images 7% smaller and cost as much as
    drawing the chart.
    """
    pixels = files.pixels(chart) if files is not None else None
    if pixels is None:
        pixels = chart_pixels(chart, drawn)
    image = palette_image(pixels)
    out = io.BytesIO()
    image.save(out, format="png")
    return base64.b64encode(out.getvalue()).decode("ascii"), image.width, image.height


def _html_block(
    block: Block, first_h2: list[bool], drawn: DrawnCharts, files: ChartFiles | None = None
) -> str:
    esc = html.escape
    if isinstance(block, Heading):
        tag = f"h{block.level + 1}"
        cls = ""
        if block.level == 1 and first_h2[0]:
            cls, first_h2[0] = ' class="first"', False
        return f"<{tag}{cls}>{esc(block.text)}</{tag}>"
    if isinstance(block, Paragraph):
        return (
            f'<p class="key">{esc(block.text)}</p>'
            if block.emphasis
            else f"<p>{esc(block.text)}</p>"
        )
    if isinstance(block, Bullets):
        return "<ul>" + "".join(f"<li>{esc(i)}</li>" for i in block.items) + "</ul>"
    if isinstance(block, Table):
        head = "".join(f"<th>{esc(c)}</th>" for c in block.columns)
        body = []
        for row, strong in zip(block.rows, block.strong or [False] * len(block.rows), strict=True):
            cells = "".join(
                f'<td class="{a}">{esc(v)}</td>' for v, a in zip(row, block.align, strict=True)
            )
            body.append(f'<tr class="strong">{cells}</tr>' if strong else f"<tr>{cells}</tr>")
        return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
    if isinstance(block, CabinetPage):
        from simulator.present.report.cabinet import cabinet_blocks

        return "\n".join(
            _html_block(b, first_h2, drawn, files) for b in cabinet_blocks(block.summary)
        )
    if isinstance(block, ChartBlock):
        data, width, height = _png_base64(block.chart, drawn, files)
        return (
            f'<figure id="{esc(block.chart.name)}"><img src="data:image/png;base64,{data}" '
            f'width="{width}" height="{height}" alt="{esc(block.chart.title)}"></figure>'
        )
    return ""


def render_html(
    blocks: Sequence[Block],
    run: RunInfo,
    step: Callable[[int], None] | None = None,
    drawn: DrawnCharts | None = None,
    files: ChartFiles | None = None,
) -> str:
    """The report as one self-contained HTML document (no scripts, no network access).

    ``step(1)`` is called after each chart is drawn (for a progress bar). ``drawn``
    keeps the charts' figures for the PDF (:func:`~.pdf.render_pdf`) to draw again.
    ``files``: chart files already drawn (by the run), used for these results' charts.
    """
    drawn = drawn if drawn is not None else DrawnCharts()
    first_h2 = [True]
    parts = []
    for b in blocks:
        parts.append(_html_block(b, first_h2, drawn, files))
        if step is not None and isinstance(b, (ChartBlock, CabinetPage)):
            step(1)
    body = "\n".join(parts)
    title = html.escape(f"{run.council}: social care budget risk")
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="en-GB"><head><meta charset="utf-8"><title>{title}</title>'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta name="generator" content="overspend {html.escape(run.version)}">'
        f"<style>{CSS}</style></head>\n<body>\n{body}\n"
        f"<footer>{html.escape(run.caption())}</footer>\n</body></html>\n"
    )
