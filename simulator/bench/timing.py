"""Timers, the machine, and fresh processes: cold start and peak memory.

:class:`Timing` and :func:`timed` time the in-process measurements;
:func:`machine` records what they ran on. Cold start (:func:`measure_cold_start`)
and memory (:func:`measure_memory`) run in child processes; a memory child is
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
    """Repeated wall-clock times of one measurement, seconds."""

    seconds: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        """Median time, seconds."""
        return float(np.median(self.seconds))

    def as_dict(self) -> dict:
        """Median, min, max and every time, seconds."""
        return {
            "median": self.median,
            "min": float(min(self.seconds)),
            "max": float(max(self.seconds)),
            "all": [float(s) for s in self.seconds],
        }


def timed(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[float, Any]:
    """Call ``fn(*args, **kwargs)`` once; return (wall seconds, its result)."""
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return time.perf_counter() - start, result


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


_COLD_START = """
import json, sys, time
t0 = time.perf_counter()
import simulator
t1 = time.perf_counter()
simulator.run(sys.argv[1], draws=int(sys.argv[2]), seed=1, threads=1)
t2 = time.perf_counter()
print(json.dumps({"import_seconds": t1 - t0, "first_run_seconds": t2 - t1}))
"""


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


def measure_cold_start(config_path: Path, settings: Settings) -> dict:
    """Wall time of a fresh process simulating one chunk: empty numba cache, then warm cache."""
    with tempfile.TemporaryDirectory(prefix="overspend-numba-cache-") as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache}
        args = ["-c", _COLD_START, str(config_path), str(settings.cold_start_draws)]
        cold, cold_detail = _run_child(args, env)
        warm, warm_detail = _run_child(args, env)
    return {
        "draws": settings.cold_start_draws,
        "cold_start_seconds": cold,
        "warm_cache_start_seconds": warm,
        "cold": cold_detail,
        "warm_cache": warm_detail,
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
