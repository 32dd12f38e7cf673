"""Commands at the speed of their simulation: ``run`` with its charts, and ``report``.

Each command is run as a user runs it, in a fresh process (start-up, imports,
reading and writing files included), and its CPU time (user + system, from
``getrusage(RUSAGE_CHILDREN)``) compared with that of the simulation alone,
``overspend run --no-charts``, of the same config and draws:

- ``run_charts_ratio``: ``overspend run`` with its default charts / ``run --no-charts``;
- ``report_ratio``: ``overspend report`` / ``run --no-charts``, the report written from
  the folder of the default ``run`` (with its headline charts), as a user runs ``run``
  then ``report``: the report's HTML embeds the chart files the run drew for these
  results instead of drawing them again.

The three commands are interleaved in each repetition, so load on a shared
machine falls on all of them alike; the ratios are of the medians. CPU time,
not wall time: on a loaded machine wall time counts the waits for a core.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from simulator.bench.settings import REPORT_RATIO_TARGET, RUN_CHARTS_RATIO_TARGET, Settings
from simulator.bench.timing import _run_timed

#: The measured commands: name -> arguments after ``python -m simulator`` (see :func:`_argv`).
COMMANDS = ("run_no_charts", "run_charts", "report")


def _argv(name: str, config: Path, draws: int, folder: Path) -> list[str]:
    """The command line of one measured command; ``report`` reads the default run (with charts)."""
    run = ["-m", "simulator", "run", str(config), "--draws", str(draws), "--force"]
    if name == "run_no_charts":
        return [*run, "--no-charts", "--out", str(folder / "plain")]
    if name == "run_charts":
        return [*run, "--out", str(folder / "charts")]
    return ["-m", "simulator", "report", str(folder / "charts"), "--out", str(folder / "report"),
            "--force"]  # fmt: skip


def measure_commands(config_path: Path, settings: Settings) -> dict:
    """CPU and wall seconds of ``run --no-charts``, ``run`` and ``report``, and their ratios.

    Parameters
    ----------
    config_path : pathlib.Path
        The config to run.
    settings : Settings
        ``command_draws`` draws per run, ``command_repeats`` interleaved repetitions.

    Returns
    -------
    dict
        ``cpu_seconds`` and ``wall_seconds`` (each a list per command),
        ``run_charts_ratio``, ``report_ratio`` (CPU, of the medians), the draws
        and the targets.
    """
    cpu: dict[str, list[float]] = {name: [] for name in COMMANDS}
    wall: dict[str, list[float]] = {name: [] for name in COMMANDS}
    with tempfile.TemporaryDirectory(prefix="overspend-commands-") as tmp:
        folder = Path(tmp)
        for _ in range(settings.command_repeats):
            for name in COMMANDS:
                out = _run_timed(_argv(name, Path(config_path), settings.command_draws, folder))
                cpu[name].append(out["cpu_seconds"])
                wall[name].append(out["wall_seconds"])
    median = {name: float(np.median(cpu[name])) for name in COMMANDS}
    return {
        "draws": settings.command_draws,
        "repeats": settings.command_repeats,
        "cpu_seconds": cpu,
        "wall_seconds": wall,
        "cpu_median_seconds": median,
        "run_charts_ratio": median["run_charts"] / median["run_no_charts"],
        "report_ratio": median["report"] / median["run_no_charts"],
        "targets": {
            "run_charts_ratio_at_most": RUN_CHARTS_RATIO_TARGET,
            "report_ratio_at_most": REPORT_RATIO_TARGET,
        },
    }


def command_ratios(parts: dict) -> dict:
    """The two ratios for the top level of the results (None when not measured)."""
    found = parts.get("commands") or {}
    return {name: found.get(name) for name in ("run_charts_ratio", "report_ratio")}


def _verdict(value: float | None, target: float) -> str:
    if value is None:
        return f"target <= {target:g}"
    return f"target <= {target:g}: {'met' if value <= target else 'NOT MET'}"


def command_rows(res: dict) -> list[tuple[str, str, str]]:
    """Rows of the printed table: the two ratios with the CPU seconds behind them."""
    found = res.get("commands")
    if not found:
        return []
    sec = found["cpu_median_seconds"]
    run_ratio, report_ratio = found["run_charts_ratio"], found["report_ratio"]
    draws = f"{found['draws']:,} draws"
    return [
        ("run with charts / run --no-charts", f"{run_ratio:.2f}",
         f"{_verdict(run_ratio, RUN_CHARTS_RATIO_TARGET)}; {sec['run_charts']:.1f} s / "
         f"{sec['run_no_charts']:.1f} s CPU, {draws}, fresh processes"),
        ("report / its simulation (run --no-charts)", f"{report_ratio:.2f}",
         f"{_verdict(report_ratio, REPORT_RATIO_TARGET)}; {sec['report']:.1f} s / "
         f"{sec['run_no_charts']:.1f} s CPU, report of the run with its charts"),
    ]  # fmt: skip
