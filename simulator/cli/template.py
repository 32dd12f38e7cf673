"""``overspend template``: a config as an input workbook to fill in, or a workbook as TOML."""

from __future__ import annotations

import argparse
from pathlib import Path

from simulator.cli.common import add_outside_argument, config_path
from simulator.errors import UserError


def _check_suffix(path: Path, suffixes: tuple[str, ...], flag: str) -> None:
    if path.suffix.lower() not in suffixes:
        raise UserError(f"{flag} {path}: give a file name ending {' or '.join(suffixes)}")


def _cmd_template(args: argparse.Namespace) -> int:
    from simulator.config.load import dumps_config, load_config
    from simulator.config.workbook.write import write_workbook
    from simulator.files import write_file

    if args.xlsx is None and args.toml is None:
        raise UserError("say what to write: --xlsx council.xlsx, --toml council.toml, or both")
    path = config_path(args.config)
    config = load_config(path, allow_outside=args.allow_outside_files)
    written = []
    if args.xlsx is not None:
        out = Path(args.xlsx)
        _check_suffix(out, (".xlsx",), "--xlsx")
        if out.resolve() == path.resolve():
            raise UserError(f"--xlsx {out}: is the config being read; give another name")
        written.append(
            write_file(
                out, lambda p: write_workbook(config, p, path.name), force=args.force, what="--xlsx"
            )
        )
    if args.toml is not None:
        out = Path(args.toml)
        _check_suffix(out, (".toml",), "--toml")
        if out.resolve() == path.resolve():
            raise UserError(f"--toml {out}: is the config being read; give another name")
        text = dumps_config(config)
        written.append(
            write_file(
                out, lambda p: p.write_text(text, encoding="utf-8"), force=args.force, what="--toml"
            )
        )
    for out in written:
        print(f"Wrote {out}")
    if args.xlsx is not None:
        print(f"Fill it in, then check it with: overspend validate {args.xlsx}")
    return 0


def register(sub) -> None:
    """Add ``overspend template``."""
    template = sub.add_parser(
        "template",
        help="write a config as an Excel workbook to fill in (or a workbook as TOML)",
        description=(
            "Write CONFIG (TOML or a workbook; default: the bundled example county) as an "
            "input workbook a finance team can fill in (--xlsx), with a note on every header "
            "and dropdowns for choices, or as resolved TOML (--toml). The workbook is itself "
            "a config: validate, run, sensitivity and compare accept it. See docs/excel.md."
        ),
    )
    template.add_argument(
        "config", nargs="?", help="TOML config or workbook (default: the bundled example)"
    )
    template.add_argument("--xlsx", help="write the input workbook here (.xlsx)")
    template.add_argument("--toml", help="write the resolved config here as TOML (.toml)")
    template.add_argument(
        "--force", action="store_true", help="replace a file overspend wrote there before"
    )
    add_outside_argument(template)
    template.set_defaults(handler=_cmd_template)
