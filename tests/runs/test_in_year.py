"""In-year monitoring: today's caseload from a snapshot file, and actual spend to date."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

import simulator
from simulator.cli import app as cli
from simulator.config.load import dumps_config, load_config, loads_config
from simulator.config.messages import ConfigError

CONFIG = """
[council]
name = "Monitoring Borough"
[horizon]
start = "2024/25"
years = 1
[snapshot]
file = "caseload.csv"
as_of = 2024-06-30
extension_probability = {extension}
[actuals]
file = "actuals.csv"
as_of = 2024-06-30
forecast_overspend_gbp = {{ total = 300_000 }}
[services.homes]
budget_gbp = 3_000_000
arrivals = {{ per_year = {arrivals} }}
length = {{ dist = "lognormal", median_weeks = 100_000, sigma = 0.0 }}
unit_cost = {{ mean_gbp_per_week = 5_000 }}
[services.staff]
kind = "cost"
budget_gbp = 1_200_000
cost = {{ annual_gbp = 1_200_000, monthly_cv = 0.1 }}
"""

SNAPSHOT = """service,start_date,weekly_cost_gbp,planned_end_date
homes,2023-01-15,7000,2024-09-30
homes,14/03/2024,6000,
homes,2024-06-01,,
"""

ACTUALS = """service,month,net_spend_gbp,caseload
homes,2024-04,250000,3
homes,2024-05,260000,3
homes,2024-06,255000,3
staff,2024-04,100000,
staff,2024-05,98000,
staff,2024-06,101000,
"""


def _write(folder: Path, extension=0.0, arrivals=0, snapshot=SNAPSHOT, actuals=ACTUALS) -> Path:
    (folder / "caseload.csv").write_text(snapshot)
    (folder / "actuals.csv").write_text(actuals)
    path = folder / "monitor.toml"
    path.write_text(CONFIG.format(extension=extension, arrivals=arrivals))
    return path


def test_actual_months_are_reproduced_exactly(tmp_path):
    ds = simulator.run(load_config(_write(tmp_path, arrivals=20)), draws=300, seed=1)
    assert ds["month_is_actual"].values.tolist() == [True] * 3 + [False] * 9
    assert ds.attrs["as_of"] == "2024-06-30"
    homes = ds["spend"].sel(service="homes").values
    assert np.all(homes[:, :3] == [250000, 260000, 255000])
    assert np.all(ds["spend"].sel(service="staff").values[:, :3] == [100000, 98000, 101000])
    assert np.all(ds["caseload"].sel(service="homes").values[:, :3] == 3)
    assert np.all(ds["arrivals"].sel(service="homes").values[:, :3] == 0)
    assert ds["arrivals"].sel(service="homes").values[:, 3:].sum() > 0
    outturn = ds["outturn"].sel(service="total").values[:, 0]
    np.testing.assert_allclose(outturn, ds["spend"].sel(service="total").values.sum(axis=1))


def test_snapshot_placements_follow_their_elapsed_time_and_planned_end(tmp_path):
    """No extension, no arrivals, lengths far beyond the horizon: the rest of the year is exact."""
    ds = simulator.run(load_config(_write(tmp_path)), draws=5, seed=2)
    spend = ds["spend"].sel(service="homes").values
    # Row 1 ends on 30 September (not charged that day): 1 July to 29 September.
    first = 7000 * 91 / 7
    # Row 2 carries on past the year end: 1 July to 31 March, known cost.
    second = 6000 * 274 / 7
    third = spend[:, 3:].sum(axis=1) - first - second  # drawn cost, whole rest of year
    np.testing.assert_allclose(third, 5000 * 274 / 7, rtol=1e-12)  # cv 0: the mean cost
    caseload = ds["caseload"].sel(service="homes").values
    assert np.all(caseload[:, 3:5] == 3) and np.all(caseload[:, 5:] == 2)


def test_extension_probability_is_the_share_of_planned_ends_extended(tmp_path):
    many = "service,start_date,weekly_cost_gbp,planned_end_date\n" + "".join(
        "homes,2024-01-01,1000,2024-08-31\n" for _ in range(200)
    )
    path = _write(tmp_path, extension=0.3, snapshot=many)
    ds = simulator.run(load_config(path), draws=100, seed=3)
    # Lengths are 100,000 weeks, so an extended placement stays open to the year end.
    share = ds["caseload"].sel(service="homes").values[:, -1] / 200
    se = math.sqrt(0.3 * 0.7 / (200 * 100))
    assert abs(share.mean() - 0.3) < 4 * se
    assert np.all(ds["caseload"].sel(service="homes").values[:, 3] == 200)  # July: all open


def test_resolved_config_embeds_the_files(tmp_path):
    config = load_config(_write(tmp_path))
    text = dumps_config(config)
    assert "caseload.csv" in text and "placements" in text and "months" in text
    for name in ("caseload.csv", "actuals.csv"):
        (tmp_path / name).unlink()
    assert loads_config(text) == config


def test_officer_forecast_comparison(tmp_path, capsys):
    out = tmp_path / "out"
    assert (
        cli.main(["run", str(_write(tmp_path, arrivals=20)), "--draws", "400", "--out", str(out)])
        == 0
    )
    printed = capsys.readouterr().out
    assert "Actual spend to 2024-06-30" in printed
    ds = simulator.run(load_config(tmp_path / "monitor.toml"), draws=400, seed=1)
    worse = (ds["overspend"].sel(service="total", financial_year="2024/25").values > 300_000).mean()
    assert (
        f"Total 2024/25: forecast overspend £0.3m; the simulation puts a {worse * 100:.0f}% chance"
        in printed
    )


def test_as_of_and_actuals_on_the_command_line(tmp_path):
    _write(tmp_path)
    base = tmp_path / "plain.toml"
    text = (tmp_path / "monitor.toml").read_text()
    base.write_text(
        text.split("[services.homes]")[0].split("[snapshot]")[0]
        + "[services.homes]"
        + text.split("[services.homes]")[1]
    )
    base.write_text(
        base.read_text().replace(
            "arrivals = { per_year = 0 }", "arrivals = { per_year = 5 }\ncaseload = { open = 3 }"
        )
    )
    out = tmp_path / "o"
    argv = ["run", str(base), "--draws", "50", "--out", str(out), "--as-of", "2024-06-30",
            "--actuals", str(tmp_path / "actuals.csv"), "--no-charts"]  # fmt: skip
    assert cli.main(argv) == 0
    import xarray as xr

    with xr.open_dataset(out / "simulation.nc") as ds:
        assert ds["spend"].sel(service="homes").values[0, 0] == 250000
    assert cli.main(["run", str(base), "--as-of", "2024-06-30", "--out", str(tmp_path / "p")]) == 2


@pytest.mark.parametrize(
    ("snapshot", "actuals", "expected"),
    [
        (
            SNAPSHOT.replace("14/03/2024", "31/02/2024"),
            ACTUALS,
            "caseload.csv: row 3, column start_date: '31/02/2024' is not a date",
        ),
        (
            SNAPSHOT.replace("2024-06-01", "2024-07-01"),
            ACTUALS,
            "(caseload.csv row 4): start_date 2024-07-01 is after the snapshot date 2024-06-30",
        ),
        (
            SNAPSHOT.replace("homes,2024-06-01", "hommes,2024-06-01"),
            ACTUALS,
            "service 'hommes' is not a placements service",
        ),
        (
            SNAPSHOT.replace("2024-09-30", "2024-05-31"),
            ACTUALS,
            "planned_end_date 2024-05-31 is not after the snapshot date",
        ),
        (
            SNAPSHOT.replace("7000", "-5"),
            ACTUALS,
            "caseload.csv: row 2, column weekly_cost_gbp: '-5' must be an amount in GBP, > 0",
        ),
        (
            SNAPSHOT,
            ACTUALS.replace("staff,2024-06,101000,\n", ""),
            "no actual spend for staff in 2024-06",
        ),
        (
            SNAPSHOT,
            ACTUALS.replace("2024-05,98000", "2024-07,98000"),
            "month 2024-07 is not before the as-of date",
        ),
        (SNAPSHOT, ACTUALS.replace("260000", "lots"), "actuals.csv: row 3, column net_spend_gbp"),
        (SNAPSHOT.replace("planned_end_date", "end"), ACTUALS, "unknown column 'end'"),
    ],
)
def test_bad_rows_name_the_file_row_and_column(tmp_path, snapshot, actuals, expected):
    path = _write(tmp_path, snapshot=snapshot, actuals=actuals)
    with pytest.raises(ConfigError) as exc:
        load_config(path)
    assert expected in str(exc.value), str(exc.value)


def test_as_of_must_be_a_month_end(tmp_path):
    path = _write(tmp_path)
    path.write_text(path.read_text().replace("2024-06-30", "2024-06-15"))
    with pytest.raises(ConfigError, match="must be the last day of a month"):
        load_config(path)


@pytest.mark.parametrize(
    ("snapshot", "actuals", "expected"),
    [
        (
            SNAPSHOT + "homes,2024-01-01,5000,,extra\n",
            ACTUALS,
            "caseload.csv: row 5: more fields than the header has columns",
        ),
        (
            SNAPSHOT.replace("homes,2024-06-01", ",2024-06-01"),
            ACTUALS,
            "caseload.csv: row 4, column service: is empty",
        ),
        (
            SNAPSHOT.replace("7000", "0"),
            ACTUALS,
            "row 2, column weekly_cost_gbp: '0' must be an amount in GBP, > 0",
        ),
        (
            SNAPSHOT,
            ACTUALS.replace("260000", "abc"),
            "actuals.csv: row 3, column net_spend_gbp: 'abc' is not a number",
        ),
    ],
)
def test_more_bad_rows(tmp_path, snapshot, actuals, expected):
    with pytest.raises(ConfigError) as exc:
        load_config(_write(tmp_path, snapshot=snapshot, actuals=actuals))
    assert expected in str(exc.value), str(exc.value)


def test_as_of_on_the_command_line_must_match_the_snapshot(tmp_path, capsys):
    path = _write(tmp_path)
    argv = ["run", str(path), "--as-of", "2024-05-31", "--actuals", str(tmp_path / "actuals.csv"),
            "--out", str(tmp_path / "o"), "--no-charts"]  # fmt: skip
    assert cli.main(argv) == 2
    assert "differs from the config's snapshot.as_of = 2024-06-30" in capsys.readouterr().err


def test_snapshot_only_runs_do_not_claim_actuals(tmp_path, capsys):
    (tmp_path / "caseload.csv").write_text(SNAPSHOT.replace("2024-06-01", "2024-03-01"))
    text = CONFIG.format(extension=0.0, arrivals=5).split("[actuals]")[0]
    text += "[services" + CONFIG.format(extension=0.0, arrivals=5).split("[services", 1)[1]
    path = tmp_path / "snap.toml"
    path.write_text(text.replace("2024-06-30", "2024-03-31"))
    assert (
        cli.main(["run", str(path), "--draws", "30", "--out", str(tmp_path / "o"), "--no-charts"])
        == 0
    )
    assert "Actual spend" not in capsys.readouterr().out


def test_errors_after_as_of_name_the_config_and_the_actuals_file(tmp_path, capsys):
    _write(tmp_path)
    base = tmp_path / "plain.toml"
    base.write_text(
        "[council]\nname = 'x'\n[horizon]\nstart = '2024/25'\nyears = 1\n"
        "[services.homes]\nbudget_gbp = 1\narrivals = { per_year = 1 }\n"
        "length = { dist = 'exponential', mean_weeks = 10 }\nunit_cost = { mean_gbp_per_week = 1 }\n"
    )
    argv = ["run", str(base), "--as-of", "2024-06-30", "--actuals", str(tmp_path / "actuals.csv"),
            "--out", str(tmp_path / "o"), "--no-charts"]  # fmt: skip
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert f"plain.toml with --actuals {tmp_path / 'actuals.csv'}" in err
    assert "service 'staff' is not in this config" in err


# ------------------------------------------------------------------ month-end caseload (defect 12)

RESTART = """
[council]
name = "Restart Borough"
[horizon]
start = "2024/25"
years = 1
[actuals]
as_of = 2024-06-30
months = [{rows}]
[services.homes]
budget_gbp = 3_000_000
caseload = {{ open = {open_} {extra}}}
arrivals = {{ per_year = 8 }}
length = {{ dist = "lognormal", median_weeks = 30, sigma = 0.8 }}
unit_cost = {{ mean_gbp_per_week = 5_000, cv = 0.2 }}
"""


def _restart(open_: int, month_end: int | None, extra: str = "") -> str:
    caseload = "" if month_end is None else f", caseload = {month_end}"
    rows = ", ".join(
        f'{{ service = "homes", month = "2024-{m:02d}", net_spend_gbp = 250000{caseload} }}'
        for m in (4, 5, 6)
    )
    return RESTART.format(rows=rows, open_=open_, extra=extra)


def test_the_actual_month_end_caseload_restarts_the_simulation():
    """Open 5 at the start but 12 at the as-of month end: the rest of the year starts from 12,
    exactly as a config that says 12 (the month-end caseload was once silently ignored)."""
    restarted = simulator.run(loads_config(_restart(5, 12), "a.toml"), draws=200, seed=3)
    said = simulator.run(loads_config(_restart(12, None), "b.toml"), draws=200, seed=3)
    rest = {"month": slice(3, None)}
    for name in ("spend", "caseload", "arrivals"):
        np.testing.assert_array_equal(restarted[name][rest].values, said[name][rest].values)
    ignored = simulator.run(loads_config(_restart(5, None), "c.toml"), draws=200, seed=3)
    july = ignored["caseload"].sel(service="homes").values[:, 3].mean()
    assert july < restarted["caseload"].sel(service="homes").values[:, 3].mean() - 4


def test_a_caseload_open_taken_as_the_as_of_caseload_is_said():
    (warning,) = loads_config(_restart(5, None), "a.toml").warnings
    assert warning == (
        "services.homes.caseload.open = 5 is taken as the placements open on 2024-06-30, since "
        "the actuals give no caseload for homes in 2024-06: add the month-end caseload to the "
        "actuals (or a snapshot) if it has changed"
    )
    assert loads_config(_restart(5, 12), "b.toml").warnings == ()


def test_per_placement_lists_that_cannot_restart_are_refused():
    text = _restart(3, 12, extra=", elapsed_weeks = [1, 2, 3] ")
    with pytest.raises(ConfigError) as info:
        loads_config(text, "a.toml")
    assert (
        "services.homes.caseload.elapsed_weeks: lists 3 placements, but the actuals' caseload "
        "of 12 at the end of 2024-06 restarts the simulation"
    ) in str(info.value)
    one_for_all = loads_config(_restart(3, 12, extra=", elapsed_weeks = 20 "), "b.toml")
    assert one_for_all.as_of_caseload == {"homes": 12}


def test_a_snapshot_that_disagrees_with_the_month_end_caseload_is_warned_of(tmp_path):
    actuals = ACTUALS.replace("255000,3", "255000,5")
    warnings = load_config(_write(tmp_path, actuals=actuals)).warnings
    assert (
        "actuals: homes 2024-06: caseload = 5 at the month end, but the snapshot lists 3 "
        "placements open on 2024-06-30: the simulation starts from the snapshot; check which "
        "is right"
    ) in warnings


def test_validate_describes_the_snapshot_and_the_actuals(tmp_path, capsys):
    """`validate` once said nothing of [actuals] (trial defect 23)."""
    assert cli.main(["validate", str(_write(tmp_path))]) == 0
    out = capsys.readouterr().out
    for line in (
        "    - 3 open on 30 June 2024 (the snapshot)",
        "Caseload snapshot on 30 June 2024 from caseload.csv:",
        "  Homes: 3 open, 2 with a weekly cost, 1 with a planned end",
        "Actual spend to 30 June 2024 from actuals.csv: 3 months fixed at actual net spend; the "
        "rest of the horizon is simulated from the next day.",
        "  Homes: £765,000 to date (25.5% of its 2024/25 budget)",
        "  Staff: £299,000 to date (24.9% of its 2024/25 budget)",
        "  Officer's forecast overspend for 2024/25, Total: £300,000",
    ):
        assert line in out.splitlines(), line
    restart = tmp_path / "restart.toml"
    restart.write_text(_restart(5, 12))
    assert cli.main(["validate", str(restart)]) == 0
    out = capsys.readouterr().out
    assert "    - 12 open on 30 June 2024 (steady state, from the actuals)" in out
    assert "  Homes: £750,000 to date (25.0% of its 2024/25 budget); restarts from 12 open" in out
