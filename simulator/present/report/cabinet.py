"""The one page for cabinet: ``summary.pdf``, ``summary.png`` and the report's first page.

This year's headline per department in plain English, one fan chart of the
total against budget, a compact table (budget, central estimate, chance of
overspend, 1-in-10 bad case), the three biggest drivers in words and the
reserve answer, on one A4 page that reads in black and white. A config whose
budgets are calibrate's placeholders says so at the top, in a box.

:func:`cabinet_summary` gathers the words and numbers once;
:func:`draw_cabinet_page` lays them out on an A4 figure (the PDF page and the
PNG) and :func:`cabinet_blocks` gives the same content as report blocks for the
HTML report, so the two say the same thing.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import xarray as xr
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure, SubFigure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle

from simulator.present import charts
from simulator.present.answers import (
    reserve_sentence,
    savings_sentence,
    scenario_sentences,
    shortfall_sentence,
)
from simulator.present.charts import Chart, RunInfo, chart_style
from simulator.present.charts.formatting import money_axis
from simulator.present.charts.stats import FAN_COVERAGES, band_levels
from simulator.present.charts.style import BAND_COLOURS, BUDGET_COLOUR, BUDGET_DASH, MEDIAN_HALO
from simulator.present.numbers import money_text, pct_text, pct_whole
from simulator.present.report.blocks import Block, ChartBlock, Heading, Paragraph, Table
from simulator.present.report.words import headline
from simulator.results.reserve import reserve_dataset

A4 = (8.27, 11.69)  # inches
MARGIN = 0.7  # inches, every side
WIDTH = A4[0] - 2 * MARGIN
TITLE_PT, HEAD_PT, BODY_PT, TABLE_PT, SMALL_PT = 15, 10.5, 8.8, 8.3, 7
LEADING = 1.32
#: Scenario sentences on the page at most (the report has them all).
MAX_SCENARIOS = 3
#: The compact table's columns (a line break where the page's header takes two lines).
COLUMNS = ["", "Budget", "Central\nestimate", "Chance of\noverspend", "1 in 10\nbad case"]
#: Height of the fan chart, inches: as tall as the text leaves room for, within these.
CHART_HEIGHT = (2.0, 3.1)


@dataclass(frozen=True)
class CabinetSummary:
    """The words and numbers of the one page, for one financial year.

    Attributes
    ----------
    table : list of list of str
        Rows of the compact table (departments, then the total), text as shown.
    figures : dict of str to str
        The headline figures as shown on the page (chance, central estimate,
        1 in 10 and 90% reserve of the total), for tests and the "How to read
        this" box.
    """

    council: str
    year: str
    intro: str
    notice: str
    headlines: list[str]
    columns: list[str]
    table: list[list[str]]
    strong: list[bool]
    drivers: str
    reserve: list[str]
    scenarios: list[str]
    inyear: charts.InYear = field(repr=False)
    figures: dict[str, str] = field(default_factory=dict)


def placeholder_notice(ds: xr.Dataset) -> str:
    """The warning for budgets that are calibrate's placeholders ("" when they are real)."""
    named = str(ds.attrs.get("budgets_placeholder", "")).strip()
    if not named:
        return ""
    return (
        f"Budgets are placeholders ({named}): calibrate wrote the model's own mean cost "
        "where the budget belongs, so every overspend figure here is meaningless until the "
        "real budgets are entered in the config and the run is repeated."
    )


def drivers_words(d: charts.Drivers, top: int = 3) -> str:
    """The biggest drivers of the total's uncertainty in one sentence (shares of its variance)."""
    named = [
        f"{label} ({pct_whole(share)})"
        for label, share in zip(d.labels[:top], d.variance_share[:top], strict=True)
        if share > 0
    ]
    if not named:
        return f"No budget line stands out as a driver of the risk in {d.financial_year}."
    listed = named[0] if len(named) == 1 else f"{', '.join(named[:-1])} and {named[-1]}"
    many = "The three lines" if len(named) == 3 else "The lines"
    return (
        f"{many} that drive most of the uncertainty in {d.financial_year} are {listed} "
        "(each line's share of the variance of the total outturn)."
    )


