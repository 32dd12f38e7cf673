"""Defects a fuzz trial of configs found: each is now a one-line error naming the field.

Quoted numbers and true/false are not taken for numbers (25), no nesting or
year crashes the checks (26), figures that cannot be right are refused and
implausible ones warned of (27), sizes are capped (28/34), messages name the
field the user must change (29), and names are printable text (35).
"""

from __future__ import annotations

import copy
import time

import pytest

from simulator.config.bundled import bundled_configs_dir
from simulator.config.load import config_from_dict, load_config, loads_config
from simulator.config.messages import ConfigError
from tests.helpers import config_dict, placement_service

VALID = config_dict(
    {
        "homes": placement_service(
            department="Children",
            caseload={"open": 3},
            arrivals={"per_year": 5.0, "dispersion": 0.1},
            unit_cost={"mean_gbp_per_week": 1_000.0, "cv": 0.2},
            savings={"eoc": {"target_gbp": {"2024/25": 10_000}}},
        ),
        "staff": {"kind": "cost", "budget_gbp": 100_000, "cost": {"annual_gbp": 100_000}},
    },
    years=2,
)


def _with(path: str, value) -> dict:
    """VALID with the value at a dotted path replaced (removed when value is ...)."""
    data = copy.deepcopy(VALID)
    *parents, last = path.split(".")
    node = data
    for p in parents:
        node = node[p]
    if value is ...:
        del node[last]
    else:
        node[last] = value
    return data


def _lines(data: dict) -> list[str]:
    with pytest.raises(ConfigError) as exc:
        config_from_dict(data, "county.toml")
    return str(exc.value).splitlines()


def test_the_valid_config_is_valid_without_warnings():
    assert config_from_dict(copy.deepcopy(VALID), "county.toml").warnings == ()


# ---------------------------------------------------------------- 25: strict types

QUOTED = [
    ("horizon.years", "2", "horizon.years = '2': is text in quotes: write a whole number without quotes, e.g. 2"),
    ("horizon.years", True, "horizon.years = true: must be a whole number, not true"),
    ("horizon.years", 2.0, "horizon.years = 2.0: must be a whole number"),
    ("services.homes.arrivals.dispersion", "0.1", "services.homes.arrivals.dispersion = '0.1': is text in quotes: write a number without quotes, e.g. 0.1"),
    ("services.homes.caseload.open", "77", "services.homes.caseload.open = '77': is text in quotes: write a whole number without quotes, e.g. 77"),
    ("services.homes.unit_cost.cv", True, "services.homes.unit_cost.cv = true: must be a number, not true"),
    ("services.homes.arrivals.per_year", "5", "services.homes.arrivals.per_year = '5': is text in quotes: write a number without quotes, e.g. 5"),
    ("services.homes.arrivals.per_year", False, "services.homes.arrivals.per_year = false: must be a number or a distribution table"),
    ("services.homes.budget_gbp", "1000000", "services.homes.budget_gbp = '1000000': is text in quotes: write a number without quotes, e.g. 1000000"),
    ("services.homes.caseload.elapsed_weeks", "12", "services.homes.caseload.elapsed_weeks = '12': is text in quotes: write a number of weeks without quotes, e.g. 12"),
    ("services.homes.caseload.elapsed_weeks", [1, "2", 3], "services.homes.caseload.elapsed_weeks = [1, '2', 3]: the value '2' is text in quotes"),
    ("services.homes.arrivals.seasonality", [1] * 11 + ["1"], "services.homes.arrivals.seasonality[11] = '1': is text in quotes"),
    ("services.homes.label", 5, "services.homes.label = 5: must be text in quotes"),
    ("services.homes.inflation", {"factors": {"x": "1"}}, "services.homes.inflation.factors.x = '1': is text in quotes"),
    ("run", {"seed": "7"}, "run.seed = '7': is text in quotes: write a whole number without quotes, e.g. 7"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("path", "value", "expected"), QUOTED, ids=[f"{c[0]}={c[1]!r}" for c in QUOTED]
)
def test_a_quoted_number_or_a_boolean_is_not_a_number(path, value, expected):
    lines = _lines(_with(path, value))
    assert any(line.startswith(f"county.toml: {expected}") for line in lines), lines


def test_a_quoted_date_or_a_time_is_not_a_date():
    data = _with("snapshot", {"as_of": "2024-03-31"})
    data["services"]["homes"].pop("caseload")
    assert _lines(data) == [
        "county.toml: snapshot.as_of = '2024-03-31': is text in quotes: write a TOML date "
        "without quotes, e.g. 2024-06-30"
    ]
    import datetime as dt

    data["snapshot"]["as_of"] = dt.datetime(2024, 3, 31, 0, 0)  # was taken as 31 March
    assert _lines(data) == [
        "county.toml: snapshot.as_of = 2024-03-31T00:00:00: must be a date without a time of "
        "day, e.g. 2024-06-30"
    ]


# ---------------------------------------------------------------- 26: no tracebacks


@pytest.mark.parametrize(
    "text",
    [
        "x = " + "[" * 5000 + "]" * 5000,
        "x = " + "{a = " * 3000 + "1" + "}" * 3000,
        "[" + ".".join(["a"] * 50_000) + "]\n",
        "[council]\nname = 'x'\n[scenarios.s.changes" + ".a" * 2000 + "]\nb = 1\n",
    ],
    ids=["arrays", "inline tables", "table header", "scenario changes"],
)
def test_deep_nesting_is_one_line(text):
    with pytest.raises(ConfigError) as exc:
        loads_config(text, "deep.toml")
    (line,) = str(exc.value).splitlines()
    assert line.startswith("deep.toml: ") and "nested" in line and len(line) < 200, line


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        ("horizon.start", "0001/02", "horizon.start = '0001/02': '0001/02' is outside the years"),
        ("horizon.start", "9999/00", "horizon.start = '9999/00': '9999/00' is outside the years"),
        ("horizon.start", "2099/00", "horizon.years = 2: the horizon would end in 2100/01"),
        ("services.homes.budget_gbp", {"9999/00": 1}, "'9999/00' is outside the years"),
        (
            "inflation",
            {"price_base": "1066/67"},
            "inflation.price_base = '1066/67': '1066/67' is outside",
        ),
    ],
)
def test_years_far_away_are_one_line(path, value, expected):
    lines = _lines(_with(path, value))
    assert len(lines) == 1 and expected in lines[0], lines


