"""The ``overspend sensitivity`` command: tables printed, sensitivity.nc written safely."""

from __future__ import annotations

import numpy as np
import pytest
import tomli_w
import xarray as xr

from simulator.cli.app import main
from simulator.errors import UserError
from simulator.files import write_dataset as write_netcdf
from simulator.present.numbers import money_k_or_m as money
from tests.helpers import config_dict, placement_service


def council_file(tmp_path):
    data = config_dict(
        {
            "homes": placement_service(
                department="Children",
                budget_gbp=2_000_000,
                caseload={"open": 20},
                arrivals={"per_year": 15.0, "growth": {"dist": "normal", "mean": 0.03, "sd": 0.02}},
                unit_cost={"mean_gbp_per_week": 2000.0, "cv": 0.2},
                inflation={"factors": {"market": 1.0}},
            ),
            "staff": {
                "kind": "cost",
                "budget_gbp": 400_000,
                "cost": {"annual_gbp": {"dist": "normal", "mean": 400_000, "sd": 40_000}},
            },
        },
        years=2,
        inflation={
            "price_base": "2024/25",
            "factors": {"market": {"uplift": {"dist": "normal", "mean": 0.05, "sd": 0.02}}},
        },
        run={"draws": 300, "seed": 6},
    )
    path = tmp_path / "small.toml"
    path.write_text(tomli_w.dumps(data))
    return path


def test_sensitivity_command_prints_tables_and_writes_the_file(tmp_path, capsys):
    path, out = council_file(tmp_path), tmp_path / "out"
    args = ["sensitivity", str(path), "--samples", "64", "--draws", "200", "--bootstrap", "30"]
    args += ["--out", str(out), "--threads", "1"]
    assert main(args) == 0
    printed = capsys.readouterr().out
    for text in ("First-order Sobol", "Total Sobol", "Case-level randomness", "Tornado",
                 "Staff: annual cost", "sensitivity.nc"):  # fmt: skip
        assert text in printed, text
    with xr.open_dataset(out / "sensitivity.nc") as ds:
        assert ds.attrs["sobol_samples"] == 64 and ds.attrs["tornado_draws"] == 200
        assert ds.attrs["grouping"] == "parameter"
        assert set(ds["input"].values) == {
            "inflation.factors.market.uplift",
            "services.homes.arrivals.growth",
            "services.staff.cost.annual_gbp",
        }
        assert list(ds["service"].values) == ["homes", "Children", "staff", "total"]
        # staff depends on its annual cost alone: the tornado sees nothing else move it.
        staff = ds.sel(service="staff")
        assert staff["tornado_mean_high"].sel(input="services.staff.cost.annual_gbp").min() > 0
        assert np.all(staff["tornado_mean_high"].sel(input="services.homes.arrivals.growth") == 0)
    assert main(args) == 2  # refuses to replace without --force
    assert "--force" in capsys.readouterr().err


def test_sensitivity_command_options(tmp_path, capsys):
    path, out = council_file(tmp_path), tmp_path / "out"
    base = ["sensitivity", str(path), "--out", str(out), "--threads", "1", "--force"]
    assert main([*base, "--method", "tornado", "--draws", "100", "--group", "section",
                 "--service", "homes", "--top", "1"]) == 0  # fmt: skip
    printed = capsys.readouterr().out
    assert "Sobol" not in printed and "Tornado, Homes" in printed
    with xr.open_dataset(out / "sensitivity.nc") as ds:
        assert "first_order" not in ds and "tornado_p_low" in ds
        assert list(ds["input"].values) == [
            "inflation.factors.market",
            "services.homes",
            "services.staff",
        ]
    assert main([*base, "--method", "sobol", "--samples", "32", "--bootstrap", "10"]) == 0
    with xr.open_dataset(out / "sensitivity.nc") as ds:
        assert "tornado_mean_low" not in ds and "first_order" in ds
    assert main([*base, "--service", "nowhere"]) == 2
    assert "not a result row" in capsys.readouterr().err


def test_write_netcdf_is_atomic_and_refuses_to_overwrite(tmp_path):
    ds = xr.Dataset({"x": ("a", np.arange(3.0), {"units": "1", "long_name": "x"})})
    target = tmp_path / "deep" / "file.nc"
    write_netcdf(ds, target)
    with pytest.raises(UserError, match="--force"):
        write_netcdf(ds, target)
    write_netcdf(ds * 2, target, force=True)
    with xr.open_dataset(target) as back:
        np.testing.assert_array_equal(back["x"].values, [0.0, 2.0, 4.0])
    assert sorted(p.name for p in target.parent.iterdir()) == [".overspend", "file.nc"]


def test_money_shows_small_amounts_in_thousands():
    assert money(6_646) == "£7k" and money(-12_400) == "-£12k"
    assert money(2_745_625) == "£2.7m"


def test_samples_help_gives_the_draws_the_model_really_runs(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["sensitivity", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    formula = "samples x (groups + 3) draws, plus samples for each group that changes the"
    assert f"{formula} case-level draws" in help_text
    path, out = council_file(tmp_path), tmp_path / "out"
    assert main(["sensitivity", str(path), "--samples", "8", "--method", "sobol",
                 "--bootstrap", "5", "--out", str(out), "--threads", "1"]) == 0  # fmt: skip
    with xr.open_dataset(out / "sensitivity.nc") as ds:
        redrawn = int(ds["input_redraws_cases"].sum())
        assert redrawn >= 1  # arrival growth changes which cases arrive
        assert ds.attrs["sobol_evaluations"] == 8 * (ds.sizes["input"] + 3 + redrawn)


def test_sobol_tables_clip_noise_and_say_why():
    from rich.console import Console

    from simulator.analysis.sensitivity import SOBOL_CAVEAT
    from simulator.present.tables import sobol_tables

    dims = ("input", "service", "financial_year")
    est = {"first_order": [[[-0.04]], [[1.02]]], "total_order": [[[0.01]], [[1.1]]]}
    data = {}
    for name, values in est.items():
        v = np.array(values)
        data |= {name: (dims, v), f"{name}_low": (dims, v - 0.06), f"{name}_high": (dims, v + 0.05)}
    for end, shift in (("", 0.0), ("_low", -0.02), ("_high", 0.02)):
        data[f"case_level_share{end}"] = (dims[1:], np.array([[0.3 + shift]]))
    coords = {"input": ["a.b", "c.d"], "service": ["total"], "financial_year": ["2024/25"],
              "service_label": ("service", ["All services"])}  # fmt: skip
    console = Console(record=True, width=200)
    for table in sobol_tables(xr.Dataset(data, coords)):
        console.print(table)
    text = console.export_text()
    assert "\u22480 (0.00, 0.01)" in text  # first order of a.b: -0.04, interval holds 0
    assert "1.00 (0.96, 1.00)" in text  # first order of c.d: 1.02, shown as 1
    assert "-0." not in text and "1.10" not in text
    assert text.count(" ".join(SOBOL_CAVEAT.split()[:4])) == 2  # under both tables