def cabinet_summary(
    ds: xr.Dataset, reserve: xr.Dataset | None = None, scenarios: xr.Dataset | None = None
) -> CabinetSummary:
    """Gather the one page's content for the first financial year of a run.

    Parameters
    ----------
    ds : xarray.Dataset
        Results.
    reserve : xarray.Dataset, optional
        The run's :func:`~simulator.results.reserve.reserve_dataset` (computed when not given).
    scenarios : xarray.Dataset, optional
        ``scenarios.nc``: a sentence for each scenario (up to :data:`MAX_SCENARIOS`).
    """
    run = RunInfo.from_dataset(ds)
    year = str(ds["financial_year"].values[0])
    depts = charts.services_of(ds, "department")
    reserve = reserve if reserve is not None else reserve_dataset(ds, services=["total"])
    rows, strong = [], []
    for key in [*depts, "total"]:
        h = headline(ds, key, year)
        budget = float(ds["budget"].sel(service=key, financial_year=year))
        rows.append([
            h.label, money_text(budget), _over_under(h.median), pct_text(h.p_overspend),
            _over_under(h.p90),
        ])  # fmt: skip
        strong.append(key == "total")
    total = headline(ds, "total", year)
    as_of = ds.attrs.get("as_of")
    intro = (
        f"What the simulation of {run.draws:,} possible futures says about {year}"
        + (f", with actual spend to {charts.date_text(as_of)}" if as_of else "")
        + ". Money is in £m, cash terms."
    )
    reserve_words = [
        reserve_sentence(reserve, "total", year, 0.9),
        savings_sentence(reserve, "total", year),
        shortfall_sentence(reserve, "total", year),
    ]
    figures = {
        "chance": pct_text(total.p_overspend),
        "central": money_text(total.median),
        "p90": money_text(total.p90),
        "reserve90": money_text(
            float(reserve["reserve"].sel(service="total", financial_year=year, confidence=0.9))
        ),
    }
    return CabinetSummary(
        council=run.council,
        year=year,
        intro=intro,
        notice=placeholder_notice(ds),
        headlines=[headline(ds, k, year).text for k in ["total", *depts]],
        columns=COLUMNS,
        table=rows,
        strong=strong,
        drivers=drivers_words(charts.drivers_data(ds, year)),
        reserve=reserve_words,
        scenarios=(
            scenario_sentences(scenarios, year)[:MAX_SCENARIOS] if scenarios is not None else []
        ),
        inyear=charts.inyear_data(ds, "total", year),
        figures=figures,
    )


def _over_under(x: float) -> str:
    """An overspend as the table shows it: "£3.3m over" or "£1.2m under"."""
    if round(abs(x) / 1e5) == 0:
        return "on budget"
    return f"{money_text(abs(x))} {'over' if x > 0 else 'under'}"


# ------------------------------------------------------------------ the fan chart


