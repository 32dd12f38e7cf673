"""Work that would never end is refused or announced before simulating (defects 28, 34)."""

from __future__ import annotations

import re

import pytest

from simulator.cli import common
from simulator.cli.app import main
from simulator.config.load import loads_config
from simulator.errors import UserError
from simulator.model.equations import build_plan
from simulator.model.workload import NS_PER_CELL, NS_PER_PLACEMENT, workload
from tests.helpers import SMALL_TOML

HUGE = SMALL_TOML.replace("arrivals = { per_year = 4 }", "arrivals = { per_year = 1_000_000 }")


def test_placements_per_draw_are_those_open_plus_the_expected_arrivals():
    """Five open and four a year for one year, with no uncertain input: nine placements."""
    work = workload(build_plan(loads_config(SMALL_TOML, "tiny.toml")))
    assert work.placements_per_draw == pytest.approx(9.0, rel=1e-12)
    assert work.cells == 2 * 12  # the service and the total, twelve months
    per_draw = 9 * NS_PER_PLACEMENT + 24 * NS_PER_CELL
    assert work.seconds(1_000_000, threads=2) == pytest.approx(per_draw * 1e6 * 1e-9 / 2)


def test_a_run_that_would_take_years_is_refused_at_once_with_draws_advice(
    tmp_path, capsys, monkeypatch
):
    from simulator.engine import chunks

    def never(*args, **kwargs):
        raise AssertionError("simulated before refusing")

    monkeypatch.setattr(chunks, "simulate", never)  # refused before simulating, not after
    out = tmp_path / "r"
    assert main(["run", "--draws", "1000000000000", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    # the example county's placements per draw (about 22,000 since issue 12), not pinned
    assert re.match(r"error: 1,000,000,000,000 draws of about 2\d,\d{3} placements each", err)
    assert "days on" in err and "(the limit is a day): --draws " in err
    assert "would take about ten minutes" in err and "Traceback" not in err
    assert not out.exists()


def test_a_run_whose_results_would_not_fit_the_disk_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(common, "_free_bytes", lambda out_dir: 10**9)
    config = loads_config(SMALL_TOML, "tiny.toml")
    with pytest.raises(UserError) as info:
        common.check_workload(config, 50_000_000, threads=2, out_dir=tmp_path)
    assert "the results would take about " in str(info.value)
    assert "has 1.0 GB free" in str(info.value)
    common.check_workload(config, 10_000, threads=2, out_dir=tmp_path)  # small: silent


def test_a_long_run_is_announced_with_its_estimate(capsys):
    """per_year = 1,000,000 once ran past a minute without a word."""
    common.check_workload(loads_config(HUGE, "huge.toml"), 10_000, threads=2)
    out = capsys.readouterr().out
    assert out.startswith("This run is 10,000 draws of about 1,000,005 placements each: about ")
    assert "minutes on 2 threads here (--draws " in out


@pytest.mark.parametrize(
    ("seconds", "words"),
    [(5, "5 seconds"), (95, "1.6 minutes"), (3 * 3600, "3 hours"), (40 * 86400, "40 days")],
)
def test_durations_read_as_words(seconds, words):
    assert common.duration(seconds) == words
