"""The report's content, in order: :func:`build_report` and the text and tables it holds.

The same list of blocks is rendered as HTML (:mod:`.html`) and as PDF
(:mod:`.pdf`), so the two say exactly the same thing.
"""

from __future__ import annotations

from pathlib import Path

import xarray as xr

from simulator.analysis.movement import Movement
from simulator.analysis.tail import tail_attribution
from simulator.present import charts
from simulator.present.answers import (
    MOVEMENT_COLUMNS,
    RESERVE_COLUMNS,
    TAIL_COLUMNS,
    cause_sentence,
    cause_table_rows,
    movement_sentence,
    movement_table_rows,
    reserve_sentence,
    reserve_table_rows,
    savings_sentence,
    scenario_rows,
    scenario_sentences,
    shortfall_sentence,
    tail_sentence,
    tail_table_rows,
)
from simulator.present.charts import RunInfo, money_text, pct_text
from simulator.present.charts.movement import draw_causes, draw_movement
from simulator.present.console import forecast_comparison
from simulator.present.numbers import fixed, money_unit
from simulator.present.report.assumptions import key_assumptions
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
from simulator.present.report.cabinet import cabinet_summary
from simulator.present.report.formats import chance, se_text
from simulator.present.report.transitions import transitions_section
from simulator.present.report.words import (
    drivers_sentence,
    headline,
    headline_decimals,
    headlines,
    year_heading,
)
from simulator.results.reserve import reserve_dataset, reserve_rows
from simulator.results.summary import summary_table

HOW_TO_READ = (
    "A fan chart shows the range of outcomes the model finds possible. The darkest band in "
    "the middle holds the central 10% of simulated outcomes; each pair of lighter bands adds "
    "another 10%, out to 90%, so one outcome in ten falls outside the fan (one in twenty "
    "above it). The black line is the median, the central estimate: half the outcomes are "
    "above it and half below. The dashed orange line is the budget. Where the fan lies above "
    "the budget line, an overspend is more likely than not; how far it reaches shows how large "
    "the overspend could be.",
    "This report's headline is that there is {chance} of an overspend of all services together "
    "in {year}: {pct} of the {draws:,} simulated years spent more than the budget, each drawing "
    "its own demand, placement lengths, prices and savings delivery from the ranges under Key "
    "assumptions. It is only as good as those assumptions, but it can be read like a weather "
    "forecast: {pct} means that roughly {k} years in {n} like this one would overspend. Its "
    "\u201c1 in 10\u201d figure ({p90}) is the 90th percentile: {reserve}. The "
    "Monte Carlo standard error (s.e.) shows how much a figure could move with a different "
    "random seed; it shrinks as more outcomes are simulated.",
)

#: The glossary: the words a cabinet member reads, in the report's own sense.
GLOSSARY = (
    ("Chance of overspend", "The share of the simulated futures in which spending exceeds the "
     "budget, e.g. 81% means 81 futures in 100."),
    ("Central estimate (median)", "The middle outcome: half the simulated futures are better and "
     "half worse."),
    ("1 in 10 bad case (P90)", "An overspend exceeded in only 1 future in 10 (the 90th "
     "percentile); a reserve of that size covers the overspend in 9 futures out of 10."),
    ("P10, P50, P90", "The 10th, 50th and 90th percentiles: 10%, 50% and 90% of the futures "
     "overspend by less."),
    ("Reserve for 9 in 10", "The contingency that covers the overspend in 9 futures out of 10 "
     "(likewise 8 in 10 and 19 in 20)."),
    ("Worst 1 in 20 (expected shortfall)", "The average overspend in the worst 5% of futures."),
    ("Extra savings for evens", "Savings, delivered in full, that would bring the chance of "
     "overspend down to 50%."),
    ("Fan chart", "A chart of the range of outcomes over time: the darkest band holds the "
     "central 10% of futures, the lightest 90%."),
    ("Driver", "A budget line or assumption whose uncertainty moves the total most; its share "
     "is its part of the variance of the total outturn."),
    ("Scenario", "The same futures re-run with one change (for example no savings delivered), "
     "so the difference is due to the change alone."),
    ("Standard error (s.e.)", "How much a figure could move with another set of simulated "
     "futures; about two standard errors either side holds the figure a longer run would give."),
)  # fmt: skip


