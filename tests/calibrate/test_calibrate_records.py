"""Loading and cleaning records for calibration: SSDA903 episodes, packages lists, mapping.

Bad rows must give the documented messages (docs/calibrate.md), naming the file,
the row (as a spreadsheet numbers it: the header is row 1) and the column; one
bad row never stops a load unless strict mode is on.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from simulator.calibrate import (
    DataError,
    caseload_snapshot,
    load_mapping,
    load_packages,
    load_ssda903,
    write_caseload_snapshot,
)
from simulator.calibrate.mapping import DEFAULT_MAPPING_TOML, loads_mapping
from simulator.calibrate.records import parse_dates, service_key
from simulator.config.casefiles import read_snapshot

DATA = Path(__file__).parents[1] / "data"
BAD_EPISODES = DATA / "bad_episodes.csv"
BAD_PACKAGES = DATA / "bad_packages.csv"
EPISODE_HEADER = "CHILD,DECOM,RNE,LS,CIN,PLACE,PLACE_PROVIDER,DEC,REC\n"


def messages(records, kind=None) -> list[str]:
    return [str(p) for p in records.log.problems if kind is None or p.kind == kind]


def write_episodes(tmp_path: Path, rows: list[str], name: str = "episodes.csv") -> Path:
    path = tmp_path / name
    path.write_text(EPISODE_HEADER + "\n".join(rows) + "\n", encoding="utf-8")
    return path


# ---------------------------------------------------------------- dates


def test_dates_in_both_layouts_and_bad_ones_flagged():
    text = pd.Series(
        [
            "09/04/2017",
            "9/4/2017",
            "2017-04-09",
            "2017-04-09 00:00:00",
            "",
            "31/02/2020",
            "1/13/2020",
            "17/04/09",
            "1850-01-01",
        ]
    )
    dates, bad = parse_dates(text)
    assert list(dates[:4].dt.strftime("%Y-%m-%d")) == ["2017-04-09"] * 4
    assert dates[4:].isna().all()
    assert list(bad) == [False] * 5 + [True] * 4


def test_service_keys_from_free_text():
    assert service_key("Home care (external)") == "home_care_external"
    assert service_key("  Residential Care ") == "residential_care"
    assert service_key("24hr support") == "s_24hr_support"
    assert service_key("Total") == "service_total"


# ---------------------------------------------------------------- SSDA903 bad rows


@pytest.fixture(scope="module")
def bad_episodes():
    return load_ssda903(BAD_EPISODES)


def test_bad_episode_rows_give_the_documented_messages(bad_episodes):
    errors = messages(bad_episodes, "error")
    assert errors == [
        "bad_episodes.csv row 7, column CHILD: no CHILD given (row dropped)",
        "bad_episodes.csv row 8, column DECOM: no DECOM given (row dropped)",
        "bad_episodes.csv row 5, column DECOM: '31/02/2020' is not a date "
        "(write DD/MM/YYYY or YYYY-MM-DD, years 1900-2100) (row dropped)",
        "bad_episodes.csv row 13, column DEC: '32/07/2020' is not a date "
        "(write DD/MM/YYYY or YYYY-MM-DD, years 1900-2100) (row dropped)",
        "bad_episodes.csv row 4, column DEC: ends on 2020-03-01 before it starts "
        "(DECOM 2020-05-01) (row dropped)",
        "bad_episodes.csv row 6, column PLACE: unknown placement code 'Q9' "
        "(not in the default mapping) (row dropped)",
    ]


def test_cleaning_steps_are_reported(bad_episodes):
    fixes = messages(bad_episodes, "fix")
    assert (
        "bad_episodes.csv row 9, column DECOM: duplicate episode: same CHILD and DECOM as "
        "row 10, which is kept as the latest report (row dropped)" in fixes
    )
    assert (
        "bad_episodes.csv row 10, column DEC: ends 01/09/2020, after the child's next episode "
        "(row 11) starts 2020-08-01: ended 2020-08-01 (end date changed)" in fixes
    )
    assert (
        "bad_episodes.csv row 3, column RNE: continues the placement that starts at row 2 "
        "(RNE 'L': change of legal status only) (joined)" in fixes
    )
    assert (
        "bad_episodes.csv row 15, column RNE: continues the placement that starts at row 14 "
        "(same PLACE, PLACE_PROVIDER, URN and postcode) (joined)" in fixes
    )
    summary = "\n".join(bad_episodes.log.summary())
    assert "bad_episodes.csv: unparseable date: 2 (row dropped) [bad data]" in summary
    assert "bad_episodes.csv: duplicate episode: 1 (row dropped) [cleaning]" in summary


def test_cleaned_placements(bad_episodes):
    got = bad_episodes.placements.sort_values(["client", "start"])
    table = [
        (r.client, r.service, f"{r.start:%Y-%m-%d}", "" if pd.isna(r.end) else f"{r.end:%Y-%m-%d}")
        for r in got.itertuples()
    ]
    assert table == [
        ("1001", "in_house_fostering", "2020-04-01", ""),  # joined over the legal-status change
        ("1006", "ifa_fostering", "2020-06-01", "2020-08-01"),  # truncated at the next start
        ("1006", "childrens_homes", "2020-08-01", ""),
        ("1007", "other", "2020-07-01", ""),  # U4 with a parent as provider
        ("1009", "family_and_friends", "2020-07-01", ""),  # same carer by URN and postcode
    ]
    assert list(got["row"]) == [2, 10, 11, 12, 14]


def test_strict_mode_stops_with_every_bad_row():
    with pytest.raises(DataError) as err:
        load_ssda903(BAD_EPISODES, strict=True)
    text = str(err.value)
    assert text.startswith("bad_episodes.csv: 6 bad rows (strict mode stops at bad data")
    assert "bad_episodes.csv row 6, column PLACE: unknown placement code 'Q9'" in text


def test_missing_column_is_an_error(tmp_path):
    path = tmp_path / "episodes.csv"
    path.write_text("CHILD,DECOM,PLACE\n1,01/04/2020,U4\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"episodes.csv: no column RNE, PLACE_PROVIDER, DEC, REC"):
        load_ssda903(path)


def test_missing_file_is_an_error(tmp_path):
    with pytest.raises(DataError, match="no such file"):
        load_ssda903(tmp_path / "nope.csv")


def test_one_bad_row_never_stops_a_50000_row_file(tmp_path):
    n = 50_000
    rng = np.random.default_rng(1)
    start = np.datetime64("2015-04-01") + rng.integers(0, 3000, n)
    end = start + rng.integers(1, 400, n)
    places = np.array(["U4", "U5", "K2", "H5", "U1"])[rng.integers(0, 5, n)]
    table = pd.DataFrame(
        {
            "CHILD": np.arange(n).astype(str),
            "DECOM": pd.to_datetime(start).strftime("%d/%m/%Y"),
            "RNE": "S",
            "PLACE": places,
            "PLACE_PROVIDER": "PR1",
            "DEC": pd.to_datetime(end).strftime("%d/%m/%Y"),
            "REC": "E11",
        }
    )
    table.loc[[100, 20_000, 49_999], ["DECOM", "PLACE", "DEC"]] = [
        ["not a date", "U4", "01/01/2020"],
        ["01/01/2020", "ZZ", "01/02/2020"],
        ["01/01/2020", "U4", "01/01/2019"],
    ]
    path = tmp_path / "big.csv"
    table.to_csv(path, index=False)
    records = load_ssda903(path)
    assert len(records.placements) == n - 3
    assert [(p.row, p.column, p.reason) for p in records.log.errors()] == [
        (102, "DECOM", "unparseable date"),
        (50_001, "DEC", "end before start"),
        (20_002, "PLACE", "unknown placement code"),
    ]


def test_la_column_keys_children_and_selects_a_council(tmp_path):
    path = tmp_path / "pooled.csv"
    path.write_text(
        "CHILD,DECOM,RNE,PLACE,PLACE_PROVIDER,DEC,REC,LA\n"
        "1,01/04/2020,S,U4,PR1,,X1,North\n"
        "1,01/05/2020,S,K2,PR4,,X1,South\n",
        encoding="utf-8",
    )
    pooled = load_ssda903(path)
    assert len(pooled.placements) == 2  # the same CHILD in two councils: no overlap
    assert "records of 2 councils (North, South)" in "\n".join(pooled.log.notes)
    south = load_ssda903(path, la="south")
    assert list(south.placements["service"]) == ["childrens_homes"]
    with pytest.raises(DataError, match=r"no rows with LA 'East' \(found: North, South\)"):
        load_ssda903(path, la="East")


def test_header_checks_births(tmp_path):
    episodes = write_episodes(tmp_path, ["7,01/04/2010,S,C2,N1,U4,PR1,,X1"])
    header = tmp_path / "header.csv"
    header.write_text("CHILD,SEX,DOB\n7,1,2012-01-01\n8,2,not known\n", encoding="utf-8")
    records = load_ssda903(episodes, header=header)
    text = messages(records)
    assert "header.csv row 3, column DOB: 'not known' is not a date" in text[0]
    assert text[1] == (
        "episodes.csv row 2, column DECOM: starts before the child's date of birth "
        "2012-01-01 (header.csv row 2) (kept)"
    )


# ---------------------------------------------------------------- mapping


def test_default_mapping_services_in_order():
    mapping = load_mapping(None)
    assert [r.key for r in mapping.rules] == [
        "in_house_fostering",
        "ifa_fostering",
        "family_and_friends",
        "childrens_homes",
        "supported_accommodation",
        "other",
    ]
    assert mapping.service_of("U5", "PR2").key == "in_house_fostering"
    assert mapping.service_of("U5", "PR5").key == "ifa_fostering"
    assert mapping.service_of("U5", "PR3").key == "other"
    assert mapping.service_of("K1", "PR4").key == "childrens_homes"
    assert mapping.service_of("Q9", "PR4") is None


def test_mapping_file_overrides_and_excludes():
    records = load_ssda903(
        DATA / "ssda903_bromley" / "episodes.csv", mapping=DATA / "mapping_example.toml"
    )
    assert set(records.services) == {"fostering_in_house", "everything_else"}
    assert records.services["fostering_in_house"].department == "Children and Family Services"
    assert records.services["everything_else"].default_cost["mean_gbp_per_week"] == 2500
    assert "in excluded services (placed_for_adoption) left out" in "\n".join(records.log.notes)


def test_code_pair_not_in_a_mapping_file(tmp_path):
    mapping = tmp_path / "my_mapping.toml"
    mapping.write_text("[services.foster]\nplace = ['U4']\nprovider = ['PR1']\n", encoding="utf-8")
    episodes = write_episodes(tmp_path, ["1,01/04/2020,S,C2,N1,U4,PR9,,X1"])
    assert messages(load_ssda903(episodes, mapping=mapping)) == [
        "episodes.csv row 2, column PLACE_PROVIDER: placement code PLACE 'U4' with "
        "PLACE_PROVIDER 'PR9' is not in the mapping my_mapping.toml (row dropped)"
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[services.x]\nlabel = 'X'\n", "default: services.x.place: is required"),
        ("[services.x]\nplace = ['U4']\ncolour = 'red'\n", "services.x.colour: unknown field"),
        ("[services.X]\nplace = ['U4']\n", "a service name must be lower_case_with_underscores"),
        ("[services.x]\nplace = 4\n", "services.x.place = 4: must be a list of codes"),
        ("services = 3\n", "needs at least one [services.<name>] table"),
        ("[services.x\n", "not valid TOML"),
    ],
)
def test_bad_mapping_files(text, message):
    with pytest.raises(DataError) as err:
        loads_mapping(text, "default")
    assert message in str(err.value)


def test_default_mapping_text_is_its_own_documentation():
    assert loads_mapping(DEFAULT_MAPPING_TOML).rules == load_mapping(None).rules


# ---------------------------------------------------------------- packages


def test_bad_package_rows_give_the_documented_messages():
    records = load_packages(BAD_PACKAGES)
    assert messages(records, "error") == [
        "bad_packages.csv row 5, column service: no service given (row dropped)",
        "bad_packages.csv row 8, column start_date: '2021-13-01' is not a date "
        "(write DD/MM/YYYY or YYYY-MM-DD, years 1900-2100) (row dropped)",
        "bad_packages.csv row 3, column end_date: ends on 2021-04-01 before it starts "
        "(start_date 2021-05-01) (row dropped)",
        "bad_packages.csv row 4, column weekly_cost: 'abc' is not a weekly cost (a positive "
        "amount in GBP, at most 1,000,000) (cost treated as unknown)",
    ]
    assert messages(records, "fix") == [
        "bad_packages.csv row 7: duplicate package: same client, service and dates as row 6 "
        "(row dropped)"
    ]
    p = records.placements
    assert list(p["client"]) == ["A1", "A3", "A5"]
    assert list(p["service"]) == ["home_care", "home_care", "residential_care"]
    np.testing.assert_array_equal(p["weekly_cost"], [328.5, np.nan, 1020.0])
    assert records.services["residential_care"].label == "Residential care"
    assert records.services["home_care"].department == "Adults' services"


def test_packages_strict_mode(tmp_path):
    with pytest.raises(DataError, match=r"bad_packages\.csv: 4 bad rows"):
        load_packages(BAD_PACKAGES, strict=True)


def test_records_from_two_files_must_not_share_a_service(tmp_path):
    a = load_packages(BAD_PACKAGES)
    with pytest.raises(DataError, match="service 'home_care' comes from both"):
        a + load_packages(BAD_PACKAGES)


# ---------------------------------------------------------------- caseload snapshot


def test_snapshot_lists_open_placements_and_reads_back(tmp_path):
    records = load_packages(BAD_PACKAGES)
    table = caseload_snapshot(records, "2021-04-30")
    assert list(table["service"]) == ["home_care"]  # A3 and A5 start in May
    path = tmp_path / "caseload.csv"
    assert write_caseload_snapshot(records, "2021-06-30", path) == 3
    assert path.read_text().splitlines() == [
        "service,start_date,weekly_cost_gbp,planned_end_date",
        "home_care,2021-04-01,328.50,",
        "home_care,2021-05-01,,",
        "residential_care,2021-05-01,1020.00,",
    ]
    rows, problems = read_snapshot(path)
    assert problems == []
    assert [r.get("weekly_cost_gbp") for r in rows] == [328.5, None, 1020.0]


def test_snapshot_excludes_placements_ended_by_the_date(bad_episodes):
    open_on_31_aug = caseload_snapshot(bad_episodes, "2020-08-31")
    assert "ifa_fostering" not in set(open_on_31_aug["service"])  # ended 1 August
    assert len(caseload_snapshot(bad_episodes, "2020-07-31")) == 4


def test_snapshot_gets_the_users_usual_permissions(tmp_path):
    # Not private like a bare temporary file: colleagues on a shared drive read it.
    old = os.umask(0o022)
    try:
        path = tmp_path / "caseload.csv"
        write_caseload_snapshot(load_packages(BAD_PACKAGES), "2021-06-30", path)
        assert stat.S_IMODE(path.stat().st_mode) == 0o644
        os.umask(0o077)
        write_caseload_snapshot(load_packages(BAD_PACKAGES), "2021-06-30", path)
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    finally:
        os.umask(old)
    assert [p.name for p in tmp_path.iterdir() if p.name != ".overspend"] == ["caseload.csv"]
