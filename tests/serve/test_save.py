"""Saving a what-if as a scenario: `overspend compare` reproduces the page; downloads."""

from __future__ import annotations

import csv
import io

import numpy as np
import pytest
from openpyxl import load_workbook

from simulator.analysis.scenarios import compare_scenarios
from simulator.config.load import load_config
from simulator.errors import UserError
from simulator.files import read_marker
from simulator.serve.controls import changed_words, changes_for, controls_of
from simulator.serve.figures import measures
from simulator.serve.save import (
    COLUMNS,
    SAVED_FOLDER,
    figures_csv,
    figures_rows,
    figures_xlsx,
    save_scenario,
    scenario_block,
)
from simulator.serve.whatif import WhatIf

VALUES = {
    "services.homes.arrivals.growth": "0.2",
    "services.home_care.unit_cost.mean_gbp_per_week": "350",
}


@pytest.fixture(scope="module")
def page_case(config):
    engine = WhatIf(config, 5, draws=1_000, first_draws=1_000, threads=2)
    changes = changes_for(config, controls_of(config), VALUES, ["no_saving"])
    case = engine.case(changes)
    engine.first_pass(case)
    return engine, case


def test_the_saved_scenario_reproduces_the_page_in_compare(page_case, config, tmp_path):
    engine, case = page_case
    results = tmp_path / "results"
    words = changed_words(config, controls_of(config), VALUES, ["no_saving"])
    path = save_scenario(results, config, "homes_up", "; ".join(words), case.changes, 1_000, 5)
    assert path == results / SAVED_FOLDER / "homes_up.toml"
    assert SAVED_FOLDER in read_marker(results) and "homes_up.toml" in read_marker(path.parent)
    saved = load_config(path)
    assert saved.run.draws == 1_000 and saved.run.seed == 5
    assert set(saved.scenarios) == {"no_saving", "homes_growth_15pct", "homes_up"}
    # `overspend compare saved.toml --scenario homes_up`, with the file's own draws and seed:
    scen = compare_scenarios(saved, names=["homes_up"], threads=2)
    base, what = engine.view(case)
    np.testing.assert_array_equal(scen["overspend"].values[:, 1], what.overspend)
    np.testing.assert_array_equal(scen["overspend"].values[:, 0], base.overspend)
    ms = measures(base.overspend[:, -1, 0], what.overspend[:, -1, 0])
    assert ms[0].what_if == float(scen["p_overspend"].sel(scenario="homes_up").values[-1, 0])


def test_saving_refuses_bad_names_existing_files_and_no_change(page_case, config, tmp_path):
    _, case = page_case
    for name, why in [
        ("Bad Name", "lower_case_with_underscores"),
        ("../escape", "lower_case_with_underscores"),
        ("base", "compare uses it"),
        ("no_saving", "already has a scenario"),
    ]:
        with pytest.raises(UserError, match=why):
            save_scenario(tmp_path, config, name, "x", case.changes, 1_000, 5)
    save_scenario(tmp_path, config, "once", "x", case.changes, 1_000, 5)
    with pytest.raises(UserError, match="already exists"):
        save_scenario(tmp_path, config, "once", "x", case.changes, 1_000, 5)
    with pytest.raises(UserError, match="nothing is changed"):
        save_scenario(tmp_path, config, "empty", "x", {}, 1_000, 5)
    assert sorted(p.name for p in (tmp_path / SAVED_FOLDER).iterdir()) == [
        ".overspend",
        "once.toml",
    ]


def test_the_block_alone_pastes_into_a_config(config, whatif_toml, tmp_path, page_case):
    _, case = page_case
    block = scenario_block("pasted", "from the page", case.changes)
    path = tmp_path / "with_block.toml"
    path.write_text(whatif_toml.read_text() + "\n" + block)
    assert load_config(path).scenarios["pasted"].changes == case.changes


def test_downloads_hold_the_figures_shown(page_case):
    engine, case = page_case
    base, what = engine.view(case)
    ms = measures(base.overspend[:, 0, 0], what.overspend[:, 0, 0])
    rows = figures_rows(ms, "Small County", "Children's homes", "2024/25", 1_000, 5, ["a", "b"])
    read = list(csv.DictReader(io.StringIO(figures_csv(rows).decode("utf-8-sig"))))
    assert [r["figure"] for r in read] == [m.name for m in ms]
    assert float(read[0]["what_if"]) == ms[0].what_if
    assert read[0]["changes"] == "a; b"
    sheet = load_workbook(io.BytesIO(figures_xlsx(rows)))["What-if"]
    cells = list(sheet.values)
    assert list(cells[0]) == list(COLUMNS)
    assert cells[2][COLUMNS.index("difference")] == pytest.approx(ms[1].diff)
