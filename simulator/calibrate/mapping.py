"""Which budget service each SSDA903 placement belongs to (PLACE x PLACE_PROVIDER).

The default mapping below is itself a mapping file: ``overspend calibrate
--write-mapping my_mapping.toml`` writes it out to edit, and ``--mapping
my_mapping.toml`` uses the edited copy instead. Services are tried in the
order written; the first whose ``place`` list holds an episode's PLACE code
and whose ``provider`` list (every provider when left out) holds its
PLACE_PROVIDER takes the episode. ``"*"`` in ``place`` matches any code.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .records import DataError, service_key

DEFAULT_MAPPING_TOML = """\
# Mapping of SSDA903 placement codes to budget services for `overspend calibrate`.
#
# Services are tried in the order written. The first whose `place` list holds an
# episode's PLACE code, and whose `provider` list holds its PLACE_PROVIDER (every
# provider when `provider` is left out), takes the episode. "*" in `place` matches
# any code. An episode no service takes is reported as an unknown placement code
# and dropped. `exclude = true` leaves a service's episodes out of the config.
#
# `unit_cost` is used only when the records give no costs (SSDA903 has none): it
# has the keys of a config's unit_cost table. The figures below are national
# figures or assumptions (see each `unit_cost_source`); replace them with your own.

department = "Children's services"

[services.in_house_fostering]
label = "In-house fostering"
place = ["U4", "U5", "U6"]
provider = ["PR1", "PR2"]          # own council, other council
unit_cost = { mean_gbp_per_week = 450, cv = 0.25 }
unit_cost_source = "assumption: allowance of £170-£258 a week (DfE / Fostering Network, 2025/26) plus fees and support"

[services.ifa_fostering]
label = "Independent fostering agencies"
place = ["U4", "U5", "U6"]
provider = ["PR4", "PR5"]          # private, voluntary
unit_cost = { mean_gbp_per_week = 820, cv = 0.2 }
unit_cost_source = "national figure: about £820 a week (CMA market study, 2021/22)"

[services.family_and_friends]
label = "Family and friends (kinship) fostering"
place = ["U1", "U2", "U3"]
unit_cost = { mean_gbp_per_week = 250, cv = 0.2 }
unit_cost_source = "assumption: within the £170-£258 allowance range (DfE / Fostering Network, 2025/26)"

[services.childrens_homes]
label = "Children's homes"
place = ["K2", "K1", "R1"]         # children's home, secure unit, residential care home
unit_cost = { mean_gbp_per_week = 5600, cv = 0.25, high_cost_share = 0.12, high_cost_mean_gbp_per_week = 11500, high_cost_cv = 0.2 }
unit_cost_source = "national figure: about £6,100 a week on average (NAO, 2023-24), 12% over £10,000 [assumption]"

[services.supported_accommodation]
label = "Supported accommodation (16+)"
place = ["H5", "P2", "K3"]
unit_cost = { mean_gbp_per_week = 1400, cv = 0.35 }
unit_cost_source = "assumption: no national figure"

[services.other]
label = "Other placements"
# Placed for adoption, with parents, residential schools, NHS, young offender
# institutions, temporary and other placements, and U4-U6 with other providers.
place = ["A1", "A2", "A3", "A4", "A5", "A6", "P1", "P3", "R2", "R3", "R5", "S1",
         "T0", "T1", "T2", "T3", "T4", "Z1", "U4", "U5", "U6"]
unit_cost = { mean_gbp_per_week = 1000, cv = 0.5 }
unit_cost_source = "assumption: no national figure for this mixed group"

