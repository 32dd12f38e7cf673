"""The kernel with moves and ageing in use against the same council without them (issue 12).

A child's path (a foster placement stepping up to a children's home, placements
ending at 18 and some continuing in an adults' service) costs the kernel more
work per placement: an exponential time to a move per placement, an age, and
the moved or continuing placement's own length and cost. The issue's target:
the kernel's cost per placement episode with moves and ageing in use within
1.3x of the same council without them.

:func:`pathway_config` is a synthetic council of three identical lognormal
services in steady state (the laws of :func:`simulator.bench.scaling.synthetic_config`,
1,000 open placements each as in :mod:`simulator.bench.families`), with or
without the moves and ageing; :func:`measure_pathways` times the kernel alone
on both, interleaved in one process, and divides by the placement episodes each
simulated. A config without moves or ageing skips their code (the kernel tests
for them once per chunk), so it loses nothing: its kernel / floor ratio is the
lognormal family's, which ``--check`` holds to the baseline.
"""

from __future__ import annotations

import numpy as np

from simulator.bench.families import FAMILY_CASELOAD
from simulator.bench.settings import Settings
from simulator.bench.timing import Timing, timed_cpu
from simulator.config.load import config_from_dict
from simulator.config.schema import Config
from simulator.engine.chunks import chunk_bounds, chunk_rng
from simulator.model.equations import Draws, Plan, build_plan, draw_arrivals, placement_spend

#: The issue's target: cost per placement episode with moves and ageing / without.
PATHWAY_RATIO_TARGET = 1.3
#: The two councils timed, in the order they run in each repetition.
PLANS = ("without_paths", "with_paths")

#: Moves and ageing of the synthetic council: step-ups from fostering at 8% a year
#: (the issue's example), ages as children looked after, 10% and 20% continuing.
PATHS = {
    "foster": {
        "moves": {"homes": {"per_year": 0.08}},
        "ageing": {
            "age_at_entry": {"0-4": 0.3, "5-9": 0.2, "10-15": 0.35, "16-17": 0.15},
            "continue_to": {"adults": 0.1},
        },
    },
    "homes": {
        "ageing": {"age_at_entry": {"10-15": 0.6, "16-17": 0.4}, "continue_to": {"adults": 0.2}},
    },
}


def pathway_config(paths: bool, caseload: int = FAMILY_CASELOAD, years: int = 4) -> Config:
    """Three lognormal services (foster, homes, adults), with or without moves and ageing.

    Every placement is drawn as high-cost (the same law as the body's), so that the
    results count each placement episode (see :func:`episodes`); both councils pay
    for that alike.

    Parameters
    ----------
    paths : bool
        Add the moves and ageing of :data:`PATHS`.
    caseload : int
        Open placements of each service at the start (arrivals 0.6 x caseload a year).
    years : int
        Horizon, financial years.
    """
    services = {}
    for key in ("foster", "homes", "adults"):
        services[key] = {
            "budget_gbp": 40_000_000,
            "caseload": {"open": caseload},
            "arrivals": {
                "per_year": 0.6 * caseload,
                "growth": {"dist": "normal", "mean": 0.03, "sd": 0.01},
                "dispersion": 0.05,
            },
            "length": {"dist": "lognormal", "median_weeks": 52.0, "sigma": 1.0},
            "unit_cost": {
                "mean_gbp_per_week": 900.0,
                "cv": 0.3,
                "high_cost_share": 1.0,
                "high_cost_mean_gbp_per_week": 900.0,
                "high_cost_cv": 0.3,
            },
            **(PATHS.get(key, {}) if paths else {}),
        }
    data = {
        "council": {
            "name": f"Synthetic council ({'with' if paths else 'without'} moves and ageing)"
        },
        "horizon": {"start": "2024/25", "years": years},
        "services": services,
    }
    return config_from_dict(data, "synthetic")


def episodes(caseload: np.ndarray, high_cost: np.ndarray) -> int:
    """Placement episodes a kernel run simulated, from its outputs, every placement high-cost.

    ``high_cost[d, p, y]`` counts the placements open at some time in year y, so a
    placement open in two years is counted twice: once for each boundary it spans,
    when it is open at the year's last month end (``caseload``). A moved or
    continuing placement is an episode of its own, in its new service.
    """
    months = caseload.shape[2]
    boundaries = caseload[:, :, 11 : months - 1 : 12]
    return int(high_cost.sum(dtype=np.int64) - boundaries.sum(dtype=np.int64))


