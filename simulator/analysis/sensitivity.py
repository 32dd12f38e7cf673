"""Sensitivity analysis: which inputs drive the overspend, and by how much.

Two views, both per service row (services, department subtotals, total) and
per financial year:

* **Tornado (one at a time).** Each input group is fixed at its 10th and then
  its 90th percentile while every other input stays uncertain; the change in
  mean overspend and in the probability of overspend is measured against the
  base with common random numbers (the same input uniforms and the same
  case-level stream in every run), and reported with Monte Carlo standard
  errors of the paired differences.
* **Sobol indices (variance-based).** First-order and total indices of
  overspend from a Saltelli design on a scrambled Sobol sequence, estimated by
  :func:`scipy.stats.sobol_indices`, with percentile bootstrap intervals, and
  the share of variance left to case-level randomness (which child arrives,
  how long each placement lasts, what each costs).

How case-level randomness is handled (details and the algebra in
``docs/sensitivity.md``). Write the overspend as ``Y = f(X, W)``: X the
inputs, W the case-level draws. The Saltelli design runs matrices ``A``,
``B`` and ``AB_g`` (``A`` with group g's columns from ``B``):

* ``A`` and every ``AB_g`` share one case-level stream, ``B`` has its own,
  and ``A`` is run once more on a third stream (``A'``). Saltelli's
  first-order estimator ``mean(f_B (f_AB - f_A))`` is unbiased for
  ``S_g = Var(E[Y | X_g]) / Var(Y)`` however ``A`` and ``AB_g`` are coupled,
  as long as ``B``'s cases are independent of both; sharing the stream only
  removes case-level noise from ``f_AB - f_A``.
* The model draws case-level variates one after another from a generator,
  and how many it draws depends on some inputs (a higher growth rate means
  more arrivals). A group that leaves the draws alone (inflation, income,
  savings, cost lines, the high-cost share) is compared on identical cases:
  Jansen's total estimator then gives its total index with the cases held
  fixed. For a group that changes them (arrival rates and growth) ``AB_g``
  is re-run on a stream of its own; Jansen's estimator on independent cases
  gives the total index of {X_g, cases}, and the case-level share is taken
  off. The evaluator's fingerprints (arrival counts, variates drawn,
  generator state) tell the two apart, chunk by chunk.
* Jansen's estimator on ``A`` against ``A'`` (same inputs, independent
  cases) gives ``E[Var(Y | X)] / Var(Y)``: the case-level share.

So ``sum(S_g) + interactions between inputs + case-level share = 1``, the
total index of a group counts its interactions with other inputs (and, for a
group that leaves the cases alone, its usually tiny interaction with them:
about the squared coefficient of variation of its effect times the
case-level share), and every number comes from :func:`scipy.stats.sobol_indices`.

Sections: input groups; model outputs; Sobol indices; tornado; the Dataset.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass

import numpy as np
import xarray as xr

from simulator.config.inputs import group_key, input_label, units_of
from simulator.engine.chunks import chunk_bounds, chunk_rng, run_tasks
from simulator.errors import UserError
from simulator.model.equations import ChunkResult, Plan, overspend_rows, simulate_chunk
from simulator.results.dataset import data_var, group_coords, provenance

#: Ways of grouping inputs: each named input alone; the per-year inputs of one
#: parameter together (the default); or everything in one config section
#: (an inflation factor, or one service) together.
GROUPINGS = ("parameter", "input", "section")

# Keys that keep the streams of a sensitivity analysis apart from each other
# and from an ordinary run's chunk streams (which use a one-element spawn key).
_DESIGN_KEY, _EVAL_KEY, _BOOT_KEY = 0x5EED_0001, 0x5EED_0002, 0x5EED_0003
_BLOCK_BYTES = 1 << 18  # bootstrap work per scipy call: about 256 kB of model outputs

Evaluator = Callable[[np.ndarray, Sequence[int]], tuple[np.ndarray, Sequence[Hashable]]]


# ------------------------------------------------------------------ input groups


@dataclass(frozen=True)
class InputGroup:
    """Inputs that a sensitivity analysis moves together.

    Attributes
    ----------
    name : str
        The group's name, e.g. ``inflation.factors.nlw.uplift``.
    members : tuple of int
        Columns of the input design (indices into ``plan.inputs``).
    member_names : tuple of str
        Names of those inputs.
    """

    name: str
    members: tuple[int, ...]
    member_names: tuple[str, ...]


def group_inputs(names: Sequence[str], by: str = "parameter") -> list[InputGroup]:
    """Group named inputs for a sensitivity analysis.

    Parameters
    ----------
    names : sequence of str
        Input names in design-column order (``[i.name for i in plan.inputs]``).
    by : {"parameter", "input", "section"}
        ``"parameter"`` joins the per-year inputs of one parameter (for example
        ``inflation.factors.nlw.uplift[2025/26]`` ... ``[2027/28]`` become
        ``inflation.factors.nlw.uplift``); ``"input"`` keeps every input alone;
        ``"section"`` joins everything of one inflation factor or one service.

    Returns
    -------
    list of InputGroup
        In order of first appearance.
    """
    if by not in GROUPINGS:
        raise UserError(f"grouping {by!r} is not known: use one of {', '.join(GROUPINGS)}")
    found: dict[str, list[int]] = {}
    for k, name in enumerate(names):
        found.setdefault(group_key(name, by), []).append(k)
    return [
        InputGroup(key, tuple(cols), tuple(names[c] for c in cols)) for key, cols in found.items()
    ]


# ------------------------------------------------------------------ model outputs


class ModelEvaluator:
    """Evaluate the model on a stack of input designs with chosen case-level streams.

    Rows ``a:b`` of design matrix ``j`` run as one chunk whose case-level
    generator is seeded by ``(seed, streams[j], chunk)``: matrices given the
    same stream share their case-level random numbers, matrices given
    different streams have independent ones. Results depend only on the seed,
    the design and the streams, never on the number of threads.

    Parameters
    ----------
    plan : Plan
    seed : int
    threads : int, optional
        Worker threads (default: the machine's cores).
    progress : callable, optional
        Called with the number of model draws just finished.
    """

    def __init__(
        self,
        plan: Plan,
        seed: int,
        threads: int | None = None,
        progress: Callable[[int], None] | None = None,
    ):
        self.plan, self.seed, self.threads, self.progress = plan, seed, threads, progress

    @property
    def output_shape(self) -> tuple[int, int]:
        """(rows, financial years) of one evaluation."""
        return len(self.plan.groups), self.plan.years

    def stream(self, stream: int, chunk: int) -> np.random.Generator:
        """Case-level generator of one chunk of a stream."""
        seq = np.random.SeedSequence(self.seed, spawn_key=(_EVAL_KEY, stream, chunk))
        return np.random.Generator(np.random.PCG64(seq))

    @staticmethod
    def _fingerprint(result: ChunkResult, rng: np.random.Generator) -> bytes:
        """What identifies the case-level variates a chunk consumed.

        Two chunks run on the same stream drew the same variates in the same
        order when their arrival counts and the final states of both the
        chunk's generator and the kernel's own generator agree.
        """
        digest = hashlib.blake2b(digest_size=16)
        digest.update(result.arrivals.tobytes())
        digest.update(result.stream_end.tobytes())
        digest.update(repr(rng.bit_generator.state).encode())
        return digest.digest()

    def __call__(
        self, design: np.ndarray, streams: Sequence[int]
    ) -> tuple[np.ndarray, list[tuple[bytes, ...]]]:
        """Overspend for each design row, and each matrix's case fingerprint.

        Parameters
        ----------
        design : numpy.ndarray
            Uniforms, shape ``(matrices, n, len(plan.inputs))``.
        streams : sequence of int
            Case-level stream of each matrix.

        Returns
        -------
        outputs : numpy.ndarray
            GBP, shape ``(matrices, n, rows, years)``.
        fingerprints : list of tuple of bytes
            Per matrix, one digest per chunk: equal for two matrices on the
            same stream exactly when their case-level draws were identical.
        """
        n_mat, n = design.shape[:2]
        bounds = chunk_bounds(n)
        out = np.empty((n_mat, n, *self.output_shape))
        prints = [[b""] * len(bounds) for _ in range(n_mat)]

        def task(j: int, c: int, first: int, stop: int) -> Callable[[], None]:
            def run() -> None:
                rng = self.stream(streams[j], c)
                result = simulate_chunk(self.plan, rng, stop - first, design[j, first:stop])
                out[j, first:stop] = overspend_rows(self.plan, result)
                prints[j][c] = self._fingerprint(result, rng)
                if self.progress is not None:
                    self.progress(stop - first)

            return run

        run_tasks(
            [task(j, c, a, b) for j in range(n_mat) for c, (a, b) in enumerate(bounds)],
            self.threads,
        )
        return out, [tuple(p) for p in prints]


# ------------------------------------------------------------------ Sobol indices

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
    # Imported here, not at the top: every `overspend` command loads this module
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
    index of each redrawn group (see the module docstring).
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
    of its own, for its total index. See the module docstring for why each
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


# ------------------------------------------------------------------ tornado


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

    def task(i: int, first: int, stop: int) -> Callable[[], None]:
        def run() -> None:
            parts[i] = _tornado_chunk(plan, groups, percentiles, seed, i, stop - first)
            if progress is not None:
                progress(stop - first)

        return run

    run_tasks([task(i, a, b) for i, (a, b) in enumerate(bounds)], threads)
    sizes = [b - a for a, b in bounds]
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


# ------------------------------------------------------------------ the Dataset


def _values_at(plan: Plan, group: InputGroup, q: float) -> str:
    """The group's input values at percentile q, for labels (e.g. ``0.0408``)."""
    inputs = plan.inputs
    return ", ".join(f"{float(inputs[c].param.ppf(np.array([q]))[0]):.4g}" for c in group.members)


def _sobol_vars(sobol: SobolEstimate, rows: int, years: int) -> dict:
    dims = ("input", "service", "financial_year")

    def by_input(a: np.ndarray) -> np.ndarray:
        return np.moveaxis(a.reshape(rows, years, -1), 2, 0)

    level = f"{sobol.confidence_level:.0%}"
    out = {}
    for name, text in (
        ("first_order", "first-order Sobol index of overspend (share of its variance)"),
        ("total_order", "total Sobol index of overspend, excluding interactions with case-level randomness"),
    ):  # fmt: skip
        out[name] = data_var(dims, by_input(getattr(sobol, name)), "1", text)
        for end in ("low", "high"):
            out[f"{name}_{end}"] = data_var(
                dims, by_input(getattr(sobol, f"{name}_{end}")), "1",
                f"{text}: {end} end of the {level} bootstrap interval",
            )  # fmt: skip
    text = "share of overspend variance left to case-level randomness, E[Var(Y|inputs)]/Var(Y)"
    out["case_level_share"] = data_var(
        ("service", "financial_year"), sobol.case_level_share.reshape(rows, years), "1", text
    )
    for end in ("low", "high"):
        out[f"case_level_share_{end}"] = data_var(
            ("service", "financial_year"),
            getattr(sobol, f"case_level_share_{end}").reshape(rows, years),
            "1",
            f"{text}: {end} end of the {level} bootstrap interval",
        )
    out["sobol_variance"] = data_var(
        ("service", "financial_year"), sobol.variance.reshape(rows, years), "GBP2",
        "variance of overspend over the Sobol design (inputs and cases uncertain)",
    )  # fmt: skip
    return out


def _tornado_vars(t: TornadoEstimate) -> dict:
    dims = ("input", "service", "financial_year")
    lo, hi = (f"{q:.0%}" for q in t.percentiles)
    out = {}
    for end, pct in (("low", lo), ("high", hi)):
        mean_text = f"change in mean overspend with the input at its {pct} percentile"
        p_text = f"change in the probability of overspend with the input at its {pct} percentile"
        out[f"tornado_mean_{end}"] = data_var(dims, getattr(t, f"mean_{end}"), "GBP", mean_text)
        out[f"tornado_mean_{end}_se"] = data_var(
            dims,
            getattr(t, f"mean_{end}_se"),
            "GBP",
            f"Monte Carlo standard error of the {mean_text}",
        )
        out[f"tornado_p_{end}"] = data_var(dims, getattr(t, f"p_{end}"), "1", p_text)
        out[f"tornado_p_{end}_se"] = data_var(
            dims, getattr(t, f"p_{end}_se"), "1", f"Monte Carlo standard error of the {p_text}"
        )
    out["tornado_base_mean_overspend"] = data_var(
        ("service", "financial_year"),
        t.base_mean,
        "GBP",
        "mean overspend of the tornado's base run",
    )
    out["tornado_base_p_overspend"] = data_var(
        ("service", "financial_year"),
        t.base_p,
        "1",
        "probability of overspend in the tornado's base run",
    )
    return out


def sensitivity_dataset(
    plan: Plan,
    groups: Sequence[InputGroup],
    seed: int,
    grouping: str,
    sobol: SobolEstimate | None = None,
    tornado_result: TornadoEstimate | None = None,
) -> xr.Dataset:
    """Wrap sensitivity results as the ``sensitivity.nc`` Dataset.

    Parameters
    ----------
    plan : Plan
    groups : sequence of InputGroup
        The ``input`` dimension.
    seed : int
    grouping : str
        How inputs were grouped (recorded).
    sobol : SobolEstimate, optional
    tornado_result : TornadoEstimate, optional

    Returns
    -------
    xarray.Dataset
        Dimensions ``input``, ``service``, ``financial_year``; see ``docs/sensitivity.md``.
    """
    rows, years = len(plan.groups), plan.years
    data: dict = {}
    attrs = {**provenance(plan, "sensitivity analysis", seed), "grouping": grouping}
    if sobol is not None:
        data |= _sobol_vars(sobol, rows, years)
        attrs |= {
            "sobol_samples": sobol.n,
            "sobol_evaluations": sobol.evaluations,
            "sobol_estimator": "scipy.stats.sobol_indices (Saltelli 2010 first order, Jansen total)",
            "sobol_case_level": "independent case-level draws per evaluation; total_order = "
            "T(input and cases) - T(cases); case_level_share = T(cases)",
            "bootstrap_resamples": sobol.n_resamples,
            "confidence_level": sobol.confidence_level,
        }
    if tornado_result is not None:
        data |= _tornado_vars(tornado_result)
        attrs |= {
            "tornado_draws": tornado_result.draws,
            "tornado_percentiles": list(tornado_result.percentiles),
        }
    lo, hi = tornado_result.percentiles if tornado_result is not None else (0.1, 0.9)
    labels = {g.key: g.label for g in plan.groups}
    coords = {
        "input": ("input", [g.name for g in groups], {"long_name": "uncertain input or group"}),
        "input_members": (
            "input", [", ".join(g.member_names) for g in groups], {"long_name": "inputs in the group"}
        ),
        "input_label": ("input", [input_label(g.name, labels) for g in groups], {"long_name": "input in words"}),
        "input_units": (
            "input", [", ".join(dict.fromkeys(units_of(m) for m in g.member_names)) for g in groups],
            {"long_name": "units of the members' values"},
        ),
        "input_value_low": (
            "input", [_values_at(plan, g, lo) for g in groups],
            {"long_name": f"value of each member at its {lo:.0%} percentile"},
        ),
        "input_value_high": (
            "input", [_values_at(plan, g, hi) for g in groups],
            {"long_name": f"value of each member at its {hi:.0%} percentile"},
        ),
        **group_coords(plan),
    }  # fmt: skip
    if sobol is not None:
        coords["input_redraws_cases"] = (
            "input", sobol.redraws_cases.astype(bool),
            {"long_name": "moving the input changes the case-level draws (its total index "
             "then leaves out its interaction with case-level randomness)"},
        )  # fmt: skip
    return xr.Dataset(data_vars=data, coords=coords, attrs=attrs)
