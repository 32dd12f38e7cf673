"""The tornado: each input group at its low and then its high percentile, one at a time.

:func:`tornado` pairs every variant with the ordinary run's base draws (common
random numbers) chunk by chunk (:func:`_tornado_chunk`), and pools per-chunk
centred moments into means and Monte Carlo standard errors
(:func:`_moments`, :func:`_pool`) in a :class:`TornadoEstimate`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from simulator.analysis.sensitivity.groups import InputGroup
from simulator.engine.chunks import chunk_bounds, chunk_rng, map_chunks
from simulator.errors import UserError
from simulator.model.equations import Plan, overspend_rows, simulate_chunk


@dataclass
class TornadoEstimate:
    """One-at-a-time effects, shaped ``(groups, rows, years)``, GBP or probability.

    ``mean_low`` is the change in mean overspend with the group at its low
    percentile (``p_low`` the change in the probability of overspend), and so
    on; ``*_se`` are Monte Carlo standard errors of the paired differences.
    """

    mean_low: np.ndarray
    mean_high: np.ndarray
    p_low: np.ndarray
    p_high: np.ndarray
    mean_low_se: np.ndarray
    mean_high_se: np.ndarray
    p_low_se: np.ndarray
    p_high_se: np.ndarray
    base_mean: np.ndarray  # (rows, years)
    base_p: np.ndarray  # (rows, years)
    percentiles: tuple[float, float]
    draws: int


def _moments(x: np.ndarray) -> np.ndarray:
    """[mean, sum of squared deviations] over axis 1 of ``x``, stacked on a new axis 1."""
    mean = x.mean(axis=1)
    return np.stack([mean, ((x - mean[:, None]) ** 2).sum(axis=1)], axis=1)


def _pool(parts: list[np.ndarray], sizes: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard error of the mean from per-chunk moments.

    ``parts[i]`` holds ``[mean, M2]`` on axis ``-3`` (as :func:`_moments` makes
    them); pooling centred moments (Chan, Golub and LeVeque) avoids the
    cancellation of raw sums of squares when a difference is large but steady.
    """
    mean, m2, n = parts[0][..., 0, :, :], parts[0][..., 1, :, :], sizes[0]
    for part, k in zip(parts[1:], sizes[1:], strict=True):
        delta = part[..., 0, :, :] - mean
        total = n + k
        mean = mean + delta * k / total
        m2 = m2 + part[..., 1, :, :] + delta**2 * n * k / total
        n = total
    return mean, np.sqrt(m2 / max(n - 1, 1) / n)


def _tornado_chunk(
    plan: Plan,
    groups: Sequence[InputGroup],
    percentiles: tuple[float, float],
    seed: int,
    index: int,
    n: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Moments over one chunk of the base run and of the paired differences.

    Returns base moments ``(2 stats, 2 moments, rows, years)`` for (overspend,
    overspend > 0) and difference moments ``(groups, 2 percentiles, 2 stats,
    2 moments, rows, years)``.
    """
    rng = chunk_rng(seed, index)
    u = rng.random((n, len(plan.inputs)))  # as an ordinary run draws them: same base draws
    state = rng.bit_generator.state
    base = overspend_rows(plan, simulate_chunk(plan, rng, n, u))
    base_stats = np.stack([base, (base > 0).astype(float)])
    diffs = np.empty((len(groups), 2, 2, 2, *base.shape[1:]))
    for g, group in enumerate(groups):
        for p, q in enumerate(percentiles):
            moved = u.copy()
            moved[:, list(group.members)] = q
            twin = np.random.Generator(np.random.PCG64())
            twin.bit_generator.state = state  # common random numbers for the cases
            out = overspend_rows(plan, simulate_chunk(plan, twin, n, moved))
            diffs[g, p] = _moments(np.stack([out, (out > 0).astype(float)]) - base_stats)
    return _moments(base_stats), diffs


def tornado(
    plan: Plan,
    groups: Sequence[InputGroup],
    draws: int,
    seed: int,
    percentiles: tuple[float, float] = (0.1, 0.9),
    threads: int | None = None,
    progress: Callable[[int], None] | None = None,
    client=None,
) -> TornadoEstimate:
    """Move each input group to its low and high percentile in turn.

    The base run is exactly ``overspend run`` with the same seed and draws.
    Each variant reuses the base run's input uniforms (with the group's
    columns set to the percentile) and its case-level generator state, so the
    differences carry little Monte Carlo noise. Case-level draws stay identical
    when the group does not change how many variates the model draws (inflation,
    income, savings, unit costs); when it changes arrival counts, the cases
    decouple after the first changed count and only the inputs stay common.

    Parameters
    ----------
    plan : Plan
    groups : sequence of InputGroup
        All inputs of a group are moved to the same percentile together.
    draws : int
        Draws per run; the model runs ``draws * (1 + 2 * len(groups))`` draws.
    seed : int
    percentiles : (float, float)
        Low and high, as fractions.
    threads : int, optional
    progress : callable, optional
        Called with the number of base draws finished, once per chunk.
    client : distributed.Client, optional
        Run each chunk as a task on this dask cluster (identical results).

    Returns
    -------
    TornadoEstimate
    """
    if not groups:
        raise UserError("the config has no uncertain inputs: nothing to analyse")
    if not all(0.0 < q < 1.0 for q in percentiles):
        raise UserError(f"tornado percentiles {percentiles}: each must be between 0 and 1")
    bounds = chunk_bounds(draws)
    parts: list = [None] * len(bounds)
    sizes = [b - a for a, b in bounds]

    def place(i: int, part) -> None:
        parts[i] = part
        if progress is not None:
            progress(sizes[i])

    chunks = [(seed, i, size) for i, size in enumerate(sizes)]
    map_chunks(_tornado_chunk, (plan, groups, percentiles), chunks, place, threads, client)
    (base_mean, base_p), _ = _pool([p[0] for p in parts], sizes)
    mean, se = _pool([p[1] for p in parts], sizes)  # (groups, 2 percentiles, 2 stats, rows, years)
    return TornadoEstimate(
        mean_low=mean[:, 0, 0],
        mean_high=mean[:, 1, 0],
        p_low=mean[:, 0, 1],
        p_high=mean[:, 1, 1],
        mean_low_se=se[:, 0, 0],
        mean_high_se=se[:, 1, 0],
        p_low_se=se[:, 0, 1],
        p_high_se=se[:, 1, 1],
        base_mean=base_mean,
        base_p=base_p,
        percentiles=tuple(percentiles),
        draws=draws,
    )
