"""The backtest: for each origin, forecast from what was known and score against what happened."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import xarray as xr

from simulator.calibrate import Records, load_packages, load_ssda903
from simulator.calibrate.calibration import records_span
from simulator.errors import UserError

from .dataset import OriginResult, build_dataset
from .forecast import OriginForecast, Settings, forecast_origin
from .origins import check_origins, default_origins, no_origins_error
from .outcomes import naive, outcome, spans


@dataclass(frozen=True)
class Inputs:
    """The records to backtest on: the inputs of ``overspend calibrate``.

    Attributes
    ----------
    episodes, header : tuple of pathlib.Path
        SSDA903 episodes and header tables (files or folders).
    mapping : pathlib.Path or None
    la : str or None
    packages : tuple of pathlib.Path
        Packages lists.
    department : str
        Department of package services whose rows give none.
    strict : bool
    """

    episodes: tuple[Path, ...] = ()
    header: tuple[Path, ...] = ()
    mapping: Path | None = None
    la: str | None = None
    packages: tuple[Path, ...] = ()
    department: str = "Adults' services"
    strict: bool = False

    def load(self, known_at: date | None = None) -> Records:
        """The cleaned records, as an extract made on ``known_at`` would have held them
        (all of them when ``None``)."""
        records = None
        if self.episodes:
            records = load_ssda903(
                list(self.episodes), list(self.header) or None, self.mapping, self.la,
                self.strict, known_at=known_at,
            )  # fmt: skip
        elif self.header or self.mapping is not None or self.la is not None:
            raise UserError("--header, --mapping and --la go with --episodes")
        for path in self.packages:
            more = load_packages(path, self.department, self.strict, known_at=known_at)
            records = more if records is None else records + more
        if records is None:
            raise UserError(
                "give the records to backtest on: --episodes FILE and/or --packages FILE"
            )
        return records


def choose_origins(
    full: Records, since: date | None, given: list[date] | None, every_year: bool
) -> list[int]:
    """The origins to forecast from (days since 1970-01-01), checked against the records."""
    complete_from, last_day = records_span(full, since)
    if given:
        return check_origins(given, complete_from, last_day)
    origins = default_origins(complete_from, last_day, 1 if every_year else 2)
    if not origins:
        raise no_origins_error(complete_from, last_day)
    return origins


def measure(full: Records, fc: OriginForecast, settings: Settings) -> OriginResult:
    """The outcome after ``fc``'s origin (from all the records) and the naive forecasts
    (from the records known then)."""
    known = fc.calibration.records
    complete_from = max(fc.calibration.observed_from.values())
    actual, naive_ = {}, {}
    for key in fc.services:
        cost, recorded = fc.unit_cost[key], fc.costs_recorded[key]
        happened = spans(full.placements, key, settings.keep_stale)
        actual[key] = outcome(happened, fc.origin, cost, recorded)
        before = spans(known.placements, key, settings.keep_stale)
        naive_[key] = naive(before, fc.origin, complete_from, cost, recorded)
    return OriginResult(forecast=fc, actual=actual, naive=naive_)


def run_backtest(
    inputs: Inputs,
    settings: Settings | None = None,
    origins: list[date] | None = None,
    every_year: bool = False,
    progress: Callable[[int, int, OriginResult], None] | None = None,
    start: Callable[[Records, list[int]], None] | None = None,
) -> xr.Dataset:
    """Backtest the simulator on a council's own records.

    Parameters
    ----------
    inputs : Inputs
    settings : Settings, optional
    origins : list of date, optional
        Forecast origins (1 Aprils); default: every 1 April with two complete
        years of records before it and one after (one before with ``every_year``).
    every_year : bool
    progress : callable, optional
        ``progress(i, n, result)`` after origin ``i`` of ``n``.
    start : callable, optional
        ``start(records, origins)`` once the records are read and the origins
        chosen (days since 1970-01-01), before the first origin.

    Returns
    -------
    xarray.Dataset
        See :func:`.dataset.build_dataset`.
    """
    settings = settings or Settings()
    full = inputs.load()
    days = choose_origins(full, settings.since, origins, every_year)
    if start is not None:
        start(full, days)
    results = []
    for i, origin in enumerate(days):
        result = measure(full, forecast_origin(inputs.load, origin, settings), settings)
        results.append(result)
        if progress is not None:
            progress(i, len(days), result)
    return build_dataset(results, full, settings)
