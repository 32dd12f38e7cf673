"""The benchmark harness of ``overspend bench`` (speed and memory against yardsticks)."""

# The suite's names, re-exported from the modules that hold them (see simulator.bench.suite).
# To monkeypatch one in a test, patch the module that looks it up, not this package.
from simulator.bench.check import (
    CHECKED_RATIOS,
    DEFAULT_TOLERANCE,
    TARGET_RATIOS,
    check_against_baseline,
    read_baseline,
    targets_met,
    targets_missed,
)
from simulator.bench.families import FAMILIES, measure_kernel_floor_by_family
from simulator.bench.floor import (
    FloorCounts,
    _draw_in_numba,
    draw_floor_numba,
    draw_floor_numpy,
    floor_counts,
    kernel_counts,
    kernel_gamma_shapes,
    measure_kernel_floor,
    numpy_layer_counts,
)
from simulator.bench.output import plot, print_report, report_rows, write_results
from simulator.bench.scaling import (
    loglog_exponent,
    measure_families,
    measure_scaling,
    synthetic_config,
)
from simulator.bench.settings import (
    BATCHED_SPEEDUP_TARGET,
    FLOOR_RATIO_TARGET,
    FULL,
    GIB,
    KERNEL_FLOOR_RATIO_TARGET,
    MEMORY_TARGET_BYTES,
    NUMPY_SPEEDUP_TARGET,
    QUICK,
    Settings,
)
from simulator.bench.suite import main, run_suite
from simulator.bench.throughput import measure_throughput
from simulator.bench.timing import (
    Timing,
    _child,
    _run_child,
    machine,
    measure_memory,
    measure_startup,
    timed,
    timed_cpu,
)
from simulator.bench.yardsticks import load_batched, load_reference, measure_numpy_reference

__all__ = [
    "BATCHED_SPEEDUP_TARGET",
    "CHECKED_RATIOS",
    "DEFAULT_TOLERANCE",
    "FAMILIES",
    "FLOOR_RATIO_TARGET",
    "FULL",
    "GIB",
    "KERNEL_FLOOR_RATIO_TARGET",
    "MEMORY_TARGET_BYTES",
    "NUMPY_SPEEDUP_TARGET",
    "QUICK",
    "TARGET_RATIOS",
    "FloorCounts",
    "Settings",
    "Timing",
    "_child",
    "_draw_in_numba",
    "_run_child",
    "check_against_baseline",
    "draw_floor_numba",
    "draw_floor_numpy",
    "floor_counts",
    "kernel_counts",
    "kernel_gamma_shapes",
    "load_batched",
    "load_reference",
    "loglog_exponent",
    "machine",
    "main",
    "measure_families",
    "measure_kernel_floor",
    "measure_kernel_floor_by_family",
    "measure_memory",
    "measure_numpy_reference",
    "measure_scaling",
    "measure_startup",
    "measure_throughput",
    "numpy_layer_counts",
    "plot",
    "print_report",
    "read_baseline",
    "report_rows",
    "run_suite",
    "synthetic_config",
    "targets_met",
    "targets_missed",
    "timed",
    "timed_cpu",
    "write_results",
]
