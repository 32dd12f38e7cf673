"""One forecast origin: calibrate on what was known then, and simulate the next 12 months.

The records are read as an extract made the day before the origin would have
held them (:mod:`simulator.calibrate.censor`), calibrated exactly as ``overspend
calibrate`` would have done on that day, written as a config and run through the
engine. A second run of the same config with every placement costing £1 a day
gives the placement-days (the engine's spend is cost times time open, so a unit
daily cost turns it into days); scores look at one quantity at a time, so the two
runs need not share their random draws.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import numpy as np

from simulator.calibrate import DataError, Records, calibrate
from simulator.calibrate.calibration import Calibration
from simulator.calibrate.records import from_day
from simulator.calibrate.writer import render
from simulator.config.distributions import Fixed
from simulator.config.load import loads_config
from simulator.config.schema import Config, UnitCost

#: Months forecast from each origin.
MONTHS = 12
#: Weekly cost that makes the engine's spend count days: GBP 1 a day.
DAY_COST = 7.0
# Points of the grid on which an uncertain figure's mean is taken (midpoint rule).
_MEAN_GRID = 4096


@dataclass(frozen=True)
class Settings:
    """How each origin is calibrated and simulated (the options of ``overspend calibrate``).

    Attributes
    ----------
    since : date or None
        First day of complete records (default: inferred).
    council : str or None
    parameter_uncertainty : bool
        Carry the fits' standard errors into the forecast (as ``calibrate`` does).
    keep_stale : bool
    draws : int
        Monte Carlo draws per origin.
    seed : int
    threads : int or None
    """

    since: date | None = None
    council: str | None = None
    parameter_uncertainty: bool = True
    keep_stale: bool = False
    draws: int = 2000
    seed: int = 1
    threads: int | None = None


@dataclass
class OriginForecast:
    """What the simulation forecast from one origin.

    Attributes
    ----------
    origin : int
        Days since 1970-01-01 of the origin (a 1 April).
    services : list of str
        Services calibrated at this origin.
    labels : dict of str to str
    caseload : numpy.ndarray
        (draw, service, month): placements open at each month end.
    new_placements, placement_days, cost : numpy.ndarray
        (draw, service): over the 12 months; days, and GBP.
    unit_cost : dict of str to float
        Mean weekly cost of each service's placements in the calibrated config
        (GBP per week): what the outcome's cost is valued at where the records
        give no costs, and what unknown recorded costs are taken to be.
    costs_recorded : dict of str to bool
        Whether the records gave the service's weekly costs.
    calibration : Calibration
    config : Config
    config_text : str
        The calibrated config as ``overspend calibrate`` writes it (budgets zero).
    """

    origin: int
    services: list[str]
    labels: dict[str, str]
    caseload: np.ndarray
    new_placements: np.ndarray
    placement_days: np.ndarray
    cost: np.ndarray
    unit_cost: dict[str, float]
    costs_recorded: dict[str, bool]
    calibration: Calibration
    config: Config
    config_text: str


def param_mean(param) -> float:
    """Mean of an uncertain figure (a config ``Param``), by the midpoint rule on its quantiles."""
    if not param.is_uncertain:
        return float(param.median())
    u = (np.arange(_MEAN_GRID) + 0.5) / _MEAN_GRID
    return float(np.mean(param.ppf(u)))


def mean_weekly_cost(cost: UnitCost) -> float:
    """Mean weekly cost of a placement (GBP per week), body and high-cost tail together."""
    share = param_mean(cost.high_cost_share)
    tail = cost.high_cost_mean_gbp_per_week
    tail_mean = param_mean(tail) if tail is not None else 0.0
    return (1.0 - share) * param_mean(cost.mean_gbp_per_week) + share * tail_mean


def day_counting(config: Config) -> Config:
    """The config with every placement costing GBP 1 a day, so spend counts placement-days."""
    services = {}
    for key, svc in config.services.items():
        caseload = svc.caseload
        if caseload is not None and caseload.weekly_cost_gbp is not None:
            caseload = caseload.model_copy(update={"weekly_cost_gbp": None})
        unit = UnitCost(mean_gbp_per_week=Fixed(DAY_COST))
        services[key] = svc.model_copy(update={"unit_cost": unit, "caseload": caseload})
    return config.model_copy(update={"services": services})


def calibrated_config(cal: Calibration) -> tuple[Config, str]:
    """The config ``overspend calibrate`` writes for ``cal``, with zero budgets, and its text.

    Budgets play no part in a backtest, so the engine run that ``calibrate``
    makes to find placeholder budgets is skipped.
    """
    budgets = {svc.key: {cal.horizon_start: 0.0} for svc in cal.services}
    text = render(cal, budgets)
    return loads_config(text, source="backtest origin config"), text


def _simulate(config: Config, services: list[str], settings: Settings) -> dict[str, np.ndarray]:
    from simulator import run

    ds = run(config, draws=settings.draws, seed=settings.seed, threads=settings.threads)
    ds = ds.sel(service=services)
    return {
        "caseload": ds["caseload"].transpose("draw", "service", "month").values[:, :, :MONTHS],
        "arrivals": ds["arrivals"].sum("month").transpose("draw", "service").values,
        "spend": ds["spend"].sum("month").transpose("draw", "service").values,
    }


def forecast_origin(
    load: Callable[[date | None], Records], origin: int, settings: Settings
) -> OriginForecast:
    """Calibrate on the records known the day before ``origin`` and simulate 12 months.

    Parameters
    ----------
    load : callable
        ``load(known_at)`` reads the records as an extract made on ``known_at`` held them.
    origin : int
        Days since 1970-01-01 of a 1 April.
    settings : Settings

    Returns
    -------
    OriginForecast

    Raises
    ------
    DataError
        When the records known then cannot be calibrated, naming the origin.
    """
    as_of = from_day(origin - 1).astype(object)
    try:
        cal = calibrate(
            load(as_of),
            as_of=as_of,
            since=settings.since,
            years=1,
            council=settings.council,
            parameter_uncertainty=settings.parameter_uncertainty,
            keep_stale=settings.keep_stale,
        )
    except DataError as exc:
        raise DataError(f"forecast origin {from_day(origin)}: {exc}") from None
    config, text = calibrated_config(cal)
    keys = [svc.key for svc in cal.services]
    money = _simulate(config, keys, settings)
    days = _simulate(day_counting(config), keys, settings)["spend"]
    unit_cost = {k: mean_weekly_cost(config.services[k].unit_cost) for k in keys}
    recorded = {svc.key: svc.costs is not None for svc in cal.services}
    # Without recorded costs the outcome is valued at the calibrated mean cost, so the
    # forecast is too: the spread of costs between placements is not being tested there.
    cost = np.stack(
        [
            money["spend"][:, i] if recorded[k] else days[:, i] * unit_cost[k] / 7.0
            for i, k in enumerate(keys)
        ],
        axis=1,
    )
    return OriginForecast(
        origin=origin,
        services=keys,
        labels={svc.key: svc.info.label for svc in cal.services},
        caseload=money["caseload"].astype(np.float64),
        new_placements=money["arrivals"].astype(np.float64),
        placement_days=days,
        cost=cost,
        unit_cost=unit_cost,
        costs_recorded=recorded,
        calibration=cal,
        config=config,
        config_text=text,
    )
