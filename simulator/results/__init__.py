"""Results layer: the xarray Dataset contract, the summary table, and the results folder.

- ``dataset``: building the Dataset (names, units, attributes), the summary
  table, and writing a run folder.
- ``folders``: the light checks on a results folder made before simulating.

Safe writing itself (markers, locks, atomic swaps) is in :mod:`simulator.files`,
which every layer uses.
"""
