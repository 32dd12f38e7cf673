"""The typed config objects: field types and the pydantic models of a council config.

Each model checks its own fields (ranges, units, which keys go together); checks
that span sections are in :mod:`simulator.config.checks`, the error text in
:mod:`simulator.config.messages` and reading files in :mod:`simulator.config.load`.
:func:`as_dict` gives a config back as plain data. ``ConfigError`` and
``bundled_config`` are re-exported for callers that still take them from here.

The field-by-field reference, with units, is ``docs/config.md``.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import unicodedata
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    PlainValidator,
    model_validator,
)

from simulator.config.bundled import bundled_config as bundled_config  # re-exported
from simulator.config.calendar import LAST_YEAR, fy_label, parse_fy
from simulator.config.distributions import Fixed, Param, Support, parse_param
from simulator.config.inputs import allowed
from simulator.config.messages import ConfigError as ConfigError  # re-exported
from simulator.config.messages import FieldError, show, type_hint
from simulator.files import defer_interrupts

# What each kind of uncertain field allows. Units appear in error messages.

MAX_OPEN = 1_000_000

# Sizes: enough for any council, small enough that a run, its charts and its
# messages stay in proportion (a label is a chart title and part of a file name).
MAX_SERVICES = 200
MAX_NAMED = 50  # savings programmes of a service, inflation factors, scenarios
MAX_LABEL = 80  # service, department and programme labels
MAX_NAME = 200  # the council's name
MAX_DESCRIPTION = 500  # descriptions of factors and scenarios
MAX_PATH = 1000  # file names

# Characters that would break a message, a table or a chart: control characters
# (NUL, line breaks, tabs), lone surrogates, line and paragraph separators, and
# the bidirectional overrides that make text display in a different order.
_BIDI = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def check_text(raw: Any, max_chars: int, blank_ok: bool) -> str:
    """``raw`` as a text field's value, or a ``ValueError`` saying what is wrong."""
    if not isinstance(raw, str):
        hint = type_hint(raw, "text") if isinstance(raw, bool) else None
        raise ValueError(hint or "must be text in quotes")
    if len(raw) > max_chars:
        raise ValueError(f"is {len(raw)} characters long: at most {max_chars} are allowed")
    bad = next(
        (c for c in raw if unicodedata.category(c) in ("Cc", "Cs", "Zl", "Zp") or c in _BIDI),
        None,
    )
    if bad is not None:
        raise ValueError(
            f"holds the control character U+{ord(bad):04X}: write plain text on one line"
        )
    if raw and not raw.strip():
        raise ValueError(
            "is only spaces: write some text" + (" or leave it out" if blank_ok else "")
        )
    if not raw and not blank_ok:
        raise ValueError("is empty: write some text")
    if raw != raw.strip():
        raise ValueError("has spaces at the start or end: remove them")
    return raw


def Text(max_chars: int = MAX_LABEL, blank_ok: bool = True):
    """Annotated type of a text field: one line of printable text of at most ``max_chars``."""
    return Annotated[str, PlainValidator(lambda v: check_text(v, max_chars, blank_ok))]


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
    hint = type_hint(raw)
    if hint:
        raise ValueError(hint)
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        if not (math.isfinite(raw) and 0 <= raw <= 1e11):
            raise ValueError("must be between 0 and 1e11 (GBP)")
        return ByYear(float(raw), {})
    if isinstance(raw, dict):
        table = {}
        for key, value in raw.items():
            parse_fy(key)  # raises a clear ValueError for a bad label
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError(
                    f"the amount for {key} = {show(value)} "
                    + (type_hint(value, "a number (GBP)") or "must be a number (GBP)")
                )
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
        raise ValueError(f"must be a financial year written like '2024/25', got {show(raw)}")
    parse_fy(raw)
    return raw


FinancialYear = Annotated[str, PlainValidator(_parse_fy_label)]


class _Model(BaseModel):
    # Strict: a quoted number ("4") or true/false is not taken for a number.
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class Council(_Model):
    """Who the model is for."""

    name: Text(MAX_NAME, blank_ok=False)


