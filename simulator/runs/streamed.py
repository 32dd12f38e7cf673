"""Streaming runs: simulate chunk by chunk into a chunked zarr store, in bounded memory.

A run held in memory costs about 15 kB a draw for the example county (spend,
caseload and arrivals for every service row and month), so a million draws
would need about 15 GB. :func:`run_to_zarr` instead runs the engine's chunks
in order, adds the department and total rows, wraps each block of chunks
with :func:`simulator.results.dataset.build_dataset` (so names, units, coordinates and
attributes are exactly those of an in-memory run) and writes it into its
slice of a zarr store. At most a few chunks and one block are in memory at a
time, whatever the number of draws.

The chunk seeds and order are the engine's (:func:`simulator.engine.chunks.chunk_rng`,
:func:`simulator.engine.chunks.chunk_bounds`), so a streamed run is identical, number
for number, to ``simulator.run`` with the same seed and draws, and does not
depend on the number of threads.

:func:`open_results` opens either kind of run (``simulation.nc``, read whole
unless it is over 1 GiB, or ``simulation.zarr``, lazily) safely however often it
is called, and :func:`summary_table` computes the summary
a few service rows at a time, so a million-draw run can be summarised in a
few hundred megabytes.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
import weakref
from collections.abc import Callable
from dataclasses import fields
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import xarray as xr
from xarray.backends import NetCDF4DataStore

from simulator.config.load import resolve_run
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
from simulator.files import (
    PARTIAL_MARKER,
    OutputError,
    claim,
    read_marker,
    swap_in,
    write_marker,
    write_netcdf,
)
from simulator.model.equations import Plan, build_plan
from simulator.results.dataset import build_dataset, write_run_folder
from simulator.results.reserve import RESERVE_FILE, reserve_dataset
from simulator.results.summary import summary_table, write_summary_csv

if TYPE_CHECKING:  # zarr is imported only when a run streams (it takes 0.1 s)
    import zarr
    from distributed import Client

#: Engine chunks per block written to the store (and per zarr chunk along ``draw``).
#: 10 x 500 draws of the example county is about 75 MB in memory and a 30 MB
#: spend chunk on disk: large enough that per-write overheads do not matter,
#: small enough that peak memory stays low.
CHUNKS_PER_BLOCK = 10


STORE_NAME = "simulation.zarr"
NETCDF_NAME = "simulation.nc"

# Variables with a ``draw`` dimension: written block by block.
_PER_DRAW = (
    "spend",
    "caseload",
    "arrivals",
    "outturn",
    "overspend",
    "gross_outturn",
    "income",
    "savings",
    "high_cost_open",
    "extended",
    "from_children_outturn",
    "from_children_caseload",
    "input_value",
)


class ResultsNotFoundError(UserError):
    """A path that holds no simulation results."""


# ------------------------------------------------------------------ sizes


# ------------------------------------------------------------------ running chunks in order


def _trim(block: Simulation, n: int) -> Simulation:
    """The first ``n`` draws of a block (the last block of a run may be short)."""
    return Simulation(**{f.name: getattr(block, f.name)[:n] for f in fields(Simulation)})


# ------------------------------------------------------------------ writing the store


def _block_dataset(
    plan: Plan, block: Simulation, seed: int, first: int, draws: int, attrs: dict
) -> xr.Dataset:
    """One block as a results Dataset, with draw numbers and attributes of the whole run."""
    n = block.spend.shape[0]
    ds = build_dataset(plan, block, seed, n)
    ds = ds.assign_coords(draw=ds["draw"].copy(data=np.arange(first, first + n)))
    ds.attrs.update(attrs)
    ds.attrs["draws"] = int(draws)
    return ds


def _create_store(path: Path, ds: xr.Dataset, draws: int, block_draws: int) -> zarr.Group:
    """Write the first block with xarray (names, attributes, coordinates), then grow to ``draws``.

    Zarr format 2 because its fixed-width string coordinates and consolidated
    metadata are part of its specification (format 3 warns about both).
    """
    encoding = {name: {"chunks": (block_draws, *ds[name].shape[1:])} for name in _PER_DRAW}
    encoding["draw"] = {"chunks": (block_draws,)}
    ds.to_zarr(path, mode="w", zarr_format=2, encoding=encoding, consolidated=False)
    import zarr

    group = zarr.open_group(path, mode="r+", zarr_format=2)
    for name in (*_PER_DRAW, "draw"):
        array = group[name]
        array.resize((draws, *array.shape[1:]))
    group["draw"][:] = np.arange(draws)
    return group


def _write_block(group: zarr.Group, ds: xr.Dataset, first: int) -> None:
    """Write one block's per-draw variables into their slice of the store."""
    stop = first + ds.sizes["draw"]
    for name in _PER_DRAW:
        group[name][first:stop] = ds[name].values


