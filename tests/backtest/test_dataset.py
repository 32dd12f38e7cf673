"""The backtest Dataset, its charts, sentences and report section, on a small simulated history."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.figure import Figure

from simulator.backtest import Inputs, Settings, run_backtest
from simulator.backtest.report import backtest_blocks
from simulator.backtest.words import backtest_sentences, times
from simulator.calibrate.synthetic import simulate_records
from simulator.config.load import config_from_dict
from simulator.present.charts.backtest import (
    calibration_data,
    draw_calibration,
    draw_track_record,
    track_record_data,
)
from simulator.present.report.blocks import ChartBlock, Heading, Table

pytestmark = pytest.mark.slow


def _service(per_year, median, cost):
    return {
        "budget_gbp": 0,
        "arrivals": {"per_year": per_year},
        "length": {"dist": "lognormal", "median_weeks": median, "sigma": 0.9},
        "unit_cost": {"mean_gbp_per_week": cost, "cv": 0.3},
    }


TRUTH = {
    "council": {"name": "Small History"},
    "horizon": {"start": "2020/21", "years": 1},
    "services": {"home_care": _service(150, 40, 330), "residential": _service(50, 60, 900)},
}


@pytest.fixture(scope="module")
def history(tmp_path_factory):
    path = tmp_path_factory.mktemp("history") / "packages.csv"
    simulate_records(config_from_dict(TRUTH), "2017-04-01", "2021-03-31", seed=8).to_csv(
        path, index=False
    )
    return Inputs(packages=(path,))


@pytest.fixture(scope="module")
def ds(history):
    return run_backtest(history, Settings(draws=120, seed=3, threads=1), every_year=True)


def test_origins_services_and_units(ds):
    assert list(ds["origin"].values) == ["2018-04-01", "2019-04-01", "2020-04-01"]
    assert list(ds["service"].values) == ["home_care", "residential", "total"]
    for name, var in ds.data_vars.items():
        assert var.attrs.get("units") and var.attrs.get("long_name"), name


def test_the_total_is_the_services_added_draw_by_draw(ds):
    parts = ds["forecast"].sel(service=["home_care", "residential"]).sum("service")
    assert np.array_equal(ds["forecast"].sel(service="total").values, parts.values)
    actual = ds["actual"].sel(service=["home_care", "residential"]).sum("service")
    assert np.allclose(ds["actual"].sel(service="total").values, actual.values)


def test_coverage_is_the_share_inside(ds):
    inside = ds["inside"].mean("origin")
    assert np.allclose(ds["coverage"].values, inside.values, equal_nan=True)
    n = ds.sizes["origin"] * (ds.sizes["service"] - 1)
    assert (ds["outcomes_scored_all"].values == n).all()


def test_last_years_level_is_last_years_outcome(ds):
    # Known at the next origin, last year's outcome is exactly what the flat forecast holds.
    flat = ds["naive_forecast"].sel(naive="flat").isel(origin=slice(1, None)).values
    before = ds["actual"].isel(origin=slice(None, -1)).values
    assert np.allclose(flat, before)
    # The trend forecast needs two complete years: none at the first origin.
    assert np.isnan(ds["naive_forecast"].sel(naive="trend", target="new_placements")[0]).all()
    assert np.isfinite(ds["naive_forecast"].sel(naive="trend", target="new_placements")[-1]).all()


def test_same_seed_same_backtest_whatever_the_threads(history, ds):
    again = run_backtest(history, Settings(draws=120, seed=3, threads=2), every_year=True)
    for name in ("forecast", "forecast_caseload", "pit", "crps", "coverage"):
        assert np.array_equal(again[name].values, ds[name].values, equal_nan=True), name


def test_charts_show_the_forecast_quantiles_and_the_outcome(ds):
    data = track_record_data(ds)
    cost = ds["forecast"].sel(service="total", target="cost").values
    assert np.allclose(data.cost_bands[:, 1, 0], np.quantile(cost, 0.1, axis=1))
    assert np.allclose(data.cost_bands[:, 1, 1], np.quantile(cost, 0.9, axis=1))
    assert np.array_equal(data.cost_actual, ds["actual"].sel(service="total", target="cost"))
    cal = calibration_data(ds)
    assert cal.coverage.shape == (4, 3)
    for draw in (draw_track_record, draw_calibration):
        fig = Figure(figsize=(6.7, 5))
        draw(fig, ds)
        texts = [t.get_text() for t in fig.findobj(match=lambda o: hasattr(o, "get_text"))]
        assert any("backtest of 3 forecast origins, 120 draws each" in t for t in texts)


def test_sentences_and_report_section(ds):
    sentences = backtest_sentences(ds)
    k = int(ds["inside"].sel(forecaster="simulation", service="total", target="cost",
                             level=0.8).sum())  # fmt: skip
    assert sentences[0].startswith("Over the last 3 years our 80% ranges for the total cost")
    assert sentences[0].endswith(f"contained the outcome {times(k)} out of 3.")
    blocks = backtest_blocks(ds)
    assert any(isinstance(b, Heading) and b.text == "Track record" for b in blocks)
    table = next(b for b in blocks if isinstance(b, Table))
    assert [r[0] for r in table.rows] == ["2018/19", "2019/20", "2020/21"]
    assert sum(isinstance(b, ChartBlock) for b in blocks) == 2
