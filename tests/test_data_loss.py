"""The tool deletes or replaces only what it wrote itself (the trial-defects issue, "Data loss first").

Each test puts a folder of the user's own files where a command could harm
them, and checks they survive byte for byte. The slow tests kill or interrupt
real commands at random moments.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import simulator
from simulator import files
from simulator.cli import app as cli
from simulator.results.dataset import write_run
from tests.helpers import write_small_toml


@pytest.fixture()
def small_toml(tmp_path: Path) -> Path:
    return write_small_toml(tmp_path)


def user_files(folder: Path, n: int = 5) -> dict[Path, bytes]:
    """Fill ``folder`` with the user's own files (and a subfolder); returns their bytes."""
    folder.mkdir(parents=True, exist_ok=True)
    made = {}
    for i in range(n):
        path = folder / f"budget_{i}.xlsx"
        path.write_bytes(os.urandom(64) + b"colleague's work")
        made[path] = path.read_bytes()
    sub = folder / "papers"
    sub.mkdir(exist_ok=True)
    (sub / "cabinet.docx").write_bytes(b"draft")
    made[sub / "cabinet.docx"] = b"draft"
    return made


def assert_intact(made: dict[Path, bytes]) -> None:
    for path, content in made.items():
        assert path.read_bytes() == content, f"{path} was changed or lost"


def run_args(config: Path, out: Path | str, *more: str) -> list[str]:
    return ["run", str(config), "--draws", "20", "--no-charts", "--out", str(out), *more]


# ------------------------------------------------------------------ A: --out . and ..


@pytest.mark.parametrize("out", [".", ".."])
def test_out_is_never_the_current_folder_or_a_parent(
    small_toml, tmp_path, monkeypatch, out, capsys
):
    made = user_files(tmp_path / "work")
    here = tmp_path / "work" / "child"
    made |= user_files(here, n=3)
    monkeypatch.chdir(here)
    for force in ((), ("--force",)):
        assert cli.main(run_args(small_toml, out, *force)) == 2
        err = capsys.readouterr().err
        assert "current folder" in err and "Traceback" not in err
    assert_intact(made)
    assert not [p for p in (tmp_path / "work").rglob(".*") if p.name != ".overspend"]


def test_calibrate_out_current_folder_is_a_clear_error(tmp_path, monkeypatch, capsys):
    made = user_files(tmp_path)
    monkeypatch.chdir(tmp_path)
    episodes = Path(__file__).parent / "data" / "bad_episodes.csv"
    argv = ["calibrate", "--episodes", str(episodes), "--out", ".", "--force"]
    assert cli.main(argv) == 2
    assert "current folder" in capsys.readouterr().err
    assert_intact(made)


# ------------------------------------------------------------------ B: chart --out


def test_chart_never_deletes_the_users_pictures(small_toml, tmp_path, capsys):
    run = tmp_path / "run"
    assert cli.main(run_args(small_toml, run)) == 0
    pics = tmp_path / "pics"
    pics.mkdir()
    (pics / "logo.png").write_bytes(b"\x89PNG mine")
    (pics / "map.svg").write_text("<svg/>")
    made = {pics / "logo.png": b"\x89PNG mine", pics / "map.svg": b"<svg/>"}
    assert cli.main(["chart", str(run), "--format", "png", "--out", str(pics)]) == 2
    assert "did not write (logo.png, map.svg)" in capsys.readouterr().err
    assert_intact(made)
    assert sorted(p.name for p in pics.iterdir()) == ["logo.png", "map.svg"]


def test_chart_refuses_a_user_file_dropped_among_its_charts(small_toml, tmp_path, capsys):
    run = tmp_path / "run"
    assert cli.main(["run", str(small_toml), "--draws", "20", "--out", str(run)]) == 0
    (run / "charts" / "annotated.png").write_bytes(b"edited by hand")
    assert cli.main(["chart", str(run), "--format", "png"]) == 2
    assert "did not write (annotated.png)" in capsys.readouterr().err
    assert (run / "charts" / "annotated.png").read_bytes() == b"edited by hand"


# ------------------------------------------------------------------ C: --force


