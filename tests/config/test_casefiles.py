"""The council's own files a config names: a caseload snapshot and actuals to date.

Every problem names the file, the row, the column (as the file writes it), the
value and what is allowed, all at once; nothing is guessed (a decimal comma, a
date whose order the file does not settle), and files are read only from the
config's own folder.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

from simulator.config.load import load_config
from simulator.config.messages import ConfigError

CONFIG = """
[council]
name = "Monitoring Borough"
[horizon]
start = "2024/25"
years = 2
[snapshot]
file = "caseload.csv"
as_of = {as_of}
[actuals]
file = "actuals.csv"
as_of = {as_of}
[services.homes]
budget_gbp = 3_000_000
arrivals = {{ per_year = 10 }}
length = {{ dist = "lognormal", median_weeks = 40, sigma = 0.8 }}
unit_cost = {{ mean_gbp_per_week = 5_000 }}
[services.staff]
kind = "cost"
budget_gbp = 1_200_000
cost = {{ annual_gbp = 1_200_000 }}
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


def _write(folder: Path, snapshot=SNAPSHOT, actuals=ACTUALS, as_of="2024-06-30", **edits) -> Path:
    (folder / "caseload.csv").write_text(snapshot)
    (folder / "actuals.csv").write_text(actuals)
    text = CONFIG.format(as_of=as_of)
    for old, new in edits.items():
        text = text.replace(old, new)
    path = folder / "monitor.toml"
    path.write_text(text)
    return path


def _error(path: Path, **kw) -> ConfigError:
    with pytest.raises(ConfigError) as exc:
        load_config(path, **kw)
    return exc.value


def _lines(exc: ConfigError) -> list[str]:
    return str(exc).splitlines()


# ---------------------------------------------------------------- 14: actuals in one round


def test_every_actuals_problem_is_reported_at_once(tmp_path):
    """A bad month, a bad amount, an unknown service and a missing month: one message."""
    actuals = (
        ACTUALS.replace("homes,2024-05,260000", "homes,2024-5x,260000")
        .replace("101000", "lots")
        .replace("staff,2024-04", "stuff,2024-04")
    )
    lines = _lines(_error(_write(tmp_path, actuals=actuals)))
    assert any("actuals.csv: row 3, column month: '2024-5x' is not a month" in x for x in lines)
    assert any(
        "actuals.csv: row 7, column net_spend_gbp: 'lots' is not a number" in x for x in lines
    )
    assert any("(actuals.csv row 5): service 'stuff' is not in this config" in x for x in lines)
    assert any("no actual spend for homes in 2024-05" in x for x in lines), lines
    assert len(lines) == 4, lines


def test_actuals_and_snapshot_problems_come_together(tmp_path):
    snapshot = SNAPSHOT.replace("homes,2024-06-01", "hommes,2024-06-01")
    actuals = ACTUALS.replace("staff,2024-05", "stuff,2024-05")
    text = str(_error(_write(tmp_path, snapshot=snapshot, actuals=actuals)))
    assert "service 'hommes' is not a placements service" in text
    assert "service 'stuff' is not in this config" in text


def test_file_problems_come_with_the_configs_own(tmp_path):
    path = _write(
        tmp_path,
        actuals=ACTUALS.replace("98000", '"9,80"'),
        **{"median_weeks = 40": "median_weeks = -40"},
    )
    text = str(_error(path))
    assert "actuals.csv: row 6, column net_spend_gbp: '9,80'" in text
    assert "monitor.toml: services.homes.length.median_weeks = -40" in text


@pytest.mark.parametrize(
    "april",
    ["2024-04", "Apr-24", "apr-24", "Apr 24", "Apr-2024", "April 2024", "P1", "p1", "P01",
     "2024-04-30", "30/04/2024"],
)  # fmt: skip
def test_months_as_councils_write_them(tmp_path, april):
    config = load_config(_write(tmp_path, actuals=ACTUALS.replace("2024-04", april)))
    assert [m.month for m in config.actuals.months] == [
        "2024-04", "2024-05", "2024-06", "2024-04", "2024-05", "2024-06"
    ]  # fmt: skip