def draw_total_fan(ax, d: charts.InYear) -> None:
    """The total's overspend building up through the year: a fan against the budget line.

    The gap between cumulative spend and the budget spread by days, so the zero
    line is the budget and the fan's end is the year-end overspend.
    """
    k = d.actual_months
    x = d.days[k:]
    gap = d.cum_spend[:, k:] - d.cum_budget[k:]
    levels = sorted({q for c in FAN_COVERAGES for q in band_levels(c)} | {0.5})
    q = dict(zip(levels, np.quantile(gap, levels, axis=0), strict=True))
    for coverage, colour in zip(FAN_COVERAGES, BAND_COLOURS, strict=True):
        lo, hi = band_levels(coverage)
        ax.fill_between(x, q[lo], q[hi], facecolor=colour, edgecolor="none", zorder=1,
                        gid=f"summary-band-{round(coverage * 100)}")  # fmt: skip
    ax.plot(x, q[0.5], color="black", lw=1.5, zorder=4, path_effects=MEDIAN_HALO)
    # A white halo keeps the budget line apart from the bands when printed in grey.
    ax.plot(d.days, np.zeros_like(d.days), color=BUDGET_COLOUR, lw=2, ls=BUDGET_DASH, zorder=5,
            path_effects=MEDIAN_HALO)  # fmt: skip
    if k:
        actual = d.cum_spend[0, : k + 1] - d.cum_budget[: k + 1]
        ax.plot(d.days[: k + 1], actual, color="black", lw=2.8, zorder=6)
    money_axis(ax.yaxis)
    ticks = d.days[1:]
    ax.set_xticks(ticks, d.month_names, fontsize=7.5)
    ax.set_xlim(0, d.days[-1])
    ax.set_ylabel("Over (+) or under (\u2212) budget", fontsize=8)
    ax.text(0.02, 0.95, f"Chance of overspend by 31 March: {pct_text(d.p_overspend)}",
            transform=ax.transAxes, va="top", ha="left", fontsize=8.5, fontweight="bold",
            bbox={"boxstyle": "round,pad=0.3", "facecolor": "white", "edgecolor": "#999999"})  # fmt: skip
    handles = [
        Line2D([], [], color="black", lw=1.5, label="Central estimate"),
        Line2D([], [], color=BUDGET_COLOUR, lw=2, ls=BUDGET_DASH, label="Budget"),
        Patch(facecolor=BAND_COLOURS[-1], label="Central 10% of futures"),
        Patch(facecolor=BAND_COLOURS[0], label="9 futures in 10"),
    ]
    if k:
        handles.insert(0, Line2D([], [], color="black", lw=2.8, label="Actual"))
    ax.legend(handles=handles, loc="lower left", bbox_to_anchor=(0, 1.01), ncols=len(handles),
              fontsize=7, frameon=False, borderaxespad=0, handlelength=1.6)  # fmt: skip


def total_fan_chart(summary: CabinetSummary, size: tuple[float, float] = (6.7, 3.2)) -> Chart:
    """The summary's fan chart as a :class:`Chart` (the HTML report shows it as an image)."""
    d = summary.inyear

    def draw(fig: Figure | SubFigure) -> None:
        ax = fig.add_subplot()
        draw_total_fan(ax, d)
        ax.set_title(_chart_title(summary), loc="left", pad=18, fontsize=9)

    return Chart(f"summary_total_{summary.year.replace('/', '-')}", _chart_title(summary),
                 size, draw, kind="summary", year=summary.year)  # fmt: skip


def _chart_title(summary: CabinetSummary) -> str:
    return f"All services together, {summary.year}: spend against budget through the year"


# ------------------------------------------------------------------ the page


class _Writer:
    """Draws lines of text down an A4 figure, measured with the PDF's own font metrics."""

    def __init__(self, fig: Figure, top: float) -> None:
        from simulator.present.report.pdf import _Measure

        self.fig, self.y, self.m = fig, A4[1] - top, _Measure()

    def lines(self, text: str, size: float, bold: bool = False, indent: float = 0.0) -> list[str]:
        return self.m.wrap(text, size, WIDTH - indent, bold)

    def height(self, text: str, size: float, bold: bool = False, indent: float = 0.0) -> float:
        return len(self.lines(text, size, bold, indent)) * size * LEADING / 72

    def text(self, text: str, size: float, bold=False, indent=0.0, gap=0.05, **kw) -> None:
        for line in self.lines(text, size, bold, indent):
            self.y -= size * LEADING / 72
            self.fig.text((MARGIN + indent) / A4[0], (self.y + size * 0.25 / 72) / A4[1], line,
                          fontsize=size, fontweight="bold" if bold else "normal",
                          ha="left", va="baseline", **kw)  # fmt: skip
        self.y -= gap

    def bullets(self, items: list[str], size: float) -> None:
        for item in items:
            top = self.y
            self.text(item, size, indent=0.17, gap=0.03)
            self.fig.text((MARGIN + 0.03) / A4[0], (top - size * (LEADING - 0.25) / 72) / A4[1],
                          "\u2022", fontsize=size, va="baseline")  # fmt: skip
        self.y -= 0.03


