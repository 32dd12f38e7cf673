"""Actual spend to date against what the model itself expects for those months.

In-year runs fix the months to the as-of date at their actual spend and
simulate the rest of the year from the config's rates. When the year so far has
run well above (or below) what those rates give, the simulated rest of the year
is probably too low (or high): :func:`spend_to_date_warnings` says so, naming
the service, so an officer revisits the rates before reporting (trial defect 12).
"""

from __future__ import annotations

import math

import numpy as np

from simulator.config.schema import Config, as_dict

#: Draws of the check's own simulation (enough for a 5th-95th percentile range).
CHECK_DRAWS = 1_000

#: The simulated range the actuals are held against: its lower and upper quantile.
RANGE = (0.05, 0.95)


def _without_actuals(config: Config) -> Config:
    """The same council simulated from the horizon start, with no months fixed."""
    from simulator.config.load import config_from_dict

    data = as_dict(config)
    data.pop("actuals", None)
    data.pop("scenarios", None)
    return config_from_dict(data, "the config without its actuals")


def simulated_to_date(config: Config, draws: int = CHECK_DRAWS, seed: int | None = None, plan=None):
    """Each service's net spend over the actual months, as the model alone would have it.

    Parameters
    ----------
    config : Config
        A config with ``[actuals]`` and no ``[snapshot]``.
    draws : int
    seed : int, optional
        Default: the config's ``[run] seed``.
    plan : Plan, optional
        The plan of the config without its actuals, when already built.

    Returns
    -------
    numpy.ndarray
        Shape ``(draws, services)``, GBP, services in the config's order.
    """
    from simulator.engine.chunks import simulate

    plan = plan or _plan_without_actuals(config)
    sim = simulate(plan, draws, config.run.seed if seed is None else seed, threads=None)
    row = {g.key: i for i, g in enumerate(plan.groups)}
    rows = [row[k] for k in plan.keys]
    return sim.spend[:, rows, : config.actual_months].sum(axis=2)


def _plan_without_actuals(config: Config):
    from simulator.model.equations import build_plan

    return build_plan(_without_actuals(config))


def actual_to_date(config: Config) -> np.ndarray:
    """Each service's actual net spend over the actual months (GBP, config order)."""
    keys = list(config.services)
    total = np.zeros(len(keys))
    for row in config.actuals.months:
        if row.service in config.services:
            total[keys.index(row.service)] += row.net_spend_gbp
    return total


def spend_to_date_warnings(config: Config, draws: int = CHECK_DRAWS) -> list[str]:
    """Services whose actual spend to date lies outside the model's own range for those months.

    The config without its actuals is simulated from the horizon start (``draws``
    draws, the config's seed) and each service's actual net spend over the
    fixed months is placed among the simulated ones. Outside the 5th to 95th
    percentile range, one line says by how much and what it means for the rest
    of the year. Skipped with a snapshot, whose placements are known only on the
    as-of date, not at the horizon start.

    Parameters
    ----------
    config : Config
    draws : int

    Returns
    -------
    list of str
        One line each, starting ``actuals:``.
    """
    from simulator.present.numbers import money_k_or_m

    if config.actuals is None or config.snapshot is not None or config.actual_months == 0:
        return []
    plan = _plan_without_actuals(config)  # built once, for the estimate and the check
    draws = _affordable(config, draws, plan)
    if draws < MIN_CHECK_DRAWS:
        return [
            "actuals: spend to date not checked against the model's own range for those "
            f"months: the council is too large to simulate {MIN_CHECK_DRAWS} draws in "
            f"{CHECK_SECONDS:g} s"
        ]
    simulated = simulated_to_date(config, draws, plan=plan)
    actual = actual_to_date(config)
    low, high = np.quantile(simulated, RANGE, axis=0)
    months = _months_text(config)
    lines = []
    for i, key in enumerate(config.services):
        if low[i] <= actual[i] <= high[i]:
            continue
        above = actual[i] > high[i]
        beyond = simulated[:, i] < actual[i] if above else simulated[:, i] > actual[i]
        # Rounded down, so the share is never overstated ("99%", not ">99%").
        share = (
            f"every one of the {draws:,}"
            if beyond.all()
            else f"{math.floor(beyond.mean() * 100)}% of the {draws:,}"
        )
        lines.append(
            f"actuals: {config.service_label(key)}: net spend {months} of "
            f"{money_k_or_m(actual[i])} is {'above' if above else 'below'} {share} futures the "
            f"model simulates for those months (9 in 10 between {money_k_or_m(low[i])} and "
            f"{money_k_or_m(high[i])}), so its simulated rest of the year is probably too "
            f"{'low' if above else 'high'}: check the line's arrivals, caseload and costs"
        )
    return lines


#: The longest the check may take (seconds on one core, estimated), since it runs
#: before ``run`` has said how long the run itself will take.
CHECK_SECONDS = 5.0

#: Fewest draws worth checking with (a 5th-95th percentile range needs some): a council
#: too large for these in ``CHECK_SECONDS`` is not checked, and that is said.
MIN_CHECK_DRAWS = 200


def _affordable(config: Config, draws: int, plan=None) -> int:
    """``draws``, or fewer for a council so large that they would take over ``CHECK_SECONDS``."""
    from simulator.model.workload import workload

    plan = plan or _plan_without_actuals(config)
    return min(draws, workload(plan).draws_within(CHECK_SECONDS))


def _months_text(config: Config) -> str:
    """``from April 2025 to September 2025``: the actual months, in words."""
    import datetime as dt

    from simulator.config.calendar import parse_fy

    last = config.actuals.as_of
    if config.actual_months == 1:
        return f"in {last:%B %Y}"
    # The actual months run from the horizon's first April to the as-of date.
    return f"from {dt.date(parse_fy(config.horizon.start), 4, 1):%B %Y} to {last:%B %Y}"
