"""Scaling: time against services, horizon and caseload on synthetic councils.

:func:`synthetic_config` builds a council of identical services in steady
state; :func:`measure_scaling` times it as each size grows and fits the
log-log exponent (:func:`loglog_exponent`); :func:`measure_families` gives the
time per placement of each length family. (Time against draws comes from the
memory runs, in :mod:`simulator.bench.suite`.)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from simulator.bench.settings import Settings
from simulator.bench.throughput import _work
from simulator.bench.timing import Timing, timed
from simulator.config.load import config_from_dict
from simulator.config.schema import Config
from simulator.engine.chunks import simulate
from simulator.model.equations import build_plan


def loglog_exponent(x: Sequence[float], y: Sequence[float]) -> float:
    """Least-squares slope of log(y) against log(x): y grows like x to this power."""
    return float(np.polyfit(np.log(np.asarray(x, float)), np.log(np.asarray(y, float)), 1)[0])


def synthetic_config(
    services: int = 1, years: int = 4, caseload: int = 500, dist: str = "lognormal"
) -> Config:
    """A council of ``services`` identical placement services in steady state.

    Each has ``caseload`` open placements and arrivals of 0.6 x caseload a
    year (about its steady state: lengths have a median of a year and a mean
    of 1.6 years), a lognormal weekly cost and an uncertain growth rate.

    Parameters
    ----------
    services : int
        Number of placement services.
    years : int
        Horizon, financial years (1 to 5).
    caseload : int
        Open placements per service at the start.
    dist : str
        Length family: lognormal, gamma, weibull or exponential.

    Returns
    -------
    Config
    """
    length = {
        "lognormal": {"dist": "lognormal", "median_weeks": 52.0, "sigma": 1.0},
        "gamma": {"dist": "gamma", "mean_weeks": 86.0, "shape": 1.5},
        "weibull": {"dist": "weibull", "mean_weeks": 86.0, "shape": 0.9},
        "exponential": {"dist": "exponential", "mean_weeks": 86.0},
    }[dist]
    svc = {
        "budget_gbp": 40_000_000,
        "caseload": {"open": caseload},
        "arrivals": {
            "per_year": 0.6 * caseload,
            "growth": {"dist": "normal", "mean": 0.03, "sd": 0.01},
            "dispersion": 0.05,
        },
        "length": length,
        "unit_cost": {"mean_gbp_per_week": 900.0, "cv": 0.3},
    }
    data = {
        "council": {"name": f"Synthetic council ({services} services)"},
        "horizon": {"start": "2024/25", "years": years},
        "services": {f"service_{i:02d}": dict(svc) for i in range(services)},
    }
    return config_from_dict(data, "synthetic")


def _scaling_run(config: Config, draws: int, repeats: int) -> dict:
    """Median single-thread time of a synthetic config, with the placements it simulated."""
    plan = build_plan(config)
    simulate(plan, min(draws, 500), 1, threads=1)  # warm this plan's shapes
    timing, sim = Timing(), None
    for _ in range(repeats):
        t, sim = timed(simulate, plan, draws, 3, threads=1)
        timing.seconds.append(t)
    placements, _ = _work(plan, sim)
    return {"seconds": timing.median, "placements": placements}


def measure_scaling(settings: Settings) -> dict:
    """Time against services, horizon and caseload size on synthetic councils, with exponents."""
    n, reps = settings.scaling_draws, max(1, settings.repeats // 2)
    cases = {
        "services": [(s, synthetic_config(services=s, caseload=300)) for s in settings.services],
        "horizon_years": [(y, synthetic_config(services=3, years=y)) for y in settings.years],
        "caseload": [(c, synthetic_config(services=1, caseload=c)) for c in settings.caseloads],
    }
    out = {}
    for name, configs in cases.items():
        runs = [(x, _scaling_run(c, n, reps)) for x, c in configs]
        xs = [x for x, _ in runs]
        seconds = [r["seconds"] for _, r in runs]
        placements = [r["placements"] for _, r in runs]
        out[name] = {
            "x": xs,
            "seconds": seconds,
            "placements": placements,
            "exponent": loglog_exponent(xs, seconds),
            "exponent_vs_placements": loglog_exponent(placements, seconds),
        }
    out["draws_per_run"] = n
    return out


def measure_families(settings: Settings) -> dict:
    """Single-thread nanoseconds per placement for each length family (synthetic, 1 service)."""
    out = {}
    for dist in ("lognormal", "gamma", "weibull", "exponential"):
        run = _scaling_run(synthetic_config(caseload=1_000, dist=dist), settings.scaling_draws, 1)
        out[dist] = run["seconds"] / run["placements"] * 1e9
    return out