def _prepare(plan: Plan, draws: int, seed: int) -> list:
    """Each chunk's inputs and arrivals, drawn outside the timing."""
    chunks = []
    for index, (first, stop) in enumerate(chunk_bounds(draws)):
        rng = chunk_rng(seed, index)
        x = Draws(plan, rng.random((stop - first, len(plan.inputs))))
        chunks.append((x, draw_arrivals(plan, x, rng), rng))
    return chunks


def _run(plan: Plan, chunks: list) -> tuple[float, float, int, int]:
    """The kernel over every chunk: wall and CPU seconds, episodes, starting plus new placements."""
    wall = cpu = 0.0
    count = entrants = 0
    for x, arrivals, rng in chunks:
        w, c, out = timed_cpu(placement_spend, plan, x, arrivals, rng)
        wall, cpu = wall + w, cpu + c
        count += episodes(out[1], out[3][0])
        entrants += int(plan.init_offsets[-1]) * x.n + int(arrivals.sum())
    return wall, cpu, count, entrants


def measure_pathways(settings: Settings, draws: int | None = None) -> dict:
    """Kernel CPU time per placement episode with moves and ageing, and without (one thread).

    Parameters
    ----------
    settings : Settings
        Repetitions, and the draws unless ``draws`` is given.
    draws : int, optional
        Draws of each council (default ``settings.family_draws``).

    Returns
    -------
    dict
        ``pathway_ratio`` (ns per episode with / without; the issue's target is
        :data:`PATHWAY_RATIO_TARGET`), ``pathway_ratio_per_entrant`` (per starting or
        new placement, moves not counted), and per council (``with_paths``,
        ``without_paths``) the times, episodes and nanoseconds per episode.
    """
    n, seed = draws or settings.family_draws, 12
    plans = {name: build_plan(pathway_config(name == "with_paths")) for name in PLANS}
    chunks = {name: _prepare(plan, n, seed) for name, plan in plans.items()}
    for name, plan in plans.items():  # compile and warm up both kernels' paths
        _run(plan, chunks[name][:1])
    timings = {name: Timing() for name in PLANS}
    sizes: dict[str, tuple[int, int]] = {}
    for _ in range(settings.repeats):
        for name in PLANS:  # interleaved, so load on a shared machine hits both alike
            wall, cpu, count, entrants = _run(plans[name], chunks[name])
            timings[name].add(wall, cpu)
            sizes[name] = (count, entrants)
    out: dict = {"draws": n, "time": "CPU seconds, kernel only, one thread"}
    for name in PLANS:
        count, entrants = sizes[name]
        cpu = timings[name].cpu_median
        out[name] = {
            "kernel_cpu_seconds": timings[name].cpu_as_dict(),
            "kernel_seconds": timings[name].as_dict(),
            "episodes": count,
            "entrants": entrants,
            "ns_per_episode": cpu / count * 1e9,
            "ns_per_entrant": cpu / entrants * 1e9,
        }
    with_, without = out["with_paths"], out["without_paths"]
    out["pathway_ratio"] = with_["ns_per_episode"] / without["ns_per_episode"]
    out["pathway_ratio_per_entrant"] = with_["ns_per_entrant"] / without["ns_per_entrant"]
    out["target_at_most"] = PATHWAY_RATIO_TARGET
    return out


def pathway_rows(res: dict) -> list[tuple[str, str, str]]:
    """The printed table's rows for :func:`measure_pathways` (none in older results)."""
    paths = res.get("pathways")
    if not paths:
        return []
    with_, without = paths["with_paths"], paths["without_paths"]
    return [
        ("Kernel with moves and ageing / without", f"{paths['pathway_ratio']:.2f}",
         f"target <= {paths['target_at_most']:g}; per placement episode "
         f"({with_['ns_per_episode']:.0f} ns against {without['ns_per_episode']:.0f} ns, CPU)"),
        ("  per starting or new placement", f"{paths['pathway_ratio_per_entrant']:.2f}",
         f"moves and continuing placements add "
         f"{with_['episodes'] / with_['entrants'] - 1:.1%} episodes"),
    ]  # fmt: skip
