"""Config checks that span sections, and the step from plain data to a checked Config.

:func:`check_shape` refuses data too deep or too large to check; :func:`checked_config`
validates parsed TOML against the models (each field on its own) and then runs
:func:`cross_check`: horizon years, factor names, identifiers, the as-of date,
snapshot and actuals rows, the floor on price uplifts, and figures that cannot
be right (:func:`plausibility`, which also gives the warnings of
:attr:`Config.warnings <simulator.config.schema.Config.warnings>`). Scenarios
are checked in :mod:`simulator.config.scenarios`.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
from pydantic import ValidationError

from simulator.config.calendar import month_grid, parse_fy
from simulator.config.distributions import Param
from simulator.config.messages import (
    SHOW_CHARS,
    ConfigError,
    format_loc,
    pydantic_problems,
    show,
)
from simulator.config.schema import MAX_NAMED, MAX_SERVICES, ByYear, Config, Service

# Names of services, factors, savings programmes and scenarios.
IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]*$")
#: Longest name of a service, factor, programme or scenario (they become input names).
MAX_IDENTIFIER = 60
#: Deepest nesting of tables and arrays (a scenario's changes inside a scenario's
#: changes included); deeper data is refused before it is checked.
MAX_DEPTH = 32


def is_name(name: str) -> bool:
    """Whether ``name`` may name a service, factor, programme or scenario."""
    return bool(IDENTIFIER.match(name)) and len(name) <= MAX_IDENTIFIER


def loc(*parts: str) -> str:
    """A field path for a message, ``services.homes.savings``, with long keys cut short."""
    return ".".join(_short(str(p)) for p in parts)


def _short(key: str) -> str:
    return key if len(key) <= SHOW_CHARS else f"{key[: SHOW_CHARS - 20]}...({len(key)} characters)"


@dataclass(frozen=True)
class FileRows:
    """What reading the case files a config names found, for the checks.

    Attributes
    ----------
    problems : tuple of (str, str)
        ``(file, problem)`` of every problem found while reading them.
    rows : mapping of str to tuple of int
        For ``snapshot`` and ``actuals``: the file row of each row kept, so that
        later problems name the right row.
    excused : frozenset of (str, str)
        ``(service, month)`` of actuals rows that could not be read (already
        reported): not reported again as missing.
    unread : frozenset of str
        ``snapshot`` or ``actuals`` when its file could not be read at all (already
        reported): its rows are not checked.
    """

    problems: tuple[tuple[str, str], ...] = ()
    rows: Mapping[str, tuple[int, ...]] = field(default_factory=dict)
    excused: frozenset[tuple[str, str]] = frozenset()
    unread: frozenset[str] = frozenset()


def check_shape(data: object, source: str = "<config>") -> None:
    """Refuse data nested more than :data:`MAX_DEPTH` deep, or with too many services.

    Walks the data without recursion, so that no depth of nesting can exhaust
    the interpreter's stack (the checks that follow recurse).

    Raises
    ------
    ConfigError
        Naming the count of services or scenarios, or the first part found too deep.
    """
    if isinstance(data, dict):
        limits = (("services", MAX_SERVICES), ("scenarios", MAX_NAMED))
        for key, most in limits:
            part = data.get(key)
            if isinstance(part, dict) and len(part) > most:
                raise ConfigError(source, [f"{key}: {len(part)} are given: at most {most}"])
    level, depth = [data] if isinstance(data, dict | list) else [], 0
    while level:  # level by level: fast even for a million snapshot rows
        if depth > MAX_DEPTH:
            path = _deep_path(data)
            where = format_loc(path[:8]) + ("..." if len(path) > 8 else "")
            raise ConfigError(
                source,
                [
                    f"{where}: tables or arrays are nested more than {MAX_DEPTH} levels deep; "
                    "no field of a config is"
                ],
            )
        below = []
        for node in level:
            values = node.values() if isinstance(node, dict) else node
            below += [v for v in values if isinstance(v, dict | list)]  # level holds no scalars
        level, depth = below, depth + 1


def _deep_path(data: object) -> tuple:
    """The path to a part of ``data`` nested more than :data:`MAX_DEPTH` deep."""
    stack: list[tuple[object, tuple]] = [(data, ())]
    while stack:
        node, path = stack.pop()
        if len(path) > MAX_DEPTH:
            return path
        items = node.items() if isinstance(node, dict) else enumerate(node)
        stack += [(v, (*path, k)) for k, v in items if isinstance(v, dict | list)]
    return ()


def checked_config(data: dict, source: str = "<config>", files: FileRows | None = None) -> Config:
    """Validate parsed TOML as a :class:`~simulator.config.schema.Config` and cross-check it.

    Its scenarios are not built (see :func:`simulator.config.load.config_from_dict`).
    The problems of ``files`` (the case files it names) are reported with its own.

    Raises
    ------
    ConfigError
        With one line per problem.
    """
    files = files or FileRows()
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(source, pydantic_problems(exc, Config), files.problems) from None
    problems = cross_check(config, files)
    if problems or files.problems:
        raise ConfigError(source, problems, files.problems)
    return config


def _check_by_year(path: str, money: ByYear, horizon: list[str], complete: bool) -> list[str]:
    problems = [
        f'{path}."{_short(key)}": {key} is outside the horizon {horizon[0]} to {horizon[-1]}'
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
            f"actuals.as_of = {act.as_of}: must be the same date as snapshot.as_of = {snap.as_of}"
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


def _row(config: Config, section: str, i: int, files: FileRows) -> str:
    """Where row ``i`` of the snapshot or actuals is: its index, and its file and row."""
    part = getattr(config, section)
    key = "placements" if section == "snapshot" else "months"
    numbers = files.rows.get(section)
    row = numbers[i] if numbers is not None and i < len(numbers) else i + 2
    return f"{section}.{key}[{i}]" + (f" ({part.source} row {row})" if part.source else "")


def _check_snapshot(config: Config, files: FileRows) -> list[str]:
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
        where = _row(config, "snapshot", i, files)
        if row.service not in placements:
            problems.append(
                f"{where}: service {show(row.service)} is not a placements service of this "
                f"config (placements services: {', '.join(placements) or 'none'})"
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


def _check_actuals(config: Config, files: FileRows) -> list[str]:
    act = config.actuals
    problems, seen = [], set(files.excused)
    grid = month_grid(parse_fy(config.horizon.start), config.horizon.years)
    months = grid.month_labels()[: config.actual_months]
    for i, row in enumerate(act.months):
        where = _row(config, "actuals", i, files)
        if row.service not in config.services:
            problems.append(
                f"{where}: service {show(row.service)} is not in this config "
                f"(services: {', '.join(config.services)})"
            )
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
    problems += _restart_lists(config)
    rows = set(config.services) | {s.department for s in config.services.values() if s.department}
    for key in act.forecast_overspend_gbp:
        if key not in rows | {"total"}:
            problems.append(
                f"{loc('actuals', 'forecast_overspend_gbp', key)}: not a service, department "
                "or 'total'"
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


def cross_check(config: Config, files: FileRows | None = None) -> list[str]:
    """Checks that span sections: years, factor names, identifiers, as-of data, plausibility.

    ``files`` tells which file row each snapshot and actuals row came from.
    """
    files = files or FileRows()
    problems = []
    if config.as_of is not None:
        problems += _check_as_of(config)
        if not problems:  # both, so that all their problems come at once
            if config.snapshot is not None and "snapshot" not in files.unread:
                problems += _check_snapshot(config, files)
            if config.actuals is not None and "actuals" not in files.unread:
                problems += _check_actuals(config, files)
    horizon = config.fy_labels
    base, start = parse_fy(config.price_base), parse_fy(config.horizon.start)
    if not start - 5 <= base <= start:
        problems.append(
            f"inflation.price_base = {config.price_base!r}: must be the first horizon year "
            f"{config.horizon.start} or up to 5 years before it"
        )
    allowed = ", ".join(config.uplift_years) or "none (no April falls after the price base)"
    problems += _check_factors(
        "inflation", config.inflation.factors, config.uplift_years,
        f"not a year with an April uplift; allowed: {allowed}",
    )  # fmt: skip
    problems += _check_demand(config)
    problems += _check_moves(config)
    for key, service in config.services.items():
        where = loc("services", key)
        if not is_name(key) or key == "total":
            problems.append(
                f"{where}: a service name must be lower_case_with_underscores, at most "
                f"{MAX_IDENTIFIER} characters, and not 'total'"
            )
        if service.department in config.services or service.department.lower() == "total":
            problems.append(
                f"{where}.department = {service.department!r}: must differ from every service "
                "name and from 'total'"
            )
        problems += _check_by_year(f"{where}.budget_gbp", service.budget_gbp, horizon, True)
        for name, weight in service.inflation.factors.items():
            path = loc("services", key, "inflation", "factors", name)
            if name not in config.inflation.factors:
                known = ", ".join(config.inflation.factors) or "none are defined"
                problems.append(f"{path}: no such factor in [inflation.factors] (defined: {known})")
            if not (math.isfinite(weight) and 0 <= weight <= 10):
                problems.append(f"{path} = {weight!r}: weight must be between 0 and 10")
        weights = service.inflation.factors.values()
        if all(math.isfinite(w) and 0 <= w <= 10 for w in weights):  # else reported above
            problems += _check_price_floor(config, key, service)
        for sid, saving in service.savings.items():
            if not is_name(sid):
                problems.append(
                    f"{loc('services', key, 'savings', sid)}: a programme name must be "
                    f"lower_case_with_underscores, at most {MAX_IDENTIFIER} characters"
                )
            problems += _check_by_year(
                loc("services", key, "savings", sid, "target_gbp"),
                saving.target_gbp,
                horizon,
                False,
            )
    if not problems:
        problems += plausibility(config)[0]
    return problems


def _check_factors(section: str, factors: dict, years: list[str], not_a_year: str) -> list[str]:
    """Shared factors' names, and the years their ``by_year`` tables name."""
    problems = []
    for name, factor in factors.items():
        if not is_name(name):
            problems.append(
                f"{loc(section, 'factors', name)}: a factor name must be "
                f"lower_case_with_underscores, at most {MAX_IDENTIFIER} characters"
            )
        problems += [
            f'{loc(section, "factors", name, "by_year")}."{_short(key)}": {not_a_year}'
            for key in factor.by_year
            if key not in years
        ]
    return problems


