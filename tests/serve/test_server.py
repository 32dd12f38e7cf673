"""Starting the page: where it binds, what it reads, and bad arguments refused clearly."""

from __future__ import annotations

import pytest

import simulator
from simulator.cli.app import main
from simulator.errors import UserError
from simulator.files import write_dataset
from simulator.serve.server import exposure_warning, is_loopback, read_results


@pytest.mark.parametrize(
    ("host", "local"),
    [("127.0.0.1", True), ("127.5.0.1", True), ("localhost", True), ("::1", True),
     ("0.0.0.0", False), ("192.168.1.20", False), ("::", False), ("example.org", False)],
)  # fmt: skip
def test_only_loopback_addresses_pass_without_a_warning(host, local):
    assert is_loopback(host) == local
    warning = exposure_warning(host, 8050)
    assert (warning is None) == local
    if warning:
        assert "council's figures" in warning and f"{host}:8050" in warning


def test_a_results_folder_gives_its_config_seed_and_draws(config, tmp_path):
    ds = simulator.run(config, draws=700, seed=99, threads=1)
    write_dataset(ds, tmp_path / "run" / "simulation.nc")
    read, seed, draws, council = read_results(tmp_path / "run")
    assert (seed, draws, council) == (99, 700, "Small County")
    assert list(read.services) == list(config.services)
    assert set(read.scenarios) == set(config.scenarios)


def test_a_folder_without_results_is_refused(tmp_path):
    with pytest.raises(UserError, match=r"holds no simulation\.nc"):
        read_results(tmp_path)


def test_the_command_refuses_bad_arguments_with_a_clear_message(tmp_path, capsys):
    assert main(["serve", str(tmp_path)]) == 2
    assert "holds no simulation.nc" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["serve", "--port", "70000"])
    assert "must be from 0" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["serve", "--port", "http"])
    assert "not a whole number" in capsys.readouterr().err


def test_first_draws_above_draws_is_refused(whatif_toml, capsys):
    assert main(["serve", str(whatif_toml), "--draws", "500", "--first-draws", "1000"]) == 2
    assert "--first-draws 1,000 is more than --draws 500" in capsys.readouterr().err


def test_a_taken_port_is_refused_clearly():
    import socket

    from dash import Dash

    from simulator.serve.server import make_server

    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        with pytest.raises(UserError, match=f"--port {port}: cannot serve there"):
            make_server(Dash(__name__), "127.0.0.1", port)


def test_the_page_loads_nothing_from_the_network(config):
    """Every script the page needs is served by the page's own server (no CDN)."""
    import json
    import re

    from simulator.serve.page import Page
    from simulator.serve.whatif import WhatIf

    page = Page(WhatIf(config, 1, 500, 500, threads=1), "unused", "Small County")
    client = page.app.server.test_client()
    html = client.get("/").get_data(as_text=True)
    assert "Small County: what if" in html
    assert re.findall(r"https?://", html) == []
    for path in re.findall(r'src="(/[^"]+)"', html):
        assert client.get(path).status_code == 200, path
    layout = json.dumps(client.get("/_dash-layout").get_json(), ensure_ascii=False)
    assert "Children's homes: demand growth" in layout
    assert "allowed >= -0.9 and <= 2 (fraction per year)" in layout
