"""Runs on a dask.distributed cluster give exactly the numbers of a run on threads.

A module-scoped ``LocalCluster`` of two worker processes (one thread each)
serves the tests that compare results; the tests that kill a worker or lose
the scheduler start clusters of their own. Every comparison is exact, every
data variable and coordinate: the heart of the feature is that where a chunk
runs never changes its numbers.
"""

from __future__ import annotations

import os
import signal
import socket

import numpy as np
import pytest
import xarray as xr

distributed = pytest.importorskip("distributed")

import simulator  # noqa: E402
from simulator.analysis.scenarios import compare_scenarios  # noqa: E402
from simulator.analysis.sensitivity import (  # noqa: E402
    ModelEvaluator,
    group_inputs,
    sobol_analysis,
)
from simulator.cli.app import main  # noqa: E402
from simulator.config.bundled import bundled_config  # noqa: E402
from simulator.engine import cluster  # noqa: E402
from simulator.engine.chunks import CHUNK_DRAWS  # noqa: E402
from simulator.model.equations import build_plan  # noqa: E402
from simulator.runs import streamed  # noqa: E402
from simulator.runs.precision import run_to_precision  # noqa: E402
from simulator.runs.streamed import run_to_zarr  # noqa: E402

# Every test here starts or uses a local dask cluster (seconds each on two cores): CI runs
# them all; `pytest -m "not slow"` leaves them out.
pytestmark = pytest.mark.slow

#: Five whole chunks and a short one: a short last chunk is where an off-by-one would show.
DRAWS = 5 * CHUNK_DRAWS + 200
SEED = 11


def _local_cluster(workers: int = 2) -> distributed.Client:
    return cluster.start_local(workers, dashboard=False)


@pytest.fixture(scope="module")
def client():
    c = _local_cluster()
    cluster.warm_up(c)  # each worker loads the compiled kernels here, not in the first test
    yield c
    cluster._close(c)


@pytest.fixture(scope="module")
def config():
    return simulator.load_config(bundled_config())


def assert_identical(a: xr.Dataset, b: xr.Dataset) -> None:
    """Every data variable and coordinate equal, value for value (NaN equal to NaN)."""
    assert sorted(a.data_vars) == sorted(b.data_vars)
    assert sorted(a.coords) == sorted(b.coords)
    for name in [*a.data_vars, *a.coords]:
        x, y = a[name].values, b[name].values
        assert x.dtype == y.dtype, name
        assert np.array_equal(x, y, equal_nan=x.dtype.kind == "f"), name
    for key in set(a.attrs) - {"created"}:
        assert a.attrs[key] == b.attrs[key], key


# ------------------------------------------------------------------ identical results


def test_run_on_the_cluster_is_identical_to_threads(client, config):
    seen = []
    on_threads = simulator.run(config, DRAWS, SEED, threads=2)
    on_cluster = simulator.run(config, DRAWS, SEED, client=client, progress=seen.append)
    assert_identical(on_threads, on_cluster)
    # the progress bar's count: every chunk once, whatever order they finished in
    assert sorted(seen) == [200] + [CHUNK_DRAWS] * 5


def test_chunks_in_order_on_the_cluster(client, config):
    """Consumers that need chunk i before i + 1 (streaming on the client, precision) get them so."""
    from simulator.engine.chunks import chunk_bounds, chunk_results

    plan, bounds = build_plan(config), chunk_bounds(DRAWS)
    threads = list(chunk_results(plan, SEED, bounds, 2))
    remote = list(chunk_results(plan, SEED, bounds, None, client))
    assert len(remote) == len(bounds)
    for a, b in zip(threads, remote, strict=True):
        assert np.array_equal(a.spend, b.spend) and np.array_equal(a.inputs, b.inputs)


def test_precision_run_stops_at_the_same_draws(client, config):
    kwargs = {"seed": SEED, "max_draws": 3_000, "min_draws": 1_000}
    a = run_to_precision(config, 0.02, threads=2, **kwargs)
    b = run_to_precision(config, 0.02, client=client, **kwargs)
    assert a.attrs["draws"] == b.attrs["draws"]
    assert_identical(a, b)


