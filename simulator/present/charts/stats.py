"""Risk charts: fan charts, overspend distributions, risk drivers, sensitivity.

Every chart is drawn by a function that takes a matplotlib ``Figure`` (or a
``SubFigure`` of a report page) and the data it shows, so the same drawing
serves the PNG and SVG files of ``overspend chart`` and the vector pages of the
PDF report. Nothing here uses ``pyplot``: figures are plain ``Figure`` objects,
so drawing is free of global state and works without a display.

Conventions that hold for every chart (the cabinet-paper rules of the issue):

- money on axes is in £m, drawn from GBP values (the plotted data are the
  Dataset's numbers, unscaled, so tests can compare them exactly);
- probability bands are one blue hue whose lightness steps with the band,
  darkest in the middle (Bank of England style): readable in black-and-white
  print and for every kind of colour blindness;
- the budget is a dashed vermilion line (Okabe-Ito palette) and the median a
  black line with a white halo, so they differ by dash pattern as well as colour;
- cumulative and annual spend start their axis at zero and always show the
  budget; "gap to budget" panels always show the zero (on-budget) line;
- the council, financial year, number of draws, seed and run date are in the
  title or caption.

The data functions (:func:`fan`, :func:`inyear_data`, :func:`drivers_data`, ...)
are separate from the drawing ones so that tests can check the plotted numbers
against quantiles computed directly from the Dataset.
"""

from __future__ import annotations

import datetime as dt
import textwrap
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib
import numpy as np
import xarray as xr
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure, SubFigure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.patheffects import withStroke
from matplotlib.ticker import Formatter, MaxNLocator, PercentFormatter

from simulator._version import __version__

# ------------------------------------------------------------------ style

#: Probability covered by each fan band, outermost (lightest) first.
FAN_COVERAGES: tuple[float, ...] = (0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1)
#: One hue, lightness stepping with the band: monotonic in grey when printed.
BAND_COLOURS = tuple(
    matplotlib.colors.to_hex(c)
    for c in matplotlib.colormaps["Blues"](np.linspace(0.14, 0.78, len(FAN_COVERAGES)))
)
BUDGET_COLOUR = "#D55E00"  # Okabe-Ito vermilion: distinct from blue for all colour vision
BUDGET_DASH = (0, (6, 3))
MEDIAN_HALO = [withStroke(linewidth=3.2, foreground="white")]
#: Okabe-Ito colours and hatches for departments: colour and pattern both differ.
DEPT_COLOURS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#F0E442")
DEPT_HATCHES = ("", "///", "...", "xxx", "\\\\\\", "---")
SCENARIO_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
SCENARIO_LINES = ("-", "--", "-.", ":", (0, (5, 1, 1, 1)), (0, (1, 1)), (0, (8, 2)), (0, (3, 3)))

#: Width of a chart in inches: the text width of an A4 page with 2 cm margins.
CHART_WIDTH = 6.7
#: Height of a full-size fan chart: two fit on an A4 page of the report.
FAN_HEIGHT = 5.0
DPI = 150
FORMATS: tuple[str, ...] = ("png", "svg")

STYLE = {
    "font.family": "DejaVu Sans",
    "font.size": 9,
    "axes.titlesize": 9.5,
    "axes.titleweight": "bold",
    "axes.labelsize": 9,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "legend.fontsize": 8,
    "legend.frameon": True,
    "legend.framealpha": 0.95,
    "legend.edgecolor": "#bbbbbb",
    "figure.titlesize": 11,
    "figure.titleweight": "bold",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#dddddd",
    "grid.linewidth": 0.6,
    "axes.axisbelow": True,
    "axes.unicode_minus": True,
    "hatch.linewidth": 0.6,
    # Text stays text: searchable and editable in SVG, extractable in PDF.
    "svg.fonttype": "none",
    # A fixed salt for the ids of SVG paths and clips: with none, matplotlib
    # draws random ones, so the same run gave different files each time.
    "svg.hashsalt": "overspend",
    "pdf.fonttype": 42,
    "savefig.dpi": DPI,
    "figure.autolayout": False,
    "figure.constrained_layout.use": False,
}


@contextmanager
def chart_style() -> Iterator[None]:
    """Apply the house chart style for drawing and saving."""
    with matplotlib.rc_context(STYLE):
        yield


# ------------------------------------------------------------------ formatting


def money_text(x: float, decimals: int = 1) -> str:
    """GBP as £m with ``decimals`` places and a true minus sign, e.g. ``−£1.5m``."""
    text = f"£{abs(x) / 1e6:,.{decimals}f}m"
    return ("\u2212" + text) if round(x / 1e6, decimals) < 0 else text


def signed_money(x: float) -> str:
    """GBP as £m with an explicit sign: ``+£9.6m`` over, ``−£1.2m`` under budget."""
    text = money_text(x)
    return text if text.startswith("\u2212") or round(x / 1e6, 1) == 0 else "+" + text


def pct_text(p: float) -> str:
    """A probability as a whole percentage, never rounding to a false 0% or 100%."""
    if 0 < p < 0.005:
        return "<1%"
    if 0.995 < p < 1:
        return ">99%"
    return f"{p * 100:.0f}%"


class MoneyFormatter(Formatter):
    """Axis ticks in £m with the fewest decimals that show every tick exactly."""

    def __init__(self) -> None:
        self._decimals: int | None = None

    def set_locs(self, locs) -> None:
        """Choose the decimals once for all the ticks (they depend on every tick value)."""
        self._decimals = self._fewest_decimals(np.asarray(locs, dtype=float))
        super().set_locs(locs)

    @staticmethod
    def _fewest_decimals(values: np.ndarray) -> int:
        millions = values / 1e6
        for decimals in range(3):
            if np.all(np.abs(np.round(millions, decimals) - millions) < 1e-9):
                return decimals
        return 3

    def __call__(self, x: float, pos: int | None = None) -> str:
        decimals = self._decimals
        if decimals is None:
            decimals = self._fewest_decimals(np.array([x], dtype=float))
        return money_text(x, decimals)


def _money_axis(axis, nbins: int = 7) -> None:
    axis.set_major_locator(MaxNLocator(nbins=nbins, steps=[1, 2, 5, 10]))
    axis.set_major_formatter(MoneyFormatter())


def chart_decimals(scale: float) -> int:
    """Decimals for £m labels on a chart whose amounts are of size ``scale`` (GBP).

    One decimal (£0.1m) from £2m up; two below, where £0.1m steps would hide the answer.
    """
    return 1 if abs(scale) >= 2e6 else 2


def p90_phrase(p90: float, decimals: int = 1) -> str:
    """The 1-in-10 worst outcome in words, for overspends and underspends alike.

    Parameters
    ----------
    p90 : float
        90th percentile of overspend (GBP; negative is an underspend).
    decimals : int
        Decimals of the £m amount.
    """
    if round(p90 / 1e6, decimals) > 0:
        return f"1 in 10 chance of more than {money_text(p90, decimals)} over budget"
    if round(p90 / 1e6, decimals) < 0:
        return f"1 in 10 chance of an underspend smaller than {money_text(-p90, decimals)}"
    # Not "a 1 in 10 chance of any overspend": the chance of that is the measured one.
    return f"90th percentile on budget (within £{0.5 * 10**-decimals:g}m)"


def _wrap(text: str, width: int) -> str:
    return "\n".join(textwrap.wrap(text, width)) if text else text


# ------------------------------------------------------------------ run details


@dataclass(frozen=True)
class RunInfo:
    """What a chart's caption says about the run it comes from."""

    council: str
    draws: int
    seed: int | None
    created: str
    version: str
    unit: str = "simulated outcomes"

    @classmethod
    def from_dataset(cls, ds: xr.Dataset) -> RunInfo:
        """Read the run details from a results Dataset's attributes."""
        return cls(
            council=str(ds.attrs.get("council", "")),
            draws=int(ds.attrs.get("draws") or ds.sizes.get("draw", 0)),
            seed=int(ds.attrs["seed"]) if "seed" in ds.attrs else None,
            created=date_text(ds.attrs.get("created")),
            version=str(ds.attrs.get("simulator_version", __version__)),
        )

    def caption(self) -> str:
        """One line naming the council, draws, seed, run date and version."""
        seed = f", seed {self.seed}" if self.seed is not None else ""
        return (
            f"{self.council}. {self.draws:,} {self.unit}{seed}; "
            f"run {self.created}; overspend {self.version}."
        )


