"""Budgets that calibrate wrote as stand-ins are said until real ones are entered (defect 13)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

import simulator
from simulator.cli.app import main
from simulator.config.load import loads_config
from tests.helpers import SMALL_TOML

BROMLEY = Path(__file__).parents[1] / "data" / "ssda903_bromley"
PLACEHOLDER = SMALL_TOML.replace(
    "budget_gbp = 2_000_000\n", "budget_gbp = 2_000_000\nbudget_placeholder = true\n"
)


def test_a_placeholder_budget_is_warned_of_and_recorded_in_the_results():
    config = loads_config(PLACEHOLDER, "tiny.toml")
    assert config.placeholder_budgets == ("Homes",)
    assert config.warnings == (
        "budget_gbp of Homes is a placeholder (budget_placeholder = true): the model's own mean "
        "cost, not a budget, so every overspend figure is meaningless until you enter the real "
        "budgets and delete budget_placeholder",
    )
    ds = simulator.run(config, draws=20, seed=1)
    assert ds.attrs["budgets_placeholder"] == "Homes"
    real = simulator.run(loads_config(SMALL_TOML, "tiny.toml"), draws=20, seed=1)
    assert "budgets_placeholder" not in real.attrs
    assert loads_config(SMALL_TOML, "tiny.toml").warnings == ()


def test_validate_and_run_say_the_budgets_are_placeholders(tmp_path, capsys):
    path = tmp_path / "tiny.toml"
    path.write_text(PLACEHOLDER)
    assert main(["validate", str(path)]) == 0
    assert "budget_gbp of Homes is a placeholder" in capsys.readouterr().err
    assert (
        main(["run", str(path), "--draws", "20", "--no-charts", "--out", str(tmp_path / "r")]) == 0
    )
    assert "budget_gbp of Homes is a placeholder" in capsys.readouterr().err


@pytest.mark.slow  # calibrates the shared sample
def test_calibrate_marks_every_budget_it_writes_as_a_placeholder(tmp_path, capsys):
    out = tmp_path / "calibration"
    args = ["calibrate", "--episodes", str(BROMLEY / "episodes.csv"), "--no-plots"]
    assert main([*args, "--header", str(BROMLEY / "header.csv"), "--out", str(out)]) == 0
    capsys.readouterr()
    (config,) = out.glob("*.toml")
    services = tomllib.loads(config.read_text())["services"]
    assert {k: s["budget_placeholder"] for k, s in services.items()} == dict.fromkeys(
        services, True
    )
    assert main(["validate", str(config)]) == 0
    assert "are placeholders (budget_placeholder = true)" in capsys.readouterr().err
