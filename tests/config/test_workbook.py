"""Input workbooks: TOML -> workbook -> TOML is lossless, a hand-made workbook runs,
and every problem names its sheet and cell."""

from __future__ import annotations

import datetime as dt
import typing
from pathlib import Path

import numpy as np
import pytest
from openpyxl import Workbook, load_workbook
from pydantic import BaseModel

import simulator
from simulator.cli.app import main
from simulator.config.bundled import bundled_configs_dir
from simulator.config.distributions import Pert
from simulator.config.load import config_origin, dumps_config, load_config
from simulator.config.messages import ConfigError
from simulator.config.schema import Config
from simulator.config.workbook import layout as L
from simulator.config.workbook.cells import CellProblem, month_value, number, uncertain
from simulator.config.workbook.read import file_hash
from simulator.config.workbook.write import service_columns, write_workbook
from tests.helpers import SMALL_TOML, write_small_toml

BUNDLED = sorted(bundled_configs_dir().glob("*.toml"))


def _without_origin(text: str) -> str:
    first, rest = text.split("\n", 1)
    assert first.startswith("# from workbook ")
    return rest


# ------------------------------------------------------------------ round trip


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.stem)
def test_every_bundled_config_goes_through_a_workbook_unchanged(tmp_path, path):
    config = load_config(path)
    book = tmp_path / f"{path.stem}.xlsx"
    write_workbook(config, book, path.name)
    again = load_config(book)
    assert again == config
    assert _without_origin(dumps_config(again)) == dumps_config(config)
    # and back to TOML text, which loads to the same config again
    back = tmp_path / "back.toml"
    back.write_text(_without_origin(dumps_config(again)), encoding="utf-8")
    assert load_config(back) == config


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.stem)
def test_a_workbook_gives_bit_identical_results(tmp_path, path):
    config = load_config(path)
    book = tmp_path / "council.xlsx"
    write_workbook(config, book)
    a = simulator.run(config, draws=300, seed=7, threads=1)
    b = simulator.run(load_config(book), draws=300, seed=7, threads=1)
    for name in a.data_vars:
        assert np.array_equal(a[name].values, b[name].values, equal_nan=True), name


def test_the_results_record_the_workbook_and_its_hash(tmp_path):
    book = tmp_path / "tiny.xlsx"
    toml = write_small_toml(tmp_path)
    assert main(["template", str(toml), "--xlsx", str(book)]) == 0
    out = tmp_path / "results"
    assert main(["run", str(book), "--draws", "50", "--no-charts", "--out", str(out)]) == 0
    import xarray as xr

    with xr.open_dataset(out / "simulation.nc") as ds:
        source = ds.attrs["config_source"]
        text = ds.attrs["config"]
    assert source == f"workbook tiny.xlsx sha256:{file_hash(book)}"
    assert text.startswith(f"# from {source}\n")
    # a TOML config's results carry no such attribute, and its text is unchanged
    config = load_config(toml)
    assert config_origin(config) is None
    assert not dumps_config(config).startswith("#")


def test_the_template_command_writes_the_example_and_toml_back(tmp_path, capsys):
    book = tmp_path / "council.xlsx"
    assert main(["template", "--xlsx", str(book)]) == 0
    wb = load_workbook(book)
    assert wb.sheetnames[:3] == ["Read me", "Council", "Services"]
    services = wb["Services"]
    headers = [c.value for c in services[1]]
    assert "Budget 2027/28 (£)" in headers and "Demand growth" in headers
    labels = [services.cell(row=r, column=2).value for r in range(2, services.max_row + 1)]
    assert "Children's homes" in labels
    # every header has a note with its units; uncertain ones say how to type a range
    growth = services.cell(row=1, column=headers.index("Demand growth") + 1)
    assert "fraction per year" in growth.comment.text
    assert "low / most likely / high" in growth.comment.text
    assert all(c.comment is not None for c in services[1])
    # dropdowns for the choices
    listed = {dv.formula1 for dv in services.data_validations.dataValidation}
    assert '"lognormal,gamma,weibull,exponential"' in listed
    assert '"placements,cost"' in listed
    # written again only with --force
    assert main(["template", "--xlsx", str(book)]) == 2
    assert "already exists" in capsys.readouterr().err
    assert main(["template", "--xlsx", str(book), "--force"]) == 0
    back = tmp_path / "back.toml"
    assert main(["template", str(book), "--toml", str(back)]) == 0
    assert load_config(back) == load_config(bundled_configs_dir() / "example_county.toml")
    assert main(["template", "--xlsx", str(tmp_path / "x.csv")]) == 2
    assert main(["template"]) == 2


