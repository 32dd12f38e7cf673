"""The page's controls: read from the one table of inputs, and the changes they make."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulator.config.inputs import describe_allowed, input_label, parse_name
from simulator.config.load import load_config
from simulator.config.messages import ConfigError
from simulator.errors import UserError
from simulator.serve.controls import (
    SECTIONS,
    changed_words,
    changes_for,
    controls_of,
    merge_changes,
    parse_value,
)
from simulator.serve.whatif import WhatIf


def _by_key(config):
    return {c.key: c for c in controls_of(config)}


def test_every_control_is_an_input_of_the_table_in_its_words(config):
    controls = controls_of(config)
    labels = {k: config.service_label(k) for k in config.services}
    keys = [c.key for c in controls]
    assert len(keys) == len(set(keys))
    assert {c.section for c in controls} == set(SECTIONS)
    for c in controls:
        # A service's extra price rise is one control for every April (one input a year).
        ref = parse_name(c.key) or parse_name(f"{c.key}[2025/26]")
        assert ref is not None, c.key
        assert c.allowed == describe_allowed(ref.spec)
        assert ref.spec.allowed.units in c.what
        if ref.spec.owner != "saving":  # savings are named by their label instead
            assert c.label == input_label(c.key, labels)
    found = _by_key(config)
    assert found["services.homes.savings.step_down.delivery"].label == (
        "Children's homes: saving ‘Step-down to fostering’ delivery"
    )
    # One control per April uplift of each shared factor.
    assert "inflation.factors.care.uplift[2025/26]" in found


def test_controls_start_at_the_configs_central_values(config):
    found = _by_key(config)
    assert found["services.homes.arrivals.growth"].value == 0.05  # a normal's mean
    assert found["services.homes.unit_cost.mean_gbp_per_week"].value == 6_000  # fixed
    assert found["services.homes.savings.step_down.delivery"].value == 0.6  # a beta's mean
    assert found["services.transport.cost.growth"].value == 0.04
    assert found["services.home_care.inflation.extra"].value == 0.0  # left out: none
    assert (
        changes_for(
            config, controls_of(config), {c.key: f"{c.value:g}" for c in controls_of(config)}
        )
        == {}
    )


def test_a_growth_control_makes_the_same_changes_as_the_hand_written_scenario(config):
    controls = controls_of(config)
    made = changes_for(config, controls, {"services.homes.arrivals.growth": "0.15"})
    assert made == config.scenarios["homes_growth_15pct"].changes


def test_switches_are_laid_first_and_controls_over_them(config):
    controls = controls_of(config)
    both = changes_for(
        config,
        controls,
        {"services.homes.arrivals.growth": "0.10"},
        ["homes_growth_15pct", "no_saving"],
    )
    assert both["services"]["homes"]["arrivals"]["growth"]["mean"] == 0.10
    assert both["services"]["homes"]["savings"]["step_down"]["delivery"] == 0.0
    # A control left at the config's value leaves a switched-on scenario's value standing.
    kept = changes_for(
        config, controls, {"services.homes.arrivals.growth": "0.05"}, ["homes_growth_15pct"]
    )
    assert kept == config.scenarios["homes_growth_15pct"].changes
    assert "scenario ‘no_saving’" in changed_words(config, controls, {}, ["no_saving"])[0]


def test_merging_replaces_a_distribution_whole():
    base = {"a": {"g": {"dist": "normal", "mean": 1, "sd": 2}, "x": 1}}
    more = {"a": {"g": 0.5}}
    assert merge_changes(base, more) == {"a": {"g": 0.5, "x": 1}}
    assert merge_changes(more, base)["a"]["g"] == {"dist": "normal", "mean": 1, "sd": 2}


def test_uniform_controls_move_the_middle_and_keep_the_width(tmp_path):
    from tests.serve.conftest import WHATIF_TOML

    text = WHATIF_TOML.replace(
        'growth = { dist = "normal", mean = 0.04, sd = 0.02 }',
        'growth = { dist = "uniform", low = 0.02, high = 0.06 }',
    )
    path = tmp_path / "u.toml"
    path.write_text(text)
    config = load_config(path)
    controls = controls_of(config)
    c = _by_key(config)["services.transport.cost.growth"]
    assert c.value == pytest.approx(0.04)
    made = changes_for(config, controls, {c.key: "0.10"})
    growth = made["services"]["transport"]["cost"]["growth"]
    assert growth["low"] == pytest.approx(0.08) and growth["high"] == pytest.approx(0.12)


@pytest.mark.parametrize(
    ("text", "valid"),
    [("abc", False), ("", False), ("5%", False), ("1e400", False), ("3.5", False), ("-2", False),
     ("0.1", True)],
)  # fmt: skip
def test_bad_input_gets_the_config_validators_own_message(
    config, whatif_toml, tmp_path, text, valid
):
    """The page refuses a value with the words `overspend validate` gives for the same block."""
    controls = controls_of(config)
    engine = WhatIf(config, 1, 500, 500, threads=1, source=whatif_toml.name)
    changes = changes_for(config, controls, {"services.homes.arrivals.growth": text})
    # The same value written by hand in the config file, as a scenario named what_if:
    value = parse_value(text)
    shown = repr(value) if isinstance(value, str) else value
    block = (
        "\n[scenarios.what_if]\n"
        f'changes.services.homes.arrivals.growth = {{ dist = "normal", mean = {_toml(shown)}, sd = 0.03 }}\n'
    )
    path = tmp_path / whatif_toml.name
    path.write_text(whatif_toml.read_text() + block)
    try:
        load_config(path)
    except ConfigError as exc:
        expected = exc.problems
    else:
        expected = None
    assert (expected is None) == valid
    if valid:  # the page takes it too
        engine.case(changes)
        return
    with pytest.raises(ConfigError) as page:
        engine.case(changes)
    assert page.value.problems == expected
    assert str(page.value).startswith(f"{whatif_toml.name}: scenarios.what_if.changes: ")


def _toml(value) -> str:
    if isinstance(value, float):
        return "inf" if value == float("inf") else repr(value)
    return '"' + value.strip("'") + '"'


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    key=st.sampled_from(
        [
            "services.homes.arrivals.growth",
            "services.homes.unit_cost.mean_gbp_per_week",
            "services.homes.savings.step_down.delivery",
            "services.transport.cost.annual_gbp",
            "inflation.factors.care.uplift[2025/26]",
            "services.home_care.inflation.extra",
        ]
    ),
    text=st.one_of(
        st.text(max_size=12),
        st.floats(allow_nan=True, allow_infinity=True).map(repr),
        st.integers(-(10**12), 10**12).map(str),
    ),
)
def test_any_text_in_any_control_is_a_what_if_or_the_validators_message(config, key, text):
    """Whatever is typed, the page gets a valid what-if or a UserError: never a traceback."""
    engine = WhatIf(config, 1, 500, 500, threads=1)
    try:
        engine.case(changes_for(config, controls_of(config), {key: text}))
    except UserError as exc:  # ConfigError is one
        assert str(exc)
