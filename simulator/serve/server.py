"""Starting the what-if page on a local address.

The page is served by werkzeug (Flask's server, which Dash runs on) on a
thread per request; the simulation's own threads are the
:class:`~simulator.serve.whatif.WhatIf` pool. It binds to 127.0.0.1 unless
told otherwise, and says so loudly when it is not: the page shows the
council's figures to whoever reaches it, with no password.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
from pathlib import Path

from simulator.config.load import loads_config
from simulator.config.schema import Config
from simulator.errors import UserError

LOOPBACK_NAMES = ("localhost",)


def is_loopback(host: str) -> bool:
    """Whether ``host`` is reachable only from this machine."""
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def exposure_warning(host: str, port: int) -> str | None:
    """The warning for a page bound where other machines can reach it (``None`` for loopback)."""
    if is_loopback(host):
        return None
    return (
        f"the page is bound to {host}:{port}, so other machines can reach it: it shows the "
        "council's figures (budgets, caseloads, unit costs, savings) to whoever does, with no "
        "password. Use the default 127.0.0.1 unless everyone on that network may see them."
    )


def read_results(folder: Path) -> tuple[Config, int, int, str]:
    """The config, seed and draws of a results folder of ``overspend run``, and its council.

    Raises
    ------
    UserError
        The folder holds no results, or results without their config.
    """
    import xarray as xr

    nc, zarr = folder / "simulation.nc", folder / "simulation.zarr"
    if nc.is_file():
        with xr.open_dataset(nc) as ds:  # lazily: only the attributes are read
            attrs = dict(ds.attrs)
        source = str(nc)
    elif zarr.is_dir():
        attrs = dict(xr.open_zarr(zarr).attrs)
        source = str(zarr)
    else:
        raise UserError(
            f"{folder} holds no simulation.nc or simulation.zarr: give a results folder of "
            "`overspend run`, or a config"
        )
    if "config" not in attrs:
        raise UserError(f"{source} does not record its config (made by an older version?)")
    config = loads_config(str(attrs["config"]), f"{source} (its config)")
    draws = int(attrs.get("draws", config.run.draws))
    seed = int(attrs.get("seed", config.run.seed))
    return config, seed, draws, str(attrs.get("council", config.council.name))


def make_server(app, host: str, port: int):
    """A werkzeug server for the Dash ``app`` on ``host:port`` (port 0: any free port).

    Raises
    ------
    UserError
        The port is taken or the address cannot be bound.
    """
    from werkzeug.serving import make_server as werkzeug_server

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
    try:
        return werkzeug_server(host, port, app.server, threaded=True)
    except (OSError, socket.gaierror, SystemExit) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise UserError(
            f"--host {host} --port {port}: cannot serve there ({reason}); choose another --port"
        ) from None


def url_of(server) -> str:
    """The address to open in a browser."""
    host = server.host if ":" not in server.host else f"[{server.host}]"
    host = "127.0.0.1" if host in ("0.0.0.0", "[::]") else host
    return f"http://{host}:{server.port}/"