class Horizon(_Model):
    """Which financial years are simulated."""

    start: FinancialYear
    years: int = Field(ge=1, le=5)

    @model_validator(mode="after")
    def _ends_in_time(self) -> Horizon:
        last = parse_fy(self.start) + self.years - 1
        if last > LAST_YEAR:
            raise FieldError(
                "years",
                self.years,
                f"the horizon would end in {fy_label(last)}: the last financial year allowed "
                f"is {fy_label(LAST_YEAR)}",
            )
        return self


class RunSettings(_Model):
    """Default run settings (the command line can override them)."""

    draws: int = Field(10_000, ge=1, le=10_000_000)
    seed: int = Field(1, ge=0, le=2**63 - 1)


class Factor(_Model):
    """A shared inflation factor: one uplift each April, common to every service using it."""

    description: Text(MAX_DESCRIPTION) = ""
    uplift: Uncertain(allowed("factor", "uplift"))
    by_year: dict[str, Uncertain(allowed("factor", "uplift"))] = Field(default_factory=dict)


class DemandFactor(_Model):
    """A shared demand factor: one shock to new placements each financial year.

    Every placement service weighted on it (``arrivals.demand``) has its arrival
    rate in that year multiplied by ``1 + weight * shock`` (summed over factors,
    never below zero), so a bad year raises several services' demand at once.
    """

    description: Text(MAX_DESCRIPTION) = ""
    shock: Uncertain(allowed("demand", "shock"))
    by_year: dict[str, Uncertain(allowed("demand", "shock"))] = Field(default_factory=dict)


class Demand(_Model):
    """Shared demand factors (see :class:`DemandFactor`)."""

    factors: dict[str, DemandFactor] = Field(default_factory=dict, max_length=MAX_NAMED)


class Inflation(_Model):
    """Price base and shared inflation factors."""

    price_base: FinancialYear | None = None
    factors: dict[str, Factor] = Field(default_factory=dict, max_length=MAX_NAMED)


def _parse_elapsed(raw: Any) -> float | list[float] | None:
    """``elapsed_weeks``: one number of weeks for every open placement, or a list of them."""
    if raw is None:
        return None
    values = raw if isinstance(raw, list) else [raw]
    if len(values) > MAX_OPEN:
        raise ValueError(f"lists {len(values)} placements: at most {MAX_OPEN}")
    for x in values:
        if isinstance(x, bool) or not isinstance(x, int | float):
            what = f"the value {show(x)} " if isinstance(raw, list) else ""
            raise ValueError(
                what
                + (
                    type_hint(x, "a number of weeks")
                    or "must be a number of weeks, or a list with one per open placement"
                )
            )
    out = [float(x) for x in values]
    return out if isinstance(raw, list) else out[0]


class Caseload(_Model):
    """Placements open at the start of the horizon."""

    open: int | None = Field(None, ge=0, le=MAX_OPEN)
    elapsed_weeks: Annotated[float | list[float] | None, PlainValidator(_parse_elapsed)] = None
    weekly_cost_gbp: list[float] | None = Field(None, max_length=MAX_OPEN)

    @model_validator(mode="after")
    def _lists_match(self) -> Caseload:
        n = self.count
        if isinstance(self.elapsed_weeks, list):
            if self.open is not None and len(self.elapsed_weeks) != self.open:
                raise ValueError(
                    f"elapsed_weeks lists {len(self.elapsed_weeks)} placements but open = "
                    f"{self.open}: give one elapsed time per open placement"
                )
            bad = [x for x in self.elapsed_weeks if not (0 <= x <= 100_000)]  # NaN too
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
    seasonality: list[float] | None = Field(None, max_length=12)
    # Weights on the shared [demand.factors]; None (not {}) when left out, so that
    # configs without them resolve exactly as before.
    demand: dict[str, float] | None = Field(None, max_length=MAX_NAMED)

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


class Move(_Model):
    """Moves of open placements to another placement service (a step-up or step-down)."""

    per_year: Uncertain(allowed("move", "per_year"))


