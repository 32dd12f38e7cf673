"""The cabinet-ready report: ``report.html``, ``report.pdf`` and ``summary.xlsx``.

The report is built once as a list of blocks (headings, paragraphs, lists,
tables, charts) and then rendered twice, so the HTML and the PDF say exactly
the same thing:

- HTML: one self-contained file; charts are PNG images embedded as base64 and
  there are no scripts, fonts or links to fetch, so it opens offline in any
  browser and can be e-mailed as it is;
- PDF: A4 pages drawn with matplotlib's own PDF backend, laid out like a
  cabinet paper appendix (running header, page numbers); the charts are drawn
  as vectors onto the pages and all text is real text, so it can be searched
  and copied.

``summary.xlsx`` holds the summary table and monthly percentile tables for
finance teams who work in Excel.
"""

from __future__ import annotations

import base64
import html
import io
import tomllib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr
from matplotlib.backends.backend_agg import FigureCanvasAgg, RendererAgg
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure, SubFigure
from matplotlib.font_manager import FontProperties
from PIL import Image

from simulator.errors import UserError
from simulator.files import check_file, write_file
from simulator.present import charts
from simulator.present.charts import Chart, RunInfo, chart_style, money_text, pct_text
from simulator.results.dataset import forecast_comparison
from simulator.runs.streamed import open_results, results_path, summary_table

#: What :func:`write_report` writes.
REPORT_FILES = ("report.html", "report.pdf", "summary.xlsx")

# ------------------------------------------------------------------ headlines


@dataclass(frozen=True)
class Headline:
    """The plain-English sentence for one service and year, with its numbers.

    Attributes
    ----------
    p_overspend : float
        Probability that outturn exceeds budget.
    median, p90 : float
        Median and 90th percentile of overspend (GBP; negative is an underspend).
    text : str
        The sentences, e.g. "There is a 73% chance that ... overspends in 2024/25. ...".
    """

    service: str
    label: str
    financial_year: str
    p_overspend: float
    median: float
    p90: float
    draws: int
    text: str


def _article(pct: str) -> str:
    """'a' or 'an' before a spoken percentage ("an 8%", "an 11%", "an 80%")."""
    digits = pct.lstrip("<>")
    return "an" if digits.startswith("8") or digits.startswith(("11%", "18%")) else "a"


def _chance(p: float) -> str:
    """A probability strictly between 0 and 1 in words, e.g. "a 73% chance"."""
    pct = pct_text(p)
    if pct.startswith("<"):
        return "less than a 1% chance"
    if pct.startswith(">"):
        return "more than a 99% chance"
    return f"{_article(pct)} {pct} chance"


def chance_sentence(subject: str, plural: bool, year: str, p: float, draws: int) -> str:
    """The first sentence: how likely an overspend is.

    Parameters
    ----------
    subject : str
        Who overspends, e.g. "Children and Family Services".
    plural : bool
        Whether ``subject`` takes a plural verb ("all services together overspend").
    year : str
        Financial year label.
    p : float
        Probability of overspend.
    draws : int
        Number of simulated outcomes (used when no draw, or every draw, overspends).
    """
    verb = "overspend" if plural else "overspends"
    outcomes = "simulated outcome" if draws == 1 else f"{draws:,} simulated outcomes"
    if p == 0:
        does = "do" if plural else "does"
        if draws == 1:
            return f"In the one {outcomes}, {subject} {does} not overspend in {year}."
        return f"In none of the {outcomes} {does} {subject} overspend in {year}."
    if p == 1:
        every = f"the one {outcomes}" if draws == 1 else f"all {outcomes}"
        return f"{subject[:1].upper()}{subject[1:]} {verb} in {year} in {every}."
    return f"There is {_chance(p)} that {subject} {verb} in {year}."


def _any_overspend(p: float) -> str:
    """The tail clause when the 90th percentile rounds to on budget: the measured chance."""
    if p == 0:
        return "no simulated outcome overspends at all"
    if p == 1:
        return "every simulated outcome overspends, if only slightly"
    return f"there is {_chance(p)} of any overspend"


def range_sentence(median: float, p90: float, p: float, decimals: int = 1) -> str:
    """The second sentence: the central estimate and the 1-in-10 bad outcome.

    Parameters
    ----------
    median, p90 : float
        Median and 90th percentile of overspend (GBP; negative is an underspend).
    p : float
        Probability of overspend: stated when the 90th percentile rounds to on
        budget, so the sentence never implies a chance the first one contradicts.
    decimals : int
        Decimals of the £m amounts (see :func:`headline_decimals`).
    """
    m, q = round(median / 1e6, decimals), round(p90 / 1e6, decimals)
    if m > 0:
        central = f"The central estimate is {money_text(median, decimals)} over budget"
    elif m < 0:
        central = f"The central estimate is {money_text(-median, decimals)} under budget"
    else:
        central = f"The central estimate is on budget (within £{0.5 * 10**-decimals:g}m)"
    if q > 0 and m > 0:
        tail = f"there is a 1 in 10 chance that it is more than {money_text(p90, decimals)}"
    elif q > 0:
        tail = f"there is a 1 in 10 chance of an overspend of more than {money_text(p90, decimals)}"
    elif q == 0:
        tail = _any_overspend(p)
    else:
        tail = (
            "there is a 1 in 10 chance that the underspend is less than "
            f"{money_text(-p90, decimals)}"
        )
    return f"{central}; {tail}."


