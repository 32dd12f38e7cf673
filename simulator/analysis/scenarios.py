"""Scenario comparison with common random numbers (``overspend compare``).

The base case and every scenario are run on the same draws: chunk ``i`` of
each uses the base run's input uniforms and the base run's case-level
generator state (``engine.chunk_rng(seed, i)`` after the uniforms are drawn),
so the base here is exactly ``overspend run`` with the same seed and draws,
and a scenario's difference from it is measured draw by draw.

Inputs are matched by name: a scenario input that the base also has reuses
the base's uniform (so ``childrens_homes.arrivals.growth`` at mean 8% instead
of 5% moves every draw up by the same quantile), an input the scenario fixes
is simply absent, and an input only the scenario has gets uniforms from its
own stream, seeded by the run seed, the chunk and the input's name.

Case-level draws (which child arrives, for how long, at what weekly cost)
stay identical when a scenario changes only what happens after them
(savings, income, inflation, budgets). A scenario that changes arrival counts
shifts the shared generator after the first changed count, so from there the
cases differ and only the inputs stay common: the standard errors reported
are those of the paired differences actually observed, so they are honest
either way.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np
import xarray as xr

from simulator.config.load import resolve_run
from simulator.config.scenarios import scenario_config
from simulator.config.schema import Config
from simulator.engine.chunks import chunk_bounds, chunk_rng, map_chunks
from simulator.errors import UserError
from simulator.model.equations import Plan, build_plan, overspend_rows, row_budgets, simulate_chunk
from simulator.results.dataset import data_var, group_coords, provenance

if TYPE_CHECKING:
    from distributed import Client

BASE = "base"
_NEW_INPUT_KEY = 0x5EED_0010


def _column_map(base: Plan, plan: Plan) -> tuple[np.ndarray, list[str]]:
    """For each of ``plan``'s inputs, the base column it reuses (-1 if new), and new names."""
    index = {inp.name: k for k, inp in enumerate(base.inputs)}
    cols = np.array([index.get(inp.name, -1) for inp in plan.inputs], dtype=np.int64)
    return cols, [inp.name for inp in plan.inputs if inp.name not in index]


def _new_uniforms(seed: int, chunk: int, name: str, n: int) -> np.ndarray:
    """Uniforms for an input only a scenario has: deterministic in (seed, chunk, name)."""
    key = zlib.crc32(name.encode("utf-8"))  # stable across processes, unlike hash()
    seq = np.random.SeedSequence(seed, spawn_key=(_NEW_INPUT_KEY, chunk, key))
    return np.random.Generator(np.random.PCG64(seq)).random(n)


def scenario_uniforms(
    base: Plan, plan: Plan, u_base: np.ndarray, seed: int, chunk: int
) -> np.ndarray:
    """Input uniforms of a scenario for one chunk, aligned with the base by input name.

    Parameters
    ----------
    base, plan : Plan
        The base case and the scenario.
    u_base : numpy.ndarray
        The base chunk's uniforms, shape ``(n, len(base.inputs))``.
    seed, chunk : int
        Seed the uniforms of inputs the base does not have.

    Returns
    -------
    numpy.ndarray
        Shape ``(n, len(plan.inputs))``.
    """
    cols, _ = _column_map(base, plan)
    n = u_base.shape[0]
    u = np.empty((n, cols.size))
    for k, (c, inp) in enumerate(zip(cols, plan.inputs, strict=True)):
        u[:, k] = u_base[:, c] if c >= 0 else _new_uniforms(seed, chunk, inp.name, n)
    return u


def _twin(state: dict) -> np.random.Generator:
    """A generator continuing from ``state`` (the base chunk's, after its uniforms)."""
    rng = np.random.Generator(np.random.PCG64())
    rng.bit_generator.state = state
    return rng


def _plans(config: Config, names: Sequence[str], source: str = "<config>") -> list[Plan]:
    """Base plan then one per scenario, checked to have the same result rows.

    ``source`` (the config's file name) starts the message of an unknown or invalid scenario.
    """
    if BASE in names:
        raise UserError(f"a scenario is named {BASE!r}, which compare uses for the base case")
    plans = [build_plan(config)] + [build_plan(scenario_config(config, n, source)) for n in names]
    rows = [g.key for g in plans[0].groups]
    for name, plan in zip(names, plans[1:], strict=True):
        if [g.key for g in plan.groups] != rows:
            raise UserError(
                f"scenarios.{name} adds, removes or regroups services; compare needs the "
                "same services and departments as the base case"
            )
    return plans


