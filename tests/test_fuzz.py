"""A fuzz trial of configs and case files: every mutant is a valid model or a clean error.

Mutations of the bundled configs (each field's value replaced by a quoted
number, a boolean, an extreme or empty value, odd text, another kind of value;
fields removed or added; the TOML text cut or garbled; nesting too deep) and of
a small in-year council's snapshot and actuals files (cells with decimal
commas, dates in other orders and formats, blanks, rows and columns repeated,
removed or renamed, binary bytes). Each mutant is loaded as a user's file would
be, and must either load (and then run) or be refused with a
:class:`~simulator.errors.UserError` whose message is one line per problem,
each naming the file and a field, row or column; never any other exception.

``test_fuzz_quick`` loads as many mutants as the trial that found defects 14 to
35 (374 configs, 233 CSV files); ``test_fuzz_trial`` (slow) takes three more
samples of that size and runs every config accepted. Measured here with seed 35:
of the 374 config mutants 39 were accepted and 335 refused with a clean error; of
the 233 CSV mutants 45 accepted and 188 clean errors; none raised anything else.
Before the fixes of defects 14 to 35 the same sample gave 54 unclean outcomes
(20 RecursionErrors, lines of 10,000 characters, lines naming no field or
column) and accepted 8 more configs and 20 more CSV files.
"""

from __future__ import annotations

import copy
import datetime as dt
import math
import random
import re
import tomllib
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import tomli_w

import simulator
from simulator.config.bundled import bundled_configs_dir
from simulator.config.load import loads_config
from simulator.errors import UserError

CONFIGS = sorted(bundled_configs_dir().glob("*.toml"))

IN_YEAR = """
[council]
name = "Monitoring Borough"
[horizon]
start = "2024/25"
years = 1
[snapshot]
file = "caseload.csv"
as_of = 2024-06-30
extension_probability = 0.2
[actuals]
file = "actuals.csv"
as_of = 2024-06-30
forecast_overspend_gbp = { total = 300_000 }
[services.homes]
budget_gbp = 3_000_000
department = "Children"
arrivals = { per_year = 20 }
length = { dist = "lognormal", median_weeks = 40, sigma = 0.8 }
unit_cost = { mean_gbp_per_week = 5_000, cv = 0.2 }
[services.staff]
kind = "cost"
budget_gbp = 1_200_000
cost = { annual_gbp = 1_200_000, monthly_cv = 0.1 }
"""

SNAPSHOT = """service,start_date,weekly_cost_gbp,planned_end_date
homes,2023-01-15,7000,2024-09-30
homes,14/03/2024,6000,
homes,2024-06-01,,
homes,2022-11-30,5250.50,2025-01-31
"""

ACTUALS = """service,month,net_spend_gbp,caseload
homes,2024-04,250000,3
homes,2024-05,260000,3
homes,2024-06,255000,4
staff,2024-04,100000,
staff,2024-05,98000,
staff,2024-06,101000,
"""

# ---------------------------------------------------------------- what a clean error is

#: A config line names a field path (``services.homes.label = 5: ...``, ``council: ...``)
#: or is about the whole file; a CSV line names a row or a column, or is about the
#: whole file.
_FIELD = re.compile(r"^[^\s:=]+( \([^)]*\))?( = .*)?: ")
_FILE_LEVEL = (
    "not valid TOML",
    "arrays or tables are nested",
    "is larger than",
    "does not look like",
    "is not UTF-8",
    "is not a CSV text file",
    "cannot be read as CSV",
    "is empty",
    "the snapshot file needs a column",
    "the actuals file needs a column",
    "unknown column",
    "columns ",
    "dates are written",
    "and ",  # "... and 12 more problems"
    "has ",  # "has 2000000 rows"
)
_CSV_LINE = re.compile(r"^row \d+(, column [^:]+)?: ")
MAX_LINE = 500


def _clean(message: str, sources: tuple[str, ...]) -> str | None:
    """Why ``message`` is not a clean error (``None`` when it is)."""
    lines = message.splitlines()
    if not lines:
        return "no message"
    for line in lines:
        if len(line) > MAX_LINE:
            return f"a line of {len(line)} characters"
        source = next((s for s in sources if line.startswith(f"{s}: ")), None)
        if source is None:
            return f"names no file: {line[:120]!r}"
        rest = line[len(source) + 2 :]
        if source == sources[0]:
            if not (_FIELD.match(rest) or rest.startswith(_FILE_LEVEL)):
                return f"names no field: {line[:160]!r}"
        elif not (_CSV_LINE.match(rest) or rest.startswith(_FILE_LEVEL)):
            return f"names no row or column: {line[:160]!r}"
    return None


# ---------------------------------------------------------------- config mutations


