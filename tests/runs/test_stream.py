"""Streaming runs to zarr: identical to in-memory runs, atomic, bounded in memory, readable."""

from __future__ import annotations

import subprocess
import sys
import tracemalloc

import numpy as np
import pandas as pd
import pytest

import simulator
from simulator.engine import chunks as engine
from simulator.engine.chunks import CHUNK_DRAWS
from simulator.model.equations import build_plan
from simulator.results import dataset as results
from simulator.results import folders, summary
from simulator.runs import streamed as stream
from tests.helpers import make_config, placement_service

PER_DRAW = stream._PER_DRAW


@pytest.fixture(scope="module")
def council():
    """Two departments, a cost line, savings, income and inflation: every kind of row."""
    return make_config(
        {
            "fostering": placement_service(
                department="Children",
                caseload={"open": 30},
                arrivals={"per_year": 20.0, "dispersion": 0.1},
                savings={"recruit": {"target_gbp": 50_000, "delivery": {"dist": "uniform", "low": 0, "high": 1}}},
            ),
            "homes": placement_service(
                department="Children",
                caseload={"open": 5, "elapsed_weeks": [10, 50, 100, 150, 200]},
                length={"dist": "gamma", "mean_weeks": 60.0, "shape": 1.5},
                unit_cost={"mean_gbp_per_week": 5000.0, "cv": 0.3},
            ),
            "transport": {
                "kind": "cost",
                "department": "Children",
                "budget_gbp": 500_000,
                "cost": {"annual_gbp": {"dist": "normal", "mean": 480_000, "sd": 40_000}, "monthly_cv": 0.05},
            },
            "home_care": placement_service(
                department="Adults",
                caseload={"open": 40},
                length={"dist": "weibull", "mean_weeks": 80.0, "shape": 0.9},
                income={"share": {"dist": "beta", "mean": 0.2, "sd": 0.05}},
            ),
            "other": placement_service(length={"dist": "exponential", "mean_weeks": 30.0}),
        },
        years=2,
        inflation={"factors": {"cpi": {"uplift": {"dist": "normal", "mean": 0.03, "sd": 0.01}}}},
    )  # fmt: skip


@pytest.fixture
def small_blocks(monkeypatch):
    """Blocks of two engine chunks, so a small run crosses several block boundaries."""
    monkeypatch.setattr(stream, "CHUNKS_PER_BLOCK", 2)
    return 2 * CHUNK_DRAWS


def assert_same_results(a, b):
    """Every variable and coordinate equal, number for number, with the same dtype."""
    assert set(a.variables) == set(b.variables)
    for name in a.variables:
        x, y = a[name].values, b[name].values
        assert x.dtype == y.dtype, name
        np.testing.assert_array_equal(x, y, err_msg=name)
        assert a[name].attrs == b[name].attrs, name
    for key in ("seed", "draws", "chunk_draws", "config", "council", "price_base"):
        assert a.attrs[key] == b.attrs[key], key


@pytest.mark.parametrize("threads", [1, 3])
def test_streamed_run_equals_in_memory_run(council, small_blocks, tmp_path, threads):
    draws = 2 * small_blocks + 345  # two full blocks, a short one, and a short last chunk
    expected = simulator.run(council, draws=draws, seed=42, threads=1)
    path = stream.run_to_zarr(council, tmp_path / "sim.zarr", draws, seed=42, threads=threads)
    with stream.open_results(path) as ds:
        assert ds.sizes["draw"] == draws
        assert ds["spend"].encoding["chunks"][0] == small_blocks
        assert_same_results(expected, ds)


