"""The PDF's text pages: a row's lines drawn through the renderer are what ``Text`` artists drew.

:class:`simulator.present.report.pdf._Lines` hands each line to the PDF renderer
at the place a ``Text(x, y, line, va="baseline")`` would give it, without the
``Text``'s layout: the page must hold the same operators, the same text and the
same places.
"""

from __future__ import annotations

import re

import numpy as np
from matplotlib.backends.backend_pdf import PdfFile
from matplotlib.figure import Figure
from pypdf import PdfReader

from simulator.present.charts import chart_style
from simulator.present.report.drawn import draw_on_page
from simulator.present.report.pdf import _Lines

# (x, y, text, size, bold, colour, right-aligned): what the report's pages draw, with the
# characters above U+00FF they use (en dash, curly quotes, bullet, ≥) and a dollar sign.
LINES = [
    (0.1, 0.9, "Key messages", 17, True, "#08519c", False),
    (0.1, 0.8, "There is a 73% chance that Children\u2019s homes overspends in 2024/25.", 9.5,
     False, "black", False),
    (0.1, 0.7, "\u2022", 9, False, "black", False),
    (0.9, 0.6, "\u00a312.3m \u2013 \u2265 90%", 7.5, False, "black", True),
    (0.9, 0.5, "Total", 7.5, True, "black", True),
    (0.5, 0.4, "costs $5 and $6 a week", 7.5, False, (0.2, 0.3, 0.4), False),
]  # fmt: skip

NUMBER = re.compile(rb"-?\d+\.\d+|-?\d+")


def page(path, draw) -> tuple[list[bytes], np.ndarray, str]:
    with chart_style():
        fig = Figure(figsize=(8.27, 11.69))
        row = fig.subfigures(3, 1, height_ratios=[1, 2, 1], hspace=0)[1]
        draw(row)
        file = PdfFile(path)
        file.newPage(8.27, 11.69)
        draw_on_page(file, fig)
        file.endStream()
        file.finalize()
        file.close()
    [reader] = PdfReader(path).pages
    data = reader.get_contents().get_data()
    numbers = np.array([float(n) for n in NUMBER.findall(data)])
    return NUMBER.split(data), numbers, reader.extract_text()


def as_texts(row) -> None:
    for x, y, text, size, bold, colour, right in LINES:
        row.text(x, y, text, fontsize=size, fontweight="bold" if bold else "normal",
                 color=colour, va="baseline", ha="right" if right else "left",
                 parse_math=False)  # fmt: skip


def as_lines(row) -> None:
    lines = _Lines(row)
    for x, y, text, size, bold, colour, right in LINES:
        lines.add(x, y, text, size, bold, colour, right)
    row.add_artist(lines)


def test_lines_draw_what_text_artists_drew(tmp_path):
    words_t, numbers_t, text_t = page(tmp_path / "t.pdf", as_texts)
    words_l, numbers_l, text_l = page(tmp_path / "l.pdf", as_lines)
    assert words_l == words_t  # the same operators, fonts and glyphs
    np.testing.assert_allclose(numbers_l, numbers_t, rtol=0, atol=1e-6)  # points
    assert text_l == text_t
    assert "Children\u2019s homes" in text_l and "$5 and $6" in text_l


def test_an_empty_line_draws_nothing(tmp_path):
    def one(row):
        lines = _Lines(row)
        lines.add(0.1, 0.5, "", 9)
        row.add_artist(lines)

    words, _, text = page(tmp_path / "e.pdf", one)
    assert b"Tj" not in b"".join(words) and b"TJ" not in b"".join(words)
    assert text.strip() == ""


def test_widths_measured_on_screen_are_not_used_in_the_pdf(tmp_path):
    """Right-aligned lines drawn by Agg (hinted, at 150 dpi) first: the PDF still measures its own."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fresh = page(tmp_path / "a.pdf", as_lines)

    def after_agg(row):
        as_lines(row)
        FigureCanvasAgg(row.figure)
        row.figure.dpi = 150
        row.figure.canvas.draw()
        row.figure.dpi = 100

    _Lines._widths.clear()
    words, numbers, _ = page(tmp_path / "b.pdf", after_agg)
    assert words == fresh[0]
    np.testing.assert_allclose(numbers, fresh[1], rtol=0, atol=1e-6)