# ---------------------------------------------------------------- 27: silent nonsense


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        ("services.homes.income", {"share": 1.0}, "services.homes.income.share = 1: all of the line's cost would be recovered"),
        ("services.homes.savings.eoc.target_gbp", 100e9, "services.homes.savings.eoc.target_gbp: £100,000,000,000 of savings in 2024/25 is more than 10 times the line's budget (£1,000,000)"),
        ("services.homes.length.median_weeks", 1e-300, "services.homes.length.median_weeks: a placement would last 1e-300 weeks, under a day"),
        ("services.homes.unit_cost.mean_gbp_per_week", 1e-9, "services.homes.unit_cost.mean_gbp_per_week: 1e-09 GBP a week is under £1"),
        ("services.staff.cost.annual_gbp", 0.5, "services.staff.cost.annual_gbp: 0.5 GBP a year is under £1"),
    ],
)  # fmt: skip
def test_figures_that_cannot_be_right_are_refused(path, value, expected):
    lines = _lines(_with(path, value))
    assert any(expected in line for line in lines), lines


def test_implausible_figures_are_warned_of():
    data = _with("services.homes.savings.eoc.target_gbp", {"2025/26": 2_000_000})
    data["services"]["homes"]["income"] = {"share": 0.95}
    data["services"]["staff"]["savings"] = {"cut": {"target_gbp": 1}}
    data["services"]["staff"]["budget_gbp"] = 0
    config = config_from_dict(data, "county.toml")
    assert config.warnings == (
        "services.homes.income.share: a median of 95% of the line's cost is recovered as "
        "income: check the figure (0.3 is 30%)",
        "services.homes.savings.eoc.target_gbp: £2,000,000 of savings in 2025/26 is more than "
        "the line's budget (£1,000,000), which is net of savings: check the figure",
        "services.staff.savings.cut.target_gbp: £1 of savings in 2024/25 is more than the "
        "line's budget (£0), which is net of savings: check the figure",
        "services.staff.savings.cut.target_gbp: £1 of savings in 2025/26 is more than the "
        "line's budget (£0), which is net of savings: check the figure",
    )


def test_a_line_with_no_placements_at_all_is_warned_of():
    data = _with("services.homes.caseload.open", 0)
    data["services"]["homes"]["arrivals"]["per_year"] = 0
    (warning,) = config_from_dict(data, "county.toml").warnings
    assert warning.startswith("services.homes: no placement is open at the start and none arrives")


def _in_year(spend: float) -> dict:
    data = copy.deepcopy(VALID)
    months = ["2024-04", "2024-05"]
    data["actuals"] = {
        "as_of": __import__("datetime").date(2024, 5, 31),
        "months": [
            # The placements line's month-end caseload restarts the simulation, unwarned.
            {
                "service": s,
                "month": m,
                "net_spend_gbp": 1000.0,
                **({"caseload": 2} if s == "homes" else {}),
            }
            for s in ("homes", "staff")
            for m in months
        ],
    }
    data["actuals"]["months"][1]["net_spend_gbp"] = spend
    return data


def test_actual_spend_out_of_all_proportion_is_refused_or_warned_of():
    assert _lines(_in_year(-100e9)) == [
        "county.toml: actuals.months[1] (homes 2024-05): net_spend_gbp = -100,000,000,000 is "
        "more than 10 times the line's budget for the whole of 2024/25 (£1,000,000): check the "
        "amount (pounds, not pence?)"
    ]
    (warning,) = config_from_dict(_in_year(2_000_000), "county.toml").warnings
    assert (
        "net_spend_gbp = 2,000,000 is more than the line's budget for the whole of 2024/25"
        in warning
    )
    (warning,) = config_from_dict(_in_year(-100_000), "county.toml").warnings
    assert "net_spend_gbp = -100,000 is a refund larger than a month's budget" in warning


