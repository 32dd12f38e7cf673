"""Small configs built in code for the tests."""

from __future__ import annotations

import copy
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
