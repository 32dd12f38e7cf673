"""Small configs built in code for the tests."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from simulator.config.load import config_from_dict
from simulator.config.schema import Config


def placement_service(**overrides: Any) -> dict:
    """A plain placements service; keyword arguments replace whole sections."""
    svc = {
        "budget_gbp": 1_000_000,
        "caseload": {"open": 0},
        "arrivals": {"per_year": 52.0},
        "length": {"dist": "lognormal", "median_weeks": 20.0, "sigma": 0.8},
        "unit_cost": {"mean_gbp_per_week": 100.0},
    }
    svc.update(overrides)
    return svc


def config_dict(services: dict, start: str = "2024/25", years: int = 1, **top: Any) -> dict:
    """A whole config as a dict, ready for :func:`config_from_dict`."""
    data = {
        "council": {"name": "Test Council"},
        "horizon": {"start": start, "years": years},
        "services": copy.deepcopy(services),
    }
    data.update(copy.deepcopy(top))
    return data


def make_config(services: dict, **kwargs: Any) -> Config:
    """A validated config from services (see :func:`config_dict`)."""
    return config_from_dict(config_dict(services, **kwargs), "test.toml")


#: A one-service council small enough for command-line tests to run in a moment.
SMALL_TOML = """
[council]
name = "Tiny Borough"
[horizon]
start = "2024/25"
years = 1
[services.homes]
budget_gbp = 2_000_000
caseload = { open = 5 }
arrivals = { per_year = 4 }
length = { dist = "lognormal", median_weeks = 40, sigma = 0.8 }
unit_cost = { mean_gbp_per_week = 6_000, cv = 0.2 }
"""


def write_small_toml(folder: Path) -> Path:
    """Write :data:`SMALL_TOML` as ``tiny.toml`` in ``folder``; returns its path."""
    path = folder / "tiny.toml"
    path.write_text(SMALL_TOML)
    return path
