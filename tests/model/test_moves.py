"""Moves between placement services (step-ups): the child's spend moves with them (issue 12).

With exponential lengths and constant move rates the services form a network of
infinite-server queues, whose expected caseloads solve linear differential
equations: the simulation must match them within Monte Carlo error.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.integrate import solve_ivp

import simulator
from simulator.config.inputs import input_label
from simulator.config.load import loads_config
from simulator.config.messages import ConfigError
from simulator.model.equations import WEEKS_PER_YEAR
from simulator.present.describe import describe

CHAIN = """
[council]
name = "Moves Borough"
[horizon]
start = "2025/26"
years = 2
[services.foster]
label = "Foster care"
budget_gbp = 1_000_000
caseload = {{ open = 200, elapsed_weeks = 10 }}
arrivals = {{ per_year = 150 }}
length = {{ dist = "exponential", mean_weeks = 52 }}
unit_cost = {{ mean_gbp_per_week = 800 }}
moves = {{ homes = {{ per_year = {foster_to_homes} }}, supported = {{ per_year = 0.05 }} }}
[services.supported]
label = "Supported accommodation"
budget_gbp = 1_000_000
arrivals = {{ per_year = 10 }}
length = {{ dist = "exponential", mean_weeks = 40 }}
unit_cost = {{ mean_gbp_per_week = 1500 }}
[services.homes]
label = "Children's homes"
budget_gbp = 1_000_000
caseload = {{ open = 15 }}
arrivals = {{ per_year = 20 }}
length = {{ dist = "exponential", mean_weeks = 30 }}
unit_cost = {{ mean_gbp_per_week = 5000 }}
moves = {{ supported = {{ per_year = 0.5 }} }}
"""


def _expected_caseloads(edges: np.ndarray, foster_to_homes: float) -> np.ndarray:
    """Mean open placements (foster, supported, homes) at each month end, from the ODEs.

    dA/dt = a_A - (1/52 + r_AH + r_AS) A;  dH/dt = a_H + r_AH A - (1/30 + r_HS) H;
    dS/dt = a_S + r_AS A + r_HS H - S/40 (rates per week; memoryless lengths, so the
    elapsed time of the starting caseload does not matter).
    """
    r_ah, r_as, r_hs = foster_to_homes / WEEKS_PER_YEAR, 0.05 / WEEKS_PER_YEAR, 0.5 / WEEKS_PER_YEAR
    a_a, a_s, a_h = 150 / WEEKS_PER_YEAR, 10 / WEEKS_PER_YEAR, 20 / WEEKS_PER_YEAR

    def rhs(_, y):
        f, s, h = y
        return [
            a_a - (1 / 52 + r_ah + r_as) * f,
            a_s + r_as * f + r_hs * h - s / 40,
            a_h + r_ah * f - (1 / 30 + r_hs) * h,
        ]

    sol = solve_ivp(rhs, (0, edges[-1]), [200, 0, 15], t_eval=edges, rtol=1e-10, atol=1e-10)
    return sol.y


@pytest.mark.slow
def test_caseloads_of_a_chain_of_moves_match_the_queueing_network():
    draws = 20_000
    ds = simulator.run(loads_config(CHAIN.format(foster_to_homes=0.2), "m.toml"), draws, 2)
    edges = ds["days_in_month"].values.cumsum() / 7.0
    expected = _expected_caseloads(edges, 0.2)
    for row, key in enumerate(("foster", "supported", "homes")):
        caseload = ds["caseload"].sel(service=key).values
        se = caseload.std(axis=0) / np.sqrt(draws)
        # 4 standard errors a month: 72 correlated comparisons, a false alarm well under 1%.
        np.testing.assert_array_less(np.abs(caseload.mean(axis=0) - expected[row]), 4 * se)


def test_a_small_chain_matches_the_network_roughly():
    """The fast version of the test above (2,000 draws), for a developer's run."""
    draws = 2_000
    ds = simulator.run(loads_config(CHAIN.format(foster_to_homes=0.2), "m.toml"), draws, 5)
    edges = ds["days_in_month"].values.cumsum() / 7.0
    expected = _expected_caseloads(edges, 0.2)
    homes = ds["caseload"].sel(service="homes").values
    se = homes.std(axis=0) / np.sqrt(draws)
    np.testing.assert_array_less(np.abs(homes.mean(axis=0) - expected[2]), 4 * se)
    # Moves carry children out of fostering: without them it keeps more.
    still = loads_config(CHAIN.format(foster_to_homes=0.0), "m.toml")
    kept = simulator.run(still, draws, 5)["caseload"].sel(service="foster").values[:, -1].mean()
    assert kept > ds["caseload"].sel(service="foster").values[:, -1].mean() + 5


