"""Charts: what they plot equals the Dataset, they render, and their text neither overlaps nor spills.

One run of the bundled example county (400 draws) is drawn once per module;
the tests then inspect the plotted artists, the files and the text layout.
"""

from __future__ import annotations

import dataclasses
import itertools
import xml.etree.ElementTree as ET

import matplotlib.colors as mcolors
import matplotlib.image as mimage
import numpy as np
import pytest
import xarray as xr
from matplotlib.axes import Axes
from matplotlib.collections import PolyCollection
from matplotlib.container import BarContainer
from matplotlib.text import Text

import simulator
from simulator import files
from simulator.cli.app import main
from simulator.config.bundled import bundled_config
from simulator.present import charts
from simulator.results.dataset import write_run
from simulator.runs.streamed import open_results, write_streamed_run
from tests.helpers import make_config, placement_service, write_small_toml

DRAWS = 400
SEED = 20240401


# ------------------------------------------------------------------ shared builders


def fake_sensitivity(ds: xr.Dataset, years: int = 1, seed: int = 1) -> xr.Dataset:
    """A ``sensitivity.nc`` following the contract of the sensitivity issue, with made-up numbers.

    It covers the first ``years`` financial years only, as a partial analysis may.
    """
    rng = np.random.default_rng(seed)
    names = [str(x) for x in ds["input"].values]
    shape = (len(names), ds.sizes["service"], years)
    dims = ("input", "service", "financial_year")
    first = rng.uniform(0, 0.2, shape)
    total = first + rng.uniform(0, 0.1, shape)
    low, high = -rng.uniform(0, 2e6, shape), rng.uniform(0, 2e6, shape)
    data = {
        "first_order": (dims, first),
        "first_order_low": (dims, first - 0.05),
        "first_order_high": (dims, first + 0.05),
        "total_order": (dims, total),
        "total_order_low": (dims, total - 0.05),
        "total_order_high": (dims, total + 0.05),
        "tornado_mean_low": (dims, low),
        "tornado_mean_high": (dims, high),
        "tornado_mean_low_se": (dims, np.full(shape, 1e5)),
        "tornado_mean_high_se": (dims, np.full(shape, 1e5)),
        "case_level_share": (dims[1:], rng.uniform(0.1, 0.4, shape[1:])),
    }
    coords = {
        "input": names,
        "service": ds["service"].values,
        "financial_year": ds["financial_year"].values[:years],
    }
    attrs = {"council": ds.attrs["council"], "seed": 7, "tornado_draws": 300,
             "sobol_samples": 64, "sobol_evaluations": 2048, "confidence_level": 0.95,
             "created": "2025-01-02T03:04:05+00:00"}  # fmt: skip
    return xr.Dataset(data, coords, attrs)


def fake_scenarios(ds: xr.Dataset, with_draws: bool = True) -> xr.Dataset:
    """A ``scenarios.nc``: the base case and two shifted scenarios, by draw or summarised."""
    over = ds["overspend"].values
    stacked = np.stack([over, over + 2e6, over - 1e6], axis=1)  # (draw, scenario, service, year)
    coords = {
        "scenario": ["base", "no_mitigation", "more_in_house_foster_carers"],
        "service": ds["service"].values,
        "financial_year": ds["financial_year"].values,
    }
    dims = ("scenario", "service", "financial_year")
    data = {
        "mean_overspend": (dims, stacked.mean(axis=0)),
        "p_overspend": (dims, (stacked > 0).mean(axis=0)),
    }
    if with_draws:
        data["overspend"] = (("draw", *dims), stacked)
    return xr.Dataset(data, coords, {"council": ds.attrs["council"], "draws": over.shape[0]})


# ------------------------------------------------------------------ fixtures


@pytest.fixture(scope="module")
def ds() -> xr.Dataset:
    return simulator.run(bundled_config(), draws=DRAWS, seed=SEED)