def test_streamed_run_written_by_the_workers_is_identical(client, config, tmp_path, monkeypatch):
    # Blocks of two chunks, so a few thousand draws make several blocks (the last one short).
    monkeypatch.setattr(streamed, "CHUNKS_PER_BLOCK", 2)
    run_to_zarr(config, tmp_path / "threads.zarr", DRAWS, SEED, threads=2)
    seen = []
    # The whole results folder, as `overspend run` writes one that streams.
    written = streamed.write_streamed_run(
        config, tmp_path / "cluster", DRAWS, SEED, client=client, progress=seen.append
    )
    assert sorted(p.name for p in written) == ["reserve.nc", "simulation.zarr", "summary.csv"]
    assert sum(seen) == DRAWS
    with (
        streamed.open_results(tmp_path / "threads.zarr") as a,
        streamed.open_results(tmp_path / "cluster") as b,
    ):
        assert a["spend"].encoding["chunks"] == b["spend"].encoding["chunks"]
        assert_identical(a.load(), b.load())
    assert not list(tmp_path.glob(".*partial*"))


def test_streamed_run_refuses_a_folder_the_workers_cannot_see(client, config, tmp_path):
    def hide(probe: str) -> bool:
        return False  # as a worker on another machine would find it

    original = client.run
    try:
        client.run = lambda fn, *a, **k: original(hide, *a, **k) if fn is os.path.isfile else (
            original(fn, *a, **k)
        )  # fmt: skip
        with pytest.raises(simulator.errors.UserError, match=f"^{tmp_path}: 2 dask worker"):
            run_to_zarr(config, tmp_path / "x.zarr", DRAWS, SEED, client=client)
    finally:
        client.run = original
    assert not (tmp_path / "x.zarr").exists()
    assert not list(tmp_path.glob(".*partial*"))


def test_compare_on_the_cluster_is_identical(client, config):
    a = compare_scenarios(config, 1_200, SEED, threads=2)
    b = compare_scenarios(config, 1_200, SEED, client=client)
    assert_identical(a, b)


def test_sobol_design_on_the_cluster_is_identical(client, config):
    plan = build_plan(config)
    groups = group_inputs([i.name for i in plan.inputs], "section")
    results = []
    for evaluate in (ModelEvaluator(plan, SEED, 2), ModelEvaluator(plan, SEED, client=client)):
        results.append(sobol_analysis(evaluate, len(plan.inputs), groups, 16, SEED, n_resamples=20))
    a, b = results
    for name in vars(a):
        x, y = np.asarray(getattr(a, name)), np.asarray(getattr(b, name))
        assert np.array_equal(x, y, equal_nan=x.dtype.kind == "f"), name


def test_tornado_on_the_cluster_is_identical(client, config):
    from simulator.analysis.sensitivity import tornado

    plan = build_plan(config)
    groups = group_inputs([i.name for i in plan.inputs], "section")
    a = tornado(plan, groups, 1_200, SEED, threads=2)
    b = tornado(plan, groups, 1_200, SEED, client=client)
    for name in vars(a):
        x, y = np.asarray(getattr(a, name)), np.asarray(getattr(b, name))
        assert np.array_equal(x, y, equal_nan=x.dtype.kind == "f"), name


@pytest.mark.slow
def test_the_commands_take_workers_and_give_the_same_files(tmp_path, capsys):
    """run, compare and sensitivity with --workers 2 against threads (one local cluster each)."""
    base = ["--draws", "600", "--seed", "3"]
    for label, extra in (("threads", []), ("workers", ["--workers", "2"])):
        out = str(tmp_path / label)
        assert main(["run", *base, "--no-charts", "--out", out, *extra]) == 0
        assert main(["compare", *base, "--out", out, *extra]) == 0
        sens = ["--samples", "4", "--bootstrap", "10", "--method", "sobol", "--group", "section"]
        assert main(["sensitivity", *base, *sens, "--out", out, *extra]) == 0
    printed = capsys.readouterr().out
    assert "Running on a local dask cluster: 2 workers" in printed
    for name in ("simulation.nc", "scenarios.nc", "sensitivity.nc"):
        a = xr.load_dataset(tmp_path / "threads" / name)
        b = xr.load_dataset(tmp_path / "workers" / name)
        assert_identical(a, b)