def headline_decimals(over: np.ndarray) -> int:
    """Decimals of £m in a headline: those of the distribution chart of the same outcomes.

    Two decimals when the central 90% of outcomes spans less than £2m, where
    £0.1m steps would round a small line's whole range to "on budget".
    """
    return charts.chart_decimals(np.ptp(np.quantile(over, [0.05, 0.95])))


def headline(ds: xr.Dataset, service: str, year: str) -> Headline:
    """The headline for ``service`` (a service, department or ``total``) in ``year``."""
    over = ds["overspend"].sel(service=service, financial_year=year).values
    p = float(np.mean(over > 0))
    median, p90 = (float(v) for v in np.quantile(over, [0.5, 0.9]))
    total = service == "total"
    subject = "all services together" if total else charts.service_label(ds, service)
    second = range_sentence(median, p90, p, headline_decimals(over))
    text = f"{chance_sentence(subject, total, year, p, over.size)} {second}"
    return Headline(
        service, charts.service_label(ds, service), year, p, median, p90, over.size, text
    )


def headlines(ds: xr.Dataset, services: Iterable[str] | None = None) -> list[Headline]:
    """Headlines for every service, department and the total (or ``services``), every year."""
    keys = list(services) if services is not None else charts.services_of(ds)
    years = [str(y) for y in ds["financial_year"].values]
    return [headline(ds, key, year) for year in years for key in keys]


def year_heading(year: str) -> str:
    """The heading of a year's section, which holds its summary table and charts."""
    return f"{year}: the risk by service"


def drivers_sentence(d: charts.Drivers, top: int = 3) -> str:
    """Which lines carry most of the total's uncertainty, e.g. "Most of the uncertainty ..."."""
    shares = list(zip(d.labels, d.variance_share, strict=True))[:top]
    named = [f"{label} ({share * 100:.0f}%)" for label, share in shares if share > 0]
    if not named:
        return f"No budget line stands out as a driver of the uncertainty in {d.financial_year}."
    listed = named[0] if len(named) == 1 else f"{', '.join(named[:-1])} and {named[-1]}"
    year = d.financial_year
    chart = f"\u201c{charts.drivers_title(year)}\u201d under {year_heading(year)}"
    return (
        f"The largest shares of the uncertainty in the total's outturn for {year} "
        f"come from {listed} (shares of its variance; see the chart {chart})."
    )


# ------------------------------------------------------------------ blocks


@dataclass
class Heading:
    """A section heading (level 1 or 2) or a sub-heading (level 3)."""

    text: str
    level: int = 1


@dataclass
class Paragraph:
    """A paragraph of plain text; ``emphasis`` draws it as a highlighted key message."""

    text: str
    emphasis: bool = False


@dataclass
class Bullets:
    """A list of short items."""

    items: list[str]


@dataclass
class Table:
    """A table: ``align`` is "l" or "r" per column; ``strong`` marks subtotal rows."""

    columns: list[str]
    rows: list[list[str]]
    align: str
    strong: list[bool] = field(default_factory=list)
    widths: list[float] | None = None  # relative column widths for the PDF


@dataclass
class ChartBlock:
    """A chart, drawn as an image in HTML and as vectors in the PDF."""

    chart: Chart


@dataclass
class PageBreak:
    """Start a new page in the PDF (ignored in HTML)."""


Block = Heading | Paragraph | Bullets | Table | ChartBlock | PageBreak

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


def _se_text(se: float) -> str:
    """A standard error in £m to two decimals, never a misleading £0.00m."""
    if not np.isfinite(se):
        return "n/a"
    return "<£0.01m" if se < 5e3 else money_text(se, 2)


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
                f"{100 * r.p_overspend_se:.1f}%",
                money_text(r.p10_overspend_gbp),
                money_text(r.p50_overspend_gbp),
                money_text(r.p90_overspend_gbp),
                _se_text(getattr(r, "p90_overspend_se_gbp", float("nan"))),
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


# ------------------------------------------------------------------ assumptions


def _param(p, fmt: Callable[[float], str], unit: str = "") -> str:
    """A config value in words: "6.0% a year (80% between 2.2% and 9.8%)" or "6.0% a year"."""
    if not p.is_uncertain:
        return f"{fmt(p.median())}{unit}"
    lo, hi = p.ppf(np.array([0.1, 0.9]))
    return f"{fmt(p.median())}{unit} (80% between {fmt(lo)} and {fmt(hi)})"


def _factor_name(name: str) -> str:
    """An inflation factor's name as a heading: short names are acronyms (NLW, CPI)."""
    return name.upper() if len(name) <= 4 else name.replace("_", " ").capitalize()


def _pct1(x: float) -> str:
    return f"{x * 100:.1f}%".replace("-", "\u2212")


