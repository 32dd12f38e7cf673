"""The benchmark harness of ``overspend bench`` (speed and memory against yardsticks)."""