def date_text(iso: str | None) -> str:
    """An ISO date or time as words, e.g. ``24 November 2026``."""
    try:
        when = dt.datetime.fromisoformat(str(iso))
    except ValueError:
        return "date unknown"
    return f"{when.day} {when:%B %Y}"


def _width_in(fig: Figure | SubFigure) -> float:
    return fig.bbox.width / fig.figure.dpi


def _frame(fig: Figure | SubFigure, title: str, run: RunInfo, note: str = "") -> SubFigure:
    """Split ``fig`` into a title, a body for the chart and a caption; return the body.

    The title and caption get rows of their own, sized to their wrapped text,
    because constrained layout gives a figure legend and a suptitle the same
    top margin (they overlap). The caption names the council, draws, seed, run
    date and version, after an optional note on reading the chart.
    """
    width = _width_in(fig) * 72  # points
    title = _wrap(title, int(width / (11 * 0.64)))
    caption = _wrap(f"{note} {run.caption()}".strip(), int(width / (7 * 0.6)))
    head_in = 0.1 + 0.2 * (title.count("\n") + 1)
    foot_in = 0.08 + 0.125 * (caption.count("\n") + 1)
    height = fig.bbox.height / fig.figure.dpi
    head, body, foot = fig.subfigures(
        3, 1, height_ratios=[head_in, height - head_in - foot_in, foot_in], hspace=0
    )
    head.text(0.5, 0.45, title, ha="center", va="center", fontsize=11, fontweight="bold")
    foot.text(0.5, 0.5, caption, ha="center", va="center", fontsize=7, color="#333333",
              linespacing=1.3)  # fmt: skip
    return body


# ------------------------------------------------------------------ fans


def band_levels(coverage: float) -> tuple[float, float]:
    """Lower and upper quantile levels of the central band covering ``coverage``."""
    return (0.5 - coverage / 2, 0.5 + coverage / 2)


@dataclass(frozen=True)
class Fan:
    """Quantiles of a simulated quantity at a series of points.

    Attributes
    ----------
    median : numpy.ndarray
        50th percentile at each point.
    bands : dict of float to (numpy.ndarray, numpy.ndarray)
        For each coverage in :data:`FAN_COVERAGES`, the lower and upper edges.
    """

    median: np.ndarray
    bands: dict[float, tuple[np.ndarray, np.ndarray]]

    def shifted(self, offset: np.ndarray) -> Fan:
        """The fan of the quantity minus ``offset`` (quantiles shift exactly)."""
        return Fan(
            self.median - offset,
            {c: (lo - offset, hi - offset) for c, (lo, hi) in self.bands.items()},
        )


def fan(values: np.ndarray) -> Fan:
    """Fan quantiles of ``values`` (draws along axis 0, points along axis 1).

    Parameters
    ----------
    values : numpy.ndarray
        Shape (draws, points), any units.

    Returns
    -------
    Fan
    """
    levels = sorted({q for c in FAN_COVERAGES for q in band_levels(c)} | {0.5})
    q = dict(zip(levels, np.quantile(values, levels, axis=0), strict=True))
    bands = {c: (q[band_levels(c)[0]], q[band_levels(c)[1]]) for c in FAN_COVERAGES}
    return Fan(q[0.5], bands)


def _draw_fan(ax, x: np.ndarray, f: Fan, gid: str) -> None:
    for coverage, colour in zip(FAN_COVERAGES, BAND_COLOURS, strict=True):
        lo, hi = f.bands[coverage]
        band = ax.fill_between(x, lo, hi, facecolor=colour, edgecolor="none", zorder=1)
        band.set_gid(f"{gid}-band-{round(coverage * 100)}")
    (line,) = ax.plot(x, f.median, color="black", lw=1.5, zorder=4, path_effects=MEDIAN_HALO)
    line.set_gid(f"{gid}-median")


def _fan_legend_handles(budget_label: str) -> list:
    middle = len(FAN_COVERAGES) // 2
    return [
        Line2D([], [], color="black", lw=1.5, label="Median (central estimate)"),
        Line2D([], [], color=BUDGET_COLOUR, lw=2, ls=BUDGET_DASH, label=budget_label),
        Patch(facecolor=BAND_COLOURS[-1], label="Central 10% of outcomes"),
        Patch(facecolor=BAND_COLOURS[middle], label="Central 50%"),
        Patch(facecolor=BAND_COLOURS[0], label="Central 90%"),
    ]


def _budget_line(ax, x, y, gid: str, **kw) -> None:
    (line,) = ax.plot(x, y, color=BUDGET_COLOUR, lw=2, ls=BUDGET_DASH, zorder=5, **kw)
    line.set_gid(gid)


# ------------------------------------------------------------------ data


def _index(ds: xr.Dataset, service: str) -> int:
    return int(np.flatnonzero(ds["service"].values == service)[0])


def service_label(ds: xr.Dataset, service: str) -> str:
    """The display name of ``service``; the total reads "All services"."""
    if service == "total":
        return "All services"
    return str(ds["service_label"].values[_index(ds, service)])


def services_of(ds: xr.Dataset, *kinds: str) -> list[str]:
    """Service keys whose ``service_type`` is one of ``kinds`` (all when none given)."""
    types = ds["service_type"].values
    return [
        str(s) for s, t in zip(ds["service"].values, types, strict=True) if not kinds or t in kinds
    ]


def line_services(ds: xr.Dataset) -> list[str]:
    """Budget lines: services that are neither department subtotals nor the total."""
    return services_of(ds, "placements", "cost")


@dataclass(frozen=True)
class InYear:
    """Cumulative spend through one financial year, and its budget profile.

    Attributes
    ----------
    days : numpy.ndarray
        Days since 1 April at the start of the year and at each month end, shape (13,).
    month_names : list of str
        Abbreviated month names, April to March.
    cum_spend : numpy.ndarray
        Cumulative net spend (GBP) by draw at each point of ``days``, shape (draws, 13).
    cum_budget : numpy.ndarray
        Budget spread over the year in proportion to days (GBP), shape (13,).
    p_overspend : float
        Probability that the year's outturn exceeds the budget.
    actual_months : int
        Months at the start of the year fixed at actual spend (0 for a plan).
    as_of : str
        Date of the actuals, e.g. "30 June 2024" ("" when there are none).
    forecast : float
        The officer's own point forecast of overspend for the year (GBP; NaN when not given).
    """

    service: str
    label: str
    financial_year: str
    days: np.ndarray
    month_names: list[str]
    cum_spend: np.ndarray
    cum_budget: np.ndarray
    p_overspend: float
    actual_months: int = 0
    as_of: str = ""
    forecast: float = float("nan")

    @property
    def budget(self) -> float:
        """The year's budget (GBP)."""
        return float(self.cum_budget[-1])


