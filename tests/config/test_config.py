"""Config validation: every mistake is a clear message naming the field, value and what is allowed."""

from __future__ import annotations

import copy
import datetime as dt
import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import simulator
from simulator.config.bundled import bundled_config, bundled_configs_dir
from simulator.config.load import config_from_dict, dumps_config, load_config, loads_config
from simulator.config.messages import ConfigError
from tests.helpers import config_dict, placement_service

VALID = config_dict(
    {
        "homes": placement_service(
            department="Children",
            caseload={"open": 3},
            arrivals={"per_year": 5.0, "growth": {"dist": "normal", "mean": 0.03, "sd": 0.01}},
            inflation={"factors": {"market": 1.0}},
            income={"share": {"dist": "beta", "mean": 0.1, "sd": 0.02}},
            savings={"eoc": {"target_gbp": {"2024/25": 10_000}, "delivery": 0.5}},
        ),
        "staff": {"kind": "cost", "budget_gbp": 100_000, "cost": {"annual_gbp": 100_000}},
    },
    inflation={"factors": {"market": {"uplift": {"dist": "normal", "mean": 0.05, "sd": 0.01}}}},
    years=2,
)


def _broken(path: str, value):
    """VALID with the value at a dotted path replaced (or removed when value is ...)."""
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


CASES = [
    (
        "services.homes.length.median_weeks",
        -3,
        "services.homes.length.median_weeks = -3: must be > 0 and <= 100000 (weeks)",
    ),
    (
        "services.homes.length.medain_weeks",
        5,
        "services.homes.length.medain_weeks = 5: unknown field (did you mean 'median_weeks'?)",
    ),
    (
        "services.homes.budget_gbp",
        {"2024/25": 1},
        "services.homes.budget_gbp: no budget for 2025/26",
    ),
    (
        "services.homes.budget_gbp",
        {"2024/25": 1, "2025/26": 1, "2029/30": 1},
        '"2029/30": 2029/30 is outside the horizon 2024/25 to 2025/26',
    ),
    ("horizon.start", "2024/26", "horizon.start = '2024/26': '2024/26' is not a financial year"),
    ("horizon.years", 6, "horizon.years = 6: input should be less than or equal to 5"),
    (
        "services.homes.arrivals.growth",
        {"dist": "normall", "mean": 0},
        "dist = 'normall' is not a known distribution",
    ),
    (
        "services.homes.income.share",
        {"dist": "beta", "mean": 0.5, "sd": 0.6},
        "a beta with mean 0.5 needs sd < 0.5",
    ),
    (
        "services.homes.inflation",
        {"factors": {"markt": 1.0}},
        "services.homes.inflation.factors.markt: no such factor in [inflation.factors] (defined: market)",
    ),
    (
        "services.homes.length",
        {"dist": "gamma", "mean_weeks": 10, "sigma": 1},
        "sigma is not used by a gamma length (it takes shape)",
    ),
    (
        "services.homes.length",
        {"dist": "lognormal", "mean_weeks": 10, "median_weeks": 9, "sigma": 1},
        "give exactly one of median_weeks or mean_weeks",
    ),
    (
        "services.homes.arrivals.seasonality",
        [1, 2, 3],
        "seasonality has 3 values: give 12 relative weights, April to March",
    ),
    ("services.staff.cost", ..., "a kind = 'cost' line needs a [cost] section"),
    (
        "services.homes.arrivals.per_year",
        "ten",
        "services.homes.arrivals.per_year = 'ten': must be a number or a distribution table",
    ),
    (
        "services.homes.arrivals.growth",
        {"dist": "normal", "mean": 0.03, "sd": 0.5},
        "can go below -0.9",
    ),
    (
        "services.homes.caseload",
        {"open": 2, "elapsed_weeks": [1.0]},
        "elapsed_weeks lists 1 placements but open = 2",
    ),
    ("council", ..., "council: is required but missing"),
    ("services.homes.unit_cost.cv", float("nan"), "services.homes.unit_cost.cv = nan"),
    ("services.homes.department", "total", "must differ from every service name and from 'total'"),
]