def signed_money(x: float, decimals: int) -> str:
    """An overspend with its sign in words: "£7.9m over budget" or "£1.2m under budget"."""
    return f"{money_text(abs(x), decimals)} {'over' if x >= 0 else 'under'} budget"


def _years_in(p: float) -> tuple[int, int]:
    """A chance as "k years in n" with n at most 10, e.g. 0.81 -> (4, 5), 0.73 -> (3, 4)."""
    for n in range(2, 11):
        k = round(p * n)
        if abs(k / n - p) <= 0.03:
            return k, n
    return round(p * 10), 10


def how_to_read(ds: xr.Dataset) -> list[str]:
    """The "How to read this" paragraphs, quoting the report's own headline figures."""
    year = _years(ds)[0]
    h = headline(ds, "total", year)
    k, n = _years_in(h.p_overspend)
    places = headline_decimals(ds["overspend"].sel(service="total", financial_year=year).values)
    reserve = (
        f"a reserve of {money_text(h.p90, places)} covers the overspend in 9 futures out of 10, "
        "a prudent figure for contingency"
        if h.p90 > 0
        else "even that is an underspend, so no reserve is needed in 9 futures out of 10"
    )
    return [
        HOW_TO_READ[0],
        HOW_TO_READ[1].format(
            chance=chance(h.p_overspend) if 0 < h.p_overspend < 1 else pct_text(h.p_overspend),
            pct=pct_text(h.p_overspend), year=year, draws=h.draws, k=k, n=n,
            p90=signed_money(h.p90, places), reserve=reserve,
        ),
    ]  # fmt: skip


def _years(ds: xr.Dataset) -> list[str]:
    return [str(y) for y in ds["financial_year"].values]


def _summary_table(ds: xr.Dataset, year: str, table=None) -> Table:
    """The summary by service for one year, £m, with Monte Carlo standard errors.

    ``table``: the run's :func:`summary_table`, when already computed (it covers every year).
    """
    table = summary_table(ds) if table is None else table
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


def reserve_section(reserve: xr.Dataset, depts: list[str]) -> list[Block]:
    """The reserve and savings section: the first year by line, and the total by year."""
    years = [str(y) for y in reserve["financial_year"].values]
    keys = [str(k) for k in reserve["service"].values]
    first = [r for r in reserve_rows(reserve) if r["financial_year"] == years[0]]
    strong = [r["service"] in (*depts, "total") for r in first]
    columns = ["", *(c for c, _ in RESERVE_COLUMNS)]
    widths = [2.6, 1, 1, 1, 0.7, 1, 1.2, 1.1, 0.7]
    by_year = [r for r in reserve_rows(reserve, ["total"])]
    words = []
    for year in years:
        words += [reserve_sentence(reserve, "total", year), savings_sentence(reserve, "total", year),
                  shortfall_sentence(reserve, "total", year)]  # fmt: skip
    return (
        [
            Heading("Reserve and savings"),
            Paragraph(
                "How big a contingency covers the overspend at each level of confidence, and how "
                "much more saving, delivered in full, would bring the chance of overspend to evens. "
                "Read off the same simulated futures as the rest of the report; £m, with Monte "
                "Carlo standard errors (s.e.)."
            ),
            Heading(f"{years[0]}, by budget line", 2),
            Table(
                columns, reserve_table_rows(first), "l" + "r" * len(RESERVE_COLUMNS), strong, widths
            ),
            Heading("All services together, by year", 2),
            Table(
                ["Year", *columns[1:]],
                [
                    [r["financial_year"], *row[1:]]
                    for r, row in zip(by_year, reserve_table_rows(by_year), strict=True)
                ],
                "l" + "r" * len(RESERVE_COLUMNS),
                [False] * len(by_year),
                widths,
            ),
            Bullets(words),
        ]
        if "total" in keys
        else []
    )


