"""The benchmark suite behind ``overspend bench``: which measurements run, and ``main``.

Speed and memory, as ratios that travel.

What it measures (see ``benchmarks/README.md`` for how to read the results):

1. **Throughput**, warm: draws per second, placements and placement-months
   per second, on one thread and on all of them, with median and spread of
   repeated runs; results with 1 and N threads must be identical.
2. **Start-up**: ``overspend run --no-charts`` on a small config in a fresh
   process with an empty numba cache (compilation included), then with the
   cache warm (wall and CPU seconds), and the import time of the config layer.
3. **Scaling**: time against draws, services, horizon and caseload size,
   with the fitted log-log exponent of each.
4. **Memory**: peak resident memory of fresh processes against draws, in
   memory and streamed to zarr (:mod:`simulator.runs.streamed`), up to 1,000,000
   draws in the full run; the streamed run is then summarised to show the
   results are still usable.
5. **The random-number floor**: numpy's Generator drawing the same numbers
   and kinds of variates the simulation drew, in the same process; the
   ratio simulation / floor. Also the kernel alone against the same variates
   drawn inside numba by the kernel's own generator (in :mod:`simulator.model.kernels`),
   on the config and for each length family on its own.
6. **Two numpy implementations**: per draw (``benchmarks/reference_numpy.py``)
   and batched across draws (``benchmarks/batched_numpy.py``, the stronger
   yardstick): the engine's speed-up over each, single-threaded, warm, CPU time.

Absolute times depend on the machine and on what else it is doing; the
ratios (floor ratio, numpy speed-up) are measured in one process with the
runs interleaved, so they travel between machines, and ``--check`` compares
only them with a stored baseline.

Where each part is: sizes and targets in :mod:`simulator.bench.settings`;
throughput in :mod:`~simulator.bench.throughput`; the floor in
:mod:`~simulator.bench.floor`; the numpy reference in
:mod:`~simulator.bench.yardsticks`; scaling in :mod:`~simulator.bench.scaling`;
timers, cold start and memory (fresh processes) in :mod:`~simulator.bench.timing`;
the baseline check in :mod:`~simulator.bench.check`; the table, plot and files
in :mod:`~simulator.bench.output`.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from simulator.bench.check import DEFAULT_TOLERANCE, check_against_baseline, read_baseline
from simulator.bench.commands import command_ratios, measure_commands
from simulator.bench.families import FAMILIES, measure_kernel_floor_by_family
from simulator.bench.floor import measure_kernel_floor
from simulator.bench.output import print_report, write_results
from simulator.bench.pathways import PATHWAY_RATIO_TARGET, measure_pathways
from simulator.bench.scaling import (
    loglog_exponent,
    measure_families,
    measure_scale_out,
    measure_scaling,
)
from simulator.bench.settings import (
    BATCHED_SPEEDUP_TARGET,
    FLOOR_RATIO_TARGET,
    FULL,
    KERNEL_FLOOR_RATIO_TARGET,
    MEMORY_TARGET_BYTES,
    NUMPY_SPEEDUP_TARGET,
    QUICK,
    REPORT_RATIO_TARGET,
    RUN_CHARTS_RATIO_TARGET,
    Settings,
)
from simulator.bench.throughput import measure_throughput
from simulator.bench.timing import machine, measure_memory, measure_startup
from simulator.bench.yardsticks import measure_numpy_reference
from simulator.config.bundled import bundled_config
from simulator.config.load import load_config
from simulator.config.schema import Config
from simulator.model.equations import build_plan


def _draws_scaling(memory: dict) -> dict:
    runs = memory["streamed"]
    xs, seconds = [r["draws"] for r in runs], [r["run_seconds"] for r in runs]
    return {
        "x": xs,
        "seconds": seconds,
        "exponent": loglog_exponent(xs, seconds) if len(xs) > 1 else None,
    }


def _headline(config: Config, parts: dict) -> dict:
    """The keys every results file has (``--check`` and the README read these)."""
    tp, ref, memory = parts["throughput"], parts["numpy_reference"], parts["memory"]
    n = tp["draws"]
    per_draw_1 = tp["seconds_1_thread"]["median"] / n
    per_draw_n = tp["seconds_n_threads"]["median"] / n
    streamed = {r["draws"]: r for r in memory["streamed"]}
    in_memory = {r["draws"]: r for r in memory["in_memory"]}
    default = config.run.draws
    warm = in_memory.get(default) or streamed.get(default)
    million = streamed.get(1_000_000)
    both = sorted(set(streamed) & set(in_memory))
    return {
        "draws_per_second": 1.0 / per_draw_n,
        "draws_per_second_1_thread": 1.0 / per_draw_1,
        "placements_per_second": tp["placements_per_draw"] / per_draw_n,
        "placement_months_per_second": tp["placement_months_per_draw"] / per_draw_n,
        "floor_ratio": tp["floor_ratio"],
        "kernel_floor_ratio_numba": parts["kernel_floor"]["kernel_floor_ratio_numba"],
        "numpy_speedup": ref["overlap"]["engine_speedup"] if ref["available"] else None,
        "numpy_speedup_difference": ref["difference"]["engine_speedup"]
        if ref["available"]
        else None,
        "numpy_speedup_batched": ref["batched"]["engine_speedup"] if ref["available"] else None,
        **{
            f"kernel_floor_ratio_{family}": parts["kernel_floor_by_family"][family][
                "kernel_floor_ratio_numba"
            ]
            for family in FAMILIES
        },
        "pathway_ratio": (parts.get("pathways") or {}).get("pathway_ratio"),
        "cold_start_seconds": parts["startup"]["cold_wall_seconds"],
        "warm_cache_start_seconds": parts["startup"]["warm_wall_seconds"],
        "cold_start_cpu_seconds": parts["startup"]["cold_cpu_seconds"],
        "warm_start_cpu_seconds": parts["startup"]["warm_cpu_seconds"],
        "warm_run_seconds": warm["run_seconds"] if warm else None,
        "warm_run_draws": default if warm else None,
        "peak_rss_bytes_1e6_draws": million["peak_rss_bytes"] if million else None,
        "memory_target_met": (million["peak_rss_bytes"] < MEMORY_TARGET_BYTES) if million else None,
        "thread_speedup": tp["thread_speedup"],
        "threads_identical": tp["threads_identical"],
        # Streamed over in-memory run time at the largest size run both ways.
        "streaming_time_ratio": (
            streamed[both[-1]]["run_seconds"] / in_memory[both[-1]]["run_seconds"] if both else None
        ),
    }


def run_suite(
    config_path: Path | None = None,
    quick: bool = False,
    threads: int | None = None,
    log: Callable[[str], None] = print,
    settings: Settings | None = None,
) -> dict:
    """Run every measurement and return the results (what is written as JSON).

    Parameters
    ----------
    config_path : pathlib.Path, optional
        The config to benchmark (default: the bundled example county).
    quick : bool
        Small sizes, a few minutes; the full suite runs 1,000,000 draws.
    threads : int, optional
        Threads for the "N threads" runs (default: the machine's cores, at least 2).
    log : callable
        Progress messages.
    settings : Settings, optional
        Sizes of each measurement; overrides ``quick``.

    Returns
    -------
    dict
    """
    settings = settings or (QUICK if quick else FULL)
    config_path = Path(config_path) if config_path else bundled_config()
    config = load_config(config_path)
    plan = build_plan(config)
    threads = threads or max(2, os.cpu_count() or 1)
    started = time.perf_counter()
    info = {"machine_before": machine()}
    parts: dict[str, Any] = {}
    log(
        f"throughput and random-number floor ({settings.throughput_draws:,} draws x {settings.repeats})"
    )
    parts["throughput"] = measure_throughput(plan, settings, threads)
    log("kernel against its own generator's floor")
    parts["kernel_floor"] = measure_kernel_floor(plan, settings)
    log(f"kernel against its floor, per length family ({', '.join(FAMILIES)})")
    parts["kernel_floor_by_family"] = measure_kernel_floor_by_family(settings)
    log("kernel with moves and ageing against the same council without them")
    parts["pathways"] = measure_pathways(settings)
    log(
        f"numpy yardsticks: per draw ({settings.reference_draws} draws), "
        f"batched ({settings.batched_draws} draws)"
    )
    parts["numpy_reference"] = measure_numpy_reference(config, plan, settings)
    log("scaling with services, horizon and caseload")
    parts["scaling"] = measure_scaling(settings)
    parts["ns_per_placement_by_family"] = measure_families(settings)
    log("scaling out: 1 and N threads, 1, 2, ... local dask worker processes")
    parts["scale_out"] = measure_scale_out(plan, settings, threads)
    log("start-up: overspend run --no-charts, cold (empty numba cache) and warm")
    parts["startup"] = measure_startup(settings)
    log(f"memory (fresh processes; streamed up to {max(settings.stream_draws):,} draws)")
    parts["memory"] = measure_memory(config_path, settings, threads)
    parts["scaling"]["draws"] = _draws_scaling(parts["memory"])
    log(f"commands: run with charts, run --no-charts, report ({settings.command_draws:,} draws)")
    parts["commands"] = measure_commands(config_path, settings)
    return {
        **_headline(config, parts),
        **command_ratios(parts),
        "mode": settings.name,
        "config": str(config_path),
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "suite_seconds": time.perf_counter() - started,
        "machine": {
            **machine(),
            **{"load_average_before": info["machine_before"]["load_average_1_5_15"]},
        },
        "targets": {
            "floor_ratio_at_most": FLOOR_RATIO_TARGET,
            "numpy_speedup_at_least": NUMPY_SPEEDUP_TARGET,
            "numpy_speedup_batched_at_least": BATCHED_SPEEDUP_TARGET,
            "kernel_floor_ratio_at_most": KERNEL_FLOOR_RATIO_TARGET,
            "pathway_ratio_at_most": PATHWAY_RATIO_TARGET,
            "run_charts_ratio_at_most": RUN_CHARTS_RATIO_TARGET,
            "report_ratio_at_most": REPORT_RATIO_TARGET,
            "peak_rss_bytes_1e6_draws_below": MEMORY_TARGET_BYTES,
        },
        **parts,
    }


def main(
    quick: bool = False,
    check: Path | None = None,
    tolerance: float = DEFAULT_TOLERANCE,
    out_dir: Path = Path("results/bench"),
    config_path: Path | None = None,
    threads: int | None = None,
) -> int:
    """Run the suite, print and write the results, and optionally check against a baseline.

    Returns
    -------
    int
        0, or 1 when ``check`` is given and a ratio fell below the baseline.

    Raises
    ------
    UserError
        If ``check`` is not a usable baseline (:func:`read_baseline`), before the suite runs.
    """
    baseline = read_baseline(check) if check else None
    res = run_suite(config_path, quick, threads, log=lambda s: print(f"... {s}", flush=True))
    print_report(res)
    json_path, png_path = write_results(res, Path(out_dir))
    print(f"Written: {json_path}\n         {png_path}")
    if baseline is None:
        return 0
    problems = check_against_baseline(res, baseline, tolerance)
    for p in problems:
        print(f"CHECK FAILED: {p}")
    if not problems:
        print(f"Check passed against {check} (tolerance {tolerance:.0%}).")
    return 1 if problems else 0
