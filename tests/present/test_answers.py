"""The cabinet's questions in words: every sentence against the numbers it states, the
one-page summary, labels instead of ids, and tables that fit the terminal."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from pypdf import PdfReader
from rich.console import Console

import simulator
from simulator.analysis.movement import movement
from simulator.analysis.scenarios import compare_scenarios
from simulator.analysis.tail import tail_attribution
from simulator.cli.app import main
from simulator.config.load import load_config, loads_config
from simulator.present import answers, tables
from simulator.present.numbers import MINUS, money_m, pct_text
from simulator.present.report import cabinet
from simulator.present.report.document import how_to_read
from simulator.results.reserve import reserve_dataset

ROOT = Path(__file__).resolve().parents[2]
COUNTY = ROOT / "configs" / "example_county.toml"
DRAWS = 600


@pytest.fixture(scope="module")
def ds() -> xr.Dataset:
    return simulator.run(load_config(COUNTY), draws=DRAWS, seed=4)


@pytest.fixture(scope="module")
def scen() -> xr.Dataset:
    return compare_scenarios(load_config(COUNTY), DRAWS, 4)


def _total(ds: xr.Dataset, year: str = "2024/25") -> np.ndarray:
    return ds["overspend"].sel(service="total", financial_year=year).values


def _amounts(text: str) -> list[str]:
    return re.findall(rf"{MINUS}?£[\d,.]+[mk]", text)


# ------------------------------------------------------------------ sentences against numbers


def test_reserve_sentences_state_the_quantiles_of_the_draws(ds):
    r = reserve_dataset(ds)
    over = _total(ds)
    text = answers.reserve_sentence(r, "total", "2024/25")
    assert _amounts(text)[0] == money_m(np.quantile(over, 0.9))
    assert "in 9 futures out of 10" in text
    se = float(r["reserve_se"].sel(service="total", financial_year="2024/25", confidence=0.9))
    assert text.endswith(f"(s.e. {answers.money_k_or_m(se)}).")
    words = answers.savings_sentence(r, "total", "2024/25")
    assert _amounts(words)[0] == money_m(np.median(over))
    assert f"from {pct_text(np.mean(over > 0))} to evens" in words
    worst = over[over >= np.quantile(over, 0.95)]
    assert _amounts(answers.shortfall_sentence(r, "total", "2024/25"))[0] == money_m(worst.mean())
    r19 = answers.reserve_sentence(r, "total", "2024/25", 0.95)
    assert "19 futures out of 20" in r19 and _amounts(r19)[0] == money_m(np.quantile(over, 0.95))


def test_reserve_line_for_the_console_names_every_year(ds):
    line = answers.reserve_line(reserve_dataset(ds, services=["total"]))
    for year in ds["financial_year"].values:
        amount = money_m(max(np.quantile(_total(ds, str(year)), 0.9), 0), 1, "-")
        assert f"{amount} in {year}" in line


def test_scenario_sentences_state_the_scenarios_numbers(scen):
    total = scen.sel(service="total", financial_year="2024/25")
    for i in range(1, scen.sizes["scenario"]):
        text = answers.scenario_sentence(scen, i, "2024/25")
        over = total["overspend"].values
        p0, p1 = (pct_text(np.mean(over[:, k] > 0)) for k in (0, i))
        assert (f"from {p0} to {p1}" in text) or (p0 == p1 and f"stays at {p0}" in text)
        change = money_m(np.mean(over[:, i] - over[:, 0]))
        assert f"({'' if change.startswith(MINUS) else '+'}{change} expected overspend)" in text
        assert str(scen["scenario_description"].values[i]) in text
        assert str(scen["scenario"].values[i]) not in text  # the description, not the id


def test_tail_attribution_sums_to_the_totals_tail_mean_and_its_sentence_says_so(ds):
    t = tail_attribution(ds, "2024/25")
    over = _total(ds)
    worst = over >= np.quantile(over, 0.9)
    assert t.total_tail_mean == pytest.approx(over[worst].mean(), rel=1e-12)
    assert sum(line.tail_overspend for line in t.lines) == pytest.approx(
        t.total_tail_mean, rel=1e-9
    )
    assert sum(line.share_tail for line in t.lines) == pytest.approx(1.0, rel=1e-9)
    assert sum(line.share_average for line in t.lines) == pytest.approx(1.0, rel=1e-9)
    text = answers.tail_sentence(t)
    amounts = _amounts(text)
    assert amounts[:2] == [money_m(over[worst].mean()), money_m(over.mean())]
    top = t.lines[0]
    assert f"{top.label} carries {pct_text(top.share_tail)} of it" in text
    line = ds["overspend"].sel(service=top.service, financial_year="2024/25").values
    assert top.tail_overspend == pytest.approx(line[worst].mean())
    own = line >= np.quantile(line, 0.9)
    assert top.own_tail_overspend == pytest.approx(line[own].mean())
    months = ds["month_financial_year"].values == "2024/25"
    started = ds["arrivals"].sel(service=top.service).values[:, months].sum(axis=1)
    assert top.arrivals_average == pytest.approx(started.mean())
    assert top.arrivals_tail == pytest.approx(started[worst].mean())
    assert top.own_arrivals_tail == pytest.approx(started[own].mean())


def test_movement_splits_the_change_exactly_and_says_which_line(ds):
    text = COUNTY.read_text()
    old = "arrivals = { per_year = 70,"  # children's homes: half as many again arrive
    assert text.count(old) == 1
    later = loads_config(text.replace(old, "arrivals = { per_year = 105,"), base_dir=COUNTY.parent)
    after = simulator.run(later, draws=DRAWS, seed=4)
    m = movement(ds, after)
    row = m.of("total", "2024/25")
    assert row.p_before == np.mean(_total(ds) > 0) and row.p_after == np.mean(_total(after) > 0)
    lines = m.lines("2024/25")
    assert sum(r.mean_change for r in lines) == pytest.approx(row.mean_change, rel=1e-9)
    assert lines[0].service == "childrens_homes"
    text = answers.movement_sentence(m, "2024/25")
    assert f"rose from {pct_text(row.p_before)} to {pct_text(row.p_after)}" in text
    assert "mainly Children's homes" in text
    assert f"+{money_m(row.mean_change)} change in expected overspend" in text


def test_movement_refuses_another_council(ds):
    other = ds.copy()
    other.attrs = {**ds.attrs, "council": "Elsewhere"}
    with pytest.raises(simulator.errors.UserError, match="same council"):
        movement(other, ds)


def test_how_to_read_quotes_the_reports_own_headline(ds):
    text = " ".join(how_to_read(ds))
    p = np.mean(_total(ds) > 0)
    assert f"{pct_text(p)} chance of an overspend" in text
    assert "73%" not in text or pct_text(p) == "73%"  # no longer a made-up example


# ------------------------------------------------------------------ the one page


@pytest.mark.slow
def test_one_page_summary_fits_one_a4_page_and_states_the_headline(ds, scen, tmp_path):
    s = cabinet.cabinet_summary(ds, None, scen)
    run = cabinet.RunInfo.from_dataset(ds)
    cabinet.write_cabinet_pdf(s, run, tmp_path / "summary.pdf")
    reader = PdfReader(tmp_path / "summary.pdf")
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert (float(box.width), float(box.height)) == pytest.approx((595.4, 841.7), abs=1)
    text = " ".join(reader.pages[0].extract_text().split())
    over = _total(ds)
    assert f"{pct_text(np.mean(over > 0))} chance that all services together" in text
    for figure in (money_m(np.median(over)), money_m(np.quantile(over, 0.9))):
        assert figure in text
    assert f"A reserve of {money_m(np.quantile(over, 0.9))} covers" in text
    assert "Budgets are placeholders" not in text
    fig = cabinet.cabinet_figure(s, run)
    assert fig.get_size_inches() == pytest.approx(cabinet.A4)
    cabinet.write_cabinet_png(s, run, tmp_path / "summary.png")
    assert (tmp_path / "summary.png").stat().st_size > 10_000


def test_the_page_leaves_out_what_does_not_fit_and_stays_above_the_footer(ds, scen):
    s = cabinet.cabinet_summary(ds, None, scen)
    crowded = cabinet.replace(s, headlines=s.headlines * 6, scenarios=s.scenarios * 3)
    run = cabinet.RunInfo.from_dataset(ds)
    from matplotlib.figure import Figure

    for summary in (s, crowded):
        fig = Figure(figsize=cabinet.A4)
        cabinet.FigureCanvasAgg(fig)
        bottom = cabinet.draw_cabinet_page(fig, summary, run)
        assert bottom >= 0.55, "text runs into the footer"
    text = " ".join(t.get_text() for t in fig.texts)
    assert s.headlines[0].split(".")[0] in text  # the total's headline always stays


def test_placeholder_budgets_are_said_on_the_page(ds):
    marked = ds.copy()
    marked.attrs = {**ds.attrs, "budgets_placeholder": "Children's homes; Home care"}
    s = cabinet.cabinet_summary(marked)
    assert s.notice.startswith("Budgets are placeholders (Children's homes; Home care)")
    assert cabinet.cabinet_summary(ds).notice == ""
    blocks = cabinet.cabinet_blocks(s)
    assert any(getattr(b, "text", "") == s.notice for b in blocks)


# ------------------------------------------------------------------ labels and widths


def _config_ids(path: Path) -> set[str]:
    """The config's keys a person must never read: services, factors, scenarios."""
    data = tomllib.loads(path.read_text())
    return {
        *data["services"], *data["inflation"]["factors"], *data.get("scenarios", {}),
    }  # fmt: skip