def worst_section(ds: xr.Dataset, first) -> list[Block]:
    """The section on the worst outcomes: each line's part in the total's worst 1 in 10."""
    years = _years(ds)
    later = [tail_sentence(tail_attribution(ds, y)) for y in years[1:]]
    return [
        Heading("What drives the worst outcomes"),
        Paragraph(tail_sentence(first)),
        Paragraph(
            f"{first.financial_year}, £m. The worst 1 in 10 are the {first.draws_in_tail:,} "
            "simulated futures in which all services together overspend most; each line's mean "
            "overspend there adds up to the total's. New starts: placements started in the "
            "year. High-cost open: high-cost placements open at some time in the year, on "
            "average and in the worst 1 in 10. Its own worst 1 in 10: the line's mean overspend "
            "in its own worst futures, and the new starts there."
        ),
        Table(
            list(TAIL_COLUMNS),
            tail_table_rows(first),
            "l" + "r" * (len(TAIL_COLUMNS) - 1),
            widths=[2.2, 1, 1, 1.2, 0.9, 1.0, 1.0, 1.2, 1.1, 1.0],
        ),
        *([Bullets(later)] if later else []),
    ]


def scenario_section(scen: xr.Dataset | None) -> list[Block]:
    """The scenarios section: each scenario's description and its change from the base."""
    if scen is None:
        return []
    found = scenario_rows(scen)
    money = money_unit(
        [r[k] for r in found for k in r if k.endswith("_gbp")], minus="\u2212"
    )  # one unit for the table: £m, with two decimals when the standard errors need them
    rows, previous = [], None
    for r in found:
        base = r["scenario"] == str(scen["scenario"].values[0])
        rows.append([
            r["description"] if r["scenario"] != previous else "", r["financial_year"],
            pct_text(r["p_overspend"]),
            "" if base else f"{fixed(100 * r['p_overspend_change'], 1, sign=True)} \u00b1 "
            f"{fixed(100 * r['p_overspend_change_se'], 1)}",
            money(r["mean_overspend_gbp"]),
            "" if base else f"{money(r['mean_overspend_change_gbp'])} \u00b1 "
            f"{money(r['mean_overspend_change_se_gbp'])}",
        ])  # fmt: skip
        previous = r["scenario"]
    years = [str(y) for y in scen["financial_year"].values]
    return [
        Heading("Scenarios"),
        Paragraph(
            "Each scenario re-runs the same simulated futures with one change, so the "
            "difference from the base case is due to the change alone. All services together, "
            "£m; changes with their Monte Carlo standard errors."
        ),
        Table(
            [
                "Scenario",
                "Year",
                "Chance of overspend",
                "Change (points)",
                "Mean overspend",
                "Change",
            ],
            rows,
            "llrrrr",
            widths=[3.2, 0.8, 1, 1.1, 1, 1.3],
        ),
        Bullets([t for y in years for t in scenario_sentences(scen, y)]),
    ]


def _since_words(m: Movement) -> str:
    """When the last forecast was made, in words ("the forecast of 1 July 2024")."""
    date = charts.date_text(m.before_created) if m.before_created else ""
    return f"the forecast of {date}" if date else "the last forecast"


def movement_section(ds: xr.Dataset, m: Movement | None) -> list[Block]:
    """The movement since the last forecast: sentence, table and waterfall for the first year."""
    if m is None:
        return []
    year = _years(ds)[0]
    rows, strong = movement_table_rows(m, year)
    run = RunInfo.from_dataset(ds)
    chart = charts.Chart(
        f"movement_{year.replace('/', '-')}",
        f"Expected overspend since the last forecast, {year}",
        (charts.CHART_WIDTH, 3.6),
        lambda f: draw_movement(f, m, year, run),
        kind="movement",
        year=year,
    )
    return [
        Heading("Movement since the last forecast"),
        Paragraph(movement_sentence(m, year, _since_words(m))),
        Paragraph(
            f"{year}, £m. Chance of overspend, median and 90th percentile of the overspend in the "
            "last forecast and in this one; the change in mean overspend of the lines adds up to "
            "the total's."
        ),
        Table(
            list(MOVEMENT_COLUMNS), rows, "l" + "r" * 7, strong, [2.6, 0.9, 0.9, 1, 1, 1, 1, 1.1]
        ),
        ChartBlock(chart),
        *_cause_blocks(m, run),
    ]


