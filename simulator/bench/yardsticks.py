"""Yardsticks: the engine against a plain numpy implementation (``benchmarks/reference_numpy.py``).

The reference is loaded from the source checkout (:func:`load_reference`) and
timed side by side with the engine, one thread, warm, both ways of charging
(:func:`measure_numpy_reference`). The other yardstick, the random-number
floor, is in :mod:`simulator.bench.floor`.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from simulator.bench.settings import Settings
from simulator.bench.timing import Timing, timed
from simulator.config.schema import Config
from simulator.engine.chunks import simulate
from simulator.model.equations import Plan


def load_reference() -> ModuleType | None:
    """``benchmarks/reference_numpy.py`` from the source checkout, or None if not there."""
    path = Path(__file__).resolve().parents[2] / "benchmarks" / "reference_numpy.py"
    if not path.is_file():
        return None
    name = "overspend_reference_numpy"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses need the module registered
    spec.loader.exec_module(module)
    return module


def measure_numpy_reference(config: Config, plan: Plan, settings: Settings) -> dict:
    """Time the plain numpy implementation (both ways of charging) against the engine, per draw.

    Each repetition runs the engine on one thread and then the reference, so
    the speed-up is a ratio of times measured side by side.

    Parameters
    ----------
    config : Config
        The config, which the reference reads itself.
    plan : Plan
        The same config compiled, for the engine.
    settings : Settings
    """
    reference = load_reference()
    if reference is None:
        return {"available": False, "why": "benchmarks/reference_numpy.py not found"}
    n, n_engine = settings.reference_draws, settings.throughput_draws
    try:
        reference.simulate(config, 2, 0)  # warm scipy and numpy paths
    except reference.UnsupportedConfig as exc:
        return {"available": False, "why": str(exc)}
    engine, timings = Timing(), {c: Timing() for c in reference.CHARGING}
    for rep in range(settings.repeats):
        engine.seconds.append(timed(simulate, plan, n_engine, 13, threads=1)[0])
        for charging, timing in timings.items():
            timing.seconds.append(timed(reference.simulate, config, n, rep, charging)[0])
    engine_per_draw = engine.median / n_engine
    out: dict[str, Any] = {
        "available": True,
        "draws": n,
        "engine_draws": n_engine,
        "engine_seconds": engine.as_dict(),
    }
    for charging, timing in timings.items():
        per_draw = timing.median / n
        out[charging] = {
            "seconds": timing.as_dict(),
            "seconds_per_draw": per_draw,
            "engine_speedup": per_draw / engine_per_draw,
        }
    return out
