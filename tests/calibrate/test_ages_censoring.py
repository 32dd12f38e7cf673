"""Lengths censored at 18 when dates of birth are missing or wrong, and the words about them.

The engine ends every placement of a service with ``ageing`` at the 18th birthday, so
the fitted length must be the time to the placement's own end: only a known birthday
can censor a placement at 18, so the lengths are fitted on the children with one. A
date of birth that makes a child 18 or over at a start is wrong and not used.
"""

from __future__ import annotations

import tomllib
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from simulator.calibrate import calibrate, load_ssda903, to_toml
from simulator.calibrate.ages import (
    LEAVING_LATE_DAYS,
    LEAVING_SLACK_DAYS,
    MIN_AGES,
    band_counts,
    fit_ages,
    left_at_leaving_age,
    se_words,
)
from simulator.calibrate.calibration import MIN_DOB_ENDS, LengthCounts
from simulator.calibrate.records import to_day
from simulator.calibrate.synthetic import (
    header_from_history,
    returns_from_history,
    simulate_episodes,
)
from simulator.calibrate.writer import _outcomes
from simulator.config.load import loads_config
from tests.calibrate.test_ages_fit import AGES, MEAN_WEEKS, Z, truth

OLDER = {"10-15": 0.6, "16-17": 0.4}


@pytest.fixture(scope="module")
def history() -> pd.DataFrame:
    return simulate_episodes(truth(), "2024-03-31", 5, history_years=25, age_at_entry=AGES)


@pytest.fixture(scope="module")
def older() -> pd.DataFrame:
    """Children entering at 10 to 17, so that many placements reach the 18th birthday."""
    return simulate_episodes(truth(), "2024-03-31", 5, history_years=25, age_at_entry=OLDER)


def _calibrated(folder, history, header: pd.DataFrame | None):
    folder.mkdir(parents=True, exist_ok=True)
    for year, table in returns_from_history(history, 2020, 2024).items():
        table.to_csv(folder / f"episodes_{year}.csv", index=False)
    if header is not None:
        header.to_csv(folder / "header.csv", index=False)
    records = load_ssda903(folder)
    cal = calibrate(records, as_of="2024-03-31")
    (svc,) = cal.services
    return records, cal, svc


def _words(text: str) -> str:
    """A config's comments as one line of words (wrapped lines joined)."""
    return " ".join(line.lstrip("#").strip() for line in text.splitlines())


def test_an_end_counts_as_leaving_at_18_only_near_the_birthday():
    dob = pd.Series(pd.to_datetime(["2006-04-10"] * 6))
    birthday = to_day("2024-04-10")
    ends = birthday + np.array(
        [-LEAVING_SLACK_DAYS - 1, -LEAVING_SLACK_DAYS, 0, LEAVING_LATE_DAYS,
         LEAVING_LATE_DAYS + 1, 3000]
    )  # fmt: skip
    got = left_at_leaving_age(dob, ends.astype(float))
    assert got.tolist() == [False, True, True, True, False, False]


def test_lengths_are_fitted_on_children_with_a_date_of_birth(older, tmp_path):
    # 30% of the children missing from the header: their placements would end at 18
    # uncensored and shorten the lengths (fitted on every placement: 119.3 weeks, SE 4.5,
    # for a true 150); on the children with a date of birth, the fitted mean is the truth
    # within Z of its SE (143.3, SE 7.0).
    header = header_from_history(older).sample(frac=0.7, random_state=1)
    _, cal, svc = _calibrated(tmp_path / "missing", older, header)
    assert svc.ages is not None and svc.length_counts.no_dob > 100
    best = svc.lengths.chosen
    assert abs(best.value("mean") - MEAN_WEEKS) < Z * best.se("mean")
    text = to_toml(cal, budget_draws=20)
    assert f"{svc.length_counts.no_dob:,} placements of children with no date of birth" in _words(
        text
    )
    loads_config(text, "calibrated")


def test_too_few_children_with_a_date_of_birth_write_no_ageing(history, tmp_path):
    # Enough new placements for the age shares, too few (at most 25) ends among them.
    new = history[history["DECOM"] >= to_day("2019-04-01")]
    children = new["CHILD"].unique()[: MIN_AGES + 5]
    header = header_from_history(history)
    _, cal, svc = _calibrated(tmp_path / "few", history, header[header["CHILD"].isin(children)])
    assert svc.ages is None and svc.length_counts.no_dob == 0
    assert any(f"at least {MIN_DOB_ENDS} are needed" in w for w in svc.warnings)
    assert "ageing" not in tomllib.loads(to_toml(cal, budget_draws=20))["services"]["ifa_fostering"]


