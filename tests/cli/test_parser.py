"""The parser registers only the command being run, yet help always lists every command."""

from __future__ import annotations

import pytest

from simulator.cli import app


@pytest.mark.parametrize("argv", [["-h"], ["-h", "report"], ["--help", "run"]])
def test_help_before_a_command_lists_every_command(argv, capsys):
    with pytest.raises(SystemExit):
        app.main(argv)
    listed = capsys.readouterr().out
    for name in ("run", "validate", *app.OTHER_COMMANDS):
        assert f"    {name}" in listed, name


def test_a_command_parses_with_only_its_own_module_registered():
    parser = app.build_parser(only="report")
    choices = parser._subparsers._group_actions[0].choices
    assert sorted(choices) == ["report", "run", "validate"]
    args = parser.parse_args(["report", "somewhere"])
    assert args.command == "report"


def test_a_misspelt_command_names_every_command(capsys):
    with pytest.raises(SystemExit):
        app.main(["reprot", "x"])
    err = capsys.readouterr().err
    assert all(name in err for name in app.OTHER_COMMANDS)