def inyear_data(ds: xr.Dataset, service: str, financial_year: str) -> InYear:
    """Cumulative spend and budget profile for one service and financial year.

    Parameters
    ----------
    ds : xarray.Dataset
        Results Dataset.
    service : str
        A key of the ``service`` dimension (a service, department or ``total``).
    financial_year : str
        A label of the ``financial_year`` dimension, e.g. ``"2024/25"``.

    Returns
    -------
    InYear
    """
    g = _index(ds, service)
    months = np.flatnonzero(ds["month_financial_year"].values == financial_year)
    # Select before reading: a lazily opened (streamed) run then reads only this slice.
    spend = ds["spend"].isel(service=g, month=months).transpose("draw", "month").values
    days = ds["days_in_month"].values[months].astype(float)
    cum_days = np.concatenate([[0.0], np.cumsum(days)])
    budget = float(ds["budget"].sel(service=service, financial_year=financial_year))
    over = ds["overspend"].sel(service=service, financial_year=financial_year).values
    names = [m.strftime("%b") for m in ds["month"].values[months].astype("datetime64[ms]").tolist()]
    # Actual months are the first of the horizon, so within a year they come first too.
    actual = ds["month_is_actual"].values[months] if "month_is_actual" in ds.coords else []
    return InYear(
        service=service,
        label=service_label(ds, service),
        financial_year=financial_year,
        days=cum_days,
        month_names=names,
        cum_spend=np.concatenate([np.zeros((spend.shape[0], 1)), np.cumsum(spend, axis=1)], axis=1),
        cum_budget=budget * cum_days / cum_days[-1],
        p_overspend=float(np.mean(over > 0)),
        actual_months=int(np.sum(actual)),
        as_of=date_text(ds.attrs.get("as_of")) if ds.attrs.get("as_of") else "",
        forecast=officer_forecast(ds, service, financial_year),
    )


def officer_forecast(ds: xr.Dataset, service: str, financial_year: str) -> float:
    """The officer's own forecast of overspend, GBP (NaN when the run has none)."""
    if "forecast_overspend" not in ds:
        return float("nan")
    return float(ds["forecast_overspend"].sel(service=service, financial_year=financial_year))


@dataclass(frozen=True)
class MediumTerm:
    """Annual net outturn across the horizon against each year's budget (GBP)."""

    service: str
    label: str
    years: list[str]
    outturn: np.ndarray  # (draws, years)
    budget: np.ndarray  # (years,)

    @property
    def p_overspend(self) -> np.ndarray:
        """Probability of overspend in each year."""
        return np.mean(self.outturn > self.budget, axis=0)


def medium_data(ds: xr.Dataset, service: str) -> MediumTerm:
    """Annual outturn and budget of ``service`` for every financial year."""
    return MediumTerm(
        service=service,
        label=service_label(ds, service),
        years=[str(y) for y in ds["financial_year"].values],
        outturn=ds["outturn"].sel(service=service).values,
        budget=ds["budget"].sel(service=service).values,
    )


@dataclass(frozen=True)
class Drivers:
    """Each budget line's contribution to the total's risk in one year.

    Attributes
    ----------
    variance_share : numpy.ndarray
        Cov(line, total) / Var(total): shares add to one, and shared inflation
        (which moves lines together) is counted with the lines it moves.
    tail_mean : numpy.ndarray
        Mean overspend of each line (GBP) in the draws where the total is at or
        above its 90th percentile; they add to the total's mean in those draws.
    """

    financial_year: str
    services: list[str]
    labels: list[str]
    departments: list[str]
    variance_share: np.ndarray
    tail_mean: np.ndarray


def drivers_data(ds: xr.Dataset, financial_year: str) -> Drivers:
    """Contributions of each budget line to the total's risk, largest share first."""
    keys = line_services(ds)
    over = ds["overspend"].sel(financial_year=financial_year)
    lines = over.sel(service=keys).values  # (draws, lines)
    total = over.sel(service="total").values
    centred = total - total.mean()
    var = float(np.mean(centred**2))
    share = (
        ((lines - lines.mean(axis=0)) * centred[:, None]).mean(axis=0) / var
        if var > 0
        else np.zeros(len(keys))
    )
    tail = total >= np.quantile(total, 0.9)
    order = np.argsort(-share, kind="stable")
    dept = ds["department"].sel(service=keys).values
    return Drivers(
        financial_year=financial_year,
        services=[keys[i] for i in order],
        labels=[service_label(ds, keys[i]) for i in order],
        departments=[str(dept[i]) for i in order],
        variance_share=share[order],
        tail_mean=lines[tail].mean(axis=0)[order],
    )


# ------------------------------------------------------------------ in-year fan


def _month_axis(ax, d: InYear, every: int = 1) -> None:
    ticks = d.days[1:][every - 1 :: every]
    names = d.month_names[every - 1 :: every]
    ax.set_xticks(ticks, names)
    ax.set_xlim(0, d.days[-1])


def draw_inyear(fig: Figure | SubFigure, d: InYear, run: RunInfo) -> None:
    """Draw the in-year fan chart: cumulative spend against the budget profile.

    The top panel shows cumulative net spend from zero, with the budget line, so
    the size of the risk is seen against the whole budget; the lower panel shows
    the same fan as the gap to the budget profile, where the spread is readable.
    """
    body = _frame(
        fig,
        f"{d.label}, {d.financial_year}: cumulative net spend against budget",
        run,
        "Shaded bands hold the central 10%, 20%, ... 90% of simulated outcomes, darkest "
        "in the middle. The budget is spread over the year in proportion to days.",
    )
    top, gap = body.subplots(2, 1, sharex=True)
    # Months of actual spend are history: one solid line, and the fan opens where it ends.
    k = d.actual_months
    future = fan(d.cum_spend[:, k:])
    _draw_fan(top, d.days[k:], future, "spend")
    _budget_line(top, d.days, d.cum_budget, "budget")
    _draw_fan(gap, d.days[k:], future.shifted(d.cum_budget[k:]), "gap")
    _budget_line(gap, d.days, np.zeros_like(d.days), "gap-budget")
    handles = _fan_legend_handles("Budget, spread by days")
    if k:
        for ax, offset, gid in ((top, 0, "spend"), (gap, d.cum_budget[: k + 1], "gap")):
            ax.plot(d.days[: k + 1], d.cum_spend[0, : k + 1] - offset, color="black", lw=2.8,
                    solid_capstyle="butt", zorder=6, gid=f"{gid}-actual")  # fmt: skip
        handles.insert(0, Line2D([], [], color="black", lw=2.8, label=f"Actual to {d.as_of}"))
    if np.isfinite(d.forecast):
        for ax, y in ((top, d.budget + d.forecast), (gap, d.forecast)):
            ax.plot([d.days[-1]], [y], "D", color="black", mfc="white", mew=1.5, ms=7, zorder=7,
                    clip_on=False, gid=f"{'spend' if ax is top else 'gap'}-forecast")  # fmt: skip
        handles.append(Line2D([], [], ls="", marker="D", color="black", mfc="white", mew=1.5,
                              label=f"Officer's forecast {signed_money(d.forecast)}"))  # fmt: skip
    top.set_ylim(bottom=0)
    _money_axis(top.yaxis)
    top.set_ylabel("Cumulative net spend")
    median_end = float(np.median(d.cum_spend[:, -1]))
    places = chart_decimals(d.budget)
    top.text(
        0.02,
        0.97,
        f"Year-end chance of overspend: {pct_text(d.p_overspend)}\n"
        f"Budget {money_text(d.budget, places)}; median outturn {money_text(median_end, places)}",
        transform=top.transAxes,
        va="top",
        ha="left",
        fontsize=9,
        bbox={"boxstyle": "round,pad=0.4", "facecolor": "white", "edgecolor": "#999999"},
    ).set_gid("p-overspend")
    # Above the panels, not inside: wherever the fan goes, the legend never hides it.
    body.legend(handles=handles, loc="outside upper center", ncols=3, fontsize=7.5)
    _money_axis(gap.yaxis)
    gap.set_ylabel("Over (+) or under (−)\nbudget profile")
    _month_axis(gap, d)
    gap.set_xlabel(f"Cumulative to the end of each month, {d.financial_year}")


