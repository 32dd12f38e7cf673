"""Defects found when `overspend calibrate` was tried on real council files.

One test (or a few) per defect, numbered as in the defect list; each failed
before its fix. The statistical ones (8, 10, 11) are in test_calibrate_stats.py.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from simulator.calibrate import calibrate, load_ssda903
from simulator.calibrate.records import to_day

EPISODE_HEADER = "CHILD,DECOM,RNE,LS,CIN,PLACE,PLACE_PROVIDER,DEC,REC\n"


def write_episodes(folder: Path, rows: list[str], name: str = "episodes.csv") -> Path:
    path = folder / name
    path.write_text(EPISODE_HEADER + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def messages(records, reason: str | None = None) -> list[str]:
    return [str(p) for p in records.log.problems if reason is None or p.reason == reason]


# ---------------------------------------------------------------- 6: the summary counts rows


def test_summary_counts_rows_not_problems(tmp_path):
    path = write_episodes(
        tmp_path,
        [
            "1,31/02/2020,S,C2,N1,U4,PR1,32/03/2020,E11",
            "2,99/99/2020,S,C2,N1,U4,PR1,00/01/2021,E11",
            "3,01/04/2020,S,C2,N1,U4,PR1,xx,E11",
            "4,01/04/2020,S,C2,N1,U4,PR1,,X1",
        ],
    )
    records = load_ssda903(path)
    assert len(messages(records, "unparseable date")) == 5  # every bad cell is listed
    assert "episodes.csv: unparseable date: 3 (row dropped) [bad data]" in records.log.summary()


# ---------------------------------------------------------------- 4: a year of records is a year


@pytest.mark.parametrize(
    ("first", "as_of", "warned"),
    [
        ("2022-04-01", "2023-03-31", False),  # exactly one non-leap year (365 days)
        ("2022-04-02", "2023-03-31", True),
        ("2023-04-01", "2024-03-31", False),  # exactly one leap year (366 days)
        ("2023-04-02", "2024-03-31", True),
        ("2022-07-01", "2023-06-30", False),
    ],
)
def test_less_than_a_year_warning_is_not_off_by_one(first, as_of, warned):
    from simulator.calibrate.calibration import _warnings

    day = to_day(as_of)
    warnings = _warnings(day, day + 1, {"a.csv": to_day(first)})
    assert any("less than a year of complete records" in w for w in warnings) == warned


# ---------------------------------------------------------------- 2: zero-day then open


def test_zero_day_episode_is_the_duplicate_of_an_open_one_starting_that_day(tmp_path):
    path = write_episodes(
        tmp_path,
        [
            "5,01/04/2020,S,C2,N1,U4,PR1,01/04/2020,X1",  # zero-day: legal status fixed that day
            "5,01/04/2020,L,C1,N1,K2,PR4,,X1",  # the placement, still open
        ],
    )
    records = load_ssda903(path)
    got = records.placements
    assert list(got["service"]) == ["childrens_homes"] and got["end"].isna().all()
    assert messages(records, "duplicate episode") == [
        "episodes.csv row 2, column DECOM: duplicate episode: same CHILD and DECOM as row 3; "
        "this one lasts no days (DEC = DECOM, REC X1), so row 3, which continues, is kept "
        "(row dropped)"
    ]


def test_duplicates_that_are_not_zero_day_keep_the_closed_report(tmp_path):
    # The rule for true duplicates is unchanged: the one with an end date is kept.
    path = write_episodes(
        tmp_path,
        ["6,01/04/2020,S,C2,N1,U4,PR1,,X1", "6,01/04/2020,S,C2,N1,U4,PR1,01/06/2020,E11"],
    )
    got = load_ssda903(path).placements
    assert list(got["end"].dt.strftime("%Y-%m-%d")) == ["2020-06-01"]


# ---------------------------------------------------------------- 5: unknown providers


def test_blank_or_invalid_provider_on_fostering_is_listed_with_the_rule(tmp_path):
    path = write_episodes(
        tmp_path,
        [
            "1,01/04/2020,S,C2,N1,U4,,,X1",
            "2,01/04/2020,S,C2,N1,U5,PRX,,X1",
            "3,01/04/2020,S,C2,N1,U6,PR0,,X1",  # placed with a parent: a valid code
            "4,01/04/2020,S,C2,N1,K2,,,X1",  # the provider does not decide a children's home
        ],
    )
    records = load_ssda903(path)
    assert list(records.placements["service"]) == ["other", "other", "other", "childrens_homes"]
    rule = (
        "mapped to other by the default mapping's rule services.other (PLACE A1/A2/A3/A4/A5/A6/"
        "P1/P3/R2/R3/R5/S1/T0/T1/T2/T3/T4/U4/U5/U6/Z1 with any PLACE_PROVIDER) (kept)"
    )
    assert messages(records, "provider unknown") == [
        "episodes.csv row 2, column PLACE_PROVIDER: no PLACE_PROVIDER given for PLACE 'U4', "
        f"whose service depends on it: {rule}",
        "episodes.csv row 3, column PLACE_PROVIDER: 'PRX' is not a PLACE_PROVIDER code "
        f"(PR0 to PR5) for PLACE 'U5', whose service depends on it: {rule}",
    ]
    table = records.log.to_frame()
    assert list(table.loc[table["reason"] == "provider unknown", "row"]) == [2, 3]


def test_blank_provider_with_a_mapping_file_names_that_file(tmp_path):
    mapping = tmp_path / "my_mapping.toml"
    mapping.write_text(
        "[services.foster]\nplace = ['U4']\nprovider = ['PR1']\n[services.rest]\nplace = ['*']\n",
        encoding="utf-8",
    )
    path = write_episodes(tmp_path, ["1,01/04/2020,S,C2,N1,U4,,,X1"])
    assert messages(load_ssda903(path, mapping=mapping), "provider unknown") == [
        "episodes.csv row 2, column PLACE_PROVIDER: no PLACE_PROVIDER given for PLACE 'U4', "
        "whose service depends on it: mapped to rest by the mapping my_mapping.toml's rule "
        "services.rest (any PLACE with any PLACE_PROVIDER) (kept)"
    ]


# ---------------------------------------------------------------- 1: one file per year


YEARLY = {
    "episodes_2021.csv": [  # the 2020/21 return
        "A,01/06/2020,S,C2,N1,U4,PR1,,",
        "B,01/01/2019,S,C2,N1,K2,PR4,,",
        "C,15/03/2021,S,C2,N1,U1,PR1,,",
    ],
    "episodes_2022.csv": [  # 2021/22: A ends, C and D open
        "A,01/06/2020,S,C2,N1,U4,PR1,01/09/2021,E11",
        "B,01/01/2019,S,C2,N1,K2,PR4,,",
        "C,15/03/2021,S,C2,N1,U1,PR1,,",
        "D,10/03/2022,S,C2,N1,H5,PR4,,",
    ],
    "episodes_2023.csv": [  # 2022/23: B ends; C is not in it (a stale open episode)
        "B,01/01/2019,S,C2,N1,K2,PR4,10/01/2023,E11",
        "D,10/03/2022,S,C2,N1,H5,PR4,,",
        "E,20/03/2023,S,C2,N1,U4,PR4,,",
    ],
}


@pytest.fixture
def yearly(tmp_path) -> Path:
    folder = tmp_path / "returns"
    folder.mkdir()
    for name, rows in YEARLY.items():
        write_episodes(folder, rows, name)
    return folder


def placement_table(records) -> list[tuple]:
    got = records.placements.sort_values("client")
    return [
        (r.client, r.service, f"{r.start:%Y-%m-%d}", "" if pd.isna(r.end) else f"{r.end:%Y-%m-%d}")
        for r in got.itertuples()
    ]


STITCHED = [
    ("A", "in_house_fostering", "2020-06-01", "2021-09-01"),  # one placement, the later end
    ("B", "childrens_homes", "2019-01-01", "2023-01-10"),
    ("C", "family_and_friends", "2021-03-15", ""),
    ("D", "supported_accommodation", "2022-03-10", ""),
    ("E", "ifa_fostering", "2023-03-20", ""),
]


def test_yearly_files_are_stitched_into_one_history(yearly):
    files = [yearly / name for name in YEARLY]
    records = load_ssda903(files)
    assert placement_table(records) == STITCHED
    assert records.sources == list(YEARLY)
    # Given in any order, the returns are ordered by their collection years.
    assert placement_table(load_ssda903(files[::-1])) == STITCHED
    # And a folder of them is the same.
    assert placement_table(load_ssda903(yearly)) == STITCHED
    stitched = messages(records, "episode in two returns")
    assert stitched == [
        "episodes_2021.csv row 2, column DEC: the episode continues in the later 2021/22 return "
        "(episodes_2022.csv), episodes_2022.csv row 2 (same CHILD and DECOM): one episode, with "
        "that return's end (01/09/2021) (stitched)",
        "episodes_2021.csv row 3, column DEC: the episode continues in the later 2022/23 return "
        "(episodes_2023.csv), episodes_2023.csv row 2 (same CHILD and DECOM): one episode, with "
        "that return's end (10/01/2023) (stitched)",
        "episodes_2022.csv row 3, column DEC: the episode continues in the later 2022/23 return "
        "(episodes_2023.csv), episodes_2023.csv row 2 (same CHILD and DECOM): one episode, with "
        "that return's end (10/01/2023) (stitched)",
        "episodes_2021.csv row 4, column DEC: the episode continues in the later 2021/22 return "
        "(episodes_2022.csv), episodes_2022.csv row 4 (same CHILD and DECOM): one episode, with "
        "that return's end (still open) (stitched)",
        "episodes_2022.csv row 5, column DEC: the episode continues in the later 2022/23 return "
        "(episodes_2023.csv), episodes_2023.csv row 3 (same CHILD and DECOM): one episode, with "
        "that return's end (still open) (stitched)",
    ]
    summary = records.log.summary()
    assert "episodes_2021.csv: episode in two returns: 3 (stitched) [cleaning]" in summary
    assert "episodes_2022.csv: episode in two returns: 2 (stitched) [cleaning]" in summary
    assert (
        "3 returns stitched: 2020/21 return (episodes_2021.csv), 2021/22 return "
        "(episodes_2022.csv), 2022/23 return (episodes_2023.csv); 5 episodes in more than one "
        "return joined (the later return's end date kept)" in summary
    )


def test_a_folder_may_hold_header_tables_and_other_files(yearly):
    (yearly / "header_2023.csv").write_text("CHILD,SEX,DOB\nA,1,2008-01-01\n", encoding="utf-8")
    (yearly / "uasc.csv").write_text("CHILD,DUC\nA,2020-01-01\n", encoding="utf-8")
    records = load_ssda903(yearly)
    assert placement_table(records) == STITCHED
    assert list(records.ages["client"]) == ["A"]
    assert "returns/uasc.csv: neither an episodes nor a header table" in "\n".join(
        records.log.notes
    )


def test_files_of_the_same_name_in_yearly_folders_are_told_apart(tmp_path):
    files = []
    for name, rows in YEARLY.items():
        folder = tmp_path / name[9:13]
        folder.mkdir()
        files.append(write_episodes(folder, rows))
    records = load_ssda903(files)
    assert placement_table(records) == STITCHED
    assert records.sources == ["2021/episodes.csv", "2022/episodes.csv", "2023/episodes.csv"]
    assert messages(records, "episode in two returns")[0].startswith(
        "2021/episodes.csv row 2, column DEC: the episode continues in the later 2021/22 return "
        "(2022/episodes.csv), 2022/episodes.csv row 2"
    )


def test_cli_takes_repeated_episodes_and_reports_the_stitching(yearly, tmp_path, capsys):
    from simulator.cli.app import main

    out = tmp_path / "out"
    args = ["calibrate", "--out", str(out), "--no-plots", "--council", "Stitch Test"]
    for name in YEARLY:
        args += ["--episodes", str(yearly / name)]
    # Too few placements end to fit every service; the point is what is read and reported.
    main(args)
    printed = capsys.readouterr()
    text = printed.out + printed.err
    assert "episodes_2021.csv: episode in two returns: 3 (stitched) [cleaning]" in text
    assert "3 returns stitched" in text
    table = pd.read_csv(out / "problems.csv")
    assert (table["reason"] == "episode in two returns").sum() == 5


# ---------------------------------------------------------------- 3: the default as-of date


def packages_with(tmp_path: Path, extra: list[str], as_of: str = "2024-03-31") -> Path:
    from simulator.calibrate.synthetic import simulate_records
    from simulator.config.load import config_from_dict

    truth = config_from_dict(
        {
            "council": {"name": "As Of"},
            "horizon": {"start": "2024/25", "years": 1},
            "services": {
                "home_care": {
                    "budget_gbp": 0,
                    "arrivals": {"per_year": 200},
                    "length": {"dist": "exponential", "mean_weeks": 30},
                    "unit_cost": {"mean_gbp_per_week": 300, "cv": 0.2},
                }
            },
        }
    )
    table = simulate_records(truth, "2021-04-01", as_of, seed=5)
    path = tmp_path / "packages.csv"
    text = table.to_csv(index=False) + "".join(f"{row}\n" for row in extra)
    path.write_text(text, encoding="utf-8")
    return path


def test_a_stray_first_of_april_does_not_move_the_as_of_date(tmp_path):
    from simulator.calibrate import load_packages

    path = packages_with(tmp_path, ["Z1,home_care,2024-04-01,,300"])
    cal = calibrate(load_packages(path))
    assert cal.as_of == to_day("2024-03-31") and cal.horizon_start == "2024/25"
    assert cal.ignored_after == 1
    assert cal.as_of_reason == (
        "the end of the last complete collection year, 2023/24 (the default); 1 later date in "
        "the records, up to 2024-04-01, is after it: later starts are ignored and later ends "
        "treated as still open (--as-of to choose another date)"
    )
    assert not any("days before the horizon starts" in w for w in cal.warnings)


def test_a_part_year_extract_is_taken_to_the_last_31_march(tmp_path):
    from simulator.calibrate import load_packages

    cal = calibrate(load_packages(packages_with(tmp_path, [], as_of="2024-06-15")))
    assert cal.as_of == to_day("2024-03-31")
    assert "the end of the last complete collection year, 2023/24" in cal.as_of_reason


def test_a_given_as_of_date_is_used_and_said_to_be_given(tmp_path):
    from simulator.calibrate import load_packages

    cal = calibrate(load_packages(packages_with(tmp_path, [])), as_of="2023-12-31")
    assert cal.as_of == to_day("2023-12-31") and cal.as_of_reason == "given (--as-of)"


def test_the_as_of_date_and_why_are_printed_and_in_the_config(tmp_path, capsys):
    from simulator.cli.app import main

    path = packages_with(tmp_path, ["Z1,home_care,2024-04-01,,300"])
    out = tmp_path / "out"
    assert main(["calibrate", "--packages", str(path), "--out", str(out), "--no-plots"]) == 0
    printed = capsys.readouterr().out
    assert "as of 2024-03-31." in printed
    assert "The as-of date is the end of the last complete collection year, 2023/24" in printed
    text = (out / "calibrated_council_2024-03-31.toml").read_text(encoding="utf-8")
    assert "# The as-of date is the end of the last complete collection year, 2023/24" in text


# ---------------------------------------------------------------- 9: stale open episodes


def test_stale_open_episodes_are_flagged(yearly):
    records = load_ssda903(yearly)
    assert messages(records, "stale open episode") == [
        "episodes_2022.csv row 4, column DEC: still open at the end of the child's last return "
        "(2022-03-31), but the child is in no later return (the latest is the 2022/23 return "
        "(episodes_2023.csv)): a stale open episode whose end was not recorded (flagged stale)"
    ]
    seen = records.placements.set_index("client")["last_seen"]
    assert seen["C"] == pd.Timestamp("2022-03-31") and seen.drop("C").isna().all()


def test_stale_open_episodes_leave_the_caseload_by_default(yearly):
    from simulator.calibrate.calibration import open_mask, stale_mask

    placements = load_ssda903(yearly).placements
    as_of = to_day("2023-03-31")
    assert list(placements.loc[stale_mask(placements, as_of), "client"]) == ["C"]
    assert sorted(placements.loc[open_mask(placements, as_of), "client"]) == ["D", "E"]
    assert sorted(placements.loc[open_mask(placements, as_of, True), "client"]) == ["C", "D", "E"]
    # As of a date inside C's last return, C was still open: not stale then.
    assert not stale_mask(placements, to_day("2022-03-30")).any()


@pytest.fixture(scope="module")
def stale_history(tmp_path_factory):
    """Six yearly returns of a synthetic council in which 5% of exits were never recorded."""
    from simulator.calibrate.synthetic import returns_from_history, simulate_episodes
    from simulator.config.load import config_from_dict

    truth = config_from_dict(
        {
            "council": {"name": "Stale"},
            "horizon": {"start": "2024/25", "years": 1},
            "services": {
                "childrens_homes": {
                    "budget_gbp": 0,
                    "arrivals": {"per_year": 150},
                    "length": {"dist": "lognormal", "median_weeks": 50, "sigma": 1.0},
                    "unit_cost": {"mean_gbp_per_week": 5000, "cv": 0.2},
                }
            },
        }
    )
    history = simulate_episodes(truth, "2024-03-31", seed=3, history_years=30)
    folder = tmp_path_factory.mktemp("stale")
    for year, table in returns_from_history(history, 2019, 2024, 3, missed_exits=0.05).items():
        table.to_csv(folder / f"episodes_{year}.csv", index=False)
    as_of = to_day("2024-03-31")
    truly_open = int(((history["first"] <= as_of) & (history["DEC"] > as_of)).groupby(
        history["placement"]).any().sum())  # fmt: skip
    return folder, truly_open


def test_without_stale_episodes_the_caseload_is_the_true_one(stale_history):
    folder, truly_open = stale_history
    records = load_ssda903(folder)
    cal = calibrate(records)
    svc = cal.services[0]
    assert svc.stale > 0
    assert len(svc.caseload_start) == truly_open
    assert (
        f"{svc.stale} stale open placements (still open in an earlier return, but the child is "
        "in no later return; problems.csv lists them): left out of the starting caseload"
    ) in cal.warnings[-1]
    kept = calibrate(records, keep_stale=True)
    assert len(kept.services[0].caseload_start) == truly_open + svc.stale
    assert "kept in the starting caseload as still open (--keep-stale)" in kept.warnings[-1]


@pytest.mark.slow
def test_the_command_leaves_stale_episodes_out_unless_told(stale_history, tmp_path, capsys):
    from simulator.cli.app import main

    folder, truly_open = stale_history
    stale = calibrate(load_ssda903(folder)).services[0].stale
    out = tmp_path / "out"
    assert main(["calibrate", "--episodes", str(folder), "--out", str(out), "--no-plots"]) == 0
    assert f"warning: {stale} stale open placements" in capsys.readouterr().out
    assert len(pd.read_csv(out / "caseload.csv")) == truly_open
    assert (
        main(["calibrate", "--episodes", str(folder), "--out", str(out), "--no-plots",
              "--force", "--keep-stale"]) == 0
    )  # fmt: skip
    assert len(pd.read_csv(out / "caseload.csv")) == truly_open + stale


# ---------------------------------------------------------------- 15: the config's name


def test_config_is_named_after_the_council_and_the_as_of_date():
    from simulator.calibrate.output import MAX_NAME, council_slug

    assert council_slug("Bromley (calibrated)") == "bromley_calibrated"
    assert council_slug("Bournemouth, Christchurch and Poole") == (
        "bournemouth_christchurch_and_poole"
    )
    assert council_slug("Ynys Môn / Isle of Anglesey") == "ynys_mon_isle_of_anglesey"
    assert council_slug("../../etc") == "etc" and council_slug("***") == "council"
    assert council_slug("CON") == "con_council"  # a device name on Windows
    long_a = "The Royal Borough of Kensington and Chelsea Children's Services North"
    long_b = "The Royal Borough of Kensington and Chelsea Children's Services South"
    a, b = council_slug(long_a), council_slug(long_b)
    assert a != b and len(a) <= MAX_NAME and len(b) <= MAX_NAME
    assert a.startswith("the_royal_borough_of_kensington_")


def test_two_councils_calibrated_get_two_configs(tmp_path):
    from simulator.calibrate import load_packages
    from simulator.calibrate.output import config_name

    records = load_packages(packages_with(tmp_path, []))
    names = {config_name(calibrate(records, council=c)) for c in ("Leeds", "York")}
    assert names == {"leeds_2024-03-31.toml", "york_2024-03-31.toml"}


# ---------------------------------------------------------------- 7: growth within its range


def test_normal_param_never_sits_outside_its_range():
    from simulator.calibrate.writer import clip_note, normal_param

    assert normal_param(27.5, 0.4, -0.9, 2.0) == {
        "dist": "normal",
        "mean": 2.0,
        "sd": 0.4,
        "high": 2.0,
    }
    assert normal_param(-3.0, 0.1, -0.9, 2.0)["mean"] == -0.9
    assert normal_param(0.05, 0.01, -0.9, 2.0) == {"dist": "normal", "mean": 0.05, "sd": 0.01}
    assert clip_note(0.05, -0.9, 2.0) == []
    assert (
        "WARNING: the estimate 27.5 is outside the range a config allows (-0.9 to 2)"
        in (clip_note(27.5, -0.9, 2.0)[0])
    )


def test_a_wild_fitted_trend_is_written_clipped_with_a_warning(tmp_path):
    import tomllib

    from simulator.calibrate import load_packages, to_toml

    # 25 months of records (two years are needed for a trend) in which starts double every
    # three months: a trend far beyond +200% a year (+1,500%).
    rows = ["client_id,service,start_date,end_date,weekly_cost"]
    n = 0
    for month in range(25):
        day = (np.datetime64("2022-03", "M") + month).astype("datetime64[D]")
        for i in range(2 ** (month // 3)):
            start = day + (i % 27)
            end = start + 20 if i % 2 else ""
            rows.append(f"C{n},Respite,{start},{end},500")
            n += 1
    path = tmp_path / "packages.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    cal = calibrate(load_packages(path), as_of="2024-03-31", since="2022-03-01")
    fit = cal.services[0].arrivals
    assert fit.trend and fit.growth > 2.0
    assert any("outside the range a config allows" in w for w in cal.services[0].warnings)
    text = to_toml(cal, budget_draws=20)
    growth = tomllib.loads(text)["services"]["respite"]["arrivals"]["growth"]
    assert growth["mean"] == 2.0 and growth["high"] == 2.0
    assert "# WARNING: the estimate" in text


# ---------------------------------------------------------------- messages name columns as written


def test_messages_name_columns_as_the_file_writes_them(tmp_path):
    from simulator.calibrate import load_packages

    path = tmp_path / "episodes.csv"
    path.write_text(
        "Child,Decom,Rne,Place,Place_Provider,Dec,Rec\n"
        "1,31/02/2020,S,U4,PR1,,\n"
        "2,01/04/2020,S,U4,,,\n",
        encoding="utf-8",
    )
    assert [(p.row, p.column) for p in load_ssda903(path).log.problems] == [
        (2, "Decom"),
        (3, "Place_Provider"),
    ]
    packages = tmp_path / "packages.csv"
    packages.write_text(
        "Client_ID,Service,Start_Date,End_Date,Weekly_Cost\nA1,Home care,2021-13-01,,300\n",
        encoding="utf-8",
    )
    assert str(load_packages(packages).log.problems[0]).startswith(
        "packages.csv row 2, column Start_Date: '2021-13-01' is not a date"
    )