def _write_store(
    plan: Plan,
    path: Path,
    draws: int,
    seed: int,
    threads: int,
    progress: Callable[[int], None] | None,
    attrs: dict,
    client: Client | None = None,
) -> None:
    """Run every chunk, in order, and write the store at ``path``."""
    if client is not None:
        _write_store_on_cluster(plan, path, draws, seed, client, progress, attrs)
        return
    bounds = chunk_bounds(draws)
    block_draws = min(CHUNKS_PER_BLOCK * CHUNK_DRAWS, draws)
    block = allocate(plan, block_draws)
    group = None
    block_first = 0  # first draw of the block being filled
    for (first, stop), result in zip(
        bounds, chunk_results(plan, seed, bounds, threads), strict=True
    ):
        store_chunk(plan, block, slice(first - block_first, stop - block_first), result)
        if progress is not None:
            progress(stop - first)
        if stop - block_first < block_draws and stop < draws:
            continue
        ds = _block_dataset(plan, _trim(block, stop - block_first), seed, block_first, draws, attrs)
        if group is None:
            group = _create_store(path, ds, draws, block_draws)
        else:
            _write_block(group, ds, block_first)
        block_first = stop
    import zarr

    zarr.consolidate_metadata(path, zarr_format=2)


# ------------------------------------------------------------------ writing from a dask cluster


def _block_task(
    plan: Plan, path: str, seed: int, first: int, draws: int, attrs: dict, *chunks
) -> int:
    """Assemble one block from its chunks and write its region of the store, on a worker.

    Exactly what :func:`_write_store` does for the block on the client
    (:func:`store_chunk`, :func:`_block_dataset`, :func:`_write_block`), so the
    numbers are the same. Writing a whole block, which is one zarr chunk along
    ``draw``, means no two tasks ever touch the same file, and a task run again
    after its worker died rewrites the same bytes.
    """
    n = sum(c.spend.shape[0] for c in chunks)
    block = allocate(plan, n)
    at = 0
    for chunk in chunks:
        rows = chunk.spend.shape[0]
        store_chunk(plan, block, slice(at, at + rows), chunk)
        at += rows
    import zarr

    group = zarr.open_group(path, mode="r+", zarr_format=2)
    _write_block(group, _block_dataset(plan, block, seed, first, draws, attrs), first)
    return n


def _check_reachable(client: Client, path: Path) -> None:
    """Refuse a store that some worker cannot see (it must be on a filesystem they all share)."""
    import os

    probe = str(path / PARTIAL_MARKER)
    missing = sorted(w for w, seen in client.run(os.path.isfile, probe).items() if not seen)
    shown = path.parent
    while ".partial-" in shown.name and shown.name.startswith("."):  # the user's folder, not ours
        shown = shown.parent
    if missing:
        raise UserError(
            f"{shown}: {len(missing)} dask worker(s) cannot see this folder "
            f"({', '.join(missing[:3])}{', ...' if len(missing) > 3 else ''}); a streamed run on a "
            "cluster writes from the workers: give --out a folder on a filesystem every worker "
            "mounts at the same path (see docs/cluster.md)"
        )