def test_force_never_deletes_unrelated_files(small_toml, tmp_path, capsys):
    out = tmp_path / "run"
    assert cli.main(run_args(small_toml, out)) == 0
    (out / "thesis.docx").write_bytes(b"three years of work")
    assert cli.main(run_args(small_toml, out, "--force", "--seed", "5")) == 2
    err = capsys.readouterr().err
    assert "thesis.docx" in err and "did not write" in err
    assert (out / "thesis.docx").read_bytes() == b"three years of work"
    assert (out / "simulation.nc").is_file()


def test_an_unmarked_folder_of_results_is_not_taken_for_ours(small_toml, tmp_path, capsys):
    out = tmp_path / "run"
    made = user_files(out, n=2)
    (out / "simulation.nc").write_bytes(b"someone else's file of that name")
    made[out / "simulation.nc"] = b"someone else's file of that name"
    assert cli.main(run_args(small_toml, out, "--force")) == 2
    assert_intact(made)


# ------------------------------------------------------------------ D: links, modes, report


def test_a_symlinked_out_is_refused_and_its_target_untouched(small_toml, tmp_path, capsys):
    real = tmp_path / "shared_drive"
    made = user_files(real)
    link = tmp_path / "link"
    link.symlink_to(real, target_is_directory=True)
    for force in ((), ("--force",)):
        assert cli.main(run_args(small_toml, link, *force)) == 2
        assert "symbolic link" in capsys.readouterr().err
    assert link.is_symlink()
    assert_intact(made)


def test_a_private_folder_stays_private(small_toml, tmp_path):
    out = tmp_path / "private"
    out.mkdir()
    out.chmod(0o700)
    assert cli.main(run_args(small_toml, out)) == 0
    assert out.stat().st_mode & 0o777 == 0o700
    assert cli.main(run_args(small_toml, out, "--force", "--seed", "3")) == 0
    assert out.stat().st_mode & 0o777 == 0o700


def test_report_never_overwrites_the_users_files(small_toml, tmp_path, capsys):
    run = tmp_path / "run"
    assert cli.main(run_args(small_toml, run)) == 0
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "report.html").write_text("my own report")
    (mine / "summary.xlsx").write_bytes(b"my own workbook")
    made = {mine / "report.html": b"my own report", mine / "summary.xlsx": b"my own workbook"}
    for force in ((), ("--force",)):
        assert cli.main(["report", str(run), "--out", str(mine), *force]) == 2
        assert "was not written by overspend" in capsys.readouterr().err
    assert_intact(made)
    assert not (mine / "report.pdf").exists()  # refused before writing anything


@pytest.mark.slow
def test_report_replaces_its_own_files_only_with_force(small_toml, tmp_path, capsys):
    run = tmp_path / "run"
    assert cli.main(run_args(small_toml, run)) == 0
    assert cli.main(["report", str(run)]) == 0
    assert cli.main(["report", str(run)]) == 2
    assert "use --force" in capsys.readouterr().err
    assert cli.main(["report", str(run), "--force"]) == 0
    # A report written into a folder of the user's marks only its own files.
    mine = tmp_path / "mine"
    made = user_files(mine, n=2)
    assert cli.main(["report", str(run), "--out", str(mine)]) == 0
    assert_intact(made)
    assert cli.main(run_args(small_toml, mine, "--force")) == 2  # still the user's folder


def test_write_mapping_never_overwrites_a_users_file(tmp_path, capsys):
    target = tmp_path / "mapping.toml"
    target.write_text("my mapping")
    assert cli.main(["calibrate", "--write-mapping", str(target), "--force"]) == 2
    assert target.read_text() == "my mapping"
    fresh = tmp_path / "new.toml"
    assert cli.main(["calibrate", "--write-mapping", str(fresh)]) == 0
    assert cli.main(["calibrate", "--write-mapping", str(fresh)]) == 2
    assert cli.main(["calibrate", "--write-mapping", str(fresh), "--force"]) == 0


# ------------------------------------------------------------------ E: one writer at a time

HOLD_LOCK = """
import sys, time
from simulator import files
with files.claim(sys.argv[1]):
    print("held", flush=True)
    time.sleep(60)
"""


