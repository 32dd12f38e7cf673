"""The report's transitions section: the part of adults' services that came from children's care.

A small council whose children's placements end at 18 and continue in part in an
adults' service gets a section whose sentences and table quote the results' own
``from_children_outturn`` and ``from_children_caseload``; a council without
ageing gets none.
"""

from __future__ import annotations

import numpy as np
import pytest

import simulator
from simulator.config.load import loads_config
from simulator.present import report
from simulator.present.numbers import MINUS, count, money_text, money_unit, pct1
from simulator.present.report.blocks import Bullets, Heading, Paragraph, Table
from simulator.present.report.transitions import (
    continuing_into,
    transition_sentence,
    transitions,
    transitions_section,
)

DRAWS = 300

CONFIG = """
[council]
name = "Transitions Borough"
[horizon]
start = "2025/26"
years = 2
[services.homes]
label = "Children's homes"
department = "Children's Services"
budget_gbp = 20_000_000
caseload = { open = 60 }
arrivals = { per_year = 40 }
length = { dist = "exponential", mean_weeks = 150 }
unit_cost = { mean_gbp_per_week = 5_000 }
ageing = { age_at_entry = { "14-17" = 1.0 }, continue_to = { living = 0.4 } }
[services.foster]
label = "Foster care"
department = "Children's Services"
budget_gbp = 3_000_000
caseload = { open = 80 }
arrivals = { per_year = 40 }
length = { dist = "exponential", mean_weeks = 100 }
unit_cost = { mean_gbp_per_week = 700 }
ageing = { age_at_entry = { "0-17" = 1.0 }, continue_to = { living = 0.1 } }
[services.living]
label = "Supported living"
department = "Adults"
budget_gbp = 10_000_000
caseload = { open = 100 }
arrivals = { per_year = 20 }
length = { dist = "exponential", mean_weeks = 400 }
unit_cost = { mean_gbp_per_week = 1_500 }
income = { share = 0.1 }
[services.home_care]
label = "Home care"
department = "Adults"
budget_gbp = 5_000_000
caseload = { open = 300 }
arrivals = { per_year = 200 }
length = { dist = "exponential", mean_weeks = 60 }
unit_cost = { mean_gbp_per_week = 330 }
"""

NO_AGEING = "\n".join(line for line in CONFIG.splitlines() if not line.startswith("ageing"))


@pytest.fixture(scope="module")
def ds():
    return simulator.run(loads_config(CONFIG, "transitions.toml"), draws=DRAWS, seed=12)


def test_the_section_quotes_the_results_own_numbers(ds):
    blocks = transitions_section(ds)
    assert (
        isinstance(blocks[0], Heading)
        and blocks[0].text == "From children\u2019s to adults\u2019 care"
    )
    assert "end at 18" in blocks[1].text
    # only the service young people continue into, under its label
    assert [b.text for b in blocks if isinstance(b, Heading) and b.level == 2] == [
        "Supported living"
    ]
    feeds = next(b.text for b in blocks[2:] if isinstance(b, Paragraph))
    assert "Children's homes (40.0%)" in feeds and "Foster care (10.0%)" in feeds
    sentences = next(b for b in blocks if isinstance(b, Bullets)).items
    table = next(b for b in blocks if isinstance(b, Table))

    money = ds["from_children_outturn"].sel(service="living").values  # (draw, year)
    open_ = ds["from_children_caseload"].sel(service="living").values
    assert money.mean() > 0 and open_.mean() > 0  # the flow happens at these sizes
    fmt = money_unit(
        np.concatenate([money.mean(0), *np.quantile(money, [0.05, 0.95], axis=0)]), MINUS
    )
    for y, (year, text, row) in enumerate(
        zip(["2025/26", "2026/27"], sentences, table.rows, strict=True)
    ):
        both = ds["outturn"] + ds["savings"]  # the same basis as the flow: before savings
        outturn = both.sel(service="living", financial_year=year).values.mean()
        low, high = np.quantile(money[:, y], [0.05, 0.95])
        month = np.flatnonzero(ds["month_financial_year"].values == year)[-1]
        caseload = ds["caseload"].sel(service="living").values[:, month].mean()
        c_low, c_high = np.quantile(open_[:, y], [0.05, 0.95], method="inverted_cdf")
        assert text == (
            f"Of the {money_text(outturn)} outturn before savings of Supported living in {year}, "
            f"{fmt(money[:, y].mean())} (90% range {fmt(low)} to {fmt(high)}) comes from young "
            f"people who were in children\u2019s care; so do {count(open_[:, y].mean())} of the "
            f"{count(caseload)} placements open at the year\u2019s end (90% range {count(c_low)} "
            f"to {count(c_high)})."
        )
        assert row == [
            year, money_text(outturn), fmt(money[:, y].mean()), f"{fmt(low)} to {fmt(high)}",
            pct1(money[:, y].mean() / outturn), count(caseload), count(open_[:, y].mean()),
            f"{count(c_low)} to {count(c_high)}",
        ]  # fmt: skip


def test_the_numbers_are_the_results_own_to_rounding(ds):
    rows = transitions(ds, "living")
    money = ds["from_children_outturn"].sel(service="living").values
    open_ = ds["from_children_caseload"].sel(service="living").values
    for y, t in enumerate(rows):
        assert t.money == money[:, y].mean()
        low_high = np.quantile(money[:, y], [0.05, 0.95])
        assert [t.money_low, t.money_high] == pytest.approx(low_high, rel=1e-12)
        assert t.open_ == open_[:, y].mean()
        # the range of a count ends on counts, not between two
        assert t.open_low == int(t.open_low) and t.open_high == int(t.open_high)
        assert t.money <= t.outturn  # a part of the service's own outturn
    # the transitions of a year are a part of what the service spent: never more
    assert np.all(money <= ds["outturn"].sel(service="living").values + 1e-6)


def test_the_report_carries_the_section_only_when_young_people_continue(ds):
    headings = [b.text for b in report.build_report(ds) if isinstance(b, Heading)]
    assert "From children\u2019s to adults\u2019 care" in headings
    plain = simulator.run(loads_config(NO_AGEING, "plain.toml"), draws=40, seed=12)
    assert transitions_section(plain) == []
    headings = [b.text for b in report.build_report(plain) if isinstance(b, Heading)]
    assert not any("adults\u2019 care" in h for h in headings)


def test_a_one_year_sentence_reads_as_the_brief_says(ds):
    t = transitions(ds, "living")[1]
    text = transition_sentence(t)
    assert text.startswith(
        f"Of the {money_text(t.outturn)} outturn before savings of Supported living in 2026/27, "
    )
    assert "comes from young people who were in children\u2019s care" in text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (CONFIG, {"living": {"homes": 0.4, "foster": 0.1}}),
        (NO_AGEING, {}),
        (CONFIG.replace("living = 0.1", "living = 0.0"), {"living": {"homes": 0.4}}),
        ("not [ toml", {}),
        ("", {}),
    ],
)
def test_which_services_young_people_continue_into_is_read_from_the_config(text, expected):
    assert continuing_into(text) == expected
