"""The batched numpy yardstick (``benchmarks/batched_numpy.py``) simulates the engine's model.

Its random streams differ from the engine's, so it is checked in
distribution: every output's mean and variance against the engine's, in
Monte Carlo standard errors. Charging, where a slip would not show in a
distribution test at these sizes, is checked number for number against the
per-draw reference's overlap matrix (the direct translation of the rule).
"""

from __future__ import annotations

import numpy as np
import pytest

import simulator
import simulator.bench as bench
from simulator.config.calendar import month_grid

# |z| above this fails. Each check is a difference of two independent estimates
# over its standard error, close to normal at these sample sizes: a false
# alarm has probability 6.8e-6 per check, under 1e-3 for the ~130 checks of a
# test (Bonferroni).
Z_LIMIT = 4.5


@pytest.fixture(scope="module")
def batched():
    module = bench.load_batched()
    assert module is not None, "benchmarks/batched_numpy.py must load from the checkout"
    return module


def _z_means(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Difference of the means along axis 0, in standard errors of that difference."""
    se = np.sqrt(a.var(axis=0, ddof=1) / len(a) + b.var(axis=0, ddof=1) / len(b))
    diff = a.mean(axis=0) - b.mean(axis=0)
    # Where neither sample varies (a fixed amount), the means must agree exactly.
    return np.where(se > 0, diff / np.where(se > 0, se, 1.0), np.where(diff == 0, 0.0, np.inf))


def _variance_and_se(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sample variance along axis 0 and its standard error, sqrt((m4 - var^2) / n)."""
    dev = x - x.mean(axis=0)
    var, m4 = (dev**2).mean(axis=0), (dev**4).mean(axis=0)
    return var, np.sqrt(np.maximum(m4 - var**2, 0.0) / len(x))


def _z_variances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Difference of the variances along axis 0, in standard errors of that difference."""
    (va, sa), (vb, sb) = _variance_and_se(a), _variance_and_se(b)
    se, diff = np.sqrt(sa**2 + sb**2), va - vb
    return np.where(se > 0, diff / np.where(se > 0, se, 1.0), np.where(diff == 0, 0.0, np.inf))


# ------------------------------------------------------------------ charging, number for number


def _placements(grid, rng: np.random.Generator, n: int):
    """Placements of 6 draws: starting ones, new ones, some over at once, some past the horizon."""
    edges = grid.edges_weeks
    draw = rng.integers(0, 6, n)
    first = rng.integers(0, grid.n_months, n)
    start = edges[first] + rng.random(n) * np.diff(edges)[first]
    start[: n // 10], first[: n // 10] = 0.0, 0  # the starting caseload
    end = start + rng.exponential(40.0, n)
    end[n // 10 : n // 10 + 20] = start[n // 10 : n // 10 + 20]  # over as soon as it starts
    end[-20:] = edges[-1] + 10.0  # runs past the horizon
    return draw, first, start, end, rng.lognormal(6.5, 0.5, n)


def _check_charging(batched, grid, placements, caseload_too: bool = True) -> None:
    draw, first, start, end, cost = placements
    spend, caseload = batched.charge(draw, first, start, end, cost, grid, 6)
    reference = bench.load_reference()
    for d in range(6):
        mine = draw == d
        want_spend, want_caseload = reference.charge_overlap(
            start[mine], end[mine], cost[mine], grid.edges_weeks
        )
        # Sums of ~500 charges of ~1e5 GBP: rounding differs at ~1e-16 relative.
        np.testing.assert_allclose(spend[d], want_spend, rtol=1e-10, atol=1e-6)
        if caseload_too:
            np.testing.assert_array_equal(caseload[d], want_caseload)


def test_charging_many_draws_at_once_equals_the_overlap_matrix(batched):
    """Spend and month-end caseload of each draw, against the placements x months rule."""
    grid = month_grid(2024, 3)
    _check_charging(batched, grid, _placements(grid, np.random.default_rng(5), 3_000))


def test_charging_placements_that_end_on_a_month_boundary(batched):
    """Spend is exact; the caseload is not compared: an end exactly on a boundary is
    found by its day (end x 7, rounded down, as in the kernel), and 7 x (days / 7) can
    round below a whole day (a continuous length ends there with probability zero)."""
    grid = month_grid(2024, 3)
    draw, first, start, end, cost = _placements(grid, np.random.default_rng(6), 600)
    later = np.searchsorted(grid.edges_weeks, start, side="right")  # the next boundary
    end = grid.edges_weeks[np.minimum(later + 3, grid.n_months)]
    _check_charging(batched, grid, (draw, first, start, end, cost), caseload_too=False)


# ------------------------------------------------------------------ the model, in distribution


@pytest.fixture(scope="module")
def both(batched, mixed):
    """The engine and the batched yardstick on a config with every feature."""
    numpy_run = batched.simulate(mixed, 4_000, seed=21, block=150)
    engine = simulator.run(mixed, draws=6_000, seed=21).sel(service=numpy_run.keys)
    return engine, numpy_run


def _pairs(engine, numpy_run) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    months = [0, 5, 11, 17, 23]
    return {
        "outturn": (engine["outturn"].values, numpy_run.outturn),
        "overspend": (engine["overspend"].values, numpy_run.overspend),
        "gross": (engine["gross_outturn"].values, numpy_run.gross),
        "income": (engine["income"].values, numpy_run.income),
        "savings": (engine["savings"].values, numpy_run.savings),
        "caseload": (engine["caseload"].values[:, :, months], numpy_run.caseload[:, :, months]),
        "arrivals": (engine["arrivals"].values.sum(axis=2), numpy_run.arrivals.sum(axis=2)),
        "monthly spend": (engine["spend"].values[:, :, months], numpy_run.spend[:, :, months]),
    }


def test_batched_numpy_gives_the_engines_means(both):
    for name, (a, b) in _pairs(*both).items():
        z = _z_means(a.astype(float), b.astype(float))
        assert np.abs(z).max() < Z_LIMIT, (name, np.round(z, 1))


def test_batched_numpy_gives_the_engines_spreads(both):
    """Variances of every output, and of the total outturn (which carries the correlations)."""
    engine, numpy_run = both
    pairs = _pairs(engine, numpy_run)
    pairs["total outturn"] = (engine["outturn"].values.sum(axis=1), numpy_run.outturn.sum(axis=1))
    for name, (a, b) in pairs.items():
        z = _z_variances(a.astype(float), b.astype(float))
        assert np.abs(z).max() < Z_LIMIT, (name, np.round(z, 1))


def test_the_checks_can_fail(both):
    """The same tolerances catch a model slip the size of a small modelling error."""
    engine, numpy_run = both
    a, b = engine["outturn"].values, numpy_run.outturn
    assert np.abs(_z_means(a, b * 1.02)).max() > Z_LIMIT  # costs 2% too high
    centred = b.mean(axis=0) + (b - b.mean(axis=0)) * 1.15  # spread 15% too wide
    assert np.abs(_z_variances(a, centred)).max() > Z_LIMIT


# ------------------------------------------------------------------ blocks and refusals


def test_draws_run_in_blocks_of_bounded_size(batched, mixed, monkeypatch):
    sizes = []
    block = batched._block

    def recorded(config, plan, grid, rng, n):
        sizes.append(n)
        return block(config, plan, grid, rng, n)

    monkeypatch.setattr(batched, "_block", recorded)
    result = batched.simulate(mixed, 23, seed=1, block=7)
    assert sizes == [7, 7, 7, 2]
    assert result.spend.shape[0] == 23 and np.isfinite(result.spend).all()
    assert (result.caseload >= 0).all() and (result.gross > 0).all()


def test_default_block_keeps_a_service_near_the_placement_budget(batched):
    config = bench.synthetic_config(services=2, years=4, caseload=2_000)
    # 2,000 open and 1,200 arrivals a year for 4 years: 6,800 placements a draw.
    assert batched.block_for(config) == batched.BLOCK_PLACEMENTS // 6_800
    assert batched.block_for(config, budget_placements=10) == 1  # at least one draw


def test_batched_numpy_refuses_what_it_does_not_model(batched, mixed, tmp_path):
    from tests.runs.test_stream import monitoring_config

    with pytest.raises(batched.UnsupportedConfig, match="snapshot"):
        batched.simulate(monitoring_config(tmp_path), 5, seed=1)
    with pytest.raises(ValueError, match="block"):
        batched.simulate(mixed, 5, seed=1, block=0)


def test_the_yardsticks_refuse_moves_ageing_and_demand_and_the_bench_strips_them():
    from simulator.bench.yardsticks import (
        load_batched,
        load_reference,
        pathways_in,
        without_pathways,
    )
    from simulator.config.bundled import bundled_config
    from simulator.config.load import load_config

    config = load_config(bundled_config())
    used = pathways_in(config)
    assert any(u.startswith("moves from") for u in used) and any("ageing" in u for u in used)
    for module in (load_reference(), load_batched()):
        with pytest.raises(module.UnsupportedConfig, match="moves, ageing or shared demand"):
            module.simulate(config, 2, 0)
    stripped = without_pathways(config)
    assert pathways_in(stripped) == []
    assert list(stripped.services) == list(config.services)  # nothing else removed
    assert without_pathways(stripped) is stripped
    assert load_batched().simulate(stripped, 4, 0).outturn.shape[0] == 4
