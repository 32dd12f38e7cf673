"""Saving a what-if as a scenario, and the page's downloads.

:func:`save_scenario` writes the what-if as a config that ``overspend
compare`` runs as it stands: the page's config, resolved (so any snapshot or
actuals travel inside it), with the page's seed and draws as its ``[run]`` and
the what-if as ``[scenarios.<name>]``. It goes only into the ``what_if``
folder of the results folder, atomically (:func:`simulator.files.write_file`),
and never over an earlier file. :func:`scenario_block` is the block alone,
for pasting into the council's own config.

:func:`figures_rows` is the current view's figures as plain rows (GBP and
fractions, as ``summary.csv``), which :func:`figures_csv` and
:func:`figures_xlsx` write for the browser to download.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import tomli_w

from simulator.config.checks import MAX_IDENTIFIER, is_name
from simulator.config.load import dumps_config, loads_config
from simulator.config.schema import Config, RunSettings, Scenario
from simulator.errors import UserError
from simulator.serve.figures import Measure

#: The folder of a results folder that saved what-ifs go into.
SAVED_FOLDER = "what_if"

#: Names ``overspend compare`` keeps for itself.
RESERVED = ("base",)


def check_name(name: str, config: Config) -> str:
    """A scenario name the config can take, or a UserError saying what is allowed."""
    name = (name or "").strip()
    if not is_name(name):
        raise UserError(
            f"scenario name {name!r}: must be lower_case_with_underscores (letters, digits and "
            f"underscores, starting with a letter), at most {MAX_IDENTIFIER} characters"
        )
    if name in RESERVED:
        raise UserError(
            f"scenario name {name!r}: compare uses it for the base case; choose another"
        )
    if name in config.scenarios:
        raise UserError(f"scenario name {name!r}: the config already has a scenario of that name")
    return name


def scenario_block(name: str, description: str, changes: dict) -> str:
    """The ``[scenarios.<name>]`` block of a what-if, as TOML text."""
    return tomli_w.dumps({"scenarios": {name: {"description": description, "changes": changes}}})


def saved_config(
    config: Config, name: str, description: str, changes: dict, draws: int, seed: int
) -> str:
    """The whole config to save: resolved, ``[run]`` set to the page's, the what-if added.

    Raises
    ------
    ConfigError
        If the text does not load back (it always should: the what-if was checked).
    """
    scenarios = {**config.scenarios, name: Scenario(description=description, changes=changes)}
    updated = config.model_copy(
        update={"scenarios": scenarios, "run": RunSettings(draws=draws, seed=seed)}
    )
    text = dumps_config(updated)
    head = (
        f"# A what-if saved from `overspend serve`: {description}\n"
        f"# Reproduce the page's figures with:\n"
        f"#   overspend compare THIS_FILE --scenario {name}\n"
    )
    loads_config(text, f"{name}.toml")  # the file must load as it is written
    return head + text


def save_scenario(
    results_dir: str | Path,
    config: Config,
    name: str,
    description: str,
    changes: dict,
    draws: int,
    seed: int,
) -> Path:
    """Write the what-if as ``<results_dir>/what_if/<name>.toml``; return its path.

    Raises
    ------
    UserError
        A bad name, an existing file of that name, or a folder that cannot be written.
    """
    from simulator.files import read_marker, write_file, write_marker

    name = check_name(name, config)
    if not changes:
        raise UserError("nothing is changed from the config: change an assumption first")
    text = saved_config(config, name, description, changes, draws, seed)
    results_dir = Path(results_dir)
    folder = results_dir / SAVED_FOLDER
    path = folder / f"{name}.toml"
    if path.exists():
        raise UserError(f"{path} already exists: choose another name")
    new_folder = not folder.exists()
    folder.mkdir(parents=True, exist_ok=True)
    if new_folder:  # the folder is ours: a later `run --force` may replace the results folder
        write_marker(results_dir, (read_marker(results_dir) or set()) | {SAVED_FOLDER})
    write_file(path, lambda tmp: tmp.write_text(text, encoding="utf-8"), force=False,
               what="what-if")  # fmt: skip
    return path


# ------------------------------------------------------------------ downloads

COLUMNS = (
    "council", "row", "financial_year", "figure", "units", "base", "base_se", "what_if",
    "what_if_se", "difference", "difference_se", "draws", "seed", "changes",
)  # fmt: skip


def figures_rows(
    measures: list[Measure],
    council: str,
    row: str,
    year: str,
    draws: int,
    seed: int,
    changes: list[str],
) -> list[dict[str, object]]:
    """The current view's figures as plain rows (money in GBP, chances as fractions)."""
    said = "; ".join(changes) or "none (the base case)"
    return [
        {
            "council": council,
            "row": row,
            "financial_year": year,
            "figure": m.name,
            "units": "1" if m.kind == "chance" else "GBP",
            "base": m.base,
            "base_se": m.base_se,
            "what_if": m.what_if,
            "what_if_se": m.what_if_se,
            "difference": m.diff,
            "difference_se": m.diff_se,
            "draws": draws,
            "seed": seed,
            "changes": said,
        }
        for m in measures
    ]


def figures_csv(rows: list[dict[str, object]]) -> bytes:
    """The rows as CSV (UTF-8 with a byte-order mark, so Excel reads the £ and ‘ right)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode("utf-8-sig")


def figures_xlsx(rows: list[dict[str, object]]) -> bytes:
    """The rows as an Excel workbook of one sheet, "What-if"."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "What-if"
    sheet.append(list(COLUMNS))
    for row in rows:
        sheet.append([row[c] for c in COLUMNS])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