def test_a_second_command_to_the_same_out_is_refused(small_toml, tmp_path, capsys):
    out = tmp_path / "run"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(out)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        assert cli.main(run_args(small_toml, out)) == 2
        assert "another overspend command is writing there" in capsys.readouterr().err
        assert not out.exists()
    finally:
        holder.kill()
        holder.wait()
    assert cli.main(run_args(small_toml, out)) == 0  # a killed holder's lock is free again
    assert not list(tmp_path.glob(f".run{files.LOCK_SUFFIX}"))  # and no lock file left


def test_concurrent_runs_never_both_report_success(small_toml, tmp_path):
    out = tmp_path / "run"
    argv = [sys.executable, "-m", "simulator", *run_args(small_toml, out)]
    argv[argv.index("20")] = "3000"
    procs = [subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)]
    time.sleep(0.5)
    procs.append(subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    codes = [p.wait(120) for p in procs]
    outputs = [p.stdout.read() + p.stderr.read() for p in procs]
    assert sorted(codes) == [0, 2], outputs
    assert sum("Written:" in o for o in outputs) == 1


# ------------------------------------------------------------------ F: Ctrl-C


def test_interrupts_are_held_back_and_then_raised():
    reached_end = []
    with pytest.raises(KeyboardInterrupt), files.defer_interrupts():
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.05)
        reached_end.append(True)
    assert reached_end == [True]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_an_interrupt_while_writing_netcdf_ends_cleanly(small_toml, tmp_path, monkeypatch):
    ds = simulator.run(simulator.load_config(small_toml), draws=20, seed=1)
    real = type(ds).to_netcdf

    def interrupted_write(self, path, *a, **k):
        os.kill(os.getpid(), signal.SIGINT)  # arrives inside the write
        return real(self, path, *a, **k)

    monkeypatch.setattr(type(ds), "to_netcdf", interrupted_write)
    out = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):
        write_run(ds, out)
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["tiny.toml"]


def test_the_cli_says_what_an_interrupt_left(small_toml, tmp_path, monkeypatch, capsys):
    from simulator.results import dataset as results

    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(results, "write_run", interrupt)
    assert cli.main(run_args(small_toml, tmp_path / "run")) == 130
    assert "interrupted: nothing was written" in capsys.readouterr().err


# ------------------------------------------------------------------ G: leftovers


def test_leftovers_of_killed_runs_are_cleared_and_reported(small_toml, tmp_path, capsys):
    out = tmp_path / "run"
    assert cli.main(run_args(small_toml, out)) == 0
    partial = tmp_path / ".run.partial-abc123"
    partial.mkdir()
    (partial / files.PARTIAL_MARKER).touch()
    (partial / "simulation.nc").write_bytes(b"\0" * 1000)
    empty = tmp_path / ".run.partial-def456"
    empty.mkdir()
    stray = out / ".summary.csv.partial-99-abcd"
    stray.write_text("half")
    not_ours = tmp_path / ".run.partial-mine"
    made = user_files(not_ours, n=1)
    capsys.readouterr()
    assert cli.main(run_args(small_toml, out, "--force", "--seed", "2")) == 0
    err = capsys.readouterr().err
    assert err.count("left unfinished by a killed command") == 3
    assert not partial.exists() and not empty.exists() and not stray.exists()
    assert_intact(made)  # a folder of that name that is not ours is left alone


def test_a_replacement_cut_short_is_put_back(small_toml, tmp_path, capsys):
    out = tmp_path / "run"
    assert cli.main(run_args(small_toml, out)) == 0
    before = (out / "summary.csv").read_bytes()
    # What the two-rename swap leaves when killed between its renames.
    old = tmp_path / ".run.old-xyz"
    old.mkdir()
    os.replace(out, old / "previous")
    with files.claim(out):
        pass
    assert "put back" in capsys.readouterr().err
    assert (out / "summary.csv").read_bytes() == before and not old.exists()


def test_the_two_rename_swap_keeps_whole_folders(tmp_path, monkeypatch):
    monkeypatch.setattr(files, "_exchange", lambda a, b: False)  # as off Linux
    target, new = tmp_path / "t", tmp_path / "n"
    target.mkdir()
    (target / "a").write_text("old")
    new.mkdir()
    (new / "a").write_text("new")
    files.swap_in(new, target)
    assert (target / "a").read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t"]


