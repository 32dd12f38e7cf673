"""Excel in: a council's model as an input workbook, and actuals as a ledger exports them.

- ``layout``: the workbook's sheets and columns, one declaration the writer and
  reader share (notes on uncertain figures come from the table of inputs);
- ``cells``: what one cell may hold (``£1,250,000``, ``3%``, ``2% / 3% / 5%``,
  ``normal(mean=0.03, sd=0.01)``) and how a config value is written into one;
- ``write``: a config as a workbook to fill in (``overspend template``);
- ``read``: a workbook as the plain data the TOML reader gives, every problem
  named by sheet and cell (``load_config`` calls it for ``.xlsx`` files);
- ``ledger``: actual spend from a ledger-shaped workbook or CSV (months across
  or down, year to date, services by label).

See ``docs/excel.md``.
"""
