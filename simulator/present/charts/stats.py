"""The numbers each chart shows, read from the Dataset and kept apart from the drawing.

Fan quantiles, in-year and medium-term spend against budget, each budget line's
share of the risk, histogram bins, sensitivity indices and scenario summaries.
Tests check the plotted numbers against these, and these against quantiles
computed directly from the Dataset.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xarray as xr

from simulator.present.charts.formatting import date_text

#: Probability covered by each fan band, outermost (lightest) first.
FAN_COVERAGES: tuple[float, ...] = (0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1)


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


def bin_edges(values: np.ndarray, bins: int = 40) -> np.ndarray:
    """Histogram bin edges spanning ``values`` with zero (on budget) as an edge."""
    lo, hi = float(np.min(values)), float(np.max(values))
    if hi <= lo:
        lo, hi = lo - 1e5, hi + 1e5
    width = (hi - lo) / bins
    start = np.floor(lo / width) * width
    return start + width * np.arange(int(np.ceil((hi - start) / width)) + 1)


def exceedance(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The exceedance curve: ``values`` sorted, and the chance (%) of more than each."""
    x = np.sort(values)
    return x, 100 * (1 - np.arange(1, x.size + 1) / x.size)


def select(da: xr.DataArray, **where) -> xr.DataArray:
    """``da.sel`` on the dimensions it has; the others are ignored."""
    return da.sel({k: v for k, v in where.items() if k in da.dims})


def sens_point(sens: xr.Dataset, name: str, financial_year: str) -> np.ndarray:
    """``sens[name]`` for all services together in ``financial_year``, one value per input."""
    da = select(sens[name], service="total", financial_year=financial_year)
    return np.asarray(da.values, dtype=float).reshape(-1)


def tornado_whiskers(
    sens: xr.Dataset, name: str, year: str, order: np.ndarray
) -> np.ndarray | None:
    """±1.96 standard errors from ``<name>_se``, when the file has them."""
    if f"{name}_se" not in sens:
        return None
    return 1.96 * np.nan_to_num(sens_point(sens, f"{name}_se", year)[order])


def sobol_whiskers(
    sens: xr.Dataset, name: str, year: str, order: np.ndarray, values: np.ndarray
) -> np.ndarray | None:
    """Whisker lengths (percentage points) from ``<name>_low`` and ``<name>_high``.

    The ends are clipped to [0, 1], as the indices are (``values`` are already).
    """
    if f"{name}_low" not in sens or f"{name}_high" not in sens:
        return None
    lo = np.clip(sens_point(sens, f"{name}_low", year)[order], 0, 1)
    hi = np.clip(sens_point(sens, f"{name}_high", year)[order], 0, 1)
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
        mean = select(scen["mean_overspend"], service=service)
        p = select(scen["p_overspend"], service=service)
        if "mean_overspend_se" in scen:
            se = select(scen["mean_overspend_se"], service=service).transpose(*dims).values
    else:
        over = select(scen["overspend"], service=service)
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