def test_periods_are_of_the_as_of_financial_year(tmp_path):
    """P1 is April of the year the as-of date falls in, P12 the March after."""
    months = [f"{y}-{m:02d}" for y, m in [(2024, m) for m in range(4, 13)] + [(2025, 1), (2025, 2)]]
    first_year = [f"{s},{m},1000," for s in ("homes", "staff") for m in [*months, "2025-03"]]
    second = [f"{s},P{p},1000," for s in ("homes", "staff") for p in (1, 2, 3)]
    actuals = "service,month,net_spend_gbp,caseload\n" + "\n".join(first_year + second) + "\n"
    path = _write(tmp_path, actuals=actuals, as_of="2025-06-30", snapshot=SNAPSHOT.replace(
        "2024-09-30", "2025-09-30"))  # fmt: skip
    config = load_config(path)
    assert sorted({m.month for m in config.actuals.months})[-3:] == [
        "2025-04",
        "2025-05",
        "2025-06",
    ]


@pytest.mark.parametrize("month", ["2024-13", "NaN", "P13", "Apx-24", "13/2024"])
def test_a_bad_month_names_the_column_and_the_formats_allowed(tmp_path, month):
    lines = _lines(
        _error(_write(tmp_path, actuals=ACTUALS.replace("2024-05,98000", f"{month},98000")))
    )
    line = next(x for x in lines if "row 6" in x)
    assert f"actuals.csv: row 6, column month: '{month}' is not a " in line, lines
    assert "YYYY-MM" in line or "P1 (April) to P12" in line, line


# ---------------------------------------------------------------- 24: numbers


@pytest.mark.parametrize(
    "amount", ['"1.234,50"', '"328,50"', '"12,34,567"', "(1234)", '"1 234"', "NaN", "inf", "1_000",
               "1.2.3", "--5", "£"],
)  # fmt: skip
def test_an_amount_that_is_not_an_unambiguous_number_is_refused(tmp_path, amount):
    lines = _lines(_error(_write(tmp_path, actuals=ACTUALS.replace("250000", amount))))
    assert len(lines) == 1, lines
    assert "actuals.csv: row 2, column net_spend_gbp: " in lines[0], lines
    assert "is not a number" in lines[0], lines


@pytest.mark.parametrize(
    ("amount", "value"),
    [('"250,000"', 250_000.0), ('"£250,000.50"', 250_000.5), ("-£1000", -1000.0),
     ('"-1,000"', -1000.0), ("2.5e5", 250_000.0), ("250000.", 250_000.0)],
)  # fmt: skip
def test_amounts_written_plainly_are_read_exactly(tmp_path, amount, value):
    config = load_config(_write(tmp_path, actuals=ACTUALS.replace("250000", amount)))
    assert config.actuals.months[0].net_spend_gbp == value


def test_a_weekly_cost_with_a_decimal_comma_is_refused(tmp_path):
    text = str(_error(_write(tmp_path, snapshot=SNAPSHOT.replace("6000", '"328,50"'))))
    assert "caseload.csv: row 3, column weekly_cost_gbp: '328,50' is not a number" in text


@pytest.mark.parametrize("caseload", ["3.0", "1_000", "٣", "-1", "three"])
def test_a_caseload_must_be_plain_digits(tmp_path, caseload):
    text = str(_error(_write(tmp_path, actuals=ACTUALS.replace("250000,3", f"250000,{caseload}"))))
    assert f"row 2, column caseload: '{caseload}' must be a whole number" in text


# ---------------------------------------------------------------- 30: dates, columns, rows


def _starts(config) -> list[dt.date]:
    return [p.start_date for p in config.snapshot.placements]


def test_a_day_above_12_settles_dates_as_day_first(tmp_path):
    snapshot = SNAPSHOT.replace("2023-01-15", "03/04/2023")  # 14/03/2024 is in the file
    assert _starts(load_config(_write(tmp_path, snapshot=snapshot)))[0] == dt.date(2023, 4, 3)


def test_a_second_field_above_12_settles_dates_as_month_first(tmp_path):
    snapshot = SNAPSHOT.replace("14/03/2024", "03/14/2024").replace("2023-01-15", "04/03/2023")
    assert _starts(load_config(_write(tmp_path, snapshot=snapshot)))[:2] == [
        dt.date(2023, 4, 3), dt.date(2024, 3, 14)
    ]  # fmt: skip


def test_dates_whose_order_cannot_be_told_are_refused(tmp_path):
    snapshot = SNAPSHOT.replace("14/03/2024", "03/04/2024")
    lines = _lines(_error(_write(tmp_path, snapshot=snapshot)))
    assert lines == [
        f"{tmp_path / 'caseload.csv'}: row 3, column start_date: '03/04/2024' could be 3 April "
        "or 4 March, and no date in the file has a day above 12 to tell which: write the "
        "dates YYYY-MM-DD"
    ]


