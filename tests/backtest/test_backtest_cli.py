"""``overspend backtest``: its errors, its files, and the report's track record."""

from __future__ import annotations

from pathlib import Path

import pytest
import xarray as xr

from simulator.backtest.origins import check_origins, default_origins
from simulator.calibrate.records import to_day
from simulator.cli.app import main
from simulator.errors import UserError

DATA = Path(__file__).parents[1] / "data"
BROMLEY = DATA / "ssda903_bromley"
SHARED = Path("/work/shared/data/ssda903-synthetic")


def test_default_origins_have_two_years_before_and_one_after():
    complete, last = to_day("2017-04-01"), to_day("2022-03-31")
    assert default_origins(complete, last) == [to_day(f"{y}-04-01") for y in (2019, 2020, 2021)]
    assert default_origins(complete, last, years_before=1)[0] == to_day("2018-04-01")
    assert default_origins(complete, to_day("2019-03-30")) == []


def test_bad_origins_are_all_named_in_one_error():
    from datetime import date

    complete, last = to_day("2017-04-01"), to_day("2022-03-31")
    with pytest.raises(UserError) as err:
        check_origins(
            [date(2020, 5, 1), date(2017, 4, 1), date(2022, 4, 1), date(2020, 4, 1)],
            complete, last,
        )  # fmt: skip
    lines = str(err.value).splitlines()
    assert lines == [
        "--origins 2020-05-01: not a 1 April (a forecast starts on one)",
        "--origins 2017-04-01: less than a year of complete records before it (the records "
        "are complete from 2017-04-01 to 2022-03-31)",
        "--origins 2022-04-01: no whole year of records after it (the records are complete "
        "from 2017-04-01 to 2022-03-31)",
    ]


def test_command_errors_are_one_line_each(tmp_path, capsys):
    assert main(["backtest", "--out", str(tmp_path / "out")]) == 2
    assert "give the records to backtest on" in capsys.readouterr().err
    episodes = str(BROMLEY / "episodes.csv")
    status = main(["backtest", "--episodes", episodes, "--origins", "2019-05-01,2030-04-01",
                   "--out", str(tmp_path / "out")])  # fmt: skip
    err = capsys.readouterr().err
    assert status == 2
    assert "--origins 2019-05-01: not a 1 April" in err
    assert "--origins 2030-04-01: no whole year of records after it" in err
    assert "Traceback" not in err


def test_an_earlier_backtest_is_kept_without_force(tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "backtest.nc").write_text("a colleague's file")
    assert main(["backtest", "--episodes", str(BROMLEY / "episodes.csv"), "--out", str(out)]) == 2
    assert "was not written by overspend" in capsys.readouterr().err
    assert (out / "backtest.nc").read_text() == "a colleague's file"


@pytest.mark.slow
def test_shared_sample_end_to_end_with_the_report(tmp_path, capsys):
    if not SHARED.is_dir():
        pytest.skip("the shared synthetic SSDA903 sample (/work/shared) is not here")
    episodes, header = str(SHARED / "episodes.csv"), str(SHARED / "header.csv")
    cal = tmp_path / "cal"
    assert main(["calibrate", "--episodes", episodes, "--header", header, "--out", str(cal),
                 "--no-plots"]) == 0  # fmt: skip
    config = next(cal.glob("*.toml"))
    results = tmp_path / "results"
    assert main(["run", str(config), "--draws", "400", "--out", str(results), "--no-charts"]) == 0
    assert main(["backtest", "--episodes", episodes, "--header", header, "--draws", "300",
                 "--out", str(results)]) == 0  # fmt: skip
    printed = capsys.readouterr().out
    assert "origin 3 of 3, 2021-04-01" in printed
    assert "Over the last 3 years our 80% ranges for the total cost" in printed
    bt = xr.load_dataset(results / "backtest.nc")
    assert list(bt["origin"].values) == ["2019-04-01", "2020-04-01", "2021-04-01"]
    for name in ("forecast", "actual", "crps", "coverage"):
        assert bt[name].attrs["units"] and bt[name].attrs["long_name"]
    for chart in ("backtest_track_record", "backtest_calibration"):
        assert (results / f"{chart}.png").stat().st_size > 10_000
    # Again without --force: refused; with it, replaced.
    again = ["backtest", "--episodes", episodes, "--draws", "50", "--out", str(results)]
    assert main(again) == 2
    assert "--force" in capsys.readouterr().err
    assert main(["report", str(results)]) == 0
    html = (results / "report.html").read_text(encoding="utf-8")
    assert "Track record" in html
    assert "contained the outcome" in html
    assert html.count("data:image/png;base64") >= 2