def scenario_chunk(plans: Sequence[Plan], seed: int, i: int, n: int) -> np.ndarray:
    """Overspend of chunk ``i`` (``n`` draws) in the base and each scenario, GBP.

    A pure function of its arguments: threads and dask workers run this one
    function, so where a chunk runs never changes its numbers.

    Returns
    -------
    numpy.ndarray
        Shape ``(n, scenarios, rows, years)``.
    """
    base = plans[0]
    out = np.empty((n, len(plans), len(base.groups), base.years))
    rng = chunk_rng(seed, i)
    u = rng.random((n, len(base.inputs)))  # as simulate_chunk would draw them
    state = rng.bit_generator.state
    for s, plan in enumerate(plans):
        u_s = u if s == 0 else scenario_uniforms(base, plan, u, seed, i)
        out[:, s] = overspend_rows(plan, simulate_chunk(plan, _twin(state), n, u_s))
    return out


def simulate_scenarios(
    plans: Sequence[Plan],
    draws: int,
    seed: int,
    threads: int | None = None,
    progress: Callable[[int], None] | None = None,
    client: Client | None = None,
) -> np.ndarray:
    """Overspend of the base (``plans[0]``) and each scenario on common random numbers.

    Parameters
    ----------
    plans : sequence of Plan
        The base case first.
    draws, seed : int
    threads : int, optional
        Never changes the results.
    progress : callable, optional
        Called with the number of draws finished (all scenarios of a chunk), once per chunk.
    client : distributed.Client, optional
        Run each chunk as a task on this dask cluster; never changes the results.

    Returns
    -------
    numpy.ndarray
        GBP, shape ``(draws, scenarios, rows, years)``.
    """
    base = plans[0]
    out = np.empty((draws, len(plans), len(base.groups), base.years))
    bounds = chunk_bounds(draws)

    def place(i: int, chunk: np.ndarray) -> None:
        first, stop = bounds[i]
        out[first:stop] = chunk
        if progress is not None:
            progress((stop - first) * len(plans))

    args = [(seed, i, stop - first) for i, (first, stop) in enumerate(bounds)]
    map_chunks(scenario_chunk, (list(plans),), args, place, threads, client)
    return out


