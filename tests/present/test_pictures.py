"""Pictures stay the same: charts, the report's images and its PDF charts, drawn more cheaply.

Issue 17 made drawing cheaper (the layout solved without a dry-run draw, each
report chart drawn once for the HTML and the PDF, PNG files compressed less);
these tests check that the pixels did not move.
"""

from __future__ import annotations

import base64
import io
import json
import re

import numpy as np
import pytest
from PIL import Image
from pypdf import PdfReader

from simulator.present import charts
from simulator.present.report import build_report, render_html
from simulator.present.report.drawn import DrawnCharts, draw_on_page
from simulator.present.report.html import chart_pixels, palette_image
from tests.present import chart_pixels as recorded


@pytest.fixture(scope="module")
def ds():
    return recorded.reference_results()


def png_pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGBA"))


def png_of(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=charts.DPI)
    return buf.getvalue()


@pytest.mark.slow
def test_every_chart_has_the_pixels_it_had_before(ds):
    """Decoded pixels of every chart of a saved run against those recorded from the old code."""
    saved = json.loads(recorded.DIGESTS.read_text())
    if saved["versions"] != recorded.versions():
        pytest.skip(f"pixels recorded with {saved['versions']}, not {recorded.versions()}")
    got = recorded.pixel_digests(ds)
    assert set(got) == set(saved["digests"])
    assert [name for name in got if got[name] != saved["digests"][name]] == []


def test_chart_files_keep_their_pixels_at_the_faster_compression(ds, tmp_path):
    """``write_charts`` compresses PNG files less: the same pixels as matplotlib's default."""
    [path] = charts.write_charts(ds, tmp_path, formats=("png",), headline=True)[:1]
    chart = next(c for c in charts.chart_list(ds) if c.name == path.stem)
    with charts.chart_style():
        default = png_of(chart.figure())
    assert np.array_equal(png_pixels(path.read_bytes()), png_pixels(default))


@pytest.mark.slow  # draws and reduces every chart
def test_the_report_image_is_the_chart_file_reduced_to_its_palette(ds):
    """The HTML's image of a chart: the chart's PNG pixels, read from the canvas, then quantised."""
    chart = next(c for c in charts.chart_list(ds) if c.kind == "drivers")
    with charts.chart_style():
        file_pixels = png_pixels(png_of(chart.figure()))
    drawn = DrawnCharts()
    pixels = chart_pixels(chart, drawn)
    assert np.array_equal(pixels, file_pixels)
    blocks = build_report(ds)
    html = render_html(blocks, charts.RunInfo.from_dataset(ds), drawn=drawn)
    images = dict(
        re.findall(r'<figure id="([^"]+)"><img src="data:image/png;base64,([^"]+)"', html)
    )
    name = next(n for n in images if n.startswith("drivers_"))
    same = next(c for c in charts.chart_list(ds) if c.name == name)
    with charts.chart_style():
        expected = Image.fromarray(png_pixels(png_of(same.figure()))).convert("RGB")
    expected = palette_image(np.asarray(expected)).convert("RGB")
    shown = Image.open(io.BytesIO(base64.b64decode(images[name]))).convert("RGB")
    assert np.array_equal(np.asarray(shown), np.asarray(expected))


@pytest.mark.parametrize("kind", ["inyear", "distribution", "drivers", "medium"])
def test_the_report_image_is_visually_the_chart(ds, kind):
    """The 256-colour image of the HTML against the chart's own pixels, channel by channel.

    Bounds: no pixel off by more than 16 levels of 255 in any channel (1/16 of the
    range, at the anti-aliased edges of text and lines; median cut, used before,
    reached 63), the average by at most 2 levels, below the 2-3 levels at which
    neighbouring flat greys start to be told apart, and at most 5% of the pixels
    by more than 4 levels. The flat fills, lines and background move by at most 4
    (the most: the panels' #fafafa shown as #fefefe, a colour difference of 1.4 CIELAB
    units, below the 2.3 usually taken as the least the eye tells apart side by side).
    """
    chart = next(c for c in charts.chart_list(ds) if c.kind == kind)
    pixels = chart_pixels(chart, DrawnCharts())[..., :3].astype(int)
    shown = np.asarray(palette_image(pixels.astype(np.uint8)).convert("RGB")).astype(int)
    off = np.abs(shown - pixels).max(axis=2)
    assert off.max() <= 16
    assert off.mean() <= 2
    assert (off > 4).mean() <= 0.05
    colours, counts = np.unique(pixels.reshape(-1, 3), axis=0, return_counts=True)
    flat = colours[counts >= 0.005 * off.size]  # each colour of at least 0.5% of the image
    assert len(flat) >= 3
    for colour in flat:
        assert off[(pixels == colour).all(axis=2)].max() <= 4, colour


def test_a_chart_drawn_onto_a_pdf_page_is_the_figure_saved_alone(ds, tmp_path):
    """The same text on the page as in the figure's own PDF, and the figure unchanged after."""
    from matplotlib.backends.backend_pdf import PdfFile

    chart = next(c for c in charts.chart_list(ds) if c.kind == "inyear")
    drawn = DrawnCharts()
    with charts.chart_style():
        fig = drawn.figure(chart)
        before = png_of(fig)
        alone = tmp_path / "alone.pdf"
        fig.savefig(alone, format="pdf")
        page = tmp_path / "page.pdf"
        file = PdfFile(page)
        file.newPage(8.27, 11.69)
        draw_on_page(file, fig, 0.8, 3.0)
        file.endStream()
        file.finalize()
        file.close()
        after = png_of(fig)
    assert drawn.figure(chart) is fig  # drawn once, kept for the PDF
    assert fig.dpi == charts.DPI
    assert np.array_equal(png_pixels(before), png_pixels(after))
    [one], [other] = PdfReader(alone).pages, PdfReader(page).pages
    assert sorted(one.extract_text().splitlines()) == sorted(other.extract_text().splitlines())
    assert [float(v) for v in other.mediabox[2:]] == pytest.approx([8.27 * 72, 11.69 * 72])


def test_a_shrunk_chart_is_a_figure_of_its_own_height(ds):
    chart = next(c for c in charts.chart_list(ds) if c.kind == "distribution")
    drawn = DrawnCharts()
    with charts.chart_style():
        full, short = drawn.figure(chart), drawn.figure(chart, chart.size[1] - 1)
        assert drawn.figure(chart, chart.size[1] + 1e-9) is full  # placed in floating point
    assert tuple(short.get_size_inches()) == pytest.approx((chart.size[0], chart.size[1] - 1))
    assert tuple(full.get_size_inches()) == pytest.approx(chart.size)
