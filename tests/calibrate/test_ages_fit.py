"""Ages at entry and of the open caseload from the SSDA903 header (issue 12, item 4).

Shares by age band are binomial proportions: each within Z of its own standard
error sqrt(p (1 - p) / n) of the truth; over many synthetic data sets the
standardised errors have mean 0 and sd 1 within their sampling error.
"""

from __future__ import annotations

import math
import tomllib

import numpy as np
import pandas as pd
import pytest

from simulator.calibrate import calibrate, load_ssda903, to_toml
from simulator.calibrate.ages import BANDS, band_counts, left_at_leaving_age, whole_years
from simulator.calibrate.records import to_day
from simulator.calibrate.synthetic import (
    header_from_history,
    returns_from_history,
    simulate_episodes,
)
from simulator.config.load import config_from_dict, loads_config
from tests.helpers import placement_service

Z = 4.0
AGES = {"0": 0.05, "1-4": 0.15, "5-9": 0.2, "10-15": 0.45, "16-17": 0.15}
SHARES = np.array([AGES[band] for band, _, _ in BANDS])
MEAN_WEEKS = 150.0


def truth():
    services = {
        "ifa_fostering": placement_service(
            arrivals={"per_year": 200.0},
            length={"dist": "exponential", "mean_weeks": MEAN_WEEKS},
            unit_cost={"mean_gbp_per_week": 820},
        )
    }
    return config_from_dict(
        {"council": {"name": "Synthetic"}, "horizon": {"start": "2024/25", "years": 1},
         "services": services},
        "truth",
    )  # fmt: skip


def history_and_folder(folder, seed: int, header: bool = True):
    history = simulate_episodes(truth(), "2024-03-31", seed, history_years=25, age_at_entry=AGES)
    folder.mkdir(parents=True, exist_ok=True)
    for year, table in returns_from_history(history, 2020, 2024).items():
        table.to_csv(folder / f"episodes_{year}.csv", index=False)
    if header:
        header_from_history(history).to_csv(folder / "header.csv", index=False)
    return history, folder


def fitted(folder, seed: int, header: bool = True):
    history, folder = history_and_folder(folder, seed, header)
    cal = calibrate(load_ssda903(folder), as_of="2024-03-31")
    (svc,) = cal.services
    return history, cal, svc


def test_whole_years_count_birthdays():
    dob = pd.Series(pd.to_datetime(["2006-04-01", "2006-04-01", "2008-02-29", None]))
    days = np.array([to_day(d) for d in ("2024-03-31", "2024-04-01", "2024-02-28", "2024-01-01")])
    got = whole_years(dob, days)
    assert got[:3].tolist() == [17, 18, 15] and math.isnan(got[3])
    # Ended the day before the 18th birthday (as returns often record it): left at 18.
    assert left_at_leaving_age(dob, days.astype(float)).tolist() == [True, True, False, False]
    counts = band_counts(np.array([0, 0.0, 3, 9, 10, 15, 16, 17, 18, np.nan]))
    assert counts.counts.tolist() == [2, 1, 1, 2, 2] and counts.unknown == 2


def test_known_ages_at_entry_are_recovered(tmp_path):
    history, cal, svc = fitted(tmp_path / "h", seed=5)
    ages = svc.ages
    assert ages is not None and ages.entry.n > 900
    assert np.all(
        np.abs(ages.entry.shares - SHARES) < Z * np.sqrt(SHARES * (1 - SHARES) / ages.entry.n)
    )
    # The open caseload's ages: those of the placements open on the as-of date, on 1 April.
    open_ = history[
        (history["DECOM"] <= to_day("2024-03-31")) & (history["DEC"] > to_day("2024-03-31"))
    ]
    dob = pd.Series(open_["DOB"].to_numpy(dtype=np.int64).astype("datetime64[D]"))
    expected = band_counts(whole_years(dob, np.full(len(open_), to_day("2024-04-01"))))
    assert ages.open.counts.tolist() == expected.counts.tolist()
    # Ends at 18 censor the length: the fitted mean is the placement's own (150 weeks).
    assert svc.aged_out > 50
    best = svc.lengths.chosen
    assert abs(best.value("mean") - MEAN_WEEKS) < Z * best.se("mean")
    # Written as the config takes it, and validated.
    text = to_toml(cal, budget_draws=50)
    ageing = loads_config(text, "calibrated").services["ifa_fostering"].ageing
    assert ageing.leave_at == 18 and not ageing.continue_to
    assert sum(ageing.age_at_entry.values()) == pytest.approx(1.0, abs=1e-9)
    assert list(ageing.age_at_entry) == [band for band, _, _ in BANDS]
    assert ageing.open_ages == ages.open.config()
    written = tomllib.loads(text)["services"]["ifa_fostering"]["ageing"]
    assert set(written) == {"leave_at", "age_at_entry", "open_ages"}
    notes = "\n".join(cal.log.notes)
    assert "continue_to" in notes and "no adults' services" in notes
    assert "continue_to" in text


def test_without_a_header_no_ageing_is_written(tmp_path):
    _, cal, svc = fitted(tmp_path / "h", seed=5, header=False)
    assert svc.ages is None and svc.aged_out == 0
    assert any("no header table" in n and "no ageing" in n for n in cal.log.notes)
    text = to_toml(cal, budget_draws=50)
    assert "ageing" not in tomllib.loads(text)["services"]["ifa_fostering"]


@pytest.mark.slow
def test_age_shares_and_their_errors_over_many_data_sets(tmp_path):
    # 40 data sets: each band's standardised error has mean 0 (within 3 / sqrt(40) = 0.47)
    # and sd 1 (within 3 / sqrt(78) = 0.34), as has the length mean's (censored at 18).
    n = 40
    z_shares, z_mean = [], []
    for seed in range(n):
        _, _, svc = fitted(tmp_path / str(seed), seed=200 + seed)
        entry = svc.ages.entry
        z_shares.append((entry.shares - SHARES) / np.sqrt(SHARES * (1 - SHARES) / entry.n))
        best = svc.lengths.chosen
        z_mean.append((best.value("mean") - MEAN_WEEKS) / best.se("mean"))
    for z in [*np.array(z_shares).T, np.array(z_mean)]:
        assert abs(z.mean()) < 3 / math.sqrt(n), z
        assert abs(z.std(ddof=1) - 1.0) < 3 / math.sqrt(2 * (n - 1)), z
