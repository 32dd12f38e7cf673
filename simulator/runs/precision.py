"""Convergence control: run until the probability of overspend is precise enough.

``overspend run --precision X`` adds whole chunks of draws, in order, until
the Monte Carlo standard error of the total's probability of overspend is
below ``X`` in **every** financial year of the horizon (the later years are
usually the binding ones). Because chunk ``i`` always uses
``engine.chunk_rng(seed, i)`` and the rule is checked after each chunk in
chunk order, the result is exactly ``overspend run --draws N`` for the ``N``
it stopped at, whatever the number of threads.

The rule uses ``p~ = (k + 2) / (n + 4)`` (Agresti and Coull) in place of the
observed share ``k / n``: with few draws and a probability near 0 or 1 the
plain ``sqrt(p (1 - p) / n)`` can be zero by chance and would stop a run far
too early. ``p~`` is pulled towards one half, so the standard error the
summary reports, ``sqrt(p (1 - p) / n)``, is below ``X`` too when the rule
stops.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import xarray as xr

from simulator.config.load import load_config
from simulator.config.schema import Config
from simulator.engine.chunks import (
    CHUNK_DRAWS,
    Simulation,
    allocate,
    chunk_bounds,
    chunk_results,
    store_chunk,
)
from simulator.errors import UserError
from simulator.model.equations import ChunkResult, Plan, build_plan, overspend_rows
from simulator.results.dataset import build_dataset

#: Default cap on draws: the run's arrays must fit in memory (about 14 kB a draw for
#: the example county: 2.8 GB at this cap).
MAX_DRAWS = 200_000
#: Default floor on draws, so a lucky first chunk cannot end the run.
MIN_DRAWS = 2 * CHUNK_DRAWS


def stopping_se(overspends: np.ndarray | int, draws: int) -> np.ndarray:
    """Standard error the stopping rule uses for a probability of overspend.

    Parameters
    ----------
    overspends : int or numpy.ndarray
        Draws with an overspend, k.
    draws : int
        Draws so far, n.

    Returns
    -------
    numpy.ndarray
        ``sqrt(p~ (1 - p~) / n)`` with ``p~ = (k + 2) / (n + 4)``.
    """
    p = (np.asarray(overspends, dtype=float) + 2.0) / (draws + 4.0)
    return np.sqrt(p * (1.0 - p) / draws)


def _total_row(plan: Plan) -> int:
    return next(g for g, group in enumerate(plan.groups) if group.kind == "total")


def _assemble(plan: Plan, chunks: list[ChunkResult]) -> Simulation:
    """The run's arrays from chunks 0..k-1, exactly as :func:`simulator.engine.chunks.simulate` builds them.

    Empties ``chunks`` as it goes: the run's arrays are only touched (and so
    only take memory) as each chunk is copied in and let go, so the peak is
    about one copy of the run, not two.
    """
    draws = sum(c.spend.shape[0] for c in chunks)
    sim = allocate(plan, draws)
    first = 0
    chunks.reverse()
    while chunks:
        chunk = chunks.pop()
        stop = first + chunk.spend.shape[0]
        store_chunk(plan, sim, slice(first, stop), chunk)
        first = stop
    return sim


def _check(precision: float, min_draws: int, max_draws: int) -> None:
    if not 0.0 < precision < 0.5:
        raise UserError(
            f"precision = {precision}: must be between 0 and 0.5 (a standard error of a "
            "probability, e.g. 0.005 for half a percentage point)"
        )
    if not 1 <= min_draws <= max_draws:
        raise UserError(
            f"draws between {min_draws} and {max_draws}: the minimum must not exceed the maximum"
        )


def run_to_precision(
    config: Config | str | Path,
    precision: float,
    seed: int | None = None,
    threads: int | None = None,
    progress: Callable[[int], None] | None = None,
    max_draws: int = MAX_DRAWS,
    min_draws: int = MIN_DRAWS,
    client=None,
) -> xr.Dataset:
    """Add chunks of draws until P(overspend) of the total is precise in every year.

    Parameters
    ----------
    config : Config or path
    precision : float
        Target standard error of the total's probability of overspend, as a
        fraction (0.005 = half a percentage point), met in every financial year.
    seed : int, optional
        Default: the config's ``[run] seed``.
    threads : int, optional
        Worker threads (default: the machine's cores); never changes the result.
    progress : callable, optional
        Called with the number of draws just accepted, once per chunk.
    max_draws : int
        Stop here even if the target is not met (``precision_met`` is then 0).
    min_draws : int
        Never stop before this many draws (rounded up to whole chunks).
    client : distributed.Client, optional
        Compute the chunks on this dask cluster (about twice its threads ahead
        of the rule); the draws it stops at and the result are the same.

    Returns
    -------
    xarray.Dataset
        The ordinary results Dataset (as :func:`simulator.run` with the draws
        it took), with attributes ``precision_target``, ``precision_met`` (1 or
        0), ``precision_se`` (the largest reported standard error of the
        total's P(overspend) over the years) and ``draws``.
    """
    if not isinstance(config, Config):
        config = load_config(config)
    _check(precision, min_draws, max_draws)
    seed = config.run.seed if seed is None else int(seed)
    plan = build_plan(config)
    chunks, met = _run_chunks(
        plan, seed, threads, precision, min_draws, max_draws, progress, client
    )
    draws = sum(c.spend.shape[0] for c in chunks)
    ds = build_dataset(plan, _assemble(plan, chunks), seed, draws)
    p = (ds["overspend"].sel(service="total") > 0).mean("draw").values
    ds.attrs |= {
        "precision_target": float(precision),
        "precision_met": int(met),
        "precision_se": float(np.max(np.sqrt(p * (1 - p) / draws))),
        "precision_rule": "whole chunks in order until sqrt(p~(1-p~)/n) < target in every "
        "financial year for the total, p~ = (k+2)/(n+4)",
    }
    return ds


def _run_chunks(
    plan: Plan,
    seed: int,
    threads: int,
    precision: float,
    min_draws: int,
    max_draws: int,
    progress: Callable[[int], None] | None,
    client=None,
) -> tuple[list[ChunkResult], bool]:
    """Chunks 0, 1, ... until the rule is met; up to ``threads`` are computed ahead."""
    bounds = chunk_bounds(max_draws)
    total = _total_row(plan)
    chunks: list[ChunkResult] = []
    overspends, draws = np.zeros(plan.years), 0
    results = chunk_results(plan, seed, bounds, threads, client)
    for chunk in results:
        chunks.append(chunk)
        over = overspend_rows(plan, chunk)[:, total]
        overspends += (over > 0).sum(axis=0)
        draws += over.shape[0]
        if progress is not None:
            progress(over.shape[0])
        if draws >= min_draws and stopping_se(overspends, draws).max() < precision:
            results.close()  # cancels the chunks computed ahead but not needed
            break
    met = bool(stopping_se(overspends, draws).max() < precision)
    return chunks, met


def precision_note(ds: xr.Dataset) -> str:
    """One sentence on how a ``run_to_precision`` result stopped, for the console."""
    target, draws, se = ds.attrs["precision_target"], ds.attrs["draws"], ds.attrs["precision_se"]
    if ds.attrs["precision_met"]:
        return (
            f"Precision reached after {draws:,} draws: the standard error of the total's "
            f"probability of overspend is at most {se:.4f} in every year (target {target:g})."
        )
    return (
        f"Precision NOT reached: stopped at the limit of {draws:,} draws with a standard "
        f"error of {se:.4f} (target {target:g}); ask for a larger target or raise the limit."
    )
