"""Moves between services fitted from SSDA903 episodes (issue 12, item 4).

A placement ending REC X1 followed the same day by a change of placement (RNE P
or B) in another service is a move: it is counted in the source's move rate,
censors the source's length and is left out of the destination's arrivals.
Tolerances are Z of the fit's own standard errors; over many synthetic data sets
the standardised errors must have mean 0 and sd 1 within their sampling error
(1 / sqrt(n) for the mean, 1 / sqrt(2 (n - 1)) for the sd).
"""

from __future__ import annotations

import math
import tomllib

import numpy as np
import pytest

from simulator.calibrate import calibrate, load_ssda903, to_toml
from simulator.calibrate.moves import MIN_MOVES, MoveFit, choose_moves, exposure_years
from simulator.calibrate.synthetic import returns_from_history, simulate_episodes
from simulator.config.load import config_from_dict, loads_config
from tests.helpers import placement_service

Z = 4.0
HEADER = "CHILD,DECOM,RNE,PLACE,PLACE_PROVIDER,DEC,REC\n"
# Foster placements (IFA) step up to children's homes at this rate per year.
STEP_UP = 0.15
IFA_LENGTH = {"dist": "exponential", "mean_weeks": 100.0}
HOMES_LENGTH = {"dist": "lognormal", "median_weeks": 40.0, "sigma": 0.8}


def truth():
    services = {
        "ifa_fostering": placement_service(
            arrivals={"per_year": 150.0}, length=IFA_LENGTH, unit_cost={"mean_gbp_per_week": 820}
        ),
        "childrens_homes": placement_service(
            arrivals={"per_year": 40.0}, length=HOMES_LENGTH, unit_cost={"mean_gbp_per_week": 5600}
        ),
    }
    return config_from_dict(
        {"council": {"name": "Synthetic"}, "horizon": {"start": "2024/25", "years": 1},
         "services": services},
        "truth",
    )  # fmt: skip


def calibrated(folder, seed: int, **kwargs):
    """Five yearly returns of a history with step-ups, calibrated as of 31 March 2024."""
    history = simulate_episodes(
        truth(), "2024-03-31", seed, history_years=25,
        moves={"ifa_fostering": {"childrens_homes": STEP_UP}}, **kwargs,
    )  # fmt: skip
    folder.mkdir(parents=True, exist_ok=True)
    for year, table in returns_from_history(history, 2020, 2024).items():
        table.to_csv(folder / f"episodes_{year}.csv", index=False)
    return calibrate(load_ssda903(folder), as_of="2024-03-31")


def by_key(cal):
    return {svc.key: svc for svc in cal.services}


# ---------------------------------------------------------------- which follow-ons are moves


def load(tmp_path, rows: str):
    path = tmp_path / "episodes.csv"
    path.write_text(HEADER + rows)
    return load_ssda903(path).placements


def test_x1_then_a_change_of_placement_in_another_service_is_a_move(tmp_path):
    p = load(
        tmp_path,
        "A,2020-01-01,S,U4,PR4,2020-06-01,X1\n"
        "A,2020-06-01,P,K2,PR4,2021-01-01,X1\n"
        "A,2021-01-01,B,H5,PR4,,\n",
    )
    assert p["service"].tolist() == ["ifa_fostering", "childrens_homes", "supported_accommodation"]
    assert p["moved_from"].tolist() == ["", "ifa_fostering", "childrens_homes"]
    assert p["moved_to"].tolist() == ["childrens_homes", "supported_accommodation", ""]


@pytest.mark.parametrize(
    "second, why",
    [
        ("A,2020-06-01,T,K2,PR4,,", "same carer (T)"),
        ("A,2020-06-01,L,K2,PR4,,", "legal status only (L)"),
        ("A,2020-06-01,U,K2,PR4,,", "same carer (U)"),
        ("A,2020-06-01,S,K2,PR4,,", "a new period of care (S)"),
        ("A,2020-06-15,P,K2,PR4,,", "a gap in care"),
        ("A,2020-06-01,P,U5,PR5,,", "the same service"),
    ],
)
def test_other_follow_ons_are_arrivals(tmp_path, second, why):
    p = load(tmp_path, f"A,2020-01-01,S,U4,PR4,2020-06-01,X1\n{second}\n")
    assert p["moved_from"].tolist() == ["", ""], why
    assert p["moved_to"].tolist() == ["", ""], why


def test_an_episode_that_left_care_is_not_followed_by_a_move(tmp_path):
    p = load(
        tmp_path, "A,2020-01-01,S,U4,PR4,2020-06-01,E13\nA,2020-06-01,P,K2,PR4,,\n"
    )  # fmt: skip
    assert p["moved_from"].tolist() == ["", ""]


def test_moves_into_an_excluded_service_are_ends(tmp_path):
    mapping = tmp_path / "mapping.toml"
    mapping.write_text(
        '[services.adoption]\nplace = ["A3"]\nexclude = true\n'
        '[services.fostering]\nplace = ["*"]\nunit_cost = { mean_gbp_per_week = 500 }\n'
    )
    path = tmp_path / "episodes.csv"
    path.write_text(HEADER + "A,2020-01-01,S,U4,PR4,2020-06-01,X1\nA,2020-06-01,P,A3,PR1,,\n")
    p = load_ssda903(path, mapping=mapping).placements
    assert p["service"].tolist() == ["fostering"] and p["moved_to"].tolist() == [""]


# ---------------------------------------------------------------- choosing the pairs


def fit(source, dest, moves):
    return MoveFit(source, dest, moves, 100.0, 0, 365)