@pytest.mark.parametrize(
    ("path", "value", "expected"), CASES, ids=[c[0] + str(i) for i, c in enumerate(CASES)]
)
def test_broken_config_gives_expected_message(path, value, expected):
    with pytest.raises(ConfigError) as exc:
        config_from_dict(_broken(path, value), "county.toml")
    text = str(exc.value)
    assert text.startswith("county.toml: "), text
    assert expected in text, text


def test_bad_service_name_and_scenario():
    data = copy.deepcopy(VALID)
    data["services"]["Homes-2"] = data["services"].pop("homes")
    with pytest.raises(ConfigError, match=r"services\.Homes-2: a service name must be lower_case"):
        config_from_dict(data, "x.toml")
    data = copy.deepcopy(VALID)
    data["scenarios"] = {
        "worse": {"changes": {"services": {"homes": {"arrivals": {"per_year": -1}}}}}
    }
    with pytest.raises(
        ConfigError, match=r"scenarios.worse.changes: services.homes.arrivals.per_year = -1"
    ):
        config_from_dict(data, "x.toml")


def test_valid_config_and_resolved_round_trip():
    config = config_from_dict(copy.deepcopy(VALID), "x.toml")
    assert loads_config(dumps_config(config)) == config


def test_every_bundled_config_is_valid():
    names = sorted(p.name for p in bundled_configs_dir().glob("*.toml"))
    assert {"example_county.toml", "leicester_city_children.toml", "bcp_children_2021.toml"} <= set(
        names
    )
    for name in names:
        config = load_config(bundled_configs_dir() / name)
        assert loads_config(dumps_config(config)) == config
    assert bundled_config().name == "example_county.toml"


# ---------------------------------------------------------------- property test

toml_scalars = st.one_of(
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.booleans(),
    st.dates().map(lambda d: dt.datetime(d.year, d.month, d.day)),
)
toml_values = st.recursive(
    toml_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=8,
)


def _paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _paths(v, (*prefix, i))


ALL_PATHS = [p for p in _paths(VALID) if p]


@st.composite
def mutated(draw):
    data = copy.deepcopy(VALID)
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(ALL_PATHS))
        node = data
        try:
            for p in path[:-1]:
                node = node[p]
            action = draw(st.sampled_from(["replace", "delete", "add"]))
            if action == "replace":
                node[path[-1]] = draw(toml_values)
            elif action == "delete" and isinstance(node, dict):
                node.pop(path[-1], None)
            elif isinstance(node, dict):
                node[draw(st.text(min_size=1, max_size=10))] = draw(toml_values)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation changed the shape; skip this one
    return data


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_any_mutation_is_a_valid_model_or_a_clear_error(data):
    try:
        config = config_from_dict(data, "mutant.toml")
    except ConfigError as exc:
        assert exc.problems, "a ConfigError must list its problems"
        for line in str(exc).splitlines():
            assert line.startswith("mutant.toml: ") and len(line) > len("mutant.toml: ")
        return
    # A valid model must also run.
    ds = simulator.run(config, draws=2, seed=1)
    assert all(math.isfinite(float(x)) for x in ds["outturn"].values.ravel())


def test_uplifts_may_not_take_prices_to_zero():
    data = copy.deepcopy(VALID)
    data["inflation"]["factors"]["market"]["uplift"] = -0.4
    data["services"]["homes"]["inflation"]["factors"]["market"] = 3.0
    with pytest.raises(ConfigError, match="uplifts must stay above -90% a year"):
        config_from_dict(data, "x.toml")


def test_one_elapsed_time_needs_a_count():
    data = _broken("services.homes.caseload", {"elapsed_weeks": 52})
    with pytest.raises(ConfigError, match=r"give open = \.\.\. too"):
        config_from_dict(data, "x.toml")


def test_a_truncated_normal_with_its_mean_outside_its_bounds_is_warned_of():
    # Trial defect 7: calibrate once wrote growth = mean 27.5 truncated to [-0.9, 2.0].
    from tests.helpers import make_config

    growth = {"dist": "normal", "mean": 27.5, "sd": 1.0, "low": -0.9, "high": 2.0}
    config = make_config({"a": placement_service(arrivals={"per_year": 5.0, "growth": growth})})
    assert any("services.a.arrivals.growth" in w and "27.5" in w for w in config.warnings)
    fine = make_config({"a": placement_service()})
    assert not [w for w in fine.warnings if "truncated" in w]