def test_a_date_of_birth_making_a_child_18_at_a_start_is_reported_and_not_used(history, tmp_path):
    header = header_from_history(history)
    wrong = header.sample(frac=0.1, random_state=2).index
    header.loc[wrong, "DOB"] = "01/01/1990"
    records, _, svc = _calibrated(tmp_path / "old", history, header)
    p = records.placements
    adult = p["client"].isin(header.loc[wrong, "CHILD"]) & (p["start"] >= "2008-01-01")
    problems = [q for q in records.log.problems if q.reason == "starts at 18 or over"]
    assert len(problems) == adult.sum() > 100
    assert {(q.source, q.row) for q in problems} == set(
        zip(p.loc[adult, "file"], p.loc[adult, "row"], strict=True)
    )
    assert all(q.action == "date of birth not used" and "1990-01-01" in q.message for q in problems)
    assert not records.ages["client"].isin(p.loc[adult, "client"]).any()
    best = svc.lengths.chosen
    assert abs(best.value("mean") - MEAN_WEEKS) < Z * best.se("mean")


def test_the_length_comment_counts_each_outcome_in_words():
    svc = SimpleNamespace(
        length_counts=LengthCounts(moved=2, aged=1, stale=3, open=4),
        lengths=SimpleNamespace(data=SimpleNamespace(events=5)),
    )
    cal = SimpleNamespace(as_of=to_day("2024-03-31"))
    assert _outcomes(svc, cal) == (
        "5 ended, 2 censored at a move to another service (see moves), 1 censored at the "
        "child's 18th birthday, 3 stale (censored at their last return) and 4 still open on "
        "2024-03-31"
    )
    svc.length_counts = LengthCounts(open=7)
    assert _outcomes(svc, cal) == "5 ended and 7 still open on 2024-03-31"


def test_the_outcomes_add_up_to_the_placements_fitted(history, tmp_path):
    _, cal, svc = _calibrated(tmp_path / "all", history, header_from_history(history))
    c, data = svc.length_counts, svc.lengths.data
    assert c.aged > 50 and c.open > 50
    assert data.events + c.moved + c.aged + c.stale + c.open == data.n
    words = _words(to_toml(cal, budget_draws=20))
    assert (
        f"on {data.n:,} placements: {data.events:,} ended, {c.aged:,} censored at the child's "
        f"18th birthday and {c.open:,} still open on 2024-03-31;" in words
    )


def test_open_ages_need_as_many_placements_as_ages_at_entry():
    entry = np.repeat([3.0, 12.0, 16.0], 20)
    few = fit_ages(entry, np.full(MIN_AGES - 1, 16.0))
    assert few.open is None and few.open_few.n == MIN_AGES - 1
    assert fit_ages(entry, np.full(MIN_AGES, 16.0)).open.n == MIN_AGES
    assert fit_ages(entry, None).open_few is None
    # All in one band: each SE is 0, so the words give the count instead.
    one_band = band_counts(np.full(MIN_AGES, 16.0))
    assert "from only 20 placements, all in one band" in se_words(one_band)
    assert "SE" not in se_words(one_band)
    assert se_words(band_counts(np.array([3.0, 12.0] * 20))).startswith("the largest SE 7.9")


def test_a_small_open_caseload_leaves_open_ages_out(history, tmp_path):
    # Dates of birth only for children whose placements all ended before the as-of date.
    gone = history.groupby("CHILD")["DEC"].max() < to_day("2024-03-31") - 30
    header = header_from_history(history)
    _, cal, svc = _calibrated(tmp_path / "closed", history, header[header["CHILD"].isin(
        gone[gone].index)])  # fmt: skip
    assert svc.ages is not None and svc.ages.open is None
    text = to_toml(cal, budget_draws=20)
    assert "open_ages is not written" in text
    written = tomllib.loads(text)["services"]["ifa_fostering"]["ageing"]
    assert "open_ages" not in written
    config = loads_config(text, "calibrated")
    assert config.services["ifa_fostering"].ageing.open_ages is None
