"""Backtest: how well the simulator would have forecast a council's own past years.

For each forecast origin (a 1 April), the records are cut back to what an
extract made the day before would have held, calibrated as ``overspend
calibrate`` would have done then, and the next 12 months simulated; the
forecasts are scored against what the records show happened, beside two naive
forecasts a spreadsheet would make. See ``docs/backtest.md``.

Modules, in the order they run:

    origins    which 1 Aprils to forecast from
    forecast   calibrate on the records known then, simulate 12 months
    outcomes   what happened, and the naive forecasts, measured as the engine counts
    scores     PIT, interval coverage, CRPS
    run        the origins loop (:func:`run_backtest`) and the records to read (:class:`Inputs`)
    dataset    everything as one Dataset (``backtest.nc``)
    words      sentences for the report and the console
    output     the files written (``backtest.nc``, scores CSV, sentences, charts)
    report     the report's "track record" section

The charts are drawn by :mod:`simulator.present.charts.backtest`.

Example::

    from simulator.backtest import Inputs, Settings, run_backtest
    ds = run_backtest(Inputs(episodes=(Path("returns/"),)), Settings(draws=2000))
"""

from __future__ import annotations

from .forecast import Settings
from .run import Inputs, run_backtest

__all__ = ["Inputs", "Settings", "run_backtest"]
