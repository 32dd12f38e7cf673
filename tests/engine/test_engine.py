"""Reproducibility, thread invariance and the results contract."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

import simulator
from simulator.config.bundled import bundled_config
from simulator.config.load import loads_config
from simulator.engine.chunks import CHUNK_DRAWS
from tests.helpers import make_config, placement_service

REQUIRED_VARS = {
    "spend": ("draw", "service", "month"),
    "caseload": ("draw", "service", "month"),
    "arrivals": ("draw", "service", "month"),
    "budget": ("service", "financial_year"),
    "outturn": ("draw", "service", "financial_year"),
    "overspend": ("draw", "service", "financial_year"),
}


@pytest.fixture(scope="module")
def county():
    return simulator.load_config(bundled_config())


@pytest.fixture(scope="module")
def county_run(county):
    return simulator.run(county, draws=CHUNK_DRAWS + 137, seed=7, threads=2)


def test_same_seed_gives_identical_dataset(county, county_run):
    again = simulator.run(county, draws=CHUNK_DRAWS + 137, seed=7, threads=2)
    xr.testing.assert_identical(county_run.drop_attrs(), again.drop_attrs())


def test_thread_count_never_changes_results(county, county_run):
    one = simulator.run(county, draws=CHUNK_DRAWS + 137, seed=7, threads=1)
    xr.testing.assert_identical(county_run.drop_attrs(), one.drop_attrs())


def test_different_seeds_differ(county, county_run):
    other = simulator.run(county, draws=CHUNK_DRAWS + 137, seed=8)
    assert not np.array_equal(other["outturn"].values, county_run["outturn"].values)


def test_whole_chunks_are_a_prefix_of_longer_runs(county, county_run):
    """Chunk i always uses stream i, so a longer run extends a shorter one."""
    short = simulator.run(county, draws=CHUNK_DRAWS, seed=7)
    np.testing.assert_array_equal(short["spend"].values, county_run["spend"].values[:CHUNK_DRAWS])


def test_contract_dimensions_coordinates_and_units(county, county_run):
    ds = county_run
    for name, dims in REQUIRED_VARS.items():
        assert ds[name].dims == dims, name
    for name, var in ds.data_vars.items():
        assert var.attrs.get("units"), name
        assert var.attrs.get("long_name"), name
    assert ds["month"].dtype.kind == "M"
    months = ds["month"].values.astype("datetime64[D]")
    assert str(months[0]) == "2024-04-01" and str(months[-1]) == "2028-03-01"
    assert list(ds["financial_year"].values) == ["2024/25", "2025/26", "2026/27", "2027/28"]
    assert list(ds["month_financial_year"].values[:12]) == ["2024/25"] * 12
    assert ds["draw"].size == CHUNK_DRAWS + 137
    # Each department's services, then its subtotal row; the total last.
    rows = ds["service"].values.tolist()
    for dept in ("Children and Family Services", "Adults and Communities"):
        members = [k for k, s in county.services.items() if s.department == dept]
        at = rows.index(dept)
        assert rows[at - len(members) : at] == members
        assert ds["department"].values[at] == dept
    assert ds["service"].values[-1] == "total"
    assert set(ds["service_type"].values) == {"placements", "cost", "department", "total"}
    for attr in ("seed", "draws", "config", "simulator_version", "created"):
        assert attr in ds.attrs, attr
    assert ds.attrs["seed"] == 7 and ds.attrs["draws"] == CHUNK_DRAWS + 137


def test_overspend_is_outturn_minus_budget(county_run):
    ds = county_run
    np.testing.assert_allclose(ds["overspend"], ds["outturn"] - ds["budget"], rtol=1e-12)
    by_year = ds["spend"].groupby("month_financial_year").sum("month")
    np.testing.assert_allclose(
        by_year.rename(month_financial_year="financial_year").transpose(*ds["outturn"].dims),
        ds["outturn"],
        rtol=1e-12,
    )


def test_resolved_config_attribute_loads_back_identically(county, county_run):
    assert loads_config(county_run.attrs["config"]) == county


def test_netcdf_round_trip(tmp_path, county_run):
    path = tmp_path / "run.nc"
    county_run.to_netcdf(path)
    with xr.open_dataset(path) as back:
        xr.testing.assert_identical(back.load(), county_run)


def test_growth_raises_arrivals_and_inflation_raises_spend():
    """Direction checks on the uncertain drivers, with common seeds."""
    base = placement_service(arrivals={"per_year": 100.0})
    grown = placement_service(arrivals={"per_year": 100.0, "growth": 0.5})
    ds = simulator.run(make_config({"a": base, "b": grown}, years=3), draws=300, seed=3)
    a = ds["arrivals"].sel(service="a").sum("month").mean().item()
    b = ds["arrivals"].sel(service="b").sum("month").mean().item()
    assert b > 1.3 * a