def age_bands(shares: dict[str, float]) -> list[tuple[float, float, float]]:
    """``{"0-4": 0.3, "16-17": 0.1}`` as (from age, to age, share), ages in years.

    A band ``"a-b"`` runs from the a-th birthday to the (b+1)-th, as DfE tables
    count ages (``"16-17"`` is 16 and 17 year olds); ``"a"`` is one year of age.
    Raises ValueError naming the band when one cannot be read.
    """
    out = []
    for key, share in shares.items():
        parts = key.split("-")
        try:
            low, high = (int(parts[0]), int(parts[-1])) if len(parts) <= 2 else (None, None)
        except ValueError:
            low = high = None
        if low is None or not 0 <= low <= high or not math.isfinite(share) or share < 0:
            raise ValueError(
                f'age band {key!r} = {share!r}: give bands as "from-to" in whole years of '
                'age (e.g. "10-15") with a share of at least 0'
            )
        out.append((float(low), float(high + 1), float(share)))
    return sorted(out)


class Ageing(_Model):
    """Children's ages: placements end at ``leave_at``; a share continue in adults' services."""

    leave_at: float = Field(18.0, gt=0, le=30)
    age_at_entry: dict[str, float] = Field(min_length=1, max_length=40)
    open_ages: dict[str, float] | None = Field(None, min_length=1, max_length=40)
    continue_to: dict[str, float] = Field(default_factory=dict, max_length=MAX_NAMED)

    @model_validator(mode="after")
    def _bands_fit(self) -> Ageing:
        for name in ("age_at_entry", "open_ages"):
            shares = getattr(self, name)
            if shares is None:
                continue
            bands = age_bands(shares)
            total = sum(b[2] for b in bands)
            if abs(total - 1.0) > 1e-6:
                raise FieldError(
                    name, shares, f"the shares add up to {total:g}: they must add up to 1"
                )
            for (_, high, _), (low, _, _) in itertools.pairwise(bands):
                if low < high:
                    raise FieldError(name, shares, "two age bands overlap")
            if bands[-1][1] > self.leave_at:
                raise FieldError(name, shares, f"a band reaches past leave_at = {self.leave_at:g}")
        total = sum(self.continue_to.values())
        if any(not (math.isfinite(v) and v >= 0) for v in self.continue_to.values()) or total > 1:
            raise FieldError(
                "continue_to", self.continue_to, "shares must be at least 0 and add up to 1 or less"
            )
        return self


class Saving(_Model):
    """A savings or mitigation programme."""

    label: Text() = ""
    target_gbp: MoneyByYear
    delivery: Uncertain(allowed("saving", "delivery")) = Fixed(1.0)


_PLACEMENT_SECTIONS = ("caseload", "arrivals", "length", "unit_cost")


class Service(_Model):
    """A budget line."""

    label: Text(blank_ok=False) | None = None
    department: Text() = ""
    kind: Literal["placements", "cost"] = "placements"
    budget_gbp: MoneyByYear
    # Written by `overspend calibrate` beside its stand-in budgets; said in validate,
    # run and the report until the user enters the real budget and deletes it.
    # None (not False) by default so that configs without it resolve as before.
    budget_placeholder: bool | None = None
    caseload: Caseload | None = None
    arrivals: Arrivals | None = None
    length: Length | None = None
    unit_cost: UnitCost | None = None
    cost: CostLine | None = None
    inflation: ServiceInflation = Field(default_factory=ServiceInflation)
    income: Income = Field(default_factory=Income)
    savings: dict[str, Saving] = Field(default_factory=dict, max_length=MAX_NAMED)
    # Moves to other placement services, by destination; None (not {}) when left
    # out, so that configs without them resolve exactly as before.
    moves: dict[str, Move] | None = Field(None, max_length=MAX_NAMED)
    ageing: Ageing | None = None

    @model_validator(mode="after")
    def _sections_fit_kind(self) -> Service:
        placements = [k for k in _PLACEMENT_SECTIONS if getattr(self, k) is not None]
        if self.kind == "placements":
            if self.cost is not None:
                # The field in doubt is kind (often left to its default), not the sections.
                raise FieldError(
                    "kind",
                    self.kind,
                    "this line has a [cost] section, which is for kind = 'cost' lines: write "
                    "kind = 'cost', or give a placements service caseload, arrivals, length "
                    "and unit_cost instead of cost",
                )
            missing = [k for k in ("arrivals", "length", "unit_cost") if k not in placements]
            if missing:
                raise ValueError(
                    "a placements service needs "
                    + ", ".join(f"a [{k}] section" for k in missing)
                    + " (or kind = 'cost' and a [cost] section)"
                )
        else:
            if placements:
                raise FieldError(
                    "kind",
                    self.kind,
                    f"this line has a [{placements[0]}] section, which is for placements "
                    "services: leave kind out (or write kind = 'placements'), or give a "
                    "kind = 'cost' line only a [cost] section",
                )
            if self.cost is None:
                raise ValueError("a kind = 'cost' line needs a [cost] section")
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
    file: Text(MAX_PATH, blank_ok=False) | None = None
    source: Text(MAX_PATH) = ""
    extension_probability: Uncertain(allowed("snapshot", "extension_probability")) = Fixed(0.0)
    placements: list[SnapshotPlacement] = Field(default_factory=list, max_length=MAX_OPEN)


