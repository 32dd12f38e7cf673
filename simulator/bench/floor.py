"""The random-number floor: how many variates each part of the model draws, and drawing them.

:func:`floor_counts` adds up the variates of a run, by kind: the kernel's own
counts (:func:`kernel_counts`, a counting run of its own; see :mod:`simulator.model.kernels`) and those of
the numpy layers (:func:`numpy_layer_counts`), with the gamma shapes the kernel
draws (:func:`kernel_gamma_shapes`). :func:`draw_floor_numpy` draws the same
variates with numpy's Generator (the floor of :mod:`simulator.bench.throughput`);
:func:`draw_floor_numba` draws the kernel's with the kernel's own generator,
and :func:`measure_kernel_floor` times the kernel alone against that.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numba import njit

from simulator.bench.settings import Settings
from simulator.bench.timing import Timing, timed_cpu
from simulator.engine.chunks import chunk_bounds, chunk_rng
from simulator.model import kernels
from simulator.model.equations import (
    Draws,
    Plan,
    draw_arrivals,
    expected_arrivals,
    length_parameters,
    simulate_chunk,
)
from simulator.model.equations import placement_spend as _placement_spend


@dataclass
class FloorCounts:
    """Random variates a run drew, by kind; the floor draws exactly these.

    Attributes
    ----------
    uniform, normal, exponential : int
        Counts drawn by the kernel plus the numpy layers.
    gamma_shapes, gamma_counts : numpy.ndarray
        Gamma variates by shape (the kernel's, shared out over the shapes its
        services use; the arrival shocks' exactly).
    poisson_means : numpy.ndarray
        Means of the Poisson arrival counts, one per draw, service and month
        (the expected arrivals at the inputs' medians).
    """

    uniform: int
    normal: int
    exponential: int
    gamma_shapes: np.ndarray
    gamma_counts: np.ndarray
    poisson_means: np.ndarray

    @property
    def total(self) -> int:
        """Every variate, of every kind."""
        return int(
            self.uniform
            + self.normal
            + self.exponential
            + self.gamma_counts.sum()
            + self.poisson_means.size
        )


def _median_draws(plan: Plan) -> Draws:
    """Every input at its median: one representative draw."""
    return Draws(plan, np.full((1, len(plan.inputs)), 0.5))


def kernel_gamma_shapes(plan: Plan) -> dict[float, float]:
    """Shapes of the gamma variates the kernel draws, with their expected numbers per draw.

    Gamma lengths draw shape k for each new placement and each starting one
    with a known elapsed time (at least once: the residual is drawn by
    rejection) and k + 1 for each steady-state starting one; Weibull and
    exponential services draw gamma variates (1 + 1/k, and 2) only for
    steady-state starting placements. Shapes are at the inputs' medians.
    """
    x = _median_draws(plan)
    arrivals = expected_arrivals(plan, x)[0].sum(axis=1)
    weights: dict[float, float] = {}

    def add(shape: float, n: float) -> None:
        weights[shape] = weights.get(shape, 0.0) + n

    for j, i in enumerate(plan.placement):
        k = float(length_parameters(plan.length_dist[j], x, f"services.{plan.keys[i]}")[0][0])
        elapsed = plan.init_elapsed[plan.init_offsets[j] : plan.init_offsets[j + 1]]
        steady, known = float(np.sum(elapsed < 0)), float(np.sum(elapsed >= 0))
        family = int(plan.family[j])
        if family == kernels.GAMMA:
            add(k, float(arrivals[j]) + known)
            add(k + 1.0, steady)
        elif family == kernels.WEIBULL:
            add(1.0 + 1.0 / k, steady)
        elif family == kernels.EXPONENTIAL:
            add(2.0, steady)
    return {s: w for s, w in weights.items() if w > 0}


def numpy_layer_counts(plan: Plan, draws: int) -> dict[str, Any]:
    """Variates the numpy layers of :func:`simulator.model.equations.simulate_chunk` draw for ``draws`` draws.

    Uniforms for the inputs (draws x inputs), a gamma shock per month for
    each service with dispersion, a Poisson count per service and month, and
    a normal per month for each cost line with monthly spread.

    Returns
    -------
    dict
        ``uniform``, ``normal`` (ints), ``gamma`` ({shape: count}) and
        ``poisson`` (count).
    """
    months = plan.grid.n_months
    gamma: dict[float, int] = {}
    for phi in plan.dispersion:
        if phi > 0:
            gamma[1.0 / phi] = gamma.get(1.0 / phi, 0) + draws * months
    spread = [cv for cv in plan.monthly_cv if cv > 0]
    return {
        "uniform": draws * len(plan.inputs),
        "normal": draws * months * len(spread),
        "gamma": gamma,
        "poisson": draws * plan.placement.size * months,
    }


def kernel_counts(plan: Plan, draws: int, seed: int) -> np.ndarray:
    """The random variates the kernel draws in a run, by kind (``int64[kernels.N_COUNTERS]``).

    Counted on a run of its own, chunk by chunk on the run's streams, so the
    model's results never carry them: the benchmark's instrumentation stays here.
    """
    counts = np.zeros(kernels.N_COUNTERS, dtype=np.int64)
    for index, (first, stop) in enumerate(chunk_bounds(draws)):
        simulate_chunk(plan, chunk_rng(seed, index), stop - first, counts=counts)
    return counts


def floor_counts(plan: Plan, draws: int, kernel_counts: np.ndarray) -> FloorCounts:
    """Everything a run of ``draws`` draws drew: the kernel's counts plus the numpy layers'.

    Parameters
    ----------
    plan : Plan
    draws : int
    kernel_counts : numpy.ndarray
        :func:`kernel_counts` of the run (by kind, see :mod:`simulator.model.kernels`).

    Returns
    -------
    FloorCounts
    """
    layers = numpy_layer_counts(plan, draws)
    shapes = kernel_gamma_shapes(plan)
    kernel_gamma = int(kernel_counts[kernels.N_GAMMA])
    gamma = {s: float(c) for s, c in layers["gamma"].items()}
    if kernel_gamma:
        if not shapes:
            shapes = {2.0: 1.0}  # gamma draws from known elapsed times only: any shape >= 1
        total = sum(shapes.values())
        for s, w in shapes.items():
            gamma[s] = gamma.get(s, 0.0) + kernel_gamma * w / total
    gamma_shapes = np.array(sorted(gamma), dtype=np.float64)
    gamma_counts = np.round([gamma[s] for s in gamma_shapes]).astype(np.int64)
    means = expected_arrivals(plan, _median_draws(plan))[0].ravel()
    return FloorCounts(
        uniform=int(kernel_counts[kernels.N_UNIFORM]) + layers["uniform"],
        normal=int(kernel_counts[kernels.N_NORMAL]) + layers["normal"],
        exponential=int(kernel_counts[kernels.N_EXPONENTIAL]),
        gamma_shapes=gamma_shapes,
        gamma_counts=gamma_counts,
        poisson_means=np.tile(means, draws),
    )


_BLOCK = 1 << 20  # variates per numpy call: big enough to amortise the call, small in memory


def _in_blocks(n: int, fill: Callable[[np.ndarray], Any], buffer: np.ndarray) -> None:
    for start in range(0, n, _BLOCK):
        fill(buffer[: min(_BLOCK, n - start)])


def draw_floor_numpy(counts: FloorCounts, rng: np.random.Generator) -> None:
    """Draw every variate of ``counts`` with numpy's Generator, in blocks into one buffer."""
    buffer = np.empty(_BLOCK)
    _in_blocks(counts.uniform, lambda out: rng.random(out=out), buffer)
    _in_blocks(counts.normal, lambda out: rng.standard_normal(out=out), buffer)
    _in_blocks(counts.exponential, lambda out: rng.standard_exponential(out=out), buffer)
    for shape, n in zip(counts.gamma_shapes, counts.gamma_counts, strict=True):
        _in_blocks(int(n), lambda out, k=shape: rng.standard_gamma(k, out=out), buffer)
    for start in range(0, counts.poisson_means.size, _BLOCK):
        rng.poisson(counts.poisson_means[start : start + _BLOCK])


@njit(cache=True, nogil=True)
def _draw_in_numba(state, n_uniform, n_normal, n_exponential, gamma_shapes, gamma_counts):
    """Draw the given variates one at a time with the kernel's own generator, as the kernel does."""
    s = state[0]
    total = 0.0  # summed so the draws cannot be optimised away
    for _ in range(n_uniform):
        total += kernels.uniform(s)
    for _ in range(n_normal):
        total += kernels.normal(s)
    for _ in range(n_exponential):
        total += kernels.exponential(s)
    for j in range(gamma_shapes.size):
        for _ in range(gamma_counts[j]):
            total += kernels.gamma_inline(s, gamma_shapes[j])  # inlined, as the kernel draws them
    return total


def draw_floor_numba(kernel_counts: np.ndarray, plan: Plan, rng: np.random.Generator) -> None:
    """Draw the kernel's variates (by kind, gamma shapes as in :func:`floor_counts`) inside numba.

    With the kernel's own generator, seeded from ``rng`` (:func:`simulator.model.kernels.seed_state`).
    """
    counts = floor_counts(plan, 0, kernel_counts)
    _draw_in_numba(
        kernels.seed_state(rng),
        counts.uniform,
        counts.normal,
        counts.exponential,
        counts.gamma_shapes,
        counts.gamma_counts,
    )


def measure_kernel_floor(plan: Plan, settings: Settings, draws: int | None = None) -> dict:
    """The numba kernel alone against its own variates drawn by its own generator.

    Shows how much of the kernel's time is drawing random numbers (the part
    no implementation using this generator can avoid) and how much is the
    model's own arithmetic and bookkeeping.

    Parameters
    ----------
    plan : Plan
    settings : Settings
        Repetitions, and the draws unless ``draws`` is given.
    draws : int, optional
        Draws to time (default ``settings.throughput_draws``).
    """
    n, seed = draws or settings.throughput_draws, 12
    kernel, floor = Timing(), Timing()
    _draw_in_numba(
        kernels.seed_state(np.random.default_rng(0)), 1, 1, 1, np.ones(1), np.ones(1, np.int64)
    )
    inputs, placements = [], int(plan.init_offsets[-1]) * n
    for index, (first, stop) in enumerate(chunk_bounds(n)):
        rng = chunk_rng(seed, index)
        x = Draws(plan, rng.random((stop - first, len(plan.inputs))))
        inputs.append((x, draw_arrivals(plan, x, rng), rng))
        placements += int(inputs[-1][1].sum())
    for rep in range(settings.repeats):
        wall, cpu, counts = 0.0, 0.0, np.zeros(kernels.N_COUNTERS, dtype=np.int64)
        for x, arrivals, rng in inputs:
            w, c, _ = timed_cpu(_placement_spend, plan, x, arrivals, rng, counts)
            wall, cpu = wall + w, cpu + c
        kernel.add(wall, cpu)
        rng = np.random.default_rng(rep)
        floor.add(*timed_cpu(draw_floor_numba, counts, plan, rng)[:2])
    # CPU time (one thread here): on a shared machine it leaves out waiting for a core.
    return {
        "draws": n,
        "time": "CPU seconds (ratios); wall seconds recorded as well",
        "kernel_seconds": kernel.as_dict(),
        "numba_floor_seconds": floor.as_dict(),
        "kernel_cpu_seconds": kernel.cpu_as_dict(),
        "numba_floor_cpu_seconds": floor.cpu_as_dict(),
        "kernel_floor_ratio_numba": kernel.cpu_median / floor.cpu_median,
        "kernel_floor_ratio_numba_wall": kernel.median / floor.median,
        "kernel_ns_per_variate": kernel.cpu_median / counts.sum() * 1e9,
        "kernel_ns_per_placement": kernel.cpu_median / placements * 1e9,
        "variates_per_placement": float(counts.sum()) / placements,
        "variates_by_kind_per_placement": {
            kind: float(counts[index]) / placements
            for kind, index in (
                ("uniform", kernels.N_UNIFORM),
                ("normal", kernels.N_NORMAL),
                ("exponential", kernels.N_EXPONENTIAL),
                ("gamma", kernels.N_GAMMA),
            )
        },
    }