def _gbp(x: float) -> str:
    return money_text(x) if abs(x) >= 1e6 else f"£{x:,.0f}"


def _count(x: float) -> str:
    return f"{x:,.0f}" if abs(x) >= 10 else f"{x:.2g}"


def _by_year(money, years: list[str]) -> str:
    if money.every_year is not None:
        return f"{_gbp(money.every_year)} a year"
    return ", ".join(f"{_gbp(money.table[y])} in {y}" for y in years if y in money.table)


def _service_assumptions(svc, years: list[str]) -> list[str]:
    items = []
    if svc.kind == "placements":
        n = 0 if svc.caseload is None else svc.caseload.count
        items.append(f"Placements open at the start: {n:,}")
        arr = svc.arrivals
        items.append(
            f"New placements: {_param(arr.per_year, _count, ' a year')}, growing "
            f"{_param(arr.growth, _pct1, ' a year')}"
            + (", with month-to-month surges" if arr.dispersion > 0 else "")
        )
        length = svc.length
        scale, value = (
            ("median", length.median_weeks)
            if length.median_weeks is not None
            else ("mean", length.mean_weeks)
        )
        items.append(f"Placement length: {scale} {_param(value, _count, ' weeks')} ({length.dist})")
        cost = svc.unit_cost
        text = (
            f"Weekly cost: {_param(cost.mean_gbp_per_week, _gbp, ' on average')} "
            f"(spread between clients: coefficient of variation {cost.cv:g})"
        )
        if cost.high_cost_mean_gbp_per_week is not None:
            text += (
                f"; {_param(cost.high_cost_share, _pct1)} of placements high-cost at "
                f"{_param(cost.high_cost_mean_gbp_per_week, _gbp, ' a week')}"
            )
        items.append(text)
    else:
        items.append(
            f"Annual cost: {_param(svc.cost.annual_gbp, _gbp)}, growing "
            f"{_param(svc.cost.growth, _pct1, ' a year')}"
        )
    factors = ", ".join(f"{k.replace('_', ' ')} ×{w:g}" for k, w in svc.inflation.factors.items())
    if factors:
        items.append(f"Price rises each April: {factors}")
    if svc.inflation.extra.is_uncertain or svc.inflation.extra.median() != 0:
        items.append(f"Extra price rise: {_param(svc.inflation.extra, _pct1, ' a year')}")
    share = svc.income.share
    if share.is_uncertain or share.median() > 0:
        items.append(f"Income recovered: {_param(share, _pct1)} of gross cost")
    for sid, saving in svc.savings.items():
        items.append(
            f"Saving \u2018{saving.label or sid.replace('_', ' ')}\u2019: target "
            f"{_by_year(saving.target_gbp, years)}; delivery {_param(saving.delivery, _pct1)} "
            "of target"
        )
    items.append(f"Budget: {_by_year(svc.budget_gbp, years)}")
    return items


def key_assumptions(ds: xr.Dataset) -> list[Block]:
    """The "Key assumptions" section, generated from the run's resolved config.

    Uncertain values give the median and the 10th to 90th percentile range.
    """
    from simulator.config.schema import loads_config

    run = RunInfo.from_dataset(ds)
    try:
        config = loads_config(ds.attrs["config"], "the run's config")
    except (KeyError, UserError) as exc:
        return [Paragraph(f"The run's configuration could not be read ({exc}).")]
    years = config.fy_labels
    blocks: list[Block] = [
        Paragraph(
            f"{run.draws:,} simulated outcomes, seed {run.seed}; financial years {years[0]} to "
            f"{years[-1]}; unit costs at {config.price_base} prices. Uncertain values show the "
            "median and, in brackets, the range holding the central 80% of draws."
        )
    ]
    if config.inflation.factors:
        items = []
        for name, factor in config.inflation.factors.items():
            text = f"{_factor_name(name)}: {_param(factor.uplift, _pct1, ' a year')}"
            for year, uplift in factor.by_year.items():
                text += f"; {year}: {_param(uplift, _pct1)}"
            if factor.description:
                text += f" \u2013 {factor.description}"
            items.append(text)
        blocks += [Heading("Price rises (shared by the services that use them)", 2), Bullets(items)]
    departments = list(dict.fromkeys(s.department for s in config.services.values()))
    for dept in departments:
        blocks.append(Heading(dept or "Other services", 2))
        for key, svc in config.services.items():
            if svc.department == dept:
                blocks += [
                    Heading(config.service_label(key), 3),
                    Bullets(_service_assumptions(svc, years)),
                ]
    return blocks


# ------------------------------------------------------------------ HTML

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


def _png_base64(chart: Chart) -> tuple[str, int, int]:
    """The chart as a base64 PNG, with its width and height in pixels.

    Reduced to a 256-colour palette: the charts use a few flat colours, so this
    is invisible and makes the self-contained HTML file about three times smaller.
    """
    with chart_style():
        fig = chart.figure()
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=charts.DPI)
    image = Image.open(buf).convert("RGB").quantize(256, method=Image.Quantize.MEDIANCUT)
    out = io.BytesIO()
    image.save(out, format="png", optimize=True)
    return base64.b64encode(out.getvalue()).decode("ascii"), image.width, image.height