class ActualMonth(_Model):
    """Actual net spend of one service in one month."""

    service: str
    month: Annotated[str, Field(pattern=r"^\d{4}-\d{2}$")]
    net_spend_gbp: float = Field(ge=-1e11, le=1e11)
    caseload: int | None = Field(None, ge=0, le=MAX_OPEN)


class Actuals(_Model):
    """Actual spend to date: those months are fixed and the rest of the year is simulated."""

    as_of: dt.date
    file: Text(MAX_PATH, blank_ok=False) | None = None
    source: Text(MAX_PATH) = ""
    months: list[ActualMonth] = Field(default_factory=list, max_length=MAX_SERVICES * 60)
    forecast_overspend_gbp: dict[str, Annotated[float, Field(ge=-1e11, le=1e11)]] = Field(
        default_factory=dict
    )


class Scenario(_Model):
    """A named what-if: changes laid over the base config (same layout as the config)."""

    description: Text(MAX_DESCRIPTION) = ""
    changes: dict[str, Any] = Field(default_factory=dict)


class Config(_Model):
    """A whole council model: horizon, inflation factors, services and scenarios."""

    council: Council
    horizon: Horizon
    run: RunSettings = Field(default_factory=RunSettings)
    inflation: Inflation = Field(default_factory=Inflation)
    demand: Demand | None = None
    services: dict[str, Service] = Field(min_length=1, max_length=MAX_SERVICES)
    snapshot: Snapshot | None = None
    actuals: Actuals | None = None
    scenarios: dict[str, Scenario] = Field(default_factory=dict, max_length=MAX_NAMED)

    @property
    def warnings(self) -> tuple[str, ...]:
        """Figures that are allowed but probably wrong, one line each: ``field: why``.

        For ``validate`` and ``run`` to print (after the config's file name, as
        :class:`ConfigError` lines are); the config runs as it is. See
        :func:`simulator.config.checks.plausibility`.
        """
        from simulator.config.checks import config_warnings

        return config_warnings(self)

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

    @property
    def placeholder_budgets(self) -> tuple[str, ...]:
        """Labels of the services whose budgets are calibrate's stand-ins, not budgets."""
        return tuple(
            self.service_label(k) for k, s in self.services.items() if s.budget_placeholder
        )

    @property
    def as_of_caseload(self) -> dict[str, int]:
        """Month-end caseloads the actuals give for the as-of month, by service.

        Without a snapshot they restart the simulation: these many placements of
        the service are open on the as-of date (trial defect 12).
        """
        if self.actuals is None:
            return {}
        month = self.actuals.as_of.strftime("%Y-%m")
        return {
            row.service: row.caseload
            for row in self.actuals.months
            if row.month == month and row.caseload is not None
        }

    def service_label(self, key: str) -> str:
        """The display name of service ``key``."""
        return self.services[key].label or key.replace("_", " ").capitalize()


def as_dict(config: Config) -> dict:
    """The config as plain data (defaults filled in), as the TOML file would give it."""
    # pydantic turns a Ctrl-C inside a serializer into a serialization error with a
    # traceback; held back for these few milliseconds, it ends the command cleanly.
    with defer_interrupts():
        return config.model_dump(mode="python", exclude_none=True)
