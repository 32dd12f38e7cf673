"""``overspend report``: report.html, report.pdf and summary.xlsx of a saved run."""

from __future__ import annotations

import argparse
import time

from simulator.cli.common import print_notes


def _cmd_report(args: argparse.Namespace) -> int:
    from simulator.present.console import steps_bar
    from simulator.present.report import write_report

    started = time.perf_counter()
    notes: list[str] = []
    with steps_bar("Drawing the report") as show:
        written = write_report(
            args.results_dir, args.out, every=args.every, notes=notes, force=args.force,
            target=args.target, progress=show, since=args.since, iterations=args.iterations,
        )  # fmt: skip
    print_notes(notes)
    print(f"Report written in {time.perf_counter() - started:.1f} s:")
    for path in written:
        print(f"  {path}")
    return 0


def _chance(text: str) -> float:
    """``--target``: a chance strictly between 0 and 1 (a fraction, or a percentage like 30%)."""
    try:
        value = float(text[:-1]) / 100 if text.endswith("%") else float(text)
    except ValueError:
        value = float("nan")
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(
            f"{text!r}: give a chance between 0 and 1 (e.g. 0.3) or a percentage (e.g. 30%)"
        )
    return value


def register(sub) -> None:
    """Add ``overspend report``."""
    report = sub.add_parser(
        "report",
        help="write report.html, report.pdf, summary.pdf/.png and summary.xlsx from a saved run",
        description=(
            "Write a cabinet-ready report of a saved run: report.html (one self-contained "
            "file), report.pdf (A4, the one page for cabinet first), summary.pdf and "
            "summary.png (that page alone) and summary.xlsx (summary and monthly percentiles)."
        ),
    )
    report.add_argument("results_dir", help="results folder written by `overspend run`")
    report.add_argument("--out", help="folder for the report files (default: RESULTS_DIR)")
    report.add_argument(
        "--every", action="store_true", help="include the charts of every service and year"
    )
    report.add_argument(
        "--since",
        metavar="PREVIOUS_RESULTS",
        help="a previous results folder of the same council: the report adds what moved since "
        "then (chance of overspend, median and P90 per service, and a waterfall)",
    )
    report.add_argument(
        "--target",
        type=_chance,
        metavar="CHANCE",
        help="a chance of overspend to aim for, e.g. 0.3: the report adds the extra savings "
        "that bring it there, beside those for evens",
    )
    report.add_argument(
        "--iterations",
        action="store_true",
        help="add an Iterations sheet to summary.xlsx: one row per draw, for teams that pivot "
        "themselves (capped at a million cells)",
    )
    report.add_argument(
        "--force",
        action="store_true",
        help="replace a report written there before (files overspend did not write never are)",
    )
    report.set_defaults(handler=_cmd_report)
