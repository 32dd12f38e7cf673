"""Model layer: a config compiled into arrays, and the equations that turn them into spend.

- ``equations``: the plan of arrays and every equation, in the order a finance
  officer explains them (caseload, arrivals, lengths, costs, inflation, income
  and savings, budget).
- ``kernels``: the numba kernels that simulate each placement (arrays in,
  arrays out; they import nothing of ours).
"""
