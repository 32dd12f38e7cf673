"""Placement records simulated from a config: known answers for calibration.

``simulate_records`` runs a config's arrivals, lengths and unit costs backwards
in time from its horizon start and returns what a council's extract would
hold on an as-of date, in the packages layout that :func:`~.packages.load_packages`
reads. Calibrating those records should give back the config's figures within
their standard errors; the tests and ``docs/calibrate.md`` use it that way.
Each uncertain figure is taken at its median (records come from one world).
"""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pandas as pd
from scipy import special, stats

from simulator.config.schema import Config, Length, UnitCost

from .arrivals import days_in_fy
from .records import from_day, to_day

DAYS_PER_YEAR = 365.25


def length_distribution(length: Length):
    """The config's length distribution (weeks) as a frozen ``scipy.stats`` distribution."""
    median = length.median_weeks.median() if length.median_weeks is not None else None
    mean = length.mean_weeks.median() if length.mean_weeks is not None else None
    if length.dist == "lognormal":
        sigma = length.sigma.median()
        scale = median if median is not None else mean * math.exp(-0.5 * sigma**2)
        return stats.lognorm(s=sigma, scale=scale)
    if length.dist == "gamma":
        k = length.shape.median()
        scale = mean / k if mean is not None else median / special.gammaincinv(k, 0.5)
        return stats.gamma(a=k, scale=scale)
    if length.dist == "weibull":
        k = length.shape.median()
        if mean is not None:
            return stats.weibull_min(c=k, scale=mean / math.gamma(1.0 + 1.0 / k))
        return stats.weibull_min(c=k, scale=median / math.log(2.0) ** (1.0 / k))
    return stats.expon(scale=mean if mean is not None else median / math.log(2.0))


def _lognormal(rng: np.random.Generator, mean: float, cv: float, n: int) -> np.ndarray:
    sigma = math.sqrt(math.log1p(cv * cv))
    return np.exp(math.log(mean) - 0.5 * sigma**2 + sigma * rng.standard_normal(n))


def draw_costs(rng: np.random.Generator, cost: UnitCost, n: int) -> np.ndarray:
    """Weekly costs (GBP per week) as the engine draws them: body, and a share in the tail."""
    out = _lognormal(rng, cost.mean_gbp_per_week.median(), cost.cv, n)
    share = cost.high_cost_share.median()
    if share > 0:
        tail = rng.random(n) < share
        out[tail] = _lognormal(
            rng, cost.high_cost_mean_gbp_per_week.median(), cost.high_cost_cv, int(tail.sum())
        )
    return out


def _start_days(
    rng: np.random.Generator, per_year: float, growth: float, dispersion: float,
    first: int, last: int, origin: int,
) -> np.ndarray:  # fmt: skip
    """Start days of placements, following the engine's arrivals equation."""
    days = np.arange(first, last + 1)
    # Each day is 1 / days_in_fy of its financial year, as the engine pro-rates months.
    trend = np.exp(np.log1p(growth) * (days - origin) / DAYS_PER_YEAR)
    rate = per_year / days_in_fy(days) * trend
    if dispersion > 0:
        months = days.astype("datetime64[D]").astype("datetime64[M]")
        _, which = np.unique(months, return_inverse=True)
        rate = rate * rng.gamma(1.0 / dispersion, dispersion, which.max() + 1)[which]
    return np.repeat(days, rng.poisson(rate))


def simulate_records(
    config: Config,
    complete_from: date | str,
    as_of: date | str,
    seed: int,
    history_years: float = 15.0,
) -> pd.DataFrame:
    """Placement records of a config's placements services, as an extract would hold them.

    Placements start from ``history_years`` before ``complete_from``; the extract
    holds every placement that started from ``complete_from`` on, and earlier ones
    only if still open then (left truncation). Ends after ``as_of`` are blank
    (still open). Dates are whole days: a placement of L weeks that starts on
    day s ends on day s + round(7 L).

    Parameters
    ----------
    config : Config
        Its horizon start is the origin of the growth trend, as in the engine.
    complete_from, as_of : date or str
    seed : int
    history_years : float
        How far back placements start, so the extract's oldest open ones are realistic.

    Returns
    -------
    pandas.DataFrame
        Columns ``client_id, service, start_date, end_date, weekly_cost`` (text,
        ISO dates), ready for ``to_csv`` and :func:`~.packages.load_packages`.
    """
    rng = np.random.default_rng(seed)
    origin = to_day(date(int(config.horizon.start[:4]), 4, 1))
    first_complete, last = to_day(complete_from), to_day(as_of)
    first = first_complete - int(history_years * DAYS_PER_YEAR)
    frames = []
    for key, svc in config.services.items():
        if svc.kind != "placements":
            continue
        a = svc.arrivals
        start = _start_days(
            rng, a.per_year.median(), a.growth.median(), a.dispersion, first, last, origin
        )
        weeks = length_distribution(svc.length).rvs(size=start.size, random_state=rng)
        end = start + np.round(weeks * 7.0)
        keep = (start >= first_complete) | (end > first_complete)
        start, end = start[keep], end[keep]
        cost = draw_costs(rng, svc.unit_cost, start.size)
        frames.append(
            pd.DataFrame(
                {
                    "client_id": [f"{key[:3].upper()}{i:06d}" for i in range(start.size)],
                    "service": key,
                    "start_date": [str(from_day(d)) for d in start],
                    "end_date": [str(from_day(d)) if d <= last else "" for d in end],
                    "weekly_cost": np.round(cost, 2),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)
