"""Checks on a results folder made before simulating.

Kept apart from :mod:`simulator.results.dataset` so that ``overspend run`` can refuse a
bad ``--out`` at once, without first importing xarray and pandas. The rules
(only what the tool wrote is replaced) live in :mod:`simulator.files`.
"""

from __future__ import annotations

from pathlib import Path

from simulator.files import ResultsExistError, check_folder

__all__ = ["RUN_FILES", "ResultsExistError", "check_writable", "holds_run"]

RUN_FILES = ("simulation.nc", "simulation.zarr")


def holds_run(folder: Path) -> bool:
    """Whether ``folder`` holds a simulation (other results alone do not count)."""
    return any((Path(folder) / name).exists() for name in RUN_FILES)


def check_writable(out_dir: Path, force: bool) -> None:
    """Refuse early, before simulating, a folder that is not ours or holds a run (without force).

    See :func:`simulator.files.check_folder`.
    """
    check_folder(out_dir, force, occupied=holds_run, held="already holds a run")