def _check_demand(config: Config) -> list[str]:
    """Demand factors' names and years, and the services' weights on them."""
    factors = {} if config.demand is None else config.demand.factors
    horizon = config.fy_labels
    problems = _check_factors(
        "demand", factors, horizon, f"not a year of the horizon; allowed: {', '.join(horizon)}"
    )
    for key, service in config.services.items():
        weights = {} if service.arrivals is None else service.arrivals.demand or {}
        for name, weight in weights.items():
            path = loc("services", key, "arrivals", "demand", name)
            if name not in factors:
                known = ", ".join(factors) or "none are defined"
                problems.append(f"{path}: no such factor in [demand.factors] (defined: {known})")
            if not (math.isfinite(weight) and -10 <= weight <= 10):
                problems.append(f"{path} = {weight!r}: weight must be between -10 and 10")
    return problems


def _check_moves(config: Config) -> list[str]:
    """Moves go from a placements service to another one, and never come back round."""
    problems = []
    for key, service in config.services.items():
        onward = [] if service.ageing is None else list(service.ageing.continue_to)
        targets = [(to, ("moves", to)) for to in service.moves or {}]
        targets += [(to, ("ageing", "continue_to", to)) for to in onward]
        for to, where in targets:
            path = loc("services", key, *where)
            target = config.services.get(to)
            if service.kind != "placements":
                problems.append(f"{path}: moves are for placements services, not cost lines")
            elif target is None:
                problems.append(f"{path}: no such service (services: {', '.join(config.services)})")
            elif to == key:
                problems.append(f"{path}: a service cannot move placements to itself")
            elif target.kind != "placements":
                problems.append(f"{path}: {to} is a cost line; moves go to placements services")
    if not problems:
        cycle = move_cycle(config)
        if cycle:
            problems.append(
                f"services.{cycle[0]} -> {cycle[1]}: moves go round in a circle ("
                + " -> ".join(cycle)
                + "): a placement may not return to a service it left; model the step-down "
                "as an end and an arrival instead"
            )
    return problems


