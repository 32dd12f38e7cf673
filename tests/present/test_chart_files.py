"""The report uses the chart files a run drew, only when they are provably these results' pictures.

``write_charts`` tags each PNG with :func:`chart_identity` (the results it shows,
the chart, the versions) and the digest of its pixels; :class:`ChartFiles` gives
a file's pixels back only when both match. The report's HTML then embeds the same
image it would have drawn, and its PDF keeps the charts as vectors, unchanged.
"""

from __future__ import annotations

import base64
import io
import re
import shutil

import numpy as np
import pytest
from PIL import Image, PngImagePlugin
from pypdf import PdfReader

from simulator.present import charts
from simulator.present.charts.files import TAG_KEY, ChartFiles, chart_identity, pixels_digest
from simulator.present.report import build_report, render_html
from simulator.present.report.blocks import ChartBlock, Heading
from simulator.present.report.drawn import DrawnCharts
from simulator.present.report.html import chart_pixels
from simulator.present.report.pdf import render_pdf
from simulator.present.report.xlsx import PERCENTILES, monthly_percentiles
from tests.present import chart_pixels as recorded


@pytest.fixture(scope="module")
def ds():
    return recorded.reference_results()


@pytest.fixture(scope="module")
def drawn_folder(ds, tmp_path_factory):
    """The headline charts as ``overspend run`` draws them (PNG and SVG)."""
    folder = tmp_path_factory.mktemp("charts")
    charts.write_charts(ds, folder, headline=True)
    return folder


def headline(ds) -> list[charts.Chart]:
    return charts.chart_list(ds, headline=True)


def test_a_run_s_chart_file_gives_the_pixels_the_report_would_draw(ds, drawn_folder):
    files = ChartFiles(drawn_folder, ds)
    drawn = DrawnCharts()
    for chart in headline(ds):
        got = files.pixels(chart)
        assert got is not None, chart.name
        assert np.array_equal(got, chart_pixels(chart, drawn)), chart.name
    assert files.used == [c.name for c in headline(ds)]


def test_the_tagged_png_has_the_pixels_savefig_gives(ds, drawn_folder):
    """The PNG written with its tag is the one ``savefig`` wrote before the tag (its pixels)."""
    chart = headline(ds)[0]
    with charts.chart_style():
        buf = io.BytesIO()
        chart.figure().savefig(buf, format="png", dpi=charts.DPI)
    with Image.open(drawn_folder / f"{chart.name}.png") as image:
        ours = np.asarray(image.convert("RGBA"))
        assert image.info["Software"].startswith("overspend")
        identity, digest = image.info[TAG_KEY].split(" ")
    assert np.array_equal(ours, np.asarray(Image.open(buf).convert("RGBA")))
    assert identity == chart_identity(chart, ds) and digest == pixels_digest(ours)


def test_charts_of_other_results_are_not_used(ds, drawn_folder):
    """A later run (another ``created``, config or seed) makes the files stale."""
    for key, value in [("created", "2099-01-01T00:00:00+00:00"), ("seed", 1), ("config", "x")]:
        other = ds.copy()
        other.attrs = {**ds.attrs, key: value}
        files = ChartFiles(drawn_folder, other)
        assert [files.pixels(c) for c in headline(ds)] == [None] * len(headline(ds))
        assert files.used == []


def test_charts_drawn_by_other_code_are_not_used(ds, drawn_folder, monkeypatch):
    """An update of the tool (its code changed, its version number perhaps not) draws afresh."""
    from simulator.present.charts import files as chart_files

    chart = headline(ds)[0]
    assert ChartFiles(drawn_folder, ds).pixels(chart) is not None
    monkeypatch.setattr(chart_files, "code_revision", lambda: "0" * 64)
    assert ChartFiles(drawn_folder, ds).pixels(chart) is None


def test_a_user_s_savefig_settings_do_not_change_the_chart_files(ds, drawn_folder, tmp_path):
    """A matplotlibrc with a tight box and a transparent background: the same files."""
    import matplotlib

    with matplotlib.rc_context(
        {"savefig.bbox": "tight", "savefig.transparent": True, "figure.facecolor": "#ffeeee"}
    ):
        charts.write_charts(ds, tmp_path, headline=True)

    def svg(path):
        # The page size exactly; then the drawing with its decimals masked: an SVG's clip-path
        # ids hash an object's id(), and a text's place may differ in its last printed digit
        # between two layouts in one process. A tight box or a transparent background changes
        # the size or the background's fill, which stay.
        text = path.read_bytes()
        size = re.search(rb'<svg [^>]*width="([^"]+)" height="([^"]+)"', text).groups()
        return size, re.sub(rb"-?\d+\.\d+", b"N", re.sub(rb"#?p[0-9a-f]{10}\b", b"p", text))

    for chart in headline(ds):
        png = f"{chart.name}.png"
        assert (tmp_path / png).read_bytes() == (drawn_folder / png).read_bytes(), png
        name = f"{chart.name}.svg"
        assert svg(tmp_path / name) == svg(drawn_folder / name), name


def test_a_file_under_another_chart_s_name_is_not_used(ds, drawn_folder, tmp_path):
    first, second = headline(ds)[:2]
    shutil.copy(drawn_folder / f"{first.name}.png", tmp_path / f"{second.name}.png")
    assert ChartFiles(tmp_path, ds).pixels(second) is None


