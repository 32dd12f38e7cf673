"""Inputs and services in words, for everything a person reads.

An input's dotted name (``services.care_homes.income.share``,
``inflation.factors.nlw.uplift``) is an id: tables, charts and the report show
its label from the one table of inputs (:func:`simulator.config.inputs.input_label`),
with the config's own words put in: the service's label ("Care homes: share
paid by income") and a shared price rise's description instead of its key
("Price rise: National Living Wage uplift passed through to care fees").

The words are read from the resolved config that every results file carries
(``attrs["config"]``), parsed as TOML only: a file it names (a snapshot) need
not be there for its labels to be read.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable

import xarray as xr

from simulator.config.inputs import input_label

FACTOR_PREFIX = "inflation.factors."


def config_words(config_text: str) -> tuple[dict[str, str], dict[str, str]]:
    """Service labels and factor descriptions of a resolved config's TOML (empty if unreadable).

    Returns
    -------
    (dict, dict)
        Service key to label; factor key to description (factors without one left out).
    """
    try:
        data = tomllib.loads(config_text or "")
    except (tomllib.TOMLDecodeError, TypeError):
        return {}, {}
    services = data.get("services") or {}
    labels = {
        str(k): str(v["label"])
        for k, v in services.items()
        if isinstance(v, dict) and isinstance(v.get("label"), str) and v["label"].strip()
    }
    factors = ((data.get("inflation") or {}).get("factors")) or {}
    described = {
        str(k): str(v["description"]).strip()
        for k, v in factors.items()
        if isinstance(v, dict)
        and isinstance(v.get("description"), str)
        and v["description"].strip()
    }
    return labels, described


def input_words(name: str, labels: dict[str, str], factors: dict[str, str]) -> str:
    """An input (or group of inputs) in words, e.g. "Price rise: National Living Wage ...".

    Parameters
    ----------
    name : str
        The input's dotted name.
    labels : dict
        Service key to label.
    factors : dict
        Factor key to description.
    """
    text = input_label(name, labels)
    if name.startswith(FACTOR_PREFIX):
        key = name[len(FACTOR_PREFIX) :].split(".", 1)[0].split("[", 1)[0]
        plain = key.replace("_", " ")
        if plain in text:
            text = text.replace(plain, factors.get(key) or factor_name(key), 1)
    return text


def factor_name(key: str) -> str:
    """A shared price rise without a description, named from its key: ``nlw`` -> ``NLW``."""
    return key.upper() if len(key) <= 4 else key.replace("_", " ").capitalize()


def dataset_input_words(ds: xr.Dataset, names: Iterable[str] | None = None) -> dict[str, str]:
    """Words for each input of a results file (its ``input`` coordinate, or ``names``)."""
    labels, factors = config_words(str(ds.attrs.get("config", "")))
    if "service_label" in ds.coords and "service" in ds.coords:
        keys = [str(k) for k in ds["service"].values]
        found = [str(v) for v in ds["service_label"].values]
        labels = {**dict(zip(keys, found, strict=True)), **labels}
    if names is None:
        names = [str(n) for n in ds["input"].values] if "input" in ds.coords else []
    return {n: input_words(n, labels, factors) for n in names}