def test_validate_compare_and_sensitivity_take_a_workbook(tmp_path, capsys):
    toml = tmp_path / "tiny.toml"
    toml.write_text(
        SMALL_TOML.replace(
            "per_year = 4",
            "per_year = 4, growth = { dist = 'pert', low = 0, mode = 0.02, high = 0.1 }",
        )
        + "[scenarios.dearer]\nchanges.services.homes.unit_cost.mean_gbp_per_week = 7000\n",
        encoding="utf-8",
    )
    book = tmp_path / "tiny.xlsx"
    assert main(["template", str(toml), "--xlsx", str(book)]) == 0
    assert main(["validate", str(book)]) == 0
    assert "tiny.xlsx: valid." in capsys.readouterr().out
    assert main(["compare", str(book), "--draws", "50", "--out", str(tmp_path / "c")]) == 0
    args = ["--samples", "8", "--bootstrap", "5", "--draws", "50", "--out", str(tmp_path / "s")]
    assert main(["sensitivity", str(book), *args]) == 0


IN_YEAR = """
[council]
name = "Monitoring Borough"
[horizon]
start = "2024/25"
years = 1
[snapshot]
as_of = 2024-06-30
source = "caseload.csv"
extension_probability = { dist = "beta", mean = 0.2, sd = 0.1 }
placements = [
  { service = "homes", start_date = 2023-01-15, weekly_cost_gbp = 7000.0, planned_end_date = 2024-09-30 },
  { service = "homes", start_date = 2024-03-14, weekly_cost_gbp = 6000.0 },
  { service = "homes", start_date = 2024-06-01 },
]
[actuals]
as_of = 2024-06-30
forecast_overspend_gbp = { total = 300_000, homes = -20_000.5 }
months = [
  { service = "homes", month = "2024-04", net_spend_gbp = 250000.0, caseload = 3 },
  { service = "homes", month = "2024-05", net_spend_gbp = 260000.0, caseload = 3 },
  { service = "homes", month = "2024-06", net_spend_gbp = 255000.0, caseload = 3 },
  { service = "staff", month = "2024-04", net_spend_gbp = 100000.0 },
  { service = "staff", month = "2024-05", net_spend_gbp = 98000.0 },
  { service = "staff", month = "2024-06", net_spend_gbp = -1000.25 },
]
[services.homes]
budget_gbp = 3_000_000
arrivals = { per_year = 2, seasonality = [1, 1, 1, 1, 1, 1, 2, 2, 1, 1, 1, 0.5] }
length = { dist = "lognormal", median_weeks = 50, sigma = 0.7 }
unit_cost = { mean_gbp_per_week = 5_000 }
[services.staff]
kind = "cost"
budget_gbp = 1_200_000
cost = { annual_gbp = 1_200_000, monthly_cv = 0.1 }
"""