def draw_inyear_grid(
    fig: Figure | SubFigure,
    ds: xr.Dataset,
    financial_year: str,
    services: Sequence[str],
    run: RunInfo,
) -> None:
    """Small multiples: each service's in-year gap to its budget profile."""
    body = _frame(
        fig,
        f"Each service, {financial_year}: cumulative spend over (+) or under (−) "
        "its budget profile, by month",
        run,
        "Dashed line: on budget. Bands: central 10% to 90% of outcomes, darkest in the middle; "
        "black line: median. Each panel has its own £m scale.",
    )
    ncols = 3
    nrows = int(np.ceil(len(services) / ncols))
    axes = np.atleast_1d(body.subplots(nrows, ncols, sharex=True)).ravel()
    for ax, key in zip(axes, services, strict=False):
        d = inyear_data(ds, key, financial_year)
        k = d.actual_months
        _draw_fan(ax, d.days[k:], fan(d.cum_spend[:, k:]).shifted(d.cum_budget[k:]), f"gap-{key}")
        _budget_line(ax, d.days, np.zeros_like(d.days), f"budget-{key}")
        if k:
            ax.plot(d.days[: k + 1], d.cum_spend[0, : k + 1] - d.cum_budget[: k + 1],
                    color="black", lw=2.4, zorder=6, gid=f"actual-{key}")  # fmt: skip
        _money_axis(ax.yaxis)
        ax.yaxis.set_major_locator(MaxNLocator(nbins=4, steps=[1, 2, 2.5, 5, 10]))
        _month_axis(ax, d, every=3)
        ax.set_title(
            f"{_wrap(d.label, 24)}\nP(overspend) {pct_text(d.p_overspend)}",
            fontsize=8,
            loc="left",
        )
    for ax in axes[len(services) :]:
        ax.set_visible(False)
    for ax in axes[len(services) - ncols : len(services)]:
        ax.xaxis.set_tick_params(labelbottom=True)


# ------------------------------------------------------------------ medium term


def draw_medium(fig: Figure | SubFigure, d: MediumTerm, run: RunInfo) -> None:
    """Draw the medium-term fan: annual outturn against budget for each year."""
    body = _frame(
        fig,
        f"{d.label}: net outturn against budget, {d.years[0]} to {d.years[-1]}",
        run,
        "Each year's outturn in cash terms (after inflation, savings and income). Bands: "
        "central 10% to 90% of outcomes, darkest in the middle.",
    )
    top, gap = body.subplots(2, 1, sharex=True)
    x = np.arange(len(d.years), dtype=float)
    xs, outturn, budget = _widen(x, d.outturn, d.budget)
    _draw_fan(top, xs, fan(outturn), "outturn")
    _budget_line(top, xs, budget, "budget", marker="D" if len(x) > 1 else None, markersize=4)
    top.set_ylim(bottom=0)
    _money_axis(top.yaxis)
    top.set_ylabel("Net outturn for the year")
    body.legend(
        handles=_fan_legend_handles("Budget"), loc="outside upper center", ncols=3, fontsize=7.5
    )

    _draw_fan(gap, xs, fan(outturn).shifted(budget), "gap")
    _budget_line(gap, xs, np.zeros_like(xs), "gap-budget")
    _money_axis(gap.yaxis)
    gap.set_ylabel("Overspend (+) or\nunderspend (−)")
    labels = [
        f"{y}\n{pct_text(p)} chance\nof overspend"
        for y, p in zip(d.years, d.p_overspend, strict=True)
    ]
    gap.set_xticks(x, labels)
    gap.set_xlim(x[0] - 0.45, x[-1] + 0.45)
    gap.grid(axis="x", visible=False)
    top.grid(axis="x", visible=False)


def _widen(x: np.ndarray, values: np.ndarray, budget: np.ndarray):
    """A single year is drawn as a short flat block so that its bands have width."""
    if len(x) > 1:
        return x, values, budget
    return (
        np.array([x[0] - 0.3, x[0] + 0.3]),
        np.repeat(values, 2, axis=1),
        np.repeat(budget, 2),
    )


def draw_medium_grid(
    fig: Figure | SubFigure, ds: xr.Dataset, services: Sequence[str], run: RunInfo
) -> None:
    """Small multiples: each service's annual overspend fan across the horizon."""
    years = [str(y) for y in ds["financial_year"].values]
    body = _frame(
        fig,
        f"Each service: annual overspend (+) or underspend (−), {years[0]} to {years[-1]}",
        run,
        "Dashed line: on budget. Bands: central 10% to 90% of outcomes; black line: median. "
        f"P(overspend): chance of overspend in {years[0]} → in {years[-1]}. "
        "Each panel has its own £m scale.",
    )
    ncols = 3
    nrows = int(np.ceil(len(services) / ncols))
    axes = np.atleast_1d(body.subplots(nrows, ncols, sharex=True)).ravel()
    x = np.arange(len(years), dtype=float)
    for ax, key in zip(axes, services, strict=False):
        d = medium_data(ds, key)
        xs, outturn, budget = _widen(x, d.outturn, d.budget)
        _draw_fan(ax, xs, fan(outturn).shifted(budget), f"gap-{key}")
        _budget_line(ax, xs, np.zeros_like(xs), f"budget-{key}")
        _money_axis(ax.yaxis)
        ax.yaxis.set_major_locator(MaxNLocator(nbins=4, steps=[1, 2, 2.5, 5, 10]))
        ax.set_xticks(x, [y[2:] for y in years])
        ax.set_xlim(x[0] - 0.3, x[-1] + 0.3)
        ax.grid(axis="x", visible=False)
        chances = " → ".join(pct_text(p) for p in d.p_overspend[[0, -1]][: len(years)])
        ax.set_title(f"{_wrap(d.label, 24)}\nP(overspend) {chances}", fontsize=8, loc="left")
    for ax in axes[len(services) :]:
        ax.set_visible(False)
    for ax in axes[len(services) - ncols : len(services)]:
        ax.xaxis.set_tick_params(labelbottom=True)


# ------------------------------------------------------------------ distribution


def _bin_edges(values: np.ndarray, bins: int = 40) -> np.ndarray:
    """Histogram bin edges spanning ``values`` with zero (on budget) as an edge."""
    lo, hi = float(np.min(values)), float(np.max(values))
    if hi <= lo:
        lo, hi = lo - 1e5, hi + 1e5
    width = (hi - lo) / bins
    start = np.floor(lo / width) * width
    return start + width * np.arange(int(np.ceil((hi - start) / width)) + 1)