CONSERVE = """
[council]
name = "Conservation Borough"
[horizon]
start = "2025/26"
years = 2
[services.a]
budget_gbp = 1
caseload = { open = 300, elapsed_weeks = 0 }
arrivals = { per_year = 0 }
length = { dist = "lognormal", median_weeks = 100_000, sigma = 0.0 }
unit_cost = { mean_gbp_per_week = 1.0, cv = 0.0 }
moves = { b = { per_year = 0.7 } }
[services.b]
budget_gbp = 1
arrivals = { per_year = 0 }
length = { dist = "lognormal", median_weeks = 100_000, sigma = 0.0 }
unit_cost = { mean_gbp_per_week = 1.0, cv = 0.0 }
"""


def test_every_placement_day_is_charged_to_exactly_one_service():
    """Nobody ends, £1 a week everywhere: each month, the two services together hold all 300
    children and are charged exactly 300 child-weeks, however many have moved."""
    ds = simulator.run(loads_config(CONSERVE, "c.toml"), 500, 9)
    a, b = (ds["caseload"].sel(service=k).values for k in ("a", "b"))
    assert np.all(a + b == 300)
    assert 0 < b[:, 0].mean() < b[:, -1].mean() < 300  # moves happen, and accumulate
    weeks = ds["days_in_month"].values / 7.0
    spend = ds["spend"].sel(service="total").values
    np.testing.assert_allclose(spend, np.broadcast_to(300 * weeks, spend.shape), rtol=1e-12)
    # The share still in a after t weeks is exp(-rate t): 300 independent children.
    t = ds["days_in_month"].values.cumsum()[-1] / 7.0
    p = np.exp(-0.7 / WEEKS_PER_YEAR * t)
    assert abs(a[:, -1].mean() - 300 * p) < 4 * np.sqrt(300 * p * (1 - p) / 500)


def test_moves_are_inputs_in_words_and_described():
    text = CHAIN.format(foster_to_homes='{ dist = "uniform", low = 0.1, high = 0.3 }')
    config = loads_config(text, "m.toml")
    ds = simulator.run(config, 50, 1)
    assert list(ds["input"].values) == ["services.foster.moves.homes.per_year"]
    labels = {"foster": "Foster care", "homes": "Children's homes"}
    assert input_label("services.foster.moves.homes.per_year", labels) == (
        "Foster care: move rate to Children's homes"
    )
    words = describe(config)
    assert (
        "    - moves to Children's homes, per open placement a year: 0.2 (80% between 0.12 and "
        "0.28, uniform)"
    ) in words.splitlines()
    assert "    - moves to Supported accommodation, per open placement a year: 0.05" in words


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("moves = { supported = { per_year = 0.5 } }", None),
        (
            "moves = { nowhere = { per_year = 0.5 } }",
            "services.homes.moves.nowhere: no such service",
        ),
        (
            "moves = { homes = { per_year = 0.5 } }",
            "services.homes.moves.homes: a service cannot move placements to itself",
        ),
        (
            "moves = { foster = { per_year = 0.5 } }",
            "moves go round in a circle (foster -> homes -> foster)",
        ),
        ("moves = { supported = { per_year = 60 } }", "services.homes.moves.supported.per_year"),
    ],
)
def test_moves_that_cannot_be_are_refused_naming_the_field(change, message):
    text = CHAIN.format(foster_to_homes=0.2).replace(
        "moves = { supported = { per_year = 0.5 } }", change
    )
    if message is None:
        loads_config(text, "m.toml")
        return
    with pytest.raises(ConfigError) as info:
        loads_config(text, "m.toml")
    assert message in str(info.value)


def test_a_scenario_that_cuts_step_ups_by_a_third_runs_on_common_random_numbers():
    from simulator.analysis.scenarios import compare_scenarios

    text = CHAIN.format(foster_to_homes=0.3) + (
        '\n[scenarios.fewer_step_ups]\ndescription = "Reduce step-ups by a third"\n'
        "changes = { services = { foster = { moves = { homes = { per_year = 0.2 } } } } }\n"
    )
    ds = compare_scenarios(loads_config(text, "m.toml"), 400, 5, ["fewer_step_ups"], threads=1)
    homes = ds["mean_overspend"].sel(service="homes")
    assert (homes.sel(scenario="fewer_step_ups") < homes.sel(scenario="base")).all()


# ------------------------------------------------------------------ ageing out at 18

AGEING = """
[council]
name = "Ageing Borough"
[horizon]
start = "2025/26"
years = 2
[services.foster]
label = "Foster care"
budget_gbp = 1
arrivals = {{ per_year = 100 }}
length = {{ dist = "exponential", mean_weeks = 100 }}
unit_cost = {{ mean_gbp_per_week = 1 }}
ageing = {{ age_at_entry = {{ "16-17" = 1.0 }}, continue_to = {{ {onward} }} }}
[services.adults]
label = "Supported living"
budget_gbp = 1
arrivals = {{ per_year = 0 }}
length = {{ dist = "lognormal", median_weeks = 100_000, sigma = 0.0 }}
unit_cost = {{ mean_gbp_per_week = 1 }}
"""