def _leaves(node, path=()):
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _leaves(v, (*path, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _leaves(v, (*path, i))
    if path:
        yield path


def _value_mutations(value):
    """Replacement values for a field that holds ``value``."""
    out = [True, False, "", "   ", "x" * 10_000, "a\x00b", "Costs $5 to $10", "Homes\u202e",
           [], {}, 0, -1, 1e300, -1e300, 1e-300, math.nan, math.inf, "0001/02", "9999/00",
           dt.date(1066, 10, 14), dt.datetime(2024, 6, 30, 12, 0), {"dist": "normall"},
           [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]  # fmt: skip
    if isinstance(value, bool):
        out += [str(value).lower(), 1]
    elif isinstance(value, int | float):
        out += [str(value), f"{value:,}".replace(",", "."), -value, value * 1e6, value / 1e6,
                float(value), int(value) if math.isfinite(value) else 0, [value], {"dist": "normal", "mean": value, "sd": abs(value)},
                {"dist": "uniform", "low": value, "high": value * 2 + 1}]  # fmt: skip
    elif isinstance(value, str):
        out += [value.upper(), value + "x", " " + value, value * 50, value.replace("/", "-")]
    elif isinstance(value, dt.date):
        out += [value.isoformat(), dt.date(value.year, value.month, 1), value + dt.timedelta(400)]
    elif isinstance(value, list):
        out += [value[:1], value * 2, [str(x) for x in value]]
    elif isinstance(value, dict):
        out += [{**value, "unknown_key": 1}, dict(list(value.items())[:1]), [value]]
    return out


def _mutate_data(data: dict, rng: random.Random) -> dict:
    data = copy.deepcopy(data)
    for _ in range(rng.choice([1, 1, 1, 2, 3])):
        paths = list(_leaves(data))
        if not paths:
            break
        path = rng.choice(paths)
        node = data
        for p in path[:-1]:
            node = node[p]
        action = rng.random()
        if action < 0.1 and isinstance(node, dict):
            node.pop(path[-1])
        elif action < 0.15 and isinstance(node, dict):
            node[rng.choice(["medain_weeks", "Label", "extra", "kind2", "2024/25"])] = 1
        else:
            node[path[-1]] = rng.choice(_value_mutations(node[path[-1]]))
    return data


def _mutate_text(text: str, rng: random.Random) -> str:
    lines = text.splitlines()
    kind = rng.randrange(6)
    i = rng.randrange(len(lines))
    if kind == 0:
        return text[: rng.randrange(len(text))]
    if kind == 1:
        return "\n".join(lines[:i] + lines[i + 1 :])
    if kind == 2:
        return "\n".join([*lines[:i], lines[i], lines[i], *lines[i + 1 :]])
    if kind == 3:
        pos = rng.randrange(len(text))
        return text[:pos] + rng.choice(["\x00", "[", "=", '"', "\ufeff", "{", "]]"]) + text[pos:]
    if kind == 4:
        return "x = " + "[" * 3000 + "]" * 3000 + "\n" + text
    return "[" + ".".join(["a"] * 20_000) + "]\n" + text


# ---------------------------------------------------------------- CSV mutations

_CELLS = ["", " ", "1.234,50", "328,50", "12,34,567", "(1234)", "NaN", "inf", "-1e11", "1e300",
          "٣", "1_000", "03/04/2024", "04/14/2024", "2024-4", "2024-13", "Apr-24", "P1", "P13",
          "2024-04-30T10:00:00", "1066-10-14", "=1+1", "hommes", "stuff", "x" * 200_000, '"',
          "0", "-5", "31/02/2024", "homes", "staff", "2024-07"]  # fmt: skip


def _mutate_csv(text: str, rng: random.Random) -> str | bytes:
    rows = [line.split(",") for line in text.splitlines()]
    kind = rng.randrange(10)
    r = rng.randrange(1, len(rows))
    c = rng.randrange(len(rows[0]))
    if kind <= 3:
        cell = rng.choice(_CELLS)
        rows[r][c] = f'"{cell}"' if "," in cell else cell
    elif kind == 4:
        rows.insert(r, list(rows[r]))  # a row twice
    elif kind == 5:
        del rows[r]
    elif kind == 6:
        rows[0][c] = rng.choice(["", rows[0][(c + 1) % len(rows[0])], rows[0][c].upper(), "end"])
    elif kind == 7:
        rows[r].append(rng.choice(["extra", ""]))
    elif kind == 8:
        rows.insert(r, [])  # a blank line
    else:
        return rng.choice(
            [b"\xff\xfe" + text.encode("utf-16-le"), text.encode()[: rng.randrange(len(text))],
             b"\x00" * 10, text.replace("\n", "\r\n").encode(), b"\xef\xbb\xbf" + text.encode(),
             text.replace("£", "").encode("cp1252") + "£5\n".encode("cp1252"), b""]
        )  # fmt: skip
    return "\n".join(",".join(row) for row in rows) + "\n"


# ---------------------------------------------------------------- the trial


def _load(text: str, folder: Path) -> simulator.Config:
    return loads_config(text, "mutant.toml", folder)


def _try(load, sources, run: bool, outcomes: Counter, failures: list, label: str) -> None:
    try:
        config = load()
    except UserError as exc:
        why = _clean(str(exc), sources)
        if why is None:
            outcomes["clean error"] += 1
        else:
            failures.append(f"{label}: {why}")
        return
    except Exception as exc:
        failures.append(f"{label}: {type(exc).__name__}: {str(exc)[:200]}")
        return
    outcomes["accepted"] += 1
    if run:
        try:
            ds = simulator.run(config, draws=2, seed=1)
        except UserError:
            outcomes["refused when run"] += 1
            return
        except Exception as exc:
            failures.append(f"{label}: accepted, then running it: {type(exc).__name__}: {exc}")
            return
        if not np.all(np.isfinite(ds["outturn"].values)):
            failures.append(f"{label}: accepted, then an outturn that is not a number")


def trial(
    n_configs: int, n_files: int, seed: int, folder: Path, run: bool
) -> tuple[Counter, Counter, list]:
    """Load ``n_configs`` config mutants and ``n_files`` CSV mutants; count what happened."""
    rng = random.Random(seed)
    config_outcomes, file_outcomes, failures = Counter(), Counter(), []
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "caseload.csv").write_text(SNAPSHOT)
    (folder / "actuals.csv").write_text(ACTUALS)
    texts = [p.read_text() for p in CONFIGS] + [IN_YEAR]
    parsed = [tomllib.loads(t) for t in texts]
    for n in range(n_configs):
        k = rng.randrange(len(texts))
        if rng.random() < 0.15:
            text = _mutate_text(texts[k], rng)
        else:
            try:
                text = tomli_w.dumps(_mutate_data(parsed[k], rng))
            except (TypeError, ValueError, RecursionError):
                continue  # not writable as TOML: no user can give it
        label = f"config mutant {n} of {['bcp', 'example', 'leicester', 'in-year'][k]}"
        _try(
            lambda t=text: _load(t, folder), ("mutant.toml",), run, config_outcomes, failures, label
        )
    for n in range(n_files):
        name, original = rng.choice([("caseload.csv", SNAPSHOT), ("actuals.csv", ACTUALS)])
        mutant = _mutate_csv(original, rng)
        sub = folder / f"files{n}"
        sub.mkdir()
        (sub / "caseload.csv").write_text(SNAPSHOT)
        (sub / "actuals.csv").write_text(ACTUALS)
        path = sub / name
        path.write_bytes(mutant) if isinstance(mutant, bytes) else path.write_text(mutant)
        sources = ("mutant.toml", str(sub / "caseload.csv"), str(sub / "actuals.csv"))
        label = f"{name} mutant {n}"
        _try(lambda s=sub: _load(IN_YEAR, s), sources, run, file_outcomes, failures, label)
    return config_outcomes, file_outcomes, failures


def test_the_unmutated_files_are_valid(tmp_path):
    (tmp_path / "caseload.csv").write_text(SNAPSHOT)
    (tmp_path / "actuals.csv").write_text(ACTUALS)
    assert len(_load(IN_YEAR, tmp_path).snapshot.placements) == 4
    for path in CONFIGS:
        assert loads_config(path.read_text(), path.name)


def test_the_clean_error_rule():
    assert _clean("mutant.toml: services.homes.label = 5: must be text", ("mutant.toml",)) is None
    assert _clean("mutant.toml: something went wrong", ("mutant.toml",)) is not None
    assert _clean("a.csv: row 3, column month: 'x' is not a month", ("m", "a.csv")) is None
    assert _clean("a.csv: oops", ("m", "a.csv")) is not None
    assert _clean("mutant.toml: services.x: " + "y" * 600, ("mutant.toml",)) is not None


def _report(configs: Counter, files: Counter) -> str:
    return (
        f"configs: {configs['accepted']} accepted, {configs['clean error']} clean errors; "
        f"CSV files: {files['accepted']} accepted, {files['clean error']} clean errors"
    )


@pytest.mark.slow  # seconds: the configs and CSVs of one seed
def test_fuzz_quick(tmp_path, capsys):
    """The trial's sizes, without running the accepted configs (about 4 s)."""
    configs, files, failures = trial(374, 233, seed=35, folder=tmp_path, run=False)
    with capsys.disabled():
        print(f"\nfuzz trial (seed 35): {_report(configs, files)}")
    assert failures == []
    assert configs["accepted"] and configs["clean error"] and files["clean error"]


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_fuzz_trial(tmp_path, capsys, seed):
    """Other samples of the trial's size, each accepted config run for two draws."""
    configs, files, failures = trial(374, 233, seed=seed, folder=tmp_path, run=True)
    with capsys.disabled():
        print(f"\nfuzz trial (seed {seed}): {_report(configs, files)}")
    assert failures == []
    assert configs["accepted"] and configs["clean error"] and files["clean error"]