LISTED = """
[council]
name = "Listing Borough"
[horizon]
start = "2024/25"
years = 2
[inflation]
price_base = "2023/24"
factors.fees = { uplift = { dist = "normal", mean = 0.05, sd = 0.02, low = 0 } }
[services.homes]
label = "Homes"
budget_gbp = { "2024/25" = 900_000, "2025/26" = 950_000 }
budget_placeholder = true
caseload = { elapsed_weeks = [3.5, 40, 120], weekly_cost_gbp = [5000, 6500.5, 4000] }
arrivals = { per_year = { dist = "gamma", mean = 3, sd = 1 }, dispersion = 0.1, demand = { winter = 1.5 } }
length = { dist = "weibull", mean_weeks = { dist = "triangular", low = 30, mode = 50, high = 90 }, shape = 0.9 }
unit_cost = { mean_gbp_per_week = 5_000, high_cost_share = 0.1, high_cost_mean_gbp_per_week = 9000 }
inflation = { factors = { fees = 1.0 }, extra = { dist = "uniform", low = 0, high = 0.02 } }
income = { share = 0.05 }
moves = { fostering = { per_year = { dist = "uniform", low = 0.05, high = 0.11 } } }
ageing = { age_at_entry = { "0-4" = 0.25, "5-9" = 0.2, "10-15" = 0.4, "16-17" = 0.15 }, \
open_ages = { "0-4" = 0.15, "5-9" = 0.2, "10-15" = 0.4, "16-17" = 0.25 }, \
continue_to = { fostering = 0.1 } }
[demand.factors.winter]
description = "A hard winter"
shock = { dist = "normal", mean = 0, sd = 0.05 }
by_year = { "2025/26" = 0.1 }
[demand.factors.quiet]
shock = 0
[services.fostering]
label = "Fostering"
budget_gbp = 400_000
caseload = { open = 20, elapsed_weeks = 30 }
arrivals = { per_year = 10, demand = {} }
length = { dist = "exponential", mean_weeks = 60 }
unit_cost = { mean_gbp_per_week = 400 }
[scenarios.odd]
description = "Values of every kind"
changes.services.homes.label = "Homes (renamed)"
changes.services.homes.budget_gbp = { "2024/25" = 1_000_000, "2025/26" = 1_100_000 }
changes.services.fostering.arrivals.per_year = 12.0
changes.services.fostering.arrivals.seasonality = [1, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]
changes.services.fostering.department = "3%"
"""


@pytest.mark.parametrize("text", [IN_YEAR, LISTED], ids=["in_year", "listed"])
def test_every_sheet_goes_through_a_workbook_unchanged(tmp_path, text):
    from simulator.config.load import loads_config

    config = loads_config(text, "x.toml")
    book = tmp_path / "x.xlsx"
    write_workbook(config, book)
    again = load_config(book)
    assert _without_origin(dumps_config(again)) == dumps_config(config)


# ------------------------------------------------------------------ every field


def _paths(model: type[BaseModel], prefix: tuple = ()) -> set[tuple]:
    """Every field path of the schema, ``*`` for a name chosen by the user."""
    out = set()
    for name, info in model.model_fields.items():
        path = (*prefix, name)
        inner = _model_in(info.annotation)
        if inner is None:
            out.add(path)
        elif inner[1]:
            out |= _paths(inner[0], (*path, "*"))
        else:
            out |= _paths(inner[0], path)
    return out