def test_pairs_with_few_moves_or_closing_a_circle_are_not_written():
    chosen = choose_moves(
        [fit("a", "b", 50), fit("b", "c", 30), fit("c", "a", 20), fit("b", "a", 12),
         fit("a", "c", MIN_MOVES), fit("c", "b", MIN_MOVES - 1)]
    )  # fmt: skip
    assert [m.modelled for m in chosen] == [True, True, False, False, True, False]
    assert "circle" in chosen[2].why and "circle" in chosen[3].why
    assert f"under {MIN_MOVES}" in chosen[5].why


def test_exposure_counts_open_time_inside_the_period_only():
    start = np.array([0.0, 50.0, 200.0])
    stop = np.array([100.0, 400.0, 250.0])
    # Period days 60 to 299: 40 + 240 + 50 days.
    assert exposure_years(start, stop, 60, 299) == pytest.approx(330 / 365.25)


# ---------------------------------------------------------------- recovering known rates


def test_a_known_step_up_rate_is_recovered(tmp_path):
    cal = calibrated(tmp_path / "h", seed=3)
    svc = by_key(cal)
    (move,) = svc["ifa_fostering"].moves
    assert move.dest == "childrens_homes" and move.moves > 100
    assert abs(move.per_year - STEP_UP) < Z * move.se
    # The moves are not arrivals of the homes: its new entrants are its own per_year.
    homes = svc["childrens_homes"]
    assert homes.moved_in > 100
    assert abs(homes.arrivals.per_year - 40.0) < Z * homes.arrivals.per_year_se
    # Moves censor the foster length: its own mean (100 weeks), not the time to the first
    # of an end and a move (1 / (1/100 + 0.15/52.18), 78 weeks).
    best = svc["ifa_fostering"].lengths.chosen
    assert svc["ifa_fostering"].moved_out > 100
    assert abs(best.value("mean") - 100.0) < Z * best.se("mean")
    # The config written carries it, with words a finance officer reads, and validates.
    text = to_toml(cal, budget_draws=50)
    config = loads_config(text, "calibrated")
    rate = config.services["ifa_fostering"].moves["childrens_homes"].per_year
    assert rate.median() == pytest.approx(move.per_year, rel=1e-3)
    written = tomllib.loads(text)["services"]["ifa_fostering"]["moves"]["childrens_homes"]
    assert written["per_year"]["dist"] == "lognormal"
    assert f"{move.per_year:.1%} of Independent fostering agencies placements a year moved " in (
        text.replace("\n# ", " ")
    )
    assert (
        f"moves between services: 1 pair written as moves: ifa_fostering -> childrens_homes "
        f"{move.moves}" in cal.log.notes
    )


@pytest.mark.slow
def test_move_rates_and_their_errors_over_many_data_sets(tmp_path):
    # 40 histories: the standardised errors of the step-up rate, and of the foster length's
    # mean (censored at moves), have mean 0 (within 3 / sqrt(40) = 0.47) and sd 1 (within
    # 3 / sqrt(78) = 0.34).
    n = 40
    z_rate, z_mean = [], []
    for seed in range(n):
        svc = by_key(calibrated(tmp_path / str(seed), seed=100 + seed))
        (move,) = svc["ifa_fostering"].moves
        z_rate.append((move.per_year - STEP_UP) / move.se)
        best = svc["ifa_fostering"].lengths.chosen
        z_mean.append((best.value("mean") - 100.0) / best.se("mean"))
    for z in (np.array(z_rate), np.array(z_mean)):
        assert abs(z.mean()) < 3 / math.sqrt(n), z
        assert abs(z.std(ddof=1) - 1.0) < 3 / math.sqrt(2 * (n - 1)), z


def test_a_move_to_a_service_that_cannot_be_fitted_is_an_end(tmp_path):
    # Every children's-home placement is still open: that service is left out, so the
    # moves into it are ends of the foster placements.
    rows = [
        f"C{i},2020-0{1 + i % 9}-01,S,U4,PR4,2021-0{1 + i % 9}-01,X1\n"
        f"C{i},2021-0{1 + i % 9}-01,P,K2,PR4,,\n"
        for i in range(MIN_MOVES + 2)
    ]
    rows += [f"D{i},2020-02-0{1 + i % 9},S,U4,PR4,2020-12-0{1 + i % 9},E13\n" for i in range(9)]
    path = tmp_path / "episodes.csv"
    path.write_text(HEADER + "".join(rows))
    cal = calibrate(load_ssda903(path), as_of="2024-03-31", since="2019-04-01")
    assert "childrens_homes" in cal.skipped
    (move,) = cal.moves
    assert not move.modelled and "could not be fitted" in move.why
    (foster,) = cal.services
    assert foster.moves == [] and foster.moved_out == 0
    assert foster.lengths.data.events == MIN_MOVES + 2 + 9


def test_the_calibrate_summary_names_the_moves_written_by_label(tmp_path):
    from simulator.cli.calibrate import _pathway_lines

    cal = calibrated(tmp_path / "h", seed=3)
    (move,) = [m for m in cal.moves if m.modelled]
    lines = _pathway_lines(cal)
    assert lines[0].strip().startswith("Moves between services: 1 written")
    assert (
        f"Independent fostering agencies -> Children's homes: {move.per_year:.1%} of placements "
        f"a year ({move.moves:,} moves)" in lines[1]
    )
    # No header, so no ages: the summary says nothing about ageing.
    assert not any("Ages at entry" in line for line in lines)