def _html_block(block: Block, first_h2: list[bool]) -> str:
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
    if isinstance(block, ChartBlock):
        data, width, height = _png_base64(block.chart)
        return (
            f'<figure id="{esc(block.chart.name)}"><img src="data:image/png;base64,{data}" '
            f'width="{width}" height="{height}" alt="{esc(block.chart.title)}"></figure>'
        )
    return ""


def render_html(blocks: Sequence[Block], run: RunInfo) -> str:
    """The report as one self-contained HTML document (no scripts, no network access)."""
    first_h2 = [True]
    body = "\n".join(_html_block(b, first_h2) for b in blocks)
    title = html.escape(f"{run.council}: social care budget risk")
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="en-GB"><head><meta charset="utf-8"><title>{title}</title>'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta name="generator" content="overspend {html.escape(run.version)}">'
        f"<style>{CSS}</style></head>\n<body>\n{body}\n"
        f"<footer>{html.escape(run.caption())}</footer>\n</body></html>\n"
    )


# ------------------------------------------------------------------ PDF

A4 = (8.27, 11.69)  # inches
MARGIN_X, MARGIN_TOP, MARGIN_BOTTOM = 0.8, 0.75, 0.75
TEXT_WIDTH = A4[0] - 2 * MARGIN_X
BODY_HEIGHT = A4[1] - MARGIN_TOP - MARGIN_BOTTOM
FONT = FontProperties(family="DejaVu Sans")
# (font size in points, bold, space above in inches) for each heading level
HEADINGS = {0: (17, True, 0.0), 1: (13, True, 0.12), 2: (10.5, True, 0.08), 3: (9.5, True, 0.04)}
BODY_PT, LIST_PT, TABLE_PT, LEADING = 9.5, 9, 7.5, 1.35


class _Measure:
    """Text widths in inches, measured with the same font metrics the PDF uses."""

    def __init__(self) -> None:
        self._renderer = RendererAgg(10, 10, 72)
        self._cache: dict[tuple[str, float, bool], float] = {}

    def width(self, text: str, size: float, bold: bool = False) -> float:
        key = (text, size, bold)
        if key not in self._cache:
            prop = FONT.copy()
            prop.set_size(size)
            prop.set_weight("bold" if bold else "normal")
            w, _, _ = self._renderer.get_text_width_height_descent(text, prop, ismath=False)
            self._cache[key] = w / 72
        return self._cache[key]

    def wrap(self, text: str, size: float, width: float, bold: bool = False) -> list[str]:
        """Greedy word wrap of ``text`` into lines no wider than ``width`` inches.

        Words are measured one at a time (cached) and summed with the width of
        a space; the 3% allowance covers kerning between words.
        """
        space = self.width("a b", size, bold) - self.width("ab", size, bold)
        limit = width * 0.97
        lines: list[str] = []
        line, used = "", 0.0
        for word in text.split():
            w = self.width(word, size, bold)
            if line and used + space + w > limit:
                lines.append(line)
                line, used = word, w
            else:
                line, used = (f"{line} {word}", used + space + w) if line else (word, w)
        return [*lines, line] if line else lines


@dataclass
class _Placed:
    """A block laid out for the PDF: its height (inches) and how to draw it."""

    height: float
    draw: Callable[[SubFigure], None]
    keep_with_next: bool = False
    header: _Placed | None = None  # a table row's header, repeated on a new page
    group: float = 0.0  # on a table's header: the whole table's height


def _line_h(size: float) -> float:
    return size * LEADING / 72


def _text_lines(
    fig: SubFigure, lines: list[str], size: float, x: float, top: float = 0.0, bold=False, **kw
) -> None:
    """Draw lines downwards from ``top`` inches below the top of ``fig``, ``x`` inches from the left."""
    height = fig.bbox.height / fig.figure.dpi
    for i, line in enumerate(lines):
        y = 1 - (top + (i + 0.8) * _line_h(size)) / height
        fig.text(x / A4[0], y, line, fontsize=size, fontweight="bold" if bold else "normal",
                 va="baseline", ha="left", **kw)  # fmt: skip