def _model_in(annotation) -> tuple[type[BaseModel], bool] | None:
    """The model a field holds, and whether it is a dict or list of them."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation, False
    if origin in (dict, list) and args:
        found = _model_in(args[-1])
        return (found[0], True) if found else None
    for arg in args:
        found = _model_in(arg)
        if found:
            return found
    return None


def test_every_field_of_the_schema_has_a_place_in_the_workbook():
    """A field added to the schema fails here until the workbook reads and writes it."""
    placed = {c.path for c in L.COUNCIL_ROWS}
    placed |= {("services", "*", *c.path) for c in service_columns([])}
    placed |= {("services", "*", "savings", "*", *c.path) for c in L.SAVINGS_HEAD + L.SAVINGS_TAIL}
    placed |= {("services", "*", "savings", "*", "target_gbp")}
    placed |= {("inflation", "factors", "*", *c.path) for c in L.INFLATION_HEAD}
    placed |= {("inflation", "factors", "*", "by_year")}
    placed |= {("demand", "factors", "*", *c.path) for c in L.demand_head()}
    placed |= {("demand", "factors", "*", "by_year")}
    placed |= {("services", "*", "moves", "*", *L.MOVES_COLUMNS[2].path)}
    placed |= {("snapshot", "placements", "*", *c.path) for c in L.SNAPSHOT_COLUMNS}
    placed |= {("actuals", "months", "*", *c.path) for c in L.ACTUALS_COLUMNS}
    placed |= {("services", "*", "caseload", *c.path) for c in L.OPEN_COLUMNS[1:]}
    placed |= {("actuals", "forecast_overspend_gbp"), ("scenarios", "*", "changes")}
    placed |= {("scenarios", "*", "description")}
    assert _paths(Config) - placed == set()


# ------------------------------------------------------------------ a workbook typed by hand


def _finance_workbook(path: Path, changes: dict | None = None) -> Path:
    """A workbook as a finance officer would type it, made with openpyxl (no template)."""
    wb = Workbook()
    council = wb.active
    council.title = "Council"
    for row in [
        ("Council name", "Shire County Council"),
        ("First financial year", "2025/26"),
        ("Years", 2),
        ("Draws", 500),
        ("Seed", 42),
    ]:
        council.append(row)
    services = wb.create_sheet("Services")
    services.append(
        [
            "Service",
            "Department",
            "Kind",
            "Budget 2025/26 (£)",
            "Budget 2026/27 (£)",
            "Open placements",
            "New placements a year",
            "Demand growth",
            "Length family",
            "Median length (weeks)",
            "Length sigma",
            "Weekly cost (£)",
            "Price rise factors",
            "Annual cost (£)",
            "Cost growth",
        ]
    )
    services.append(
        [
            "Children's homes",
            "Children's Services",
            "placements",
            "£12,500,000",
            13_100_000,
            40,
            "30 / 36 / 45",
            "2% / 3% / 5%",
            "Lognormal",
            40,
            0.9,
            "£5,800",
            "fees=1",
        ]
    )
    services.append(
        [
            "SEND transport",
            "Children's Services",
            "cost",
            "£4.2m",
            "£4.4m",
            None,
            None,
            None,
            None,
            None,
            None,
            None,
            None,
            4_300_000,
            "normal(mean=0.05, sd=0.02)",
        ]
    )
    inflation = wb.create_sheet("Inflation")
    inflation.append(["Id", "Description", "Uplift each April"])
    inflation.append(["fees", "Care home fee review", "4%"])
    savings = wb.create_sheet("Savings")
    savings.append(["Service", "Programme", "Target every year (£)", "Delivery"])
    savings.append(["childrens homes", "Step-down to fostering", "£300,000", "50% / 80% / 100%"])
    for (sheet, ref), value in (changes or {}).items():
        wb[sheet][ref] = value
    wb.save(path)
    return path


def test_a_workbook_typed_by_hand_runs(tmp_path):
    config = load_config(_finance_workbook(tmp_path / "shire.xlsx"))
    homes = config.services["childrens_homes"]
    assert homes.label == "Children's homes" and homes.length.dist == "lognormal"
    assert homes.budget_gbp.table == {"2025/26": 12_500_000.0, "2026/27": 13_100_000.0}
    assert homes.arrivals.per_year == Pert(30.0, 36.0, 45.0)
    assert homes.arrivals.growth == Pert(0.02, 0.03, 0.05)
    assert homes.unit_cost.mean_gbp_per_week.median() == 5_800
    assert homes.inflation.factors == {"fees": 1.0}
    saving = homes.savings["step_down_to_fostering"]
    assert saving.target_gbp.every_year == 300_000 and saving.delivery == Pert(0.5, 0.8, 1.0)
    send = config.services["send_transport"]
    assert send.kind == "cost" and send.budget_gbp.table["2025/26"] == 4_200_000
    assert config.inflation.factors["fees"].uplift.median() == pytest.approx(0.04)
    ds = simulator.run(config, threads=1)
    assert ds.sizes["draw"] == 500
    assert float(ds["overspend"].sel(service="total").mean()) != 0


def test_low_most_likely_high_is_drawn_from_a_pert_of_that_range():
    """The mean and the share below the most likely value match PERT's closed forms."""
    from scipy import stats

    low, mode, high = 0.02, 0.03, 0.05
    param = Pert(**{k: v for k, v in uncertain("2% / 3% / 5%").items() if k != "dist"})
    draws = param.ppf(np.random.default_rng(5).random(200_000))
    mean = (low + 4 * mode + high) / 6
    se = draws.std() / np.sqrt(draws.size)
    assert abs(draws.mean() - mean) < 4 * se
    a = 1 + 4 * (mode - low) / (high - low)
    b = 1 + 4 * (high - mode) / (high - low)
    below = stats.beta(a, b).cdf((mode - low) / (high - low))
    share = np.mean(draws < mode)
    assert abs(share - below) < 4 * np.sqrt(below * (1 - below) / draws.size)
    assert draws.min() >= low and draws.max() <= high


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("£1,250,000", 1_250_000),
        ("1250000", 1_250_000),
        ("3%", 0.03),
        ("2.5%", 0.025),
        ("(12,000)", -12_000),
        ("£1.25m", 1_250_000.0),
        ("£850k", 850_000.0),
        ("\u22124", -4),
    ],
)
def test_money_and_percentages_typed_as_text_are_numbers(text, value):
    assert number(text) == value


