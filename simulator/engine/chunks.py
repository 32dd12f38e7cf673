"""The engine: split draws into chunks, give each its own random stream, run them on threads.

Chunk ``i`` always holds draws ``i * CHUNK_DRAWS`` onwards and always uses the
generator seeded by ``SeedSequence(seed).spawn(...)[i]``, so results depend
only on the seed and the number of draws, never on the number of threads.
The kernels release the GIL (``nogil=True``), so chunks run in parallel.
Given a dask client, the same chunks run as tasks on a cluster
(:mod:`simulator.engine.cluster`), with the same numbers.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

import numpy as np

from simulator.config.schema import Config
from simulator.model.equations import ChunkResult, Plan, add_rows, build_plan, simulate_chunk

if TYPE_CHECKING:  # dask is imported only when a cluster is used (simulator.engine.cluster)
    from distributed import Client

T = TypeVar("T")

#: Draws per chunk. Part of the definition of a result: changing it changes the draws.
CHUNK_DRAWS = 500

#: Runs whose in-memory Dataset would exceed this many bytes should stream
#: (:mod:`simulator.runs.streamed`).
STREAM_THRESHOLD_BYTES = 2 * 1024**3


def kernels_cached() -> bool:
    """Whether numba's cache holds the compiled simulation kernel (best effort).

    The first run after installing compiles the kernels (about 7 to 8 s of CPU
    here) and caches them; the command line says so before it starts. Reads
    numba's cache index file for the main kernel; where numba keeps it
    elsewhere than this numba version does, it answers True (say nothing).
    """
    from simulator.model import kernels

    try:
        index = kernels.simulate_placements._cache._cache_file._index_path
    except AttributeError:
        return True
    return os.path.exists(index)


def chunk_rng(seed: int, index: int) -> np.random.Generator:
    """The generator of chunk ``index``: the same as ``SeedSequence(seed).spawn(n)[index]``."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(index,))))


def chunk_bounds(draws: int) -> list[tuple[int, int]]:
    """(first, stop) draw indices of each chunk."""
    return [(a, min(a + CHUNK_DRAWS, draws)) for a in range(0, draws, CHUNK_DRAWS)]


@dataclass
class Simulation:
    """All draws of a run, with service rows followed by department and total rows."""

    spend: np.ndarray  # (D, G, M)
    caseload: np.ndarray  # (D, G, M)
    arrivals: np.ndarray  # (D, G, M)
    gross: np.ndarray  # (D, G, Y)
    income: np.ndarray  # (D, G, Y)
    savings: np.ndarray  # (D, G, Y)
    inputs: np.ndarray  # (D, K)
    high_cost: np.ndarray  # (D, G, Y) high-cost placements open in the year
    extended: np.ndarray  # (D, G, Y) planned ends extended in the year
    from_children: np.ndarray  # (D, G, Y) outturn of placements from children's care
    from_children_caseload: np.ndarray  # (D, G, Y) of them open at the year's end


def allocate(plan: Plan, draws: int) -> Simulation:
    """Arrays for ``draws`` draws of every result row (services, departments, total)."""
    g, m, y = len(plan.groups), plan.grid.n_months, plan.years

    def zeros(shape: tuple[int, ...], dtype: type = np.float64) -> np.ndarray:
        # Touched once in order now: filling fresh memory a chunk at a time, in
        # strides, cost several times as much in page faults.
        a = np.empty(shape, dtype=dtype)
        a.fill(0)
        return a

    return Simulation(
        spend=zeros((draws, g, m)),
        caseload=zeros((draws, g, m), np.int32),
        arrivals=zeros((draws, g, m), np.int32),
        gross=zeros((draws, g, y)),
        income=zeros((draws, g, y)),
        savings=zeros((draws, g, y)),
        inputs=zeros((draws, len(plan.inputs))),
        high_cost=zeros((draws, g, y), np.int32),
        extended=zeros((draws, g, y), np.int32),
        from_children=zeros((draws, g, y)),
        from_children_caseload=zeros((draws, g, y), np.int32),
    )


def store_chunk(plan: Plan, out: Simulation, rows: slice, result: ChunkResult) -> None:
    """Copy a chunk's service arrays into ``out[rows]``, adding department and total rows.

    Every way of running (in memory, streamed, to a precision) stores chunks
    with this one function, so their results are identical.
    """
    for name in (
        "spend",
        "caseload",
        "arrivals",
        "gross",
        "income",
        "savings",
        "high_cost",
        "extended",
        "from_children",
        "from_children_caseload",
    ):
        add_rows(plan, getattr(result, name), out=getattr(out, name)[rows])
    out.inputs[rows] = result.inputs


def thread_count(threads: int | None) -> int:
    """Worker threads to use: ``threads``, or the machine's cores when not given."""
    return max(1, threads or os.cpu_count() or 1)


def run_tasks(tasks: list[Callable[[], None]], threads: int | None) -> None:
    """Run independent tasks on a thread pool (results are placed by each task)."""
    threads = thread_count(threads)
    if threads == 1:
        for task in tasks:
            task()
        return
    with ThreadPoolExecutor(max_workers=threads) as pool:
        for future in [pool.submit(task) for task in tasks]:
            future.result()


