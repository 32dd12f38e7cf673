"""A small council with every kind of control the what-if page offers."""

from __future__ import annotations

from pathlib import Path

import pytest

from simulator.config.load import load_config

#: Two departments, a cost line, a saving, shared inflation, two scenarios; two years.
WHATIF_TOML = """
[council]
name = "Small County"
[horizon]
start = "2024/25"
years = 2
[run]
draws = 1_000
seed = 11
[inflation]
price_base = "2024/25"
[inflation.factors.care]
uplift = { dist = "normal", mean = 0.05, sd = 0.02 }

[services.homes]
label = "Children's homes"
department = "Children"
budget_gbp = { "2024/25" = 2_000_000, "2025/26" = 2_100_000 }
caseload = { open = 6 }
arrivals = { per_year = 5, growth = { dist = "normal", mean = 0.05, sd = 0.03 } }
length = { dist = "lognormal", median_weeks = 40, sigma = 0.8 }
unit_cost = { mean_gbp_per_week = 6_000, cv = 0.2 }
inflation = { factors = { care = 1.0 } }

[services.homes.savings.step_down]
label = "Step-down to fostering"
target_gbp = 200_000
delivery = { dist = "beta", mean = 0.6, sd = 0.2 }

[services.transport]
label = "SEND transport"
department = "Children"
kind = "cost"
budget_gbp = 1_000_000
cost = { annual_gbp = 1_000_000, growth = { dist = "normal", mean = 0.04, sd = 0.02 } }

[services.home_care]
label = "Home care"
department = "Adults"
budget_gbp = { "2024/25" = 3_000_000, "2025/26" = 3_100_000 }
caseload = { open = 150 }
arrivals = { per_year = 80, growth = { dist = "normal", mean = 0.03, sd = 0.01 } }
length = { dist = "lognormal", median_weeks = 60, sigma = 1.0 }
unit_cost = { mean_gbp_per_week = 330, cv = 0.4 }
inflation = { factors = { care = 0.7 } }
income = { share = { dist = "beta", mean = 0.12, sd = 0.02 } }

[scenarios.no_saving]
description = "The step-down saving delivers nothing"
changes.services.homes.savings.step_down.delivery = 0.0

[scenarios.homes_growth_15pct]
description = "Children's homes demand grows 15% a year"
changes.services.homes.arrivals.growth = { dist = "normal", mean = 0.15, sd = 0.03 }
"""


@pytest.fixture(scope="session")
def whatif_toml(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("serve") / "small_county.toml"
    path.write_text(WHATIF_TOML)
    return path


@pytest.fixture(scope="session")
def config(whatif_toml):
    return load_config(whatif_toml)
