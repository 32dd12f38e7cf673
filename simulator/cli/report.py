"""``overspend report``: report.html, report.pdf and summary.xlsx of a saved run."""

from __future__ import annotations

import argparse
import time

from simulator.cli.common import print_notes


def _cmd_report(args: argparse.Namespace) -> int:
    from simulator.present.report import write_report

    started = time.perf_counter()
    notes: list[str] = []
    written = write_report(
        args.results_dir, args.out, every=args.every, notes=notes, force=args.force
    )
    print_notes(notes)
    print(f"Report written in {time.perf_counter() - started:.1f} s:")
    for path in written:
        print(f"  {path}")
    return 0


def register(sub) -> None:
    """Add ``overspend report``."""
    report = sub.add_parser(
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
