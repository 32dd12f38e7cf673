"""Config checks that span sections, and the step from plain data to a checked Config.

:func:`checked_config` validates parsed TOML against the models (each field on
its own) and then runs :func:`cross_check`: horizon years, factor names,
identifiers, the as-of date, snapshot and actuals rows, and the floor on price
uplifts. Scenarios are checked in :mod:`simulator.config.scenarios`.
"""

from __future__ import annotations

import datetime as dt
import math
import re

import numpy as np
from pydantic import ValidationError

from simulator.config.calendar import month_grid, parse_fy
from simulator.config.distributions import Param
from simulator.config.messages import ConfigError, pydantic_problems
from simulator.config.schema import ByYear, Config, Service

# Names of services, factors, savings programmes and scenarios.
IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]*$")


def checked_config(data: dict, source: str = "<config>") -> Config:
    """Validate parsed TOML as a :class:`~simulator.config.schema.Config` and cross-check it.

    Its scenarios are not built (see :func:`simulator.config.load.config_from_dict`).

    Raises
    ------
    ConfigError
        With one line per problem.
    """
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(source, pydantic_problems(exc, Config)) from None
    problems = cross_check(config)
    if problems:
        raise ConfigError(source, problems)
    return config


def _check_by_year(path: str, money: ByYear, horizon: list[str], complete: bool) -> list[str]:
    problems = [
        f'{path}."{key}": {key} is outside the horizon {horizon[0]} to {horizon[-1]}'
        for key in money.table
        if key not in horizon
    ]
    if complete and money.every_year is None:
        missing = [y for y in horizon if y not in money.table]
        if missing:
            problems.append(
                f"{path}: no budget for {', '.join(missing)}: give every year of the horizon "
                f"({', '.join(horizon)}) or one number for all years"
            )
    return problems


def _month_end(day: dt.date) -> bool:
    return (day + dt.timedelta(days=1)).day == 1


def _check_as_of(config: Config) -> list[str]:
    """The as-of date: a month end from the eve of the horizon to its second-last month."""
    snap, act = config.snapshot, config.actuals
    if snap is not None and act is not None and snap.as_of != act.as_of:
        return [
            f"snapshot.as_of = {snap.as_of} and actuals.as_of = {act.as_of} must be the same date"
        ]
    where = "actuals.as_of" if act is not None else "snapshot.as_of"
    day = config.as_of
    k, last = config.actual_months, 12 * config.horizon.years - 1
    if not _month_end(day) or not 0 <= k <= last:
        start = parse_fy(config.horizon.start)
        return [
            f"{where} = {day}: must be the last day of a month from {start}-03-31 (the eve of "
            f"the horizon) to the last-but-one month of the horizon"
        ]
    if k > 0 and act is None:
        return [
            f"snapshot.as_of = {day} is after the horizon start: give [actuals] for the months "
            "before it (or start the horizon later)"
        ]
    return []


def _check_snapshot(config: Config) -> list[str]:
    snap = config.snapshot
    problems = []
    with_caseload = [k for k, s in config.services.items() if s.caseload is not None]
    if with_caseload:
        problems.append(
            f"services.{with_caseload[0]}.caseload: the snapshot gives the caseload, so remove "
            "[caseload] from every service"
        )
    placements = [k for k, s in config.services.items() if s.kind == "placements"]
    for i, row in enumerate(snap.placements):
        where = f"snapshot.placements[{i}]" + (
            f" ({snap.source} row {i + 2})" if snap.source else ""
        )
        if row.service not in placements:
            problems.append(
                f"{where}: service {row.service!r} is not a placements service of this config "
                f"(placements services: {', '.join(placements)})"
            )
        if row.start_date > snap.as_of:
            problems.append(
                f"{where}: start_date {row.start_date} is after the snapshot date {snap.as_of}"
            )
        if row.planned_end_date is not None and row.planned_end_date <= snap.as_of:
            problems.append(
                f"{where}: planned_end_date {row.planned_end_date} is not after the snapshot date "
                f"{snap.as_of}: the placement is still open, so leave it blank or give a later date"
            )
    return problems


