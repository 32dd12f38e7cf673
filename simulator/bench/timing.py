"""Timers, the machine, and fresh processes: cold start and peak memory.

:class:`Timing` and :func:`timed` time the in-process measurements;
:func:`machine` records what they ran on. Start-up (:func:`measure_startup`:
``overspend run --no-charts`` with an empty numba cache, then a warm one) and
memory (:func:`measure_memory`) run in child processes; a memory child is
``python -m simulator.bench child MODE CONFIG DRAWS THREADS`` (see
:mod:`simulator.bench.__main__`), whose body is :func:`_child`.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from simulator._version import __version__
from simulator.bench.settings import Settings
from simulator.config.load import load_config


@dataclass
class Timing:
    """Repeated times of one measurement, seconds: wall clock, and CPU where recorded."""

    seconds: list[float] = field(default_factory=list)
    cpu_seconds: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        """Median wall time, seconds."""
        return float(np.median(self.seconds))

    @property
    def cpu_median(self) -> float:
        """Median CPU time of this process, seconds."""
        return float(np.median(self.cpu_seconds))

    def add(self, wall: float, cpu: float) -> None:
        """Record one repetition's wall and CPU seconds."""
        self.seconds.append(wall)
        self.cpu_seconds.append(cpu)

    def as_dict(self) -> dict:
        """Median, min, max and every wall time, seconds."""
        return _spread(self.seconds)

    def cpu_as_dict(self) -> dict:
        """Median, min, max and every CPU time, seconds."""
        return _spread(self.cpu_seconds)


def _spread(seconds: list[float]) -> dict:
    return {
        "median": float(np.median(seconds)),
        "min": float(min(seconds)),
        "max": float(max(seconds)),
        "all": [float(s) for s in seconds],
    }


def timed(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[float, Any]:
    """Call ``fn(*args, **kwargs)`` once; return (wall seconds, its result)."""
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return time.perf_counter() - start, result


def timed_cpu(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[float, float, Any]:
    """Call ``fn(*args, **kwargs)`` once; return (wall seconds, CPU seconds, its result).

    CPU time is this process's, every thread included: on a shared machine
    it leaves out the time spent waiting for a core, which wall time does not.
    """
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn(*args, **kwargs)
    return time.perf_counter() - wall, time.process_time() - cpu, result


def machine() -> dict:
    """What the figures were measured on: CPU, memory, load, software versions."""
    import numba

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        pages, page_size = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
        memory = int(pages * page_size)
    except (ValueError, OSError, AttributeError):
        memory = None
    return {
        "cpu": cpu,
        "logical_cpus": os.cpu_count(),
        "memory_bytes": memory,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "numba": numba.__version__,
        "overspend": __version__,
        "load_average_1_5_15": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
    }


def _run_child(args: list[str], env: dict | None = None) -> tuple[float, dict]:
    """Run ``python args...`` and parse the JSON line it prints; (wall seconds, that dict)."""
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, env=env, check=False
    )
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"benchmark child {args[:3]} failed:\n{done.stderr[-3000:]}")
    return seconds, json.loads(done.stdout.strip().splitlines()[-1])


def _run_timed(args: list[str], env: dict | None = None) -> dict:
    """Run ``python args...`` to the end; its wall and CPU seconds (user + system, children too).

    Raises
    ------
    RuntimeError
        If the process fails (its error output is in the message).
    """
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, env=env, check=False
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise RuntimeError(f"benchmark child {args[:3]} failed:\n{done.stderr[-3000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall_seconds": wall, "cpu_seconds": cpu, "stdout": done.stdout}


def _small_config(folder: Path) -> Path:
    """A small config (two services, one year) written into ``folder``: start-up, not simulation."""
    from simulator.bench.scaling import synthetic_config
    from simulator.config.load import dumps_config

    path = folder / "small.toml"
    path.write_text(dumps_config(synthetic_config(services=2, years=1, caseload=100)))
    return path


_IMPORT_CONFIG = """
import json, sys, time
t = time.perf_counter()
import simulator.config
print(json.dumps({"seconds": time.perf_counter() - t,
                  "scipy_special": "scipy.special" in sys.modules}))
"""


