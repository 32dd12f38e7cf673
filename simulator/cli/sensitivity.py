"""``overspend sensitivity``: tornado and Sobol indices of the uncertain inputs.

Writes ``sensitivity.nc`` into the run's folder (default
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
    positive_int,
    power_of_two,
)
from simulator.errors import UserError

DEFAULT_SAMPLES = 1024


DEFAULT_TORNADO_DRAWS = 1000


def _cmd_sensitivity(args: argparse.Namespace) -> int:
    from simulator.analysis.sensitivity import (
        ModelEvaluator,
        group_inputs,
        sensitivity_dataset,
        sobol_analysis,
        tornado,
    )
    from simulator.engine.cluster import open_client, run_threads
    from simulator.files import check_file, write_dataset
    from simulator.model.equations import build_plan
    from simulator.present.console import progress_bar
    from simulator.present.tables import (
        check_service,
        growing_progress_bar,
        sobol_tables,
        tornado_tables,
        wide_console,
    )

    path, config, seed = load_run_config(args)
    target = output_path(args.config, args.out, "sensitivity.nc")
    check_file(target, args.force)
    plan = build_plan(config)
    check_service([g.key for g in plan.groups], args.service)
    groups = group_inputs([i.name for i in plan.inputs], args.group)
    if not groups:
        raise UserError(f"{path.name} has no uncertain inputs: nothing to analyse")
    sobol_draws = args.samples * (len(groups) + 3) if args.method in ("both", "sobol") else 0
    tornado_draws = (
        (args.draws or min(config.run.draws, DEFAULT_TORNADO_DRAWS)) * (2 * len(groups) + 1)
        if args.method in ("both", "tornado")
        else 0
    )
    sobol = tornado_result = None
    with open_client(args.cluster, args.workers, say=print) as client:
        # Both parts run on the cluster when given one: estimate with its threads.
        threads = run_threads(client, args.threads)
        check_workload(config, sobol_draws + tornado_draws, threads, option="--samples or --draws")
        started = time.perf_counter()
        if args.method in ("both", "sobol"):
            with growing_progress_bar(f"Sobol design, {len(groups)} inputs") as (advance, grow):
                # sobol_model's two steps, with the evaluator given the cluster.
                evaluate = ModelEvaluator(plan, seed, args.threads, advance, client=client)
                sobol = sobol_analysis(
                    evaluate, len(plan.inputs), groups, args.samples, seed,
                    n_resamples=args.bootstrap, threads=args.threads, planned=grow,
                )  # fmt: skip
        if args.method in ("both", "tornado"):
            draws = args.draws or min(config.run.draws, DEFAULT_TORNADO_DRAWS)
            with progress_bar(draws, f"Tornado, {2 * len(groups) + 1} runs") as advance:
                tornado_result = tornado(
                    plan, groups, draws, seed, threads=args.threads, progress=advance,
                    client=client,
                )  # fmt: skip
    ds = sensitivity_dataset(plan, groups, seed, args.group, sobol, tornado_result)
    ds.attrs["config_file"] = str(path)
    console = wide_console()
    if sobol is not None:
        for t in sobol_tables(ds, args.service, args.top):
            console.print(t)
    if tornado_result is not None:
        for t in tornado_tables(ds, args.service, args.top):
            console.print(t)
    write_dataset(ds, target, force=args.force)
    print(f"\n{len(groups)} inputs (grouped by {args.group}), seed {seed}, "
          f"{time.perf_counter() - started:.1f} s. Written:\n  {target}")  # fmt: skip
    return 0


def register(sub) -> None:
    """Add ``overspend sensitivity``."""
    from simulator.analysis.sensitivity import GROUPINGS
    from simulator.present.tables import DEFAULT_TOP

    sens = sub.add_parser(
        "sensitivity",
        help="what drives the overspend: tornado and Sobol indices per service and year",
        description=(
            "Tornado (each input at its 10th and 90th percentile, common random numbers) and "
            "Sobol first-order and total indices with bootstrap intervals and the share left to "
            "case-level randomness, for every service and financial year. Writes "
            "results/<config name>/sensitivity.nc. --draws is the tornado's draws per run "
            f"(default {DEFAULT_TORNADO_DRAWS:,}, or the config's if fewer)."
        ),
    )
    add_run_arguments(sens)
    add_cluster_arguments(sens)
    sens.add_argument(
        "--samples", type=power_of_two, default=DEFAULT_SAMPLES,
        help=f"Sobol base samples, a power of two (default {DEFAULT_SAMPLES}); the model runs "
        "samples x (groups + 3) draws, plus samples for each group that changes the case-level "
        "draws (arrival rates and growth); groups are the inputs as --group gathers them",
    )  # fmt: skip
    sens.add_argument(
        "--group", choices=GROUPINGS, default="parameter",
        help="parameter: one input per parameter, all years together (default); "
        "input: every per-year input alone; section: one per inflation factor and per service",
    )  # fmt: skip
    sens.add_argument("--method", choices=("both", "sobol", "tornado"), default="both")
    sens.add_argument(
        "--bootstrap", type=positive_int, default=500, help="bootstrap resamples (default 500)"
    )
    sens.add_argument(
        "--top",
        type=positive_int,
        default=DEFAULT_TOP,
        help=f"inputs to print (default {DEFAULT_TOP})",
    )
    add_output_arguments(sens, "sensitivity.nc")
    sens.set_defaults(handler=_cmd_sensitivity)
