"""The example configs shipped with the package, and where to find them."""

from __future__ import annotations

from pathlib import Path

DEFAULT_CONFIG = "example_county.toml"


def bundled_configs_dir() -> Path:
    """Folder of the example configs shipped with the package.

    In an installed wheel they are package data (``simulator/_bundled_configs``);
    in a source checkout (including ``pip install -e .``) they are the
    repository's ``configs/`` folder.
    """
    package = Path(__file__).resolve().parents[1]
    packaged = package / "_bundled_configs"
    return packaged if packaged.is_dir() else package.parent / "configs"


def bundled_config(name: str = DEFAULT_CONFIG) -> Path:
    """Path of a bundled example config, e.g. ``example_county.toml``."""
    return bundled_configs_dir() / name
