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


# ------------------------------------------------------------------ scaling out: threads and dask workers

#: Draws of each scale-out run, by suite size: enough chunks that every worker
#: gets several (quick: 12 chunks of 500; full: 60).
SCALE_OUT_DRAWS = {"quick": 6_000, "full": 30_000}


def _best_of(repeats: int, fn, *args, **kwargs) -> float:
    """Median wall seconds of ``repeats`` calls."""
    seconds = [timed(fn, *args, **kwargs)[0] for _ in range(repeats)]
    return float(np.median(seconds))


def _compute_seconds(records: list[dict]) -> float:
    """Seconds the workers spent computing tasks (dask's task stream), summed over tasks."""
    return sum(
        s["stop"] - s["start"]
        for r in records
        for s in r.get("startstops", ())
        if s.get("action") == "compute"
    )


def _store_write_seconds(plan, draws: int) -> dict:
    """What a worker spends turning a block of chunks into its region of the zarr store.

    Times :func:`simulator.runs.streamed._block_task` (assemble, build the
    block's Dataset, write it) on chunks computed beforehand, in this process.
    """
    import tempfile
    from pathlib import Path

    from simulator.engine.chunks import CHUNK_DRAWS, chunk_bounds, chunk_results
    from simulator.runs import streamed

    block_draws = min(streamed.CHUNKS_PER_BLOCK * CHUNK_DRAWS, draws)
    bounds = chunk_bounds(block_draws)
    chunks = list(chunk_results(plan, 5, bounds, 1))
    with tempfile.TemporaryDirectory(prefix="overspend-bench-") as tmp:
        path = Path(tmp) / "s.zarr"
        template = streamed._block_dataset(plan, streamed.allocate(plan, 0), 5, 0, block_draws, {})
        streamed._create_store(path, template, block_draws, block_draws)
        seconds, _ = timed(streamed._block_task, plan, str(path), 5, 0, block_draws, {}, *chunks)
    return {
        "block_draws": block_draws,
        "seconds": seconds,
        "seconds_per_chunk": seconds / len(bounds),
    }


def _on_workers(plan, draws: int, workers: int, repeats: int) -> dict:
    """Throughput of ``workers`` local dask worker processes, and their per-task overheads.

    ``overhead_seconds_per_task``: worker-seconds per chunk not spent computing
    it (scheduling, sending the result to the client, waiting), from dask's
    task stream. ``tiny_task_seconds``: wall seconds per task of one-draw
    chunks, the round trip with next to nothing to compute.
    """
    from distributed import get_task_stream

    from simulator.engine import cluster
    from simulator.engine.chunks import chunk_bounds, cluster_chunks

    client = cluster.start_local(workers, dashboard=False)
    try:
        # The first task on a fresh worker loads (or compiles) the kernels; then it is free.
        first = cluster.warm_up(client)
        again = cluster.warm_up(client)
        seconds = _best_of(repeats, simulate, plan, draws, 3, client=client)
        with get_task_stream(client=client) as stream:
            wall, _ = timed(simulate, plan, draws, 3, client=client)
        tasks = len(chunk_bounds(draws))
        idle = wall * workers - _compute_seconds(stream.data)
        tiny = [(i, i + 1) for i in range(50 * workers)]
        tiny_wall, _ = timed(lambda: list(cluster_chunks(client, plan, 3, tiny)))
    finally:
        cluster._close(client)
    return {
        "workers": workers,
        "seconds": seconds,
        "draws_per_second": draws / seconds,
        "first_task_load_seconds": float(np.median(list(first.values()))),
        "second_task_load_seconds": float(np.median(list(again.values()))),
        "overhead_seconds_per_task": max(0.0, idle) / tasks,
        "tiny_task_seconds": tiny_wall / len(tiny),
        "tasks": tasks,
    }


