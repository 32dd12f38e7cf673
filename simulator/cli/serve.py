"""``overspend serve``: the what-if page on a local web address (see ``docs/serve.md``)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from simulator.cli.common import add_outside_argument, positive_int, seed_int
from simulator.errors import UserError


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{value} must be from 0 (any free port) to 65535")
    return value


def _settings(args: argparse.Namespace):
    """The config, seed, draws, council name and results folder the page works on."""
    from simulator.cli.common import load_run_config, output_path
    from simulator.serve.server import read_results

    if args.config is not None and Path(args.config).is_dir():
        folder = Path(args.config)
        config, seed, draws, council = read_results(folder)
        seed = args.seed if args.seed is not None else seed
        out = Path(args.out) if args.out else folder
        return config, seed, args.draws or draws, council, out, f"{folder}/simulation.nc"
    path, config, seed = load_run_config(args)
    folder = output_path(args.config, args.out, "x").parent
    return config, seed, args.draws or config.run.draws, config.council.name, folder, path.name


def _cmd_serve(args: argparse.Namespace) -> int:
    import logging

    try:
        import dash  # noqa: F401
    except ImportError:
        raise UserError(
            "overspend serve needs its web framework, Dash: pip install 'overspend[serve]'"
        ) from None

    from simulator.serve.page import Page
    from simulator.serve.server import exposure_warning, make_server, url_of
    from simulator.serve.whatif import FIRST_DRAWS, WhatIf

    config, seed, draws, council, folder, source = _settings(args)
    # Each update's time goes to standard error: how fast the page answers on this machine.
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    logging.getLogger("overspend.serve").setLevel(logging.INFO)
    first = args.first_draws or min(FIRST_DRAWS, draws)
    if first > draws:
        raise UserError(f"--first-draws {first:,} is more than --draws {draws:,}")
    warning = exposure_warning(args.host, args.port)
    if warning:
        print(f"warning: {warning}", file=sys.stderr)
    engine = WhatIf(config, seed, draws, first, args.threads, source)
    engine.start(progress=lambda text: print(text, flush=True))
    page = Page(engine, folder, council)
    server = make_server(page.app, args.host, args.port)
    print(
        f"The what-if page for {council} is at {url_of(server)}\n"
        f"  base case: {source}, seed {seed}, {engine.first_draws:,} draws at once, refined to "
        f"{engine.draws:,}; scenarios are saved in {folder / 'what_if'}\n"
        "  Ctrl-C stops it.",
        flush=True,
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("stopped: the page is closed", flush=True)
    finally:
        server.server_close()
        engine.stop()
    return 0


def register(sub) -> None:
    """Add ``overspend serve``."""
    p = sub.add_parser(
        "serve",
        help="a what-if page: change an assumption and see the chance of overspend move",
        description=(
            "Start a local web page where the assumptions a finance team argues about "
            "(growth, unit costs, inflation, savings delivery, the config's scenarios) can be "
            "changed and the chance of overspend, the median, the 1-in-10 bad case, the "
            "reserve for 90% confidence and the top drivers move within about a second, "
            "beside the base case, on common random numbers. See docs/serve.md."
        ),
    )
    p.add_argument(
        "config", nargs="?",
        help="TOML config, or a results folder of `overspend run` (default: the bundled "
        "example county)",
    )  # fmt: skip
    p.add_argument("--port", type=_port, default=8050, help="port (default 8050; 0: any free)")
    p.add_argument(
        "--host", default="127.0.0.1",
        help="address to bind (default 127.0.0.1, this machine only); another address shows "
        "the council's figures to whoever reaches it",
    )  # fmt: skip
    p.add_argument(
        "--draws", type=positive_int,
        help="draws each what-if is refined to (default: the config's [run] draws, or the "
        "results folder's)",
    )  # fmt: skip
    p.add_argument(
        "--first-draws", type=positive_int, default=None,
        help="draws of the first pass shown at once after a change (default 500, one chunk)",
    )  # fmt: skip
    p.add_argument("--seed", type=seed_int, help="random seed (default: the config's)")
    p.add_argument(
        "--threads", type=positive_int, default=None,
        help="worker threads (default: the machine's cores); never changes the results",
    )  # fmt: skip
    p.add_argument(
        "--out", help="results folder whose what_if/ folder saved scenarios go into "
        "(default: results/<config name>, or the results folder given)",
    )  # fmt: skip
    add_outside_argument(p)
    p.set_defaults(handler=_cmd_serve)