# ------------------------------------------------------------------ versions


def test_a_worker_with_other_versions_is_named_with_both(client, config, monkeypatch):
    ours = cluster.versions()
    other = {**ours, "overspend": "9.9.9", "numba": "0.1.0"}
    monkeypatch.setattr(cluster, "versions", lambda: other)
    with pytest.raises(cluster.ClusterError) as caught:
        cluster._check_worker_versions(client, "--workers 2")
    text = str(caught.value)
    assert f"overspend {ours['overspend']}" in text and "overspend 9.9.9" in text
    assert f"numba {ours['numba']}" in text and "numba 0.1.0" in text
    # and a task refuses to compute (for a worker that joined after the check)
    with pytest.raises(cluster.ClusterError, match="a worker runs overspend"):
        simulator.run(config, CHUNK_DRAWS, SEED, client=client)


def test_check_versions_names_both_sets():
    ours = cluster.versions()
    with pytest.raises(cluster.VersionMismatch, match=r"numba 0\.1\.0"):
        cluster.check_versions({**ours, "numba": "0.1.0"})
    cluster.check_versions(ours)


# ------------------------------------------------------------------ bad input


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_an_address_nobody_answers_is_a_clear_error(capsys, tmp_path):
    address = f"tcp://127.0.0.1:{_free_port()}"
    with pytest.raises(cluster.ClusterError, match="no dask scheduler answered within 1 s"):
        with cluster.open_client(address, timeout=1):
            pass
    out = tmp_path / "never"
    cluster_timeout = cluster.CONNECT_TIMEOUT_S
    try:
        cluster.CONNECT_TIMEOUT_S = 1.0
        assert main(["run", "--draws", "100", "--out", str(out), "--cluster", address]) == 2
    finally:
        cluster.CONNECT_TIMEOUT_S = cluster_timeout
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"error: --cluster {address}: no dask scheduler answered within 1 s "
                   f"(Timed out trying to connect to {address} after 1 s)"]  # fmt: skip
    assert not out.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--workers", "0"], "0 must be from 1 to 256 local worker processes"),
        (["--workers", "-3"], "-3 must be from 1 to 256 local worker processes"),
        (["--workers", "two"], "'two' is not a whole number"),
        (["--workers", "100000"], "100000 must be from 1 to 256"),
        (["--workers", "2", "--cluster", "tcp://h:1"], "not allowed with argument"),
    ],
)
def test_bad_cluster_options_are_refused(args, message, capsys, tmp_path):
    with pytest.raises(SystemExit) as caught:
        main(["run", "--out", str(tmp_path / "x"), *args])
    assert caught.value.code == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize("address", ["nonsense", "tcp://host", "http://h:8786", "h:99999", ""])
