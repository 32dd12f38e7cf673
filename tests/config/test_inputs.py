"""The table of uncertain inputs: every input declared once, complete, and read everywhere."""

from __future__ import annotations

import typing

import numpy as np
import pytest
from pydantic import BaseModel

import simulator
from simulator.config import inputs, schema
from simulator.config.distributions import Param
from simulator.config.inputs import INPUTS, OWNERS
from simulator.model.equations import build_plan
from tests.helpers import make_config, placement_service


def test_every_entry_is_complete():
    for entry in INPUTS:
        assert entry.owner in OWNERS, entry
        assert entry.path and entry.units and entry.words and entry.description, entry
        assert entry.allowed.units and entry.allowed.low < entry.allowed.high, entry
        assert entry.description[0].islower() and not entry.description.endswith("."), entry
    keys = [e.key for e in INPUTS]
    assert len(keys) == len(set(keys))


OWNED = (
    schema.Service,
    schema.Saving,
    schema.Move,
    schema.Factor,
    schema.DemandFactor,
    schema.Snapshot,
)


def _param_paths(model: type[BaseModel], prefix: str = "", stop: tuple = ()) -> set[str]:
    """Dotted paths of every field of ``model`` (and models inside it, but ``stop``) that may be uncertain."""
    found = set()
    for name, info in model.model_fields.items():
        kinds = typing.get_args(info.annotation) or (info.annotation,)
        if info.annotation is dict or typing.get_origin(info.annotation) is dict:
            continue  # mappings of other objects are walked on their own
        for kind in kinds:
            if kind is Param:
                found.add(prefix + name)
            elif isinstance(kind, type) and issubclass(kind, BaseModel) and kind not in stop:
                found |= _param_paths(kind, f"{prefix}{name}.", stop)
    return found


def _owned_paths(*owners: str) -> set[str]:
    return {e.path for e in INPUTS if e.owner in owners}


@pytest.mark.parametrize(
    ("model", "owners"),
    [
        (schema.Service, ("placements", "cost", "service")),
        (schema.Saving, ("saving",)),
        (schema.Move, ("move",)),
        (schema.Factor, ("factor",)),
        (schema.DemandFactor, ("demand",)),
        (schema.Snapshot, ("snapshot",)),
    ],
)
def test_every_uncertain_config_field_is_in_the_table(model, owners):
    # A field that may be a distribution but is missing here would be validated
    # and then silently never drawn by the model.
    assert _param_paths(model) == _owned_paths(*owners)


def test_no_uncertain_field_hides_in_other_sections():
    assert _param_paths(schema.Config, stop=OWNED) == set()


def everything_uncertain():
    """A config where every input of the table is present and uncertain."""
    normal = {"dist": "normal", "mean": 0.1, "sd": 0.02}
    share = {"dist": "beta", "mean": 0.2, "sd": 0.05}
    placements = placement_service(
        arrivals={
            "per_year": {"dist": "normal", "mean": 50, "sd": 5},
            "growth": normal,
            "demand": {"winter": 1.0},
        },
        length={
            "dist": "lognormal",
            "median_weeks": {"dist": "normal", "mean": 30, "sd": 2},
            "sigma": {"dist": "normal", "mean": 0.8, "sd": 0.05},
        },
        unit_cost={
            "mean_gbp_per_week": {"dist": "normal", "mean": 900, "sd": 50},
            "high_cost_share": share,
            "high_cost_mean_gbp_per_week": {"dist": "normal", "mean": 5000, "sd": 300},
        },
        inflation={"factors": {"care": 1.0}, "extra": normal},
        income={"share": share},
        savings={"reablement": {"target_gbp": 10_000, "delivery": share}},
        moves={"fostering": {"per_year": share}},
    )
    gamma = placement_service(
        length={
            "dist": "gamma",
            "mean_weeks": {"dist": "normal", "mean": 30, "sd": 2},
            "shape": {"dist": "normal", "mean": 2.0, "sd": 0.1},
        },
    )
    cost = {
        "kind": "cost",
        "budget_gbp": 500_000,
        "cost": {"annual_gbp": {"dist": "normal", "mean": 5e5, "sd": 1e4}, "growth": normal},
    }
    return make_config(
        {"homes": placements, "fostering": gamma, "staffing": cost},
        years=2,
        inflation={"price_base": "2024/25", "factors": {"care": {"uplift": normal}}},
        demand={"factors": {"winter": {"shock": normal}}},
    )


