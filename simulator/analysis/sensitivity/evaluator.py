"""The model evaluated on chosen case-level streams (common random numbers).

:class:`ModelEvaluator` runs the model on a stack of input designs, each on a
numbered case-level stream, and fingerprints the case-level variates each chunk
consumed, so the Sobol estimator can tell which input groups leave the cases
alone. :data:`Evaluator` is the shape of any such function (the model's, or a
test function's). Also here: the spawn keys that keep the streams of a
sensitivity analysis apart.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Hashable, Sequence
from typing import TYPE_CHECKING

import numpy as np

from simulator.engine.chunks import chunk_bounds, map_chunks
from simulator.model.equations import ChunkResult, Plan, overspend_rows, simulate_chunk

if TYPE_CHECKING:
    from distributed import Client

# Keys that keep the streams of a sensitivity analysis apart from each other
# and from an ordinary run's chunk streams (which use a one-element spawn key).
_DESIGN_KEY, _EVAL_KEY, _BOOT_KEY = 0x5EED_0001, 0x5EED_0002, 0x5EED_0003

Evaluator = Callable[[np.ndarray, Sequence[int]], tuple[np.ndarray, Sequence[Hashable]]]


def case_stream(seed: int, stream: int, chunk: int) -> np.random.Generator:
    """Case-level generator of one chunk of a numbered stream of a sensitivity analysis."""
    seq = np.random.SeedSequence(seed, spawn_key=(_EVAL_KEY, stream, chunk))
    return np.random.Generator(np.random.PCG64(seq))


def fingerprint(result: ChunkResult, rng: np.random.Generator) -> bytes:
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


def evaluate_chunk(
    plan: Plan, seed: int, stream: int, chunk: int, u: np.ndarray
) -> tuple[np.ndarray, bytes]:
    """Overspend rows (GBP, shape ``(n, rows, years)``) of one chunk of a design, and its fingerprint.

    A pure function of its arguments, run alike by threads and dask workers.
    """
    rng = case_stream(seed, stream, chunk)
    result = simulate_chunk(plan, rng, u.shape[0], u)
    return overspend_rows(plan, result), fingerprint(result, rng)


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
    client : distributed.Client, optional
        Run each chunk as a task on this dask cluster; never changes the results.
    """

    def __init__(
        self,
        plan: Plan,
        seed: int,
        threads: int | None = None,
        progress: Callable[[int], None] | None = None,
        client: Client | None = None,
    ):
        self.plan, self.seed, self.threads, self.progress = plan, seed, threads, progress
        self.client = client

    @property
    def output_shape(self) -> tuple[int, int]:
        """(rows, financial years) of one evaluation."""
        return len(self.plan.groups), self.plan.years

    def stream(self, stream: int, chunk: int) -> np.random.Generator:
        """Case-level generator of one chunk of a stream."""
        return case_stream(self.seed, stream, chunk)

    @staticmethod
    def _fingerprint(result: ChunkResult, rng: np.random.Generator) -> bytes:
        """What identifies the case-level variates a chunk consumed (see :func:`fingerprint`)."""
        return fingerprint(result, rng)

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

        cells = [(j, c, a, b) for j in range(n_mat) for c, (a, b) in enumerate(bounds)]

        def place(i: int, done: tuple[np.ndarray, bytes]) -> None:
            j, c, first, stop = cells[i]
            out[j, first:stop], prints[j][c] = done
            if self.progress is not None:
                self.progress(stop - first)

        args = [(self.seed, streams[j], c, design[j, a:b]) for j, c, a, b in cells]
        map_chunks(evaluate_chunk, (self.plan,), args, place, self.threads, self.client)
        return out, [tuple(p) for p in prints]