def test_dates_written_both_ways_in_one_file_are_refused(tmp_path):
    snapshot = SNAPSHOT.replace("2023-01-15", "01/15/2023")  # month-first beside 14/03/2024
    text = str(_error(_write(tmp_path, snapshot=snapshot)))
    assert "dates are written day-first (row 3, column start_date: '14/03/2024')" in text
    assert "month-first (row 2, column start_date: '01/15/2023')" in text


@pytest.mark.parametrize(
    ("start", "expected"),
    [("2023-01-15T10:00:00", "has a time of day: write the date alone"),
     ("2023-01-15 00:00:00", "has a time of day: write the date alone"),
     ("1066-10-14", "'1066-10-14' is outside the dates allowed, 1900 to 2100"),
     ("2023-1-15", "'2023-1-15' is not a date")],
)  # fmt: skip
def test_timestamps_odd_years_and_short_dates_are_refused(tmp_path, start, expected):
    text = str(_error(_write(tmp_path, snapshot=SNAPSHOT.replace("2023-01-15", start))))
    assert f"caseload.csv: row 2, column start_date: '{start}'" in text
    assert expected in text


def test_a_month_without_its_leading_zero_is_refused(tmp_path):
    text = str(_error(_write(tmp_path, actuals=ACTUALS.replace("homes,2024-04", "homes,2024-4"))))
    assert (
        "row 2, column month: '2024-4' is not a month: write the month with two digits, 2024-04"
        in text
    )


def test_a_duplicated_column_is_refused_naming_both(tmp_path):
    snapshot = SNAPSHOT.replace("planned_end_date", "Start Date")
    lines = _lines(_error(_write(tmp_path, snapshot=snapshot)))
    assert lines == [
        f"{tmp_path / 'caseload.csv'}: columns 2 and 4 are both 'start_date' ('start_date' "
        "and 'Start Date'): keep one"
    ]


def test_columns_are_matched_whatever_their_case_and_named_as_written(tmp_path):
    snapshot = SNAPSHOT.replace("start_date", "Start Date").replace("7000", "-5")
    text = str(_error(_write(tmp_path, snapshot=snapshot)))
    assert "row 2, column Start Date" not in text  # the date is fine
    assert "row 2, column weekly_cost_gbp: '-5' must be an amount in GBP, > 0" in text
    snapshot = SNAPSHOT.replace("start_date", "Start Date").replace("2023-01-15", "x")
    assert "row 2, column Start Date: 'x' is not a date" in str(
        _error(_write(tmp_path, snapshot=snapshot))
    )


def test_repeated_snapshot_placements_are_warned_of(tmp_path):
    snapshot = SNAPSHOT + "homes,14/03/2024,6000,\n"
    config = load_config(_write(tmp_path, snapshot=snapshot))
    assert len(config.snapshot.placements) == 4
    assert config.warnings == (
        # The copy also makes the snapshot disagree with the actuals' month-end caseload.
        "actuals: homes 2024-06: caseload = 3 at the month end, but the snapshot lists 4 "
        "placements open on 2024-06-30: the simulation starts from the snapshot; check which "
        "is right",
        "snapshot.placements[1], [3] (caseload.csv rows 3, 5): the same placement (homes, "
        "started 2024-03-14) is listed 2 times: if they are different placements this is "
        "right; if not, remove the copies",
    )


def test_a_blank_row_between_rows_is_refused_and_rows_keep_their_numbers(tmp_path):
    snapshot = SNAPSHOT.replace("homes,14/03/2024", "\nhomes,14/03/2024").replace(
        "-06-01", "-07-01"
    )
    lines = _lines(_error(_write(tmp_path, snapshot=snapshot)))
    assert f"{tmp_path / 'caseload.csv'}: row 3: is blank: remove the empty row" in lines
    assert any("(caseload.csv row 5): start_date 2024-07-01 is after" in x for x in lines), lines


# ---------------------------------------------------------------- 29, 33: which files are read


def test_a_file_outside_the_configs_folder_is_refused(tmp_path):
    lines = _lines(_error(_write(tmp_path, **{'"caseload.csv"': '"/etc/passwd"'})))
    assert lines == [
        f"monitor.toml: snapshot.file = '/etc/passwd': is outside the config's folder "
        f"({tmp_path.resolve()}): put the file in that folder or one inside it and name it "
        "relative to the config"
    ]
    assert "x:0:0" not in "\n".join(lines)


