"""Config layer: what a council's model is, read and checked (imports nothing of the model).

- ``schema``: the typed, immutable config objects (field types and models).
- ``messages``: error text: ``ConfigError`` and pydantic errors as one-line messages.
- ``checks``: checks that span sections; plain data to a checked config.
- ``scenarios``: a scenario's changes laid over the base config.
- ``load``: reading TOML text and files (and the case files they name), writing it back.
- ``actuals``: in-year actuals from the command line (``with_actuals``).
- ``bundled``: the example configs shipped with the package.
- ``distributions``: uncertain numbers (``Param``) and their allowed ranges.
- ``inputs``: the table of uncertain inputs.
- ``calendar``: financial years and the month grid of a horizon.
- ``casefiles``: the CSV files a config names (caseload snapshot, actuals).
"""

from simulator.config.bundled import bundled_config
from simulator.config.load import config_from_dict, load_config, loads_config
from simulator.config.messages import ConfigError
from simulator.config.schema import Config

__all__ = [
    "Config",
    "ConfigError",
    "bundled_config",
    "config_from_dict",
    "load_config",
    "loads_config",
]
