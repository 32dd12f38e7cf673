"""Chunks on a dask.distributed cluster: the same results as threads, on many machines.

A run's chunk ``i`` is fully defined by the compiled plan, the seed and ``i``
(:func:`simulator.engine.chunks.chunk_rng`), so each chunk is one task: a pure
function of (plan, seed, index). The plan is scattered to the workers once per
run and every task refers to it; a task that is lost with its worker is simply
run again elsewhere and gives the same numbers. Results are placed by chunk
index on the client, never in the order tasks finish, so they are identical to
a threaded run whatever the number of workers, their speed or their failures.

What is here:

- :func:`open_client`: connect to an existing scheduler (``--cluster``) or start
  a local cluster of worker processes (``--workers``), check that every worker
  runs the same overspend, numba and numpy as this process, and close what it
  started.
- :func:`scatter_once`: send a read-only object (a plan) to every worker once.
- :func:`run_on_cluster`: submit tasks with a bounded number in flight and yield
  ``(index, result)`` as they finish (or in index order), turning lost schedulers, dead workers and
  version mismatches into one-line :class:`ClusterError` messages.

dask is imported only here and only when a cluster is asked for: an ordinary
run never imports it.
"""

from __future__ import annotations

import contextlib
import logging
import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from simulator.errors import UserError

if TYPE_CHECKING:
    from distributed import Client, Future

#: Seconds to wait for a scheduler to answer before giving up (``--cluster``).
CONNECT_TIMEOUT_S = 10.0
#: Seconds a run waits for a scheduler that stopped answering before it gives up.
LOST_AFTER_S = 20.0
#: Seconds a new local cluster may take to start its workers.
START_TIMEOUT_S = 60.0
#: Most local worker processes ``--workers`` will start (more is a typo, not a plan).
MAX_LOCAL_WORKERS = 256
#: How often the client looks at the cluster while waiting, seconds.
POLL_S = 0.5

_ADDRESS = re.compile(
    r"^(?:(tcp|tls|ws|wss|ucx)://)?(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+):(\d{1,5})$"
)
_PACKAGES = ("overspend", "numba", "numpy")


class ClusterError(UserError):
    """The cluster cannot be used: unreachable, lost, or running other versions."""


class VersionMismatch(RuntimeError):
    """Raised on a worker whose packages differ from the client's (see :func:`check_versions`)."""


# ------------------------------------------------------------------ versions


def versions() -> dict[str, str]:
    """Versions of the packages that define a result here: overspend, numba, numpy."""
    import numba
    import numpy as np

    from simulator._version import __version__

    return {"overspend": __version__, "numba": numba.__version__, "numpy": np.__version__}


def worker_versions() -> dict[str, str]:
    """:func:`versions` as a worker reports them (sent by name, run in the worker's own overspend)."""
    return versions()


def _describe(found: dict[str, str]) -> str:
    return ", ".join(f"{name} {found.get(name, 'missing')}" for name in _PACKAGES)


def check_versions(expected: dict[str, str]) -> None:
    """Refuse to compute on a worker whose packages differ from the client's.

    Every task calls this first, so a worker that joins a cluster after the
    check in :func:`open_client` still cannot return numbers from another model.

    Raises
    ------
    VersionMismatch
        Naming the worker's versions and the client's.
    """
    found = versions()
    if found != expected:
        raise VersionMismatch(
            f"a worker runs {_describe(found)} but this computer runs {_describe(expected)}: "
            "install the same versions on every worker"
        )


def _check_worker_versions(client: Client, where: str) -> None:
    """One line per worker whose overspend, numba or numpy differs from this process's."""
    expected = versions()
    try:
        found = client.run(worker_versions)
    except ModuleNotFoundError as exc:
        raise ClusterError(
            f"{where}: a worker cannot import {exc.name}: install overspend "
            f'{expected["overspend"]} (pip install "overspend[cluster]") on every worker'
        ) from None
    except Exception as exc:  # a worker that cannot even load the question
        raise ClusterError(
            f"{where}: the workers could not say which overspend they run "
            f"({type(exc).__name__}: {' '.join(str(exc).split())[:200]}); install overspend "
            f"{expected['overspend']} on every worker"
        ) from None
    problems = [
        f"{where}: worker {worker} runs {_describe(got)}; this computer runs {_describe(expected)}"
        for worker, got in sorted(found.items())
        if got != expected
    ]
    if problems:
        raise ClusterError("\n".join([*problems, "install the same versions on every worker"]))


