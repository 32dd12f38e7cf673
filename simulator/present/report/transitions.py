"""The report's transitions section: how much of each adults' service comes from children's care.

Where a config's children's services have ``ageing`` with ``continue_to``, a
share of the young people reaching the leaving age start a placement in an
adults' service (issue 12). The results carry the part of each service's outturn
and year-end caseload that came that way (``from_children_outturn``,
``from_children_caseload``); this module puts them into a sentence per year and
a table per adults' service, so "cannot yet be quantified" gets a number with an
interval. Configs without such flows have no section.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass

import numpy as np
import xarray as xr

from simulator.present import charts
from simulator.present.numbers import MINUS, count, money_text, money_unit, pct1
from simulator.present.report.blocks import Block, Bullets, Heading, Paragraph, Table

#: The central share of simulated futures a range holds (5th to 95th percentile).
RANGE = 0.9

COLUMNS = (
    "Year",
    "Outturn before savings",
    "From children\u2019s care",
    "90% range",
    "Share",
    "Open at year end",
    "Of them from children\u2019s care",
    "90% range (open)",
)


@dataclass(frozen=True)
class Transition:
    """One adults' service and year: what came from children's care, mean and 90% range.

    Attributes
    ----------
    outturn : float
        Mean outturn of the service in the year before savings (GBP): the same basis
        as ``money``, so the share compares like with like.
    money, money_low, money_high : float
        Mean, 5th and 95th percentile of the outturn (after income, before savings) of
        placements that came from children's care (GBP).
    caseload : float
        Mean number of the service's placements open at the year's end.
    open_, open_low, open_high : float
        Mean, 5th and 95th percentile of those that came from children's care.
    """

    service: str
    label: str
    financial_year: str
    outturn: float
    money: float
    money_low: float
    money_high: float
    caseload: float
    open_: float
    open_low: float
    open_high: float

    @property
    def share(self) -> float:
        """The mean from children's care as a fraction of the mean outturn."""
        return self.money / self.outturn if self.outturn else float("nan")


def continuing_into(config_text: str) -> dict[str, dict[str, float]]:
    """Services that young people continue into at the leaving age, and from where.

    Parameters
    ----------
    config_text : str
        The resolved config a results file carries (``attrs["config"]``).

    Returns
    -------
    dict
        Destination service key to {children's service key: share continuing}, shares
        above zero only; empty when the config has no such flows or cannot be read.
    """
    try:
        services = tomllib.loads(config_text or "").get("services") or {}
    except (tomllib.TOMLDecodeError, TypeError):
        return {}
    into: dict[str, dict[str, float]] = {}
    for key, service in services.items():
        ageing = service.get("ageing") if isinstance(service, dict) else None
        onward = ageing.get("continue_to") if isinstance(ageing, dict) else None
        for to, share in (onward or {}).items():
            if isinstance(share, int | float) and share > 0:
                into.setdefault(str(to), {})[str(key)] = float(share)
    return into


def leaving_ages(config_text: str, sources: list[str]) -> list[float]:
    """The leaving ages (years) of the children's services ``sources`` (18 unless set)."""
    services = tomllib.loads(config_text).get("services") or {}
    return sorted({float(services[k]["ageing"].get("leave_at", 18)) for k in sources})


def transitions(ds: xr.Dataset, service: str) -> list[Transition]:
    """An adults' service's part from children's care in each financial year.

    Parameters
    ----------
    ds : xarray.Dataset
        Results Dataset with ``from_children_outturn`` and ``from_children_caseload``.
    service : str
        Service key.

    Returns
    -------
    list of Transition
        One per financial year, in order.
    """
    q = [(1 - RANGE) / 2, (1 + RANGE) / 2]
    money = ds["from_children_outturn"].sel(service=service)
    open_ = ds["from_children_caseload"].sel(service=service)
    caseload = ds["caseload"].sel(service=service)
    # from_children_outturn is before savings (a saving is not placement by placement).
    before_savings = (ds["outturn"] + ds["savings"]).sel(service=service)
    months = ds["month_financial_year"].values
    out = []
    for year in (str(y) for y in ds["financial_year"].values):
        m = money.sel(financial_year=year).values
        c = open_.sel(financial_year=year).values.astype(np.float64)
        year_end = np.flatnonzero(months == year)[-1]  # caseload is counted at month ends
        out.append(
            Transition(
                service=service,
                label=charts.service_label(ds, service),
                financial_year=year,
                outturn=float(before_savings.sel(financial_year=year).mean()),
                money=float(m.mean()),
                money_low=float(np.quantile(m, q[0])),
                money_high=float(np.quantile(m, q[1])),
                caseload=float(caseload.values[:, year_end].mean()),
                open_=float(c.mean()),
                # Counts: a percentile that is itself a count, not one between two.
                open_low=float(np.quantile(c, q[0], method="inverted_cdf")),
                open_high=float(np.quantile(c, q[1], method="inverted_cdf")),
            )
        )
    return out


