"""``overspend validate``: check a config and describe its model in plain English."""

from __future__ import annotations

import argparse

from simulator.cli.common import add_outside_argument, config_path, print_warnings


def _cmd_validate(args: argparse.Namespace) -> int:
    from simulator.config.load import load_config
    from simulator.present.describe import describe

    path = config_path(args.config)
    config = load_config(path, allow_outside=args.allow_outside_files)
    print_warnings(config, path)
    print(f"{path}: valid.\n")
    print(describe(config))
    return 0


def register(sub) -> None:
    """Add ``overspend validate``."""
    validate = sub.add_parser(
        "validate",
        help="check a config and describe the model it defines",
        description="Check a config and print a plain-English description of its model.",
    )
    validate.add_argument("config", nargs="?", help="TOML config (default: the bundled example)")
    add_outside_argument(validate)
    validate.set_defaults(handler=_cmd_validate)
