"""Output of the suite: the printed tables, the plot, and the results JSON and PNG."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np

from simulator.bench.check import targets_missed
from simulator.bench.commands import command_rows
from simulator.bench.families import FAMILIES
from simulator.bench.pathways import pathway_rows
from simulator.bench.settings import (
    BATCHED_SPEEDUP_TARGET,
    FLOOR_RATIO_TARGET,
    GIB,
    KERNEL_FLOOR_RATIO_TARGET,
    MEMORY_TARGET_BYTES,
    NUMPY_SPEEDUP_TARGET,
)
from simulator.files import write_file


def _fmt_bytes(n: float | None) -> str:
    return "n/a" if n is None else f"{n / GIB:.2f} GiB" if n >= GIB else f"{n / 1024**2:.0f} MiB"


def _fmt(x: float | None, spec: str = ".3g", unit: str = "") -> str:
    return "n/a" if x is None else f"{x:{spec}}{unit}"


def _stripped_note(ref: dict) -> str:
    """Say when the yardsticks ran on the config without issue 12's features."""
    if not ref.get("stripped"):
        return ""
    return "; all three on the config without its moves, ageing and demand factors"


def report_rows(res: dict) -> list[tuple[str, str, str]]:
    """(measure, value, target or note) rows of the printed table."""
    tp, sc, ref = res["throughput"], res["scaling"], res["numpy_reference"]
    spread = tp["seconds_n_threads"]
    exp = lambda key: _fmt(sc[key]["exponent"], ".2f")  # noqa: E731
    return [
        (f"Draws per second (warm, {tp['threads']} threads)", f"{res['draws_per_second']:,.0f}",
         f"runs {spread['min']:.2f}-{spread['max']:.2f} s for {tp['draws']:,} draws"),
        ("Draws per second (1 thread)", f"{res['draws_per_second_1_thread']:,.0f}", ""),
        ("Placements per second", f"{res['placements_per_second']:,.3g}",
         f"{tp['placements_per_draw']:,.0f} per draw"),
        ("Placement-months per second", f"{res['placement_months_per_second']:,.3g}", "open at month ends"),
        ("Floor ratio (simulation / numpy Generator)", _fmt(res["floor_ratio"], ".2f"),
         f"target <= {FLOOR_RATIO_TARGET:g}; {tp['variates_per_draw']:,.0f} variates per draw"),
        ("Kernel / its generator's floor", _fmt(res["kernel_floor_ratio_numba"], ".2f"),
         "the kernel's own draws, one at a time as it makes them (CPU)"),
        *_family_rows(res),
        *pathway_rows(res),
        ("Speed-up over batched numpy", _fmt(res.get("numpy_speedup_batched"), ".1f", "x"),
         f"target >= {BATCHED_SPEEDUP_TARGET:g}x; placements of many draws at once (CPU)"
         + _stripped_note(ref)),
        *_agreement_rows(ref),
        ("Speed-up over per-draw numpy (overlap)", _fmt(res["numpy_speedup"], ".1f", "x"),
         f"target >= {NUMPY_SPEEDUP_TARGET:g}x; a loop over draws (CPU)"),
        ("Speed-up over per-draw numpy (difference)", _fmt(res["numpy_speedup_difference"], ".1f", "x"),
         "the same loop, difference arrays" if ref["available"] else ref.get("why", "")),
        *_startup_rows(res),
        *command_rows(res),
        ("Warm run, default draws", _fmt(res["warm_run_seconds"], ".1f", " s"),
         f"{res['warm_run_draws'] or 0:,} draws, {tp['threads']} threads"),
        ("Peak RSS, 1,000,000 draws (streamed)", _fmt_bytes(res["peak_rss_bytes_1e6_draws"]),
         "target < 4 GiB" if res["peak_rss_bytes_1e6_draws"] else "full run only"),
        ("Threads 1 -> N speed-up", _fmt(res["thread_speedup"], ".2f", "x"),
         "identical results" if res["threads_identical"] else "RESULTS DIFFER"),
        ("Exponent: draws", exp("draws"), f"draws {sc['draws']['x']}"),
        ("Exponent: services", exp("services"), f"services {sc['services']['x']}"),
        ("Exponent: horizon years", exp("horizon_years"),
         f"vs placements {sc['horizon_years']['exponent_vs_placements']:.2f}"),
        ("Exponent: caseload", exp("caseload"), f"caseload {sc['caseload']['x']}"),
    ]  # fmt: skip