def _write_store_on_cluster(
    plan: Plan,
    path: Path,
    draws: int,
    seed: int,
    client: Client,
    progress: Callable[[int], None] | None,
    attrs: dict,
) -> None:
    """Write the store from the workers: each block's region by the worker that assembles it.

    Each chunk is one task (:func:`simulator.engine.cluster.chunk_task`); each
    block of :data:`CHUNKS_PER_BLOCK` chunks is one more task that takes its
    chunks (worker to worker, never through this process) and writes its
    region. This process creates the store's metadata first and consolidates
    it last, and holds nothing but task handles in between.
    """
    import threading

    from simulator.engine import cluster

    path = path.resolve()  # workers do not share this process's working folder
    _check_reachable(client, path)
    block_draws = min(CHUNKS_PER_BLOCK * CHUNK_DRAWS, draws)
    _create_store(path, _block_dataset(plan, allocate(plan, 0), seed, 0, draws, attrs), draws,
                  block_draws)  # fmt: skip
    bounds = chunk_bounds(draws)
    blocks = [bounds[i : i + CHUNKS_PER_BLOCK] for i in range(0, len(bounds), CHUNKS_PER_BLOCK)]
    stamp, shared = cluster.versions(), cluster.scatter_once(client, plan)
    window = max(2, -(-2 * cluster.total_threads(client) // CHUNKS_PER_BLOCK))
    finished, lock, counted = threading.Event(), threading.Lock(), [0, 0]  # done, shown

    def chunk_done(n: int):
        def done(_) -> None:
            with lock:
                counted[0] += n
            finished.set()

        return done

    def show() -> None:
        with lock:
            new, counted[1] = counted[0] - counted[1], counted[0]
        if new and progress is not None:
            progress(new)

    def submit(b: int):
        chunks = []
        for first, stop in blocks[b]:
            index = first // CHUNK_DRAWS
            chunk = client.submit(cluster.checked_call, stamp, cluster.chunk_task, shared, seed,
                                  index, stop - first, pure=False)  # fmt: skip
            chunk.add_done_callback(chunk_done(stop - first))
            chunks.append(chunk)
        first = blocks[b][0][0]
        task = client.submit(cluster.checked_call, stamp, _block_task, shared, str(path), seed,
                             first, draws, attrs, *chunks, pure=False)  # fmt: skip
        task.add_done_callback(lambda _: finished.set())
        return task, chunks  # the chunks' handles are kept until the block is written

    pending: dict = {}
    submitted = 0
    try:
        while submitted < len(blocks) or pending:
            while submitted < len(blocks) and len(pending) < window:
                task, chunks = submit(submitted)
                pending[task] = (submitted, chunks)
                submitted += 1
            for task in cluster.wait_some(client, list(pending), finished, on_wake=show):
                cluster.result_of(task, pending.pop(task)[0])
        show()
    finally:
        if pending:
            client.cancel([f for task, (_, chunks) in pending.items() for f in (task, *chunks)])
    import zarr

    zarr.consolidate_metadata(path, zarr_format=2)


def run_to_zarr(
    config: Config | str | Path,
    store_path: str | Path,
    draws: int | None = None,
    seed: int | None = None,
    threads: int | None = None,
    progress: Callable[[int], None] | None = None,
    overwrite: bool = False,
    attrs: dict | None = None,
    client: Client | None = None,
) -> Path:
    """Simulate a council and stream the results into a chunked zarr store.

    The store holds the same Dataset as ``simulator.run(config, draws, seed)``
    (identical numbers), chunked along ``draw`` in blocks of
    ``CHUNKS_PER_BLOCK * CHUNK_DRAWS`` draws. Peak memory does not grow with
    ``draws``. The store is written under a temporary name beside
    ``store_path`` and renamed into place only when complete.

    Parameters
    ----------
    config : Config or path
        A validated config, or the path of a TOML file.
    store_path : str or pathlib.Path
        Where the store goes, e.g. ``results/example/simulation.zarr``.
    draws : int, optional
        Monte Carlo draws (default: the config's ``[run] draws``).
    seed : int, optional
        Seed (default: the config's ``[run] seed``).
    threads : int, optional
        Worker threads (default: the machine's cores); never changes the results.
    progress : callable, optional
        Called with the number of draws just finished, once per chunk.
    overwrite : bool
        Replace an existing store at ``store_path``.
    attrs : dict, optional
        Further dataset attributes, e.g. ``{"config_file": "configs/x.toml"}``.
    client : distributed.Client, optional
        Compute the chunks on this dask cluster, each block written into the
        store by the worker that assembles it: ``store_path`` must then be on
        a filesystem every worker mounts at the same path. Identical numbers.

    Returns
    -------
    pathlib.Path
        ``store_path``.

    Raises
    ------
    FileExistsError
        If ``store_path`` exists and ``overwrite`` is false.
    """
    config, draws, seed = resolve_run(config, draws, seed)
    store_path = Path(store_path)
    plan = build_plan(config)
    with claim(store_path, "store"):
        if store_path.exists():
            if not overwrite:
                raise FileExistsError(f"{store_path} exists: pass overwrite=True to replace it")
            if store_path.name not in (read_marker(store_path.parent) or set()):
                raise OutputError(
                    f"{store_path} was not written by overspend: it is never replaced"
                )
        tmp = Path(tempfile.mkdtemp(prefix=f".{store_path.name}.partial-", dir=store_path.parent))
        try:
            (tmp / PARTIAL_MARKER).touch()
            _write_store(plan, tmp, draws, seed, threads, progress, attrs or {}, client)
            (tmp / PARTIAL_MARKER).unlink(missing_ok=True)  # zarr may have cleared it
            swap_in(tmp, store_path)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        write_marker(
            store_path.parent, (read_marker(store_path.parent) or set()) | {store_path.name}
        )
    return store_path


def write_streamed_run(
    config: Config | str | Path,
    out_dir: str | Path,
    draws: int | None = None,
    seed: int | None = None,
    threads: int | None = None,
    progress: Callable[[int], None] | None = None,
    force: bool = False,
    extra: Callable[[Path], None] | None = None,
    attrs: dict | None = None,
    client: Client | None = None,
) -> list[Path]:
    """Write a run folder (``simulation.zarr``, ``summary.csv``, ``reserve.nc``) by streaming, atomically.

    The streaming counterpart of :func:`simulator.results.dataset.write_run`: the
    folder is built under a temporary name and renamed into place when
    complete; an existing run is replaced only with ``force``.

    Parameters
    ----------
    config : Config or path
    out_dir : str or pathlib.Path
        The run folder, e.g. ``results/example_county``.
    draws, seed, threads, progress
        As for :func:`run_to_zarr`.
    force : bool
        Replace an existing run.
    extra : callable, optional
        ``extra(tmp_dir)`` writes further files (charts) before the rename;
        ``open_results(tmp_dir)`` gives it the Dataset.
    attrs : dict, optional
        Further dataset attributes, as for :func:`run_to_zarr`.
    client : distributed.Client, optional
        As for :func:`run_to_zarr`: ``out_dir`` must be on a filesystem every worker sees.

    Returns
    -------
    list of pathlib.Path
        What was written, at the final paths.
    """
    config, draws, seed = resolve_run(config, draws, seed)
    out_dir = Path(out_dir)

    def fill(tmp: Path) -> None:
        run_to_zarr(
            config, tmp / STORE_NAME, draws, seed, threads, progress, attrs=attrs, client=client
        )
        with open_results(tmp) as ds:
            write_summary_csv(summary_table(ds), tmp / "summary.csv")
            # Read a result row at a time: the store is never loaded whole.
            write_netcdf(reserve_dataset(ds), tmp / RESERVE_FILE)
        if extra is not None:
            extra(tmp)

    return write_run_folder(out_dir, fill, force)


# ------------------------------------------------------------------ reading


def _dask_chunks() -> dict | None:
    """``{}`` (one dask chunk per stored chunk) when dask is installed, else ``None`` (no dask)."""
    try:
        import dask  # noqa: F401
    except ImportError:
        return None
    return {}


def results_path(path: str | Path) -> Path:
    """The results file or store in a run folder (or ``path`` itself if it is one).

    Parameters
    ----------
    path : str or pathlib.Path
        A run folder, a ``.zarr`` store or a ``.nc`` file.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    ResultsNotFoundError
        When there are no results at ``path``.
    """
    path = Path(path)
    if path.suffix in (".zarr", ".nc") and path.exists():
        return path
    for name in (STORE_NAME, NETCDF_NAME):
        if (path / name).exists():
            return path / name
    raise ResultsNotFoundError(
        f"{path}: no simulation results here (expected a run folder holding "
        f"{NETCDF_NAME} or {STORE_NAME}, a .nc file or a .zarr store)"
    )


#: A ``simulation.nc`` smaller than this is read into memory whole by :func:`open_results`
#: and its file closed at once (larger ones are opened lazily). Every ``simulation.nc`` is
#: of a run that fitted in memory, so reading one whole is never out of reach.
LOAD_BYTES = 1024**3


def open_results(path: str | Path) -> xr.Dataset:
    """Open a run's results: safely, as often as wanted, in one process.

    The netCDF4 and HDF5 libraries installed with overspend can crash Python
    (a segmentation fault in libhdf5, or "NetCDF: HDF error") when one
    ``simulation.nc`` is open twice at once and one of the two is closed or
    let go, as happens when a notebook cell opening results runs again. So a
    ``simulation.nc`` under :data:`LOAD_BYTES` (1 GiB, about 70,000 draws of the
    example county) is read into memory and its file closed before this
    returns; a larger one is opened lazily through one file handle, shared by
    every Dataset this opens from that file. A zarr store (a streamed run)
    does not use HDF5 and is opened lazily.

    Parameters
    ----------
    path : str or pathlib.Path
        A run folder holding ``simulation.nc`` or ``simulation.zarr``, or
        either file itself.

    Returns
    -------
    xarray.Dataset
        The results Dataset (see :mod:`simulator.results.dataset`). A large
        file or a store is backed by dask when dask is installed, otherwise by
        lazily indexed arrays: selecting a service or a year reads only what is
        needed. Close it (or use it in a ``with`` block) when done.
    """
    found = results_path(path)
    chunks = _dask_chunks()
    if found.suffix == ".zarr":
        return xr.open_zarr(found, chunks=chunks, consolidated=True, zarr_format=2)
    if found.stat().st_size < LOAD_BYTES:
        return xr.load_dataset(found)
    return xr.open_dataset(_netcdf_store(found), chunks=chunks)


def _netcdf_store(found: Path):
    """The one open store of the netCDF file ``found`` in this process (opened if none is).

    Each ``xarray.open_dataset`` call opens a file handle of its own; Datasets
    opened from one store share its handle. Closing any of them closes the
    handle, and the others open it again when next read, so the file is never
    open twice. A file replaced since (a new run swapped in) is a new file.
    """
    stat = found.stat()
    key = (str(found.resolve()), stat.st_dev, stat.st_ino, stat.st_mtime_ns, stat.st_size)
    with _STORES_LOCK:
        store = _NETCDF_STORES.get(key)
        if store is None:
            store = _SharedStore.open(key[0], mode="r")
            _NETCDF_STORES[key] = store
    return store


class _SharedStore(NetCDF4DataStore):
    """xarray's netCDF4 store, which the registry of open stores can refer to weakly."""

    __slots__ = ("__weakref__",)


#: Open netCDF stores by file identity, while some Dataset still uses them.
_NETCDF_STORES: weakref.WeakValueDictionary = weakref.WeakValueDictionary()
_STORES_LOCK = threading.Lock()