def all_axes(fig) -> list[Axes]:
    return [a for a in fig.findobj(Axes) if a.get_visible()]


def by_gid(fig, gid: str):
    found = [a for a in fig.findobj() if a.get_gid() == gid]
    assert len(found) == 1, f"{gid}: found {len(found)} artists"
    return found[0]


def band_edges(band: PolyCollection, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper edge of a fill_between polygon at each x."""
    vertices = band.get_paths()[0].vertices
    lo = np.array([vertices[np.isclose(vertices[:, 0], xi), 1].min() for xi in x])
    hi = np.array([vertices[np.isclose(vertices[:, 0], xi), 1].max() for xi in x])
    return lo, hi


def drawn_texts(fig) -> list[tuple[Text, object]]:
    """Visible, non-empty texts with their extents (tick labels outside the view are not drawn)."""
    renderer = fig.canvas.get_renderer()
    hidden = set()
    for ax in fig.findobj(Axes):
        for axis in (ax.xaxis, ax.yaxis):
            lo, hi = sorted(axis.get_view_interval())
            eps = (hi - lo) * 1e-6
            for tick in axis.get_major_ticks() + axis.get_minor_ticks():
                if not lo - eps <= tick.get_loc() <= hi + eps:
                    hidden |= {id(tick.label1), id(tick.label2)}
    out = []
    for text in fig.findobj(Text):
        if id(text) in hidden or not text.get_visible() or not text.get_text().strip():
            continue
        if text.axes is not None and not text.axes.get_visible():
            continue
        out.append((text, text.get_window_extent(renderer)))
    return out


def drivers_with_negatives(ds: xr.Dataset) -> charts.Chart:
    """A drivers chart whose lines include negative shares and tail means, as savings give.

    A line can move against the total (negative covariance) or underspend in the
    total's worst outcomes; its value label then sits left of zero.
    """
    d = charts.drivers_data(ds, "2024/25")
    share, tail = d.variance_share.copy(), d.tail_mean.copy()
    share[-1], tail[-3], tail[-1] = -0.02, -0.014 * tail.max(), -0.1e6
    d = dataclasses.replace(d, variance_share=share, tail_mean=tail)
    run = charts.RunInfo.from_dataset(ds)
    lines = len(d.services)
    return charts.Chart(
        "drivers_negative", "What drives the risk", (charts.CHART_WIDTH, 1.7 + 0.3 * lines),
        lambda f: charts.draw_drivers(f, d, run), "drivers", "2024/25",
    )  # fmt: skip


def medium_grid_underfunded(ds: xr.Dataset) -> charts.Chart:
    """Small multiples of a council whose budgets are a fifth short: every title says 100%.

    The longest panel titles ("P(overspend) 100% → 100%") in every column, the
    right-hand one included, where a title wider than its panel meets the edge.
    """
    short = ds.assign(budget=ds["budget"] * 0.8)
    chart = next(c for c in charts.chart_list(short) if c.name == "medium_services")
    return dataclasses.replace(chart, name="medium_services_underfunded")


@pytest.fixture(scope="module")
def rendered(ds, tmp_path_factory) -> dict:
    """Every chart (with sensitivity and scenario charts) drawn once, saved, and its text measured."""
    folder = tmp_path_factory.mktemp("charts")
    out = {}
    with charts.chart_style():
        every = charts.chart_list(ds, fake_sensitivity(ds), fake_scenarios(ds))
        for chart in [*every, drivers_with_negatives(ds), medium_grid_underfunded(ds)]:
            fig = chart.figure()
            png, svg = folder / f"{chart.name}.png", folder / f"{chart.name}.svg"
            fig.savefig(png)
            # Measured as drawn: a legend places its entries when it is drawn, not in the layout.
            texts = drawn_texts(fig)
            fig.savefig(svg)
            out[chart.name] = {"chart": chart, "fig": fig, "texts": texts, "png": png, "svg": svg}
    return out


# ------------------------------------------------------------------ the fan chart plots the Dataset


def figure(draw, height: float = charts.FAN_HEIGHT):
    """A figure drawn the way ``overspend chart`` draws one."""
    with charts.chart_style():
        return charts.Chart("test", "test", (charts.CHART_WIDTH, height), draw).figure()


@pytest.mark.parametrize("service", ["childrens_homes", "total"])
def test_inyear_bands_are_the_datasets_quantiles(ds, service):
    year = "2024/25"
    d = charts.inyear_data(ds, service, year)
    fig = figure(lambda f: charts.draw_inyear(f, d, charts.RunInfo.from_dataset(ds)))
    months = ds["month_financial_year"].values == year
    spend = ds["spend"].sel(service=service).values[:, months]
    cumulative = np.cumsum(spend, axis=1)
    days = np.concatenate([[0], np.cumsum(ds["days_in_month"].values[months])])
    budget = float(ds["budget"].sel(service=service, financial_year=year))
    profile = budget * days / days[-1]
    for coverage in charts.FAN_COVERAGES:
        q_lo, q_hi = np.quantile(cumulative, [0.5 - coverage / 2, 0.5 + coverage / 2], axis=0)
        lo, hi = band_edges(by_gid(fig, f"spend-band-{round(coverage * 100)}"), days)
        np.testing.assert_allclose(lo[1:], q_lo, rtol=1e-12)
        np.testing.assert_allclose(hi[1:], q_hi, rtol=1e-12)
        assert lo[0] == hi[0] == 0  # the fan opens from nothing spent on 1 April
        lo, hi = band_edges(by_gid(fig, f"gap-band-{round(coverage * 100)}"), days)
        np.testing.assert_allclose(lo[1:], q_lo - profile[1:], rtol=1e-9, atol=1e-6)
        np.testing.assert_allclose(hi[1:], q_hi - profile[1:], rtol=1e-9, atol=1e-6)
    median = by_gid(fig, "spend-median")
    np.testing.assert_allclose(median.get_ydata()[1:], np.median(cumulative, axis=0), rtol=1e-12)
    budget_line = by_gid(fig, "budget")
    np.testing.assert_allclose(budget_line.get_xdata(), days)
    np.testing.assert_allclose(budget_line.get_ydata(), profile, rtol=1e-12)
    assert budget_line.get_ydata()[-1] == pytest.approx(budget)
    # The year-end probability written on the chart is the Dataset's.
    p = float((ds["overspend"].sel(service=service, financial_year=year) > 0).mean())
    assert (
        f"Year-end chance of overspend: {charts.pct_text(p)}"
        in by_gid(fig, "p-overspend").get_text()
    )
    # Honest axis: cumulative spend starts at zero and the whole budget is in view.
    top = median.axes
    assert top.get_ylim()[0] == 0 and top.get_ylim()[1] >= budget


def test_medium_term_bands_are_the_datasets_quantiles(ds):
    d = charts.medium_data(ds, "total")
    fig = figure(lambda f: charts.draw_medium(f, d, charts.RunInfo.from_dataset(ds)))
    outturn = ds["outturn"].sel(service="total").values
    budget = ds["budget"].sel(service="total").values
    x = np.arange(ds.sizes["financial_year"])
    for coverage in (0.9, 0.5, 0.1):
        q_lo, q_hi = np.quantile(outturn, [0.5 - coverage / 2, 0.5 + coverage / 2], axis=0)
        lo, hi = band_edges(by_gid(fig, f"outturn-band-{round(coverage * 100)}"), x)
        np.testing.assert_allclose(lo, q_lo, rtol=1e-12)
        np.testing.assert_allclose(hi, q_hi, rtol=1e-12)
        lo, hi = band_edges(by_gid(fig, f"gap-band-{round(coverage * 100)}"), x)
        np.testing.assert_allclose(lo, q_lo - budget, rtol=1e-9, atol=1e-6)
    np.testing.assert_allclose(by_gid(fig, "budget").get_ydata(), budget)
    assert by_gid(fig, "outturn-median").axes.get_ylim()[0] == 0


def test_fan_bands_nest_and_darken_towards_the_middle(ds):
    f = charts.fan(charts.inyear_data(ds, "total", "2024/25").cum_spend)
    for outer, inner in itertools.pairwise(charts.FAN_COVERAGES):
        assert np.all(f.bands[outer][0] <= f.bands[inner][0])
        assert np.all(f.bands[outer][1] >= f.bands[inner][1])
    # One hue whose lightness falls steadily: a black-and-white print keeps the order.
    grey = [np.dot(mcolors.to_rgb(c), [0.299, 0.587, 0.114]) for c in charts.BAND_COLOURS]
    assert all(a - b > 0.03 for a, b in itertools.pairwise(grey))


def test_drivers_shares_add_up(ds):
    d = charts.drivers_data(ds, "2025/26")
    assert d.variance_share.sum() == pytest.approx(1.0, abs=1e-9)
    assert list(d.variance_share) == sorted(d.variance_share, reverse=True)
    total = ds["overspend"].sel(service="total", financial_year="2025/26").values
    tail = total >= np.quantile(total, 0.9)
    assert d.tail_mean.sum() == pytest.approx(total[tail].mean(), rel=1e-6)
    assert set(d.services) == set(charts.line_services(ds))


def test_distribution_marks_probability_and_p90(ds):
    over = ds["overspend"].sel(service="total", financial_year="2024/25").values
    run = charts.RunInfo.from_dataset(ds)
    fig = figure(lambda f: charts.draw_distribution(f, over, "All services", "2024/25", run), 4.0)
    p, p90 = float(np.mean(over > 0)), float(np.quantile(over, 0.9))
    # The exceedance curve: at each sorted draw, the share of draws above it.
    curve = by_gid(fig, "exceedance")
    x, y = curve.get_xdata(), curve.get_ydata()
    np.testing.assert_array_equal(x, np.sort(over))
    assert y[np.searchsorted(x, 0, side="right") - 1] == pytest.approx(100 * p)
    # P(overspend > 0) is marked at zero and the 90th percentile at 10%.
    point = by_gid(fig, "p-overspend-point")
    assert (point.get_xdata()[0], point.get_ydata()[0]) == (0, pytest.approx(100 * p))
    point = by_gid(fig, "p90-point")
    assert (point.get_xdata()[0], point.get_ydata()[0]) == (pytest.approx(p90), 10)
    texts = " ".join(t.get_text() for t in fig.findobj(Text)).replace("\n", " ")
    assert f"{charts.pct_text(p)} chance of overspend" in texts
    assert f"1 in 10 chance of more than {charts.money_text(p90)} over budget" in texts


# ------------------------------------------------------------------ every chart renders well


@pytest.mark.slow
def test_every_chart_renders_at_its_size(rendered):
    kinds = {r["chart"].kind for r in rendered.values()}
    assert kinds == {"inyear", "medium", "distribution", "drivers", "tornado", "sobol", "scenarios"}
    for name, r in rendered.items():
        image = mimage.imread(r["png"])
        width, height = r["chart"].size
        assert abs(image.shape[0] - height * charts.DPI) <= 1, name
        assert abs(image.shape[1] - width * charts.DPI) <= 1, name
        assert image[..., :3].std() > 0.05, f"{name} looks blank"
        root = ET.parse(r["svg"]).getroot()
        assert root.tag.endswith("svg")
        # SVG text stays text, so the chart's words can be found and edited.
        assert "overspend" in r["svg"].read_text(encoding="utf-8")


@pytest.mark.slow
def test_text_never_overlaps_or_leaves_the_figure(rendered):
    """No text leaves the figure, even by part of a pixel, or overlaps another.

    A label written on the plot at a data point (a bar's value) stays inside the
    frame of its axes: one crossing the axis line is struck through by it. And
    the PNG's outermost pixels are blank: a glyph there has been cut.
    """
    problems = []
    for name, r in rendered.items():
        box = r["fig"].bbox
        for text, extent in r["texts"]:
            if (extent.x0 < box.x0 or extent.x1 > box.x1
                    or extent.y0 < box.y0 or extent.y1 > box.y1):  # fmt: skip
                problems.append(f"{name}: {text.get_text()[:30]!r} is cut off")
            at_data = text.axes is not None and text.get_transform() is text.axes.transData
            frame = text.axes.bbox if at_data else None
            if frame is not None and (extent.x0 < frame.x0 - 0.5 or extent.x1 > frame.x1 + 0.5
                                      or extent.y0 < frame.y0 - 0.5
                                      or extent.y1 > frame.y1 + 0.5):  # fmt: skip
                problems.append(f"{name}: {text.get_text()[:30]!r} crosses its axes' frame")
        image = mimage.imread(r["png"])[..., :3]
        edges = np.concatenate([image[0], image[-1], image[:, 0], image[:, -1]])
        if edges.min() < 0.9:
            problems.append(f"{name}: something is drawn on the PNG's outermost pixels")
        for (t1, e1), (t2, e2) in itertools.combinations(r["texts"], 2):
            w = min(e1.x1, e2.x1) - max(e1.x0, e2.x0)
            h = min(e1.y1, e2.y1) - max(e1.y0, e2.y0)
            if w > 1 and h > 1:
                problems.append(f"{name}: {t1.get_text()[:25]!r} overlaps {t2.get_text()[:25]!r}")
    assert not problems, "\n".join(problems)


@pytest.mark.slow
def test_every_chart_names_council_draws_and_date(rendered, ds):
    run = charts.RunInfo.from_dataset(ds)
    for name, r in rendered.items():
        words = " ".join(t.get_text() for t, _ in r["texts"]).replace("\n", " ")
        assert run.council in words, name
        kind = r["chart"].kind
        if kind in ("tornado", "sobol"):  # these name the sensitivity file's own run
            assert "run 2 January 2025" in words and "seed 7" in words, name
            assert (
                "300 simulated outcomes per run" if kind == "tornado" else "2,048 model runs"
            ) in words
        else:
            assert f"{run.draws:,} simulated outcomes" in words and f"run {run.created}" in words, (
                name
            )
        if r["chart"].year is not None:
            assert r["chart"].year in words, name
        money_axes = [
            a
            for a in all_axes(r["fig"])
            if any("£" in t.get_text() for t in a.get_yticklabels() + a.get_xticklabels())
        ]
        if r["chart"].kind not in ("sobol",):
            assert money_axes, f"{name} has no £m axis"


def test_money_ticks_show_every_value_exactly():
    f = charts.MoneyFormatter()
    assert f.format_ticks([-2.5e6, 0, 2.5e6, 5e6]) == ["−£2.5m", "£0.0m", "£2.5m", "£5.0m"]
    assert f.format_ticks([0, 50e6, 100e6]) == ["£0m", "£50m", "£100m"]
    assert f.format_ticks([0.1e6, 0.15e6]) == ["£0.10m", "£0.15m"]


def test_input_labels_read_as_words():
    labels = {"home_care": "Home care"}
    assert (
        charts.input_label("services.home_care.arrivals.growth", labels)
        == "Home care: demand growth"
    )
    assert charts.input_label("inflation.factors.nlw.uplift[2025/26]") == "Price rise: nlw, 2025/26"
    assert (
        charts.input_label("services.home_care.savings.reablement.delivery", labels)
        == "Home care: saving \u2018reablement\u2019 delivery"
    )


# ------------------------------------------------------------------ tolerant of what exists


def test_the_run_draws_one_headline_chart_of_each_kind(ds):
    """``overspend run`` draws four charts of all services; the rest are ``overspend chart``'s."""
    default = charts.chart_list(ds)
    headline = charts.chart_list(ds, headline=True)
    first = str(ds["financial_year"].values[0]).replace("/", "-")
    assert [c.name for c in headline] == [
        f"inyear_total_{first}", "medium_total", f"distribution_total_{first}", f"drivers_{first}",
    ]  # fmt: skip
    assert {c.kind for c in headline} == {"inyear", "medium", "distribution", "drivers"}
    assert all(c.name in {d.name for d in default} for c in headline)


def test_sensitivity_and_scenario_charts_only_for_what_is_there(ds):
    def kinds(sens=None, scen=None):
        return {c.kind for c in charts.chart_list(ds, sens, scen)} - {
            "inyear",
            "medium",
            "distribution",
            "drivers",
        }

    sens = fake_sensitivity(ds)
    assert kinds() == set()
    assert kinds(sens) == {"tornado", "sobol"}
    assert kinds(sens.drop_vars(["tornado_mean_low", "tornado_mean_high"])) == {"sobol"}
    assert kinds(sens.drop_vars(["first_order", "total_order"])) == {"tornado"}
    assert kinds(sens[[]]) == set()
    assert kinds(scen=fake_scenarios(ds, with_draws=False)) == {"scenarios"}
    assert kinds(scen=xr.Dataset()) == set()


def test_scenario_summary_from_draws_equals_summary_vars(ds):
    full = charts.scenario_summary(
        fake_scenarios(ds, with_draws=True).drop_vars(["mean_overspend", "p_overspend"])
    )
    summary = charts.scenario_summary(fake_scenarios(ds, with_draws=False))
    np.testing.assert_allclose(full.mean, summary.mean)
    np.testing.assert_allclose(full.p, summary.p)
    assert full.names[0] == "base"


# ------------------------------------------------------------------ writing and the command


def one_year_config():
    """A one-year horizon with two services and no departments: the smallest chart set."""
    services = {
        "foster": placement_service(label="Fostering", budget_gbp=900_000, caseload={"open": 40}),
        "homes": placement_service(label="Homes", budget_gbp=1_600_000,
                                   unit_cost={"mean_gbp_per_week": 3000.0, "cv": 0.3}),
    }  # fmt: skip
    return make_config(services)


@pytest.fixture(scope="module")
def one_year() -> xr.Dataset:
    return simulator.run(one_year_config(), draws=300, seed=3)


@pytest.mark.slow
def test_chart_command_redraws_from_a_saved_run(one_year, tmp_path, capsys):
    run_dir = tmp_path / "run"
    write_run(one_year, run_dir)
    charts_dir = run_dir / "charts"
    files.write_file(charts_dir / "stale.png", lambda p: p.write_bytes(b"old"))  # an old chart
    assert main(["chart", str(run_dir)]) == 0
    names = sorted(p.name for p in charts_dir.iterdir() if p.name != files.MARKER)
    expected = sorted(
        f"{c.name}.{fmt}" for c in charts.chart_list(one_year) for fmt in ("png", "svg")
    )
    assert names == expected  # replaced as a whole: the stale file is gone
    assert all((charts_dir / n).stat().st_size > 1000 for n in names)
    assert f"{len(expected)} chart files" in capsys.readouterr().out


@pytest.mark.slow
def test_run_writes_only_the_headline_charts(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["run", str(write_small_toml(tmp_path)), "--draws", "30", "--out", str(out)]) == 0
    ds = xr.load_dataset(out / "simulation.nc")
    names = sorted(p.name for p in (out / "charts").iterdir() if p.name != files.MARKER)
    expected = [
        f"{c.name}.{fmt}" for c in charts.chart_list(ds, headline=True) for fmt in ("png", "svg")
    ]
    assert names == sorted(expected)
    assert "`overspend chart" in capsys.readouterr().out  # says how to draw the rest


@pytest.mark.slow
def test_a_streamed_run_is_charted_from_its_zarr_store(one_year, tmp_path):
    """A run too big for memory is streamed to zarr; charts read it a slice at a time."""
    run_dir = tmp_path / "run"
    write_streamed_run(one_year_config(), run_dir, draws=300, seed=3)
    assert (run_dir / "simulation.zarr").is_dir()
    assert main(["chart", str(run_dir), "--format", "png"]) == 0
    assert len(list((run_dir / "charts").glob("*.png"))) == len(charts.chart_list(one_year))
    with open_results(run_dir) as lazy:
        streamed = charts.inyear_data(lazy, "homes", "2024/25")
    np.testing.assert_allclose(
        streamed.cum_spend, charts.inyear_data(one_year, "homes", "2024/25").cum_spend
    )


@pytest.mark.slow
def test_a_single_draw_still_draws(tmp_path):
    """One draw is a degenerate run (every band has no width), not an error."""
    services = {"foster": placement_service(label="Fostering", caseload={"open": 10})}
    single = simulator.run(make_config(services), draws=1, seed=1)
    written = charts.write_charts(single, tmp_path, formats=("png",))
    assert len(written) == len(charts.chart_list(single)) >= 5
    assert all(mimage.imread(p)[..., :3].std() > 0.05 for p in written)


def test_one_year_medium_term_fan_has_width(one_year):
    d = charts.medium_data(one_year, "total")
    fig = figure(lambda f: charts.draw_medium(f, d, charts.RunInfo.from_dataset(one_year)))
    lo, hi = band_edges(by_gid(fig, "outturn-band-90"), np.array([-0.3, 0.3]))
    q = np.quantile(d.outturn[:, 0], [0.05, 0.95])
    np.testing.assert_allclose(lo, q[0])
    np.testing.assert_allclose(hi, q[1])


@pytest.mark.parametrize("command", ["chart", "report"])
def test_commands_explain_a_missing_run(tmp_path, capsys, command):
    assert main([command, str(tmp_path / "nowhere")]) == 2
    assert "no such results folder" in capsys.readouterr().err
    assert main([command, str(tmp_path)]) == 2
    assert "no simulation.nc" in capsys.readouterr().err
    (tmp_path / "simulation.nc").write_text("not netCDF")
    assert main([command, str(tmp_path)]) == 2
    assert "cannot be read" in capsys.readouterr().err


def test_commands_give_one_line_for_an_unreadable_file(tmp_path, capsys):
    """xarray's own message runs to several lines of advice and links: only the first is kept."""
    (tmp_path / "simulation.nc").write_text("not netCDF\nat all\n")
    for command in ("chart", "report"):
        assert main([command, str(tmp_path)]) == 2
        err = capsys.readouterr().err
        assert "cannot be read" in err and err.count("\n") == 1, err


@pytest.mark.parametrize("command", ["chart", "report"])
@pytest.mark.parametrize(
    "name",
    ["service_label", "service_type", "department", "days_in_month", "month_financial_year",
     "budget", "spend"],
)  # fmt: skip
def test_commands_refuse_a_run_without_what_they_read(one_year, tmp_path, capsys, command, name):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    one_year.drop_vars(name).to_netcdf(run_dir / "simulation.nc")
    assert main([command, str(run_dir)]) == 2
    err = capsys.readouterr().err
    assert f"lacks {name}:" in err and err.count("\n") == 1, err


def test_commands_refuse_variables_of_the_wrong_shape(one_year, tmp_path, capsys):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    one_year.assign(budget=one_year["budget"].isel(financial_year=0)).to_netcdf(
        run_dir / "simulation.nc"
    )
    assert main(["chart", str(run_dir)]) == 2
    err = capsys.readouterr().err
    assert "budget has dimensions (service), not (service, financial_year)" in err, err


@pytest.mark.slow
def test_results_of_another_config_are_left_out_with_a_note(one_year, tmp_path, capsys):
    from simulator.config.load import dumps_config, load_config

    run_dir = tmp_path / "run"
    write_run(one_year, run_dir)
    sens = fake_sensitivity(one_year)
    sens.attrs["config"] = dumps_config(load_config(bundled_config()))
    sens.to_netcdf(run_dir / "sensitivity.nc")
    scen = fake_scenarios(one_year)
    scen.attrs["council"] = "Elsewhere Borough Council"
    scen.to_netcdf(run_dir / "scenarios.nc")
    assert main(["chart", str(run_dir), "--format", "png"]) == 0
    out = capsys.readouterr().out
    assert "note: sensitivity.nc left out: it was made from a different config" in out
    assert "note: scenarios.nc left out: it is for Elsewhere Borough Council" in out
    assert not [p for p in (run_dir / "charts").iterdir() if p.stem.startswith(("sobol", "tor"))]
    assert not (run_dir / "charts" / "scenarios.png").exists()


def test_results_of_the_same_config_are_kept_whatever_the_run_section(one_year):
    from simulator.present.report import mismatch

    sens = fake_sensitivity(one_year)
    assert "draws = 10000" in one_year.attrs["config"]
    sens.attrs["config"] = one_year.attrs["config"].replace("draws = 10000", "draws = 77")
    assert mismatch(one_year, sens) is None
    assert mismatch(one_year, fake_scenarios(one_year)) is None
    other = fake_scenarios(one_year).isel(service=slice(1, None))
    assert mismatch(one_year, other) == "its services differ from those of simulation.nc"


def noisy_sensitivity(ds: xr.Dataset) -> xr.Dataset:
    """Sobol estimates as sampling noise leaves them: below 0, above 1, first above total."""
    sens = fake_sensitivity(ds)
    at = {"service": "total", "financial_year": sens["financial_year"].values[0]}
    for name, values in (
        ("first_order", [-0.04, 0.9]), ("first_order_low", [-0.1, 0.8]),
        ("first_order_high", [0.02, 1.05]), ("total_order", [0.01, 1.08]),
        ("total_order_low", [-0.05, 0.95]), ("total_order_high", [0.06, 1.2]),
    ):  # fmt: skip
        sens[name].loc[{"input": sens["input"].values[:2], **at}] = values
    return sens


def test_sobol_chart_draws_estimates_within_0_and_1_and_says_why(ds):
    sens = noisy_sensitivity(ds)
    fig = figure(lambda f: charts.draw_sobol(f, sens, "2024/25", charts.RunInfo.from_dataset(ds)))
    bars = [c for a in all_axes(fig) for c in a.containers if isinstance(c, BarContainer)]
    widths = [p.get_width() for c in bars for p in c.patches]
    assert widths and min(widths) >= 0 and max(widths) <= 100
    whiskers = [c.errorbar.lines[2][0] for c in bars if c.errorbar is not None]
    ends = [s[:, 0] for w in whiskers for s in w.get_segments()]
    assert ends and min(e.min() for e in ends) >= 0 and max(e.max() for e in ends) <= 100
    words = " ".join(t.get_text() for t, _ in drawn_texts(fig)).replace("\n", " ")
    assert "small negative values or first-order above total are sampling noise" in words
    # The file keeps the raw estimates.
    assert float(sens["first_order"].sel(service="total").values.min()) < 0


def test_a_chart_drawn_twice_is_the_same_svg_file(ds, tmp_path):
    """Fixed ids and metadata: the same run gives the same SVG bytes (matplotlib's ids are random unsalted)."""
    chart = next(c for c in charts.chart_list(ds) if c.name == "medium_total")
    files = []
    with charts.chart_style():
        for i in range(2):
            path = tmp_path / f"{i}.svg"
            chart.figure().savefig(path, metadata=charts._metadata(".svg"))
            files.append(path.read_bytes())
    assert b'clip-path="url(#p' in files[0]  # the ids the salt fixes are there
    assert files[0] == files[1]