def _place(block: Block, m: _Measure) -> list[_Placed]:
    """Lay out one block; long lists and tables become several pieces that may split."""
    if isinstance(block, Heading):
        size, bold, above = HEADINGS[block.level]
        lines = m.wrap(block.text, size, TEXT_WIDTH, bold)
        colour = "#08519c" if block.level <= 1 else "black"

        def draw(f, lines=lines, size=size, above=above):
            _text_lines(f, lines, size, MARGIN_X, above, bold, color=colour)

        return [_Placed(above + len(lines) * _line_h(size) + 0.06, draw, keep_with_next=True)]
    if isinstance(block, Paragraph):
        indent = 0.12 if block.emphasis else 0
        lines = m.wrap(block.text, BODY_PT, TEXT_WIDTH - 2 * indent, block.emphasis)

        pad = 0.07 if block.emphasis else 0.0  # inside the tinted box, above and below
        gap = 0.08  # after the paragraph
        height = len(lines) * _line_h(BODY_PT) + 2 * pad + gap

        def draw(f, lines=lines, indent=indent, emphasis=block.emphasis):
            if emphasis:
                f.add_artist(_tint(f, MARGIN_X, gap, TEXT_WIDTH, height - gap))
            _text_lines(f, lines, BODY_PT, MARGIN_X + indent, pad, emphasis)

        return [_Placed(height, draw)]
    if isinstance(block, Bullets):
        out = []
        for item in block.items:
            lines = m.wrap(item, LIST_PT, TEXT_WIDTH - 0.2)

            def draw(f, lines=lines):
                _text_lines(f, ["\u2022"], LIST_PT, MARGIN_X + 0.03)
                _text_lines(f, lines, LIST_PT, MARGIN_X + 0.2)

            out.append(_Placed(len(lines) * _line_h(LIST_PT) + 0.04, draw))
        return out
    if isinstance(block, Table):
        return _place_table(block, m)
    if isinstance(block, ChartBlock):
        chart = block.chart
        # A chart taller than the page is drawn shorter (its panels shrink) rather than cut.
        height = min(chart.size[1], BODY_HEIGHT - 0.2)
        return [_Placed(height + 0.08, lambda f, c=chart: _draw_chart(f, c))]
    return []


def _tint(fig: SubFigure, x: float, y: float, w: float, h: float):
    """A tinted box behind a key message; position and size in inches within ``fig``."""
    from matplotlib.patches import Rectangle

    fh = fig.bbox.height / fig.figure.dpi
    return Rectangle(
        (x / A4[0], y / fh), w / A4[0], h / fh, transform=fig.transSubfigure,
        facecolor="#eef3fa", edgecolor="none", zorder=-1,
    )  # fmt: skip


def _draw_chart(fig: SubFigure, chart: Chart) -> None:
    """Draw a chart in the text column of its row, at its own size."""
    side = MARGIN_X - (chart.size[0] - TEXT_WIDTH) / 2
    _, mid, _ = fig.subfigures(1, 3, width_ratios=[side, chart.size[0], side], wspace=0)
    chart.draw(mid)


def _place_table(table: Table, m: _Measure) -> list[_Placed]:
    """A table as one piece per row (the header is redrawn after a page break)."""
    weights = np.asarray(table.widths or [1.0] * len(table.columns), float)
    widths = TEXT_WIDTH * weights / weights.sum()
    pad = 0.04

    def cell_lines(row: Sequence[str], bold: bool) -> list[list[str]]:
        return [
            m.wrap(v, TABLE_PT, w - 2 * pad, bold) or [""] for v, w in zip(row, widths, strict=True)
        ]

    def piece(row: Sequence[str], bold: bool, header: bool) -> _Placed:
        cells = cell_lines(row, bold)
        n = max(len(c) for c in cells)
        height = n * _line_h(TABLE_PT) + 0.06

        def draw(f, cells=cells):
            x = MARGIN_X
            for lines, w, a in zip(cells, widths, table.align, strict=True):
                for i, line in enumerate(lines):
                    y = 1 - (i + 0.85) * _line_h(TABLE_PT) / height - 0.02 / height
                    left = a == "l"
                    xx = x + pad if left else x + w - pad
                    f.text(xx / A4[0], y, line, fontsize=TABLE_PT, va="baseline",
                           ha="left" if left else "right",
                           fontweight="bold" if bold else "normal")  # fmt: skip
                x += w
            f.add_artist(_rule(f, height, header))

        return _Placed(height, draw, keep_with_next=header)

    header = piece(table.columns, True, True)
    strong = table.strong or [False] * len(table.rows)
    rows = [piece(r, s, False) for r, s in zip(table.rows, strong, strict=True)]
    for r in rows:
        r.header = header
    header.group = header.height + sum(r.height for r in rows)
    return [header, *rows]


def _rule(fig: SubFigure, height: float, heavy: bool):
    from matplotlib.lines import Line2D

    return Line2D(
        [MARGIN_X / A4[0], (MARGIN_X + TEXT_WIDTH) / A4[0]], [0, 0],
        transform=fig.transSubfigure, color="#555555" if heavy else "#cccccc",
        lw=0.9 if heavy else 0.5,
    )  # fmt: skip


def _need(piece: _Placed) -> float:
    """Room a piece needs on the page: a whole table's, if the table fits on one page."""
    return piece.group if 0 < piece.group <= BODY_HEIGHT * 0.9 else piece.height