def test_only_whole_chunks_are_a_prefix_of_a_longer_run(council, tmp_path):
    """What the README says of chunking, exactly.

    The first 500 x k draws of any longer run (same seed; in memory or streamed,
    on any number of threads) are a run of 500 x k draws. A run whose draws are
    not a multiple of 500 ends in a short chunk, drawn differently: a run of 700
    draws shares its first 500 with every longer run, but its last 200 are not
    draws 500 to 699 of a run of 1,000, and none of them equals any of those.
    """
    assert CHUNK_DRAWS == 500
    longer = simulator.run(council, draws=1_700, seed=7, threads=2)
    for k in (1, 2, 3):
        whole = simulator.run(council, draws=500 * k, seed=7, threads=1)
        assert_same_results(whole, longer.isel(draw=slice(0, 500 * k)).assign_attrs(whole.attrs))
    streamed = stream.run_to_zarr(council, tmp_path / "s.zarr", 1_700, seed=7, threads=3)
    with stream.open_results(streamed) as ds:
        assert_same_results(longer, ds)
    short = simulator.run(council, draws=700, seed=7)
    np.testing.assert_array_equal(short["spend"][:500].values, longer["spend"][:500].values)
    tail, other = short["spend"][500:].values, longer["spend"][500:700].values
    assert not any(np.array_equal(a, b) for a in tail for b in other)


def test_progress_counts_every_draw(council, tmp_path):
    seen = []
    stream.run_to_zarr(council, tmp_path / "s.zarr", 1_234, seed=1, threads=2, progress=seen.append)
    assert sum(seen) == 1_234
    assert len(seen) == len(range(0, 1_234, CHUNK_DRAWS))


def test_interrupted_run_leaves_nothing(council, small_blocks, tmp_path):
    calls = []

    def stop_after_two_blocks(n):
        calls.append(n)
        if sum(calls) >= 2 * small_blocks:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        stream.run_to_zarr(council, tmp_path / "s.zarr", 5_000, 1, 2, stop_after_two_blocks)
    assert list(tmp_path.iterdir()) == []


def test_existing_store_is_replaced_only_when_asked(council, tmp_path):
    path = stream.run_to_zarr(council, tmp_path / "s.zarr", 100, seed=1)
    with pytest.raises(FileExistsError, match="overwrite"):
        stream.run_to_zarr(council, path, 100, seed=2)
    stream.run_to_zarr(council, path, 200, seed=2, overwrite=True)
    with stream.open_results(path) as ds:
        assert ds.sizes["draw"] == 200 and ds.attrs["seed"] == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == [".overspend", "s.zarr"]


@pytest.mark.slow
def test_memory_stays_bounded(council, monkeypatch, tmp_path):
    """numpy reports its allocations to tracemalloc: the peak must not grow with draws."""
    monkeypatch.setattr(stream, "CHUNKS_PER_BLOCK", 1)
    draws = 40 * CHUNK_DRAWS
    in_memory = engine.bytes_per_draw(build_plan(council)) * draws
    stream.run_to_zarr(council, tmp_path / "warm.zarr", CHUNK_DRAWS, seed=1)  # compile first
    tracemalloc.start()
    try:
        stream.run_to_zarr(council, tmp_path / "s.zarr", draws, seed=1, threads=2)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < in_memory / 5, (peak, in_memory)


def test_bytes_per_draw_matches_the_dataset(council):
    ds = simulator.run(council, draws=50, seed=1)
    per_draw = sum(ds[name].nbytes for name in PER_DRAW) / 50
    assert engine.bytes_per_draw(build_plan(council)) == per_draw
    county = simulator.load_config(simulator.config.schema.bundled_config())
    assert engine.needs_streaming(county, 1_000_000)
    assert not engine.needs_streaming(county, 10_000)


@pytest.mark.parametrize("load_bytes", [stream.LOAD_BYTES, 0], ids=["small_nc", "large_nc"])
def test_open_results_reads_both_formats(council, tmp_path, monkeypatch, load_bytes):
    """A store is read lazily; a netCDF file whole when small, lazily when large."""
    monkeypatch.setattr(stream, "LOAD_BYTES", load_bytes)
    ds = simulator.run(council, draws=700, seed=5)
    results.write_run(ds, tmp_path / "nc_run")
    stream.write_streamed_run(council, tmp_path / "zarr_run", draws=700, seed=5)
    for run in ("nc_run", "zarr_run"):
        with stream.open_results(tmp_path / run) as opened:
            whole = run == "nc_run" and load_bytes > 0
            assert opened["spend"].variable._in_memory == whole  # else nothing read yet
            total = opened["overspend"].sel(service="total", financial_year="2024/25")
            np.testing.assert_array_equal(
                total.values, ds["overspend"].sel(service="total", financial_year="2024/25").values
            )
            np.testing.assert_array_equal(opened["caseload"].values, ds["caseload"].values)
    assert stream.results_path(tmp_path / "nc_run").name == "simulation.nc"
    assert stream.results_path(tmp_path / "zarr_run" / "simulation.zarr").suffix == ".zarr"


