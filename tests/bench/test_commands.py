"""The commands' ratios in ``overspend bench``: run with charts, and report, against the simulation.

Not timed (CI machines are noisy): the tests check that the three commands
run in fresh processes, and that the ratios and the table's rows are produced.
"""

from __future__ import annotations

import dataclasses

import pytest

from simulator.bench import commands
from simulator.bench.settings import QUICK, REPORT_RATIO_TARGET, RUN_CHARTS_RATIO_TARGET
from tests.helpers import write_small_toml

TINY = dataclasses.replace(QUICK, name="tiny", command_draws=40, command_repeats=1)


@pytest.mark.slow
def test_the_three_commands_run_and_give_both_ratios(tmp_path):
    found = commands.measure_commands(write_small_toml(tmp_path), TINY)
    assert found["draws"] == 40
    for name in commands.COMMANDS:
        assert len(found["cpu_seconds"][name]) == 1 and found["cpu_seconds"][name][0] > 0
        assert found["wall_seconds"][name][0] > 0
    sec = found["cpu_median_seconds"]
    assert found["run_charts_ratio"] == sec["run_charts"] / sec["run_no_charts"]
    assert found["report_ratio"] == sec["report"] / sec["run_no_charts"]
    rows = commands.command_rows({"commands": found})
    assert [r[0] for r in rows] == [
        "run with charts / run --no-charts",
        "report / its simulation (run --no-charts)",
    ]
    assert f"target <= {RUN_CHARTS_RATIO_TARGET:g}" in rows[0][2]
    assert f"target <= {REPORT_RATIO_TARGET:g}" in rows[1][2]
    assert commands.command_ratios({"commands": found}) == {
        "run_charts_ratio": found["run_charts_ratio"],
        "report_ratio": found["report_ratio"],
    }


def test_each_command_line_is_what_a_user_types(tmp_path):
    config = tmp_path / "c.toml"
    plain = commands._argv("run_no_charts", config, 100, tmp_path)
    assert plain[:4] == ["-m", "simulator", "run", str(config)] and "--no-charts" in plain
    charts = commands._argv("run_charts", config, 100, tmp_path)
    assert "--no-charts" not in charts and charts[charts.index("--draws") + 1] == "100"
    report = commands._argv("report", config, 100, tmp_path)
    # The report reads the folder the default run wrote, with its charts (run, then report).
    assert report[:4] == ["-m", "simulator", "report", charts[charts.index("--out") + 1]]
    assert commands.COMMANDS.index("report") > commands.COMMANDS.index("run_charts")


def test_results_of_older_versions_have_no_command_rows():
    assert commands.command_rows({}) == []
    assert commands.command_ratios({}) == {"run_charts_ratio": None, "report_ratio": None}


def test_a_missed_target_says_so():
    found = {
        "draws": 10_000,
        "cpu_median_seconds": {"run_no_charts": 10.0, "run_charts": 14.0, "report": 4.0},
        "run_charts_ratio": 1.4,
        "report_ratio": 0.4,
    }
    rows = commands.command_rows({"commands": found})
    assert rows[0][1] == "1.40" and "NOT MET" in rows[0][2]
    assert rows[1][1] == "0.40" and ": met" in rows[1][2]