@pytest.mark.parametrize(
    ("text", "month"),
    [
        ("2025-04", "2025-04"),
        ("Apr-25", "2025-04"),
        ("April 2025", "2025-04"),
        ("Mar-26", "2026-03"),
        ("P1", "2025-04"),
        ("P9", "2025-12"),
        ("P12", "2026-03"),
        (dt.datetime(2025, 4, 1), "2025-04"),
    ],
)
def test_ledger_months(text, month):
    assert month_value(text, as_of=dt.date(2025, 12, 31)) == month


@pytest.mark.parametrize(
    "text", ["3/4", "normal(mean=1)", "gauss(0, 1)", "banana", "1 / 2 / x", "normal(1, 2, 3, 4, 5)"]
)
def test_uncertain_text_that_is_not_a_figure_says_so(text):
    with pytest.raises(CellProblem):
        uncertain(text)


# ------------------------------------------------------------------ problems name the cell


def _problems(path: Path) -> str:
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    return str(caught.value)


def test_schema_problems_name_the_sheet_and_cell(tmp_path):
    book = _finance_workbook(
        tmp_path / "bad.xlsx",
        {("Services", "J2"): -3, ("Services", "I2"): "lognormal", ("Council", "B3"): 9},
    )
    text = _problems(book)
    assert "bad.xlsx: Services!J2 (Children's homes, Median length (weeks)): " in text
    assert "median_weeks = -3.0: must be > 0 (weeks)" in text or "= -3:" in text
    assert "Council!B3 (Years): horizon.years = 9" in text


def test_workbook_problems_come_together_with_sheet_and_cell(tmp_path):
    book = _finance_workbook(
        tmp_path / "bad.xlsx",
        {
            ("Services", "L2"): "about six thousand",
            ("Services", "G3"): None,
            ("Services", "D2"): "twelve million",
            ("Savings", "A2"): "Childrens homs",
            ("Services", "I2"): "logarithmic",
        },
    )
    text = _problems(book)
    lines = text.splitlines()
    assert any(
        "Services!L2: Weekly cost (£): 'about six thousand' is not a number" in x for x in lines
    )
    assert any(
        "Services!D2: Budget 2025/26 (£): 'twelve million' is not a number" in x for x in lines
    )
    assert any("Savings!A2" in x and 'did you mean "Children\'s homes"' in x for x in lines)
    assert any(
        "Services!I2: Length family: 'logarithmic': choose one of lognormal" in x for x in lines
    )
    # nothing is said twice: the schema's complaints about unread cells are left out
    assert not any("budget_gbp" in x and "Services!D2" not in x for x in lines), text


