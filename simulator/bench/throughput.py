"""Warm throughput: draws, placements and placement-months per second on 1 and N threads.

Interleaved with numpy's Generator drawing the same variates
(:mod:`simulator.bench.floor`), which gives the floor ratio; also checks that
1 and N threads give identical results.
"""

from __future__ import annotations

import numpy as np

from simulator.bench.floor import draw_floor_numpy, floor_counts, kernel_counts
from simulator.bench.settings import Settings
from simulator.bench.timing import Timing, timed, timed_cpu
from simulator.engine.chunks import Simulation, simulate
from simulator.model.equations import Plan


def _placement_rows(plan: Plan) -> list[int]:
    """Result rows (groups) that are placement services."""
    return [g for g, group in enumerate(plan.groups) if group.kind == "placements"]


def _work(plan: Plan, sim: Simulation) -> tuple[int, int]:
    """(placements simulated, placement-months open at month ends) of a run."""
    rows = _placement_rows(plan)
    draws = sim.spend.shape[0]
    placements = int(plan.init_offsets[-1]) * draws + int(sim.arrivals[:, rows].sum())
    return placements, int(sim.caseload[:, rows].sum())


def _identical(a: Simulation, b: Simulation) -> bool:
    names = ("spend", "caseload", "arrivals", "gross", "income", "savings", "inputs")
    return all(np.array_equal(getattr(a, n), getattr(b, n)) for n in names)


def measure_throughput(plan: Plan, settings: Settings, threads: int) -> dict:
    """Warm runs on 1 and ``threads`` threads interleaved with the numpy floor; the floor ratio.

    Each repetition runs the simulation on one thread, numpy's Generator
    drawing the same variates, and the simulation on all threads, so slow
    spells of a shared machine hit all three alike.
    """
    n, seed = settings.throughput_draws, 11
    one, many, floor = Timing(), Timing(), Timing()
    simulate(plan, 500, seed, threads=1)  # warm: compile or load the kernels
    identical = True
    for rep in range(settings.repeats):
        wall, cpu, sim1 = timed_cpu(simulate, plan, n, seed, threads=1)
        one.add(wall, cpu)
        counts = floor_counts(plan, n, kernel_counts(plan, n, seed))
        floor.add(*timed_cpu(draw_floor_numpy, counts, np.random.default_rng(rep))[:2])
        t, sim_n = timed(simulate, plan, n, seed, threads=threads)
        many.seconds.append(t)
        identical = identical and _identical(sim1, sim_n)
    placements, placement_months = _work(plan, sim1)
    return {
        "draws": n,
        "threads": threads,
        "seconds_1_thread": one.as_dict(),
        "seconds_n_threads": many.as_dict(),
        "floor_seconds": floor.as_dict(),
        "variates_per_draw": counts.total / n,
        "variates_by_kind_per_draw": {
            "uniform": counts.uniform / n,
            "standard_normal": counts.normal / n,
            "standard_exponential": counts.exponential / n,
            "gamma": float(counts.gamma_counts.sum()) / n,
            "poisson": counts.poisson_means.size / n,
        },
        "placements_per_draw": placements / n,
        "placement_months_per_draw": placement_months / n,
        "seconds_1_thread_cpu": one.cpu_as_dict(),
        "floor_cpu_seconds": floor.cpu_as_dict(),
        # CPU time: on a shared machine it leaves out waiting for a core (both are one thread).
        "floor_ratio": one.cpu_median / floor.cpu_median,
        "floor_ratio_wall": one.median / floor.median,
        "thread_speedup": one.median / many.median,
        "threads_identical": identical,
    }