def paginate(blocks: Sequence[Block], m: _Measure | None = None) -> list[list[_Placed]]:
    """Split the blocks into A4 pages: headings stay with what follows, tables repeat headers."""
    m = m or _Measure()
    pages: list[list[_Placed]] = [[]]
    used = 0.0
    pieces: list[_Placed | None] = []
    for block in blocks:
        pieces += [None] if isinstance(block, PageBreak) else _place(block, m)
    i = 0
    while i < len(pieces):
        piece = pieces[i]
        if piece is None:
            if pages[-1]:
                pages.append([])
                used = 0.0
            i += 1
            continue
        # A heading must fit with what follows it, and a table that fits on a page stays whole.
        need = _need(piece)
        if piece.keep_with_next and i + 1 < len(pieces) and pieces[i + 1] is not None:
            need += _need(pieces[i + 1])
        if used + need > BODY_HEIGHT and pages[-1]:
            pages.append([])
            used = 0.0
            if piece.header is not None:
                pages[-1].append(piece.header)
                used += piece.header.height
        pages[-1].append(piece)
        used += piece.height
        i += 1
    return [p for p in pages if p]


def _draw_page(pdf: PdfPages, page: list[_Placed], number: int, count: int, run: RunInfo) -> None:
    fig = Figure(figsize=A4, layout="constrained")
    fig.get_layout_engine().set(w_pad=0.06, h_pad=0.06, hspace=0, wspace=0)
    filler = BODY_HEIGHT - sum(p.height for p in page)
    heights = [MARGIN_TOP, *(p.height for p in page), max(filler, 0.01), MARGIN_BOTTOM]
    rows = fig.subfigures(len(heights), 1, height_ratios=heights, hspace=0)
    for row, piece in zip(rows[1:-2], page, strict=True):
        piece.draw(row)
    header = f"Appendix: social care budget risk \u2013 {run.council}"
    rows[0].text((A4[0] - MARGIN_X) / A4[0], 0.45, header, ha="right", va="center",
                 fontsize=7.5, color="#555555")  # fmt: skip
    footer = f"{run.caption()}  Page {number} of {count}"
    rows[-1].text(0.5, 0.55, footer, ha="center", va="center", fontsize=7, color="#555555")
    FigureCanvasAgg(fig)
    charts.freeze_layout(fig)
    pdf.savefig(fig)


def render_pdf(blocks: Sequence[Block], run: RunInfo, path: Path) -> int:
    """Write the report as an A4 PDF; returns the number of pages."""
    with chart_style():
        pages = paginate(blocks)
        with PdfPages(
            path,
            metadata={
                "Title": f"{run.council}: social care budget risk",
                "Creator": f"overspend {run.version}",
                "Subject": "Monte Carlo forecast of social care overspend",
            },
        ) as pdf:
            for n, page in enumerate(pages, start=1):
                _draw_page(pdf, page, n, len(pages), run)
    return len(pages)


# ------------------------------------------------------------------ Excel

PERCENTILES = (0.1, 0.25, 0.5, 0.75, 0.9)


def monthly_percentiles(ds: xr.Dataset) -> pd.DataFrame:
    """Monthly and cumulative (within the year) net spend percentiles by service, GBP.

    One row per service and month, with the month's budget (the year's budget
    spread by days) and the cumulative budget profile.
    """
    months = pd.DatetimeIndex(ds["month"].values)
    fy = ds["month_financial_year"].values.astype(str)
    days = ds["days_in_month"].values.astype(float)
    actual = (
        ds["month_is_actual"].values.astype(bool)
        if "month_is_actual" in ds.coords
        else np.zeros(len(months), bool)
    )
    frames = []
    for g, key in enumerate(ds["service"].values.astype(str)):
        # One service at a time, so a lazily opened (streamed) run is read in slices.
        spend = ds["spend"].isel(service=g).transpose("draw", "month").values
        cum = np.empty_like(spend)
        budget = np.empty(len(months))
        cum_budget = np.empty(len(months))
        for year in dict.fromkeys(fy):
            sel = fy == year
            cum[:, sel] = np.cumsum(spend[:, sel], axis=1)
            budget[sel] = float(ds["budget"].isel(service=g).sel(financial_year=year))
            budget[sel] *= days[sel] / days[sel].sum()
            cum_budget[sel] = np.cumsum(budget[sel])
        q_month = np.quantile(spend, PERCENTILES, axis=0)
        q_cum = np.quantile(cum, PERCENTILES, axis=0)
        data = {
            "service": key,
            "service_label": charts.service_label(ds, key),
            "financial_year": fy,
            "month": months.date,
            "actual": actual,
            "budget_gbp": budget,
            "spend_mean_gbp": spend.mean(axis=0),
        }
        data |= {f"spend_p{round(q * 100)}_gbp": q_month[i] for i, q in enumerate(PERCENTILES)}
        data["cumulative_budget_gbp"] = cum_budget
        data |= {f"cumulative_p{round(q * 100)}_gbp": q_cum[i] for i, q in enumerate(PERCENTILES)}
        frames.append(pd.DataFrame(data))
    return pd.concat(frames, ignore_index=True)