# To leave placements out (for example placed for adoption, which costs the
# placements budget nothing), put a service like this one above the others:
# [services.placed_for_adoption]
# place = ["A3", "A4", "A5", "A6"]
# exclude = true
"""

_SERVICE_KEYS = {
    "label",
    "department",
    "place",
    "provider",
    "exclude",
    "unit_cost",
    "unit_cost_source",
}


@dataclass(frozen=True)
class Rule:
    """One service of a mapping.

    Attributes
    ----------
    key : str
        Config service name.
    label, department : str
    place : frozenset of str
        PLACE codes (upper case); contains ``"*"`` to match any.
    provider : frozenset of str or None
        PLACE_PROVIDER codes; ``None`` matches any.
    exclude : bool
        Leave these placements out.
    unit_cost : dict or None
        Config ``unit_cost`` table used when the records give no costs.
    unit_cost_source : str
    """

    key: str
    label: str
    department: str
    place: frozenset[str]
    provider: frozenset[str] | None
    exclude: bool
    unit_cost: dict | None
    unit_cost_source: str

    def matches(self, place: str, provider: str) -> bool:
        """Whether this service takes an episode with these codes."""
        in_place = "*" in self.place or place in self.place
        return in_place and (self.provider is None or provider in self.provider)

    def describe(self) -> str:
        """The codes in words, for config comments."""
        places = "any PLACE" if "*" in self.place else "PLACE " + "/".join(sorted(self.place))
        if self.provider is None:
            return places
        return f"{places} with PLACE_PROVIDER {'/'.join(sorted(self.provider))}"


@dataclass(frozen=True)
class Mapping:
    """An ordered list of :class:`Rule`; the first that matches wins."""

    rules: tuple[Rule, ...]
    source: str

    def service_of(self, place: str, provider: str) -> Rule | None:
        """The rule that takes an episode, or ``None`` when no rule does."""
        for rule in self.rules:
            if rule.matches(place, provider):
                return rule
        return None

    @property
    def name(self) -> str:
        """The mapping in words, for messages: ``'the default mapping'`` or ``'the mapping X'``."""
        return (
            "the default mapping"
            if self.source == "default mapping"
            else f"the mapping {self.source}"
        )

    @property
    def known_places(self) -> frozenset[str]:
        """Every PLACE code some rule names."""
        return frozenset().union(*(r.place for r in self.rules))

    @property
    def provider_places(self) -> frozenset[str]:
        """PLACE codes whose service depends on the provider: some rule names them with a
        provider list (``"*"`` when such a rule matches any PLACE)."""
        return frozenset().union(*(r.place for r in self.rules if r.provider is not None))


def _codes(value: Any, where: str) -> frozenset[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise ValueError(f'{where} = {value!r}: must be a list of codes such as ["U4", "U5"]')
    return frozenset(v.strip().upper() for v in value)


def _rule(name: str, raw: Any, department: str) -> Rule:
    where = f"services.{name}"
    if not isinstance(raw, dict):
        raise ValueError(f"{where}: must be a table")
    unknown = sorted(set(raw) - _SERVICE_KEYS)
    if unknown:
        raise ValueError(
            f"{where}.{unknown[0]}: unknown field; allowed: {', '.join(sorted(_SERVICE_KEYS))}"
        )
    if "place" not in raw:
        raise ValueError(f"{where}.place: is required (the PLACE codes of this service)")
    key = service_key(name)
    if key != name:
        raise ValueError(f"{where}: a service name must be lower_case_with_underscores, e.g. {key}")
    unit_cost = raw.get("unit_cost")
    if unit_cost is not None and not isinstance(unit_cost, dict):
        raise ValueError(f"{where}.unit_cost: must be a table like a config's unit_cost")
    return Rule(
        key=key,
        label=str(raw.get("label", name.replace("_", " ").capitalize())),
        department=str(raw.get("department", department)),
        place=_codes(raw["place"], f"{where}.place"),
        provider=None if "provider" not in raw else _codes(raw["provider"], f"{where}.provider"),
        exclude=bool(raw.get("exclude", False)),
        unit_cost=unit_cost,
        unit_cost_source=str(raw.get("unit_cost_source", "")),
    )


def loads_mapping(text: str, source: str = "<mapping>") -> Mapping:
    """Parse mapping-file text (the layout of :data:`DEFAULT_MAPPING_TOML`).

    Raises
    ------
    DataError
        Naming the file and the field at fault.
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise DataError(f"{source}: not valid TOML: {exc}") from None
    unknown = sorted(set(data) - {"department", "services"})
    if unknown:
        raise DataError(f"{source}: {unknown[0]}: unknown field; allowed: department, services")
    services = data.get("services")
    if not isinstance(services, dict) or not services:
        raise DataError(f"{source}: needs at least one [services.<name>] table")
    department = str(data.get("department", ""))
    try:
        rules = tuple(_rule(name, raw, department) for name, raw in services.items())
    except ValueError as exc:
        raise DataError(f"{source}: {exc}") from None
    return Mapping(rules, source)


def load_mapping(path: str | Path | None) -> Mapping:
    """The mapping in file ``path``, or the default mapping when ``path`` is ``None``."""
    if path is None:
        return loads_mapping(DEFAULT_MAPPING_TOML, "default mapping")
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DataError(f"{path}: no such mapping file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: cannot be read: {exc}") from None
    return loads_mapping(text, path.name)
