"""overspend: Monte Carlo risk simulator for council social care budgets.

The Python API used by the command line and by notebooks::

    import simulator
    config = simulator.load_config("configs/example_county.toml")
    ds = simulator.run(config, draws=10_000, seed=7)
    ds = simulator.run(config, draws=10_000, seed=7, client=client)  # the same, on dask
    ds["overspend"].sel(service="total", financial_year="2024/25")
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from simulator._version import __version__

if TYPE_CHECKING:
    from simulator.config.load import load_config, loads_config
    from simulator.config.messages import ConfigError
    from simulator.config.schema import Config

__all__ = ["Config", "ConfigError", "__version__", "load_config", "loads_config", "run"]

_FROM_CONFIG = ("Config", "ConfigError", "load_config", "loads_config")


def __getattr__(name: str):
    # Loaded on first use, so that the command line imports almost nothing before
    # it can catch a Ctrl-C (and starts sooner).
    if name in _FROM_CONFIG:
        from simulator import config

        return getattr(config, name)
    raise AttributeError(f"module 'simulator' has no attribute {name!r}")


def run(
    config: Config | str | Path,
    draws: int | None = None,
    seed: int | None = None,
    threads: int | None = None,
    progress: Callable[[int], None] | None = None,
    client=None,
):
    """Simulate a council's budgets and return the results Dataset.

    Parameters
    ----------
    config : Config or path
        A validated config, or the path of a TOML file.
    draws : int, optional
        Monte Carlo draws (default: the config's ``[run] draws``).
    seed : int, optional
        Seed (default: the config's ``[run] seed``).
    threads : int, optional
        Worker threads; never changes the results.
    progress : callable, optional
        Called with the number of draws finished, once per chunk.
    client : distributed.Client, optional
        Run the chunks as tasks on this dask cluster (``threads`` is then
        unused). The results are identical, number for number, to a run on
        threads with the same seed and draws. See ``docs/cluster.md``.

    Returns
    -------
    xarray.Dataset
        See the results contract in the README.
    """
    from simulator.config.load import resolve_run
    from simulator.engine.chunks import simulate
    from simulator.model.equations import build_plan
    from simulator.results.dataset import build_dataset

    config, draws, seed = resolve_run(config, draws, seed)
    plan = build_plan(config)
    sim = simulate(plan, draws, seed, threads=threads, progress=progress, client=client)
    return build_dataset(plan, sim, seed, draws)
