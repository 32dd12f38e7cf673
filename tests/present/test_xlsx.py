"""summary.xlsx for finance: the Summary sheet, year sheets, scenarios, drivers, iterations."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook

from simulator.cli.app import main
from simulator.present.report.load import load_results
from simulator.present.report.xlsx import MONEY_M, iterations_sheet, table_sheet, write_xlsx

COUNCIL = """
[council]
name = "Two Department Borough"
[horizon]
start = "2024/25"
years = 2
[services.homes]
label = "Children's homes"
department = "Children's Services"
budget_gbp = 2_000_000
caseload = { open = 5 }
arrivals = { per_year = 4, growth = { dist = "pert", low = 0, mode = 0.03, high = 0.1 } }
length = { dist = "lognormal", median_weeks = 40, sigma = 0.8 }
unit_cost = { mean_gbp_per_week = 6_000, cv = 0.2 }
[services.fostering]
label = "Fostering"
department = "Children's Services"
budget_gbp = 1_500_000
caseload = { open = 40 }
arrivals = { per_year = 20 }
length = { dist = "gamma", mean_weeks = 60, shape = 1.2 }
unit_cost = { mean_gbp_per_week = 700 }
[services.home_care]
label = "Home care"
department = "Adults"
budget_gbp = 3_000_000
caseload = { open = 180 }
arrivals = { per_year = 90 }
length = { dist = "weibull", mean_weeks = 80, shape = 0.9 }
unit_cost = { mean_gbp_per_week = 330, cv = 0.4 }
[scenarios.dearer_homes]
description = "Children's homes cost a fifth more"
changes.services.homes.unit_cost.mean_gbp_per_week = 7_200
"""


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("xlsx")
    config = folder / "borough.toml"
    config.write_text(COUNCIL, encoding="utf-8")
    out = folder / "results"
    assert main(["run", str(config), "--draws", "400", "--no-charts", "--out", str(out)]) == 0
    assert main(["compare", str(config), "--draws", "200", "--out", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def book(run_folder):
    ds, _, scen = load_results(run_folder)
    path = run_folder / "finance.xlsx"
    write_xlsx(ds, path, scen, iterations=True)
    return load_workbook(path), ds


def _csv(run_folder: Path) -> pd.DataFrame:
    return pd.read_csv(run_folder / "summary.csv", keep_default_na=False, na_values=[""])


def test_the_summary_sheet_has_services_down_and_years_across(book, run_folder):
    wb, ds = book
    ws = wb["Summary"]
    assert wb.sheetnames[:3] == ["Summary", "2024-25", "2025-26"]
    assert [ws.cell(row=3, column=c).value for c in (1, 2, 8)] == ["Service", "2024/25", "2025/26"]
    assert [ws.cell(row=4, column=c).value for c in range(2, 8)] == [
        "Budget",
        "Median outturn",
        "P(overspend)",
        "Mean overspend",
        "P10",
        "P90",
    ]
    labels = [ws.cell(row=r, column=1).value for r in range(5, 5 + ds.sizes["service"])]
    assert labels == list(ds["service_label"].values.astype(str))
    assert "homes" not in labels and "Children's homes" in labels
    bold = {ws.cell(row=r, column=1).value: ws.cell(row=r, column=1).font.b for r in range(5, 11)}
    assert bold == {
        "Children's homes": False,
        "Fostering": False,
        "Children's Services": True,
        "Home care": False,
        "Adults": True,
        "Total": True,
    }
    assert ws.freeze_panes == "B5"
    assert ws.cell(row=5, column=2).number_format == MONEY_M
    assert ws.column_dimensions["A"].width >= 40


def test_the_workbook_numbers_equal_summary_csv_to_the_penny(book, run_folder):
    wb, _ = book
    csv = _csv(run_folder)
    ws = wb["Summary"]
    years = list(dict.fromkeys(csv["financial_year"]))
    measures = [
        "budget_gbp",
        "median_outturn_gbp",
        "p_overspend",
        "mean_overspend_gbp",
        "p10_overspend_gbp",
        "p90_overspend_gbp",
    ]
    rows = list(dict.fromkeys(csv["service"]))
    for i, key in enumerate(rows, start=5):
        for y, year in enumerate(years):
            expected = csv[(csv["service"] == key) & (csv["financial_year"] == year)].iloc[0]
            for k, column in enumerate(measures):
                got = ws.cell(row=i, column=2 + y * 6 + k).value
                assert got == expected[column], (key, year, column)
    detail = wb["2025-26"]
    header = [c.value for c in detail[3]]
    part = csv[csv["financial_year"] == "2025/26"]
    for i, (_, expected) in enumerate(part.iterrows(), start=4):
        assert detail.cell(row=i, column=1).value == expected["service_label"]
        for name, column in [
            ("Mean outturn", "mean_outturn_gbp"),
            ("P90 overspend", "p90_overspend_gbp"),
            ("P(overspend)", "p_overspend"),
        ]:
            assert detail.cell(row=i, column=header.index(name) + 1).value == expected[column]


def test_scenarios_carry_their_descriptions(book):
    wb, _ = book
    rows = list(wb["Scenarios"].iter_rows(min_row=4, values_only=True))
    described = {r[0] for r in rows}
    assert described == {"Base case (the config as written)", "Children's homes cost a fifth more"}
    dearer = [r for r in rows if r[0].startswith("Children's")]
    assert all(r[3] > 0 for r in dearer)  # dearer homes raise the chance of overspend


def test_drivers_assumptions_headlines_and_about(book):
    wb, ds = book
    drivers = list(wb["Drivers"].iter_rows(min_row=4, values_only=True))
    first_year = [r for r in drivers if r[0] == "2024/25"]
    assert {r[1] for r in first_year} == {"Children's homes", "Fostering", "Home care"}
    assert sum(r[3] for r in first_year) == pytest.approx(1.0)
    words = [c.value for c in wb["Assumptions"]["A"] if c.value]
    assert any("Children's homes" in w for w in words)
    assert wb["Headlines"].cell(row=2, column=3).value.startswith("There is")
    monthly = {r[0] for r in wb["Monthly percentiles"].iter_rows(min_row=4, values_only=True)}
    assert monthly == set(ds["service_label"].values.astype(str))  # "Total", as on the Summary
    about = {r[0]: r[1] for r in wb["About"].iter_rows(min_row=2, values_only=True)}
    assert about["Simulated futures (draws)"] == 400


def test_iterations_are_each_draw_to_the_penny(book):
    wb, ds = book
    ws = wb["Iterations"]
    header = [c.value for c in ws[3]]
    assert header[0] == "Draw" and "Total 2025/26" in header
    col = header.index("Total 2025/26") + 1
    values = [ws.cell(row=r, column=col).value for r in range(4, ws.max_row + 1)]
    expected = ds["overspend"].sel(service="total", financial_year="2025/26").values
    assert values == [float(f"{x:.2f}") for x in expected]


def test_iterations_are_cut_to_a_size_excel_handles(book):
    from openpyxl import Workbook

    _, ds = book
    wb = Workbook()
    ws = iterations_sheet(wb, ds, max_cells=1_300)
    cols = ds.sizes["service"] * ds.sizes["financial_year"] + 1
    assert ws.max_row - 3 == 1_300 // cols
    assert "(the first 100 of 400 draws" in ws["A1"].value


def test_another_sheet_can_be_added_by_a_writer(run_folder, tmp_path):
    ds, _, _ = load_results(run_folder)

    def reserve(wb, ds):
        table_sheet(
            wb, "Reserve", [("Year", None, 10), ("Reserve", MONEY_M, 14)], [["2024/25", 1e6]]
        )

    write_xlsx(ds, tmp_path / "s.xlsx", extra=[reserve])
    wb = load_workbook(tmp_path / "s.xlsx")
    assert "Reserve" in wb.sheetnames and "Scenarios" not in wb.sheetnames
    assert wb["Reserve"]["B2"].value == 1e6
    assert not [c for ws in wb for row in ws.iter_rows() for c in row if c.data_type == "f"]


@pytest.mark.slow  # draws the whole report
def test_the_report_workbook_has_reserve_worst_outcomes_scenarios_and_iterations(run_folder):
    """`overspend report` passes the scenarios, the reserve answers and --iterations through."""
    import numpy as np

    from simulator.results.reserve import reserve_dataset

    out = run_folder.parent / "report"
    args = ["report", str(run_folder), "--out", str(out), "--iterations"]
    assert main(args) == 0
    wb = load_workbook(out / "summary.xlsx", read_only=True)
    names = wb.sheetnames
    for sheet in ("Scenarios", "Reserve", "Worst outcomes", "Iterations"):
        assert sheet in names, names
    ds = load_results(run_folder)[0]
    reserve = reserve_dataset(ds)
    rows = list(wb["Reserve"].values)
    header, body = rows[2], rows[3:]
    col = header.index("Reserve for 90% confidence")
    labels = dict(
        zip(ds["service_label"].values.astype(str), ds["service"].values.astype(str), strict=True)
    )
    positive = 0
    for row in body:
        key, year = labels[row[1]], row[0]
        expected = float(reserve["reserve"].sel(service=key, financial_year=year, confidence=0.9))
        assert row[col] == pytest.approx(round(expected, 2), abs=0.005), (key, year)
        # The 90th percentile of the overspend; none is needed when even that is an underspend.
        over = ds["overspend"].sel(service=key, financial_year=year).values
        assert expected == pytest.approx(max(float(np.quantile(over, 0.9)), 0.0), rel=1e-9)
        positive += expected > 0
    assert positive > 0