def _flow_into_adults(t: float, share: float) -> float:
    """Expected placements continuing into adults' care by week t.

    Entry at rate lam; age at entry uniform on [16, 18) years, so the time to the
    18th birthday tau is uniform on (0, 2 years]; the placement reaches it if its
    exponential length (mean 100 weeks) is longer: share * lam * int int 1{s + tau <= t}
    exp(-tau / 100) ds dtau / (2 years), by the trapezium rule on a fine grid.
    """
    lam, span = 100 / WEEKS_PER_YEAR, 2 * WEEKS_PER_YEAR
    tau = np.linspace(0.0, span, 20_001)
    inner = np.exp(-tau / 100.0) * np.clip(t - tau, 0.0, None)
    return share * lam * float(np.sum((inner[1:] + inner[:-1]) / 2 * np.diff(tau))) / span


def test_the_flow_ageing_out_into_adults_care_matches_its_integral():
    draws = 10_000
    ds = simulator.run(loads_config(AGEING.format(onward="adults = 0.5"), "a.toml"), draws, 4)
    adults = ds["caseload"].sel(service="adults").values  # nobody leaves: the cumulative flow
    edges = ds["days_in_month"].values.cumsum() / 7.0
    expected = np.array([_flow_into_adults(t, 0.5) for t in edges])
    se = adults.std(axis=0) / np.sqrt(draws)
    np.testing.assert_array_less(np.abs(adults.mean(axis=0) - expected), 4 * se + 1e-9)
    assert adults[:, -1].mean() > 30  # the flow is there to be seen


def test_nobody_stays_in_a_childrens_placement_past_leave_at():
    """Arrivals aged 17 in a 12-month horizon: all gone within a year of arriving, and with
    no continuation nobody reaches the adults' service."""
    text = (
        AGEING.format(onward="")
        .replace('"16-17" = 1.0', '"17" = 1.0')
        .replace("years = 2", "years = 1")
    )
    text = text.replace("mean_weeks = 100 ", "mean_weeks = 100000 ")
    ds = simulator.run(loads_config(text, "a.toml"), 300, 2)
    assert np.all(ds["caseload"].sel(service="adults").values == 0)
    foster = ds["caseload"].sel(service="foster").values
    arrivals = ds["arrivals"].sel(service="foster").values
    # Open at a month end: arrived within the last 12 months and not yet 18, so never more
    # than the arrivals of the year so far.
    assert np.all(foster <= np.cumsum(arrivals, axis=1))


def test_ageing_is_described_and_checked():
    config = loads_config(AGEING.format(onward="adults = 0.5"), "a.toml")
    words = describe(config)
    assert (
        "    - placements end at 18; 50% continue in Supported living; ages at entry 16-17 100%"
        in words.splitlines()
    )
    bad = [
        ('"16-17" = 1.0', '"16-18" = 1.0', "a band reaches past leave_at = 18"),
        ('"16-17" = 1.0', '"10-15" = 0.5, "16-17" = 0.4', "the shares add up to 0.9"),
        (
            "adults = 0.5",
            "nowhere = 0.5",
            "services.foster.ageing.continue_to.nowhere: no such service",
        ),
        ("adults = 0.5", "adults = 1.5", "shares must be at least 0 and add up to 1 or less"),
    ]
    for old, new, message in bad:
        text = AGEING.format(onward="adults = 0.5").replace(old, new)
        with pytest.raises(ConfigError) as info:
            loads_config(text, "a.toml")
        assert message in str(info.value), (new, str(info.value))


def test_the_results_show_what_came_from_childrens_services():
    """The transitions breakdown: an adults' service fed only by young people ageing out has
    all of its spend and caseload from children's services; with entrants of its own, part."""
    only = simulator.run(loads_config(AGEING.format(onward="adults = 0.5"), "a.toml"), 300, 4)
    adults = {"service": "adults"}
    year_ends = only["caseload"].sel(**adults).values[:, 11::12]
    np.testing.assert_array_equal(only["from_children_caseload"].sel(**adults).values, year_ends)
    np.testing.assert_allclose(
        only["from_children_outturn"].sel(**adults).values,
        only["outturn"].sel(**adults).values,
        rtol=1e-12,
    )
    assert only["from_children_caseload"].sel(**adults).values[:, -1].mean() > 20
    assert not only["from_children_outturn"].sel(service="foster").values.any()
    mixed_text = AGEING.format(onward="adults = 0.5").replace(
        "arrivals = { per_year = 0 }", "arrivals = { per_year = 30 }"
    )
    mixed = simulator.run(loads_config(mixed_text, "a.toml"), 300, 4)
    part = mixed["from_children_outturn"].sel(**adults).values
    whole = mixed["outturn"].sel(**adults).values
    assert np.all(part <= whole + 1e-6) and 0 < part.sum() < whole.sum()
    plain = simulator.run(loads_config(CHAIN.format(foster_to_homes=0.2), "m.toml"), 50, 1)
    assert not plain["from_children_outturn"].values.any()