def write_xlsx(ds: xr.Dataset, path: Path) -> None:
    """Write ``summary.xlsx``: summary table, monthly percentiles, headlines and run details."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    run = RunInfo.from_dataset(ds)
    wb = Workbook()
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="DCE6F1")

    def sheet(ws, frame: pd.DataFrame, formats: dict[str, str]) -> None:
        ws.append(list(frame.columns))
        for cell in ws[1]:
            cell.font, cell.fill = bold, fill
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        for row in frame.itertuples(index=False):
            ws.append([v.item() if isinstance(v, np.generic) else v for v in row])
        for j, col in enumerate(frame.columns, start=1):
            letter = get_column_letter(j)
            ws.column_dimensions[letter].width = max(12, min(40, len(col) + 2))
            fmt = next((f for suffix, f in formats.items() if col.endswith(suffix)), None)
            if fmt:
                for (cell,) in ws.iter_rows(min_row=2, min_col=j, max_col=j):
                    cell.number_format = fmt
        ws.freeze_panes = "B2"
        ws.auto_filter.ref = ws.dimensions

    money = "#,##0;[Red]-#,##0"
    ws = wb.active
    ws.title = "Summary"
    sheet(ws, summary_table(ds), {"_gbp": money, "p_overspend": "0.0%", "p_overspend_se": "0.0%"})
    sheet(
        wb.create_sheet("Monthly percentiles"),
        monthly_percentiles(ds),
        {"_gbp": money, "month": "mmm yyyy"},
    )
    sheet(
        wb.create_sheet("Headlines"),
        pd.DataFrame(
            [
                {"financial_year": h.financial_year, "service": h.label, "headline": h.text}
                for h in headlines(ds)
            ]
        ),
        {},
    )
    wb["Headlines"].column_dimensions["C"].width = 120
    about = wb.create_sheet("About")
    for row in [
        ("Council", run.council),
        ("Simulated outcomes (draws)", run.draws),
        ("Seed", run.seed),
        ("Run", run.created),
        ("overspend version", run.version),
        ("Money", "GBP, cash terms; overspend = net outturn minus budget (negative: underspend)"),
        ("Probabilities", "fractions; *_se columns are Monte Carlo standard errors"),
        ("Percentiles", "p10 ... p90: 10th to 90th percentiles across the simulated outcomes"),
        (
            "Monthly percentiles",
            "budget_gbp is the year's budget spread over months by days; "
            "actual = TRUE for months fixed at actual spend",
        ),
    ]:
        about.append(list(row))
    about.column_dimensions["A"].width = 28
    about.column_dimensions["B"].width = 90
    wb.save(path)


# ------------------------------------------------------------------ writing


#: Results files up to this size are read into memory; larger ones (and zarr stores) are
#: opened lazily and read a slice at a time.
LOAD_BYTES = 1024**3


#: What the charts and the report read from a results Dataset, with each one's dimensions.
REQUIRED = {
    "service": ("service",),
    "service_label": ("service",),
    "service_type": ("service",),
    "department": ("service",),
    "financial_year": ("financial_year",),
    "month": ("month",),
    "month_financial_year": ("month",),
    "days_in_month": ("month",),
    "spend": ("draw", "service", "month"),
    "overspend": ("draw", "service", "financial_year"),
    "outturn": ("draw", "service", "financial_year"),
    "budget": ("service", "financial_year"),
}


def _first_line(exc: BaseException) -> str:
    """An exception's message cut to its first line (xarray's run on with links and advice)."""
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def check_results(ds: xr.Dataset, found: Path) -> None:
    """Refuse a Dataset that lacks what the charts and report read, in one line.

    Raises
    ------
    UserError
        Naming the missing variables, or the first variable of the wrong shape.
    """
    missing = [name for name in REQUIRED if name not in ds.variables]
    if missing:
        raise UserError(
            f"{found} lacks {', '.join(missing)}: not a results file of `overspend run` "
            "(run it again to rewrite the folder)"
        )
    for name, dims in REQUIRED.items():
        if ds[name].dims != dims:
            raise UserError(
                f"{found}: {name} has dimensions ({', '.join(map(str, ds[name].dims))}), "
                f"not ({', '.join(dims)}): not a results file of `overspend run`"
            )
    if "total" not in set(ds["service"].values.astype(str)):
        raise UserError(
            f"{found} has no 'total' service row: not a results file of `overspend run`"
        )


#: Sections of a config that leave what sensitivity and scenario results measure unchanged:
#: [run] holds only defaults, and both commands run the plan without actuals.
IGNORED_SECTIONS = ("run", "actuals")


def _model_of(config_text: str) -> dict:
    """A config's sections that define the model (text that is not TOML is kept whole)."""
    try:
        data = tomllib.loads(config_text)
    except tomllib.TOMLDecodeError:
        return {"text": config_text}
    return {k: v for k, v in data.items() if k not in IGNORED_SECTIONS}


def mismatch(ds: xr.Dataset, extra: xr.Dataset) -> str | None:
    """Why ``extra`` (sensitivity or scenario results) is not of the run ``ds``; ``None`` if it is.

    Compares the configs the two were made from when both record theirs, else
    the council and the result rows.
    """
    ours, theirs = ds.attrs.get("config"), extra.attrs.get("config")
    if isinstance(ours, str) and isinstance(theirs, str):
        if _model_of(ours) != _model_of(theirs):
            return "it was made from a different config than simulation.nc"
        return None
    council = str(extra.attrs.get("council", ds.attrs.get("council")))
    if council != str(ds.attrs.get("council")):
        return f"it is for {council}, not {ds.attrs.get('council')}"
    if "service" in extra.coords and list(extra["service"].values.astype(str)) != list(
        ds["service"].values.astype(str)
    ):
        return "its services differ from those of simulation.nc"
    return None


