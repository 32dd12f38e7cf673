"""Analyses built on many runs of the model with common random numbers.

- ``sensitivity``: tornado and Sobol indices of the uncertain inputs.
- ``scenarios``: the base case against each ``[scenarios.<name>]``.
"""