def draw_distribution(
    fig: Figure | SubFigure,
    over: np.ndarray,
    label: str,
    financial_year: str,
    run: RunInfo,
    forecast: float = float("nan"),
) -> None:
    """Draw the overspend histogram and the exceedance curve for one year.

    Parameters
    ----------
    over : numpy.ndarray
        Overspend by draw (GBP; negative is an underspend).
    forecast : float, optional
        The officer's own point forecast (GBP), marked when given.
    """
    body = _frame(
        fig,
        f"{label}: overspend in {financial_year}",
        run,
        "Overspend is net outturn minus budget for the financial year.",
    )
    hist, exceed = body.subplots(1, 2)
    p = float(np.mean(over > 0))
    p50, p90 = np.quantile(over, [0.5, 0.9])
    places = chart_decimals(np.ptp(np.quantile(over, [0.05, 0.95])))
    p90_text = money_text(p90, places)
    edges = _bin_edges(over)
    counts, _ = np.histogram(over, edges)
    share = 100 * counts / over.size
    left = edges[:-1]
    colours = np.where(left >= 0, BAND_COLOURS[6], BAND_COLOURS[1])
    hist.bar(
        left, share, width=np.diff(edges), align="edge", color=colours, edgecolor="white", lw=0.3
    )
    hist.axvline(0, color=BUDGET_COLOUR, lw=2, ls=BUDGET_DASH, zorder=5)
    hist.axvline(p50, color="black", lw=1.5, zorder=5, path_effects=MEDIAN_HALO)
    hist.axvline(p90, color="black", lw=1.2, ls=":", zorder=5)
    _money_axis(hist.xaxis)
    hist.xaxis.set_major_locator(MaxNLocator(nbins=5, steps=[1, 2, 2.5, 5, 10]))
    hist.yaxis.set_major_formatter(PercentFormatter(decimals=0))
    hist.set_ylim(bottom=0)
    hist.set_xlabel("Overspend (+) or underspend (−)")
    hist.set_ylabel("Share of simulated outcomes")
    hist.set_title("How likely each outcome is", loc="left")

    x = np.sort(over)
    y = 100 * (1 - np.arange(1, x.size + 1) / x.size)  # P(overspend > x) at each draw
    (curve,) = exceed.step(x, y, where="post", color=BAND_COLOURS[-1], lw=2)
    curve.set_gid("exceedance")
    exceed.axvline(0, color=BUDGET_COLOUR, lw=2, ls=BUDGET_DASH, zorder=2)
    # The two readings are marked on the curve, with guides to the axes, and written out in
    # the legend: labels inside the axes would collide when the two points are close.
    guide = {"color": "#555555", "lw": 0.8, "ls": (0, (1, 2)), "zorder": 3}
    exceed.plot([x[0], 0], [100 * p, 100 * p], **guide)
    exceed.plot([x[0], p90, p90], [10, 10, 0], **guide)
    exceed.plot([0], [100 * p], "o", color="black", ms=6, zorder=6, gid="p-overspend-point")
    exceed.plot([p90], [10], "s", color="black", ms=6, zorder=6, gid="p90-point")
    if x[-1] > x[0]:  # one draw, or all draws equal, leaves matplotlib's default limits
        exceed.set_xlim(x[0], x[-1])
    _money_axis(exceed.xaxis)
    exceed.xaxis.set_major_locator(MaxNLocator(nbins=5, steps=[1, 2, 2.5, 5, 10]))
    exceed.set_ylim(0, 100)
    exceed.yaxis.set_major_formatter(PercentFormatter(decimals=0))
    exceed.set_xlabel("Overspend more than")
    exceed.set_ylabel("Chance")
    exceed.set_title("Chance of more than £X m over", loc="left")
    handles = [
        Patch(facecolor=BAND_COLOURS[6], label="Overspend"),
        Patch(facecolor=BAND_COLOURS[1], label="Underspend"),
        Line2D([], [], color=BUDGET_COLOUR, lw=2, ls=BUDGET_DASH, label="On budget"),
        Line2D([], [], color="black", lw=1.5, label=f"Median {money_text(p50, places)}"),
        Line2D([], [], color="black", lw=1.2, ls=":", label=f"90th percentile {p90_text}"),
        Line2D(
            [], [], ls="", marker="o", color="black", label=f"{pct_text(p)} chance of overspend"
        ),
        Line2D([], [], ls="", marker="s", color="black", label=p90_phrase(p90, places)),
    ]
    if np.isfinite(forecast):
        worse = float(np.mean(over > forecast))
        for ax in (hist, exceed):
            ax.axvline(forecast, color="black", lw=1.2, ls="-.", zorder=5, gid="forecast")
        handles.append(Line2D([], [], color="black", lw=1.2, ls="-.",
                              label=f"Officer's forecast {signed_money(forecast)} "
                              f"({pct_text(worse)} chance of worse)"))  # fmt: skip
    body.legend(
        handles=handles,
        loc="outside lower center",
        ncols=3,
        fontsize=7.5,
        handlelength=1.6,
        columnspacing=1.0,
    )


# ------------------------------------------------------------------ drivers


def drivers_title(financial_year: str) -> str:
    """The drivers chart's title, which the report's key messages refer to."""
    return f"What drives the risk to the total, {financial_year}"


def draw_drivers(fig: Figure | SubFigure, d: Drivers, run: RunInfo) -> None:
    """Draw each budget line's contribution to the total's risk, largest first."""
    body = _frame(
        fig,
        drivers_title(d.financial_year),
        run,
        "Left: each line's covariance with the total divided by the total's variance; shares "
        "add to 100% (shared inflation is counted in the lines it moves). Right: each line's "
        "mean overspend in the 10% of outcomes where the total is worst.",
    )
    share_ax, tail_ax = body.subplots(1, 2, sharey=True)
    y = np.arange(len(d.services))[::-1]
    depts = list(dict.fromkeys(d.departments))
    style = {
        dept: (DEPT_COLOURS[i % len(DEPT_COLOURS)], DEPT_HATCHES[i % len(DEPT_HATCHES)])
        for i, dept in enumerate(depts)
    }
    colours = [style[x][0] for x in d.departments]
    hatches = [style[x][1] for x in d.departments]
    share_ax.barh(
        y, 100 * d.variance_share, color=colours, hatch=hatches, edgecolor="white", lw=0.5
    )
    tail_ax.barh(y, d.tail_mean, color=colours, hatch=hatches, edgecolor="white", lw=0.5)
    _bar_labels(share_ax, y, 100 * d.variance_share, lambda v: f"{round(v)}%".replace("-", "−"))
    places = chart_decimals(np.max(np.abs(d.tail_mean)))
    _bar_labels(tail_ax, y, d.tail_mean, lambda v: money_text(v, places))
    share_ax.set_yticks(y, [_wrap(label, 34) for label in d.labels])
    share_ax.xaxis.set_major_formatter(PercentFormatter(decimals=0))
    share_ax.set_xlabel("Share of the total's variance")
    share_ax.set_title("Share of the uncertainty", loc="left")
    _money_axis(tail_ax.xaxis)
    tail_ax.xaxis.set_major_locator(MaxNLocator(nbins=4, steps=[1, 2, 2.5, 5, 10]))
    tail_ax.set_xlabel("Mean overspend, worst 10%")
    tail_ax.set_title("Worst 1 in 10 outcomes", loc="left")
    for ax in (share_ax, tail_ax):
        ax.axvline(0, color="black", lw=0.8)
        ax.grid(axis="y", visible=False)
    if len(depts) > 1:
        body.legend(
            handles=[
                Patch(
                    facecolor=style[x][0], hatch=style[x][1], edgecolor="white", label=x or "Other"
                )
                for x in depts
            ],
            loc="outside upper center",
            ncols=min(len(depts), 3),
        )


def _bar_labels(ax, y: np.ndarray, values: np.ndarray, fmt: Callable[[float], str]) -> None:
    """Value labels at the ends of bars, with room made for them inside the axes."""
    lo, hi = min(0.0, float(values.min())), max(0.0, float(values.max()))
    span = (hi - lo) or 1.0
    ax.set_xlim(lo - 0.28 * span * (lo < 0), hi + 0.28 * span)
    for yi, v in zip(y, values, strict=True):
        ax.text(v, yi, f" {fmt(v)} ", va="center",
                ha="left" if v >= 0 else "right", fontsize=7.5)  # fmt: skip


# ------------------------------------------------------------------ sensitivity


#: Config paths inside a service, in the words a finance officer would use.
INPUT_WORDS = {
    "arrivals.per_year": "new placements a year",
    "arrivals.growth": "demand growth",
    "length.median_weeks": "placement length",
    "length.mean_weeks": "placement length",
    "length.sigma": "spread of placement lengths",
    "length.shape": "shape of placement lengths",
    "unit_cost.mean_gbp_per_week": "weekly cost",
    "unit_cost.high_cost_share": "share of high-cost placements",
    "unit_cost.high_cost_mean_gbp_per_week": "weekly cost of high-cost placements",
    "cost.annual_gbp": "annual cost",
    "cost.growth": "cost growth",
    "income.share": "income share",
    "inflation.extra": "extra price rise",
    "delivery": "delivery",
}