# ------------------------------------------------------------------ connecting


def require_distributed():
    """The ``distributed`` module, or a clear error saying how to install it."""
    try:
        import distributed
    except ImportError:
        raise ClusterError(
            "--cluster and --workers need dask.distributed, which is not installed: "
            'pip install "overspend[cluster]"'
        ) from None
    return distributed


def check_address(address: str) -> str:
    """A scheduler address as dask takes it (``tcp://host:port``), or a clear error."""
    match = _ADDRESS.match(address.strip())
    if match is None or not 0 < int(match.group(3)) < 65536:
        raise ClusterError(
            f"--cluster {address!r}: not a scheduler address; give one such as "
            "tcp://10.0.0.5:8786 (protocol tcp, tls, ws, wss or ucx; host; port)"
        )
    return address.strip() if match.group(1) else f"tcp://{address.strip()}"


def check_worker_count(workers: int) -> int:
    """A number of local worker processes, or a clear error."""
    if (
        isinstance(workers, bool)
        or not isinstance(workers, int)
        or not (1 <= workers <= MAX_LOCAL_WORKERS)
    ):
        raise ClusterError(
            f"workers = {workers!r}: must be a whole number from 1 to {MAX_LOCAL_WORKERS} "
            "(local worker processes)"
        )
    return workers


def connect(address: str, timeout: float | None = None) -> Client:
    """A client of the scheduler at ``address``, or a one-line error within ``timeout`` s."""
    timeout = CONNECT_TIMEOUT_S if timeout is None else timeout
    distributed = require_distributed()
    address = check_address(address)
    try:
        client = distributed.Client(address, timeout=timeout, set_as_default=False)
    except Exception as exc:
        reason = " ".join(str(exc).split()) or type(exc).__name__
        if isinstance(exc, MemoryError):  # something answered, speaking another protocol
            reason = "whatever answers there is not a dask scheduler"
        raise ClusterError(
            f"--cluster {address}: no dask scheduler answered within {timeout:g} s ({reason[:200]})"
        ) from None
    try:
        client.wait_for_workers(1, timeout=timeout)
    except Exception:
        client.close()
        raise ClusterError(
            f"--cluster {address}: the scheduler answered but has no workers "
            f"(none joined within {timeout:g} s)"
        ) from None
    return client


def start_local(workers: int, dashboard: bool = True) -> Client:
    """Start a local cluster of ``workers`` single-threaded worker processes, and its client."""
    distributed = require_distributed()
    cluster = distributed.LocalCluster(
        n_workers=check_worker_count(workers),
        threads_per_worker=1,
        processes=True,
        # A free port either way: dask serves /health over HTTP even without the
        # dashboard, on port 8787 unless told otherwise (taken by a second cluster).
        dashboard_address=":0",
        scheduler_kwargs={"dashboard": dashboard},
        silence_logs=logging.ERROR,
    )
    client = distributed.Client(cluster, set_as_default=False)
    client.wait_for_workers(workers, timeout=START_TIMEOUT_S)
    return client


def _close(client: Client) -> None:
    cluster = client.cluster  # the LocalCluster this process started, or None
    with contextlib.suppress(Exception):  # closing a client of a lost scheduler may fail
        client.close(timeout=5)
    if cluster is not None:
        with contextlib.suppress(Exception):
            cluster.close(timeout=10)