def _check_actuals(config: Config) -> list[str]:
    act = config.actuals
    problems, seen = [], set()
    grid = month_grid(parse_fy(config.horizon.start), config.horizon.years)
    months = grid.month_labels()[: config.actual_months]
    for i, row in enumerate(act.months):
        where = f"actuals.months[{i}]" + (f" ({act.source} row {i + 2})" if act.source else "")
        if row.service not in config.services:
            problems.append(f"{where}: service {row.service!r} is not in this config")
        elif row.month not in months:
            allowed = f"{months[0]} to {months[-1]}" if months else "none"
            problems.append(
                f"{where}: month {row.month} is not before the as-of date (allowed: {allowed})"
            )
        elif (row.service, row.month) in seen:
            problems.append(f"{where}: a second row for {row.service} in {row.month}")
        seen.add((row.service, row.month))
    missing = [(s, m) for s in config.services for m in months if (s, m) not in seen]
    if missing:
        problems.append(
            f"actuals: no actual spend for {missing[0][0]} in {missing[0][1]} "
            f"({len(missing)} service-months missing): give every service for every month to the as-of date"
        )
    rows = set(config.services) | {s.department for s in config.services.values() if s.department}
    for key in act.forecast_overspend_gbp:
        if key not in rows | {"total"}:
            problems.append(
                f"actuals.forecast_overspend_gbp.{key}: not a service, department or 'total'"
            )
    return problems


def _lowest(param: Param) -> float:
    """The one-in-a-billion low value of a parameter (its value, when fixed)."""
    return float(param.ppf(np.array([1e-9]))[0])


def _check_price_floor(config: Config, key: str, service: Service) -> list[str]:
    """An April uplift may not take prices to zero or below, however the factors fall."""
    for year in config.uplift_years:
        low = _lowest(service.inflation.extra)
        for name, weight in service.inflation.factors.items():
            factor = config.inflation.factors.get(name)
            if factor is not None:
                low += weight * _lowest(factor.by_year.get(year, factor.uplift))
        if low <= -0.9:
            return [
                f"services.{key}.inflation: in {year} the weighted factors and extra can take "
                f"prices down by {-low:.0%}: uplifts must stay above -90% a year (lower the "
                "weights or narrow the factors)"
            ]
    return []


def cross_check(config: Config) -> list[str]:
    """Checks that span sections: years, factor names, identifiers, as-of data."""
    problems = []
    if config.as_of is not None:
        problems += _check_as_of(config)
        if not problems and config.snapshot is not None:
            problems += _check_snapshot(config)
        if not problems and config.actuals is not None:
            problems += _check_actuals(config)
    horizon = config.fy_labels
    base, start = parse_fy(config.price_base), parse_fy(config.horizon.start)
    if not start - 5 <= base <= start:
        problems.append(
            f"inflation.price_base = {config.price_base!r}: must be the first horizon year "
            f"{config.horizon.start} or up to 5 years before it"
        )
    uplift_years = config.uplift_years
    for name, factor in config.inflation.factors.items():
        if not IDENTIFIER.match(name):
            problems.append(
                f"inflation.factors.{name}: a factor name must be lower_case_with_underscores"
            )
        for key in factor.by_year:
            if key not in uplift_years:
                allowed = ", ".join(uplift_years) or "none (no April falls after the price base)"
                problems.append(
                    f'inflation.factors.{name}.by_year."{key}": not a year with an April uplift; '
                    f"allowed: {allowed}"
                )
    for key, service in config.services.items():
        where = f"services.{key}"
        if not IDENTIFIER.match(key) or key == "total":
            problems.append(
                f"{where}: a service name must be lower_case_with_underscores and not 'total'"
            )
        if service.department in config.services or service.department.lower() == "total":
            problems.append(
                f"{where}.department = {service.department!r}: must differ from every service "
                "name and from 'total'"
            )
        problems += _check_by_year(f"{where}.budget_gbp", service.budget_gbp, horizon, True)
        for name, weight in service.inflation.factors.items():
            if name not in config.inflation.factors:
                known = ", ".join(config.inflation.factors) or "none are defined"
                problems.append(
                    f"{where}.inflation.factors.{name}: no such factor in [inflation.factors] "
                    f"(defined: {known})"
                )
            if not (math.isfinite(weight) and 0 <= weight <= 10):
                problems.append(
                    f"{where}.inflation.factors.{name} = {weight!r}: weight must be between 0 and 10"
                )
        problems += _check_price_floor(config, key, service)
        for sid, saving in service.savings.items():
            if not IDENTIFIER.match(sid):
                problems.append(
                    f"{where}.savings.{sid}: a programme name must be lower_case_with_underscores"
                )
            problems += _check_by_year(
                f"{where}.savings.{sid}.target_gbp", saving.target_gbp, horizon, False
            )
    return problems