def _text_height(w: _Writer, s: CabinetSummary) -> float:
    """Inches the page's text takes (everything but the chart)."""
    h = w.height(f"{s.council}: social care budget risk, {s.year}", TITLE_PT, True) + 0.1
    h += w.height(s.intro, BODY_PT) + 0.1
    if s.notice:
        h += w.height(s.notice, BODY_PT, True, 0.2) + 0.3
    h += (4 + bool(s.scenarios)) * (HEAD_PT * LEADING / 72 + 0.12)  # the headings
    h += sum(w.height(t, BODY_PT, indent=0.17) + 0.03 for t in s.headlines)
    h += (len(s.table) + 2) * (TABLE_PT * LEADING / 72 + 0.06) + 0.1
    h += w.height(s.drivers, BODY_PT) + 0.05
    h += sum(w.height(t, BODY_PT, indent=0.17) + 0.03 for t in s.reserve + s.scenarios)
    return h + 0.5  # the chart's legend and axis labels, and the footer's room


def _fit(w: _Writer, s: CabinetSummary) -> CabinetSummary:
    """The summary with what does not fit the page left out (the report has it all).

    In this order: scenario sentences, the expected shortfall, then department
    headlines from the last (a council with many departments); the total's
    headline, the table, the drivers and the reserve always stay.
    """
    room = A4[1] - 2 * MARGIN - CHART_HEIGHT[0]
    while _text_height(w, s) > room:
        if s.scenarios:
            s = replace(s, scenarios=s.scenarios[:-1])
        elif len(s.reserve) > 2:
            s = replace(s, reserve=s.reserve[:2])
        elif len(s.headlines) > 1:
            s = replace(s, headlines=s.headlines[:-1])
        else:
            break
    return s


def _heading(w: _Writer, text: str) -> None:
    w.y -= 0.07
    w.text(text, HEAD_PT, True, color="#08306b", gap=0.05)


def _table(w: _Writer, s: CabinetSummary) -> None:
    widths = np.array([2.6, 1.0, 1.25, 1.15, 1.25])
    widths = WIDTH * widths / widths.sum()
    line_h = TABLE_PT * LEADING / 72
    for i, row in enumerate([s.columns, *s.table]):
        bold = i == 0 or s.strong[i - 1]
        lines = max(cell.count("\n") + 1 for cell in row)
        w.y -= lines * line_h + 0.06
        x = MARGIN
        for j, (cell, cw) in enumerate(zip(row, widths, strict=True)):
            left = j == 0
            for k, part in enumerate(cell.split("\n")[::-1]):  # from the bottom line up
                w.fig.text((x + (0.04 if left else cw - 0.04)) / A4[0],
                           (w.y + 0.05 + k * line_h) / A4[1], part, fontsize=TABLE_PT,
                           ha="left" if left else "right", va="baseline",
                           fontweight="bold" if bold else "normal")  # fmt: skip
            x += cw
        heavy = i == 0 or (i == len(s.table) - 1)
        w.fig.add_artist(Line2D([MARGIN / A4[0], (MARGIN + WIDTH) / A4[0]],
                                [(w.y - 0.01) / A4[1]] * 2, color="#444444" if heavy else "#bbbbbb",
                                lw=0.9 if heavy else 0.5))  # fmt: skip
    w.y -= 0.1


