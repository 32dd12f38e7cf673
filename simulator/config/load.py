"""Loading configs: TOML text and files in, checked Config out, and the resolved TOML back.

:func:`load_config` reads a file, :func:`loads_config` TOML text and
:func:`config_from_dict` parsed TOML; case files a config names (snapshot,
actuals) are read into it. :func:`dumps_config` writes the resolved config and
:func:`resolve_run` settles a run's config, draws and seed.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import tomli_w

from simulator.config.checks import checked_config
from simulator.config.messages import ConfigError
from simulator.config.scenarios import check_scenarios
from simulator.config.schema import Config, as_dict


def config_from_dict(data: dict, source: str = "<config>") -> Config:
    """Validate a parsed TOML document.

    Parameters
    ----------
    data : dict
        The parsed TOML.
    source : str
        Name used in error messages (usually the file name).

    Returns
    -------
    Config

    Raises
    ------
    ConfigError
        With one line per problem.
    """
    config = checked_config(data, source)
    check_scenarios(config, source)
    return config


_READERS = {"snapshot": ("placements", "read_snapshot"), "actuals": ("months", "read_actuals")}


def read_named_files(data: dict, base_dir: Path, source: str = "<config>") -> dict:
    """Replace ``snapshot.file`` and ``actuals.file`` by the rows they hold.

    Paths are relative to ``base_dir`` (the config's folder). The rows go into the
    config itself, so the resolved config reproduces the run without the files.

    Raises
    ------
    ConfigError
        Naming the CSV file, row, column and value of each problem.
    """
    from simulator.config import casefiles

    for section, (key, reader) in _READERS.items():
        part = data.get(section)
        if not isinstance(part, dict) or part.get("file") is None:
            continue
        name = part["file"]
        if not isinstance(name, str):
            raise ConfigError(source, [f"{section}.file = {name!r}: must be a file name"])
        if part.get(key):
            raise ConfigError(source, [f"{section}: give either file or {key}, not both"])
        path = base_dir / name
        rows, problems = getattr(casefiles, reader)(path)
        if problems:
            raise ConfigError(str(path), problems)
        part = {k: v for k, v in part.items() if k != "file"}
        data = {**data, section: {**part, key: rows, "source": name}}
    return data


def loads_config(text: str, source: str = "<config>", base_dir: Path | None = None) -> Config:
    """Parse and validate config TOML text (see :func:`config_from_dict`).

    ``base_dir`` is where files named in the config are looked for (default: the
    current folder).
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(source, [f"not valid TOML: {exc}"]) from None
    data = read_named_files(data, Path(".") if base_dir is None else base_dir, source)
    return config_from_dict(data, source)


def load_config(path: str | Path) -> Config:
    """Read and validate a config file.

    Parameters
    ----------
    path : str or pathlib.Path
        A TOML file.

    Returns
    -------
    Config

    Raises
    ------
    ConfigError
        When the file cannot be read or any field is invalid.
    """
    path = Path(path)
    try:
        text = path.read_text(
            encoding="utf-8-sig"
        )  # a byte-order mark from Windows editors is fine
    except FileNotFoundError:
        raise ConfigError(str(path), ["no such file"]) from None
    except IsADirectoryError:
        raise ConfigError(str(path), ["is a folder, not a config file"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(str(path), [f"cannot be read: {exc}"]) from None
    return loads_config(text, path.name, path.parent)


def dumps_config(config: Config) -> str:
    """The resolved config (defaults filled in) as TOML text that loads back identically."""
    data = as_dict(config)
    return tomli_w.dumps(data)


def resolve_run(
    config: Config | str | Path, draws: int | None = None, seed: int | None = None
) -> tuple[Config, int, int]:
    """A config (loaded when a path is given) and the draws and seed to run with.

    ``None`` takes the config's ``[run]`` values.

    Raises
    ------
    ValueError
        When draws is below 1.
    """
    if not isinstance(config, Config):
        config = load_config(config)
    draws = config.run.draws if draws is None else int(draws)
    seed = config.run.seed if seed is None else int(seed)
    if draws < 1:
        raise ValueError(f"draws = {draws}: must be at least 1")
    return config, draws, seed