@contextlib.contextmanager
def open_client(
    address: str | None = None,
    workers: int | None = None,
    timeout: float | None = None,
    dashboard: bool = True,
    say: Callable[[str], None] | None = None,
) -> Iterator[Client | None]:
    """A dask client for one command: ``--cluster ADDRESS`` or ``--workers N`` (or neither).

    Parameters
    ----------
    address : str, optional
        An existing scheduler, e.g. ``tcp://10.0.0.5:8786``; it is left running.
    workers : int, optional
        Start a local cluster of this many worker processes, shut down on exit.
    timeout : float, optional
        Seconds to wait for the scheduler (and for a first worker); default
        :data:`CONNECT_TIMEOUT_S` (10).
    dashboard : bool
        Start (or report) the dask dashboard.
    say : callable, optional
        Called with one line naming the cluster and its dashboard.

    Yields
    ------
    distributed.Client or None
        None when neither ``address`` nor ``workers`` is given (run on threads).
        While it is open, dask's own log messages below CRITICAL are held back:
        failures reach the user as one-line :class:`ClusterError` messages.
    """
    if address is not None and workers is not None:
        raise ClusterError("--cluster and --workers go apart: give one, or neither")
    if address is None and workers is None:
        yield None
        return
    timeout = CONNECT_TIMEOUT_S if timeout is None else timeout
    if address is not None:
        check_address(address)  # before saying "Connecting to" something that is no address
    if say is not None:  # either takes seconds: say what is happening
        say(
            f"Connecting to the dask scheduler at {address} ..."
            if address is not None
            else f"Starting a local dask cluster of {workers} worker processes ..."
        )
    with _quiet_dask():
        client = (
            connect(address, timeout) if address is not None else start_local(workers, dashboard)
        )
    try:
        where = f"--cluster {address}" if address is not None else f"--workers {workers}"
        _check_worker_versions(client, where)
        if say is not None:
            say(describe(client, address))
        with _quiet_dask():
            yield client
    finally:
        with _quiet_dask():
            _close(client)


@contextlib.contextmanager
def _quiet_dask() -> Iterator[None]:
    """dask's own log lines (tracebacks of reconnection attempts, worker restarts) held back.

    A command says what went wrong in one line of its own (a :class:`ClusterError`);
    dask's logging would print the same event as pages of traceback.
    """
    names = [
        "distributed",
        *(n for n in logging.root.manager.loggerDict if n.startswith("distributed.")),
    ]
    logs = [logging.getLogger(name) for name in names]  # dask sets levels on several of them
    levels = [log.level for log in logs]
    for log in logs:
        log.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        for log, level in zip(logs, levels, strict=True):
            log.setLevel(level)


def describe(client: Client, address: str | None = None) -> str:
    """One line for the console: where the run goes and the dashboard's address."""
    threads = client.nthreads()
    place = f"the dask cluster at {address}" if address else "a local dask cluster"
    text = f"Running on {place}: {len(threads)} workers, {sum(threads.values())} threads"
    services = client.scheduler_info().get("services", {})
    if "dashboard" not in services:  # dask's link would be a guess at a page nobody serves
        return text
    return f"{text}; dashboard {client.dashboard_link}"


def total_threads(client: Client) -> int:
    """Threads across the cluster's workers now (at least 1)."""
    return max(1, sum(client.nthreads().values()))


def run_threads(client: Client | None, threads: int) -> int:
    """Threads a run will compute on: the cluster's when there is one, else ``threads``.

    For estimates of how long a run takes (``check_workload``).
    """
    return threads if client is None else total_threads(client)


# ------------------------------------------------------------------ running tasks


def chunk_task(plan, seed: int, index: int, n: int):
    """Chunk ``index`` of a run (``n`` draws), as a task: the very function threads run."""
    from simulator.engine.chunks import chunk_rng
    from simulator.model.equations import simulate_chunk

    return simulate_chunk(plan, chunk_rng(seed, index), n)


def checked_call(stamp: dict[str, str], fn: Callable[..., Any], *args) -> Any:
    """``fn(*args)`` on a worker, after :func:`check_versions` (every task is run through this)."""
    check_versions(stamp)
    return fn(*args)


def scatter_once(client: Client, obj: Any) -> Future:
    """Send a read-only object to every worker once; tasks take the returned future.

    Broadcast, so a worker that dies does not take the only copy with it (a
    copy left on any worker is passed on to workers that join later).
    """
    return client.scatter([obj], broadcast=True, hash=False)[0]  # [obj]: a list stays one object