def _paired(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean over draws (axis 0) of ``x - x[:, base]`` and its standard error."""
    diff = x - x[:, :1]
    n = x.shape[0]
    se = diff.std(axis=0, ddof=1) / np.sqrt(n) if n > 1 else np.full(diff.shape[1:], np.nan)
    return diff.mean(axis=0), se


def scenario_summary_vars(overspend: np.ndarray) -> dict:
    """Means, probabilities, paired differences and standard errors by scenario.

    Parameters
    ----------
    overspend : numpy.ndarray
        GBP, shape ``(draws, scenarios, rows, years)``, the base scenario first.

    Returns
    -------
    dict
        xarray data variables with dimensions (``scenario``, ``service``, ``financial_year``).
    """
    n = overspend.shape[0]
    over = overspend > 0
    dims = ("scenario", "service", "financial_year")
    mean = overspend.mean(axis=0)
    mean_se = overspend.std(axis=0, ddof=1) / np.sqrt(n) if n > 1 else np.full(mean.shape, np.nan)
    p = over.mean(axis=0)
    p_se = np.sqrt(p * (1 - p) / n)
    mean_diff, mean_diff_se = _paired(overspend)
    p_diff, p_diff_se = _paired(over.astype(float))
    not_base = (np.arange(mean.shape[0]) > 0)[:, None, None]
    return {
        "mean_overspend": data_var(dims, mean, "GBP", "mean overspend (negative is an underspend)"),
        "mean_overspend_se": data_var(dims, mean_se, "GBP", "Monte Carlo standard error of the mean overspend"),
        "p_overspend": data_var(dims, p, "1", "probability of overspend"),
        "p_overspend_se": data_var(dims, p_se, "1", "Monte Carlo standard error of the probability of overspend"),
        "mean_overspend_diff": data_var(dims, mean_diff, "GBP", "change in mean overspend from the base case"),
        "mean_overspend_diff_se": data_var(
            dims, mean_diff_se, "GBP",
            "Monte Carlo standard error of the change in mean overspend (paired, common random numbers)",
        ),
        "p_overspend_diff": data_var(dims, p_diff, "1", "change in the probability of overspend from the base case"),
        "p_overspend_diff_se": data_var(
            dims, p_diff_se, "1",
            "Monte Carlo standard error of the change in probability of overspend (paired, common random numbers)",
        ),
        "mean_overspend_diff_se_independent": data_var(
            dims, np.hypot(mean_se, mean_se[:1]) * not_base, "GBP",
            "standard error the change in mean overspend would have from independent runs of this size",
        ),
        "p_overspend_diff_se_independent": data_var(
            dims, np.hypot(p_se, p_se[:1]) * not_base, "1",
            "standard error the change in probability of overspend would have from independent runs",
        ),
    }  # fmt: skip


def compare_scenarios(
    config: Config,
    draws: int | None = None,
    seed: int | None = None,
    names: Sequence[str] | None = None,
    threads: int | None = None,
    progress: Callable[[int], None] | None = None,
    keep_draws: bool = True,
    source: str = "<config>",
    client: Client | None = None,
) -> xr.Dataset:
    """Run the base case and scenarios on common random numbers and compare them.

    Parameters
    ----------
    config : Config
        With ``[scenarios.<name>]`` tables.
    draws : int, optional
        Draws per scenario (default: the config's ``[run] draws``).
    seed : int, optional
        Default: the config's ``[run] seed``.
    names : sequence of str, optional
        Scenarios to run (default: all, in config order).
    threads : int, optional
    progress : callable, optional
        Called with draws finished; the total is ``draws * (1 + len(names))``.
    keep_draws : bool
        Keep every draw's overspend as the variable ``overspend``.
    source : str
        The config's file name, for messages about its scenarios.
    client : distributed.Client, optional
        Run the chunks on this dask cluster; the results are identical.

    Returns
    -------
    xarray.Dataset
        Dimension ``scenario`` (``base`` first), ``service``, ``financial_year``
        (and ``draw`` when ``keep_draws``); see ``docs/sensitivity.md``.
    """
    names = list(config.scenarios) if names is None else list(names)
    if not names:
        raise UserError(
            "the config declares no scenarios: add [scenarios.<name>] tables with "
            "a description and changes (see docs/sensitivity.md)"
        )
    config, draws, seed = resolve_run(config, draws, seed)
    if draws < 2:
        raise UserError(f"draws = {draws}: compare needs at least 2 draws for standard errors")
    plans = _plans(config, names, source)
    overspend = simulate_scenarios(plans, draws, seed, threads, progress, client)
    descriptions = ["the config as written"] + [config.scenarios[n].description for n in names]
    return scenario_dataset(plans, [BASE, *names], overspend, seed, keep_draws, descriptions)


def scenario_dataset(
    plans: Sequence[Plan],
    names: Sequence[str],
    overspend: np.ndarray,
    seed: int,
    keep_draws: bool = True,
    descriptions: Sequence[str] | None = None,
) -> xr.Dataset:
    """Wrap compared scenarios as the ``scenarios.nc`` Dataset.

    Parameters
    ----------
    plans : sequence of Plan
        Base first, then the scenarios.
    names : sequence of str
        ``base`` then the scenario names.
    overspend : numpy.ndarray
        GBP, ``(draws, scenarios, rows, years)``.
    seed : int
    keep_draws : bool
        Include the per-draw ``overspend`` variable.
    descriptions : sequence of str, optional
        What each scenario changes, in the order of ``names`` (default: blank).

    Returns
    -------
    xarray.Dataset
    """
    base = plans[0]
    data = scenario_summary_vars(overspend)
    data["budget"] = data_var(
        ("scenario", "service", "financial_year"),
        np.array([row_budgets(p) for p in plans]),
        "GBP",
        "budget",
    )
    if keep_draws:
        data["overspend"] = data_var(
            ("draw", "scenario", "service", "financial_year"), overspend, "GBP",
            "overspend (outturn minus budget; negative is an underspend)",
        )  # fmt: skip
    descriptions = list(descriptions) if descriptions is not None else [""] * len(names)
    coords = {
        "scenario": ("scenario", list(names), {"long_name": "scenario (base case first)"}),
        "scenario_description": ("scenario", descriptions, {"long_name": "what the scenario changes"}),
        **group_coords(base),
    }  # fmt: skip
    if keep_draws:
        coords["draw"] = ("draw", np.arange(overspend.shape[0]), {"long_name": "Monte Carlo draw"})
    attrs = {
        **provenance(base, "scenario comparison", seed),
        "draws": int(overspend.shape[0]),
        "common_random_numbers": "same input uniforms (matched by name) and case-level "
        "generator state per chunk in every scenario",
    }
    return xr.Dataset(data_vars=data, coords=coords, attrs=attrs)
