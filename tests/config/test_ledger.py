"""Actuals shaped like a ledger export: workbook or CSV, months across or down, year to date."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from openpyxl import Workbook

from simulator.cli.app import main
from simulator.config.actuals import with_actuals
from simulator.config.load import loads_config
from simulator.config.messages import ConfigError
from simulator.config.workbook.ledger import is_ledger, read_ledger

CONFIG = """
[council]
name = "Ledger Borough"
[horizon]
start = "2024/25"
years = 1
[services.homes]
label = "Children's homes"
department = "Children's Services"
budget_gbp = 3_000_000
caseload = { open = 3 }
arrivals = { per_year = 2 }
length = { dist = "lognormal", median_weeks = 50, sigma = 0.7 }
unit_cost = { mean_gbp_per_week = 5_000 }
[services.staff]
label = "Social work staff"
department = "Children's Services"
kind = "cost"
budget_gbp = 1_200_000
cost = { annual_gbp = 1_200_000, monthly_cv = 0.1 }
"""

PLAIN = """service,month,net_spend_gbp,caseload
homes,2024-04,250000,
homes,2024-05,260000,
homes,2024-06,255000,3
staff,2024-04,100000,
staff,2024-05,98000,
staff,2024-06,-1000.5,
"""

ACROSS = """Ledger Borough: budget monitoring P3 2024/25
Run 5 July 2024
Service,Budget,Apr-24,May-24,Jun-24,Caseload,Variance
Children's homes,"£3,000,000","£250,000","£260,000","£255,000",3,"(12,000)"
Social work staff,1200000,100000,98000,(1000.50),,
Total,4200000,350000,358000,254000,,
"""

YTD = """Service,P1 YTD,P2 YTD,P3 YTD,Caseload
homes,250000,510000,765000,3
Social Work Staff,100000,198000,196999.5,
"""

DOWN_YTD = """service_label,period,ytd_net_spend_gbp,caseload
Children's homes,P1,250000,
Children's homes,P2,510000,
Children's homes,P3,765000,3
staff,P1,100000,
staff,P2,198000,
staff,P3,196999.5,
"""

AS_OF = "2024-06-30"


def _config():
    return loads_config(CONFIG, "ledger.toml")


def _months(config) -> list[tuple]:
    return sorted((m.service, m.month, m.net_spend_gbp, m.caseload) for m in config.actuals.months)


@pytest.fixture
def plain(tmp_path) -> list[tuple]:
    path = tmp_path / "plain.csv"
    path.write_text(PLAIN, encoding="utf-8")
    assert not is_ledger(path)
    return _months(with_actuals(_config(), AS_OF, path, "ledger.toml"))


@pytest.mark.parametrize("text", [ACROSS, YTD, DOWN_YTD], ids=["across", "ytd", "down_ytd"])
def test_ledger_csv_gives_the_same_actuals_as_the_plain_file(tmp_path, plain, text):
    path = tmp_path / "ledger.csv"
    path.write_text(text, encoding="utf-8")
    assert is_ledger(path)
    assert _months(with_actuals(_config(), AS_OF, path, "ledger.toml")) == plain


def test_a_ledger_workbook_with_excel_dates_as_headers(tmp_path, plain):
    wb = Workbook()
    ws = wb.active
    ws.title = "Actuals"
    ws.append(["Monitoring report"])
    ws.append(["Service", dt.datetime(2024, 4, 1), dt.datetime(2024, 5, 1), "Jun 2024", "Caseload"])
    ws.append(["Children's homes", 250_000, 260_000, "£255,000", 3])
    ws.append(["staff", 100_000, 98_000, "(1,000.50)", None])
    ws.append(["Total", "=SUM(B3:B4)", None, None, None])
    wb.create_sheet("Notes")
    path = tmp_path / "ledger.xlsx"
    wb.save(path)
    assert _months(with_actuals(_config(), AS_OF, path, "ledger.toml")) == plain
    out = tmp_path / "run"
    argv = ["run", "--as-of", AS_OF, "--actuals", str(path), "--draws", "50", "--no-charts"]
    toml = tmp_path / "ledger.toml"
    toml.write_text(CONFIG, encoding="utf-8")
    assert main([argv[0], str(toml), *argv[1:], "--out", str(out)]) == 0


def test_every_ledger_problem_is_reported_in_one_pass(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(
        "Service,Apr-24,May-24 YTD,Jun-24,Forecst\n"
        "Childrens homs,250000,lots,255000,1\n"
        "Children's Services,1,2,3,\n"
        "staff,100000,,98000,\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as caught:
        with_actuals(_config(), AS_OF, path, "ledger.toml")
    text = str(caught.value)
    assert "row 1, column Forecst: 'Forecst' is neither the service, a month" in text
    path.write_text(
        "Service,P1,P2,P3 YTD,Caseload\n"
        "Childrens homs,250000,£lots,765000,3\n"
        "Children's Services,1,2,3,\n"
        "staff,100000,98000,,x\n"
        "homes,1,2,,\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as caught:
        with_actuals(_config(), AS_OF, path, "ledger.toml")
    lines = str(caught.value).splitlines()
    expected = [
        "row 2, column P2: '£lots' is not a number",
        "row 2, column P3 YTD: the year-to-date figure for 2024-06 needs the one for 2024-05",
        "row 4, column Caseload: 'x' is not a number",
        "row 2: service 'Childrens homs' is not a service of this config (did you mean \"Children's homes\"?)",
        'row 3: "Children\'s Services" is a department or the total, not a service',
    ]
    for part in expected:
        assert any(part in line for line in lines), (part, lines)
    assert all(line.startswith(str(path)) for line in lines[:5]), lines


def test_a_workbook_with_several_sheets_names_the_one_to_read(tmp_path):
    wb = Workbook()
    wb.active.title = "P3"
    wb.create_sheet("P4")
    path = tmp_path / "two.xlsx"
    wb.save(path)
    rows, problems = read_ledger(path)
    assert rows == [] and "name the one with the actuals 'Actuals'" in problems[0]


def test_an_actuals_workbook_named_in_the_config(tmp_path, plain):
    wb = Workbook()
    ws = wb.active
    for row in PLAIN.splitlines():
        ws.append(row.split(","))
    wb.save(tmp_path / "actuals.xlsx")
    text = CONFIG.replace(
        "[services.homes]", f'[actuals]\nas_of = {AS_OF}\nfile = "actuals.xlsx"\n[services.homes]'
    )
    (tmp_path / "c.toml").write_text(text, encoding="utf-8")
    from simulator.config.load import load_config

    assert _months(load_config(tmp_path / "c.toml")) == plain


def test_months_of_a_plain_csv_still_read_by_the_case_file_reader(tmp_path):
    path = Path(tmp_path / "plain.csv")
    path.write_text(PLAIN, encoding="utf-8")
    assert not is_ledger(path)


def test_a_workbook_config_with_actuals_keeps_its_workbook_on_record(tmp_path):
    from simulator.config.load import config_origin, dumps_config, load_config
    from simulator.config.workbook.write import write_workbook

    book = tmp_path / "ledger.xlsx"
    write_workbook(_config(), book)
    config = load_config(book)
    path = tmp_path / "ledger.csv"
    path.write_text(ACROSS, encoding="utf-8")
    monitored = with_actuals(config, AS_OF, path, book.name)
    assert config_origin(monitored) == config_origin(config) is not None
    assert dumps_config(monitored).startswith("# from workbook ledger.xlsx sha256:")
