"""Council configuration: TOML in, typed and validated objects out.

Every mistake in a config becomes a :class:`ConfigError` whose lines each name
the file, the field path, the value given and what is allowed, e.g.::

    county.toml: services.childrens_homes.length.median_weeks = -3: must be > 0 (weeks)

The field-by-field reference, with units, is ``docs/config.md``.
"""

from __future__ import annotations

import datetime as dt
import difflib
import math
import re
import tomllib
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import tomli_w
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    PlainValidator,
    ValidationError,
    model_validator,
)

from simulator.config.calendar import fy_label, month_grid, parse_fy
from simulator.config.distributions import Fixed, Param, Support, parse_param
from simulator.config.inputs import allowed
from simulator.errors import UserError
from simulator.files import defer_interrupts

# What each kind of uncertain field allows. Units appear in error messages.

_ID = re.compile(r"^[a-z][a-z0-9_]*$")
MAX_OPEN = 1_000_000


def Uncertain(field: Support):
    """Annotated type of a config number that may be a distribution."""
    return Annotated[
        Param,
        PlainValidator(lambda v: parse_param(v, field)),
        PlainSerializer(lambda p: p.to_toml()),
    ]


def OptionalUncertain(field: Support):
    """Like :func:`Uncertain`, but may be left out (``None``)."""
    return Annotated[
        Param | None,
        PlainValidator(lambda v: None if v is None else parse_param(v, field)),
        PlainSerializer(lambda p: None if p is None else p.to_toml()),
    ]


@dataclass(frozen=True)
class ByYear:
    """Money given per financial year: one number for every year, or a table by year.

    Attributes
    ----------
    every_year : float or None
        The amount for each year, when one number was given.
    table : dict of str to float
        Amounts keyed by financial-year label, when a table was given.
    """

    every_year: float | None
    table: dict[str, float]

    def value(self, label: str) -> float | None:
        """The amount for financial year ``label`` (``None`` when not given)."""
        return self.every_year if self.every_year is not None else self.table.get(label)

    def to_toml(self) -> Any:
        """As written in a resolved config."""
        return self.every_year if self.every_year is not None else dict(self.table)


def _parse_by_year(raw: Any) -> ByYear:
    if isinstance(raw, ByYear):
        return raw
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        if not (math.isfinite(raw) and 0 <= raw <= 1e11):
            raise ValueError("must be between 0 and 1e11 (GBP)")
        return ByYear(float(raw), {})
    if isinstance(raw, dict):
        table = {}
        for key, value in raw.items():
            parse_fy(key)  # raises a clear ValueError for a bad label
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError(f"the amount for {key} = {value!r} must be a number (GBP)")
            if not (math.isfinite(value) and 0 <= value <= 1e11):
                raise ValueError(
                    f"the amount for {key} = {value!r} must be between 0 and 1e11 (GBP)"
                )
            table[key] = float(value)
        return ByYear(None, table)
    raise ValueError(
        f"must be a number (GBP, the same each year) or a table by year such as "
        f'{{ "2024/25" = 12_500_000, "2025/26" = 13_100_000 }}, got {raw!r}'
    )


MoneyByYear = Annotated[
    ByYear, PlainValidator(_parse_by_year), PlainSerializer(lambda b: b.to_toml())
]


def _parse_fy_label(raw: Any) -> str:
    if not isinstance(raw, str):
        raise ValueError(f"must be a financial year written like '2024/25', got {raw!r}")
    parse_fy(raw)
    return raw