def _money_format(rows: list[Transition]):
    """One money unit for a service's amounts from children's care (£m; two decimals when
    the smallest would show as £0.0m, £k when all are small)."""
    values = [v for r in rows for v in (r.money, r.money_low, r.money_high)]
    return money_unit(values, minus=MINUS)


def transition_sentence(t: Transition, money=None) -> str:
    """One year of one adults' service in words.

    "Of the £47.0m outturn before savings of Supported living in 2026/27, £0.55m (90% range £0.21m
    to £0.95m) comes from young people who were in children's care; so do 7.6 of the
    578 placements open at the year's end (90% range 3 to 12)."
    """
    money = money or _money_format([t])
    return (
        f"Of the {money_text(t.outturn)} outturn before savings of {t.label} in "
        f"{t.financial_year}, "
        f"{money(t.money)} (90% range {money(t.money_low)} to {money(t.money_high)}) comes "
        f"from young people who were in children\u2019s care; so do {count(t.open_)} of the "
        f"{count(t.caseload)} placements open at the year\u2019s end (90% range "
        f"{count(t.open_low)} to {count(t.open_high)})."
    )


def transition_table(rows: list[Transition], money=None) -> Table:
    """An adults' service's transitions by year: money and caseload, means and 90% ranges."""
    money = money or _money_format(rows)
    body = [
        [
            r.financial_year,
            money_text(r.outturn),
            money(r.money),
            f"{money(r.money_low)} to {money(r.money_high)}",
            pct1(r.share),
            count(r.caseload),
            count(r.open_),
            f"{count(r.open_low)} to {count(r.open_high)}",
        ]
        for r in rows
    ]
    return Table(list(COLUMNS), body, "l" + "r" * 7, widths=[0.8, 1, 1.1, 1.4, 0.8, 1, 1.1, 1])


def transitions_section(ds: xr.Dataset) -> list[Block]:
    """The report's "From children's to adults' care" section; empty without such flows."""
    config_text = str(ds.attrs.get("config", ""))
    into = continuing_into(config_text)
    services = [s for s in charts.line_services(ds) if s in into]
    if not services or "from_children_outturn" not in ds:
        return []
    sources = sorted({k for s in services for k in into[s]})
    ages = " or ".join(f"{a:g}" for a in leaving_ages(config_text, sources))
    blocks: list[Block] = [
        Heading("From children\u2019s to adults\u2019 care"),
        Paragraph(
            f"Children\u2019s placements end at {ages}; a share of the young people then "
            "continue in an adults\u2019 service, with that service\u2019s placement lengths "
            "and costs. This section shows how much of each such service comes from them: "
            "the mean over the simulated futures, with the range that holds the central 90% "
            "of them. Money in cash terms, after income and before savings; placements open "
            "at the end of March. The shares continuing are fixed figures of the config, so "
            "the ranges hold the uncertainty in how many young people reach the leaving age "
            "and what their placements cost, not in the shares themselves."
        ),
    ]
    for service in services:
        rows = transitions(ds, service)
        money = _money_format(rows)
        feeds = ", ".join(
            f"{charts.service_label(ds, k)} ({pct1(share)})"
            for k, share in into[service].items()
            if k in ds["service"].values
        )
        blocks += [
            Heading(rows[0].label, 2),
            Paragraph(f"Continuing at the leaving age from: {feeds}."),
            Bullets([transition_sentence(r, money) for r in rows]),
            transition_table(rows, money),
        ]
    return blocks
