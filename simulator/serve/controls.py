"""The assumptions the what-if page lets a finance team change, and the changes they make.

Each control is one input of the one table of inputs
(:mod:`simulator.config.inputs`): its words, units and allowed range come from
there, its starting value from the config. A control moves the *central
value* of the input (the mean of a normal, lognormal, gamma or beta; the most
likely value of a triangular or PERT; the middle of a uniform, whose width is
kept; a fixed number itself) and keeps its spread, as a ``[scenarios]`` block
written by hand would (``growth = { dist = "normal", mean = 0.08, sd = 0.03 }``).

:func:`changes_for` turns the page's values into the ``changes`` table of a
``[scenarios.<name>]`` block, so the page, "Save as scenario" and ``overspend
compare`` all go through the same validation and the same overlay.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from simulator.config.distributions import Param
from simulator.config.inputs import InputSpec, describe_allowed, input_label, spec
from simulator.config.schema import Config, as_dict

#: The key a control sets for each family, or ``None`` for a fixed number.
CENTRAL = {
    "fixed": None,
    "normal": "mean",
    "lognormal": "mean",
    "gamma": "mean",
    "beta": "mean",
    "triangular": "mode",
    "pert": "mode",
    "uniform": "middle",  # low and high move together
}

#: What the control's value is, in words, for each family.
CENTRAL_WORDS = {
    "fixed": "value",
    "normal": "mean",
    "lognormal": "mean",
    "gamma": "mean",
    "beta": "mean",
    "triangular": "most likely value",
    "pert": "most likely value",
    "uniform": "middle of its range",
}

#: Sections of the page, in order.
SECTIONS = ("Demand growth", "Unit costs", "Inflation", "Savings delivery")


@dataclass(frozen=True)
class Control:
    """One assumption on the page.

    Attributes
    ----------
    key : str
        The input's stable name, e.g. ``services.childrens_homes.arrivals.growth``
        (for a shared factor, the April it applies to: ``...uplift[2025/26]``).
    path : tuple of str
        Where the value sits in the config (the ``changes`` table's path).
    section : str
        One of :data:`SECTIONS`.
    label : str
        In the inputs table's words, e.g. "Children's homes: demand growth".
    what : str
        What the number is, e.g. "mean, fraction per year (0.05 is 5% a year)".
    allowed : str
        The allowed range in words, from the inputs table.
    value : float
        The config's central value: where the control starts.
    base : Any
        The config's value at ``path`` as TOML data (a number or an inline table).
    """

    key: str
    path: tuple[str, ...]
    section: str
    label: str
    what: str
    allowed: str
    value: float
    base: Any

    @property
    def dom_id(self) -> dict[str, str]:
        """The page element's id (a Dash pattern-matching id)."""
        return {"type": "control", "name": self.key}


def central_value(param: Param) -> float:
    """The number a control shows for ``param`` (see :data:`CENTRAL`)."""
    key = CENTRAL[param.dist]
    if key is None:
        return float(param.value)
    if key == "middle":
        return (param.low + param.high) / 2
    return float(getattr(param, key))


def _with_central(base: Any, value: Any) -> Any:
    """The TOML value of ``base`` with its central value set to ``value`` (spread kept)."""
    if not isinstance(base, dict):
        return value
    out = dict(base)
    key = CENTRAL[out["dist"]]
    if key == "middle" and isinstance(value, int | float) and not isinstance(value, bool):
        half = (out["high"] - out["low"]) / 2
        out["low"], out["high"] = value - half, value + half
    elif key == "middle":  # not a number: let the validator say so, in its words
        out["low"] = value
    else:
        out[key] = value
    return out


def _at(data: dict, path: tuple[str, ...]) -> Any:
    for part in path:
        data = data[part]
    return data


def _control(
    data: dict,
    entry: InputSpec,
    section: str,
    path: tuple[str, ...],
    key: str,
    param: Param,
    labels: dict[str, str],
) -> Control:
    words = entry.description.split(" (", 1)
    hint = f" ({words[1]}" if len(words) == 2 else ""
    return Control(
        key=key,
        path=path,
        section=section,
        label=input_label(key, labels),
        what=f"{CENTRAL_WORDS[param.dist]}, {entry.allowed.units}{hint}",
        allowed=describe_allowed(entry),
        value=central_value(param),
        base=copy.deepcopy(_at(data, path)) if _has(data, path) else param.to_toml(),
    )


def _has(data: dict, path: tuple[str, ...]) -> bool:
    try:
        _at(data, path)
    except (KeyError, TypeError):
        return False
    return True


def controls_of(config: Config) -> list[Control]:
    """Every control the page offers for ``config``, section by section.

    Per service: demand growth (placements) or cost growth (cost lines), the
    weekly or annual cost, and the service's own extra price rise; each savings
    programme's delivery; each shared inflation factor's uplift in each April.
    """
    data = as_dict(config)
    labels = {k: config.service_label(k) for k in config.services}
    found: list[Control] = []

    def add(owner: str, what: str, section: str, path: tuple[str, ...], key: str, param: Param):
        found.append(_control(data, spec(owner, what), section, path, key, param, labels))

    for k, svc in config.services.items():
        where = ("services", k)
        if svc.kind == "placements":
            add("placements", "arrivals.growth", SECTIONS[0], (*where, "arrivals", "growth"),
                f"services.{k}.arrivals.growth", svc.arrivals.growth)  # fmt: skip
            add("placements", "unit_cost.mean_gbp_per_week", SECTIONS[1],
                (*where, "unit_cost", "mean_gbp_per_week"),
                f"services.{k}.unit_cost.mean_gbp_per_week", svc.unit_cost.mean_gbp_per_week)  # fmt: skip
        else:
            add("cost", "cost.growth", SECTIONS[0], (*where, "cost", "growth"),
                f"services.{k}.cost.growth", svc.cost.growth)  # fmt: skip
            add("cost", "cost.annual_gbp", SECTIONS[1], (*where, "cost", "annual_gbp"),
                f"services.{k}.cost.annual_gbp", svc.cost.annual_gbp)  # fmt: skip
        add("service", "inflation.extra", SECTIONS[2], (*where, "inflation", "extra"),
            f"services.{k}.inflation.extra", svc.inflation.extra)  # fmt: skip
    for name, factor in config.inflation.factors.items():
        for year in config.uplift_years:
            param = factor.by_year.get(year, factor.uplift)
            add("factor", "uplift", SECTIONS[2], ("inflation", "factors", name, "by_year", year),
                f"inflation.factors.{name}.uplift[{year}]", param)  # fmt: skip
    for k, svc in config.services.items():
        for pid, saving in svc.savings.items():
            add("saving", "delivery", SECTIONS[3], ("services", k, "savings", pid, "delivery"),
                f"services.{k}.savings.{pid}.delivery", saving.delivery)  # fmt: skip
    return [_saving_label(c, config) for c in found]


def _saving_label(c: Control, config: Config) -> Control:
    """Name a savings programme by its label (the table's words use its key)."""
    if c.path[2:3] != ("savings",) or len(c.path) != 5:
        return c
    svc = config.services[c.path[1]]
    label = svc.savings[c.path[3]].label
    if not label:
        return c
    who = config.service_label(c.path[1])
    return Control(**{**c.__dict__, "label": f"{who}: saving ‘{label}’ delivery"})


def parse_value(text: Any) -> Any:
    """A control's text as a number, or as given when it is not one.

    What is not a number is passed on unchanged, so the config validator
    refuses it in the same words as in a config file.
    """
    if isinstance(text, int | float) and not isinstance(text, bool):
        return float(text)
    if not isinstance(text, str):
        return text
    try:
        return float(text.strip().replace(",", "").replace("_", ""))
    except ValueError:
        return text.strip()


def merge_changes(base: dict, more: dict) -> dict:
    """``more`` laid over ``base`` as a scenario's changes are laid over a config.

    Tables merge key by key; a distribution (a table with ``dist``) or a value
    replaces what was there, as :func:`simulator.config.scenarios.scenario_config`
    does, so applying the merged changes once equals applying each in turn.
    """
    out = dict(base)
    for key, value in more.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict) and "dist" not in value:
            out[key] = merge_changes(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _nested(path: tuple[str, ...], value: Any) -> dict:
    out: Any = value
    for part in reversed(path):
        out = {part: out}
    return out


def changes_for(
    config: Config,
    controls: list[Control],
    values: dict[str, Any],
    switches: list[str] = (),
) -> dict:
    """The ``changes`` table of the what-if the page shows.

    Parameters
    ----------
    config : Config
    controls : list of Control
        From :func:`controls_of`.
    values : dict
        Control key to the value on the page (number or text).
    switches : list of str
        Scenarios of the config switched on: their changes are laid first.

    Returns
    -------
    dict
        Empty when nothing differs from the config. A control left at the
        config's value changes nothing (so a switched-on scenario's value for
        that input stands).
    """
    changes: dict = {}
    for name in switches:
        changes = merge_changes(changes, config.scenarios[name].changes)
    for c in controls:
        if c.key not in values:
            continue
        value = parse_value(values[c.key])
        if isinstance(value, float) and value == c.value:
            continue
        changes = merge_changes(changes, _nested(c.path, _with_central(c.base, value)))
    return changes


def changed_words(
    config: Config, controls: list[Control], values: dict[str, Any], switches: list[str] = ()
) -> list[str]:
    """What a what-if changes, one phrase each, e.g. "Children's homes: demand growth 0.08"."""
    words = [f"scenario ‘{name}’ ({config.scenarios[name].description})" for name in switches]
    for c in controls:
        value = parse_value(values.get(c.key, c.value))
        if not (isinstance(value, float) and value == c.value):
            words.append(f"{c.label} {value:g} (was {c.value:g})" if isinstance(value, float)
                         else f"{c.label} {value!r}")  # fmt: skip
    return words
