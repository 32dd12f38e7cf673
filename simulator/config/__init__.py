"""Config layer: what a council's model is, read and checked (imports nothing of the model).

- ``schema``: the typed, immutable config objects, their checks and loading.
- ``distributions``: uncertain numbers (``Param``) and their allowed ranges.
- ``calendar``: financial years and the month grid of a horizon.
- ``casefiles``: the CSV files a config names (caseload snapshot, actuals).
"""

from simulator.config.schema import (
    Config,
    ConfigError,
    bundled_config,
    config_from_dict,
    load_config,
    loads_config,
)

__all__ = [
    "Config",
    "ConfigError",
    "bundled_config",
    "config_from_dict",
    "load_config",
    "loads_config",
]
