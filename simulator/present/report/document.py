"""The report's content, in order: :func:`build_report` and the text and tables it holds.

The same list of blocks is rendered as HTML (:mod:`.html`) and as PDF
(:mod:`.pdf`), so the two say exactly the same thing.
"""

from __future__ import annotations

import xarray as xr

from simulator.present import charts
from simulator.present.charts import RunInfo, money_text, pct_text
from simulator.present.console import forecast_comparison
from simulator.present.numbers import fixed
from simulator.present.report.assumptions import key_assumptions
from simulator.present.report.blocks import (
    Block,
    Bullets,
    ChartBlock,
    Heading,
    PageBreak,
    Paragraph,
    Table,
)
from simulator.present.report.formats import se_text
from simulator.present.report.words import drivers_sentence, headline, headlines, year_heading
from simulator.results.summary import summary_table

HOW_TO_READ = (
    "A fan chart shows the range of outcomes the model finds possible. The darkest band in "
    "the middle holds the central 10% of simulated outcomes; each pair of lighter bands adds "
    "another 10%, out to 90%, so one outcome in ten falls outside the fan (one in twenty "
    "above it). The black line is the median, the central estimate: half the outcomes are "
    "above it and half below. The dashed orange line is the budget. Where the fan lies above "
    "the budget line, an overspend is more likely than not; how far it reaches shows how large "
    "the overspend could be.",
    "A probability such as \u201ca 73% chance of overspend\u201d is the share of the {draws:,} "
    "simulated years in which spending exceeded the budget, each drawing its own demand, "
    "placement lengths, prices and savings delivery from the ranges under Key assumptions. "
    "It is only as good as those assumptions, but it can be read like a weather forecast: "
    "73% means that roughly three years in four like this one would overspend. \u201cA 1 in 10 "
    "chance that it is more than \u00a3X\u201d is the 90th percentile, a prudent figure for "
    "contingency and reserves. The Monte Carlo standard error (s.e.) shows how much a figure "
    "could move with a different random seed; it shrinks as more outcomes are simulated.",
)


def _years(ds: xr.Dataset) -> list[str]:
    return [str(y) for y in ds["financial_year"].values]


def _summary_table(ds: xr.Dataset, year: str) -> Table:
    """The summary by service for one year, £m, with Monte Carlo standard errors."""
    table = summary_table(ds)
    table = table[table["financial_year"] == year]
    labels = {k: charts.service_label(ds, k) for k in charts.services_of(ds)}
    rows, strong = [], []
    for r in table.itertuples():
        rows.append(
            [
                labels[r.service],
                money_text(r.budget_gbp),
                money_text(r.median_outturn_gbp),
                pct_text(r.p_overspend),
                f"{fixed(100 * r.p_overspend_se, 1)}%",
                money_text(r.p10_overspend_gbp),
                money_text(r.p50_overspend_gbp),
                money_text(r.p90_overspend_gbp),
                se_text(getattr(r, "p90_overspend_se_gbp", float("nan"))),
            ]
        )
        strong.append(r.service_type in ("department", "total"))
    columns = [
        "Service",
        "Budget",
        "Median outturn",
        "Chance of overspend",
        "s.e.",
        "P10",
        "P50",
        "P90",
        "s.e. of P90",
    ]
    return Table(columns, rows, "lrrrrrrrr", strong, [3.3, 1, 1.1, 1.2, 0.7, 0.9, 0.9, 0.9, 0.9])


def build_report(
    ds: xr.Dataset,
    sensitivity: xr.Dataset | None = None,
    scenarios: xr.Dataset | None = None,
    every: bool = False,
) -> list[Block]:
    """The report's content, in order, for both the HTML and the PDF.

    Parameters
    ----------
    ds : xarray.Dataset
        Results Dataset.
    sensitivity, scenarios : xarray.Dataset, optional
        Sensitivity and scenario results, shown when given.
    every : bool
        Include the charts of every service and year (see :func:`charts.chart_list`).

    Returns
    -------
    list of blocks
    """
    run = RunInfo.from_dataset(ds)
    years = _years(ds)
    depts = charts.services_of(ds, "department")
    all_charts = charts.chart_list(ds, sensitivity, scenarios, every)

    def pick(kind: str, year: str | None = None) -> list[Block]:
        return [ChartBlock(c) for c in all_charts if c.kind == kind and c.year == year]

    blocks: list[Block] = [
        Heading(f"{run.council}: social care budget risk", 0),
        Paragraph(
            f"Forecast of net outturn against budget for {years[0]} to {years[-1]}, from "
            f"{run.draws:,} simulated outcomes (seed {run.seed}); run {run.created} with "
            f"overspend {run.version}. Money is in cash terms (£m)."
            + (
                f" Spend to {charts.date_text(ds.attrs['as_of'])} is actual; the rest is simulated."
                if ds.attrs.get("as_of")
                else ""
            )
        ),
        Heading("Key messages"),
    ]
    blocks += [Paragraph(headline(ds, "total", y).text, emphasis=True) for y in years]
    blocks += [Paragraph(headline(ds, d, years[0]).text, emphasis=True) for d in depts]
    blocks.append(Paragraph(drivers_sentence(charts.drivers_data(ds, years[0]))))
    comparison = forecast_comparison(ds)
    if comparison:
        blocks += [Paragraph("Against the officer's own forecast:"), Bullets(comparison)]
    blocks += [
        Heading("How to read this"),
        *(Paragraph(p.format(draws=run.draws)) for p in HOW_TO_READ),
    ]
    sentences = headlines(ds)
    for i, year in enumerate(years):
        blocks += [
            PageBreak(),
            Heading(year_heading(year)),
            Paragraph(
                "£m. P10, P50 and P90 are the 10th, 50th and 90th percentiles of the overspend "
                "(negative: an underspend); s.e. is the Monte Carlo standard error."
            ),
            _summary_table(ds, year),
            Heading(f"{year} in words", 2),
            Bullets([h.text for h in sentences if h.financial_year == year]),
        ]
        blocks += pick("inyear", year) + pick("distribution", year) + pick("drivers", year)
        if i == 0:
            blocks += pick("tornado", year) + pick("sobol", year)
    blocks += [PageBreak(), Heading(f"The medium term, {years[0]} to {years[-1]}"), *pick("medium")]
    # The first year's sensitivity sits with that year; of the later years only the last is
    # shown (the charts folder has them all), to keep the appendix to the point.
    sens_years = sorted(
        {c.year for c in all_charts if c.kind in ("tornado", "sobol")}, key=years.index
    )
    later = [y for y in sens_years[-1:] if y != years[0]]
    if later or any(c.kind == "scenarios" for c in all_charts):
        blocks += [PageBreak(), Heading("Sensitivity and scenarios")]
        blocks += [b for y in later for b in pick("tornado", y) + pick("sobol", y)]
        blocks += pick("scenarios")
    blocks += [PageBreak(), Heading("Key assumptions"), *key_assumptions(ds)]
    return blocks
