"""The summary tables the command line prints fit the terminal, and say what they leave out."""

from __future__ import annotations

import io

import pytest
import xarray as xr
from rich.console import Console

import simulator
from simulator.config.bundled import bundled_config
from simulator.present import console as out
from simulator.present.numbers import gbp_m, pct_table
from simulator.results.summary import summary_table

HEADERS = ("Budget", "Median outturn", "P(overspend)", "Mean overspend", "P10", "P50", "P90")


@pytest.fixture(scope="module")
def ds() -> xr.Dataset:
    return simulator.run(bundled_config(), draws=300, seed=4)


def printed(ds: xr.Dataset, width: int) -> str:
    console = Console(width=width, file=io.StringIO(), record=True, color_system=None)
    out.print_summary(ds, console=console)
    return console.export_text()


def words(text: str) -> list[str]:
    """The words of the table's text, with the box drawing left out."""
    return "".join(c if c.isalnum() or c in "£%.-()'<>:" else " " for c in text).split()


@pytest.mark.parametrize("width", [80, 100, 160])
def test_the_summary_fits_the_terminal(ds, width):
    text = printed(ds, width)
    assert max(len(line.rstrip()) for line in text.splitlines()) <= width
    assert "\u2026" not in text  # nothing cut short with an ellipsis
    table = summary_table(ds)
    total = table[(table.service == "total") & (table.financial_year == "2024/25")].iloc[0]
    # What a finance business partner needs stays, whole, at any width.
    for needed in ("Budget", "P(overspend)", "P90", gbp_m(total.budget_gbp),
                   gbp_m(total.median_outturn_gbp), pct_table(total.p_overspend),
                   gbp_m(total.p90_overspend_gbp)):  # fmt: skip
        assert needed in words(text) or needed in text, (width, needed)
    # Every service's name is there, wrapped onto two lines if need be.
    for label in table.service_label.unique():
        assert " ".join(label.split()) in " ".join(words(text)) or all(
            w in words(text) for w in words(label)
        ), label


def test_a_wide_terminal_shows_every_column_on_one_header_line(ds):
    text = printed(ds, 160)
    header = next(line for line in text.splitlines() if "Service" in line)
    for name in HEADERS:
        assert name in header, name
    assert "Left out" not in text


def test_a_narrow_terminal_leaves_out_columns_and_says_which(ds):
    text = printed(ds, 80)
    assert "Left out to fit: Mean overspend, P10, P50 (summary.csv has every column)." in " ".join(
        text.split()
    )
    header = " ".join(line for line in text.splitlines() if "┃" in line)
    assert "P10" not in header and "P50" not in header and "Mean" not in header
    assert "Median" in header and "P(overspend)" in header and "P90" in header


def test_output_that_is_not_a_terminal_has_every_column(monkeypatch):
    monkeypatch.delenv("COLUMNS", raising=False)
    console = out.summary_console()
    assert not console.is_terminal and console.width >= out.FILE_WIDTH
    assert max(len(line) for line in printed_width(console.width)) <= console.width


def printed_width(width: int) -> list[str]:
    ds = simulator.run(bundled_config(), draws=50, seed=1)
    text = printed(ds, width)
    assert "Left out" not in text
    return text.splitlines()