def test_an_edited_chart_file_is_not_used_even_with_its_tag(ds, drawn_folder, tmp_path):
    chart = headline(ds)[0]
    with Image.open(drawn_folder / f"{chart.name}.png") as image:
        tag = image.info[TAG_KEY]
        pixels = np.asarray(image.convert("RGBA")).copy()
    pixels[10:20, 10:20] = (255, 0, 0, 255)  # a red square: an edit that keeps the text chunk
    info = PngImagePlugin.PngInfo()
    info.add_text(TAG_KEY, tag)
    Image.fromarray(pixels).save(tmp_path / f"{chart.name}.png", pnginfo=info)
    assert ChartFiles(tmp_path, ds).pixels(chart) is None


@pytest.mark.parametrize(
    "content",
    [b"", b"not a picture", b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "truncated", "untagged", "jpeg"],
)
def test_missing_unreadable_or_untagged_files_are_not_used(ds, drawn_folder, tmp_path, content):
    chart = headline(ds)[0]
    path = tmp_path / f"{chart.name}.png"
    source = (drawn_folder / f"{chart.name}.png").read_bytes()
    if content == "truncated":
        content = source[: len(source) // 2]
    elif content in ("untagged", "jpeg"):
        with Image.open(io.BytesIO(source)) as image:
            plain = image.convert("RGB")
        buf = io.BytesIO()
        plain.save(buf, format="png" if content == "untagged" else "jpeg")
        content = buf.getvalue()
    path.write_bytes(content)
    assert ChartFiles(tmp_path, ds).pixels(chart) is None
    assert ChartFiles(tmp_path / "none", ds).pixels(chart) is None


def html_images(text: str) -> dict[str, bytes]:
    found = re.findall(r'<figure id="([^"]+)"><img src="data:image/png;base64,([^"]+)"', text)
    return {name: base64.b64decode(data) for name, data in found}


def report_blocks(ds, names: set[str]) -> list:
    """The report's headings and the charts named (a short report, quick to draw)."""
    return [
        b
        for b in build_report(ds)
        if isinstance(b, Heading) or (isinstance(b, ChartBlock) and b.chart.name in names)
    ]


def test_the_html_with_the_run_s_charts_is_the_html_drawn_afresh(ds, drawn_folder):
    # The headline charts, which the run drew, and one it did not (drawn by the report).
    names = {c.name for c in headline(ds)} | {"medium_services"}
    blocks = report_blocks(ds, names)
    run = charts.RunInfo.from_dataset(ds)
    files = ChartFiles(drawn_folder, ds)
    reused = render_html(blocks, run, drawn=DrawnCharts(), files=files)
    fresh = render_html(blocks, run, drawn=DrawnCharts())
    assert set(files.used) == {c.name for c in headline(ds)}
    assert set(html_images(reused)) == names
    assert reused == fresh


NUMBER = re.compile(rb"-?\d+\.\d+|-?\d+")


def page_streams(path) -> list[tuple[list[bytes], np.ndarray]]:
    """Each page's content stream: its text between numbers, and its numbers."""
    out = []
    for page in PdfReader(path).pages:
        data = page.get_contents().get_data()
        out.append((NUMBER.split(data), np.array([float(n) for n in NUMBER.findall(data)])))
    return out


@pytest.mark.slow  # fresh processes or a whole PDF: a few seconds each
def test_the_pdf_is_the_same_whether_the_html_drew_the_charts_or_not(ds, drawn_folder, tmp_path):
    """Its charts are vectors drawn from the figures either way: the same operators and text,
    at places equal to a millionth of a point (a figure drawn by Agg first rounds a few
    rotated labels' places differently in the tenth decimal)."""
    blocks = report_blocks(ds, {c.name for c in headline(ds)})
    run = charts.RunInfo.from_dataset(ds)
    streams = []
    for files in (None, ChartFiles(drawn_folder, ds)):
        drawn = DrawnCharts()
        render_html(blocks, run, drawn=drawn, files=files)
        render_pdf(blocks, run, tmp_path / "r.pdf", drawn=drawn)
        streams.append(page_streams(tmp_path / "r.pdf"))
    fresh, reused = streams
    assert len(fresh) == len(reused) > 1
    for (words_f, numbers_f), (words_r, numbers_r) in zip(fresh, reused, strict=True):
        assert words_f == words_r
        np.testing.assert_allclose(numbers_r, numbers_f, rtol=0, atol=1e-6)


def test_monthly_percentiles_are_numpy_s_quantiles_of_the_draws(ds):
    frame = monthly_percentiles(ds)
    key = str(ds["service"].values[0])
    spend = ds["spend"].sel(service=key).transpose("draw", "month").values
    rows = frame[frame["service"] == key]
    expected = np.quantile(spend, PERCENTILES, axis=0)
    for i, q in enumerate(PERCENTILES):
        assert np.array_equal(rows[f"spend_p{round(q * 100)}_gbp"].to_numpy(), expected[i])


def test_the_charts_overspend_run_draws_are_used_for_the_results_it_wrote(tmp_path):
    """The run draws from its results in memory, the report reads them from the file: the same
    identity. A later ``run --force --no-charts`` of another seed leaves no charts to use."""
    from simulator.cli.app import main
    from simulator.present.report.load import load_results
    from tests.helpers import write_small_toml

    config, out = write_small_toml(tmp_path), tmp_path / "run"
    assert main(["run", str(config), "--draws", "200", "--out", str(out)]) == 0
    ds = load_results(out, [])[0]
    files = ChartFiles(out / "charts", ds)
    assert all(files.pixels(c) is not None for c in headline(ds))
    kept = tmp_path / "kept"
    shutil.copytree(out / "charts", kept)  # the old run's charts, kept by the user
    assert main(["run", str(config), "--draws", "200", "--seed", "5", "--out", str(out),
                 "--force", "--no-charts"]) == 0  # fmt: skip
    again = load_results(out, [])[0]
    assert [ChartFiles(kept, again).pixels(c) for c in headline(again)] == [None] * 4