FinancialYear = Annotated[str, PlainValidator(_parse_fy_label)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Council(_Model):
    """Who the model is for."""

    name: str = Field(min_length=1, max_length=200)


class Horizon(_Model):
    """Which financial years are simulated."""

    start: FinancialYear
    years: int = Field(ge=1, le=5)


class RunSettings(_Model):
    """Default run settings (the command line can override them)."""

    draws: int = Field(10_000, ge=1, le=10_000_000)
    seed: int = Field(1, ge=0, le=2**63 - 1)


class Factor(_Model):
    """A shared inflation factor: one uplift each April, common to every service using it."""

    description: str = ""
    uplift: Uncertain(allowed("factor", "uplift"))
    by_year: dict[str, Uncertain(allowed("factor", "uplift"))] = Field(default_factory=dict)


class Inflation(_Model):
    """Price base and shared inflation factors."""

    price_base: FinancialYear | None = None
    factors: dict[str, Factor] = Field(default_factory=dict)


class Caseload(_Model):
    """Placements open at the start of the horizon."""

    open: int | None = Field(None, ge=0, le=MAX_OPEN)
    elapsed_weeks: float | list[float] | None = None
    weekly_cost_gbp: list[float] | None = None

    @model_validator(mode="after")
    def _lists_match(self) -> Caseload:
        n = self.count
        if isinstance(self.elapsed_weeks, list):
            if self.open is not None and len(self.elapsed_weeks) != self.open:
                raise ValueError(
                    f"elapsed_weeks lists {len(self.elapsed_weeks)} placements but open = "
                    f"{self.open}: give one elapsed time per open placement"
                )
            bad = [x for x in self.elapsed_weeks if not (0 <= x <= 100_000)]
        elif self.elapsed_weeks is not None:
            if self.open is None:
                raise ValueError(
                    "elapsed_weeks is one number for all open placements, so give open = ... too"
                )
            bad = [] if 0 <= self.elapsed_weeks <= 100_000 else [self.elapsed_weeks]
        else:
            bad = []
        if bad:
            raise ValueError(f"elapsed_weeks = {bad[0]!r} must be between 0 and 100000 (weeks)")
        if n > MAX_OPEN:
            raise ValueError(f"at most {MAX_OPEN} open placements, got {n}")
        if self.weekly_cost_gbp is not None:
            if len(self.weekly_cost_gbp) != n:
                raise ValueError(
                    f"weekly_cost_gbp lists {len(self.weekly_cost_gbp)} costs for {n} open "
                    "placements: give one cost per open placement"
                )
            if any(not (0 < c <= 1_000_000) for c in self.weekly_cost_gbp):
                raise ValueError("weekly_cost_gbp values must be > 0 and <= 1000000 (GBP per week)")
        return self

    @property
    def count(self) -> int:
        """Number of placements open at the start."""
        if isinstance(self.elapsed_weeks, list):
            return len(self.elapsed_weeks)
        return self.open or 0


class Arrivals(_Model):
    """New placements: a yearly rate with an uncertain growth trend and extra-Poisson spread."""

    per_year: Uncertain(allowed("placements", "arrivals.per_year"))
    growth: Uncertain(allowed("placements", "arrivals.growth")) = Fixed(0.0)
    dispersion: float = Field(0.0, ge=0.0, le=10.0)
    seasonality: list[float] | None = None

    @model_validator(mode="after")
    def _season(self) -> Arrivals:
        s = self.seasonality
        if s is not None:
            if len(s) != 12:
                raise ValueError(
                    f"seasonality has {len(s)} values: give 12 relative weights, April to March"
                )
            if any(not (math.isfinite(x) and 0 <= x <= 1e6) for x in s) or sum(s) <= 0:
                raise ValueError("seasonality weights must be between 0 and 1e6 and not all zero")
        return self


LENGTH_FAMILIES = ("lognormal", "gamma", "weibull", "exponential")
_SHAPE_KEY = {"lognormal": "sigma", "gamma": "shape", "weibull": "shape", "exponential": None}


class Length(_Model):
    """How long a placement lasts, in weeks."""

    dist: Literal["lognormal", "gamma", "weibull", "exponential"]
    median_weeks: OptionalUncertain(allowed("placements", "length.median_weeks")) = None
    mean_weeks: OptionalUncertain(allowed("placements", "length.mean_weeks")) = None
    sigma: OptionalUncertain(allowed("placements", "length.sigma")) = None
    shape: OptionalUncertain(allowed("placements", "length.shape")) = None

    @model_validator(mode="after")
    def _one_scale_right_shape(self) -> Length:
        if (self.median_weeks is None) == (self.mean_weeks is None):
            raise ValueError("give exactly one of median_weeks or mean_weeks")
        wanted = _SHAPE_KEY[self.dist]
        for key in ("sigma", "shape"):
            given = getattr(self, key) is not None
            if key == wanted and not given:
                raise ValueError(f"a {self.dist} length needs {key}")
            if key != wanted and given:
                takes = f"takes {wanted}" if wanted else "takes no shape parameter"
                raise ValueError(f"{key} is not used by a {self.dist} length (it {takes})")
        return self


class UnitCost(_Model):
    """Weekly cost of a placement, at price-base prices."""

    mean_gbp_per_week: Uncertain(allowed("placements", "unit_cost.mean_gbp_per_week"))
    cv: float = Field(0.0, ge=0.0, le=5.0)
    high_cost_share: Uncertain(allowed("placements", "unit_cost.high_cost_share")) = Fixed(0.0)
    high_cost_mean_gbp_per_week: OptionalUncertain(
        allowed("placements", "unit_cost.high_cost_mean_gbp_per_week")
    ) = None
    high_cost_cv: float = Field(0.0, ge=0.0, le=5.0)

    @model_validator(mode="after")
    def _tail(self) -> UnitCost:
        has_share = self.high_cost_share.is_uncertain or self.high_cost_share.median() > 0
        if has_share and self.high_cost_mean_gbp_per_week is None:
            raise ValueError("high_cost_share is set, so high_cost_mean_gbp_per_week is needed")
        return self


class CostLine(_Model):
    """A non-placement budget line: a cost with growth and month-to-month spread."""

    annual_gbp: Uncertain(allowed("cost", "cost.annual_gbp"))
    growth: Uncertain(allowed("cost", "cost.growth")) = Fixed(0.0)
    monthly_cv: float = Field(0.0, ge=0.0, le=2.0)


class ServiceInflation(_Model):
    """How a service's prices move each April."""

    factors: dict[str, float] = Field(default_factory=dict)
    extra: Uncertain(allowed("service", "inflation.extra")) = Fixed(0.0)


class Income(_Model):
    """Share of gross cost recovered (health or client contributions)."""

    share: Uncertain(allowed("service", "income.share")) = Fixed(0.0)


class Saving(_Model):
    """A savings or mitigation programme."""

    label: str = ""
    target_gbp: MoneyByYear
    delivery: Uncertain(allowed("saving", "delivery")) = Fixed(1.0)


_PLACEMENT_SECTIONS = ("caseload", "arrivals", "length", "unit_cost")


class Service(_Model):
    """A budget line."""

    label: str | None = None
    department: str = ""
    kind: Literal["placements", "cost"] = "placements"
    budget_gbp: MoneyByYear
    caseload: Caseload | None = None
    arrivals: Arrivals | None = None
    length: Length | None = None
    unit_cost: UnitCost | None = None
    cost: CostLine | None = None
    inflation: ServiceInflation = Field(default_factory=ServiceInflation)
    income: Income = Field(default_factory=Income)
    savings: dict[str, Saving] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _sections_fit_kind(self) -> Service:
        if self.kind == "placements":
            for key in ("arrivals", "length", "unit_cost"):
                if getattr(self, key) is None:
                    raise ValueError(f"a placements service needs a [{key}] section")
            if self.cost is not None:
                raise ValueError(
                    "[cost] is for kind = 'cost' lines; a placements service uses "
                    "caseload, arrivals, length and unit_cost"
                )
        else:
            if self.cost is None:
                raise ValueError("a kind = 'cost' line needs a [cost] section")
            extra = [k for k in _PLACEMENT_SECTIONS if getattr(self, k) is not None]
            if extra:
                raise ValueError(
                    f"[{extra[0]}] is for placements services, not kind = 'cost' lines"
                )
        return self


class SnapshotPlacement(_Model):
    """One placement open on the snapshot date."""

    service: str
    start_date: dt.date
    weekly_cost_gbp: float | None = Field(None, gt=0, le=1_000_000)
    planned_end_date: dt.date | None = None


class Snapshot(_Model):
    """Today's caseload, placement by placement (replaces the services' [caseload])."""

    as_of: dt.date
    file: str | None = None
    source: str = ""
    extension_probability: Uncertain(allowed("snapshot", "extension_probability")) = Fixed(0.0)
    placements: list[SnapshotPlacement] = Field(default_factory=list)


class ActualMonth(_Model):
    """Actual net spend of one service in one month."""

    service: str
    month: Annotated[str, Field(pattern=r"^\d{4}-\d{2}$")]
    net_spend_gbp: float = Field(ge=-1e11, le=1e11)
    caseload: int | None = Field(None, ge=0, le=MAX_OPEN)


class Actuals(_Model):
    """Actual spend to date: those months are fixed and the rest of the year is simulated."""

    as_of: dt.date
    file: str | None = None
    source: str = ""
    months: list[ActualMonth] = Field(default_factory=list)
    forecast_overspend_gbp: dict[str, Annotated[float, Field(ge=-1e11, le=1e11)]] = Field(
        default_factory=dict
    )


class Scenario(_Model):
    """A named what-if: changes laid over the base config (same layout as the config)."""

    description: str = ""
    changes: dict[str, Any] = Field(default_factory=dict)


class Config(_Model):
    """A whole council model: horizon, inflation factors, services and scenarios."""

    council: Council
    horizon: Horizon
    run: RunSettings = Field(default_factory=RunSettings)
    inflation: Inflation = Field(default_factory=Inflation)
    services: dict[str, Service] = Field(min_length=1)
    snapshot: Snapshot | None = None
    actuals: Actuals | None = None
    scenarios: dict[str, Scenario] = Field(default_factory=dict)

    @property
    def fy_labels(self) -> list[str]:
        """Labels of the horizon's financial years."""
        start = parse_fy(self.horizon.start)
        return [fy_label(start + i) for i in range(self.horizon.years)]

    @property
    def price_base(self) -> str:
        """Financial year whose prices the unit costs are given in."""
        return self.inflation.price_base or self.horizon.start

    @property
    def uplift_years(self) -> list[str]:
        """Financial years in which an April uplift takes effect, in order."""
        base, last = parse_fy(self.price_base), parse_fy(self.fy_labels[-1])
        return [fy_label(y) for y in range(base + 1, last + 1)]

    @property
    def as_of(self) -> dt.date | None:
        """The date the simulation starts from, when actuals or a snapshot give one."""
        for part in (self.actuals, self.snapshot):
            if part is not None:
                return part.as_of
        return None

    @property
    def actual_months(self) -> int:
        """Months from the horizon start fixed at actuals (0 without an as-of date)."""
        if self.as_of is None:
            return 0
        start = parse_fy(self.horizon.start)
        return (self.as_of.year - start) * 12 + self.as_of.month - 4 + 1

    def service_label(self, key: str) -> str:
        """The display name of service ``key``."""
        return self.services[key].label or key.replace("_", " ").capitalize()


# --------------------------------------------------------------------------- errors


class ConfigError(UserError):
    """A config that cannot be used, with every problem found.

    Attributes
    ----------
    source : str
        The file (or other source) name.
    problems : list of str
        One line per problem: ``field.path = value: what is allowed``.
    """

    def __init__(self, source: str, problems: list[str]):
        self.source = source
        # One line per problem, even when a key or value holds a line break.
        self.problems = [_one_line(p) for p in problems]
        super().__init__("\n".join(f"{source}: {p}" for p in self.problems))


def _one_line(text: str) -> str:
    """Escape control characters (line breaks, tabs) so a message stays on one line."""
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)