def onward_services(service: Service) -> list[str]:
    """Services a placement can go on to: its moves, then where leavers continue."""
    onward = [] if service.ageing is None else list(service.ageing.continue_to)
    return list(dict.fromkeys([*(service.moves or {}), *onward]))


def move_cycle(config: Config) -> list[str]:
    """A circle of moves (``[a, b, a]``), or ``[]`` when the moves form no circle."""
    edges = {k: onward_services(s) for k, s in config.services.items()}
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(node: str, path: list[str]) -> list[str]:
        state[node] = 1
        for nxt in edges.get(node, []):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], node, nxt] if nxt in path else [node, nxt]
            if nxt not in state:
                found = visit(nxt, [*path, node])
                if found:
                    return found
        state[node] = 2
        return []

    for key in edges:
        if key not in state:
            found = visit(key, [])
            if found:
                return found
    return []


# ---------------------------------------------------------------- plausibility

#: A placement shorter than a day on average, or cheaper than £1 a week, makes a
#: line's spend nil: a slip of units (days for weeks, thousands for pounds).
MIN_LENGTH_WEEKS = 1 / 7
MIN_WEEKLY_GBP = 1.0
#: A savings target or a month's actual spend more than this many times the
#: line's budget for the year cannot come from the line's own spend.
IMPOSSIBLE_TIMES_BUDGET = 10
#: ... and more than the budget (or a share of income above this) is implausible.
HIGH_INCOME_SHARE = 0.9


