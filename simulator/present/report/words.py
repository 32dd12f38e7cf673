"""The report's sentences: the headline of each service and year, and the drivers sentence.

:func:`headline` puts a service's chance of overspend and its range into plain
English ("There is a 73% chance that ... overspends in 2024/25. ..."); the key
messages, the "in words" lists and the Headlines sheet of ``summary.xlsx`` are
made of these.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import xarray as xr

from simulator.present import charts
from simulator.present.numbers import money_text, pct_whole, round_half_away
from simulator.present.report.formats import chance


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
    return f"There is {chance(p)} that {subject} {verb} in {year}."


def _any_overspend(p: float) -> str:
    """The tail clause when the 90th percentile rounds to on budget: the measured chance."""
    if p == 0:
        return "no simulated outcome overspends at all"
    if p == 1:
        return "every simulated outcome overspends, if only slightly"
    return f"there is {chance(p)} of any overspend"


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
    m, q = round_half_away(median / 1e6, decimals), round_half_away(p90 / 1e6, decimals)
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
    named = [f"{label} ({pct_whole(share)})" for label, share in shares if share > 0]
    if not named:
        return f"No budget line stands out as a driver of the uncertainty in {d.financial_year}."
    listed = named[0] if len(named) == 1 else f"{', '.join(named[:-1])} and {named[-1]}"
    year = d.financial_year
    chart = f"\u201c{charts.drivers_title(year)}\u201d under {year_heading(year)}"
    return (
        f"The largest shares of the uncertainty in the total's outturn for {year} "
        f"come from {listed} (shares of its variance; see the chart {chart})."
    )
