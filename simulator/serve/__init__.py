"""``overspend serve``: a what-if page for the budget meeting.

Change an assumption on the page and see the chance of overspend move, on
common random numbers, beside the base case. The layers:

* :mod:`~simulator.serve.controls`: which assumptions the page offers, read
  from the one table of inputs (words, units, allowed range) and the config,
  and the ``[scenarios.<name>] changes`` a set of control values makes;
* :mod:`~simulator.serve.whatif`: the simulation behind the page, chunk by
  chunk on the same streams as ``overspend compare`` (a first pass of a few
  draws, then refined in the background);
* :mod:`~simulator.serve.figures`: the numbers shown (chance of overspend,
  median, 1-in-10 bad case, reserve, drivers) with their standard errors,
  paired for the differences;
* :mod:`~simulator.serve.save`: "Save as scenario" and the downloads;
* :mod:`~simulator.serve.page`: the Dash page and its callbacks;
  :mod:`~simulator.serve.server`: starting it on a local address.

See ``docs/serve.md``.
"""
