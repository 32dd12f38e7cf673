"""``overspend chart``: redraw the charts of a saved run, without simulating again."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from simulator.cli.common import print_notes


def _cmd_chart(args: argparse.Namespace) -> int:
    from simulator.present.charts import FORMATS, check_charts_folder, replace_charts
    from simulator.present.report import load_results

    started = time.perf_counter()
    out = Path(args.out) if args.out else Path(args.results_dir) / "charts"
    check_charts_folder(out)  # before reading: a folder of the user's is never replaced
    notes: list[str] = []
    ds, sens, scen = load_results(args.results_dir, notes)
    print_notes(notes)
    formats = FORMATS if args.format == "both" else (args.format,)
    from simulator.present.console import steps_bar

    with ds, steps_bar("Drawing the charts") as show:
        written = replace_charts(
            ds, out, sensitivity=sens, scenarios=scen, every=args.every, formats=formats,
            progress=show,
        )  # fmt: skip
    print(f"{len(written)} chart files in {time.perf_counter() - started:.1f} s, in {out}:")
    for path in written:
        print(f"  {path.name}")
    return 0


def register(sub) -> None:
    """Add ``overspend chart``."""
    chart = sub.add_parser(
        "chart",
        help="draw fan charts and risk charts from a saved run",
        description=(
            "Draw the fan charts, overspend distributions and risk-driver charts of a saved "
            "run (and tornado, Sobol and scenario charts when sensitivity.nc or scenarios.nc "
            "are in the folder) as PNG and SVG, without simulating again."
        ),
    )
    chart.add_argument("results_dir", help="results folder written by `overspend run`")
    chart.add_argument(
        "--out",
        help=(
            "folder for the charts (default: RESULTS_DIR/charts); replaced as a whole, so it "
            "must be new, empty or charts drawn by overspend"
        ),
    )
    chart.add_argument(
        "--every",
        action="store_true",
        help="draw every service and department for every year, not just the default set",
    )
    chart.add_argument(
        "--format", choices=("both", "png", "svg"), default="both", help="file format(s)"
    )
    chart.set_defaults(handler=_cmd_chart)