def measure_scale_out(plan, settings: Settings, threads: int) -> dict:
    """Throughput on 1 thread, ``threads`` threads and 1, 2, ... local dask worker processes.

    Parallel efficiency of ``k`` workers is their throughput over ``k`` times
    that of one thread (so 1.0 is perfect scaling); ``workers_vs_threads`` is
    the throughput of ``threads`` workers over that of ``threads`` threads,
    the cost of processes and the scheduler over threads in one process.
    Every run's results are identical (tests/engine/test_cluster.py checks it).

    Returns
    -------
    dict
        Empty with a ``skipped`` reason when dask.distributed is not installed.
    """
    try:
        import distributed  # noqa: F401
    except ImportError:
        return {"skipped": 'dask.distributed is not installed (pip install "overspend[cluster]")'}
    draws = SCALE_OUT_DRAWS.get(settings.name, 4 * 500)  # a test's tiny suite: 4 chunks
    repeats = max(1, settings.repeats // 2)
    simulate(plan, 500, 3, threads=1)  # warm
    one = _best_of(repeats, simulate, plan, draws, 3, threads=1)
    many = _best_of(repeats, simulate, plan, draws, 3, threads=threads)
    runs = [_on_workers(plan, draws, k, repeats) for k in range(1, threads + 1)]
    for run in runs:
        run["parallel_efficiency"] = one / (run["seconds"] * run["workers"])
    return {
        "draws": draws,
        "chunk_draws": 500,
        "seconds_1_thread": one,
        "seconds_per_chunk_1_thread": one / (draws / 500),
        "threads": threads,
        "seconds_n_threads": many,
        "thread_efficiency": one / (many * threads),
        "workers": runs,
        "workers_vs_threads": many / runs[-1]["seconds"],
        "store_write": _store_write_seconds(plan, draws),
    }


def scale_out_table(scale_out: dict | None):
    """The scale-out section of ``overspend bench`` as a rich Table (None when it did not run)."""
    from rich.table import Table

    if not scale_out or "skipped" in scale_out:
        return None
    n = scale_out["draws"]
    table = Table(title=f"Scaling out: {n:,} draws in chunks of 500 (one task each on dask)")
    for name in ("Run on", "Draws/s", "Efficiency", "Overhead/task", "First task load"):
        table.add_column(name, justify="left" if name == "Run on" else "right")
    one, many, k = (
        scale_out["seconds_1_thread"],
        scale_out["seconds_n_threads"],
        scale_out["threads"],
    )
    table.add_row("1 thread", f"{n / one:,.0f}", "1.00", "", "")
    table.add_row(
        f"{k} threads", f"{n / many:,.0f}", f"{scale_out['thread_efficiency']:.2f}", "", ""
    )
    for run in scale_out["workers"]:
        table.add_row(
            f"{run['workers']} dask worker(s)", f"{run['draws_per_second']:,.0f}",
            f"{run['parallel_efficiency']:.2f}", f"{run['overhead_seconds_per_task'] * 1e3:.0f} ms",
            f"{run['first_task_load_seconds']:.2f} s (then {run['second_task_load_seconds']:.2f} s)",
        )  # fmt: skip
    write = scale_out["store_write"]
    table.caption = (
        f"{k} workers / {k} threads: {scale_out['workers_vs_threads']:.2f} of the throughput. "
        f"Writing a block of {write['block_draws']:,} draws to zarr: {write['seconds']:.2f} s "
        f"({write['seconds_per_chunk'] * 1e3:.0f} ms a chunk)."
    )
    return table


#: dask.distributed's own figure for its scheduler: about 1 ms of overhead per task.
#: The scheduler is one process, so this bounds any run from below by tasks x 1 ms.
SCHEDULER_SECONDS_PER_TASK = 1e-3


def sobol_draws(samples: int, groups: int, case_groups: int) -> int:
    """Model draws of one Sobol analysis: ``samples x (groups + 3)`` plus one matrix per group
    that changes the case-level draws (see :mod:`simulator.analysis.sensitivity`)."""
    return samples * (groups + 3 + case_groups)


def project(
    draws: int,
    tasks: int,
    seconds_per_chunk: float,
    overhead_per_task: float,
    workers: int,
    write_per_chunk: float = 0.0,
) -> float:
    """Projected wall seconds of ``draws`` draws in ``tasks`` tasks on ``workers`` single-core workers.

    The work, ``draws / 500`` chunk-equivalents of compute (and store writes) plus
    the measured per-task overhead, is shared evenly; the scheduler's own time,
    :data:`SCHEDULER_SECONDS_PER_TASK` per task, is a floor that more workers do
    not lower. Start-up, the filesystem's bandwidth and stragglers are left out
    (the README says what they add).

    Parameters
    ----------
    draws : int
        Model draws (each ~1/500 of a chunk's compute).
    tasks : int
        Tasks submitted (chunks, and blocks of a streamed run).
    seconds_per_chunk : float
        Compute seconds of one 500-draw chunk on one core.
    overhead_per_task : float
        Worker-seconds per task not spent computing (scheduling, transfer), seconds.
    workers : int
        Single-threaded workers, one core each.
    write_per_chunk : float
        Worker-seconds to write a chunk's share of a streamed store.

    Returns
    -------
    float
        Seconds.
    """
    work = draws / 500 * (seconds_per_chunk + write_per_chunk) + tasks * overhead_per_task
    return max(work / workers, tasks * SCHEDULER_SECONDS_PER_TASK)