def input_label(name: str, labels: dict[str, str] | None = None) -> str:
    """A readable name for a sensitivity input such as ``services.home_care.arrivals.growth``.

    Parameters
    ----------
    name : str
        The input's dotted name (optionally with a ``[year]`` suffix).
    labels : dict, optional
        Service keys to display names.

    Examples
    --------
    >>> input_label("services.home_care.arrivals.growth", {"home_care": "Home care"})
    'Home care: demand growth'
    >>> input_label("inflation.factors.nlw.uplift[2025/26]")
    'Price rise: nlw, 2025/26'
    """
    labels = labels or {}
    year = ""
    if name.endswith("]") and "[" in name:
        name, year = name[:-1].split("[", 1)
        year = f", {year}"
    parts = name.split(".")
    if parts[0] == "services" and len(parts) >= 3:
        who = labels.get(parts[1], parts[1].replace("_", " ").capitalize())
        rest = ".".join(parts[2:])
        if parts[2] == "savings" and len(parts) >= 5:
            what = f"saving ‘{parts[3].replace('_', ' ')}’ {INPUT_WORDS.get(parts[-1], parts[-1])}"
        else:
            what = INPUT_WORDS.get(rest, rest.replace(".", " ").replace("_", " "))
        return f"{who}: {what}{year}"
    if parts[:2] == ["inflation", "factors"] and len(parts) >= 3:
        return f"Price rise: {parts[2].replace('_', ' ')}{year}"
    return " ".join(p.replace("_", " ") for p in parts) + year


def _select(da: xr.DataArray, **where) -> xr.DataArray:
    """``da.sel`` on the dimensions it has; the others are ignored."""
    return da.sel({k: v for k, v in where.items() if k in da.dims})


def _sens_point(sens: xr.Dataset, name: str, financial_year: str) -> np.ndarray:
    da = _select(sens[name], service="total", financial_year=financial_year)
    return np.asarray(da.values, dtype=float).reshape(-1)


def _whiskers(sens: xr.Dataset, name: str, year: str, order: np.ndarray) -> np.ndarray | None:
    """±1.96 standard errors from ``<name>_se``, when the file has them."""
    if f"{name}_se" not in sens:
        return None
    return 1.96 * np.nan_to_num(_sens_point(sens, f"{name}_se", year)[order])


def draw_tornado(
    fig: Figure | SubFigure,
    sens: xr.Dataset,
    financial_year: str,
    run: RunInfo,
    labels: dict[str, str] | None = None,
    top: int = 12,
) -> None:
    """Draw the tornado: change in the total's mean overspend with each input at P10 and P90.

    Parameters
    ----------
    sens : xarray.Dataset
        ``sensitivity.nc``: ``tornado_mean_low`` and ``tornado_mean_high`` (GBP) by
        ``input`` (and ``service``, ``financial_year``); ``*_se`` adds whiskers.
    top : int
        How many inputs to show, largest effect first.
    """
    names = [str(x) for x in sens["input"].values]
    low = _sens_point(sens, "tornado_mean_low", financial_year)
    high = _sens_point(sens, "tornado_mean_high", financial_year)
    swing = np.nan_to_num(np.maximum(np.abs(low), np.abs(high)), nan=-1)
    order = np.argsort(-swing, kind="stable")[:top]
    body = _frame(
        fig,
        f"Which assumptions move the overspend of all services most, {financial_year}",
        run,
        "Each input fixed in turn at its 10th and at its 90th percentile, all others still "
        f"uncertain (common random numbers); the {len(order)} with the largest effect. "
        "Whiskers: 95% Monte Carlo intervals.",
    )
    ax = body.subplots()
    y = np.arange(len(order))[::-1]
    for values, name, colour, hatch, text in (
        (low, "tornado_mean_low", BAND_COLOURS[2], "///", "Input at its 10th percentile"),
        (high, "tornado_mean_high", BAND_COLOURS[-1], "", "Input at its 90th percentile"),
    ):
        ax.barh(y, values[order], color=colour, hatch=hatch, edgecolor="#555555", lw=0.5,
                xerr=_whiskers(sens, name, financial_year, order), capsize=2,
                error_kw={"lw": 0.8}, label=text)  # fmt: skip
    ax.set_yticks(y, [_wrap(input_label(names[i], labels), 40) for i in order])
    ax.axvline(0, color="black", lw=0.8)
    ax.grid(axis="y", visible=False)
    _money_axis(ax.xaxis)
    ax.set_xlabel("Change in mean overspend")
    body.legend(loc="outside upper center", ncols=2)


CASE_LEVEL_LABEL = "Chance alone: which cases arrive and how long they stay"


def draw_sobol(
    fig: Figure | SubFigure,
    sens: xr.Dataset,
    financial_year: str,
    run: RunInfo,
    labels: dict[str, str] | None = None,
    top: int = 12,
) -> None:
    """Draw first-order and total Sobol indices of the total's overspend, with intervals.

    Estimates and intervals are drawn clipped to [0, 1], and the caption says
    that what is left outside, or a first order above the total, is noise.

    Parameters
    ----------
    sens : xarray.Dataset
        ``sensitivity.nc``: ``first_order`` and ``total_order`` (fractions of
        variance) by ``input``, with ``*_low``/``*_high`` bounds when present,
        and ``case_level_share`` (the variance left to case-level randomness).
    """
    from simulator.analysis.sensitivity import SOBOL_CAVEAT, shown_index

    names = [str(x) for x in sens["input"].values]
    total = shown_index(_sens_point(sens, "total_order", financial_year))
    first = shown_index(_sens_point(sens, "first_order", financial_year))
    order = np.argsort(-np.nan_to_num(total, nan=-np.inf), kind="stable")[:top]
    level = sens.attrs.get("confidence_level")
    samples = sens.attrs.get("sobol_samples")
    note = "Sobol indices" + (f" from {int(samples):,} base samples" if samples else "")
    if level is not None:
        note += f"; whiskers: {float(level):.0%} bootstrap intervals"
    body = _frame(
        fig,
        f"Share of the uncertainty in the overspend of all services, {financial_year}",
        run,
        f"{note}. Total effect includes interactions with other inputs. {SOBOL_CAVEAT}",
    )
    ax = body.subplots()
    rows = [(input_label(names[i], labels), i) for i in order]
    case = "case_level_share" in sens
    y = np.arange(len(rows) + case)[::-1]
    h = 0.38
    for name, values, offset, colour, hatch, text in (
        ("total_order", total, h / 2, BAND_COLOURS[-1], "", "Total effect"),
        ("first_order", first, -h / 2, BAND_COLOURS[2], "///", "First-order effect (alone)"),
    ):
        ax.barh(y[: len(rows)] + offset, 100 * values[order], height=h, color=colour,
                hatch=hatch, edgecolor="#555555", lw=0.5, capsize=2, error_kw={"lw": 0.8},
                xerr=_interval(sens, name, financial_year, order, values), label=text)  # fmt: skip
    labels_y = [_wrap(label, 40) for label, _ in rows]
    if case:
        share = shown_index(_sens_point(sens, "case_level_share", financial_year))
        err = _interval(sens, "case_level_share", financial_year, np.array([0]), share)
        ax.barh(y[-1:], 100 * share[:1], height=h, color="#bdbdbd", hatch="...",
                edgecolor="#555555", lw=0.5, xerr=err, capsize=2, error_kw={"lw": 0.8},
                label="Case-level chance")  # fmt: skip
        labels_y.append(_wrap(CASE_LEVEL_LABEL, 40))
    ax.set_yticks(y, labels_y)
    ax.xaxis.set_major_formatter(PercentFormatter(decimals=0))
    ax.set_xlim(left=min(0, ax.get_xlim()[0]))
    ax.axvline(0, color="black", lw=0.8)
    ax.grid(axis="y", visible=False)
    ax.set_xlabel("Share of the variance of the overspend")
    body.legend(loc="outside upper center", ncols=3)


def _interval(
    sens: xr.Dataset, name: str, year: str, order: np.ndarray, values: np.ndarray
) -> np.ndarray | None:
    """Whisker lengths (percentage points) from ``<name>_low`` and ``<name>_high``.

    The ends are clipped to [0, 1], as the indices are (``values`` are already).
    """
    if f"{name}_low" not in sens or f"{name}_high" not in sens:
        return None
    lo = np.clip(_sens_point(sens, f"{name}_low", year)[order], 0, 1)
    hi = np.clip(_sens_point(sens, f"{name}_high", year)[order], 0, 1)
    v = values[order]
    return 100 * np.nan_to_num(np.clip(np.vstack([v - lo, hi - v]), 0, None))


