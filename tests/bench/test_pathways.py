"""The bench row of issue 12: the kernel with moves and ageing against the same council without.

No timing assertions: only that the row is measured, counted right and reported.
"""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from simulator import bench
from simulator.bench import output, pathways, suite
from simulator.bench.pathways import (
    PATHWAY_RATIO_TARGET,
    _prepare,
    _run,
    measure_pathways,
    pathway_config,
    pathway_rows,
)
from simulator.config.load import dumps_config
from simulator.model.equations import build_plan
from tests.bench.test_bench import TINY as BENCH_TINY

# The bench tests' tiny sizes, with fewer draws of each one-family council.
TINY = dataclasses.replace(BENCH_TINY, family_draws=60)


def test_the_two_councils_differ_only_by_moves_and_ageing():
    plain, paths = pathway_config(False, caseload=50), pathway_config(True, caseload=50)
    assert list(plain.services) == list(paths.services) == ["foster", "homes", "adults"]
    for key, service in paths.services.items():
        other = plain.services[key]
        assert service.model_copy(update={"moves": None, "ageing": None}) == other
    assert set(paths.services["foster"].moves) == {"homes"}
    assert paths.services["homes"].ageing.continue_to == {"adults": 0.2}
    assert all(s.moves is None and s.ageing is None for s in plain.services.values())


def test_episodes_are_counted_exactly_from_the_kernels_outputs():
    # Without moves every episode is a starting or a new placement, so the count from the
    # outputs (open in some year, less those spanning a year end) must equal theirs exactly.
    plain = build_plan(pathway_config(False, caseload=80))
    _, _, episodes, entrants = _run(plain, _prepare(plain, 120, 4))
    assert episodes == entrants > 0
    # With them, moved and continuing placements are episodes of their own.
    paths = build_plan(pathway_config(True, caseload=80))
    _, _, episodes, entrants = _run(paths, _prepare(paths, 120, 4))
    assert episodes > entrants > 0


def test_the_row_has_its_fields_and_is_printed():
    res = measure_pathways(TINY)
    json.dumps(res)  # plain JSON
    assert res["draws"] == TINY.family_draws and res["target_at_most"] == PATHWAY_RATIO_TARGET
    for name in pathways.PLANS:
        part = res[name]
        assert len(part["kernel_cpu_seconds"]["all"]) == TINY.repeats
        assert part["episodes"] >= part["entrants"] > 0
        assert np.isfinite(part["ns_per_episode"]) and part["ns_per_episode"] > 0
    assert res["without_paths"]["episodes"] == res["without_paths"]["entrants"]
    with_, without = res["with_paths"], res["without_paths"]
    assert res["pathway_ratio"] == with_["ns_per_episode"] / without["ns_per_episode"]
    assert res["without_paths"]["entrants"] == res["with_paths"]["entrants"]  # same arrivals
    rows = pathway_rows({"pathways": res})
    assert rows[0][0] == "Kernel with moves and ageing / without"
    assert rows[0][1] == f"{res['pathway_ratio']:.2f}" and "target <= 1.3" in rows[0][2]
    assert pathway_rows({}) == []  # results of older versions have no row


@pytest.mark.slow  # the whole tiny suite: seconds
def test_the_suite_measures_and_prints_the_row(tmp_path, monkeypatch, capsys):
    path = tmp_path / "tiny.toml"
    path.write_text(dumps_config(bench.synthetic_config(services=1, years=1, caseload=40)))
    monkeypatch.setattr(suite, "measure_memory", _in_process_memory)
    monkeypatch.setattr(suite, "measure_scale_out", lambda *a: {"skipped": "not in this test"})
    monkeypatch.setattr(suite, "measure_startup", lambda settings: STARTUP)
    res = suite.run_suite(path, threads=2, log=lambda s: None, settings=TINY)
    assert res["pathway_ratio"] == res["pathways"]["pathway_ratio"] > 0
    assert pathway_rows(res)[0] in output.report_rows(res)  # in the printed table
    output.print_report(res)
    assert "Kernel with moves" in capsys.readouterr().out  # (rich wraps a narrow terminal)
    json_path, _ = output.write_results(res, tmp_path / "bench")
    assert json.loads(json_path.read_text())["pathways"]["with_paths"]["episodes"] > 0


STARTUP = {
    "command": "overspend run SMALL --no-charts",
    "draws": 50,
    "cold_wall_seconds": 5.0,
    "cold_cpu_seconds": 4.0,
    "warm_wall_seconds": 1.5,
    "warm_cpu_seconds": 1.2,
    "compile_cpu_seconds": 2.8,
    "import_config_seconds": 0.2,
    "import_config_loads_scipy_special": False,
}


def _in_process_memory(config_path, settings, threads):
    """The memory children's work, in this process (fresh processes are too slow here)."""
    return {
        mode: [bench._child(mode, str(config_path), n, threads) for n in sizes]
        for mode, sizes in (
            ("in_memory", settings.memory_draws),
            ("streamed", settings.stream_draws),
        )
    }
