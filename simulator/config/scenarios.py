"""Scenarios: a named what-if's changes laid over the base config.

:func:`scenario_config` builds the config of one scenario; :func:`check_scenarios`
requires every scenario of a config to be well named and to give a valid config
(a scenario may itself add scenarios, which are checked the same way).
"""

from __future__ import annotations

from simulator.config.checks import MAX_IDENTIFIER, checked_config, is_name, loc
from simulator.config.messages import ConfigError
from simulator.config.schema import Config, as_dict


def _overlay(base: dict, changes: dict) -> dict:
    """``base`` with ``changes`` laid over it: tables merge key by key, values replace."""
    out = dict(base)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict) and "dist" not in value:
            out[key] = _overlay(out[key], value)
        else:
            out[key] = value
    return out


def scenario_config(config: Config, name: str, source: str = "<config>") -> Config:
    """The config of scenario ``name``: the base with the scenario's changes laid over it.

    Parameters
    ----------
    config : Config
    name : str
        A key of ``config.scenarios``.
    source : str
        Name used in error messages.

    Returns
    -------
    Config
        Without scenarios of its own.

    Raises
    ------
    ConfigError
        When the changed config is invalid; paths are given inside the scenario.
    """
    if name not in config.scenarios:
        known = ", ".join(config.scenarios) or "none are defined"
        raise ConfigError(source, [f"no scenario named {name!r} (defined: {known})"])
    base = as_dict(config)
    base.pop("scenarios", None)
    data = _overlay(base, config.scenarios[name].changes)
    try:
        scenario = checked_config(data, source)
        check_scenarios(scenario, source)
    except ConfigError as exc:
        prefix = f"scenarios.{name}.changes: "
        raise ConfigError(source, [prefix + p for p in exc.problems]) from None
    return scenario


def check_scenarios(config: Config, source: str = "<config>") -> None:
    """Require every scenario of ``config`` to be well named and to give a valid config.

    Raises
    ------
    ConfigError
        For the first scenario that does not; paths are given inside the scenario.
    """
    for name in config.scenarios:
        if not is_name(name):
            raise ConfigError(
                source,
                [
                    f"{loc('scenarios', name)}: a scenario name must be "
                    f"lower_case_with_underscores, at most {MAX_IDENTIFIER} characters"
                ],
            )
        scenario_config(config, name, source)  # every scenario must be a valid model too