@dataclass(frozen=True)
class ScenarioSummary:
    """Mean overspend (GBP) and probability of overspend by scenario and year.

    Attributes
    ----------
    mean, p : numpy.ndarray
        Shape (scenarios, years).
    mean_se : numpy.ndarray or None
        Monte Carlo standard error of ``mean``, when known.
    """

    names: list[str]
    descriptions: list[str]
    years: list[str]
    mean: np.ndarray
    p: np.ndarray
    mean_se: np.ndarray | None


def scenario_summary(scen: xr.Dataset, service: str = "total") -> ScenarioSummary:
    """Summarise ``scenarios.nc`` for ``service``.

    Uses the summary variables ``mean_overspend`` and ``p_overspend`` when
    present, else computes them from the draws (``overspend``).
    """
    dims = ["scenario", "financial_year"]
    se = None
    if {"mean_overspend", "p_overspend"} <= set(scen.data_vars):
        mean = _select(scen["mean_overspend"], service=service)
        p = _select(scen["p_overspend"], service=service)
        if "mean_overspend_se" in scen:
            se = _select(scen["mean_overspend_se"], service=service).transpose(*dims).values
    else:
        over = _select(scen["overspend"], service=service)
        mean = over.mean("draw")
        p = (over > 0).mean("draw")
        se = (over.std("draw", ddof=1) / np.sqrt(over.sizes["draw"])).transpose(*dims).values
    names = [str(s) for s in scen["scenario"].values]
    if "scenario_description" in scen.coords:
        descriptions = [str(d) for d in scen["scenario_description"].values]
    else:
        descriptions = [""] * len(names)
    return ScenarioSummary(
        names,
        descriptions,
        [str(y) for y in mean["financial_year"].values],
        np.asarray(mean.transpose(*dims).values, float),
        np.asarray(p.transpose(*dims).values, float),
        None if se is None else np.asarray(se, float),
    )


def draw_scenarios(fig: Figure | SubFigure, scen: xr.Dataset, run: RunInfo) -> None:
    """Draw mean overspend and probability of overspend of all services for each scenario."""
    d = scenario_summary(scen)
    body = _frame(
        fig,
        "Scenarios compared: overspend of all services",
        run,
        "Each scenario laid over the base case and run with the same random numbers, so the "
        "differences are due to the scenario alone. Whiskers: 95% Monte Carlo intervals.",
    )
    money_ax, p_ax = body.subplots(1, 2, sharex=True)
    x = np.arange(len(d.years))
    for i, name in enumerate(d.names):
        kw = {
            "marker": SCENARIO_MARKERS[i % len(SCENARIO_MARKERS)],
            "ls": SCENARIO_LINES[i % len(SCENARIO_LINES)],
            "color": "black" if i == 0 else DEPT_COLOURS[(i - 1) % len(DEPT_COLOURS)],
            "lw": 1.6,
            "ms": 5,
        }
        err = None if d.mean_se is None else 1.96 * d.mean_se[i]
        money_ax.errorbar(x, d.mean[i], yerr=err, capsize=2, label=_wrap(
            name.replace("_", " ").capitalize(), 30), **kw)  # fmt: skip
        p_ax.plot(x, 100 * d.p[i], **kw)
    money_ax.axhline(0, color=BUDGET_COLOUR, lw=1.5, ls=BUDGET_DASH)
    _money_axis(money_ax.yaxis)
    money_ax.set_title("Mean overspend", loc="left")
    p_ax.set_ylim(0, 100)
    p_ax.yaxis.set_major_formatter(PercentFormatter(decimals=0))
    p_ax.set_title("Chance of overspend", loc="left")
    for ax in (money_ax, p_ax):
        ax.set_xticks(x, d.years)
        ax.set_xlim(-0.3, len(d.years) - 0.7)
        ax.grid(axis="x", visible=False)
    body.legend(loc="outside upper center", ncols=min(3, len(d.names)))


def sensitivity_run(ds: xr.Dataset, sens: xr.Dataset, what: str) -> RunInfo:
    """Caption details of a sensitivity or scenario file (its own draws, seed and date)."""
    base = RunInfo.from_dataset(ds)
    draws = sens.attrs.get("draws") or sens.attrs.get("tornado_draws")
    if what == "sobol":
        draws = sens.attrs.get("sobol_evaluations") or draws
    return RunInfo(
        council=str(sens.attrs.get("council", base.council)),
        draws=int(draws) if draws else base.draws,
        seed=int(sens.attrs["seed"]) if "seed" in sens.attrs else base.seed,
        created=date_text(sens.attrs.get("created")) if "created" in sens.attrs else base.created,
        version=str(sens.attrs.get("simulator_version", base.version)),
        unit={"tornado": "simulated outcomes per run", "sobol": "model runs"}.get(
            what, "simulated outcomes per scenario"
        ),
    )


# ------------------------------------------------------------------ the set of charts


@dataclass(frozen=True)
class Chart:
    """One chart: a file name, a size and a function that draws it on a figure.

    Attributes
    ----------
    name : str
        File stem, e.g. ``inyear_total_2024-25``.
    title : str
        Short description (alternative text in the report).
    size : tuple of float
        Width and height in inches.
    draw : callable
        ``draw(fig)`` draws the chart on a ``Figure`` or ``SubFigure``.
    kind : str
        ``inyear``, ``medium``, ``distribution``, ``drivers``, ``tornado``,
        ``sobol`` or ``scenarios``: where the report puts it.
    year : str or None
        The financial year shown, for single-year charts.
    """

    name: str
    title: str
    size: tuple[float, float]
    draw: Callable[[Figure | SubFigure], None] = field(repr=False)
    kind: str = ""
    year: str | None = None

    def figure(self) -> Figure:
        """A new figure of the chart (call inside :func:`chart_style`)."""
        fig = Figure(figsize=self.size, dpi=DPI, layout="constrained")
        fig.get_layout_engine().set(w_pad=0.06, h_pad=0.06)
        FigureCanvasAgg(fig)  # a canvas that can measure text, for layout and for tests
        self.draw(fig)
        freeze_layout(fig)
        return fig


def freeze_layout(fig: Figure) -> None:
    """Solve the constrained layout once and keep it.

    Saving a figure with a layout engine draws it twice (a dry run, then the
    real one), solving the layout each time, and again for every format;
    freezing it after one solve halves the time to write PNG and SVG.
    """
    fig.draw_without_rendering()
    # With no engine at all (not even the "none" placeholder) saving skips its dry-run draw;
    # the positions solved above stay. STYLE keeps the rc defaults that make None mean none.
    fig.set_layout_engine(None)


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in text.lower()).strip("-")


#: Small multiples per figure: five rows of three fill an A4 page.
GRID_PANELS = 15


def _chunks(keys: list[str], size: int = GRID_PANELS) -> list[list[str]]:
    return [keys[i : i + size] for i in range(0, len(keys), size)]


def _grid_height(panels: int) -> float:
    return 1.3 + 1.72 * int(np.ceil(panels / 3))


