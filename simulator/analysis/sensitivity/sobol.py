"""Sobol indices: the Saltelli design, scipy's estimator, bootstrap intervals.

:func:`sobol_design` builds the design, :func:`sobol_analysis` runs it through
any :data:`~simulator.analysis.sensitivity.evaluator.Evaluator` on its
case-level streams and estimates first-order and total indices and the
case-level share (:class:`SobolEstimate`), and :func:`sobol_model` does so for
the model. :func:`shown_index` and :data:`SOBOL_CAVEAT` are for display. Why
each estimate is unbiased: the docstring of :mod:`simulator.analysis.sensitivity`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from simulator.analysis.sensitivity.evaluator import (
    _BOOT_KEY,
    _DESIGN_KEY,
    Evaluator,
    ModelEvaluator,
)
from simulator.analysis.sensitivity.groups import InputGroup
from simulator.engine.chunks import run_tasks
from simulator.errors import UserError
from simulator.model.equations import Plan

_BLOCK_BYTES = 1 << 18  # bootstrap work per scipy call: about 256 kB of model outputs

#: Said under every printed or drawn Sobol estimate: the true indices lie in [0, 1] with
#: first order <= total, but their estimates, shown clipped to [0, 1], need not.
SOBOL_CAVEAT = (
    "Estimates: small negative values or first-order above total are sampling noise; "
    "see the intervals."
)


def shown_index(values: np.ndarray | float) -> np.ndarray:
    """Sobol estimates clipped to [0, 1] for display (``sensitivity.nc`` keeps the raw ones).

    A true index is a share of variance, never below 0 or above 1; an estimate
    outside that range is the estimator's sampling noise, not a finding.
    """
    return np.clip(np.asarray(values, dtype=float), 0.0, 1.0)


@dataclass
class SobolEstimate:
    """Sobol indices of P outputs for G input groups, with bootstrap intervals.

    Every index is a fraction of the output's total variance (case-level
    randomness included). Arrays are shaped ``(P, G)`` except the case-level
    share and the variance, ``(P,)``. Outputs with no variance have NaN
    indices. ``redraws_cases[g]`` is True when moving group ``g`` changed the
    case-level draws, so its total index was taken from independent re-runs.
    """

    first_order: np.ndarray
    total_order: np.ndarray
    first_order_low: np.ndarray
    first_order_high: np.ndarray
    total_order_low: np.ndarray
    total_order_high: np.ndarray
    case_level_share: np.ndarray
    case_level_share_low: np.ndarray
    case_level_share_high: np.ndarray
    variance: np.ndarray
    redraws_cases: np.ndarray
    n: int
    evaluations: int
    confidence_level: float
    n_resamples: int


# Case-level streams of the design's matrices (see sobol_analysis).
_STREAM_A, _STREAM_B, _STREAM_FRESH, _STREAM_REDRAW = 0, 1, 2, 3


def sobol_design(n: int, n_inputs: int, groups: Sequence[InputGroup], seed: int) -> np.ndarray:
    """The Saltelli design on a scrambled Sobol sequence, as uniforms.

    Parameters
    ----------
    n : int
        Base samples (a power of two, for the balance of Sobol points).
    n_inputs : int
        Columns K.
    groups : sequence of InputGroup
        Columns moved together.
    seed : int
        Seeds the scrambling.

    Returns
    -------
    numpy.ndarray
        Shape ``(G + 3, n, K)``: ``A``, ``B``, then ``AB_g`` (``A`` with group
        ``g``'s columns from ``B``) for each group, then ``A`` again, which is
        run with fresh case-level randomness. ``A`` and ``B`` are the two
        halves of one 2K-dimensional Sobol sequence, as in
        :func:`scipy.stats.sobol_indices`.
    """
    # Imported here, not at the top: every `overspend` command loads this package
    # to register its options, and scipy.stats takes half a second to import.
    from scipy.stats import qmc

    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(_DESIGN_KEY,)))

    points = qmc.Sobol(d=2 * n_inputs, scramble=True, rng=rng).random(n)
    a, b = points[:, :n_inputs], points[:, n_inputs:]
    design = np.empty((len(groups) + 3, n, n_inputs))
    design[0], design[1], design[-1] = a, b, a
    for g, group in enumerate(groups):
        design[2 + g] = a
        design[2 + g][:, list(group.members)] = b[:, list(group.members)]
    return design


def _scipy_indices(
    f_a: np.ndarray, f_b: np.ndarray, f_ab: np.ndarray, redrawn: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """First-order and total indices and the case-level share, from scipy's estimator.

    ``f_ab`` holds G pages run on ``A``'s case-level stream, then one page
    re-run on independent streams for each redrawn group (in order), then
    ``A`` on a fresh stream. scipy treats every page as an input: the last
    page's total index is the case-level share, which is taken off the total
    index of each redrawn group (see the package docstring).
    """
    from scipy.stats import sobol_indices  # here, not at import (see sobol_design)

    n_out, n = f_a.shape
    pages, n_groups = f_ab.shape[0], redrawn.size
    with np.errstate(divide="ignore", invalid="ignore"):
        res = sobol_indices(func={"f_A": f_a, "f_B": f_b, "f_AB": f_ab}, n=n)
    first = np.reshape(res.first_order, (n_out, pages))
    total = np.reshape(res.total_order, (n_out, pages))
    case = total[:, -1]
    totals = total[:, :n_groups].copy()
    totals[:, redrawn] = total[:, n_groups:-1] - case[:, None]
    return first[:, :n_groups], totals, case


def _bootstrap(
    f_a: np.ndarray,
    f_b: np.ndarray,
    f_ab: np.ndarray,
    redrawn: np.ndarray,
    seed: int,
    n_resamples: int,
    confidence_level: float,
    threads: int | None,
) -> tuple[tuple[np.ndarray, ...], tuple[np.ndarray, ...]]:
    """Percentile intervals of the three estimates over resampled base rows."""
    n_out, n = f_a.shape
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(_BOOT_KEY,)))
    resamples = rng.integers(0, n, (n_resamples, n))
    shapes = [(n_out, redrawn.size)] * 2 + [(n_out,)]
    boot = [np.empty((n_resamples, *shape)) for shape in shapes]
    # scipy works on whole arrays; on blocks of a few outputs they stay in
    # cache: measured 3 times faster than one call on all 64 outputs of the example.
    size = max(1, _BLOCK_BYTES // (f_ab.shape[0] * n * 8))
    blocks = [slice(k, min(k + size, n_out)) for k in range(0, n_out, size)]
    parts = [(f_a[b], f_b[b], np.ascontiguousarray(f_ab[:, b])) for b in blocks]

    def task(r: int) -> Callable[[], None]:
        def run() -> None:
            idx = resamples[r]
            for block, (a, b, ab) in zip(blocks, parts, strict=True):
                values = _scipy_indices(a[:, idx], b[:, idx], ab[..., idx], redrawn)
                for store, value in zip(boot, values, strict=True):
                    store[r, block] = value

        return run

    run_tasks([task(r) for r in range(n_resamples)], threads)
    tail = (1.0 - confidence_level) / 2.0
    ends = [np.quantile(b, [tail, 1.0 - tail], axis=0) for b in boot]
    return tuple(e[0] for e in ends), tuple(e[1] for e in ends)


def _run_design(
    evaluate: Evaluator, design: np.ndarray, planned: Callable[[int], None] | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Evaluate a Saltelli design on its case-level streams, re-running where needed.

    Returns ``f_A`` and ``f_B`` shaped ``(outputs, n)``, the pages ``f_AB``
    shaped ``(pages, outputs, n)`` in the order :func:`_scipy_indices` wants,
    and which groups re-drew the cases.
    """
    n_groups, n = design.shape[0] - 3, design.shape[1]
    streams = [_STREAM_A, _STREAM_B] + [_STREAM_A] * n_groups + [_STREAM_FRESH]
    if planned is not None:
        planned(n * len(streams))
    outputs, prints = evaluate(design, streams)
    redrawn = np.array([prints[2 + g] != prints[0] for g in range(n_groups)], dtype=bool)
    pages = [outputs[2 + g] for g in range(n_groups)]
    if redrawn.any():
        which = np.flatnonzero(redrawn)
        if planned is not None:
            planned(n * which.size)
        again, _ = evaluate(design[2 + which], [_STREAM_REDRAW + int(g) for g in which])
        pages += list(again)
    pages.append(outputs[-1])
    flat_pages = np.stack(pages).reshape(len(pages), n, -1)
    f_a, f_b = outputs[0].reshape(n, -1).T.copy(), outputs[1].reshape(n, -1).T.copy()
    return f_a, f_b, np.ascontiguousarray(flat_pages.transpose(0, 2, 1)), redrawn


def sobol_analysis(
    evaluate: Evaluator,
    n_inputs: int,
    groups: Sequence[InputGroup],
    n: int,
    seed: int,
    confidence_level: float = 0.95,
    n_resamples: int = 500,
    threads: int | None = None,
    planned: Callable[[int], None] | None = None,
) -> SobolEstimate:
    """Sobol indices of any function of uniform inputs (the model, or a test function).

    The design's matrices run on these case-level streams: ``A`` and every
    ``AB_g`` on one stream (so a group that leaves the case-level draws alone
    is compared on identical cases), ``B`` on another, and ``A`` once more on
    a third (its difference from ``A`` is case-level randomness alone). Each
    group whose ``AB_g`` drew different cases from ``A`` is re-run on a stream
    of its own, for its total index. See the package docstring for why each
    estimate is then unbiased.

    Parameters
    ----------
    evaluate : callable
        ``evaluate(design, streams)`` with uniforms of shape ``(matrices, n,
        K)`` and one case-level stream number per matrix returns ``(outputs,
        fingerprints)``: outputs shaped ``(matrices, n, ...)``, and per matrix
        a hashable that is equal for two matrices on the same stream exactly
        when their case-level draws were identical. Different streams must be
        independent. :class:`ModelEvaluator` is the model's.
    n_inputs : int
        K, the columns of the design.
    groups : sequence of InputGroup
    n : int
        Base samples: a power of two. The function is evaluated ``n * (G + 3
        + redrawn groups)`` times.
    seed : int
        Seeds the design and the bootstrap.
    confidence_level : float
        Of the percentile bootstrap intervals.
    n_resamples : int
        Bootstrap resamples of the n base rows (each one call of scipy's estimator).
    threads : int, optional
        Worker threads for the bootstrap; never changes the results.
    planned : callable, optional
        Called with the number of evaluations about to be made, before each
        call of ``evaluate`` (for a progress bar whose total grows).

    Returns
    -------
    SobolEstimate
    """
    if n < 2 or n & (n - 1):
        raise UserError(f"Sobol samples = {n}: must be a power of two (e.g. 512, 1024, 2048)")
    if not groups:
        raise UserError("the config has no uncertain inputs: nothing to analyse")
    design = sobol_design(n, n_inputs, groups, seed)
    f_a, f_b, f_ab, redrawn = _run_design(evaluate, design, planned)
    estimates = _scipy_indices(f_a, f_b, f_ab, redrawn)
    lows, highs = _bootstrap(f_a, f_b, f_ab, redrawn, seed, n_resamples, confidence_level, threads)
    variance = np.var(np.concatenate([f_a, f_b], axis=1), axis=1)
    flat = variance <= (1e-12 * (1.0 + np.abs(f_a).mean(axis=1))) ** 2
    parts = [estimates[0], estimates[1], lows[0], highs[0], lows[1], highs[1]]
    parts += [estimates[2], lows[2], highs[2]]
    for part in parts:
        part[flat] = np.nan
    return SobolEstimate(
        *parts,
        variance=variance,
        redraws_cases=redrawn,
        n=n,
        evaluations=n * (f_ab.shape[0] + 2),
        confidence_level=confidence_level,
        n_resamples=n_resamples,
    )


def sobol_model(
    plan: Plan,
    groups: Sequence[InputGroup],
    n: int,
    seed: int,
    confidence_level: float = 0.95,
    n_resamples: int = 500,
    threads: int | None = None,
    progress: Callable[[int], None] | None = None,
    planned: Callable[[int], None] | None = None,
) -> SobolEstimate:
    """Sobol indices of overspend for every result row and financial year.

    Parameters
    ----------
    plan : Plan
    groups : sequence of InputGroup
        From :func:`group_inputs`.
    n : int
        Base samples (power of two); the model runs ``n * (len(groups) + 3)``
        draws, plus ``n`` for each group that changes the case-level draws.
    seed : int
    confidence_level, n_resamples
        Of the bootstrap intervals.
    threads : int, optional
    progress : callable, optional
        Called with the number of draws just finished.
    planned : callable, optional
        Called with the number of draws about to be run (see :func:`sobol_analysis`).

    Returns
    -------
    SobolEstimate
        Outputs flattened from ``(rows, years)`` in C order.
    """
    evaluate = ModelEvaluator(plan, seed, threads, progress)
    return sobol_analysis(
        evaluate, len(plan.inputs), groups, n, seed, confidence_level, n_resamples, threads, planned
    )