def measure_startup(settings: Settings, repeats: int = 3) -> dict:
    """Start-up of the command a user types: ``overspend run --no-charts`` on a small config.

    Cold: a fresh numba cache (an empty temporary ``NUMBA_CACHE_DIR``), so
    the kernels are compiled, as on the first run after installing. Warm:
    the same cache, now filled, ``repeats`` times. Each is a fresh process
    (``python -m simulator run``); wall and CPU seconds (CPU: the child's
    user + system time, so other work on a shared machine does not count).
    Also the time to import ``simulator.config`` and whether that imported
    ``scipy.special`` (it costs 0.2-0.6 s and is imported on first use).
    """
    with tempfile.TemporaryDirectory(prefix="overspend-startup-") as tmp:
        folder = Path(tmp)
        config = _small_config(folder)
        env = {**os.environ, "NUMBA_CACHE_DIR": str(folder / "numba-cache")}

        def run(name: str) -> dict:
            args = ["-m", "simulator", "run", str(config), "--no-charts"]
            args += ["--draws", str(settings.cold_start_draws), "--out", str(folder / name)]
            out = _run_timed(args, env)
            del out["stdout"]
            return out

        cold = run("cold")
        warm = [run(f"warm{i}") for i in range(repeats)]
        imports = []
        for _ in range(repeats):
            out = _run_timed(["-c", _IMPORT_CONFIG])
            imports.append(json.loads(out["stdout"].strip().splitlines()[-1]))
    warm_cpu = [w["cpu_seconds"] for w in warm]
    warm_wall = [w["wall_seconds"] for w in warm]
    return {
        "command": "overspend run SMALL --no-charts",
        "draws": settings.cold_start_draws,
        "cold_wall_seconds": cold["wall_seconds"],
        "cold_cpu_seconds": cold["cpu_seconds"],
        "warm_wall_seconds": float(np.median(warm_wall)),
        "warm_cpu_seconds": float(np.median(warm_cpu)),
        "warm_wall_seconds_all": warm_wall,
        "warm_cpu_seconds_all": warm_cpu,
        "compile_cpu_seconds": cold["cpu_seconds"] - float(np.median(warm_cpu)),
        "import_config_seconds": float(np.median([i["seconds"] for i in imports])),
        "import_config_loads_scipy_special": any(i["scipy_special"] for i in imports),
    }


def measure_memory(config_path: Path, settings: Settings, threads: int) -> dict:
    """Peak RSS and run time of fresh processes: in-memory runs and streamed runs."""
    out: dict[str, list[dict]] = {"in_memory": [], "streamed": []}
    for mode, sizes in (("in_memory", settings.memory_draws), ("streamed", settings.stream_draws)):
        for draws in sizes:
            args = [
                "-m",
                "simulator.bench",
                "child",
                mode,
                str(config_path),
                str(draws),
                str(threads),
            ]
            _, result = _run_child(args)
            out[mode].append(result)
    return out


def _peak_rss_bytes() -> int:
    """This process's peak resident memory so far, bytes.

    Read from ``VmHWM`` in ``/proc/self/status``: ``getrusage``'s ``ru_maxrss``
    survives ``execve``, so in a child started from a big parent it reports
    at least the parent's size.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) * 1024  # kB on Linux


def _child(mode: str, config_path: str, draws: int, threads: int) -> dict:
    """Body of a memory-benchmark process: one warm run, timed, then its summary."""
    import simulator
    from simulator.results.summary import summary_table
    from simulator.runs import streamed as stream

    config = load_config(config_path)
    simulator.run(config, draws=500, seed=2, threads=1)  # load the compiled kernels
    rss_before = _peak_rss_bytes()
    out = {"mode": mode, "draws": draws, "threads": threads, "rss_before_run_bytes": rss_before}
    with tempfile.TemporaryDirectory(prefix="overspend-bench-") as tmp:
        if mode == "in_memory":
            out["run_seconds"], ds = timed(simulator.run, config, draws, 1, threads)
            out["peak_rss_after_run_bytes"] = _peak_rss_bytes()
            out["summary_seconds"], _ = timed(summary_table, ds)
        else:
            store = Path(tmp) / stream.STORE_NAME
            out["run_seconds"], _ = timed(
                lambda: stream.run_to_zarr(config, store, draws, 1, threads)
            )
            out["peak_rss_after_run_bytes"] = _peak_rss_bytes()
            out["store_bytes"] = sum(f.stat().st_size for f in store.rglob("*") if f.is_file())
            with stream.open_results(store) as ds:
                out["summary_seconds"], _ = timed(summary_table, ds)
                # What a fan chart needs: percentiles of cumulative total spend by month.
                out["fan_seconds"], _ = timed(
                    lambda: np.percentile(
                        ds["spend"].sel(service="total").values.cumsum(axis=1), [5, 50, 95], axis=0
                    )
                )
    out["peak_rss_bytes"] = _peak_rss_bytes()
    return out