#: A notebook opening results again and again: cells run twice, earlier Datasets kept by
#: other cells or let go, every one read a slice at a time. With netCDF4 and HDF5 opening
#: one file twice at once, this crashed Python in libhdf5 at the fifth open (or raised
#: "NetCDF: HDF error"), so it runs in a process of its own.
NOTEBOOK = """
import sys
from simulator.runs import streamed

streamed.LOAD_BYTES = int(sys.argv[1])
paths = sys.argv[2:]
kept = []
for i in range(20):
    ds = streamed.open_results(paths[i % 2])
    if i % 3 == 0:
        kept.append(ds)  # another cell keeps it
    spend = ds["spend"].sel(service="total").isel(draw=slice(0, 5), month=0).values
    label = ds["service_label"].values[0]
    print(i, label, repr(float(spend.sum())), flush=True)
    del ds  # a cell let it go
for ds in kept[::2]:
    ds.close()
for ds in kept:
    print("kept", repr(float(ds["overspend"].isel(draw=slice(0, 3)).values.sum())), flush=True)
"""


@pytest.mark.parametrize("load_bytes", [stream.LOAD_BYTES, 0], ids=["small_nc", "large_nc"])
def test_opening_results_again_and_again_never_crashes(council, tmp_path, load_bytes):
    county = simulator.config.schema.bundled_config()  # many services: the crash needed it
    runs = [simulator.run(county, draws=200, seed=1), simulator.run(council, draws=300, seed=2)]
    for k, ds in enumerate(runs):
        results.write_run(ds, tmp_path / f"run{k}")
    done = subprocess.run(
        [sys.executable, "-X", "faulthandler", "-c", NOTEBOOK, str(load_bytes),
         str(tmp_path / "run0"), str(tmp_path / "run1")],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, (
        f"exit {done.returncode}\n{done.stdout[-500:]}{done.stderr[-3000:]}"
    )
    lines = done.stdout.splitlines()
    for i in range(20):
        ds = runs[i % 2]
        spend = ds["spend"].sel(service="total").isel(draw=slice(0, 5), month=0).values
        assert lines[i] == f"{i} {ds['service_label'].values[0]} {float(spend.sum())!r}"
    kept = [runs[i % 2] for i in range(0, 20, 3)]
    assert lines[20:] == [
        f"kept {float(ds['overspend'].isel(draw=slice(0, 3)).values.sum())!r}" for ds in kept
    ]


def test_open_results_says_what_it_expected(tmp_path):
    with pytest.raises(stream.ResultsNotFoundError, match=r"simulation\.nc or simulation\.zarr"):
        stream.open_results(tmp_path)


def test_streamed_run_folder_has_the_summary(council, tmp_path):
    out = tmp_path / "run"
    written = stream.write_streamed_run(
        council, out, draws=600, seed=3, attrs={"config_file": "council.toml"}
    )
    assert [p.name for p in written] == ["reserve.nc", "simulation.zarr", "summary.csv"]
    with stream.open_results(out) as ds:
        assert ds.attrs["config_file"] == "council.toml" and ds.attrs["draws"] == 600
    in_memory = simulator.run(council, draws=600, seed=3)
    expected = summary.summary_table(in_memory)
    # The reserve answers of a streamed run are those of the same run in memory.
    import xarray as xr

    from simulator.results.reserve import reserve_dataset

    with xr.open_dataset(out / "reserve.nc") as written_reserve:
        same = reserve_dataset(in_memory)
        for name in ("reserve", "expected_shortfall", "savings_to_evens"):
            np.testing.assert_array_equal(written_reserve[name].values, same[name].values)
    table = pd.read_csv(out / "summary.csv")
    np.testing.assert_allclose(table["p90_overspend_gbp"], expected["p90_overspend_gbp"], rtol=1e-5)
    with pytest.raises(folders.ResultsExistError):
        stream.write_streamed_run(council, out, draws=600, seed=3)
    stream.write_streamed_run(council, out, draws=100, seed=3, force=True)
    with stream.open_results(out) as ds:
        assert ds.sizes["draw"] == 100


def test_bounded_summary_equals_the_in_memory_summary(council):
    ds = simulator.run(council, draws=900, seed=8)
    expected = summary.summary_table(ds, batch_bytes=10**12)  # all rows at once
    for batch_bytes in (1, 10**9):  # one row at a time, and all at once
        pd.testing.assert_frame_equal(summary.summary_table(ds, batch_bytes), expected)


MONITORING = """
[council]
name = "Monitoring Borough"
[horizon]
start = "2024/25"
years = 1
[snapshot]
file = "caseload.csv"
as_of = 2024-06-30
extension_probability = 0.3
[actuals]
file = "actuals.csv"
as_of = 2024-06-30
forecast_overspend_gbp = { total = 300_000 }
[services.homes]
budget_gbp = 3_000_000
arrivals = { per_year = 6 }
length = { dist = "lognormal", median_weeks = 40, sigma = 0.8 }
unit_cost = { mean_gbp_per_week = 5_000, cv = 0.2 }
[services.staff]
kind = "cost"
budget_gbp = 1_200_000
cost = { annual_gbp = 1_200_000, monthly_cv = 0.1 }
"""
SNAPSHOT = """service,start_date,weekly_cost_gbp,planned_end_date
homes,2023-01-15,7000,2024-09-30
homes,2024-03-14,6000,
homes,2024-06-01,,
"""
ACTUALS = "service,month,net_spend_gbp,caseload\n" + "".join(
    f"homes,2024-0{m},250000,3\nstaff,2024-0{m},100000,\n" for m in (4, 5, 6)
)


def monitoring_config(folder):
    """An in-year config: a caseload snapshot and three months of actuals, in ``folder``."""
    (folder / "caseload.csv").write_text(SNAPSHOT)
    (folder / "actuals.csv").write_text(ACTUALS)
    (folder / "monitor.toml").write_text(MONITORING)
    return simulator.load_config(folder / "monitor.toml")


def test_streamed_in_year_run_keeps_actuals_and_forecast(small_blocks, tmp_path):
    """Variables without a draw dimension (the officer's forecast) are written once."""
    config = monitoring_config(tmp_path)
    expected = simulator.run(config, draws=2_100, seed=6)
    assert "forecast_overspend" in expected and expected["month_is_actual"].values[:3].all()
    path = stream.run_to_zarr(config, tmp_path / "s.zarr", 2_100, seed=6, threads=2)
    with stream.open_results(path) as ds:
        assert_same_results(expected, ds)
        assert ds.attrs["as_of"] == "2024-06-30"


def test_summary_csv_is_exact_plain_and_safe(tmp_path):
    """Pounds to the penny, never 6 significant figures; labels that cannot run or split rows."""
    from simulator.results.summary import write_summary_csv

    table = pd.DataFrame(
        {
            "service": ["a", "b"],
            "service_label": ['=HYPERLINK("http://example.invalid","Click")', "Home\rcare"],
            "budget_gbp": [45_123_456.789, float("nan")],
            "p_overspend": [0.7342, 1 / 3],
        }
    )
    path = tmp_path / "summary.csv"
    write_summary_csv(table, path)
    lines = path.read_text().splitlines()
    assert len(lines) == 3  # the carriage return did not split a row
    assert lines[1].startswith("a,\"'=HYPERLINK(") and ",45123456.79,0.7342" in lines[1]
    assert lines[2] == f"b,Home care,,{1 / 3!r}"
    back = pd.read_csv(path)
    assert back["budget_gbp"][0] == 45_123_456.79  # to the penny, not 4.51235e+07