def _format_loc(loc: tuple) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            text = str(part)
            if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", text):
                text = f'"{text}"'
            out += f".{text}" if out else text
    return out or "(top level)"


def _show(value: Any) -> str | None:
    if isinstance(value, dict | list):
        text = repr(value)
        return text if len(text) <= 60 else None
    return repr(value)


def _unwrap(annotation: Any) -> Any:
    """Strip Annotated/Optional wrappers down to the model class or container."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            annotation = args[0]
        else:
            return annotation


def _model_at(loc: tuple) -> Any:
    """The config class at ``loc`` (``None`` when it is not a model)."""
    current: Any = Config
    for part in loc:
        current = _unwrap(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = current.model_fields.get(str(part))
            if field is None:
                return None
            current = field.annotation
        elif typing.get_origin(current) in (dict, list):
            current = typing.get_args(current)[-1]
        else:
            return None
    current = _unwrap(current)
    if typing.get_origin(current) in (dict, list):
        return None
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _message(error: dict) -> str:
    loc, kind = tuple(error["loc"]), error["type"]
    if kind == "extra_forbidden":
        parent = _model_at(loc[:-1])
        allowed = sorted(parent.model_fields) if parent else []
        near = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
        hint = f" (did you mean '{near[0]}'?)" if near else ""
        return f"unknown field{hint}; allowed here: {', '.join(allowed)}"
    if kind == "missing":
        return "is required but missing"
    msg = error["msg"]
    for prefix in ("Value error, ", "Assertion failed, "):
        msg = msg.removeprefix(prefix)
    return msg[0].lower() + msg[1:] if msg else msg


def _pydantic_problems(exc: ValidationError) -> list[str]:
    problems = []
    for error in exc.errors():
        path = _format_loc(tuple(error["loc"]))
        shown = None if error["type"] == "missing" else _show(error.get("input"))
        head = f"{path} = {shown}" if shown is not None else path
        problems.append(f"{head}: {_message(error)}")
    return problems


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


def _cross_check(config: Config) -> list[str]:
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
        if not _ID.match(name):
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
        if not _ID.match(key) or key == "total":
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
            if not _ID.match(sid):
                problems.append(
                    f"{where}.savings.{sid}: a programme name must be lower_case_with_underscores"
                )
            problems += _check_by_year(
                f"{where}.savings.{sid}.target_gbp", saving.target_gbp, horizon, False
            )
    return problems


# --------------------------------------------------------------------------- scenarios


def _overlay(base: dict, changes: dict) -> dict:
    """``base`` with ``changes`` laid over it: tables merge key by key, values replace."""
    out = dict(base)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict) and "dist" not in value:
            out[key] = _overlay(out[key], value)
        else:
            out[key] = value
    return out


def scenario_config(config: Config, name: str, source: str = "<config>") -> Config:
    """The config of scenario ``name``: the base with the scenario's changes laid over it.

    Parameters
    ----------
    config : Config
    name : str
        A key of ``config.scenarios``.
    source : str
        Name used in error messages.

    Returns
    -------
    Config
        Without scenarios of its own.

    Raises
    ------
    ConfigError
        When the changed config is invalid; paths are given inside the scenario.
    """
    if name not in config.scenarios:
        known = ", ".join(config.scenarios) or "none are defined"
        raise ConfigError(source, [f"no scenario named {name!r} (defined: {known})"])
    base = as_dict(config)
    base.pop("scenarios", None)
    data = _overlay(base, config.scenarios[name].changes)
    try:
        return config_from_dict(data, source)
    except ConfigError as exc:
        prefix = f"scenarios.{name}.changes: "
        raise ConfigError(source, [prefix + p for p in exc.problems]) from None


# --------------------------------------------------------------------------- loading


def config_from_dict(data: dict, source: str = "<config>") -> Config:
    """Validate a parsed TOML document.

    Parameters
    ----------
    data : dict
        The parsed TOML.
    source : str
        Name used in error messages (usually the file name).

    Returns
    -------
    Config

    Raises
    ------
    ConfigError
        With one line per problem.
    """
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(source, _pydantic_problems(exc)) from None
    problems = _cross_check(config)
    if problems:
        raise ConfigError(source, problems)
    for name in config.scenarios:
        if not _ID.match(name):
            raise ConfigError(
                source, [f"scenarios.{name}: a scenario name must be lower_case_with_underscores"]
            )
        scenario_config(config, name, source)  # every scenario must be a valid model too
    return config


_READERS = {"snapshot": ("placements", "read_snapshot"), "actuals": ("months", "read_actuals")}


def read_named_files(data: dict, base_dir: Path, source: str = "<config>") -> dict:
    """Replace ``snapshot.file`` and ``actuals.file`` by the rows they hold.

    Paths are relative to ``base_dir`` (the config's folder). The rows go into the
    config itself, so the resolved config reproduces the run without the files.

    Raises
    ------
    ConfigError
        Naming the CSV file, row, column and value of each problem.
    """
    from simulator.config import casefiles

    for section, (key, reader) in _READERS.items():
        part = data.get(section)
        if not isinstance(part, dict) or part.get("file") is None:
            continue
        name = part["file"]
        if not isinstance(name, str):
            raise ConfigError(source, [f"{section}.file = {name!r}: must be a file name"])
        if part.get(key):
            raise ConfigError(source, [f"{section}: give either file or {key}, not both"])
        path = base_dir / name
        rows, problems = getattr(casefiles, reader)(path)
        if problems:
            raise ConfigError(str(path), problems)
        part = {k: v for k, v in part.items() if k != "file"}
        data = {**data, section: {**part, key: rows, "source": name}}
    return data


def loads_config(text: str, source: str = "<config>", base_dir: Path | None = None) -> Config:
    """Parse and validate config TOML text (see :func:`config_from_dict`).

    ``base_dir`` is where files named in the config are looked for (default: the
    current folder).
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(source, [f"not valid TOML: {exc}"]) from None
    data = read_named_files(data, Path(".") if base_dir is None else base_dir, source)
    return config_from_dict(data, source)


def load_config(path: str | Path) -> Config:
    """Read and validate a config file.

    Parameters
    ----------
    path : str or pathlib.Path
        A TOML file.

    Returns
    -------
    Config

    Raises
    ------
    ConfigError
        When the file cannot be read or any field is invalid.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(str(path), ["no such file"]) from None
    except IsADirectoryError:
        raise ConfigError(str(path), ["is a folder, not a config file"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(str(path), [f"cannot be read: {exc}"]) from None
    return loads_config(text, path.name, path.parent)


def with_actuals(
    config: Config, as_of: str, actuals_file: str | Path, source: str = "<config>"
) -> Config:
    """The config with actuals to date from a CSV file (``overspend run --as-of --actuals``).

    Parameters
    ----------
    config : Config
    as_of : str
        The last day of the last actual month, ``YYYY-MM-DD``.
    actuals_file : str or pathlib.Path
        CSV with columns service, month, net_spend_gbp and optionally caseload.
    source : str
        The config's name, for error messages.

    Returns
    -------
    Config
    """
    from simulator.config.casefiles import parse_date

    try:
        day = parse_date(as_of)
    except ValueError as exc:
        raise ConfigError("--as-of", [str(exc)]) from None
    if config.snapshot is not None and config.snapshot.as_of != day:
        raise ConfigError(
            "--as-of",
            [
                f"{day} differs from the config's snapshot.as_of = {config.snapshot.as_of}: the "
                "snapshot lists the placements open on its own date, so give a snapshot for "
                f"{day} or use --as-of {config.snapshot.as_of}"
            ],
        )
    data = as_dict(config)
    data["actuals"] = {
        **data.get("actuals", {}),
        "as_of": day,
        "months": [],
        "file": str(actuals_file),
    }
    where = f"{source} with --actuals {actuals_file}"
    data = read_named_files(data, Path("."), where)
    return config_from_dict(data, where)


def as_dict(config: Config) -> dict:
    """The config as plain data (defaults filled in), as the TOML file would give it."""
    # pydantic turns a Ctrl-C inside a serializer into a serialization error with a
    # traceback; held back for these few milliseconds, it ends the command cleanly.
    with defer_interrupts():
        return config.model_dump(mode="python", exclude_none=True)


def dumps_config(config: Config) -> str:
    """The resolved config (defaults filled in) as TOML text that loads back identically."""
    data = as_dict(config)
    return tomli_w.dumps(data)


def resolve_run(
    config: Config | str | Path, draws: int | None = None, seed: int | None = None
) -> tuple[Config, int, int]:
    """A config (loaded when a path is given) and the draws and seed to run with.

    ``None`` takes the config's ``[run]`` values.

    Raises
    ------
    ValueError
        When draws is below 1.
    """
    if not isinstance(config, Config):
        config = load_config(config)
    draws = config.run.draws if draws is None else int(draws)
    seed = config.run.seed if seed is None else int(seed)
    if draws < 1:
        raise ValueError(f"draws = {draws}: must be at least 1")
    return config, draws, seed


DEFAULT_CONFIG = "example_county.toml"


def bundled_configs_dir() -> Path:
    """Folder of the example configs shipped with the package.

    In an installed wheel they are package data (``simulator/_bundled_configs``);
    in a source checkout (including ``pip install -e .``) they are the
    repository's ``configs/`` folder.
    """
    package = Path(__file__).resolve().parents[1]
    packaged = package / "_bundled_configs"
    return packaged if packaged.is_dir() else package.parent / "configs"


def bundled_config(name: str = DEFAULT_CONFIG) -> Path:
    """Path of a bundled example config, e.g. ``example_county.toml``."""
    return bundled_configs_dir() / name
