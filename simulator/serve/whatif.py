"""The simulation behind the what-if page: the base case and what-ifs on common random numbers.

Every case is simulated chunk by chunk exactly as ``overspend compare`` does
(:func:`simulator.analysis.scenarios.scenario_chunk`): chunk ``i`` draws the
base's input uniforms from ``chunk_rng(seed, i)``, a what-if reuses them by
input name (:func:`~simulator.analysis.scenarios.scenario_uniforms`), and both
continue the case-level draws from the same generator state. So a what-if
shown on the page after ``k`` chunks is, number for number, the scenario that
``overspend compare --draws 500k`` reports once saved, and the first ``k``
chunks of any longer run are those of a shorter one: refining only adds chunks.

The base case is computed once; each what-if is keyed by its ``changes``
table, kept in a small cache (so switching back is instant), and refined in
the background up to the full draws while the page shows the first pass.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from simulator.analysis.scenarios import scenario_uniforms
from simulator.config.scenarios import scenario_config
from simulator.config.schema import Config, Scenario
from simulator.engine.chunks import CHUNK_DRAWS, chunk_rng, thread_count
from simulator.errors import UserError
from simulator.model.equations import Plan, add_rows, build_plan, overspend_rows, simulate_chunk

#: The name a what-if has while it is checked (and in its error messages).
WHAT_IF = "what_if"

#: Draws of the first pass after a change: one chunk, about half a second for the example
#: county on this 2-core machine when it is not busy (the refiner then adds chunks).
FIRST_DRAWS = CHUNK_DRAWS

#: What-ifs kept in memory besides the base case (each about 35 MB at 10,000 draws
#: of the example county).
CACHE_SIZE = 4


@dataclass
class ChunkOut:
    """What the page needs of one chunk of one case.

    Attributes
    ----------
    overspend : numpy.ndarray
        GBP, (n, rows, years): computed as ``overspend compare`` computes it, so
        the page's chances and means equal the saved scenario's exactly.
    monthly : numpy.ndarray
        Net spend of every result row in every month, GBP, (n, rows, months),
        float32 (for the fan chart only).
    inputs : numpy.ndarray
        Values of the case's uncertain inputs, (n, K) (for the drivers).
    """

    overspend: np.ndarray
    monthly: np.ndarray
    inputs: np.ndarray


@dataclass(eq=False)
class Case:
    """The base case or one what-if, and the chunks computed so far."""

    key: str
    plan: Plan
    changes: dict
    chunks: dict[int, ChunkOut] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def ready(self) -> int:
        """How many chunks from the first are done (chunks after a gap do not count)."""
        k = 0
        while k in self.chunks:
            k += 1
        return k

    def stacked(self, chunks: int) -> ChunkOut:
        """The first ``chunks`` chunks joined along draws."""
        parts = [self.chunks[i] for i in range(chunks)]
        return ChunkOut(
            *(np.concatenate([getattr(p, f) for p in parts]) for f in ChunkOut.__annotations__)
        )


def _twin(state: dict) -> np.random.Generator:
    """A generator continuing from ``state`` (the base chunk's, after its uniforms)."""
    rng = np.random.Generator(np.random.PCG64())
    rng.bit_generator.state = state
    return rng


def case_chunk(base: Plan, plan: Plan, seed: int, i: int, n: int) -> ChunkOut:
    """Chunk ``i`` (``n`` draws) of a case, on the streams ``overspend compare`` uses.

    ``plan is base`` gives the base case (its own uniforms, unchanged).
    """
    rng = chunk_rng(seed, i)
    u = rng.random((n, len(base.inputs)))  # as simulate_chunk would draw them
    state = rng.bit_generator.state
    u_case = u if plan is base else scenario_uniforms(base, plan, u, seed, i)
    result = simulate_chunk(plan, _twin(state), n, u_case)
    return ChunkOut(
        overspend=overspend_rows(plan, result),
        monthly=add_rows(plan, result.spend).astype(np.float32),
        inputs=result.inputs,
    )


def changes_key(changes: dict) -> str:
    """A stable key for a ``changes`` table (the same table gives the same key)."""
    return json.dumps(changes, sort_keys=True, default=str)


class WhatIf:
    """The base case and the what-ifs asked for, simulated on demand.

    Parameters
    ----------
    config : Config
        The base case (its ``[scenarios]`` are offered as switches).
    seed : int
    draws : int
        Draws each case is refined to (rounded up to whole chunks of 500).
    first_draws : int
        Draws of the first pass, shown at once (rounded up to whole chunks).
    threads : int, optional
        Never changes the results.
    source : str
        The config's name, for error messages.
    """

    def __init__(
        self,
        config: Config,
        seed: int,
        draws: int,
        first_draws: int = FIRST_DRAWS,
        threads: int | None = None,
        source: str = "<config>",
    ) -> None:
        self.config = config
        self.seed = int(seed)
        self.source = source
        self.total_chunks = max(1, -(-int(draws) // CHUNK_DRAWS))
        self.first_chunks = min(self.total_chunks, max(1, -(-int(first_draws) // CHUNK_DRAWS)))
        self.threads = thread_count(threads)
        self.base = Case("", build_plan(config), {})
        self._cases: OrderedDict[str, Case] = OrderedDict()
        self._pool = ThreadPoolExecutor(max_workers=self.threads)
        self._wake = threading.Condition()
        self._current = self.base
        self._stopped = False
        self._worker: threading.Thread | None = None
        self._lock = threading.Lock()
        self._urgent = 0  # first passes running: the refiner waits for them

    @property
    def draws(self) -> int:
        """Draws every case is refined to."""
        return self.total_chunks * CHUNK_DRAWS

    @property
    def first_draws(self) -> int:
        """Draws of the first pass."""
        return self.first_chunks * CHUNK_DRAWS

    # -------------------------------------------------------------- cases

    def case(self, changes: dict) -> Case:
        """The case of a ``changes`` table (the base case when it is empty).

        Raises
        ------
        ConfigError
            When the changes do not give a valid config: the messages are the
            config validator's, for a scenario named ``what_if``.
        UserError
            When they add, remove or regroup services.
        """
        if not changes:
            return self.base
        with self._lock:  # the page's callbacks run on several threads
            return self._case(changes)

    def _case(self, changes: dict) -> Case:
        key = changes_key(changes)
        found = self._cases.get(key)
        if found is not None:
            self._cases.move_to_end(key)
            return found
        plan = build_plan(self.scenario(changes))
        if [g.key for g in plan.groups] != [g.key for g in self.base.plan.groups]:
            raise UserError(
                "the what-if adds, removes or regroups services; the page needs the same "
                "services and departments as the base case"
            )
        made = Case(key, plan, changes)
        self._cases[key] = made
        while len(self._cases) > CACHE_SIZE:
            self._cases.popitem(last=False)
        return made

    def scenario(self, changes: dict) -> Config:
        """The config of a what-if, validated as ``[scenarios.what_if]`` would be."""
        scenarios = {WHAT_IF: Scenario(description="what-if from the page", changes=changes)}
        with_it = self.config.model_copy(update={"scenarios": scenarios})
        return scenario_config(with_it, WHAT_IF, self.source)

    # -------------------------------------------------------------- computing

    def _compute(self, case: Case, indices: list[int]) -> None:
        """Compute the missing chunks ``indices`` of ``case`` on the thread pool."""
        todo = [i for i in indices if i not in case.chunks]
        if not todo:
            return
        base = self.base.plan
        futures = {
            i: self._pool.submit(case_chunk, base, case.plan, self.seed, i, CHUNK_DRAWS)
            for i in todo
        }
        for i, future in futures.items():
            out = future.result()
            with case.lock:
                case.chunks[i] = out

    def first_pass(self, case: Case) -> None:
        """Compute the first pass of ``case`` and of the base case, and refine ``case`` next."""
        with self._wake:
            self._current = case  # the background refiner moves to this case
            self._urgent += 1  # and starts nothing new until this pass is done
        try:
            first = list(range(self.first_chunks))
            self._compute(self.base, first)
            self._compute(case, first)
        finally:
            with self._wake:
                self._urgent -= 1
                self._wake.notify_all()

    def shown_chunks(self, case: Case) -> int:
        """Chunks the page can show for ``case``: those done in it and in the base case."""
        return min(case.ready(), self.base.ready())

    def complete(self, case: Case) -> bool:
        """Whether ``case`` (and the base case) are refined to the full draws."""
        return self.shown_chunks(case) >= self.total_chunks

    def _next_jobs(self) -> list[tuple[Case, int]]:
        """The next chunks to refine (one per thread): the base's and the current case's, in step."""
        case, jobs = self._current, []
        cases = [self.base] if case is self.base else [self.base, case]
        for i in range(self.total_chunks):
            for c in cases:
                if i not in c.chunks and len(jobs) < self.threads:
                    jobs.append((c, i))
        return jobs

    def _refine(self) -> None:
        while True:
            with self._wake:
                jobs = self._next_jobs()
                while (not jobs or self._urgent) and not self._stopped:
                    self._wake.wait()
                    jobs = self._next_jobs()
                if self._stopped:
                    return
            base = self.base.plan
            try:
                futures = [
                    (c, i, self._pool.submit(case_chunk, base, c.plan, self.seed, i, CHUNK_DRAWS))
                    for c, i in jobs
                ]
            except RuntimeError:  # the pool was shut down: the server is stopping
                return
            for c, i, future in futures:
                out = future.result()
                with c.lock:
                    c.chunks[i] = out

    def start(self, progress: Callable[[str], None] | None = None) -> None:
        """Compute the base case's first pass, then refine in a background thread."""
        if progress is not None:
            progress(f"simulating the base case: {self.first_draws:,} draws first")
        self.first_pass(self.base)
        self._worker = threading.Thread(target=self._refine, name="what-if refiner", daemon=True)
        self._worker.start()

    def stop(self) -> None:
        """Stop refining (a chunk being computed finishes)."""
        with self._wake:
            self._stopped = True
            self._wake.notify_all()
        self._pool.shutdown(wait=False, cancel_futures=True)

    def view(self, case: Case, chunks: int | None = None) -> tuple[ChunkOut, ChunkOut]:
        """The base case and ``case`` on their first ``chunks`` common chunks (default: all shown)."""
        chunks = self.shown_chunks(case) if chunks is None else chunks
        with self.base.lock:
            base = self.base.stacked(chunks)
        with case.lock:
            other = case.stacked(chunks)
        return base, other
