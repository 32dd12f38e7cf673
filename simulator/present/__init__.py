"""Presentation layer: what a person reads (console tables, descriptions, charts, reports).

- ``console``: tables and progress bars in the terminal.
- ``describe``: a config's model in plain English (``overspend validate``).
- ``charts``: fan charts, distributions and risk drivers (matplotlib).
- ``report``: the cabinet report as HTML, PDF and an Excel summary.
"""
