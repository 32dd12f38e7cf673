"""Shared set-up of the backtest tests."""

from __future__ import annotations

from datetime import date

from simulator.backtest.forecast import Settings

#: The look-ahead tests' origin, the day before it (what is known then) and their settings.
ORIGIN = date(2022, 4, 1)
KNOWN_AT = date(2022, 3, 31)
LOOK_AHEAD_SETTINGS = Settings(draws=64, seed=5)


def look_ahead_truth() -> dict:
    """The config the look-ahead tests' histories are simulated from: two lognormal services."""

    def service(per_year, median):
        return {
            "budget_gbp": 0,
            "arrivals": {"per_year": per_year},
            "length": {"dist": "lognormal", "median_weeks": median, "sigma": 0.9},
            "unit_cost": {"mean_gbp_per_week": 900.0},
        }

    return {
        "council": {"name": "Look Ahead"},
        "horizon": {"start": "2022/23", "years": 1},
        "services": {"ifa_fostering": service(80, 40), "childrens_homes": service(30, 30)},
    }
