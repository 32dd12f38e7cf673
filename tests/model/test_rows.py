"""Result rows (departments, the total): the compiled row sums against numpy's, bit for bit.

``equations.add_rows`` adds each row's members one by one in service order; where
``out`` is contiguous and of the same dtype it does so with ``kernels.sum_rows``
in one compiled pass, and must give exactly what the numpy loop over rows gives
(the fallback it keeps for any other ``out``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import simulator
from simulator.config.load import load_config
from simulator.engine.chunks import allocate, chunk_rng, store_chunk
from simulator.model.equations import add_rows, build_plan, simulate_chunk

EXAMPLE = Path(simulator.__file__).resolve().parents[1] / "configs" / "example_county.toml"
NAMES = (
    "spend", "caseload", "arrivals", "gross", "income", "savings", "high_cost", "extended",
    "from_children", "from_children_caseload",
)  # fmt: skip


def _numpy_rows(plan, by_service: np.ndarray) -> np.ndarray:
    """The rows as numpy adds them, one row and member at a time (the definition)."""
    out = np.empty((by_service.shape[0], len(plan.groups), *by_service.shape[2:]), by_service.dtype)
    for g, group in enumerate(plan.groups):
        first, *rest = group.members
        out[:, g] = by_service[:, first]
        for member in rest:
            out[:, g] += by_service[:, member]
    return out


@pytest.fixture(scope="module")
def example():
    plan = build_plan(load_config(EXAMPLE))
    return plan, simulate_chunk(plan, chunk_rng(7, 0), 40)


def test_more_than_one_row_has_several_members(example):
    plan, _ = example
    assert sum(len(group.members) > 1 for group in plan.groups) >= 2  # departments and the total


@pytest.mark.parametrize("name", NAMES)
def test_every_result_row_is_the_numpy_sum_bit_for_bit(example, name):
    plan, result = example
    by_service = getattr(result, name)
    got = add_rows(plan, by_service)
    want = _numpy_rows(plan, by_service)
    assert got.dtype == want.dtype and np.array_equal(got, want)


def test_stored_chunks_are_the_numpy_sums(example):
    # store_chunk writes into rows of the run's arrays: contiguous slices, summed in place.
    plan, result = example
    out = allocate(plan, 50)
    store_chunk(plan, out, slice(10, 50), result)
    for name in NAMES:
        assert np.array_equal(getattr(out, name)[10:50], _numpy_rows(plan, getattr(result, name)))
        assert not getattr(out, name)[:10].any()  # nothing written outside the rows


def test_an_out_of_another_layout_or_dtype_takes_the_numpy_path(example):
    plan, result = example
    want = _numpy_rows(plan, result.spend)
    strided = np.zeros((result.spend.shape[0], len(plan.groups), 2 * result.spend.shape[2]))
    add_rows(plan, result.spend, out=strided[:, :, ::2])  # not contiguous: filled all the same
    assert np.array_equal(strided[:, :, ::2], want)
    wide = add_rows(plan, result.caseload, out=np.empty(want.shape, np.int64))
    assert np.array_equal(wide, _numpy_rows(plan, result.caseload.astype(np.int64)))


def test_no_draws_gives_empty_rows(example):
    plan, result = example
    assert add_rows(plan, result.spend[:0]).shape == (0, len(plan.groups), result.spend.shape[2])
