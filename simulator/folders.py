"""Checks on a results folder made before simulating.

Kept apart from :mod:`simulator.results` so that ``overspend run`` can refuse a
bad ``--out`` at once, without first importing xarray and pandas.
"""

from __future__ import annotations

import os
from pathlib import Path

from .errors import UserError


class ResultsExistError(UserError):
    """The results folder exists and ``force`` was not given."""


RUN_FILES = ("simulation.nc", "simulation.zarr")


def holds_run(folder: Path) -> bool:
    """Whether ``folder`` holds a simulation (other results alone do not count)."""
    return any((Path(folder) / name).exists() for name in RUN_FILES)


def check_writable(out_dir: Path, force: bool) -> None:
    """Refuse early, before simulating, if a run is already there or the folder cannot be made."""
    out_dir = Path(out_dir)
    place = out_dir
    while not place.exists():  # the nearest part of the path that exists
        place = place.parent
    if not place.is_dir():
        raise ResultsExistError(f"{out_dir}: {place} is a file, not a folder: choose another --out")
    if not os.access(place, os.W_OK | os.X_OK):
        raise ResultsExistError(f"{out_dir}: cannot write in {place}: choose another --out")
    if holds_run(out_dir) and not force:
        raise ResultsExistError(
            f"{out_dir} already holds a run: use --force to replace it, or --out to write elsewhere"
        )