def _gbp(x: float) -> str:
    return f"£{x:,.0f}"


def _savings_by_year(service: Service, years: list[str]) -> dict[str, float]:
    return {y: sum(s.target_gbp.value(y) or 0.0 for s in service.savings.values()) for y in years}


def plausibility(config: Config) -> tuple[list[str], list[str]]:
    """Figures that cannot be right (problems) and figures that are probably wrong (warnings).

    Refused: a fixed income share of 1 (net spend always nil), placements
    shorter than a day or cheaper than £1 a week on average, a cost line of
    under £1 a year, and a year's savings target or a month's actual spend of
    more than ten times the line's budget for the year. Warned of: savings above
    the line's budget, an income share above 90%, a month's actual spend above
    the year's budget or a refund above a month's budget, a placements line with
    no placements at all, and the same snapshot placement listed twice.

    Returns
    -------
    problems, warnings : list of str
        One line each, ``field = value: why``.
    """
    problems: list[str] = []
    warnings: list[str] = []
    years = config.fy_labels
    snapshot_services = (
        {row.service for row in config.snapshot.placements} if config.snapshot else set()
    )
    for key, service in config.services.items():
        where = loc("services", key)
        share = service.income.share.median()
        if share >= 1:
            problems.append(
                f"{where}.income.share = {share:g}: all of the line's cost would be recovered, "
                "so its net spend is always nil: give the share actually recovered (below 1)"
            )
        elif share > HIGH_INCOME_SHARE:
            warnings.append(
                f"{where}.income.share: a median of {share:.0%} of the line's cost is recovered "
                "as income: check the figure (0.3 is 30%)"
            )
        problems += _nil_spend(where, service)
        if (
            service.kind == "placements"
            and (service.caseload is None or service.caseload.count == 0)
            and key not in snapshot_services
            and not service.arrivals.per_year.is_uncertain
            and service.arrivals.per_year.median() == 0
            and any((service.budget_gbp.value(y) or 0) > 0 for y in years)
        ):
            warnings.append(
                f"{where}: no placement is open at the start and none arrives (arrivals.per_year "
                "= 0), so the line's spend is nil against a budget: check caseload and arrivals"
            )
        for year, target in _savings_by_year(service, years).items():
            budget = service.budget_gbp.value(year) or 0.0
            path = f"{where}.savings" + (
                f".{next(iter(service.savings))}.target_gbp" if len(service.savings) == 1 else ""
            )
            text = f"{path}: {_gbp(target)} of savings in {year}"
            if budget > 0 and target > IMPOSSIBLE_TIMES_BUDGET * budget:
                problems.append(
                    f"{text} is more than {IMPOSSIBLE_TIMES_BUDGET} times the line's budget "
                    f"({_gbp(budget)}): a line cannot save more than it spends (pounds, not "
                    "thousands?)"
                )
            elif target > budget:
                warnings.append(
                    f"{text} is more than the line's budget ({_gbp(budget)}), which is net of "
                    "savings: check the figure"
                )
    if config.actuals is not None:
        _actuals_scale(config, problems, warnings)
        warnings += _as_of_caseload(config)
    if config.snapshot is not None:
        warnings += _repeated_placements(config)
    warnings += _truncated_away_from_mean(config)
    warnings += _placeholder_budgets(config)
    return problems, warnings