def run_on_cluster(
    client: Client,
    fn: Callable[..., Any],
    args: Sequence[tuple],
    shared: Sequence[Any] = (),
    window: int | None = None,
    ordered: bool = False,
) -> Iterator[tuple[int, Any]]:
    """Run ``fn(*shared, *args[i])`` as one task per ``i``; yield ``(i, result)`` as they end.

    ``fn`` must be a module-level function of overspend (workers import it by
    name) and pure: its result depends on its arguments only, so a task run
    again after its worker died gives the same result. Each task first checks
    the worker's versions (:func:`checked_call`). At most ``window`` tasks are
    in flight (default: twice the cluster's threads), so neither the cluster
    nor this process holds more than a few results at once. With ``ordered``,
    results come in index order, and the window counts from the first result
    not yet given (so results held back behind a slow task stay bounded too).
    Closing the iterator cancels the tasks not yet finished.

    Raises
    ------
    ClusterError
        The scheduler stopped answering for :data:`LOST_AFTER_S` seconds, a
        task was lost with several workers in turn, or a worker runs other versions.
    """
    stamp = versions()
    window = window or 2 * total_threads(client)
    pending: dict[Future, int] = {}
    held: dict[int, Any] = {}  # ordered: finished ahead of an earlier task
    finished = threading.Event()
    submitted = following = 0  # following: the next index to give, when ordered
    try:
        while submitted < len(args) or pending:
            while (
                submitted < len(args)
                and (submitted - following if ordered else len(pending)) < window
            ):
                future = client.submit(
                    checked_call, stamp, fn, *shared, *args[submitted], pure=False
                )
                future.add_done_callback(lambda _: finished.set())
                pending[future] = submitted
                submitted += 1
            for future in wait_some(client, list(pending), finished):
                index = pending.pop(future)
                result = result_of(future, index)
                if not ordered:
                    yield index, result
                    continue
                held[index] = result
                while following in held:
                    yield following, held.pop(following)
                    following += 1
    finally:
        if pending:
            with contextlib.suppress(Exception):
                client.cancel(list(pending))


def wait_some(
    client: Client,
    futures: list,
    finished: threading.Event,
    on_wake: Callable[[], None] | None = None,
) -> list:
    """The futures that have finished, waiting until one has; a lost scheduler is an error.

    ``finished`` is set by each future's done-callback, so the wait wakes at
    once; it also wakes every :data:`POLL_S` seconds to look at the scheduler
    (and calls ``on_wake``, e.g. to show progress, each time it wakes).
    """
    lost_since = None
    while True:
        finished.wait(POLL_S)
        finished.clear()  # before looking, so a future finishing now sets it again
        if on_wake is not None:
            on_wake()
        done = [f for f in futures if f.done()]
        if done:
            return done  # in submission order
        if client.status == "running":
            lost_since = None
            continue
        lost_since = lost_since or time.monotonic()
        if client.status in ("closed", "closing") or time.monotonic() - lost_since > LOST_AFTER_S:
            raise _lost(client)


def _lost(client: Client) -> ClusterError:
    address = getattr(client.scheduler, "address", None) or "?"
    return ClusterError(
        f"the dask scheduler at {address} stopped answering during the run; nothing was written"
    )


def result_of(future: Future, index: int) -> Any:
    """A finished task's result, with cluster failures said in one line."""
    distributed = require_distributed()
    try:
        return future.result()
    except VersionMismatch as exc:
        raise ClusterError(str(exc)) from None
    except (distributed.client.FutureCancelledError, OSError):
        # A scheduler that dies cancels every task at once (or breaks the connection
        # a result was coming down): say so, not "task 3 was cancelled".
        client, until = future.client, time.monotonic() + 2.0
        while client.status == "running" and time.monotonic() < until:
            time.sleep(0.05)
        if client.status != "running":
            raise _lost(client) from None
        raise ClusterError(
            f"task {index} was cancelled by the dask scheduler (was the cluster restarted?); "
            "nothing was written"
        ) from None
    except distributed.KilledWorker:
        raise ClusterError(
            f"task {index} was lost with several workers in turn (they died while running it: "
            "out of memory?); nothing was written"
        ) from None


# ------------------------------------------------------------------ compiling once per worker


def _load_kernels() -> float:
    """Compile (or load from numba's cache) the model's kernels in this process; seconds taken."""
    started = time.perf_counter()
    from simulator.config.bundled import bundled_config
    from simulator.config.load import load_config
    from simulator.engine.chunks import chunk_rng
    from simulator.model.equations import build_plan, simulate_chunk

    plan = build_plan(load_config(bundled_config()))
    simulate_chunk(plan, chunk_rng(0, 0), 1)
    return time.perf_counter() - started


def warm_up(client: Client) -> dict[str, float]:
    """Make every worker load the compiled kernels now; seconds each took, by worker.

    Numba's cache (``cache=True``) lives beside the installed package, or in
    ``NUMBA_CACHE_DIR``: a worker that finds it there loads the kernels in a
    fraction of a second; one that does not compiles them once (a few seconds).
    """
    return client.run(_load_kernels)
