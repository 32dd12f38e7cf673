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

Modules: ``groups`` (input groups), ``evaluator`` (the model on chosen
case-level streams), ``sobol`` (design, estimator, bootstrap), ``one_at_a_time``
(the tornado; not ``tornado.py``, which the function :func:`tornado` would hide)
and ``dataset`` (``sensitivity.nc``). Their public names are re-exported here.
"""

from importlib import import_module

# Where each public name lives. They are imported on first use (PEP 562), not here:
# the command line registers ``sensitivity`` at every start, and importing the
# modules would load the engine and numba for every command (about 1.7 s).
_HOMES = {
    "sensitivity_dataset": "dataset",
    "Evaluator": "evaluator",
    "ModelEvaluator": "evaluator",
    "GROUPINGS": "groups",
    "InputGroup": "groups",
    "group_inputs": "groups",
    "TornadoEstimate": "one_at_a_time",
    "tornado": "one_at_a_time",
    "SOBOL_CAVEAT": "sobol",
    "SobolEstimate": "sobol",
    "shown_index": "sobol",
    "sobol_analysis": "sobol",
    "sobol_design": "sobol",
    "sobol_model": "sobol",
}

__all__ = sorted(_HOMES)


def __getattr__(name: str):
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{_HOMES[name]}"), name)
    globals()[name] = value  # once imported, a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_HOMES))
