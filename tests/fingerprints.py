"""Fingerprints of every bundled config's results, to prove a restructuring changed no number.

For each config in ``configs/`` this runs ``overspend run``, ``sensitivity`` and
``compare`` through the command line (small sizes, fixed seeds) and records a
SHA-256 of every data variable's bytes (with its dtype and shape) and of
``summary.csv``. Attributes (creation time, versions) are left out: they are
meant to change; so are coordinates added later to describe the data (such as
``input_units``), while every recorded one must stay identical.

    python -m tests.fingerprints --record   # write tests/data/fingerprints.json
    python -m tests.fingerprints            # compare, listing every difference

``tests/test_fingerprints.py`` runs the comparison.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
from pathlib import Path

import numpy as np
import xarray as xr

ROOT = Path(__file__).resolve().parents[1]
RECORD = Path(__file__).parent / "data" / "fingerprints.json"
CONFIGS = sorted((ROOT / "configs").glob("*.toml"))

RUN = ["--draws", "1200", "--seed", "11", "--threads", "2", "--no-charts"]
SENSITIVITY = ["--samples", "32", "--bootstrap", "20", "--draws", "500", "--seed", "5"]
COMPARE = ["--draws", "600", "--seed", "3", "--threads", "2"]


def digest(values: np.ndarray) -> str:
    """SHA-256 of an array's dtype, shape and bytes (strings as UTF-8)."""
    values = np.asarray(values)
    h = hashlib.sha256(f"{values.dtype.str}{values.shape}".encode())
    if values.dtype.kind in "OUS":
        h.update("\x1f".join(str(v) for v in values.ravel()).encode())
    else:
        h.update(np.ascontiguousarray(values).tobytes())
    return h.hexdigest()


def dataset_digests(path: Path) -> dict[str, str]:
    """A digest per data variable and coordinate of a results file."""
    with xr.open_dataset(path) as ds:
        names = sorted(ds.data_vars) + sorted(f"coord:{c}" for c in ds.coords)
        return {name: digest(ds[name.removeprefix("coord:")].values) for name in names}


def fingerprints(configs: list[Path] = CONFIGS) -> dict[str, dict[str, str]]:
    """Run each config's commands into a temporary folder and fingerprint what they wrote."""
    from simulator.cli import app as cli

    found: dict[str, dict[str, str]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for config in configs:
            out = Path(tmp) / config.stem
            commands = [
                ["run", str(config), "--out", str(out), *RUN],
                ["sensitivity", str(config), "--out", str(out), *SENSITIVITY],
            ]
            if "[scenarios." in config.read_text(encoding="utf-8"):
                commands.append(["compare", str(config), "--out", str(out), *COMPARE])
            for argv in commands:
                if cli.main(argv) != 0:
                    raise RuntimeError(f"overspend {' '.join(argv)} failed")
            prints = {"summary.csv": hashlib.sha256((out / "summary.csv").read_bytes()).hexdigest()}
            for name in ("simulation.nc", "sensitivity.nc", "scenarios.nc"):
                if (out / name).exists():
                    for var, value in dataset_digests(out / name).items():
                        prints[f"{name}:{var}"] = value
            found[config.stem] = prints
    return found


def differences(recorded: dict, now: dict) -> list[str]:
    """Every entry that differs, is missing or is new, one line each."""
    lines = []
    for config in sorted(set(recorded) | set(now)):
        old, new = recorded.get(config, {}), now.get(config, {})
        for key in sorted(set(old) | set(new)):
            if old.get(key) == new.get(key):
                continue
            what = "new" if key not in old else "missing" if key not in new else "differs"
            if what == "new" and ":coord:" in key:
                continue  # a coordinate added to describe the data (units, labels) is allowed
            lines.append(f"{config}: {key} {what}")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--record", action="store_true", help=f"write {RECORD}")
    args = parser.parse_args()
    import contextlib
    import io

    with contextlib.redirect_stdout(io.StringIO()):
        now = fingerprints()
    if args.record:
        RECORD.write_text(json.dumps(now, indent=1, sort_keys=True) + "\n")
        print(f"recorded {sum(map(len, now.values()))} fingerprints in {RECORD}")
        return 0
    lines = differences(json.loads(RECORD.read_text()), now)
    print("\n".join(lines) if lines else "bit-identical to the record")
    return 1 if lines else 0


if __name__ == "__main__":
    sys.exit(main())
