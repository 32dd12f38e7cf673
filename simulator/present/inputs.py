"""The uncertain inputs of a config in words, from the one table of inputs.

``overspend validate`` prints them as lines and the report's "Key
assumptions" section shows them as a table; both take them from
:func:`uncertain_inputs`, which reads :mod:`simulator.config.inputs`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simulator.config.inputs import config_inputs, group_key
from simulator.config.schema import Config
from simulator.present.labels import input_words
from simulator.present.numbers import MINUS, count, gbp, pct1


@dataclass(frozen=True)
class InputLine:
    """One uncertain input (or one per-year input whose years share a value), in words."""

    label: str  # e.g. "Home care: demand growth"
    years: tuple[str, ...]  # the April uplifts it applies to ("" for none)
    median: str  # e.g. "3.0% a year"
    low: str  # 10th percentile
    high: str  # 90th percentile
    description: str  # the table's one line


def _style(units: str, minus: str):
    """How values of an input with these allowed units are written, and what follows them."""
    styles = {
        "fraction": (lambda x: pct1(x, minus), ""),
        "fraction per year": (lambda x: pct1(x, minus), " a year"),
        "GBP per week": (lambda x: gbp(x, minus), " a week"),
        "GBP per year": (lambda x: gbp(x, minus), " a year"),
        "placements per year": (lambda x: count(x, 3), " a year"),
        "weeks": (lambda x: count(x, 3), " weeks"),
    }
    return styles.get(units, (lambda x: f"{x:.3g}", ""))


def uncertain_inputs(config: Config, minus: str = MINUS) -> list[InputLine]:
    """Every input that differs between draws, in config order.

    The per-year inputs of one parameter that share a distribution are one line
    (with their years); a factor set separately for some years gives a line each.
    """
    labels = {key: config.service_label(key) for key in config.services}
    factors = {k: f.description for k, f in config.inflation.factors.items() if f.description}
    found: dict[tuple, list[str]] = {}
    for name, param, entry in config_inputs(config):
        if not param.is_uncertain:
            continue
        fmt, after = _style(entry.allowed.units, minus)
        lo, hi = param.ppf(np.array([0.1, 0.9]))
        values = (f"{fmt(param.median())}{after}", fmt(lo), fmt(hi), entry.description)
        years = found.setdefault((group_key(name, "parameter"), *values), [])
        if entry.per_year:
            years.append(name[name.rindex("[") + 1 : -1])
    return [
        InputLine(input_words(group, labels, factors), tuple(years), median, low, high, description)
        for (group, median, low, high, description), years in found.items()
    ]