def _open_extra(path: Path, ds: xr.Dataset, notes: list[str] | None) -> xr.Dataset | None:
    """``sensitivity.nc`` or ``scenarios.nc`` when present and of this run (they are small).

    One from another config is left out, with a note saying why.
    """
    if not path.exists():
        return None
    try:
        extra = xr.load_dataset(path)
    except (OSError, ValueError) as exc:
        raise UserError(
            f"{path} cannot be read as a netCDF results file: {_first_line(exc)}"
        ) from None
    why = mismatch(ds, extra)
    if why is None:
        return extra
    if notes is not None:
        notes.append(f"{path.name} left out: {why} (run it again for this config)")
    return None


def load_results(
    results_dir: str | Path, notes: list[str] | None = None
) -> tuple[xr.Dataset, xr.Dataset | None, xr.Dataset | None]:
    """Open a run folder's results and, when present, ``sensitivity.nc`` and ``scenarios.nc``.

    ``simulation.nc`` is read into memory when it is under :data:`LOAD_BYTES`;
    a larger file or a streamed run's ``simulation.zarr`` is opened lazily.

    Parameters
    ----------
    results_dir : str or pathlib.Path
        A folder written by ``overspend run``.
    notes : list of str, optional
        Receives a one-line note for each of ``sensitivity.nc`` and
        ``scenarios.nc`` left out because it comes from another config (it is
        then returned as ``None``).

    Raises
    ------
    UserError
        When the folder or its results are missing, unreadable or incomplete.
    """
    folder = Path(results_dir)
    if not folder.is_dir():
        raise UserError(f"{folder}: no such results folder (make one with `overspend run`)")
    try:
        found = results_path(folder)
    except UserError:
        raise UserError(
            f"{folder} has no simulation.nc (or simulation.zarr): is it a results folder of "
            "`overspend run`?"
        ) from None
    try:
        small = found.suffix == ".nc" and found.stat().st_size < LOAD_BYTES
        ds = xr.load_dataset(found) if small else open_results(found)
    except (OSError, ValueError, KeyError) as exc:
        raise UserError(f"{found} cannot be read as a results file: {_first_line(exc)}") from None
    try:
        check_results(ds, found)
    except UserError:
        ds.close()
        raise
    sens = _open_extra(folder / "sensitivity.nc", ds, notes)
    return ds, sens, _open_extra(folder / "scenarios.nc", ds, notes)


def _check_out(out: Path, force: bool) -> None:
    """Refuse, before any work, a folder that is a file, or report files the tool may not replace."""
    for path in (out, *out.parents):
        if path.exists() and not path.is_dir():
            raise UserError(
                f"--out {out}: {path} is a file, not a folder (the report writes "
                f"{', '.join(REPORT_FILES)} into a folder)"
            )
    for name in REPORT_FILES:
        check_file(out / name, force)


def write_report(
    results_dir: str | Path,
    out_dir: str | Path | None = None,
    every: bool = False,
    notes: list[str] | None = None,
    force: bool = False,
) -> list[Path]:
    """Write ``report.html``, ``report.pdf`` and ``summary.xlsx`` for a results folder.

    Parameters
    ----------
    results_dir : str or pathlib.Path
        A folder written by ``overspend run`` (holding ``simulation.nc``, and
        perhaps ``sensitivity.nc`` and ``scenarios.nc``).
    out_dir : str or pathlib.Path, optional
        Where to write (default: ``results_dir``).
    every : bool
        Include the charts of every service and year.
    notes : list of str, optional
        Receives a note for each sensitivity or scenario file left out (see
        :func:`load_results`).
    force : bool
        Replace a report the tool wrote there before (files it did not write
        are never replaced).

    Returns
    -------
    list of pathlib.Path
        The three files written.

    Raises
    ------
    UserError
        When the results cannot be read, ``out_dir`` is a file, or a report
        file there is not the tool's, or is and ``force`` is false.
    """
    out = Path(out_dir) if out_dir is not None else Path(results_dir)
    _check_out(out, force)
    ds, sens, scen = load_results(results_dir, notes)
    with ds:  # a lazily opened run keeps its file open until here
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UserError(f"--out {out}: cannot make the folder ({_first_line(exc)})") from None
        run = RunInfo.from_dataset(ds)
        blocks = build_report(ds, sens, scen, every)
        text = render_html(blocks, run)
        html_name, pdf_name, xlsx_name = REPORT_FILES
        return [
            write_file(
                out / html_name, lambda p: p.write_text(text, encoding="utf-8"), force=force
            ),
            write_file(out / pdf_name, lambda p: render_pdf(blocks, run, p), force=force),
            write_file(out / xlsx_name, lambda p: write_xlsx(ds, p), force=force),
        ]
