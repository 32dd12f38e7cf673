"""Progress on the long steps of a run: to a precision, and drawing the charts (issue 14 item 7)."""

from __future__ import annotations

import contextlib

import pytest

from simulator.cli.app import main
from simulator.present import console
from tests.helpers import write_small_toml


def _recording(calls: list):
    @contextlib.contextmanager
    def bar(total, description):
        calls.append((total, description))
        yield lambda n: None

    return bar


def test_the_precision_bar_does_not_pretend_to_run_to_the_maximum(tmp_path, monkeypatch):
    calls: list = []
    monkeypatch.setattr(console, "progress_bar", _recording(calls))
    args = ["run", str(write_small_toml(tmp_path)), "--precision", "0.05", "--no-charts"]
    assert main([*args, "--out", str(tmp_path / "r")]) == 0
    ((total, description),) = calls
    assert total is None  # once 200,000: the most allowed, not the draws the rule needs
    assert description == "Simulating Tiny Borough until the s.e. is below 0.05"


@pytest.mark.slow
def test_drawing_the_charts_shows_progress(tmp_path, monkeypatch):
    shown: list = []

    @contextlib.contextmanager
    def steps(description):
        yield lambda done, total: shown.append((description, done, total))

    monkeypatch.setattr(console, "steps_bar", steps)
    out = tmp_path / "r"
    assert main(["run", str(write_small_toml(tmp_path)), "--draws", "200", "--out", str(out)]) == 0
    assert shown and {d for d, _, _ in shown} == {"Drawing the charts"}
    assert shown[-1][1] == shown[-1][2] > 1  # every chart counted, to the end


@pytest.mark.parametrize("cached", [False, True])
def test_the_first_run_says_it_is_compiling(tmp_path, monkeypatch, capsys, cached):
    from simulator.engine import chunks

    monkeypatch.setattr(chunks, "kernels_cached", lambda: cached)
    args = ["run", str(write_small_toml(tmp_path)), "--draws", "20", "--no-charts"]
    assert main([*args, "--out", str(tmp_path / "r")]) == 0
    said = (
        "Compiling the simulation kernels: the first run after installing"
        in capsys.readouterr().out
    )
    assert said is not cached


def test_whether_the_kernels_are_cached_is_known():
    from simulator.engine.chunks import kernels_cached

    assert isinstance(kernels_cached(), bool)
