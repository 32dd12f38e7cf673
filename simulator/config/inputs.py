"""The model's uncertain inputs, each declared once.

Every number a config may give as a distribution is one entry of :data:`INPUTS`:
where it sits in the config, the values allowed (draws are clipped into them),
its units, the words a finance officer uses for it, and a one-line description.
Everything else reads this table:

* config validation: the field types of :mod:`simulator.config.schema` take
  their allowed range from here (:func:`allowed`);
* the model: :func:`simulator.model.equations.build_plan` lists a config's inputs
  in the order of this table, named by :func:`input_name`;
* ``overspend validate`` lists the uncertain inputs in these words, and the
  results files carry each input's :attr:`InputSpec.units` (``input_units``);
* sensitivity groups and chart labels read names back with :func:`parse_name`
  and :func:`input_label`.

A new uncertain input is one entry here plus the line of model code that uses
it; ``tests/config/test_inputs.py`` fails when an entry lacks any of these.

Names are stable dotted paths, e.g. ``services.ifa.arrivals.growth``,
``services.home_care.savings.reablement.delivery``,
``inflation.factors.nlw.uplift[2025/26]`` (one input per April uplift).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from simulator.config.distributions import Param, Support, support

if TYPE_CHECKING:
    from simulator.config.schema import Config

# Allowed ranges shared by several inputs (the units shown in error messages).
WEEKS = support("weeks", 0, 100_000, low_open=True)
SIGMA = support("log-scale standard deviation", 0, 5)
SHAPE = support("shape, no units", 0.05, 100)
FRACTION = support("fraction", 0, 1)
GROWTH = support("fraction per year", -0.9, 2)
UPLIFT = support("fraction per year", -0.5, 1)
SHOCK = support("fraction", -1, 2)
MOVE_RATE = support("moves per placement per year", 0, 52)
PER_YEAR = support("placements per year", 0, 1_000_000)
GBP_PER_WEEK = support("GBP per week", 0, 1_000_000, low_open=True)
GBP_PER_YEAR = support("GBP per year", 0, 1e11)

#: Where an input sits: each owner's name prefix, and what has one, in words.
OWNERS = {
    "factor": ("inflation.factors.<factor>", "each shared inflation factor"),
    "demand": ("demand.factors.<factor>", "each shared demand factor"),
    "placements": ("services.<service>", "each placement service"),
    "cost": ("services.<service>", 'each cost line (kind = "cost")'),
    "service": ("services.<service>", "every service"),
    "saving": ("services.<service>.savings.<saving>", "each savings programme"),
    "move": ("services.<service>.moves.<to>", "each move from one placement service to another"),
    "snapshot": ("snapshot", "the caseload snapshot"),
}


@dataclass(frozen=True)
class InputSpec:
    """One kind of uncertain input.

    Attributes
    ----------
    path : str
        Where it sits under its owner, e.g. ``"arrivals.growth"``.
    owner : str
        One of :data:`OWNERS`.
    allowed : Support
        Values allowed; draws outside are clipped into them.
    units : str
        Units of its values in results files (UDUNITS style, ``"1"`` for none).
    words : str
        What a finance officer calls it, e.g. ``"demand growth"``.
    description : str
        One line saying what it is.
    per_year : bool
        One input per April uplift of the horizon (inflation), or per financial
        year of the horizon for a demand factor's shocks (see :func:`years_of`).
    """

    path: str
    owner: str
    allowed: Support
    units: str
    words: str
    description: str
    per_year: bool = False

    @property
    def key(self) -> str:
        """The owner and path together, e.g. ``"placements:arrivals.growth"``."""
        return f"{self.owner}:{self.path}"


#: Every uncertain input, in the order the model lists them (its design columns).
INPUTS: tuple[InputSpec, ...] = (
    InputSpec(
        "uplift",
        "factor",
        UPLIFT,
        "1/year",
        "price rise",
        "the factor's uplift to prices each April (0.05 is 5%)",
        per_year=True,
    ),
    InputSpec(
        "shock",
        "demand",
        SHOCK,
        "1",
        "demand shock",
        "the factor's shock to new placements in a financial year, shared by the services "
        "weighted on it (0.1 is 10% more)",
        per_year=True,
    ),
    InputSpec(
        "arrivals.per_year",
        "placements",
        PER_YEAR,
        "placements/year",
        "new placements a year",
        "new placements a year at the start of the horizon",
    ),
    InputSpec(
        "arrivals.growth",
        "placements",
        GROWTH,
        "1/year",
        "demand growth",
        "yearly growth of new placements, compounding (0.05 is 5% a year)",
    ),
    InputSpec(
        "length.median_weeks",
        "placements",
        WEEKS,
        "weeks",
        "placement length",
        "median length of a placement",
    ),
    InputSpec(
        "length.mean_weeks",
        "placements",
        WEEKS,
        "weeks",
        "placement length",
        "mean length of a placement",
    ),
    InputSpec(
        "length.sigma",
        "placements",
        SIGMA,
        "1",
        "spread of placement lengths",
        "log-scale standard deviation of lognormal placement lengths",
    ),
    InputSpec(
        "length.shape",
        "placements",
        SHAPE,
        "1",
        "shape of placement lengths",
        "shape of gamma or Weibull placement lengths",
    ),
    InputSpec(
        "unit_cost.mean_gbp_per_week",
        "placements",
        GBP_PER_WEEK,
        "GBP/week",
        "weekly cost",
        "mean weekly cost of a placement at price-base prices",
    ),
    InputSpec(
        "unit_cost.high_cost_share",
        "placements",
        FRACTION,
        "1",
        "share of high-cost placements",
        "fraction of new placements that are high-cost",
    ),
    InputSpec(
        "unit_cost.high_cost_mean_gbp_per_week",
        "placements",
        GBP_PER_WEEK,
        "GBP/week",
        "weekly cost of high-cost placements",
        "mean weekly cost of a high-cost placement at price-base prices",
    ),
    InputSpec(
        "cost.annual_gbp",
        "cost",
        GBP_PER_YEAR,
        "GBP/year",
        "annual cost",
        "yearly cost of a non-placement line at the start of the horizon",
    ),
    InputSpec(
        "cost.growth",
        "cost",
        GROWTH,
        "1/year",
        "cost growth",
        "yearly growth of a non-placement line's cost, compounding",
    ),
    InputSpec(
        "inflation.extra",
        "service",
        UPLIFT,
        "1/year",
        "extra price rise",
        "the service's own price rise each April on top of the shared factors",
        per_year=True,
    ),
    InputSpec(
        "income.share",
        "service",
        FRACTION,
        "1",
        "income share",
        "fraction of gross spend recovered as income (health, client contributions)",
    ),
    InputSpec(
        "per_year",
        "move",
        MOVE_RATE,
        "1/year",
        "move rate",
        "rate at which each open placement moves to the named service, per year (0.08 is 8% "
        "a year)",
    ),
    InputSpec(
        "delivery",
        "saving",
        FRACTION,
        "1",
        "delivery",
        "fraction of a savings programme's target delivered",
    ),
    InputSpec(
        "extension_probability",
        "snapshot",
        FRACTION,
        "1",
        "snapshot extension probability",
        "chance a snapshot placement runs on past its planned end",
    ),
)

_BY_KEY = {spec.key: spec for spec in INPUTS}


def spec(owner: str, path: str) -> InputSpec:
    """The entry for ``path`` under ``owner``, e.g. ``spec("placements", "arrivals.growth")``."""
    return _BY_KEY[f"{owner}:{path}"]


def allowed(owner: str, path: str) -> Support:
    """The values allowed for an input: what config validation checks against."""
    return spec(owner, path).allowed


def of_owner(owner: str) -> tuple[InputSpec, ...]:
    """The entries of one owner, in table order."""
    return tuple(s for s in INPUTS if s.owner == owner)


# ------------------------------------------------------------------ a config's inputs


def _param_at(owner_object, path: str) -> Param | None:
    """The config value at a dotted ``path`` below a config object (``None`` if left out)."""
    for part in path.split("."):
        owner_object = getattr(owner_object, part)
    return owner_object


def config_inputs(config: Config) -> list[tuple[str, Param, InputSpec]]:
    """Every input a config gives, fixed or uncertain: ``(name, value, entry)``.

    In a fixed order, which is the order of the model's design columns: the
    shared factors (each April), then each service (its kind's entries, then
    those of every service, then each savings programme), then the snapshot.
    """
    found: list[tuple[str, Param, InputSpec]] = []
    years = config.uplift_years
    shared = [("factor", config.inflation.factors, years)]
    if config.demand is not None:  # each financial year of the horizon has its own shock
        shared.append(("demand", config.demand.factors, config.fy_labels))
    for owner, factors, factor_years in shared:
        for name, factor in factors.items():
            for entry in of_owner(owner):
                for year in factor_years:
                    param = factor.by_year.get(year, _param_at(factor, entry.path))
                    found.append((input_name(entry, factor=name, year=year), param, entry))
    for key, svc in config.services.items():
        owned = [(entry, svc, {}) for entry in of_owner(svc.kind) + of_owner("service")]
        owned += [
            (entry, move, {"move": to})
            for to, move in (svc.moves or {}).items()
            for entry in of_owner("move")
        ]
        owned += [
            (entry, saving, {"saving": pid})
            for pid, saving in svc.savings.items()
            for entry in of_owner("saving")
        ]
        for entry, where, whose in owned:
            param = _param_at(where, entry.path)
            for year in years if entry.per_year else [None]:
                if param is not None:
                    found.append((input_name(entry, service=key, year=year, **whose), param, entry))
    if config.snapshot is not None:
        for entry in of_owner("snapshot"):
            found.append((input_name(entry), _param_at(config.snapshot, entry.path), entry))
    return found


# ------------------------------------------------------------------ names


def input_name(
    entry: InputSpec,
    service: str | None = None,
    saving: str | None = None,
    factor: str | None = None,
    year: str | None = None,
    move: str | None = None,
) -> str:
    """The stable dotted name of one input (the results' ``input`` coordinate).

    Examples
    --------
    >>> input_name(spec("placements", "arrivals.growth"), service="ifa")
    'services.ifa.arrivals.growth'
    >>> input_name(spec("factor", "uplift"), factor="nlw", year="2025/26")
    'inflation.factors.nlw.uplift[2025/26]'
    """
    prefix = {
        "factor": f"inflation.factors.{factor}",
        "demand": f"demand.factors.{factor}",
        "saving": f"services.{service}.savings.{saving}",
        "move": f"services.{service}.moves.{move}",
        "snapshot": "snapshot",
    }.get(entry.owner, f"services.{service}")
    suffix = f"[{year}]" if entry.per_year else ""
    return f"{prefix}.{entry.path}{suffix}"


@dataclass(frozen=True)
class InputRef:
    """A parsed input name: which entry, and whose."""

    spec: InputSpec
    service: str | None = None
    saving: str | None = None
    factor: str | None = None
    year: str | None = None
    move: str | None = None


_YEAR = re.compile(r"^(?P<name>.*)\[(?P<year>[^\]]*)\]$")
_SERVICE_OWNERS = ("placements", "cost", "service")


def parse_name(name: str) -> InputRef | None:
    """Read a name made by :func:`input_name` back (``None`` if it is not one)."""
    match = _YEAR.match(name)
    base, year = (match["name"], match["year"]) if match else (name, None)
    parts = base.split(".")
    found: InputRef | None = None
    if parts[:2] == ["inflation", "factors"] and len(parts) == 4:
        found = _ref("factor", parts[3], year, factor=parts[2])
    elif parts[:2] == ["demand", "factors"] and len(parts) == 4:
        found = _ref("demand", parts[3], year, factor=parts[2])
    elif parts[0] == "services" and len(parts) >= 3:
        if parts[2] == "savings" and len(parts) == 5:
            found = _ref("saving", parts[4], year, service=parts[1], saving=parts[3])
        elif parts[2] == "moves" and len(parts) == 5:
            found = _ref("move", parts[4], year, service=parts[1], move=parts[3])
        else:
            rest = ".".join(parts[2:])
            for owner in _SERVICE_OWNERS:
                found = found or _ref(owner, rest, year, service=parts[1])
    elif parts[0] == "snapshot" and len(parts) == 2:
        found = _ref("snapshot", parts[1], year)
    return found


def _ref(owner: str, path: str, year: str | None, **whose: str) -> InputRef | None:
    entry = _BY_KEY.get(f"{owner}:{path}")
    if entry is None or entry.per_year != (year is not None):
        return None
    return InputRef(entry, year=year, **whose)


def group_key(name: str, by: str) -> str:
    """The sensitivity group of an input: itself, its parameter (all years), or its section.

    ``"input"`` keeps every input alone; ``"parameter"`` joins the per-year
    inputs of one parameter; ``"section"`` joins everything of one inflation
    factor, one service, or the snapshot.
    """
    if by == "input":
        return name
    match = _YEAR.match(name)
    if by == "parameter":
        return match["name"] if match else name
    ref = parse_name(name)
    if ref is None:  # not one of the table's names (a test function's, say): by its first parts
        parts = name.split(".")
        return ".".join(parts[:3] if parts[0] in ("inflation", "demand") else parts[:2])
    if ref.spec.owner == "factor":
        return f"inflation.factors.{ref.factor}"
    if ref.spec.owner == "demand":
        return f"demand.factors.{ref.factor}"
    if ref.spec.owner == "snapshot":
        return f"snapshot.{ref.spec.path}"
    return f"services.{ref.service}"


def input_label(name: str, labels: dict[str, str] | None = None) -> str:
    """A readable name for an input, in the words of :data:`INPUTS`.

    Parameters
    ----------
    name : str
        The input's dotted name (or a group of them without the ``[year]``).
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
    ref = parse_name(name) or _parameter_ref(name)
    parts = name.split(".")
    shared = {"inflation": "Price rise", "demand": "Demand shock"}
    if ref is None and parts[0] in shared and parts[1:2] == ["factors"] and len(parts) == 3:
        return f"{shared[parts[0]]}: {parts[2].replace('_', ' ')}"  # a factor's section group
    if ref is None:
        return " ".join(p.replace("_", " ") for p in parts)
    year = f", {ref.year}" if ref.year else ""
    if ref.spec.owner == "factor":
        return f"Price rise: {ref.factor.replace('_', ' ')}{year}"
    if ref.spec.owner == "demand":
        return f"Demand shock: {ref.factor.replace('_', ' ')}{year}"
    if ref.spec.owner == "snapshot":
        return f"{ref.spec.words}{year}"
    who = labels.get(ref.service, ref.service.replace("_", " ").capitalize())
    what = ref.spec.words
    if ref.spec.owner == "saving":
        what = f"saving ‘{ref.saving.replace('_', ' ')}’ {what}"
    if ref.spec.owner == "move":
        to = labels.get(ref.move, ref.move.replace("_", " ").capitalize())
        what = f"{what} to {to}"
    return f"{who}: {what}{year}"


def _parameter_ref(name: str) -> InputRef | None:
    """A per-year parameter named without its year (a sensitivity group), read back."""
    ref = parse_name(f"{name}[year]")
    if ref is None:
        return None
    return InputRef(ref.spec, ref.service, ref.saving, ref.factor, move=ref.move)


def units_of(name: str) -> str:
    """The units of an input's values (``""`` if the name is not one of the table's)."""
    ref = parse_name(name) or _parameter_ref(name)
    return "" if ref is None else ref.spec.units


def describe_allowed(entry: InputSpec) -> str:
    """The allowed range in words, e.g. ``"0 to 1 (fraction)"``."""
    a = entry.allowed
    if math.isinf(a.low) and math.isinf(a.high):
        return f"any ({a.units})"
    return a.describe()


def markdown_table() -> str:
    """The table as Markdown, for ``docs/config.md`` (a test keeps the two the same)."""
    rows = [
        "| input (its name in results) | for | allowed | units | in words | what it is |",
        "|---|---|---|---|---|---|",
    ]
    for entry in INPUTS:
        prefix, owner = OWNERS[entry.owner]
        name = f"{prefix}.{entry.path}" + ("[<year>]" if entry.per_year else "")
        rows.append(
            f"| `{name}` | {owner} | {describe_allowed(entry)} | `{entry.units}` | "
            f"{entry.words} | {entry.description} |"
        )
    return "\n".join(rows)
