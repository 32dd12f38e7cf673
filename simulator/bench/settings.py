"""The suite's sizes and targets: :class:`Settings`, the ``QUICK`` and ``FULL`` sizes, the targets.

The targets (floor ratio, kernel / its floor per length family, speed-ups over
the numpy yardsticks, peak memory of a 1,000,000-draw run)
are written into every results file and shown in the printed table; the
``--check`` tolerance is in :mod:`simulator.bench.check`.
"""

from __future__ import annotations

from dataclasses import dataclass

GIB = 1024**3
#: Peak resident memory allowed for a 1,000,000-draw run of the default config.
MEMORY_TARGET_BYTES = 4 * GIB
#: Targets from the issue: simulation within 2x of the random-number floor,
#: at least 10x faster than the plain numpy implementation.
FLOOR_RATIO_TARGET = 2.0
NUMPY_SPEEDUP_TARGET = 10.0
#: Targets of issue 17: the engine at least 4x the numpy implementation that
#: batches placements across draws (benchmarks/batched_numpy.py), and the
#: kernel within 1.8x of its own generator's floor in every length family.
BATCHED_SPEEDUP_TARGET = 4.0
KERNEL_FLOOR_RATIO_TARGET = 1.8
#: Targets of issue 17 for the commands (CPU, fresh processes; simulator.bench.commands):
#: ``run`` with its charts at most 1.3x ``run --no-charts``, ``report`` at most 0.5x it.
RUN_CHARTS_RATIO_TARGET = 1.3
REPORT_RATIO_TARGET = 0.5


@dataclass(frozen=True)
class Settings:
    """Sizes of each measurement; ``QUICK`` takes a few minutes (about 1.5 of CPU), ``FULL`` about 30."""

    name: str
    repeats: int  # timed repetitions of each in-process measurement
    throughput_draws: int
    reference_draws: int  # draws of the numpy reference (it is slow)
    scaling_draws: int  # draws per run when varying services, horizon, caseload
    services: tuple[int, ...]
    years: tuple[int, ...]
    caseloads: tuple[int, ...]
    memory_draws: tuple[int, ...]  # in-memory runs in fresh processes
    stream_draws: tuple[int, ...]  # streamed runs in fresh processes
    cold_start_draws: int = 500
    batched_draws: int = 300  # draws of the batched numpy yardstick
    family_draws: int = 3_000  # draws of each one-family council (kernel / floor by family)
    command_draws: int = 10_000  # draws of the run and report commands (simulator.bench.commands)
    command_repeats: int = 1  # interleaved repetitions of the three commands


QUICK = Settings(
    name="quick",
    repeats=3,
    throughput_draws=1_000,
    reference_draws=40,
    scaling_draws=500,
    services=(1, 3, 10, 30),
    years=(1, 2, 3, 4, 5),
    caseloads=(100, 300, 1_000, 3_000),
    memory_draws=(1_000, 10_000),
    stream_draws=(1_000, 5_000),
)
FULL = Settings(
    name="full",
    repeats=5,
    throughput_draws=5_000,
    reference_draws=300,
    scaling_draws=1_000,
    services=(1, 2, 5, 10, 20, 50),
    years=(1, 2, 3, 4, 5),
    caseloads=(100, 300, 1_000, 3_000, 10_000),
    memory_draws=(1_000, 10_000, 100_000),
    stream_draws=(1_000, 10_000, 100_000, 1_000_000),
    batched_draws=2_000,
    family_draws=10_000,
    command_repeats=3,
)
