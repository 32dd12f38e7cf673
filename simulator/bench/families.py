"""The kernel against its own generator's floor, one length family at a time.

Each family draws different variates per placement (normals for lognormal
lengths, gamma variates for gamma lengths and for steady-state starts of
Weibull and exponential services, ...), so the kernel's cost over its floor
differs by family, and so does the room to improve it. For each family,
:func:`measure_kernel_floor_by_family` runs :func:`simulator.bench.floor.measure_kernel_floor`
on a synthetic council of one service of that family in steady state
(:func:`simulator.bench.scaling.synthetic_config`): the kernel alone against
the same variates drawn one at a time by the kernel's own generator.
"""

from __future__ import annotations

from simulator.bench.floor import measure_kernel_floor
from simulator.bench.scaling import synthetic_config
from simulator.bench.settings import Settings
from simulator.model.equations import build_plan

FAMILIES = ("lognormal", "gamma", "weibull", "exponential")
#: Open placements of the synthetic service: about the example county's
#: largest services (home care 2,660; direct payments 1,200; residential 1,150).
FAMILY_CASELOAD = 1_000


def measure_kernel_floor_by_family(settings: Settings, draws: int | None = None) -> dict:
    """Kernel / its generator's floor for each length family (CPU time, one thread).

    Parameters
    ----------
    settings : Settings
        Repetitions, and the draws unless ``draws`` is given.
    draws : int, optional
        Draws of each synthetic council (default ``settings.family_draws``:
        a few tenths of a second of kernel time on the benchmark machine,
        long enough to time).

    Returns
    -------
    dict
        Per family, what :func:`~simulator.bench.floor.measure_kernel_floor`
        returns (``kernel_floor_ratio_numba``, nanoseconds per placement,
        variates per placement by kind, the times).
    """
    out = {}
    for dist in FAMILIES:
        plan = build_plan(synthetic_config(caseload=FAMILY_CASELOAD, dist=dist))
        out[dist] = measure_kernel_floor(plan, settings, draws or settings.family_draws)
    return out
