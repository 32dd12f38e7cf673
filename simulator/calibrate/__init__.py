"""Calibrate a council's config from its own placement records (``overspend calibrate``).

The pipeline, one module per step::

    load_ssda903 / load_packages   records -> cleaned placements (ssda903, packages, mapping)
    calibrate                      placements -> fitted figures (arrivals, lengths, costs)
    to_toml                        fitted figures -> commented config text (writer)
    write_calibration              config, plots, problems list, caseload snapshot (output)

Example::

    from simulator.calibrate import calibrate, load_ssda903, write_calibration
    records = load_ssda903("episodes.csv", header="header.csv")
    write_calibration(calibrate(records, as_of="2024-03-31"), "calibration/")
"""

from __future__ import annotations

from .calibration import Calibration, calibrate
from .mapping import DEFAULT_MAPPING_TOML, load_mapping
from .packages import load_packages
from .records import DataError, ProblemLog, Records
from .snapshot import caseload_snapshot, write_caseload_snapshot
from .ssda903 import load_ssda903
from .writer import to_toml

__all__ = [
    "DEFAULT_MAPPING_TOML",
    "Calibration",
    "DataError",
    "ProblemLog",
    "Records",
    "calibrate",
    "caseload_snapshot",
    "load_mapping",
    "load_packages",
    "load_ssda903",
    "to_toml",
    "write_caseload_snapshot",
]
