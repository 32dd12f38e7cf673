"""Bad workbooks: each gives a clear error naming the sheet and cell, never a traceback."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from simulator.cli.app import main
from simulator.config.load import load_config, loads_config
from simulator.config.messages import ConfigError
from simulator.config.workbook.read import MAX_WORKBOOK_BYTES
from simulator.config.workbook.write import write_workbook
from tests.helpers import SMALL_TOML

#: A small council using every sheet the fuzz changes: factors, savings, scenarios.
FUZZ_TOML = (
    SMALL_TOML.replace(
        "per_year = 4", "per_year = 4, growth = { dist = 'pert', low = 0, mode = 0.02, high = 0.1 }"
    )
    + """
inflation = { factors = { fees = 1.0 } }
[services.homes.savings.step_down]
label = "Step down"
target_gbp = 100_000
delivery = { dist = "beta", mean = 0.6, sd = 0.2 }
[services.transport]
label = "Transport"
kind = "cost"
budget_gbp = { "2024/25" = 900_000 }
cost = { annual_gbp = 950_000 }
[inflation.factors.fees]
description = "Fee review"
uplift = 0.04
[scenarios.dearer]
description = "Dearer homes"
changes.services.homes.unit_cost.mean_gbp_per_week = 7000
"""
)

#: A cell reference as messages write it: Services!F7 or 'Open placements'!A2.
CELL = re.compile(r"(?:'[^']+'|[A-Za-z]+)!\$?[A-Z]{1,3}\$?\d+")


@pytest.fixture(scope="module")
def good_book(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("fuzz")
    path = folder / "good.xlsx"
    write_workbook(loads_config(FUZZ_TOML, "fuzz.toml"), path)
    load_config(path)  # the unchanged workbook is valid
    return path


def _load(path: Path) -> str | None:
    """The error text of loading ``path`` (``None`` when it loads); any other exception fails."""
    try:
        load_config(path)
    except ConfigError as exc:
        text = str(exc)
        assert "Traceback" not in text
        assert all(line.startswith(f"{path.name}: ") for line in text.splitlines()), text
        return text
    return None


JUNK = st.one_of(
    st.none(),
    st.sampled_from(
        [
            "",
            "   ",
            "abc",
            "£x",
            "12%%",
            "1 / 2",
            "3 / 2 / 1",
            "normal(",
            "normal(mean=1)",
            "toml:{",
            "=SUM(B2:B9)",
            "=1/0",
            "TRUE",
            "Total",
            "x" * 300,
            "caf\u00e9 \U0001f600",
            "-",
            "1e999",
        ]
    ),
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.datetimes(min_value=dt.datetime(1900, 3, 1), max_value=dt.datetime(2100, 1, 1)),
)
SHEETS = ["Council", "Services", "Inflation", "Savings", "Scenarios", "Actuals", "Snapshot"]


@pytest.mark.slow
@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    changes=st.lists(
        st.tuples(st.sampled_from(SHEETS), st.integers(1, 5), st.integers(1, 30), JUNK),
        min_size=1,
        max_size=4,
    )
)
def test_junk_in_any_cell_is_a_clear_error_or_a_valid_config(good_book, tmp_path, changes):
    wb = load_workbook(good_book)
    for sheet, row, col, value in changes:
        wb[sheet].cell(row=row, column=col).value = value
    path = tmp_path / "junk.xlsx"
    wb.save(path)
    text = _load(path)
    if text is not None:
        assert CELL.search(text), text


def _ref(wb, sheet: str, where: str) -> str:
    """A cell named by its column's header and row (``"Kind:2"``), or given as it is (``"B4"``)."""
    if ":" not in where:
        return where
    header, row = where.rsplit(":", 1)
    column = next(c.column_letter for c in wb[sheet][1] if c.value == header)
    return f"{column}{row}"


