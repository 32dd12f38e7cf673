"""Ways of running a whole simulation: in memory (``simulator.run``), streamed, to a precision.

- ``streamed``: runs too big for memory, chunk by chunk into a zarr store, and
  opening any results folder (``open_results``).
- ``precision``: adding draws until a standard error is met.
"""
