"""``overspend compare``: the base case and each scenario on common random numbers.

Writes ``scenarios.nc`` into the run's folder (default
``results/<config name>/``), never over an existing file unless ``--force``.
"""

from __future__ import annotations

import argparse
import time

from simulator.cli.common import (
    add_cluster_arguments,
    add_output_arguments,
    add_run_arguments,
    check_workload,
    load_run_config,
    output_path,
)
from simulator.errors import UserError


def _cmd_compare(args: argparse.Namespace) -> int:
    from simulator.analysis.scenarios import compare_scenarios
    from simulator.engine.cluster import open_client, run_threads
    from simulator.files import check_file, write_dataset
    from simulator.model.equations import build_plan
    from simulator.present.console import progress_bar
    from simulator.present.tables import check_service, scenario_table, wide_console

    path, config, seed = load_run_config(args)
    target = output_path(args.config, args.out, "scenarios.nc")
    check_file(target, args.force)
    check_service([g.key for g in build_plan(config).groups], args.service)
    names = args.scenario or list(config.scenarios)
    if not names:
        raise UserError(f"{path.name} declares no scenarios: add [scenarios.<name>] tables")
    draws = args.draws or config.run.draws
    with open_client(args.cluster, args.workers, say=print) as client:
        threads = run_threads(client, args.threads)  # the cluster's, for the estimate
        check_workload(config, draws, threads, runs=1 + len(names), out_dir=target.parent)
        started = time.perf_counter()
        with progress_bar(draws * (1 + len(names)), f"{1 + len(names)} scenarios") as advance:
            ds = compare_scenarios(
                config, draws, seed, names, threads=args.threads, progress=advance,
                keep_draws=not args.summary_only, source=path.name, client=client,
            )  # fmt: skip
    ds.attrs["config_file"] = str(path)
    wide_console().print(scenario_table(ds, args.service))
    write_dataset(ds, target, force=args.force)
    print(f"\n{draws:,} draws per scenario, seed {seed}, "
          f"{time.perf_counter() - started:.1f} s. Written:\n  {target}")  # fmt: skip
    return 0


def register(sub) -> None:
    """Add ``overspend compare``."""
    comp = sub.add_parser(
        "compare",
        help="run the base case and every scenario on common random numbers and compare them",
        description=(
            "Run the base case and the config's [scenarios] with common random numbers and "
            "report the change in mean overspend and in the probability of overspend, with "
            "standard errors. Writes results/<config name>/scenarios.nc."
        ),
    )
    add_run_arguments(comp)
    add_cluster_arguments(comp)
    comp.add_argument(
        "--scenario", action="append", metavar="NAME",
        help="a scenario to run (repeatable; default: all)",
    )  # fmt: skip
    comp.add_argument(
        "--summary-only", action="store_true", help="leave the per-draw overspend out of the file"
    )
    add_output_arguments(comp, "scenarios.nc")
    comp.set_defaults(handler=_cmd_compare)