def chunk_results(
    plan: Plan,
    seed: int,
    bounds: list[tuple[int, int]],
    threads: int | None,
    client: Client | None = None,
) -> Iterator[ChunkResult]:
    """Simulate chunks ``bounds`` on ``threads`` threads (or a dask cluster) and yield them in order.

    At most ``2 * threads`` chunks are in flight (twice the cluster's threads
    on a cluster), so memory stays bounded: a finished chunk waits only for
    its consumer, never for the whole run. Every way of running (in memory,
    streamed, to a precision) takes its chunks from here; stopping early
    (closing the iterator) cancels the chunks not started.
    """
    if client is not None:
        # closing(): stopping early cancels the cluster's tasks at once, not when collected
        with closing(cluster_chunks(client, plan, seed, bounds, ordered=True)) as results:
            for _, result in results:
                yield result
        return

    def work(index: int) -> ChunkResult:
        first, stop = bounds[index]
        return simulate_chunk(plan, chunk_rng(seed, index), stop - first)

    threads = thread_count(threads)
    if threads == 1:
        for index in range(len(bounds)):
            yield work(index)
        return
    pool = ThreadPoolExecutor(max_workers=threads)
    pending: deque[Future[ChunkResult]] = deque()
    submitted = 0
    try:
        while submitted < min(2 * threads, len(bounds)):
            pending.append(pool.submit(work, submitted))
            submitted += 1
        while pending:
            result = pending.popleft().result()
            if submitted < len(bounds):
                pending.append(pool.submit(work, submitted))
                submitted += 1
            yield result
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def cluster_chunks(
    client: Client, plan: Plan, seed: int, bounds: list[tuple[int, int]], ordered: bool = False
) -> Iterator[tuple[int, ChunkResult]]:
    """``(index, chunk)`` for every chunk of ``bounds``, computed on a dask cluster.

    As they finish, or in chunk order with ``ordered``.

    The plan is scattered once; each chunk is one task computed from (plan,
    seed, index) by :func:`simulator.engine.cluster.chunk_task`, the same
    numbers a thread computes.
    """
    from simulator.engine import cluster

    shared = cluster.scatter_once(client, plan)
    args = [(seed, i, stop - first) for i, (first, stop) in enumerate(bounds)]
    return cluster.run_on_cluster(
        client, cluster.chunk_task, args, shared=(shared,), ordered=ordered
    )


def map_chunks(
    fn: Callable[..., T],
    shared: tuple,
    args: list[tuple],
    place: Callable[[int, T], None],
    threads: int | None = None,
    client: Client | None = None,
) -> None:
    """Compute ``fn(*shared, *args[i])`` for every ``i`` on threads or a dask cluster.

    The one way the analyses (scenarios, sensitivity) run their chunks.
    ``place(i, result)`` puts each result where it belongs (and may count
    progress): on the worker thread that computed it, or on this thread as
    cluster tasks finish. ``fn`` must be pure and, for a cluster, a
    module-level function of overspend; ``shared`` (read-only, e.g. plans) is
    scattered to the workers once.

    Parameters
    ----------
    fn : callable
        A chunk's computation.
    shared : tuple
        Leading arguments every chunk takes (plans).
    args : list of tuple
        Each chunk's own arguments.
    place : callable
        ``place(i, fn(*shared, *args[i]))``.
    threads : int, optional
        Worker threads (default: the machine's cores) when there is no ``client``.
    client : distributed.Client, optional
        Run each chunk as a task on this dask cluster instead.
    """
    if client is None:

        def task(i: int) -> Callable[[], None]:
            return lambda: place(i, fn(*shared, *args[i]))

        run_tasks([task(i) for i in range(len(args))], threads)
        return
    from simulator.engine import cluster

    futures = tuple(cluster.scatter_once(client, obj) for obj in shared)
    for i, result in cluster.run_on_cluster(client, fn, args, shared=futures):
        place(i, result)


def simulate(
    plan: Plan,
    draws: int,
    seed: int,
    threads: int | None = None,
    progress: Callable[[int], None] | None = None,
    client: Client | None = None,
) -> Simulation:
    """Run ``draws`` draws of a compiled model.

    Parameters
    ----------
    plan : Plan
        From :func:`simulator.model.equations.build_plan`.
    draws : int
        Number of Monte Carlo draws.
    seed : int
        The run's seed.
    threads : int, optional
        Worker threads (default: the machine's cores). Never changes the results.
    progress : callable, optional
        Called with the number of draws just finished, once per chunk.
    client : distributed.Client, optional
        Run the chunks on this dask cluster instead (``threads`` is then
        unused); the results are identical.

    Returns
    -------
    Simulation
    """
    out = allocate(plan, draws)
    bounds = chunk_bounds(draws)
    if client is not None:
        # Stored as they finish, each in its own rows: the order never matters.
        for index, result in cluster_chunks(client, plan, seed, bounds):
            first, stop = bounds[index]
            store_chunk(plan, out, slice(first, stop), result)
            if progress is not None:
                progress(stop - first)
        return out
    for (first, stop), result in zip(
        bounds, chunk_results(plan, seed, bounds, threads), strict=True
    ):
        store_chunk(plan, out, slice(first, stop), result)
        if progress is not None:
            progress(stop - first)
    return out


def bytes_per_draw(plan: Plan) -> int:
    """Bytes one draw takes in the results Dataset (all variables with a draw dimension).

    Parameters
    ----------
    plan : Plan

    Returns
    -------
    int
        Bytes per draw: float64 spend plus int32 caseload and arrivals per
        row and month, six float64 and three int32 yearly variables per row,
        float64 inputs.
    """
    rows, months, years = len(plan.groups), plan.grid.n_months, plan.years
    yearly = rows * years * (8 * 6 + 4 * 3)
    return rows * months * (8 + 4 + 4) + yearly + len(plan.inputs) * 8


def needs_streaming(
    config: Config, draws: int, threshold_bytes: int = STREAM_THRESHOLD_BYTES
) -> bool:
    """Whether a run of ``draws`` draws should stream to zarr rather than stay in memory.

    Parameters
    ----------
    config : Config
    draws : int
    threshold_bytes : int
        In-memory size above which to stream (default 2 GiB).

    Returns
    -------
    bool
    """
    return bytes_per_draw(build_plan(config)) * draws > threshold_bytes
