"""Yardsticks: the engine against two numpy implementations of the same model.

``benchmarks/reference_numpy.py`` loops over draws and vectorises within
each (per-draw numpy, both ways of charging); ``benchmarks/batched_numpy.py``
handles the placements of a block of draws at once (batched numpy, what a
competent analyst writes for Monte Carlo, and the yardstick the README
quotes). Both are loaded from the source checkout (:func:`load_reference`,
:func:`load_batched`) and timed side by side with the engine, one thread,
warm (:func:`measure_numpy_reference`). The other yardstick, the
random-number floor, is in :mod:`simulator.bench.floor`.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from simulator.bench.settings import Settings
from simulator.bench.timing import Timing, timed_cpu
from simulator.config.schema import Config
from simulator.engine.chunks import simulate
from simulator.model.equations import Plan, build_plan


def _load_benchmark(filename: str) -> ModuleType | None:
    """``benchmarks/<filename>`` from the source checkout as a module, or None if not there."""
    path = Path(__file__).resolve().parents[2] / "benchmarks" / filename
    if not path.is_file():
        return None
    name = f"overspend_{path.stem}"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses need the module registered
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


def load_reference() -> ModuleType | None:
    """``benchmarks/reference_numpy.py`` (per-draw numpy) from the source checkout, or None."""
    return _load_benchmark("reference_numpy.py")


def load_batched() -> ModuleType | None:
    """``benchmarks/batched_numpy.py`` (numpy batched across draws) from the checkout, or None."""
    return _load_benchmark("batched_numpy.py")


def pathways_in(config: Config) -> list[str]:
    """What of issue 12's model a config uses, in words: the numpy yardsticks model none of it."""
    found = [f"shared demand factors ({', '.join(config.demand.factors)})"] if config.demand else []
    for key, svc in config.services.items():
        if svc.kind != "placements":
            continue
        if svc.moves:
            found.append(f"moves from {key}")
        if svc.ageing is not None:
            found.append(f"ageing in {key}")
        if svc.arrivals.demand:
            found.append(f"demand weights of {key}")
    return found


def without_pathways(config: Config) -> Config:
    """The config without moves, ageing and shared demand factors (for the yardsticks).

    The engine is timed on the same stripped config, so the speed-ups compare
    the same model; a config using none of them is returned as it is.
    """
    if not pathways_in(config):
        return config
    services = {}
    for key, svc in config.services.items():
        if svc.kind == "placements":
            arrivals = svc.arrivals.model_copy(update={"demand": None})
            svc = svc.model_copy(update={"moves": None, "ageing": None, "arrivals": arrivals})
        services[key] = svc
    return config.model_copy(update={"services": services, "demand": None})


def _agreement(engine_total: np.ndarray, numpy_total: np.ndarray) -> dict:
    """How far apart two samples of the total outturn (draws x years) are, in standard errors.

    A cheap sign that a yardstick still simulates the same model (the tests
    check every output properly): the difference of the means, and of the
    variances, in Monte Carlo standard errors, largest over the years.
    """
    a, b = engine_total, numpy_total
    se_mean = np.sqrt(a.var(axis=0, ddof=1) / len(a) + b.var(axis=0, ddof=1) / len(b))
    z_mean = (a.mean(axis=0) - b.mean(axis=0)) / se_mean

    def var_and_se(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        dev = x - x.mean(axis=0)
        var, m4 = (dev**2).mean(axis=0), (dev**4).mean(axis=0)
        return var, np.sqrt(np.maximum(m4 - var**2, 0.0) / len(x))

    (va, sa), (vb, sb) = var_and_se(a), var_and_se(b)
    z_var = (va - vb) / np.sqrt(sa**2 + sb**2)
    return {
        "max_abs_z_mean": float(np.abs(z_mean).max()),
        "max_abs_z_variance": float(np.abs(z_var).max()),
    }


def _engine_total(plan: Plan, sim) -> np.ndarray:
    """The engine's total outturn by financial year (draws x years), from its total row."""
    total = next(g for g, group in enumerate(plan.groups) if group.kind == "total")
    spend = sim.spend[:, total]
    return spend.reshape(len(spend), plan.years, -1).sum(axis=2)


def measure_numpy_reference(config: Config, plan: Plan, settings: Settings) -> dict:
    """Time both numpy implementations against the engine, per draw, in CPU seconds.

    Each repetition runs the engine on one thread, then the per-draw numpy
    reference (both ways of charging), then the batched one, so every
    speed-up is a ratio of times measured side by side. Speed-ups use CPU
    time (what the work costs, whatever else the shared machine is doing);
    wall times are recorded too.

    Parameters
    ----------
    config : Config
        The config, which the numpy implementations read themselves.
    plan : Plan
        The same config compiled, for the engine.
    settings : Settings
    """
    reference, batched = load_reference(), load_batched()
    if reference is None or batched is None:
        return {"available": False, "why": "benchmarks/*_numpy.py not found (not a checkout)"}
    stripped = pathways_in(config)
    if stripped:  # the yardsticks do not model them: time all three on the config without
        config = without_pathways(config)
        plan = build_plan(config)
    n, n_engine, n_batched = (
        settings.reference_draws,
        settings.throughput_draws,
        settings.batched_draws,
    )
    try:
        reference.simulate(config, 2, 0)  # warm scipy and numpy paths
        batched.simulate(config, 2, 0)
    except reference.UnsupportedConfig as exc:
        return {"available": False, "why": str(exc)}
    engine = Timing()
    timings = {c: Timing() for c in reference.CHARGING}
    batched_timing = Timing()
    for rep in range(settings.repeats):
        wall, cpu, sim = timed_cpu(simulate, plan, n_engine, 13, threads=1)
        engine.add(wall, cpu)
        for charging, timing in timings.items():
            timing.add(*timed_cpu(reference.simulate, config, n, rep, charging)[:2])
        wall, cpu, result = timed_cpu(batched.simulate, config, n_batched, rep)
        batched_timing.add(wall, cpu)
    engine_per_draw = engine.cpu_median / n_engine
    out: dict[str, Any] = {
        "available": True,
        "draws": n,
        "engine_draws": n_engine,
        "engine_seconds": engine.as_dict(),
        "engine_cpu_seconds": engine.cpu_as_dict(),
        "time": "CPU seconds of this process (speed-ups); wall seconds recorded as well",
        "stripped": stripped,  # what the engine and both yardsticks ran without
    }
    for name, timing, draws in (
        *((c, t, n) for c, t in timings.items()),
        ("batched", batched_timing, n_batched),
    ):
        per_draw = timing.cpu_median / draws
        out[name] = {
            "draws": draws,
            "seconds": timing.as_dict(),
            "cpu_seconds": timing.cpu_as_dict(),
            "seconds_per_draw": per_draw,
            "engine_speedup": per_draw / engine_per_draw,
            "engine_speedup_wall": (timing.median / draws) / (engine.median / n_engine),
        }
    out["batched"]["block_draws"] = batched.block_for(config)
    out["batched"]["agreement_total_outturn"] = _agreement(
        _engine_total(plan, sim), result.outturn.sum(axis=1)
    )
    return out
