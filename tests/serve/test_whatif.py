"""The page's simulation is ``overspend compare``'s, number for number, chunk by chunk."""

from __future__ import annotations

import time

import numpy as np
import pytest

import simulator
from simulator.analysis.scenarios import compare_scenarios
from simulator.config.schema import Scenario
from simulator.errors import UserError
from simulator.serve.controls import changes_for, controls_of
from simulator.serve.figures import measures
from simulator.serve.whatif import WhatIf

SEED = 7


def _compare(config, changes, draws):
    """``overspend compare`` of the what-if, written as a scenario of the config."""
    with_it = config.model_copy(
        update={"scenarios": {"what_if": Scenario(description="x", changes=changes)}}
    )
    return compare_scenarios(with_it, draws, SEED, ["what_if"], threads=2)


@pytest.fixture(scope="module")
def engine(config):
    made = WhatIf(config, SEED, draws=1_500, first_draws=1_000, threads=2)
    made.first_pass(made.base)
    return made


def test_the_base_case_is_overspend_run(engine, config):
    engine._compute(engine.base, [0, 1, 2])
    base, _ = engine.view(engine.base, 3)
    ds = simulator.run(config, draws=1_500, seed=SEED, threads=1)
    # `run` adds rows before years and compare (whose numbers the page keeps) years before
    # rows: the same sums in another order, so equal to the last few bits.
    np.testing.assert_allclose(base.overspend, ds["overspend"].values, rtol=1e-12, atol=1e-6)
    np.testing.assert_allclose(base.monthly, ds["spend"].values, rtol=1e-6)  # float32 for the chart


@pytest.mark.parametrize(
    "values",
    [
        {"services.homes.arrivals.growth": "0.15"},  # changes the case-level draws
        {"services.homes.savings.step_down.delivery": "0.2"},  # after them: the same cases
        {"inflation.factors.care.uplift[2025/26]": "0.09", "services.transport.cost.growth": "0"},
    ],
)
def test_a_what_if_is_what_compare_gives_for_the_saved_scenario(engine, config, values):
    changes = changes_for(config, controls_of(config), values)
    case = engine.case(changes)
    engine.first_pass(case)
    assert engine.shown_chunks(case) == 2
    # The first pass, then refined by one more chunk: both equal compare at those draws.
    for draws in (1_000, 1_500):
        if draws > 1_000:
            engine._compute(engine.base, [2])
            engine._compute(case, [2])
        base, what = engine.view(case)
        assert base.overspend.shape[0] == draws
        scen = _compare(config, changes, draws)
        over = scen["overspend"].values
        np.testing.assert_array_equal(base.overspend, over[:, 0])
        np.testing.assert_array_equal(what.overspend, over[:, 1])
        for g, row in enumerate(scen["service"].values):
            for y, year in enumerate(scen["financial_year"].values):
                ms = measures(base.overspend[:, g, y], what.overspend[:, g, y])
                at = {"service": row, "financial_year": year, "scenario": "what_if"}
                assert ms[0].what_if == float(scen["p_overspend"].sel(at))
                assert ms[0].diff == pytest.approx(
                    float(scen["p_overspend_diff"].sel(at)), abs=1e-15
                )
                assert ms[0].diff_se == pytest.approx(float(scen["p_overspend_diff_se"].sel(at)))
                assert ms[4].what_if == pytest.approx(float(scen["mean_overspend"].sel(at)))
                assert ms[4].diff_se == pytest.approx(float(scen["mean_overspend_diff_se"].sel(at)))


def test_the_first_chunks_never_change_when_refined(engine, config):
    changes = changes_for(
        config, controls_of(config), {"services.home_care.arrivals.growth": "0.1"}
    )
    case = engine.case(changes)
    engine.first_pass(case)
    before = case.stacked(2).overspend.copy()
    engine._compute(case, [2])
    np.testing.assert_array_equal(case.stacked(3).overspend[:1_000], before)


def test_no_change_is_the_base_case_and_cases_are_cached(engine, config):
    controls = controls_of(config)
    assert engine.case(changes_for(config, controls, {})) is engine.base
    changes = changes_for(config, controls, {"services.homes.arrivals.growth": "0.12"})
    assert engine.case(changes) is engine.case(dict(changes))


def test_a_what_if_that_regroups_services_is_refused(engine):
    with pytest.raises(UserError, match="regroups services"):
        engine.case({"services": {"home_care": {"department": "Children"}}})


def test_the_background_refines_the_current_case_to_the_full_draws(config):
    made = WhatIf(config, SEED, draws=1_500, first_draws=500, threads=2)
    made.start()
    try:
        case = made.case(
            changes_for(config, controls_of(config), {"services.homes.arrivals.growth": "0.2"})
        )
        made.first_pass(case)
        for _ in range(600):  # at most a minute
            if made.complete(case):
                break
            time.sleep(0.1)
        assert made.complete(case)
        _, what = made.view(case)
        scen = _compare(config, case.changes, 1_500)
        np.testing.assert_array_equal(what.overspend, scen["overspend"].values[:, 1])
    finally:
        made.stop()