def _ids_in(text: str, ids: set[str]) -> list[str]:
    return sorted(k for k in ids if re.search(rf"(?<![\w.]){re.escape(k)}(?![\w])", text))


@pytest.fixture(scope="module")
def cli_output(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli")
    return out


def _run_cli(argv: list[str], capsys, monkeypatch, width: int | None) -> str:
    monkeypatch.setattr(tables, "terminal_width", lambda: width)
    assert main(argv) == 0
    return capsys.readouterr().out


@pytest.mark.slow
def test_sensitivity_and_compare_tables_fit_80_columns_with_labels_not_ids(
    tmp_path, capsys, monkeypatch
):
    ids = _config_ids(COUNTY)
    sens = ["sensitivity", str(COUNTY), "--method", "tornado", "--draws", "40",
            "--out", str(tmp_path)]  # fmt: skip
    comp = ["compare", str(COUNTY), "--draws", "60", "--out", str(tmp_path)]
    for argv in (sens, comp):
        text = _run_cli(argv, capsys, monkeypatch, 80)
        table = text.split("\n\n")[0]
        widths = [len(line) for line in table.splitlines()]
        assert max(widths) <= 80, f"{argv[0]}: {max(widths)} characters"
        assert "\u2026" not in table  # nothing cut short
        assert _ids_in(table, ids) == [], argv[0]
    assert "National Living Wage" in _run_cli(
        [*sens, "--force"], capsys, monkeypatch, None
    )  # a price rise is named by its description
    wide = _run_cli([*comp, "--force"], capsys, monkeypatch, None)
    assert "Mean overspend" in wide and "None of the savings programmes" in wide


def test_scenario_table_leaves_out_columns_to_fit_and_says_so(scen):
    narrow = Console(width=80, record=True)
    narrow.print(tables.scenario_table(scen, width=80))
    text = narrow.export_text()
    assert max(len(line) for line in text.splitlines()) <= 80
    assert "Left out to fit the terminal: Mean overspend (scenarios.nc has them all)." in " ".join(
        text.split()
    )
    full = Console(width=200, record=True)
    full.print(tables.scenario_table(scen, width=None))
    assert "Left out" not in full.export_text()


def test_one_money_unit_per_scenario_table(scen):
    c = Console(width=200, record=True)
    c.print(tables.scenario_table(scen, width=None))
    units = set(re.findall(r"£[\d.,]+([mk])", c.export_text()))
    assert len(units) == 1, units


def test_inputs_in_words_use_the_configs_labels_and_descriptions():
    from simulator.present.labels import config_words, input_words

    labels, factors = config_words(COUNTY.read_text())
    assert labels["home_care"] == "Home care"
    nlw = input_words("inflation.factors.nlw.uplift[2025/26]", labels, factors)
    assert nlw == "Price rise: National Living Wage uplift passed through to care fees, 2025/26"
    assert input_words("inflation.factors.nlw.uplift", {}, {}) == "Price rise: NLW"
    assert input_words("services.home_care.arrivals.growth", labels, factors).startswith(
        "Home care: "
    )
    assert config_words("not [toml") == ({}, {})


def test_one_money_unit_for_a_table():
    from simulator.present.numbers import money_unit

    assert money_unit([1.2e6, 3e4])(3e4) == "£0.03m"  # two decimals, still £m
    assert money_unit([1.2e6, 3e5])(3e5) == "£0.3m"
    assert money_unit([4e3, -2e4])(-2e4) == "-£20k"  # all small: £k
    assert money_unit([np.nan, 2e6])(np.nan) == "n/a"


def test_run_summary_prints_the_90_percent_reserve_line(ds):
    from simulator.present.console import print_summary

    console = Console(width=100, record=True)
    print_summary(ds, console)
    text = " ".join(console.export_text().split())
    amount = money_m(np.quantile(_total(ds), 0.9), 1, "-")
    assert (
        "Reserve that covers the overspend in 9 futures out of 10, all services together: "
        f"{amount} in 2024/25" in text
    )


def test_report_blocks_hold_the_movement_reserve_target_and_scenarios(ds, scen):
    from simulator.present.report import Heading, Paragraph, build_report

    reserve = reserve_dataset(ds, target=0.3)
    blocks = build_report(ds, None, scen, reserve=reserve, since=movement(ds, ds))
    headings = [b.text for b in blocks if isinstance(b, Heading)]
    for heading in ("Reserve and savings", "What drives the worst outcomes", "Scenarios",
                    "Movement since the last forecast", "Words used in this report"):  # fmt: skip
        assert heading in headings
    text = " ".join(b.text for b in blocks if isinstance(b, Paragraph))
    assert "stayed at" in text  # the same run twice: nothing moved
    assert "To bring it to 30% would take" in text
    assert answers.scenario_sentence(scen, 1, "2024/25") in text


def test_report_since_a_missing_folder_is_one_clear_line(ds, tmp_path, capsys):
    from simulator.results.dataset import write_run

    write_run(ds, tmp_path / "run")
    missing = tmp_path / "nothere"
    assert main(["report", str(tmp_path / "run"), "--since", str(missing)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: --since: {missing}") and err.count("\n") == 1, err
    assert not (tmp_path / "run" / "report.pdf").exists()


def test_the_sobol_bars_total_never_changes_mid_run():
    """Each planned step is its own bar with a fixed total (issue 14, item 7)."""
    from rich.progress import Progress

    bar = Progress(disable=True)
    seen = []
    with tables.growing_progress_bar("Sobol design", bar) as (advance, grow):
        grow(100)
        for _ in range(10):
            advance(10)
            seen.append([(t.total, t.completed) for t in bar.tasks])
        grow(30)
        advance(30)
    totals = [t.total for t in bar.tasks]
    assert totals == [100, 30]
    assert all(step[0][0] == 100 for step in seen)  # the first bar's total stayed
    assert [t.completed for t in bar.tasks] == [100, 30]