def draw_cabinet_page(
    fig: Figure, s: CabinetSummary, run: RunInfo | None, footer: str = ""
) -> float:
    """Lay the one page out on an A4 ``fig`` (no layout engine: positions are in inches).

    The footer is ``footer``, or else the run's caption. Returns where the text
    ended, in inches from the bottom of the page (it must stay above the footer).
    """
    w = _Writer(fig, MARGIN)
    s = _fit(w, s)
    fig.text(1 - MARGIN / A4[0], 1 - 0.4 / A4[1], "Summary for cabinet", ha="right",
             va="center", fontsize=SMALL_PT, color="#555555")  # fmt: skip
    w.text(f"{s.council}: social care budget risk, {s.year}", TITLE_PT, True, color="#08306b")
    w.text(s.intro, BODY_PT, gap=0.1)
    if s.notice:
        h = w.height(s.notice, BODY_PT, True, 0.2)
        fig.add_artist(Rectangle((MARGIN / A4[0], (w.y - h - 0.16) / A4[1]), WIDTH / A4[0],
                                 (h + 0.16) / A4[1], facecolor="white", edgecolor="black",
                                 lw=1.8, ls=(0, (4, 2))))  # fmt: skip
        w.y -= 0.08
        w.text(s.notice, BODY_PT, True, indent=0.1, gap=0.2)
    _heading(w, "The headline")
    w.bullets(s.headlines, BODY_PT)
    chart_h = float(np.clip(A4[1] - 2 * MARGIN - _text_height(w, s), *CHART_HEIGHT))
    w.y -= 0.3  # the legend above the axes
    ax = fig.add_axes(((MARGIN + 0.75) / A4[0], (w.y - chart_h + 0.3) / A4[1],
                       (WIDTH - 0.8) / A4[0], (chart_h - 0.3) / A4[1]))  # fmt: skip
    draw_total_fan(ax, s.inyear)
    w.y -= chart_h + 0.05
    _heading(w, f"{s.year} at a glance (£m)")
    _table(w, s)
    _heading(w, "What drives the risk")
    w.text(s.drivers, BODY_PT)
    _heading(w, "How much reserve, and how much more saving")
    w.bullets(s.reserve, BODY_PT)
    if s.scenarios:
        _heading(w, "If things go differently")
        w.bullets(s.scenarios, BODY_PT)
    fig.text(0.5, 0.4 / A4[1], footer or (run.caption() if run else ""), ha="center", va="center",
             fontsize=SMALL_PT, color="#555555")  # fmt: skip
    return w.y


def cabinet_figure(s: CabinetSummary, run: RunInfo, footer: str = "") -> Figure:
    """A new A4 figure holding the one page (call inside :func:`chart_style`)."""
    fig = Figure(figsize=A4)
    FigureCanvasAgg(fig)
    draw_cabinet_page(fig, s, run, footer)
    return fig


def write_cabinet_pdf(
    s: CabinetSummary, run: RunInfo, path: Path, fig: Figure | None = None
) -> None:
    """``summary.pdf``: the one page, A4, text as text.

    ``fig``: the page's :func:`cabinet_figure`, when already drawn (for ``summary.png`` too).
    """
    with chart_style(), PdfPages(path, metadata={
        "Title": f"{s.council}: social care budget risk, {s.year} (summary for cabinet)",
        "Creator": f"overspend {run.version}",
    }) as pdf:  # fmt: skip
        pdf.savefig(fig if fig is not None else cabinet_figure(s, run))


def write_cabinet_png(
    s: CabinetSummary, run: RunInfo, path: Path, dpi: int = 110, fig: Figure | None = None
) -> None:
    """``summary.png``: the one page as an image (for slides and e-mail); ``fig`` as above."""
    with chart_style():
        fig = fig if fig is not None else cabinet_figure(s, run)
        fig.savefig(path, format="png", dpi=dpi, facecolor="white")


def cabinet_blocks(s: CabinetSummary) -> list[Block]:
    """The one page's content as report blocks, for the HTML report."""
    blocks: list[Block] = [
        Heading(f"{s.council}: social care budget risk, {s.year}", 0),
        Heading("Summary for cabinet"),
        Paragraph(s.intro),
    ]
    if s.notice:
        blocks.append(Paragraph(s.notice, emphasis=True))
    blocks += [Heading("The headline", 2), *(Paragraph(t, emphasis=True) for t in s.headlines)]
    blocks.append(ChartBlock(total_fan_chart(s)))
    widths = [2.6, 1.0, 1.25, 1.15, 1.25]
    blocks += [
        Heading(f"{s.year} at a glance (£m)", 2),
        Table([c.replace("\n", " ") for c in s.columns], s.table, "lrrrr", s.strong, widths),
        Heading("What drives the risk", 2),
        Paragraph(s.drivers),
        Heading("How much reserve, and how much more saving", 2),
        *(Paragraph(t) for t in s.reserve),
    ]
    if s.scenarios:
        blocks += [Heading("If things go differently", 2), *(Paragraph(t) for t in s.scenarios)]
    return blocks