def test_formula_without_a_saved_value_merged_hidden_and_totals_are_refused(tmp_path):
    path = _finance_workbook(tmp_path / "x.xlsx", {("Services", "N3"): "=4000000+300000"})
    wb = load_workbook(path)
    ws = wb["Services"]
    ws.append(["Total", None, None, "=SUM(D2:D3)"])
    ws.row_dimensions[3].hidden = True
    wb["Inflation"].merge_cells("B2:C2")
    wb.save(path)
    text = _problems(path)
    assert (
        "Services!N3: Annual cost (£): holds the formula '=4000000+300000' with no saved value"
        in text
    )
    assert "Services!A4: this looks like a totals row" in text
    assert "Services!A3: row 3 of Services is hidden" in text
    assert "Inflation!B2:C2: merged cells" in text


def test_sheets_missing_extra_and_notes(tmp_path):
    path = _finance_workbook(tmp_path / "x.xlsx")
    wb = load_workbook(path)
    wb.create_sheet("Notes from Jo")["A1"] = "anything"
    wb.create_sheet("Servces")
    del wb["Council"]
    wb["Savings"].sheet_state = "hidden"
    wb.save(path)
    text = _problems(path)
    assert "sheet 'Savings' is hidden: unhide it" in text
    assert "sheet 'Servces' is not one the tool reads (did you mean 'Services'?)" in text
    assert "the workbook has no Council sheet: it is required" in text
    assert "Notes from Jo" not in text


def test_unknown_headers_and_fields_suggest_the_right_one(tmp_path):
    path = _finance_workbook(
        tmp_path / "x.xlsx", {("Services", "H1"): "Demand grwoth", ("Council", "A5"): "Sed"}
    )
    text = _problems(path)
    assert (
        "Services!H1: 'Demand grwoth' is not a column of the Services sheet (did you mean 'Demand growth'?)"
        in text
    )
    assert "Council!A5: 'Sed' is not a field of the Council sheet (did you mean 'Seed'?)" in text


def test_files_that_are_not_workbooks(tmp_path):
    fake = tmp_path / "council.xlsx"
    fake.write_text("not a zip", encoding="utf-8")
    assert "cannot be read as an Excel workbook (.xlsx)" in _problems(fake)
    old = tmp_path / "council.xls"
    old.write_bytes(b"\xd0\xcf\x11\xe0")
    assert "save it as an Excel Workbook (.xlsx)" in _problems(old)


@pytest.mark.slow
def test_calibrate_writes_its_config_as_a_workbook(tmp_path, capsys):
    data = Path(__file__).parents[1] / "data" / "ssda903_bromley"
    out, book = tmp_path / "calibration", tmp_path / "calibrated.xlsx"
    args = ["calibrate", "--episodes", str(data / "episodes.csv"), "--header"]
    args += [str(data / "header.csv"), "--as-of", "31/03/2022", "--no-plots", "--out", str(out)]
    assert main([*args, "--write-config", str(book)]) == 0
    assert str(book) in capsys.readouterr().out
    (written,) = out.glob("*.toml")
    assert load_config(book) == load_config(written)
    assert main([*args, "--force", "--write-config", str(tmp_path / "x.csv")]) == 2
    assert "give a file name ending .xlsx or .toml" in capsys.readouterr().err


def test_a_formula_is_read_by_the_value_excel_saved_with_it(tmp_path):
    """As openpyxl shows a workbook saved by Excel: the formula in one view, its value in the other."""
    from simulator.config.workbook.read import _Reader, check_workbook

    path = _finance_workbook(tmp_path / "saved.xlsx", {("Services", "N3"): 4_300_000})
    values = load_workbook(path, data_only=True)
    formulas = load_workbook(path)
    formulas["Services"]["N3"] = "=4000000+300000"
    values["Services"]["N2"] = "#DIV/0!"  # as openpyxl reads a failed formula's saved value
    formulas["Services"]["N2"] = "=1/0"
    found = _Reader(values, formulas).read()
    assert found.problems == [
        "Services!N2: Annual cost (£): holds the Excel error #DIV/0! (from '=1/0'): correct the "
        "cell so it holds a value"
    ]
    values["Services"]["N2"] = formulas["Services"]["N2"] = None
    found = _Reader(values, formulas).read()
    assert found.problems == []
    config = check_workbook(found, "saved.xlsx", tmp_path)
    assert config.services["send_transport"].cost.annual_gbp.median() == 4_300_000
