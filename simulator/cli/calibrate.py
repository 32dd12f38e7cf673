"""``overspend calibrate``: write a config from a council's own placement records."""

from __future__ import annotations

import argparse
import time
from datetime import date
from pathlib import Path

from simulator.errors import UserError

# Lines of the cleaning summary printed before pointing at problems.csv.
_SUMMARY_LINES = 12


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        pass
    try:
        day, month, year = (int(p) for p in text.split("/"))
        return date(year, month, day)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a date: write YYYY-MM-DD or DD/MM/YYYY"
        ) from None


def _years(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 1 <= value <= 5:
        raise argparse.ArgumentTypeError(f"{value}: the horizon is 1 to 5 financial years")
    return value


def register(subparsers) -> None:
    """Add the ``calibrate`` command."""
    p = subparsers.add_parser(
        "calibrate",
        help="fit a config to a council's placement records (SSDA903 or a packages list)",
        description=(
            "Read a council's records, clean them, fit arrivals with trend, placement lengths "
            "(censored maximum likelihood, compared with Kaplan-Meier) and unit costs per "
            "service, and write a commented config that `overspend run` accepts, with "
            "goodness-of-fit plots, a table of every fitted figure, a list of every row "
            "cleaning dropped or changed, and the caseload open on the as-of date. "
            "See docs/calibrate.md."
        ),
    )
    data = p.add_argument_group("records")
    data.add_argument(
        "--episodes",
        type=Path,
        action="append",
        default=[],
        help="SSDA903 episodes table (CSV), or a folder of them; repeat for one file per year: "
        "the returns are stitched into one history",
    )
    data.add_argument(
        "--header",
        type=Path,
        action="append",
        default=[],
        help="SSDA903 header table (CSV), for ages (repeatable; a folder given to --episodes "
        "may hold them too)",
    )
    data.add_argument(
        "--mapping",
        type=Path,
        help="TOML mapping PLACE x PLACE_PROVIDER to services (default: built in; "
        "see --write-mapping)",
    )
    data.add_argument("--la", help="keep only this council's rows (the episodes' LA column)")
    data.add_argument(
        "--packages",
        type=Path,
        action="append",
        default=[],
        help="packages list: client_id, service, start_date, end_date, weekly_cost (repeatable)",
    )
    data.add_argument(
        "--department",
        default="Adults' services",
        help="department of package services without a department column (default: %(default)s)",
    )
    fit = p.add_argument_group("fitting")
    fit.add_argument(
        "--as-of",
        type=_date,
        help="date the records describe; later starts are ignored and later ends treated as "
        "open (default: the end, 31 March, of the last complete collection year in the records)",
    )
    fit.add_argument(
        "--since",
        type=_date,
        help="first day of complete records (default: inferred per file); a later date fits "
        "a more recent period",
    )
    fit.add_argument(
        "--years", type=_years, default=1, help="financial years to simulate (default: 1)"
    )
    fit.add_argument(
        "--keep-stale",
        action="store_true",
        help="keep stale open placements (open in an earlier return, the child in no later "
        "one) in the starting caseload; by default they are left out and counted",
    )
    fit.add_argument(
        "--council", help="council name for the config (it also names the config file)"
    )
    fit.add_argument(
        "--no-parameter-uncertainty",
        dest="parameter_uncertainty",
        action="store_false",
        help="write point estimates only, not distributions with the fits' standard errors",
    )
    fit.add_argument("--strict", action="store_true", help="stop at the first file with a bad row")
    out = p.add_argument_group("output")
    out.add_argument(
        "--out",
        type=Path,
        default=Path("calibration"),
        help="folder to write (default: %(default)s)",
    )
    out.add_argument("--force", action="store_true", help="replace an existing output folder")
    out.add_argument("--no-plots", dest="plots", action="store_false", help="skip the plots")
    out.add_argument(
        "--write-config",
        type=Path,
        metavar="FILE",
        help="also write the calibrated config to FILE: an input workbook (.xlsx) to check "
        "and fill in in Excel, or TOML (.toml)",
    )
    out.add_argument(
        "--write-mapping",
        type=Path,
        metavar="FILE",
        help="write the default SSDA903 mapping to FILE to edit, and stop",
    )
    p.set_defaults(handler=cmd_calibrate)


def _load(args: argparse.Namespace):
    from simulator.calibrate import load_packages, load_ssda903

    records = None
    if args.episodes:
        records = load_ssda903(
            args.episodes, args.header or None, args.mapping, args.la, args.strict
        )
    elif args.header or args.mapping is not None or args.la is not None:
        raise UserError("--header, --mapping and --la go with --episodes")
    for path in args.packages:
        more = load_packages(path, args.department, args.strict)
        records = more if records is None else records + more
    if records is None:
        raise UserError(
            "give the records to calibrate from: --episodes FILE and/or --packages FILE"
        )
    return records


def _service_line(svc) -> str:
    a, best = svc.arrivals, svc.lengths.chosen
    cost = (
        f"£{svc.costs.overall_mean:,.0f}/wk fitted"
        if svc.costs is not None
        else f"£{svc.info.default_cost['mean_gbp_per_week']:,.0f}/wk from mapping"
    )
    return (
        f"  {svc.key:<28} {svc.lengths.data.n:>7,} {len(svc.caseload_elapsed):>6,} "
        f"{a.per_year:>8.1f} {a.growth:>+7.1%}  {best.name:<11} {best.value('median'):>7.1f}  {cost}"
    )


def _pathway_lines(cal) -> list[str]:
    """Moves between services and ages, in words (the config and fits.csv have the detail)."""
    labels = {svc.key: svc.info.label for svc in cal.services}
    written = [m for m in cal.moves if m.modelled]
    lines = []
    if cal.moves:
        lines.append(
            f"\nMoves between services: {len(written)} written"
            + (f", {len(cal.moves) - len(written)} left as an end and a new placement "
               "(the config's opening comment says why)" if len(cal.moves) > len(written) else "")
        )  # fmt: skip
    for m in sorted(written, key=lambda m: -m.moves):
        lines.append(
            f"  {labels.get(m.source, m.source)} -> {labels.get(m.dest, m.dest)}: "
            f"{m.per_year:.1%} of placements a year ({m.moves:,} moves)"
        )
    aged = [svc for svc in cal.services if svc.ages is not None]
    if aged:
        lines.append(
            f"Ages at entry from dates of birth for {len(aged)} service(s); placements end at 18 "
            "(who continues into adults' care is not in the returns: add continue_to yourself)."
        )
    return lines


def _print_report(cal, written: list[Path], config: Path, seconds: float) -> None:
    from simulator.calibrate.records import from_day

    lines = cal.log.summary()
    print(f"Records: {', '.join(cal.sources)}; as of {from_day(cal.as_of)}.")
    if cal.as_of_reason:
        print(f"The as-of date is {cal.as_of_reason}.")
    print("Cleaning:" if lines else "Cleaning: nothing dropped or changed.")
    for line in lines[:_SUMMARY_LINES]:
        print(f"  {line}")
    if len(lines) > _SUMMARY_LINES:
        print(f"  ... and {len(lines) - _SUMMARY_LINES} more lines")
    print(
        f"\n  {'service':<28} {'placed':>7} {'open':>6} {'per year':>8} {'growth':>7}  "
        f"{'length':<11} {'median':>7}  unit cost"
    )
    for svc in cal.services:
        print(_service_line(svc))
        for warning in svc.warnings:
            print(f"    warning: {warning}")
    for key, why in cal.skipped.items():
        print(f"  {key}: left out: {why}")
    for line in _pathway_lines(cal):
        print(line)
    for warning in cal.warnings:
        print(f"warning: {warning}")
    print(f"\nBudgets in the config are placeholders: replace them. {seconds:.1f} s. Written:")
    for path in written:
        print(f"  {path}")
    print(f"\nConfig: {config.name} (overspend run {config})")


_CONFIG_SUFFIXES = (".xlsx", ".toml")


def _check_config_file(path: Path, force: bool) -> None:
    """Refuse, before any fitting, a ``--write-config`` file that cannot be written."""
    from simulator.files import check_file

    if path.suffix.lower() not in _CONFIG_SUFFIXES:
        raise UserError(f"--write-config {path}: give a file name ending .xlsx or .toml")
    check_file(path, force, "--write-config")


def _write_config(config_file: Path, path: Path, force: bool) -> Path:
    """The calibrated config (as written in the folder) again at ``path``: workbook or TOML."""
    from simulator.config.load import dumps_config, load_config
    from simulator.config.workbook.write import write_workbook
    from simulator.files import write_file

    config = load_config(config_file)
    if path.suffix.lower() == ".xlsx":
        write = lambda p: write_workbook(config, p, config_file.name)  # noqa: E731
    else:
        text = dumps_config(config)
        write = lambda p: p.write_text(text, encoding="utf-8")  # noqa: E731
    return write_file(path, write, force=force, what="--write-config")


def cmd_calibrate(args: argparse.Namespace) -> int:
    """Run ``overspend calibrate``; returns the exit status."""
    from simulator.calibrate import DEFAULT_MAPPING_TOML, calibrate, to_toml
    from simulator.calibrate.output import check_writable, config_name, write_calibration

    if args.write_mapping is not None:
        from simulator.files import write_file

        if not args.write_mapping.parent.is_dir():
            raise UserError(
                f"--write-mapping {args.write_mapping}: cannot write it (No such file or "
                f"directory: {args.write_mapping.parent})"
            )
        write_file(
            args.write_mapping,
            lambda tmp: tmp.write_text(DEFAULT_MAPPING_TOML, encoding="utf-8"),
            force=args.force,
            what="--write-mapping",
        )
        print(f"Wrote the default mapping to {args.write_mapping}: edit it, then pass --mapping.")
        return 0
    started = time.perf_counter()
    check_writable(args.out, args.force)
    if args.write_config is not None:
        _check_config_file(args.write_config, args.force)
    records = _load(args)
    cal = calibrate(
        records,
        as_of=args.as_of,
        since=args.since,
        years=args.years,
        council=args.council,
        parameter_uncertainty=args.parameter_uncertainty,
        keep_stale=args.keep_stale,
    )
    written = write_calibration(cal, args.out, args.force, args.plots, config_text=to_toml(cal))
    if args.write_config is not None:
        written.append(_write_config(args.out / config_name(cal), args.write_config, args.force))
    _print_report(cal, written, args.out / config_name(cal), time.perf_counter() - started)
    return 0
