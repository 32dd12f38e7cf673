"""``overspend backtest``: how well the simulator would have forecast the council's own past years."""

from __future__ import annotations

import argparse
import time
from datetime import date
from pathlib import Path

from simulator.cli.calibrate import _date
from simulator.cli.common import positive_int, seed_int

DEFAULT_DRAWS = 2000


def _origins(text: str) -> list[date]:
    """argparse type: comma-separated dates."""
    return [_date(part.strip()) for part in text.split(",") if part.strip()]


def register(subparsers) -> None:
    """Add the ``backtest`` command."""
    p = subparsers.add_parser(
        "backtest",
        help="score the simulator's forecasts of the council's own past years",
        description=(
            "For each forecast origin (a 1 April), calibrate on the records known then only, "
            "simulate the next 12 months, and score the forecasts against what the records "
            "show happened (interval coverage, PIT, CRPS), beside two naive forecasts a "
            "spreadsheet would make. Writes backtest.nc, its scores and sentences, a track "
            "record chart and a calibration chart. See docs/backtest.md."
        ),
    )
    data = p.add_argument_group("records (as for `overspend calibrate`)")
    data.add_argument("--episodes", type=Path, action="append", default=[],
                      help="SSDA903 episodes table (CSV) or a folder of them; repeatable")  # fmt: skip
    data.add_argument("--header", type=Path, action="append", default=[],
                      help="SSDA903 header table (CSV); repeatable")  # fmt: skip
    data.add_argument(
        "--mapping", type=Path, help="TOML mapping PLACE x PLACE_PROVIDER to services"
    )
    data.add_argument("--la", help="keep only this council's rows (the episodes' LA column)")
    data.add_argument("--packages", type=Path, action="append", default=[],
                      help="packages list (client_id, service, start_date, end_date, "
                      "weekly_cost); repeatable")  # fmt: skip
    data.add_argument("--department", default="Adults' services",
                      help="department of package services without one (default: %(default)s)")  # fmt: skip
    fit = p.add_argument_group("origins and fitting")
    which = fit.add_mutually_exclusive_group()
    which.add_argument("--origins", type=_origins,
                       help="forecast origins, 1 Aprils separated by commas, e.g. "
                       "2021-04-01,2022-04-01 (default: every 1 April with two complete years "
                       "of records before it and one after)")  # fmt: skip
    which.add_argument("--every-year", action="store_true",
                       help="every 1 April with one complete year of records before it and one "
                       "after (the trend forecast then has none for the first)")  # fmt: skip
    fit.add_argument(
        "--since", type=_date, help="first day of complete records (default: inferred)"
    )
    fit.add_argument("--keep-stale", action="store_true",
                     help="keep stale open placements as still open (as calibrate --keep-stale)")  # fmt: skip
    fit.add_argument("--council", help="council name for the charts and report")
    fit.add_argument("--no-parameter-uncertainty", dest="parameter_uncertainty",
                     action="store_false", help="forecast from point estimates only")  # fmt: skip
    fit.add_argument("--strict", action="store_true", help="stop at the first file with a bad row")
    sim = p.add_argument_group("simulation and output")
    sim.add_argument("--draws", type=positive_int, default=DEFAULT_DRAWS,
                     help="Monte Carlo draws per origin (default: %(default)s)")  # fmt: skip
    sim.add_argument("--seed", type=seed_int, default=1, help="random seed (default: %(default)s)")
    sim.add_argument("--threads", type=positive_int, help="worker threads; never changes results")
    sim.add_argument("--out", type=Path, default=Path("results") / "backtest",
                     help="folder to write into (default: %(default)s); a run's results folder "
                     "puts the track record in its `overspend report`")  # fmt: skip
    sim.add_argument("--force", action="store_true", help="replace an earlier backtest's files")
    sim.add_argument("--no-charts", dest="charts", action="store_false", help="skip the charts")
    p.set_defaults(handler=cmd_backtest)


def _origin_line(i: int, n: int, result) -> str:
    import numpy as np

    from simulator.backtest.words import amount
    from simulator.calibrate.records import from_day
    from simulator.present.numbers import gbp_m

    fc = result.forecast
    cost = sum(result.actual[k].year["cost"] for k in fc.services)
    draws = fc.cost.sum(axis=1)
    low, mid, high = (float(x) for x in np.quantile(draws, (0.1, 0.5, 0.9)))
    where = "inside" if low < cost < high else "outside"
    case = sum(result.actual[k].caseload[-1] for k in fc.services)
    return (
        f"  origin {i + 1} of {n}, {from_day(fc.origin)}: {len(fc.services)} services; cost "
        f"{gbp_m(cost)} against a forecast median {gbp_m(mid)} (80% range {gbp_m(low)} to "
        f"{gbp_m(high)}, {where}); caseload a year on {amount(case, 'placements')}"
    )


def cmd_backtest(args: argparse.Namespace) -> int:
    """Run ``overspend backtest``; returns the exit status."""
    from simulator.backtest import Inputs, Settings, run_backtest
    from simulator.backtest.output import check_output, write_backtest
    from simulator.backtest.words import backtest_sentences

    started = time.perf_counter()
    check_output(args.out, args.force, args.charts)
    inputs = Inputs(
        episodes=tuple(args.episodes), header=tuple(args.header), mapping=args.mapping,
        la=args.la, packages=tuple(args.packages), department=args.department,
        strict=args.strict,
    )  # fmt: skip
    settings = Settings(
        since=args.since, council=args.council, parameter_uncertainty=args.parameter_uncertainty,
        keep_stale=args.keep_stale, draws=args.draws, seed=args.seed, threads=args.threads,
    )  # fmt: skip

    def begin(full, origins) -> None:
        print(f"Backtest of {', '.join(full.sources)}: {len(origins)} origins, "
              f"{args.draws:,} draws each (seed {args.seed}).", flush=True)  # fmt: skip

    def each(i: int, n: int, result) -> None:
        print(_origin_line(i, n, result), flush=True)

    ds = run_backtest(inputs, settings, args.origins, args.every_year, progress=each, start=begin)
    print()
    for sentence in backtest_sentences(ds):
        print(sentence)
    written = write_backtest(ds, args.out, args.force, args.charts)
    print(f"\n{time.perf_counter() - started:.1f} s. Written:")
    for path in written:
        print(f"  {path}")
    return 0