def _cause_blocks(m: Movement, run: RunInfo) -> list[Block]:
    """What moved the total, by cause, when the two configs allow the split."""
    if m.causes is None:
        return [
            Paragraph(
                "The change is not split into new actuals, caseload and assumptions: the two "
                "runs' configs differ in their services or horizon, or do not combine."
            )
        ]
    split = m.causes
    chart = charts.Chart(
        f"movement_causes_{split.financial_year.replace('/', '-')}",
        f"What moved the expected overspend, {split.financial_year}",
        (charts.CHART_WIDTH, 3.4),
        lambda f: draw_causes(f, split, run),
        kind="movement",
        year=split.financial_year,
    )
    return [
        Heading("What moved it", 2),
        Paragraph(cause_sentence(split)),
        Table(
            ["Step", "Chance of overspend", "Mean overspend", "Change"],
            cause_table_rows(split),
            "lrrr",
            widths=[2.4, 1.2, 1.2, 1.2],
        ),
        ChartBlock(chart),
    ]


def build_report(
    ds: xr.Dataset,
    sensitivity: xr.Dataset | None = None,
    scenarios: xr.Dataset | None = None,
    every: bool = False,
    reserve: xr.Dataset | None = None,
    since: Movement | None = None,
    table=None,
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
    reserve : xarray.Dataset, optional
        The run's reserve answers (``reserve.nc``; computed from ``ds`` when not given).
    since : Movement, optional
        The movement from a previous run (``overspend report --since``): a key
        message, a table and a waterfall chart.
    table : pandas.DataFrame, optional
        The run's :func:`summary_table`, when already computed.

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

    reserve = reserve if reserve is not None else reserve_dataset(ds)
    summary = cabinet_summary(ds, reserve, scenarios)
    blocks: list[Block] = [
        CabinetPage(summary),
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
        *([Paragraph(summary.notice, emphasis=True)] if summary.notice else []),
        Heading("Key messages"),
    ]
    blocks += [Paragraph(headline(ds, "total", y).text, emphasis=True) for y in years]
    blocks += [Paragraph(headline(ds, d, years[0]).text, emphasis=True) for d in depts]
    blocks.append(Paragraph(drivers_sentence(charts.drivers_data(ds, years[0]))))
    blocks += [Paragraph(t) for t in summary.reserve[:2]]
    if scenarios is not None:
        blocks += [Paragraph(t) for t in scenario_sentences(scenarios, years[0])]
    worst = tail_attribution(ds, years[0])
    blocks.append(Paragraph(tail_sentence(worst)))
    if since is not None:
        blocks.append(Paragraph(movement_sentence(since, years[0], _since_words(since))))
    comparison = forecast_comparison(ds)
    if comparison:
        blocks += [Paragraph("Against the officer's own forecast:"), Bullets(comparison)]
    blocks += [
        Heading("How to read this"),
        *(Paragraph(p) for p in how_to_read(ds)),
        Heading("Words used in this report", 2),
        Table(["Word", "Meaning"], [list(g) for g in GLOSSARY], "ll", widths=[1.2, 3.8]),
        *reserve_section(reserve, depts),
        *worst_section(ds, worst),
        *scenario_section(scenarios),
        *movement_section(ds, since),
    ]
    sentences = headlines(ds)
    every_year = summary_table(ds) if table is None else table  # each year's is a slice
    for i, year in enumerate(years):
        blocks += [
            PageBreak(),
            Heading(year_heading(year)),
            Paragraph(
                "£m. P10, P50 and P90 are the 10th, 50th and 90th percentiles of the overspend "
                "(negative: an underspend); s.e. is the Monte Carlo standard error."
            ),
            _summary_table(ds, year, every_year),
            Heading(f"{year} in words", 2),
            Bullets([h.text for h in sentences if h.financial_year == year]),
        ]
        blocks += pick("inyear", year) + pick("distribution", year) + pick("drivers", year)
        if i == 0:
            blocks += pick("tornado", year) + pick("sobol", year)
    blocks += [PageBreak(), Heading(f"The medium term, {years[0]} to {years[-1]}"), *pick("medium")]
    blocks += transitions_section(ds)  # children's care continuing into adults' services
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
    source = ds.encoding.get("source")
    if source and (Path(source).parent / "backtest.nc").is_file():
        # Only then: importing the backtest package imports calibration (a second of CPU).
        from simulator.backtest.report import track_record_blocks  # a backtest beside the run

        blocks += track_record_blocks(ds)
    blocks += [PageBreak(), Heading("Key assumptions"), *key_assumptions(ds)]
    return blocks