def _family_rows(res: dict) -> list[tuple[str, str, str]]:
    """Kernel / its floor for each length family (absent from results of older versions)."""
    by_family = res.get("kernel_floor_by_family") or {}
    return [
        (f"  {family}", _fmt(by_family[family]["kernel_floor_ratio_numba"], ".2f"),
         f"target <= {KERNEL_FLOOR_RATIO_TARGET:g}; "
         f"{by_family[family]['kernel_ns_per_placement']:.0f} ns and "
         f"{by_family[family]['variates_per_placement']:.1f} variates per placement")
        for family in FAMILIES
        if family in by_family
    ]  # fmt: skip


def _agreement_rows(ref: dict) -> list[tuple[str, str, str]]:
    """Whether the batched yardstick still simulates the engine's model (total outturn)."""
    agree = ref.get("batched", {}).get("agreement_total_outturn") if ref["available"] else None
    if not agree:
        return []
    z_mean, z_var = agree["max_abs_z_mean"], agree["max_abs_z_variance"]
    return [
        ("  its total outturn vs the engine's", f"|z| {z_mean:.1f}, {z_var:.1f}",
         "means, variances in standard errors (over 4.5: not the same model)"),
    ]  # fmt: skip


def _startup_rows(res: dict) -> list[tuple[str, str, str]]:
    """Cold and warm start of ``overspend run --no-charts``, and importing the config layer."""
    up = res.get("startup")
    if not up:
        return []
    special = "imports" if up["import_config_loads_scipy_special"] else "no longer imports"
    return [
        ("Cold start (empty numba cache), CPU", _fmt(up["cold_cpu_seconds"], ".1f", " s"),
         f"{up['command']}, {up['draws']} draws; wall {up['cold_wall_seconds']:.1f} s"),
        ("Warm start, CPU", _fmt(up["warm_cpu_seconds"], ".1f", " s"),
         f"wall {up['warm_wall_seconds']:.1f} s; compiling costs "
         f"{up['compile_cpu_seconds']:.1f} s CPU"),
        ("Import simulator.config", _fmt(up["import_config_seconds"], ".2f", " s"),
         f"{special} scipy.special"),
    ]  # fmt: skip


def print_targets(res: dict) -> None:
    """List the ratios that miss the issue's targets (recorded in ``res['targets']``)."""
    for name, (target, limit, value) in targets_missed(res, res.get("targets") or {}).items():
        print(f"Target not yet met: {name} = {value:.3g} ({target} {limit:g})")


def print_report(res: dict) -> None:
    """Print the results table and the memory runs."""
    from rich.console import Console
    from rich.table import Table

    console = Console()
    m = res["machine"]
    table = Table(title=f"overspend bench ({res['mode']}): {m['cpu']}, {m['logical_cpus']} CPUs")
    for name in ("Measure", "Value", "Target / note"):
        table.add_column(name, justify="right" if name == "Value" else "left")
    for row in report_rows(res):
        table.add_row(*row)
    console.print(table)
    mem = Table(title="Peak resident memory of fresh processes")
    for name in ("Mode", "Draws", "Run s", "Peak RSS, run", "Peak RSS, + summary", "Summary s"):
        mem.add_column(name, justify="left" if name == "Mode" else "right")
    for mode in ("in_memory", "streamed"):
        for r in res["memory"][mode]:
            mem.add_row(mode, f"{r['draws']:,}", f"{r['run_seconds']:.1f}",
                        _fmt_bytes(r["peak_rss_after_run_bytes"]), _fmt_bytes(r["peak_rss_bytes"]),
                        f"{r['summary_seconds']:.1f}")  # fmt: skip
    console.print(mem)
    from simulator.bench.scaling import scale_out_table

    if (scale_out := scale_out_table(res.get("scale_out"))) is not None:
        console.print(scale_out)
    print_targets(res)