def _placeholder_budgets(config: Config) -> list[str]:
    """Budgets that ``calibrate`` wrote as stand-ins (trial defect 13): one line for all."""
    labels = config.placeholder_budgets
    if not labels:
        return []
    named = ", ".join(labels[:4]) + (f" and {len(labels) - 4} more" if len(labels) > 4 else "")
    return [
        f"budget_gbp of {named} {'is a placeholder' if len(labels) == 1 else 'are placeholders'} "
        "(budget_placeholder = true): the model's own mean cost, not a budget, so every "
        "overspend figure is meaningless until you enter the real budgets and delete "
        "budget_placeholder"
    ]


def _truncated_away_from_mean(config: Config) -> list[str]:
    """Truncated normals whose mean lies outside their own bounds (trial defect 7).

    Valid, but every draw then piles against one bound: a fitted trend once came
    out as mean 27.5 between -0.9 and 2.0. Said, not refused, since a tail
    truncation can be meant.
    """
    from simulator.config.distributions import Normal
    from simulator.config.inputs import config_inputs

    found = []
    for name, param, _ in config_inputs(config):
        if not isinstance(param, Normal) or (param.low is None and param.high is None):
            continue
        low = -math.inf if param.low is None else param.low
        high = math.inf if param.high is None else param.high
        if not low <= param.mean <= high:
            found.append(
                f"{name}: a normal with mean {param.mean:g} truncated to [{low:g}, {high:g}] "
                "draws only near a bound: is the mean what was meant?"
            )
    return list(dict.fromkeys(found))


def _nil_spend(where: str, service: Service) -> list[str]:
    """Lengths or costs so small the line's spend would be nil."""
    problems = []
    if service.length is not None:
        for name in ("median_weeks", "mean_weeks"):
            param = getattr(service.length, name)
            if param is not None and param.median() < MIN_LENGTH_WEEKS:
                problems.append(
                    f"{where}.length.{name}: a placement would last {param.median():g} weeks, "
                    "under a day: lengths are in weeks"
                )
    if service.unit_cost is not None:
        for name in ("mean_gbp_per_week", "high_cost_mean_gbp_per_week"):
            param = getattr(service.unit_cost, name)
            if param is not None and param.median() < MIN_WEEKLY_GBP:
                problems.append(
                    f"{where}.unit_cost.{name}: {param.median():g} GBP a week is under £1: "
                    "weekly costs are in pounds"
                )
    if service.cost is not None:
        annual = service.cost.annual_gbp.median()
        if 0 < annual < 1:
            problems.append(
                f"{where}.cost.annual_gbp: {annual:g} GBP a year is under £1: give the annual "
                "cost in pounds (or 0 for none)"
            )
    return problems


def _restart_lists(config: Config) -> list[str]:
    """Per-placement caseload lists that cannot describe the actual caseload on the as-of date."""
    if config.snapshot is not None:
        return []
    problems = []
    month = config.actuals.as_of.strftime("%Y-%m")
    for key, actual in config.as_of_caseload.items():
        service = config.services.get(key)
        load = None if service is None else service.caseload
        for name in ("elapsed_weeks", "weekly_cost_gbp"):
            given = None if load is None else getattr(load, name)
            if isinstance(given, list) and len(given) != actual:
                problems.append(
                    f"{loc('services', key, 'caseload', name)}: lists {len(given)} placements, "
                    f"but the actuals' caseload of {actual} at the end of {month} restarts the "
                    f"simulation: give one number for all (elapsed_weeks), leave it out, or give "
                    f"a [snapshot] of the placements open on {config.actuals.as_of}"
                )
    return problems