# ------------------------------------------------------------------ the marker


def test_foreign_entries_look_into_the_tools_subfolders(tmp_path):
    run = tmp_path / "run"
    (run / "charts").mkdir(parents=True)
    (run / "charts" / "fan.png").write_bytes(b"png")
    (run / "simulation.zarr").mkdir()
    (run / "simulation.zarr" / "0.0").write_bytes(b"chunk")
    files.mark_tree(run)
    assert files.foreign_entries(run) == []
    assert files.read_marker(run / "simulation.zarr") is None  # a store is one entry
    (run / "charts" / "mine.png").write_bytes(b"user")
    (run / "notes.txt").write_text("user")
    assert files.foreign_entries(run) == ["charts/mine.png", "notes.txt"]


# ------------------------------------------------------------------ kill -9 at random moments

KILLS = int(os.environ.get("OVERSPEND_KILLS", "6"))

STREAMED = """
import sys
from simulator.runs import streamed as stream
stream.write_streamed_run(sys.argv[1], sys.argv[2], draws=3000, seed=int(sys.argv[3]), force=True)
"""


def _kill_trial(tmp_path: Path, command, out: Path, results_file: str) -> None:
    """Kill ``command(seed)`` at random moments; the target must hold a whole old or new run."""
    rng = random.Random(20241)
    whole = {}
    for seed in (1, 2):
        started = time.perf_counter()
        subprocess.run(command(seed), check=True, capture_output=True)
        span = time.perf_counter() - started  # the second, compiled run
        whole[seed] = (out / "summary.csv").read_bytes()
    for k in range(KILLS):
        proc = subprocess.Popen(
            command(1 + k % 2), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        time.sleep(rng.uniform(0.1, 1.1) * span)
        proc.kill()
        proc.wait()
        assert (out / "summary.csv").read_bytes() in whole.values()
        assert files.foreign_entries(out) == []
        assert (out / results_file).exists()
    # The next run tidies whatever the kills left beside the target.
    subprocess.run(command(1), check=True, capture_output=True)
    assert [p.name for p in out.parent.iterdir() if p.name.startswith(f".{out.name}")] == []


@pytest.mark.slow
def test_kill_9_keeps_the_whole_old_or_whole_new_run(small_toml, tmp_path):
    out = tmp_path / "run"

    def command(seed):
        argv = run_args(small_toml, out, "--force", "--seed", str(seed))
        argv[argv.index("20")] = "3000"
        return [sys.executable, "-m", "simulator", *argv]

    _kill_trial(tmp_path, command, out, "simulation.nc")


@pytest.mark.slow
def test_kill_9_keeps_the_whole_old_or_whole_new_streamed_run(small_toml, tmp_path):
    out = tmp_path / "run"

    def command(seed):
        return [sys.executable, "-c", STREAMED, str(small_toml), str(out), str(seed)]

    _kill_trial(tmp_path, command, out, "simulation.zarr")


@pytest.mark.slow
def test_ctrl_c_at_random_moments_ends_cleanly(small_toml, tmp_path):
    rng = random.Random(7)
    out = tmp_path / "run"
    argv = [sys.executable, "-m", "simulator", *run_args(small_toml, out)]
    argv[argv.index("20")] = "4000"
    started = time.perf_counter()
    subprocess.run(argv, check=True, capture_output=True)
    span = time.perf_counter() - started
    for _ in range(KILLS):
        subprocess.run(["rm", "-rf", str(out)], check=True)
        proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        time.sleep(rng.uniform(0.3, 1.0) * span)
        proc.send_signal(signal.SIGINT)
        code = proc.wait(30)  # a deadlock fails here
        err = proc.stderr.read()
        assert "Traceback" not in err
        assert code in (0, 130), err
        if code == 130:
            assert "interrupted: nothing was written" in err and not out.exists()
        else:
            assert files.foreign_entries(out) == [] and (out / "simulation.nc").is_file()
        assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".run")] == []
