"""Engine layer: runs the model's chunks of draws, each on its own random stream.

- ``chunks``: seeding (``SeedSequence(seed).spawn``), the thread pool, and
  gathering chunks into result rows. Results never depend on threads.
- ``cluster``: the same chunks as tasks on a dask.distributed cluster
  (``--cluster``, ``--workers``, ``client=``). Results never depend on workers.
"""