def test_a_path_climbing_out_or_a_link_pointing_out_is_refused(tmp_path):
    inner = tmp_path / "council"
    inner.mkdir()
    _write(tmp_path)
    path = _write(inner, **{'"caseload.csv"': '"../caseload.csv"'})
    assert "snapshot.file = '../caseload.csv': is outside the config's folder" in str(_error(path))
    (inner / "link.csv").symlink_to(tmp_path / "caseload.csv")
    path = _write(inner, **{'"caseload.csv"': '"link.csv"'})
    assert "snapshot.file = 'link.csv': is outside the config's folder" in str(_error(path))


def test_files_outside_can_be_allowed_and_are_never_echoed(tmp_path):
    inner = tmp_path / "council"
    inner.mkdir()
    (tmp_path / "shared.csv").write_text(SNAPSHOT)
    path = _write(inner, **{'"caseload.csv"': f'"{tmp_path / "shared.csv"}"'})
    assert len(load_config(path, allow_outside=True).snapshot.placements) == 3
    secret = "root:x:0:0:root:/root:/bin/bash\nsecret,line,here\n" * 40
    (tmp_path / "system").write_text(secret)
    path = _write(inner, **{'"caseload.csv"': f'"{tmp_path / "system"}"'})
    lines = _lines(_error(path, allow_outside=True))
    assert lines == [
        f"{tmp_path / 'system'}: does not look like a snapshot file: its first row names none "
        "of the columns service, start_date (is it the right file?)"
    ]


def test_a_folder_named_as_a_file_names_the_field(tmp_path):
    (tmp_path / "data").mkdir()
    lines = _lines(_error(_write(tmp_path, **{'"caseload.csv"': '"data"'})))
    assert lines == ["monitor.toml: snapshot.file = 'data': is a folder, not a CSV file"]


def test_a_missing_file_names_the_field(tmp_path):
    lines = _lines(_error(_write(tmp_path, **{'"actuals.csv"': '"nowhere.csv"'})))
    assert lines == [
        f"monitor.toml: actuals.file = 'nowhere.csv': no such file (looked for "
        f"{tmp_path / 'nowhere.csv'})"
    ]


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
def test_a_device_is_not_read(tmp_path):
    (tmp_path / "zero.csv").symlink_to("/dev/zero")
    path = _write(tmp_path, **{'"caseload.csv"': '"zero.csv"'})
    text = str(_error(path, allow_outside=True))
    assert "snapshot.file = 'zero.csv': is not a regular file" in text


# ---------------------------------------------------------------- 28/34: sizes


def test_a_case_file_too_large_is_refused_before_it_is_read(tmp_path, monkeypatch):
    from simulator.config import casefiles

    monkeypatch.setattr(casefiles, "MAX_FILE_BYTES", 100, raising=False)
    text = str(_error(_write(tmp_path)))
    assert f"{tmp_path / 'caseload.csv'}: is larger than" in text


def test_a_binary_or_foreign_file_is_one_line(tmp_path):
    (tmp_path / "caseload.csv").write_bytes(b"service,start_date\n\xff\xfe\x00\x01" * 100)
    path = _write(tmp_path)
    (tmp_path / "caseload.csv").write_bytes(b"service,start_date\n\xff\xfe\x00\x01" * 100)
    lines = _lines(_error(path))
    assert lines == [
        f"{tmp_path / 'caseload.csv'}: is not a CSV text file (it holds NUL bytes): is it the right file?"
    ]
    (tmp_path / "caseload.csv").write_bytes(b"service,start_date\nhomes,\xa32024-01-01\n")
    assert _lines(_error(path)) == [
        f"{tmp_path / 'caseload.csv'}: is not UTF-8 text: save it as 'CSV UTF-8 (comma "
        "delimited)' from Excel"
    ]


def test_a_long_run_of_bad_rows_is_listed_briefly(tmp_path):
    snapshot = SNAPSHOT + "homes,not a date,,\n" * 500
    lines = _lines(_error(_write(tmp_path, snapshot=snapshot)))
    assert len(lines) == 41, len(lines)
    assert (
        lines[-1] == f"{tmp_path / 'caseload.csv'}: and 460 more problems (the first 40 are listed)"
    )
