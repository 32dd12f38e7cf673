"""The benchmark harness of ``overspend bench`` (speed and memory against yardsticks)."""

# The suite's names, re-exported from the modules that hold them (see simulator.bench.suite).
# To monkeypatch one in a test, patch the module that looks it up, not this package.
from simulator.bench.check import (
    CHECKED_RATIOS,
    DEFAULT_TOLERANCE,
    check_against_baseline,
    read_baseline,
)
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
    FLOOR_RATIO_TARGET,
    FULL,
    GIB,
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
    measure_cold_start,
    measure_memory,
    timed,
)
from simulator.bench.yardsticks import load_reference, measure_numpy_reference

__all__ = [
    "CHECKED_RATIOS",
    "DEFAULT_TOLERANCE",
    "FLOOR_RATIO_TARGET",
    "FULL",
    "GIB",
    "MEMORY_TARGET_BYTES",
    "NUMPY_SPEEDUP_TARGET",
    "QUICK",
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
    "load_reference",
    "loglog_exponent",
    "machine",
    "main",
    "measure_cold_start",
    "measure_families",
    "measure_kernel_floor",
    "measure_memory",
    "measure_numpy_reference",
    "measure_scaling",
    "measure_throughput",
    "numpy_layer_counts",
    "plot",
    "print_report",
    "read_baseline",
    "report_rows",
    "run_suite",
    "synthetic_config",
    "timed",
    "write_results",
]
