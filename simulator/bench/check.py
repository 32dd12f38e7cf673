"""The baseline check of ``overspend bench --check``: ratios against a stored results JSON.

Only machine-independent ratios (:data:`CHECKED_RATIOS`) are compared, each
allowed to be up to :data:`DEFAULT_TOLERANCE` worse; the baseline is read and
validated (:func:`read_baseline`) before the suite runs.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from simulator.bench.families import FAMILIES
from simulator.errors import UserError

#: ``--check`` fails when a ratio is more than this fraction worse than the baseline.
#: Generous because this machine's 2 vCPUs are shared: quick runs at moderate
#: load spread by under +-5%, but load and run size shift the ratios by up to
#: about 15% (benchmarks/README.md).
DEFAULT_TOLERANCE = 0.30


#: Ratio name: whether higher is better.
CHECKED_RATIOS = {
    "numpy_speedup": True,
    "floor_ratio": False,
    "kernel_floor_ratio_numba": False,
    "numpy_speedup_batched": True,
    **{f"kernel_floor_ratio_{family}": False for family in FAMILIES},
}

#: Each target in a results file's ``targets``: (the ratios it bounds, whether it is a lower bound).
TARGET_RATIOS = {
    "floor_ratio_at_most": (("floor_ratio",), False),
    "numpy_speedup_at_least": (("numpy_speedup",), True),
    "numpy_speedup_batched_at_least": (("numpy_speedup_batched",), True),
    "kernel_floor_ratio_at_most": (tuple(f"kernel_floor_ratio_{f}" for f in FAMILIES), False),
    "pathway_ratio_at_most": (("pathway_ratio",), False),
    "run_charts_ratio_at_most": (("run_charts_ratio",), False),
    "report_ratio_at_most": (("report_ratio",), False),
}


def read_baseline(path: str | Path) -> dict:
    """Read a baseline for ``--check``, refusing one that could not be compared with.

    Checked before the suite runs, so a mistyped file costs seconds, not the
    suite's half hour; and a file holding none of :data:`CHECKED_RATIOS` must
    not pass the check by comparing nothing.

    Parameters
    ----------
    path : str or pathlib.Path
        A results JSON written by :func:`write_results` (e.g. ``benchmarks/baseline.json``).

    Returns
    -------
    dict
        The baseline.

    Raises
    ------
    UserError
        If the file cannot be read, is not a JSON object, gives a checked ratio
        that is not a positive number, or gives none of them.
    """
    where = f"--check {path}"
    try:
        baseline = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(f"{where}: no such baseline file") from None
    except OSError as exc:
        raise UserError(f"{where}: cannot read it ({exc.strerror or exc})") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UserError(f"{where}: not valid JSON ({exc})") from None
    if not isinstance(baseline, dict):
        raise UserError(f"{where}: not a JSON object (a results file of overspend bench)")
    given = {k: baseline[k] for k in CHECKED_RATIOS if baseline.get(k) is not None}
    for name, value in given.items():
        if not _positive_number(value):
            raise UserError(f"{where}: {name} = {value!r} is not a positive number")
    if not given:
        raise UserError(
            f"{where}: no ratio to compare: expected at least one of "
            f"{', '.join(CHECKED_RATIOS)} (as in a results file of overspend bench)"
        )
    return baseline


def _positive_number(value: object) -> bool:
    # bool is an int in Python, but true is no ratio.
    ok_type = isinstance(value, int | float) and not isinstance(value, bool)
    return ok_type and math.isfinite(value) and value > 0


def check_against_baseline(
    current: dict, baseline: dict, tolerance: float = DEFAULT_TOLERANCE
) -> list[str]:
    """Problems with ``current`` against ``baseline``: ratios more than ``tolerance`` worse.

    A higher-is-better ratio fails below ``baseline x (1 - tolerance)``; a
    lower-is-better one (time over a floor) fails above
    ``baseline / (1 - tolerance)``. Results must also be identical across
    thread counts. Absolute times are never compared (machines differ).

    Parameters
    ----------
    current, baseline : dict
        Results as written by :func:`run_suite`.
    tolerance : float
        Allowed fraction worse, in [0, 1).

    Returns
    -------
    list of str
        One message per failure; empty when the check passes.
    """
    if not 0.0 <= tolerance < 1.0:
        raise ValueError(f"tolerance = {tolerance}: must be >= 0 and < 1")
    problems = []
    for name, higher_is_better in CHECKED_RATIOS.items():
        base, now = baseline.get(name), current.get(name)
        if base is None:
            continue
        if now is None or not math.isfinite(now):
            problems.append(f"{name}: not measured (baseline {base:.3g})")
            continue
        limit = base * (1.0 - tolerance) if higher_is_better else base / (1.0 - tolerance)
        worse = now < limit if higher_is_better else now > limit
        if worse:
            way = "below" if higher_is_better else "above"
            problems.append(
                f"{name} = {now:.3g}, {way} the allowed {limit:.3g} "
                f"(baseline {base:.3g}, tolerance {tolerance:.0%})"
            )
    if current.get("threads_identical") is False:
        problems.append("threads_identical: results differ between 1 and N threads")
    met_before = set(targets_met(baseline, baseline.get("targets") or {}))
    for name, (target, limit, value) in targets_missed(
        current, baseline.get("targets") or {}
    ).items():
        if name in met_before:
            problems.append(
                f"{name} = {value:.3g}: the baseline met its target ({target} {limit:g})"
            )
    return problems


def _target_rows(res: dict, targets: dict) -> list[tuple[str, str, float, float, bool]]:
    """(ratio, target, limit, value, met) for each measured ratio that ``targets`` bounds."""
    rows = []
    for target, limit in targets.items():
        if target not in TARGET_RATIOS or not _positive_number(limit):
            continue  # e.g. the memory target, in bytes: not a ratio
        names, lower_bound = TARGET_RATIOS[target]
        for name in names:
            value = res.get(name)
            if value is None or not math.isfinite(value):
                continue
            met = value >= limit if lower_bound else value <= limit
            rows.append((name, target, float(limit), float(value), met))
    return rows


def targets_met(res: dict, targets: dict) -> list[str]:
    """Ratios of ``res`` that meet their target in ``targets`` (a results file's ``targets``)."""
    return [name for name, _, _, _, met in _target_rows(res, targets) if met]


def targets_missed(res: dict, targets: dict) -> dict[str, tuple[str, float, float]]:
    """Ratios of ``res`` that miss their target: {ratio: (target, limit, value)}.

    A target is a goal (the issue's), not a regression limit: ``--check``
    fails on a missed target only when the baseline met it (once met, it
    must stay met); until then the table reports it as not yet met.
    """
    return {
        name: (target, limit, value)
        for name, target, limit, value, met in _target_rows(res, targets)
        if not met
    }
