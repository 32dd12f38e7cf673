"""The page's fan chart shows the report's in-year numbers."""

from __future__ import annotations

import numpy as np
import pytest

import simulator
from simulator.present.charts.stats import band_levels, inyear_data
from simulator.serve.chart import PAGE_BANDS, fan_figure, fan_png, in_year
from simulator.serve.figures import row_index
from simulator.serve.whatif import WhatIf


@pytest.fixture(scope="module")
def engine(config):
    made = WhatIf(config, 3, draws=500, first_draws=500, threads=1)
    made.first_pass(made.base)
    return made


@pytest.mark.parametrize(("row", "year"), [("total", "2024/25"), ("homes", "2025/26")])
def test_in_year_data_equal_the_reports(engine, config, row, year):
    ds = simulator.run(config, draws=500, seed=3, threads=1)
    expected = inyear_data(ds, row, year)
    base, _ = engine.view(engine.base)
    plan = engine.base.plan
    got = in_year(
        plan, base.monthly, base.overspend, row_index(plan, row), plan.grid.fy_labels.index(year)
    )
    assert (got.label, got.financial_year, got.month_names) == (
        expected.label, expected.financial_year, expected.month_names,
    )  # fmt: skip
    np.testing.assert_array_equal(got.days, expected.days)
    np.testing.assert_allclose(got.cum_budget, expected.cum_budget)
    # The page keeps monthly spend in float32 for its chart: equal to its precision.
    np.testing.assert_allclose(got.cum_spend, expected.cum_spend, rtol=1e-6)
    assert got.p_overspend == pytest.approx(expected.p_overspend, abs=1 / 500)


def test_the_page_chart_plots_the_gap_to_budget_quantiles(engine):
    base, _ = engine.view(engine.base)
    plan = engine.base.plan
    d = in_year(plan, base.monthly, base.overspend, row_index(plan, "total"), 0)
    fig = fan_figure(d, d, changed=False)
    gap = (d.cum_spend - d.cum_budget) / 1e6
    names = [t.name for t in fig.data]
    for coverage in PAGE_BANDS:
        lo_q, _ = band_levels(coverage)
        trace = next(
            t for t in fig.data if t.name and t.name.startswith(f"{round(coverage * 100)}%")
        )
        np.testing.assert_allclose(trace.y, np.quantile(gap, lo_q, axis=0), rtol=1e-9)
    assert "Median" in names and "Base case median" not in names
    assert "Base case median" in [t.name for t in fan_figure(d, d, changed=True).data]


@pytest.mark.slow
def test_the_png_download_is_the_report_chart(engine):
    base, _ = engine.view(engine.base)
    plan = engine.base.plan
    d = in_year(plan, base.monthly, base.overspend, row_index(plan, "total"), 0)
    png = fan_png(d, "Small County", 500, 3)
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20_000