@pytest.mark.parametrize(
    ("sheet", "where", "value", "expected"),
    [
        ("Council", "B2", None, "Council!B2 (Council name): council"),  # required
        ("Council", "B4", "four", "Council!B4: Years: 'four' is not a number"),
        ("Council", "B4", 2.5, "Council!B4: Years: 2.5 must be a whole number"),
        ("Council", "B3", dt.datetime(2024, 4, 25), "Council!B3: First financial year: Excel"),
        ("Services", "Kind:2", "homes", "Services!{ref}: Kind: 'homes': choose one of placements"),
        (
            "Services",
            "Budget every year (£):2",
            "lots",
            "Services!{ref}: Budget every year (£): 'lots' is not a number",
        ),
        (
            "Services",
            "Budget every year (£):2",
            None,
            "Services!{ref} (homes, Budget every year (£)): services.homes",
        ),
        (
            "Services",
            "Median length (weeks):2",
            -5,
            "Services!{ref} (homes, Median length (weeks)): ",
        ),
        ("Services", "Open placements:2", True, "Services!{ref}: Open placements: TRUE is not a"),
        (
            "Services",
            "New placements a year:2",
            "4 / 2 / 9",
            "Services!{ref} (homes, New placements",
        ),
        (
            "Inflation",
            "Uplift each April:2",
            "4 percent",
            "Inflation!{ref}: Uplift each April: '4 pe",
        ),
        ("Savings", "Service:2", "Homs", "Savings!{ref}: Service: 'Homs' is not a service"),
        ("Savings", "Delivery:2", "beta(mean=2, sd=0.1)", "Savings!{ref} (Step down, Delivery)"),
        ("Scenarios", "Change:2", "services..homes", "Scenarios!{ref}: Change:"),
        (
            "Scenarios",
            "Change:2",
            "services.homes.unit_cost.weekly",
            "Scenarios!D2 (dearer, New value)",
        ),
    ],
)
def test_each_bad_cell_is_named(good_book, tmp_path, sheet, where, value, expected):
    wb = load_workbook(good_book)
    ref = _ref(wb, sheet, where)
    wb[sheet][ref] = value
    path = tmp_path / "bad.xlsx"
    wb.save(path)
    text = _load(path)
    assert text is not None and expected.format(ref=ref) in text, text


BLANKED = ("Budget every year (£)", "New placements a year")


def test_blank_required_cells_all_reported_together(good_book, tmp_path):
    wb = load_workbook(good_book)
    budget, arrivals = (_ref(wb, "Services", f"{h}:2") for h in BLANKED)
    wb["Council"]["B2"] = None
    wb["Services"][budget] = None
    wb["Services"][arrivals] = "many"
    path = tmp_path / "blank.xlsx"
    wb.save(path)
    lines = _load(path).splitlines()
    assert any(line.startswith("blank.xlsx: Council!B2 (Council name): council") for line in lines)
    assert any(f"Services!{budget}" in line and "homes.budget_gbp" in line for line in lines)
    assert any(f"Services!{arrivals}: New placements a year: 'many'" in line for line in lines)


def test_a_missing_sheet_and_an_extra_one(good_book, tmp_path):
    wb = load_workbook(good_book)
    del wb["Services"]
    wb.create_sheet("Budgets")
    path = tmp_path / "sheets.xlsx"
    wb.save(path)
    text = _load(path)
    assert "the workbook has no Services sheet: it is required" in text
    assert "sheet 'Budgets' is not one the tool reads" in text


def test_a_workbook_too_large_is_refused_before_it_is_opened(tmp_path, capsys):
    path = tmp_path / "huge.xlsx"
    with path.open("wb") as handle:  # size alone decides: nothing is parsed
        handle.write(b"PK" + bytes(10 * 2**20))
    text = _load(path)
    assert "huge.xlsx: is 10.0 MB: a config workbook is at most" in text
    assert path.stat().st_size > MAX_WORKBOOK_BYTES
    assert main(["validate", str(path)]) == 2
    assert "Traceback" not in capsys.readouterr().err


@pytest.mark.slow
def test_a_real_10_mb_workbook_is_refused_clearly(tmp_path):
    """A true workbook of 10 MB (random text in many rows), as a ledger export might be."""
    import random

    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Services")
    rng = random.Random(1)
    path = tmp_path / "ten.xlsx"
    rows = 0
    while True:
        for _ in range(20_000):
            ws.append([f"{rng.getrandbits(128):032x}" for _ in range(8)])
        rows += 20_000
        if rows >= 160_000:
            break
    wb.save(path)
    assert path.stat().st_size > 8 * 2**20
    text = _load(path)
    assert "ten.xlsx: is " in text and "MB: a config workbook is at most" in text


@settings(max_examples=300, deadline=None)
@given(raw=st.one_of(st.text(max_size=40), JUNK))
def test_any_cell_value_is_a_figure_or_a_cell_problem(raw):
    """Whatever a cell holds, reading it gives a value or says what is wrong, never a crash."""
    from simulator.config.workbook.cells import CellProblem, month_value, number, uncertain

    for read in (uncertain, number, month_value):
        try:
            read(raw)
        except CellProblem as exc:
            assert str(exc)