def plot(res: dict, path: Path) -> Path:
    """Scaling curves (log-log, with fitted exponents) and memory against draws, as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sc, mem = res["scaling"], res["memory"]
    fig, axes = plt.subplots(2, 3, figsize=(14, 8.5))
    panels = [
        ("draws", f"draws (streamed, {res['throughput']['threads']} threads)"),
        ("services", "placement services (1 thread)"),
        ("horizon_years", "horizon, years (1 thread)"),
        ("caseload", "starting caseload of one service (1 thread)"),
    ]
    for ax, (key, label) in zip(axes.flat[:4], panels, strict=True):
        x, y = np.array(sc[key]["x"], float), np.array(sc[key]["seconds"], float)
        ax.loglog(x, y, "o-", label="measured")
        if sc[key]["exponent"] is not None:
            fit = np.polyfit(np.log(x), np.log(y), 1)
            ax.loglog(x, np.exp(np.polyval(fit, np.log(x))), "--", label=f"slope {fit[0]:.2f}")
        ax.set(xlabel=label, ylabel="seconds", title=f"Time against {key.replace('_', ' ')}")
        ax.legend()
    ax = axes.flat[4]
    lines = (
        ("in_memory", "peak_rss_bytes", "o-", "in memory"),
        ("streamed", "peak_rss_after_run_bytes", "s-", "streamed: the run"),
        ("streamed", "peak_rss_bytes", "s--", "streamed: run, summary, fan"),
    )
    for mode, key, style, label in lines:
        runs = mem[mode]
        ax.loglog([r["draws"] for r in runs], [r[key] / GIB for r in runs], style, label=label)
    ax.axhline(MEMORY_TARGET_BYTES / GIB, color="red", linestyle=":", label="4 GiB target")
    ax.set(xlabel="draws", ylabel="peak RSS, GiB", title="Peak memory against draws")
    ax.legend(loc="center right", fontsize="small")
    ax = axes.flat[5]
    tp, ref, kf = res["throughput"], res["numpy_reference"], res["kernel_floor"]
    bars = {
        "engine, 1 thread": tp["seconds_1_thread"]["median"] / tp["draws"],
        "numpy floor": tp["floor_seconds"]["median"] / tp["draws"],
        "kernel only": kf["kernel_cpu_seconds"]["median"] / kf["draws"],
        "kernel generator floor": kf["numba_floor_cpu_seconds"]["median"] / kf["draws"],
    }
    if ref["available"]:
        bars["numpy batched"] = ref["batched"]["seconds_per_draw"]
        bars["numpy (difference)"] = ref["difference"]["seconds_per_draw"]
        bars["numpy (overlap)"] = ref["overlap"]["seconds_per_draw"]
    ax.barh(list(bars), [v * 1e3 for v in bars.values()])
    ax.set(
        xlabel="milliseconds per draw (kernel and numpy: CPU time)",
        title="Per-draw time, default config",
    )
    fig.suptitle(f"overspend bench ({res['mode']}), {res['created']}: {res['machine']['cpu']}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def write_results(res: dict, out_dir: Path) -> tuple[Path, Path]:
    """Write ``<timestamp>.json`` and ``<timestamp>.png`` into ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    json_path = write_file(
        out_dir / f"{stamp}.json", lambda tmp: tmp.write_text(json.dumps(res, indent=2) + "\n")
    )
    return json_path, plot(res, out_dir / f"{stamp}.png")