def chart_list(
    ds: xr.Dataset,
    sensitivity: xr.Dataset | None = None,
    scenarios: xr.Dataset | None = None,
    every: bool = False,
) -> list[Chart]:
    """The charts for a run, in report order.

    By default (about 20 charts for a four-year horizon, so that drawing takes
    seconds, not minutes): the in-year fan of all services for every year; of
    each department, and of each service as small multiples, for the first
    year; the medium-term fan of all services and of each department, and small
    multiples of every line; the overspend distribution of all services and the
    risk drivers for every year; and tornado, Sobol and scenario charts when
    those results are given. ``every=True`` draws the in-year fans (full size
    and small multiples), medium-term fans and distributions of every service
    and department for every year.

    Parameters
    ----------
    ds : xarray.Dataset
        Results Dataset.
    sensitivity, scenarios : xarray.Dataset, optional
        Contents of ``sensitivity.nc`` and ``scenarios.nc``.
    every : bool
        Draw every service and year in full.

    Returns
    -------
    list of Chart
    """
    run = RunInfo.from_dataset(ds)
    years = [str(y) for y in ds["financial_year"].values]
    depts = services_of(ds, "department")
    lines = line_services(ds)
    detail_years = years if every else years[:1]
    charts: list[Chart] = []
    for key in ["total", *depts, *(lines if every else [])]:
        for year in years if key == "total" else detail_years:
            d = inyear_data(ds, key, year)
            charts.append(
                Chart(
                    f"inyear_{_slug(key)}_{_slug(year)}",
                    f"In-year fan chart: {d.label}, {year}",
                    (CHART_WIDTH, FAN_HEIGHT),
                    lambda f, d=d: draw_inyear(f, d, run),
                    "inyear",
                    year,
                )
            )
    for year in detail_years:
        for part, panels in enumerate(_chunks(lines)):
            charts.append(
                Chart(
                    f"inyear_services_{_slug(year)}" + (f"_{part + 1}" if part else ""),
                    f"In-year fan charts of each service, {year}",
                    (CHART_WIDTH, _grid_height(len(panels))),
                    lambda f, y=year, p=panels: draw_inyear_grid(f, ds, y, p, run),
                    "inyear",
                    year,
                )
            )
    for key in ["total", *depts, *(lines if every else [])]:
        d = medium_data(ds, key)
        charts.append(
            Chart(
                f"medium_{_slug(key)}",
                f"Medium-term fan chart: {d.label}",
                (CHART_WIDTH, FAN_HEIGHT),
                lambda f, d=d: draw_medium(f, d, run),
                "medium",
            )
        )
    for part, panels in enumerate(_chunks([*depts, *lines])):
        charts.append(
            Chart(
                "medium_services" + (f"_{part + 1}" if part else ""),
                "Medium-term fan charts of each department and service",
                (CHART_WIDTH, _grid_height(len(panels))),
                lambda f, p=panels: draw_medium_grid(f, ds, p, run),
                "medium",
            )
        )
    for key in ["total", *(depts + lines if every else [])]:
        label = service_label(ds, key)
        for year in years:
            over = ds["overspend"].sel(service=key, financial_year=year).values
            forecast = officer_forecast(ds, key, year)
            charts.append(
                Chart(
                    f"distribution_{_slug(key)}_{_slug(year)}",
                    f"Overspend distribution: {label}, {year}",
                    (CHART_WIDTH, 4.0),
                    lambda f, o=over, lab=label, y=year, fc=forecast: draw_distribution(
                        f, o, lab, y, run, fc
                    ),
                    "distribution",
                    year,
                )
            )
    for year in years:
        d = drivers_data(ds, year)
        charts.append(
            Chart(
                f"drivers_{_slug(year)}",
                f"What drives the risk, {year}",
                (CHART_WIDTH, 1.7 + 0.3 * len(lines)),
                lambda f, d=d: draw_drivers(f, d, run),
                "drivers",
                year,
            )
        )
    return charts + _sensitivity_charts(ds, sensitivity, scenarios)


def _sensitivity_charts(
    ds: xr.Dataset, sens: xr.Dataset | None, scen: xr.Dataset | None
) -> list[Chart]:
    """Tornado, Sobol and scenario charts for whatever those results hold."""
    charts: list[Chart] = []
    labels = {k: service_label(ds, k) for k in services_of(ds)}
    years = [str(y) for y in ds["financial_year"].values]
    if sens is not None and "input" in sens.dims:
        if "financial_year" in sens.dims:
            years = [y for y in years if y in {str(v) for v in sens["financial_year"].values}]
        n = min(12, sens.sizes["input"])
        has = set(sens.data_vars)
        tornado_run = sensitivity_run(ds, sens, "tornado")
        sobol_run = sensitivity_run(ds, sens, "sobol")
        for year in years:
            if {"tornado_mean_low", "tornado_mean_high"} <= has:
                charts.append(
                    Chart(
                        f"tornado_{_slug(year)}",
                        f"Tornado chart, {year}",
                        (CHART_WIDTH, 1.9 + 0.34 * n),
                        lambda f, y=year: draw_tornado(f, sens, y, tornado_run, labels),
                        "tornado",
                        year,
                    )
                )
            if {"first_order", "total_order"} <= has:
                charts.append(
                    Chart(
                        f"sobol_{_slug(year)}",
                        f"Sobol sensitivity indices, {year}",
                        (CHART_WIDTH, 2.1 + 0.42 * (n + 1)),
                        lambda f, y=year: draw_sobol(f, sens, y, sobol_run, labels),
                        "sobol",
                        year,
                    )
                )
    if scen is not None and "scenario" in scen.dims:
        has_draws = "overspend" in scen and "draw" in scen["overspend"].dims
        if has_draws or {"mean_overspend", "p_overspend"} <= set(scen.data_vars):
            charts.append(
                Chart(
                    "scenarios",
                    "Scenarios compared",
                    (CHART_WIDTH, 3.8),
                    lambda f: draw_scenarios(f, scen, sensitivity_run(ds, scen, "scenarios")),
                    "scenarios",
                )
            )
    return charts


# ------------------------------------------------------------------ writing


def _metadata(suffix: str) -> dict:
    # Fixed metadata keeps SVG and PDF output byte-stable between identical runs.
    if suffix == ".svg":
        return {"Date": None, "Creator": f"overspend {__version__}"}
    if suffix == ".png":
        return {"Software": f"overspend {__version__}"}
    return {}


def write_charts(
    ds: xr.Dataset,
    folder: str | Path,
    *,
    sensitivity: xr.Dataset | None = None,
    scenarios: xr.Dataset | None = None,
    every: bool = False,
    formats: Sequence[str] = FORMATS,
) -> list[Path]:
    """Draw the charts of a run into ``folder`` as PNG and SVG files.

    Parameters
    ----------
    ds : xarray.Dataset
        Results Dataset.
    folder : str or pathlib.Path
        Created if missing; files of the same names are replaced.
    sensitivity, scenarios : xarray.Dataset, optional
        Sensitivity and scenario results; their charts are drawn when given.
    every : bool
        Draw every service and year in full (see :func:`chart_list`).
    formats : sequence of str
        File formats (suffixes) to write.

    Returns
    -------
    list of pathlib.Path
        The files written.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    with chart_style():
        for chart in chart_list(ds, sensitivity, scenarios, every):
            fig = chart.figure()
            for fmt in formats:
                path = folder / f"{chart.name}.{fmt}"
                fig.savefig(path, dpi=DPI, metadata=_metadata(path.suffix))
                written.append(path)
    return written


def replace_charts(ds: xr.Dataset, folder: str | Path, **kw) -> list[Path]:
    """Redraw the charts into ``folder`` atomically: the old folder is swapped out only at the end.

    The folder is replaced as a whole, so it must be new, empty, or a folder of
    charts the tool drew itself: a folder holding anything else (the user's own
    pictures included) is refused before drawing rather than lost. Takes the
    keyword arguments of :func:`write_charts`.
    """
    from simulator.files import claim, write_folder

    folder = Path(folder)
    with claim(folder):
        check_charts_folder(folder)  # refuse before drawing, not after
        return write_folder(folder, lambda tmp: write_charts(ds, tmp, **kw), force=True)


CHART_SUFFIXES = (".png", ".svg")


def check_charts_folder(folder: Path) -> None:
    """Refuse a charts folder that is not the tool's, or holds the tool's other results.

    Charts replace their folder as a whole: a run folder given as ``--out``
    would lose its simulation, a folder of the user's their own files.
    """
    from simulator.errors import UserError
    from simulator.files import check_folder, is_bookkeeping

    folder = Path(folder)
    check_folder(folder, force=True)
    if folder.is_dir():
        others = sorted(
            p.name
            for p in folder.iterdir()
            if not is_bookkeeping(p.name) and p.suffix.lower() not in CHART_SUFFIXES
        )
        if others:
            raise UserError(
                f"{folder} holds other results ({', '.join(others[:3])}): charts replace a "
                "folder of their own, so give an empty or new folder, or the run's charts folder"
            )