def test_bundled_configs_have_no_warnings():
    for path in sorted(bundled_configs_dir().glob("*.toml")):
        assert load_config(path).warnings == (), path.name


# ---------------------------------------------------------------- 28/34: sizes


def test_a_hundred_thousand_services_is_refused_at_once():
    data = copy.deepcopy(VALID)
    service = data["services"]["staff"]
    data["services"] = {f"s{i}": service for i in range(100_000)}
    started = time.perf_counter()
    assert _lines(data) == ["county.toml: services: 100000 are given: at most 200"]
    assert time.perf_counter() - started < 2


@pytest.mark.parametrize(
    ("path", "most"),
    [("council.name", 200), ("services.homes.label", 80), ("services.homes.department", 80),
     ("services.homes.savings.eoc.label", 80)],
)  # fmt: skip
def test_text_fields_have_a_length_limit_and_are_not_echoed_whole(path, most):
    lines = _lines(_with(path, "x" * 50_000_000))
    assert len(lines) == 1 and len(lines[0]) < 250, lines[0][:300]
    assert f"is 50000000 characters long: at most {most} are allowed" in lines[0]
    assert config_from_dict(_with(path, "x" * most), "county.toml")


def test_a_long_service_name_is_refused_and_cut_short():
    data = copy.deepcopy(VALID)
    data["services"]["s" * 10_000] = data["services"].pop("staff")
    (line,) = _lines(data)
    assert (
        len(line) < 250 and "a service name must be lower_case_with_underscores, at most 60" in line
    )


def test_a_config_file_too_large_is_refused_before_it_is_read(tmp_path, monkeypatch):
    from simulator.config import load

    monkeypatch.setattr(load, "MAX_CONFIG_BYTES", 1000, raising=False)
    path = tmp_path / "big.toml"
    path.write_text("# " + "x" * 2000 + "\n")
    with pytest.raises(ConfigError, match=r"big.toml: is larger than 0 MB"):
        load_config(path)


def test_many_scenarios_are_refused():
    data = copy.deepcopy(VALID)
    data["scenarios"] = {f"s{i}": {"changes": {}} for i in range(51)}
    assert _lines(data) == ["county.toml: scenarios: 51 are given: at most 50"]


# ---------------------------------------------------------------- 29: naming the right field


def test_placements_kind_on_a_cost_line_names_kind():
    assert _lines(_with("services.staff.kind", "placements")) == [
        "county.toml: services.staff.kind = 'placements': this line has a [cost] section, which "
        "is for kind = 'cost' lines: write kind = 'cost', or give a placements service caseload, "
        "arrivals, length and unit_cost instead of cost"
    ]
    data = _with("services.homes.kind", "cost")
    assert _lines(data) == [
        "county.toml: services.homes.kind = 'cost': this line has a [caseload] section, which is "
        "for placements services: leave kind out (or write kind = 'placements'), or give a "
        "kind = 'cost' line only a [cost] section"
    ]


def test_a_missing_section_says_which():
    data = _with("services.homes.length", ...)
    assert _lines(data) == [
        "county.toml: services.homes: a placements service needs a [length] section (or kind = "
        "'cost' and a [cost] section)"
    ]


def test_elapsed_weeks_of_the_wrong_kind_is_one_line():
    assert _lines(_with("services.homes.caseload.elapsed_weeks", {"a": 1})) == [
        "county.toml: services.homes.caseload.elapsed_weeks = {'a': 1}: must be a number of "
        "weeks, or a list with one per open placement"
    ]


# ---------------------------------------------------------------- 35: names are text


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        ("council.name", "   ", "council.name = '   ': is only spaces: write some text"),
        ("council.name", "", "council.name = '': is empty: write some text"),
        ("council.name", "Tiny\x00Borough", "council.name = 'Tiny\\x00Borough': holds the control character U+0000"),
        ("council.name", "Tiny\nBorough", "council.name = 'Tiny\\nBorough': holds the control character U+000A"),
        ("council.name", " Tiny", "council.name = ' Tiny': has spaces at the start or end"),
        ("services.homes.label", "Homes\u202e", "services.homes.label = 'Homes\\u202e': holds the control character U+202E"),
        ("services.homes.label", "", "services.homes.label = '': is empty"),
        ("services.homes.department", "\t", "services.homes.department = '\\t': holds the control character U+0009"),
        ("services.homes.department", "  ", "services.homes.department = '  ': is only spaces"),
    ],
)  # fmt: skip
def test_names_must_be_printable_text(path, value, expected):
    lines = _lines(_with(path, value))
    assert lines == [f"county.toml: {expected}" + lines[0].split(expected, 1)[1]], lines


def test_a_long_scenario_name_is_refused():
    data = copy.deepcopy(VALID)
    data["scenarios"] = {"s" * 100: {"changes": {}}}
    assert _lines(data) == [
        "county.toml: scenarios.ssssssssssssssssssssssssssssssssssssssss...(100 characters): a "
        "scenario name must be lower_case_with_underscores, at most 60 characters"
    ]