def test_a_malformed_address_is_refused_before_connecting(address, capsys, tmp_path):
    assert main(["run", "--out", str(tmp_path / "x"), "--cluster", address]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: --cluster {address!r}: not a scheduler address")
    assert err.count("\n") == 1


def test_workers_must_be_a_whole_number_in_the_api():
    for bad in (0, -1, 2.5, True, "2", cluster.MAX_LOCAL_WORKERS + 1):
        with pytest.raises(cluster.ClusterError, match="must be a whole number from 1"):
            cluster.check_worker_count(bad)


# ------------------------------------------------------------------ faults


@pytest.mark.slow
def test_a_worker_killed_mid_run_costs_only_its_tasks(config, tmp_path, monkeypatch):
    """kill -9 one of two workers after the first chunk: dask reruns its tasks, same numbers."""
    draws = 12 * CHUNK_DRAWS
    expected = simulator.run(config, draws, SEED, threads=2)
    monkeypatch.setattr(streamed, "CHUNKS_PER_BLOCK", 2)
    run_to_zarr(config, tmp_path / "threads.zarr", draws, SEED, threads=2)
    c = _local_cluster()
    try:
        for how in ("in memory", "streamed"):
            pids = sorted(c.run(os.getpid).values())
            killed = []

            def kill_once(n: int, pids=pids, killed=killed) -> None:
                if not killed:
                    os.kill(pids[0], signal.SIGKILL)
                    killed.append(pids[0])

            if how == "in memory":
                got = simulator.run(config, draws, SEED, client=c, progress=kill_once)
                assert_identical(expected, got)
            else:
                path = run_to_zarr(config, tmp_path / "c.zarr", draws, SEED, client=c,
                                   progress=kill_once)  # fmt: skip
                with (
                    streamed.open_results(tmp_path / "threads.zarr") as a,
                    streamed.open_results(path) as b,
                ):
                    assert_identical(a.load(), b.load())
            assert killed and killed[0] not in c.run(os.getpid).values()  # it really died
            c.wait_for_workers(2, timeout=60)  # the nanny starts a new one
    finally:
        cluster._close(c)


@pytest.fixture
def separate_cluster():
    """A scheduler and two single-threaded workers in processes of their own, as on a cluster."""
    import subprocess
    import sys

    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    scheduler = subprocess.Popen(
        [sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
         "--port", str(port), "--dashboard-address", ":0"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    workers = subprocess.Popen(
        [sys.executable, "-m", "distributed.cli.dask_worker", address, "--nworkers", "2",
         "--nthreads", "1", "--no-dashboard"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        yield address, scheduler
    finally:
        for process in (workers, scheduler):
            process.kill()
            process.wait(timeout=60)


@pytest.mark.slow
def test_a_scheduler_killed_mid_run_is_a_clear_error_and_leaves_nothing(
    config, tmp_path, separate_cluster
):
    address, scheduler = separate_cluster
    killed = []

    def kill_scheduler(n: int) -> None:
        if not killed:
            os.kill(scheduler.pid, signal.SIGKILL)
            killed.append(n)

    with cluster.open_client(address, timeout=60) as c:
        c.wait_for_workers(2, timeout=60)
        with pytest.raises(cluster.ClusterError) as caught:
            run_to_zarr(config, tmp_path / "s.zarr", 40 * CHUNK_DRAWS, SEED, client=c,
                        progress=kill_scheduler)  # fmt: skip
    assert killed
    assert str(caught.value) == (
        f"the dask scheduler at {address} stopped answering during the run; nothing was written"
    )
    assert not (tmp_path / "s.zarr").exists()
    assert not list(tmp_path.glob(".*partial*"))


def test_warm_up_reports_each_workers_load_time(client):
    seconds = cluster.warm_up(client)
    assert len(seconds) == 2 and all(s > 0 for s in seconds.values())


def test_describe_names_workers_and_threads(client):
    assert cluster.describe(client).startswith(
        "Running on a local dask cluster: 2 workers, 2 threads"
    )


def test_an_ordinary_run_does_not_import_dask(tmp_path):
    """Without --cluster or --workers nothing of dask is loaded (it costs half a second)."""
    import subprocess
    import sys

    code = (
        "import sys, simulator; from tests.helpers import make_config, placement_service;"
        "simulator.run(make_config({'a': placement_service()}), 10, 1);"
        "print('distributed' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=os.path.dirname(os.path.dirname(os.path.dirname(__file__))))  # fmt: skip
    assert done.stdout.strip() == "False", done.stderr


def test_the_projection_shares_work_and_keeps_the_scheduler_floor():
    from simulator.bench.scaling import SCHEDULER_SECONDS_PER_TASK, project, sobol_draws

    # 1,000 chunks of 0.2 s plus 0.05 s overhead each: 250 worker-seconds.
    assert project(500_000, 1_000, 0.2, 0.05, 10) == pytest.approx(25.0)
    assert project(500_000, 1_000, 0.2, 0.05, 1) == pytest.approx(250.0)
    assert project(500_000, 1_000, 0.2, 0.0, 1, write_per_chunk=0.1) == pytest.approx(300.0)
    # so many workers that the one scheduler is what limits
    assert project(500_000, 1_000, 0.2, 0.05, 10**6) == 1_000 * SCHEDULER_SECONDS_PER_TASK
    assert sobol_draws(1024, 28, 11) == 1024 * 42
