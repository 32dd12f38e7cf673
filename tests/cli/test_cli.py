"""The command line: the two README commands' paths, errors without tracebacks, safe writing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from simulator import files
from simulator.cli import app as cli
from simulator.cli import run as cli_run
from simulator.results.dataset import write_run
from tests.helpers import SMALL_TOML as SMALL
from tests.helpers import write_small_toml


@pytest.fixture()
def small_toml(tmp_path: Path) -> Path:
    return write_small_toml(tmp_path)


def test_run_writes_results_and_prints_summary(small_toml, tmp_path, capsys):
    out = tmp_path / "out"
    assert (
        cli.main(["run", str(small_toml), "--draws", "300", "--seed", "4", "--out", str(out)]) == 0
    )
    printed = capsys.readouterr().out
    assert "Tiny Borough 2024/25" in printed and "P(overspend)" in printed and "£" in printed
    assert (out / "simulation.nc").is_file() and (out / "summary.csv").is_file()
    charts = sorted(p.name for p in (out / "charts").iterdir())
    assert "inyear_total_2024-25.png" in charts and "inyear_total_2024-25.svg" in charts
    with xr.open_dataset(out / "simulation.nc") as ds:
        assert ds.attrs["draws"] == 300 and ds.attrs["seed"] == 4
    assert not [p for p in tmp_path.iterdir() if ".partial-" in p.name]


def test_run_refuses_to_overwrite_without_force(small_toml, tmp_path, capsys):
    out = tmp_path / "out"
    args = ["run", str(small_toml), "--draws", "50", "--out", str(out), "--no-charts"]
    assert cli.main(args) == 0
    before = (out / "simulation.nc").stat().st_mtime_ns
    assert cli.main(args) == 2
    assert "--force" in capsys.readouterr().err
    assert (out / "simulation.nc").stat().st_mtime_ns == before
    assert cli.main([*args, "--force", "--seed", "9"]) == 0
    with xr.open_dataset(out / "simulation.nc") as ds:
        assert ds.attrs["seed"] == 9


def test_default_results_folder_is_named_after_the_config(small_toml, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert cli.main(["run", str(small_toml), "--draws", "20", "--no-charts"]) == 0
    assert (tmp_path / "results" / "tiny" / "simulation.nc").is_file()


def test_interrupted_write_leaves_no_finished_looking_folder(tmp_path, small_toml):
    import simulator

    ds = simulator.run(simulator.load_config(small_toml), draws=20, seed=1)
    out = tmp_path / "run"

    def fail(folder):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_run(ds, out, extra=fail)
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["tiny.toml"]


def test_failed_replacement_keeps_the_old_run(tmp_path, small_toml):
    import simulator

    ds = simulator.run(simulator.load_config(small_toml), draws=20, seed=1)
    out = tmp_path / "run"
    write_run(ds, out)

    def fail(folder):
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        write_run(ds, out, force=True, extra=fail)
    assert (out / "simulation.nc").is_file()


def test_precision_stops_when_the_standard_error_is_met(small_toml, tmp_path, capsys):
    out = tmp_path / "p"
    argv = ["run", str(small_toml), "--precision", "0.02", "--out", str(out), "--no-charts"]
    assert cli.main(argv) == 0
    text = capsys.readouterr().out
    assert "Precision reached after" in text
    with xr.open_dataset(out / "simulation.nc") as ds:
        p = float((ds["overspend"].sel(service="total").values > 0).mean())
        assert (p * (1 - p) / ds.attrs["draws"]) ** 0.5 <= 0.02


def test_validate_describes_the_model(small_toml, capsys):
    assert cli.main(["validate", str(small_toml)]) == 0
    text = capsys.readouterr().out
    assert "valid" in text and "Tiny Borough" in text and "5 open at the start" in text
    assert "lognormal, median 40 weeks" in text


def test_validate_default_config(capsys):
    assert cli.main(["validate"]) == 0
    assert "Example County Council" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            SMALL.replace("median_weeks = 40", "median_weeks = -3"),
            "services.homes.length.median_weeks = -3",
        ),
        (SMALL.replace("[horizon]", "[horizonn]"), "did you mean 'horizon'"),
        (SMALL + "\nnonsense = = 3\n", "not valid TOML"),
    ],
)
def test_bad_config_is_a_clear_error_not_a_traceback(tmp_path, text, expected, capsys):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    assert cli.main(["run", str(path), "--out", str(tmp_path / "o"), "--no-charts"]) == 2
    err = capsys.readouterr().err
    assert "bad.toml" in err and expected in err and "Traceback" not in err
    assert not (tmp_path / "o").exists()


def test_missing_config_file(tmp_path, capsys):
    assert cli.main(["validate", str(tmp_path / "nope.toml")]) == 2
    assert "nope.toml: no such file" in capsys.readouterr().err


def test_bad_arguments_exit_2(capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["run", "--draws", "0"])
    assert exc.value.code == 2
    assert "must be at least 1" in capsys.readouterr().err


@pytest.mark.slow  # fresh processes or a whole PDF: a few seconds each
def test_python_dash_m_and_help_work(small_toml, tmp_path):
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    done = subprocess.run(
        [sys.executable, "-m", "simulator", "--help"], capture_output=True, text=True, env=env
    )
    assert done.returncode == 0 and "run" in done.stdout and "validate" in done.stdout
    done = subprocess.run(
        [sys.executable, "-m", "simulator", "run", str(small_toml), "--draws", "30",
         "--out", str(tmp_path / "m"), "--no-charts"],
        capture_output=True, text=True, env=env, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "m" / "summary.csv").is_file()


def test_other_results_in_the_folder_are_kept_until_a_run_is_replaced(small_toml, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    files.write_file(out / "sensitivity.nc", lambda p: p.write_text("made earlier"))
    argv = ["run", str(small_toml), "--draws", "20", "--out", str(out), "--no-charts"]
    assert cli.main(argv) == 0  # no run there yet: not refused, and the file is kept
    assert (out / "sensitivity.nc").read_text() == "made earlier"
    assert cli.main([*argv, "--force"]) == 0  # replacing a run drops what described it
    assert not (out / "sensitivity.nc").exists()


def test_a_run_too_big_for_memory_streams_to_zarr(small_toml, tmp_path, monkeypatch, capsys):
    import simulator.runs.streamed

    monkeypatch.setattr(simulator.engine.chunks, "needs_streaming", lambda config, draws: True)
    out = tmp_path / "big"
    assert (
        cli.main(["run", str(small_toml), "--draws", "700", "--seed", "3", "--out", str(out)]) == 0
    )
    assert "Tiny Borough 2024/25" in capsys.readouterr().out
    assert (out / "simulation.zarr").is_dir() and not (out / "simulation.nc").exists()
    assert any(p.suffix == ".png" for p in (out / "charts").iterdir())
    import simulator as sim

    expected = sim.run(sim.load_config(small_toml), draws=700, seed=3)
    with simulator.runs.streamed.open_results(out) as ds:
        np.testing.assert_array_equal(ds["outturn"].values, expected["outturn"].values)


def test_chart_refuses_a_folder_holding_other_files(small_toml, tmp_path, capsys):
    run = tmp_path / "run"
    assert (
        cli.main(["run", str(small_toml), "--draws", "50", "--out", str(run), "--no-charts"]) == 0
    )
    notes = tmp_path / "docs"
    notes.mkdir()
    (notes / "notes.txt").write_text("important")
    assert cli.main(["chart", str(run), "--format", "png", "--out", str(notes)]) == 2
    assert "holds files overspend did not write (notes.txt)" in capsys.readouterr().err
    assert (notes / "notes.txt").read_text() == "important"
    assert cli.main(["chart", str(run), "--format", "png", "--out", str(run)]) == 2
    assert (run / "simulation.nc").is_file()
    assert cli.main(["chart", str(run), "--format", "png"]) == 0  # its own charts folder
    assert cli.main(["chart", str(run), "--format", "png"]) == 0  # and again


def test_results_folders_get_the_users_usual_permissions(small_toml, tmp_path):
    out = tmp_path / "out"
    assert (
        cli.main(["run", str(small_toml), "--draws", "20", "--out", str(out), "--no-charts"]) == 0
    )
    mask = os.umask(0)
    os.umask(mask)
    assert out.stat().st_mode & 0o777 == 0o777 & ~mask


def test_out_must_be_a_folder_we_can_write(small_toml, tmp_path, capsys):
    afile = tmp_path / "afile"
    afile.write_text("x")
    for out in (afile, afile / "sub"):
        assert (
            cli.main(["run", str(small_toml), "--draws", "20", "--out", str(out), "--no-charts"])
            == 2
        )
        assert "is a file, not a folder" in capsys.readouterr().err


def test_precision_with_a_small_limit(small_toml, tmp_path, capsys):
    argv = ["run", str(small_toml), "--precision", "0.001", "--draws", "600", "--out",
            str(tmp_path / "p"), "--no-charts"]  # fmt: skip
    assert cli.main(argv) == 0
    assert "Precision NOT reached" in capsys.readouterr().out


def test_streamed_summary_keeps_labels_that_look_missing(small_toml, tmp_path, monkeypatch, capsys):
    import simulator.runs.streamed

    monkeypatch.setattr(simulator.engine.chunks, "needs_streaming", lambda config, draws: True)
    path = tmp_path / "na.toml"
    path.write_text(
        small_toml.read_text().replace("[services.homes]", '[services.homes]\nlabel = "N/A"')
    )
    assert (
        cli.main(["run", str(path), "--draws", "30", "--out", str(tmp_path / "o"), "--no-charts"])
        == 0
    )
    assert "N/A" in capsys.readouterr().out


def test_progress_reaches_the_total_even_when_the_run_ends_first(small_toml, monkeypatch):
    """The bar opens after the output modules are imported; a short run may be over by then."""
    import contextlib
    import time

    import simulator.present.console
    from simulator.config.load import load_config

    shown = []

    @contextlib.contextmanager
    def slow_bar(total, description):
        time.sleep(1.0)  # the simulation finishes while this "imports"
        yield shown.append

    monkeypatch.setattr(simulator.present.console, "progress_bar", slow_bar)
    ds = cli_run._simulate_in_background(load_config(small_toml), 600, 3, 2)
    assert ds.sizes["draw"] == 600
    assert sum(shown) == 600


def test_overspend_alone_lists_the_commands(capsys):
    assert cli.main([]) == 2
    err = capsys.readouterr().err
    assert all(name in err for name in ("run", "validate", "sensitivity", "report", "calibrate"))


def test_a_config_with_a_byte_order_mark_is_read(small_toml, capsys):
    small_toml.write_bytes(b"\xef\xbb\xbf" + small_toml.read_bytes())
    assert cli.main(["validate", str(small_toml)]) == 0


@pytest.mark.slow  # fresh processes or a whole PDF: a few seconds each
def test_a_closed_pipe_neither_fails_nor_stops_the_run(small_toml, tmp_path):
    # `overspend run | head -1`: the reader goes away, the run still writes its results.
    out = tmp_path / "run"
    argv = [sys.executable, "-m", "simulator", "run", str(small_toml), "--draws", "200"]
    proc = subprocess.Popen(
        [*argv, "--no-charts", "--out", str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    proc.stdout.readline()
    proc.stdout.close()
    assert proc.wait(120) == 0, proc.stderr.read()
    assert b"Traceback" not in proc.stderr.read()
    assert (out / "simulation.nc").is_file()


def test_validate_and_run_print_the_configs_warnings(small_toml, tmp_path, capsys):
    # Savings above the line's whole budget are implausible: said before simulating.
    text = small_toml.read_text() + "savings = { cut = { target_gbp = 3_000_000 } }\n"
    small_toml.write_text(text.replace("[services.homes]\n", "[services.homes]\n", 1))
    assert cli.main(["validate", str(small_toml)]) == 0
    err = capsys.readouterr().err
    assert "warning: " in err and "savings" in err
    argv = ["run", str(small_toml), "--draws", "20", "--no-charts", "--out", str(tmp_path / "r")]
    assert cli.main(argv) == 0
    assert "warning: " in capsys.readouterr().err


def test_allow_outside_files_lets_a_config_name_a_shared_case_file(tmp_path, capsys):
    # Trial defect 33: refused by default, allowed with the flag, for validate and run.
    from tests.config.test_casefiles import SNAPSHOT, _write

    inner = tmp_path / "council"
    inner.mkdir()
    (tmp_path / "shared.csv").write_text(SNAPSHOT)
    path = _write(inner, **{'"caseload.csv"': f'"{tmp_path / "shared.csv"}"'})
    assert cli.main(["validate", str(path)]) == 2
    assert "outside the config's folder" in capsys.readouterr().err
    assert cli.main(["validate", str(path), "--allow-outside-files"]) == 0
    out = tmp_path / "run"
    argv = ["run", str(path), "--draws", "20", "--no-charts", "--out", str(out)]
    assert cli.main([*argv, "--allow-outside-files"]) == 0
    assert (out / "simulation.nc").is_file()