def test_the_model_draws_every_entry_and_names_read_back():
    plan = build_plan(everything_uncertain())
    seen = set()
    for inp in plan.inputs:
        ref = inputs.parse_name(inp.name)
        assert ref is not None and ref.spec is inp.spec, inp.name
        assert (
            inputs.input_name(ref.spec, ref.service, ref.saving, ref.factor, ref.year, ref.move)
            == inp.name
        )
        seen.add(inp.spec.key)
    # Every entry but the snapshot's (it needs a snapshot file) is drawn.
    assert seen == {e.key for e in INPUTS if e.owner != "snapshot"}


def test_results_carry_each_inputs_units_and_words():
    ds = simulator.run(everything_uncertain(), draws=20, seed=1)
    for name, units, label in zip(
        ds["input"].values, ds["input_units"].values, ds["input_label"].values, strict=True
    ):
        assert units == inputs.parse_name(str(name)).spec.units
        assert label == inputs.input_label(str(name), {"homes": "Homes", "fostering": "Fostering",
                                                        "staffing": "Staffing"})  # fmt: skip
    growth = list(ds["input"].values).index("services.homes.arrivals.growth")
    assert ds["input_units"].values[growth] == "1/year"
    assert ds["input_label"].values[growth] == "Homes: demand growth"
    assert np.all(np.isfinite(ds["input_value"].values))


@pytest.mark.parametrize(
    ("name", "label"),
    [
        ("services.home_care.arrivals.growth", "Home care: demand growth"),
        ("services.ifa.length.median_weeks", "Ifa: placement length"),
        ("services.ifa.inflation.extra[2025/26]", "Ifa: extra price rise, 2025/26"),
        ("services.ifa.inflation.extra", "Ifa: extra price rise"),
        ("services.hc.savings.re_ablement.delivery", "Hc: saving ‘re ablement’ delivery"),
        ("inflation.factors.nlw.uplift[2025/26]", "Price rise: nlw, 2025/26"),
        ("inflation.factors.nlw.uplift", "Price rise: nlw"),
        ("inflation.factors.nlw", "Price rise: nlw"),
        ("services.home_care", "services home care"),
        ("snapshot.extension_probability", "snapshot extension probability"),
    ],
)
def test_labels(name, label):
    assert inputs.input_label(name, {"home_care": "Home care"}) == label


@pytest.mark.parametrize(
    ("name", "by", "key"),
    [
        ("inflation.factors.nlw.uplift[2025/26]", "parameter", "inflation.factors.nlw.uplift"),
        ("inflation.factors.nlw.uplift[2025/26]", "section", "inflation.factors.nlw"),
        ("inflation.factors.nlw.uplift[2025/26]", "input", "inflation.factors.nlw.uplift[2025/26]"),
        ("services.a.arrivals.growth", "section", "services.a"),
        ("services.a.savings.s.delivery", "parameter", "services.a.savings.s.delivery"),
        ("snapshot.extension_probability", "section", "snapshot.extension_probability"),
    ],
)
def test_sensitivity_groups(name, by, key):
    assert inputs.group_key(name, by) == key


def test_validation_reads_the_allowed_range_from_the_table():
    bad = placement_service(income={"share": 1.5})
    with pytest.raises(schema.ConfigError, match=r"income\.share.*1\.5"):
        make_config({"x": bad})
    assert inputs.allowed("service", "income.share").contains(0.5)


def test_the_docs_carry_the_table():
    from pathlib import Path

    text = (Path(__file__).parents[2] / "docs" / "config.md").read_text(encoding="utf-8")
    between = text.split("<!-- inputs table: start -->\n", 1)[1].split(
        "\n<!-- inputs table: end -->"
    )[0]
    assert between == inputs.markdown_table()
