"""The ``overspend chart`` and ``overspend report`` commands.

Both read a results folder written by ``overspend run`` and never simulate
again: ``chart`` redraws the charts into ``RESULTS_DIR/charts``; ``report``
writes ``report.html``, ``report.pdf`` and ``summary.xlsx``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path


def _print_notes(notes: list[str]) -> None:
    """Say which sensitivity or scenario results were left out, and why (one line each)."""
    for note in notes:
        print(f"note: {note}")


def _cmd_chart(args: argparse.Namespace) -> int:
    from .charts import FORMATS, check_charts_folder, replace_charts
    from .report import load_results

    started = time.perf_counter()
    out = Path(args.out) if args.out else Path(args.results_dir) / "charts"
    check_charts_folder(out)  # before reading: a folder of the user's is never replaced
    notes: list[str] = []
    ds, sens, scen = load_results(args.results_dir, notes)
    _print_notes(notes)
    formats = FORMATS if args.format == "both" else (args.format,)
    with ds:
        written = replace_charts(
            ds, out, sensitivity=sens, scenarios=scen, every=args.every, formats=formats
        )
    print(f"{len(written)} chart files in {time.perf_counter() - started:.1f} s, in {out}:")
    for path in written:
        print(f"  {path.name}")
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    from .report import write_report

    started = time.perf_counter()
    notes: list[str] = []
    written = write_report(
        args.results_dir, args.out, every=args.every, notes=notes, force=args.force
    )
    _print_notes(notes)
    print(f"Report written in {time.perf_counter() - started:.1f} s:")
    for path in written:
        print(f"  {path}")
    return 0


def register(subparsers) -> None:
    """Add the ``chart`` and ``report`` commands to the ``overspend`` parser."""
    chart = subparsers.add_parser(
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

    report = subparsers.add_parser(
        "report",
        help="write report.html, report.pdf and summary.xlsx from a saved run",
        description=(
            "Write a cabinet-ready report of a saved run: report.html (one self-contained "
            "file), report.pdf (A4) and summary.xlsx (summary and monthly percentiles)."
        ),
    )
    report.add_argument("results_dir", help="results folder written by `overspend run`")
    report.add_argument("--out", help="folder for the report files (default: RESULTS_DIR)")
    report.add_argument(
        "--every", action="store_true", help="include the charts of every service and year"
    )
    report.add_argument(
        "--force",
        action="store_true",
        help="replace a report written there before (files overspend did not write never are)",
    )
    report.set_defaults(handler=_cmd_report)