def _as_of_caseload(config: Config) -> list[str]:
    """What the simulation starts from on the as-of date, where it may surprise (defect 12).

    With a snapshot, the actuals' month-end caseload is checked against it; without
    one, a placements line whose actuals give no caseload for the as-of month starts
    from ``caseload.open``, which is then said.
    """
    act = config.actuals
    month = act.as_of.strftime("%Y-%m")
    actual = config.as_of_caseload
    # Counted once: a snapshot may list a million placements.
    listed_by = Counter(r.service for r in config.snapshot.placements) if config.snapshot else {}
    warnings = []
    for key, service in config.services.items():
        if service.kind != "placements" or config.actual_months == 0:
            continue
        where = loc("services", key)
        if config.snapshot is not None:
            listed = listed_by.get(key, 0)
            if key in actual and actual[key] != listed:
                warnings.append(
                    f"actuals: {key} {month}: caseload = {actual[key]} at the month end, but the "
                    f"snapshot lists {listed} placements open on {act.as_of}: the simulation "
                    "starts from the snapshot; check which is right"
                )
        elif key not in actual:
            open_ = 0 if service.caseload is None else service.caseload.count
            warnings.append(
                f"{where}.caseload.open = {open_} is taken as the placements open on "
                f"{act.as_of}, since the actuals give no caseload for {key} in {month}: add "
                "the month-end caseload to the actuals (or a snapshot) if it has changed"
            )
    return warnings


def _actuals_scale(config: Config, problems: list[str], warnings: list[str]) -> None:
    """Months of actual spend out of all proportion to the line's budget."""
    fy_of = {}
    grid = month_grid(parse_fy(config.horizon.start), config.horizon.years)
    for label, index in zip(grid.month_labels(), grid.fy_index, strict=True):
        fy_of[label] = config.fy_labels[index]
    act = config.actuals
    for i, row in enumerate(act.months):
        service = config.services.get(row.service)
        year = fy_of.get(row.month)
        if service is None or year is None:
            continue
        budget = service.budget_gbp.value(year) or 0.0
        spend = row.net_spend_gbp
        what = f"{row.service} {row.month}"
        where = f"actuals.months[{i}] (" + (f"{act.source}, {what})" if act.source else f"{what})")
        text = f"{where}: net_spend_gbp = {spend:,.0f}"
        if abs(spend) > IMPOSSIBLE_TIMES_BUDGET * max(budget, 100_000):
            problems.append(
                f"{text} is more than {IMPOSSIBLE_TIMES_BUDGET} times the line's budget for the "
                f"whole of {year} ({_gbp(budget)}): check the amount (pounds, not pence?)"
            )
        elif spend > budget:
            warnings.append(
                f"{text} is more than the line's budget for the whole of {year} "
                f"({_gbp(budget)}): check the amount"
            )
        elif spend < -budget / 12:
            warnings.append(
                f"{text} is a refund larger than a month's budget ({_gbp(budget / 12)}): check "
                "the sign"
            )


def _repeated_placements(config: Config) -> list[str]:
    """The same placement (service, start, cost, planned end) listed more than once."""
    snap = config.snapshot
    first: dict[tuple, list[int]] = {}
    for i, row in enumerate(snap.placements):
        key = (row.service, row.start_date, row.weekly_cost_gbp, row.planned_end_date)
        first.setdefault(key, []).append(i)
    warnings = []
    for (service, start, _, _), where in first.items():
        if len(where) > 1:
            rows = ", ".join(f"[{i}]" for i in where[:5]) + (" ..." if len(where) > 5 else "")
            source = f" ({snap.source} rows {', '.join(str(i + 2) for i in where[:5])})"
            warnings.append(
                f"snapshot.placements{rows}{source if snap.source else ''}: the same placement "
                f"({service}, started {start}) is listed {len(where)} times: if they are "
                "different placements this is right; if not, remove the copies"
            )
    return warnings


def config_warnings(config: Config) -> tuple[str, ...]:
    """The warnings of a checked config (see :func:`plausibility`)."""
    return tuple(plausibility(config)[1])
