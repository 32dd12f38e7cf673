"""Loading configs: TOML text and files in, checked Config out, and the resolved TOML back.

:func:`load_config` reads a file, :func:`loads_config` TOML text and
:func:`config_from_dict` parsed TOML; case files a config names (snapshot,
actuals) are read into it. :func:`dumps_config` writes the resolved config and
:func:`resolve_run` settles a run's config, draws and seed.
"""

from __future__ import annotations

import datetime as dt
import tomllib
import weakref
from pathlib import Path

import tomli_w

from simulator.config.checks import MAX_DEPTH, FileRows, check_shape, checked_config
from simulator.config.messages import ConfigError, show
from simulator.config.scenarios import check_scenarios
from simulator.config.schema import MAX_PATH, Config, as_dict


def config_from_dict(data: dict, source: str = "<config>", files: FileRows | None = None) -> Config:
    """Validate a parsed TOML document.

    Parameters
    ----------
    data : dict
        The parsed TOML.
    source : str
        Name used in error messages (usually the file name).
    files : FileRows, optional
        What reading the files the config names found (see :func:`read_named_files`):
        their problems are reported together with the config's own.

    Returns
    -------
    Config

    Raises
    ------
    ConfigError
        With one line per problem.
    """
    check_shape(data, source)
    config = checked_config(data, source, files)
    check_scenarios(config, source)
    return config


#: A config file larger than this is refused before it is read (a resolved
#: config holding a snapshot of a million placements is about 80 MB).
MAX_CONFIG_BYTES = 100 * 1024 * 1024

_READERS = {"snapshot": ("placements", "read_snapshot"), "actuals": ("months", "read_actuals")}


def _case_path(
    section: str, name: object, base_dir: Path, allow_outside: bool
) -> tuple[Path | None, str | None]:
    """The path of a file a config names, or why it cannot be read (naming the field)."""
    field = f"{section}.file = {show(name)}"
    if not isinstance(name, str) or not name.strip():
        return None, f"{field}: must be a file name in quotes"
    if len(name) > MAX_PATH or any(not c.isprintable() for c in name):
        return None, f"{field}: must be a file name of at most {MAX_PATH} printable characters"
    path = base_dir / name
    try:
        folder, target = base_dir.resolve(), path.resolve()
    except (OSError, RuntimeError) as exc:  # a loop of symbolic links, say
        return None, f"{field}: cannot be found ({type(exc).__name__})"
    if not allow_outside and not target.is_relative_to(folder):
        return None, (
            f"{field}: is outside the config's folder ({folder}): put the file in that folder or "
            "one inside it and name it relative to the config"
        )
    try:
        if not target.exists():
            return None, f"{field}: no such file (looked for {path})"
        if target.is_dir():
            return None, f"{field}: is a folder, not a CSV file"
        if not target.is_file():
            return None, f"{field}: is not a regular file (a device or pipe): give a CSV file"
    except OSError as exc:  # a name too long, say
        return None, f"{field}: cannot be found ({exc.strerror or type(exc).__name__})"
    return path, None


def _actuals_reader(path: Path):
    """The reader of a ledger-shaped actuals file (a workbook, months across, year to date).

    ``None`` for the plain CSV, which :func:`simulator.config.casefiles.read_actuals` reads.
    """
    from simulator.config.workbook.ledger import is_ledger, read_ledger

    return read_ledger if is_ledger(path) else None


def _services_by_id(
    found: list[dict], services: object, refuse: bool = True
) -> tuple[list[dict], list[str]]:
    """Case-file rows with services named by label (in any case) turned to ids.

    With ``refuse``, a name that is neither a service's id nor its label is a
    problem with a "did you mean" and its row is left out (so it is not
    reported twice), and a department or the total (a subtotal row) is
    refused; without, such rows are kept as they are for the config's checks.
    """
    import difflib

    from simulator.config.workbook.read import slug

    if not isinstance(services, dict):
        return found, []
    ids: dict[str, str] = {}
    shown: dict[str, str] = {}  # a name matched, as a "did you mean" writes it
    departments = {"total"}
    for key, svc in services.items():
        ids[str(key).lower()] = str(key)
        shown[str(key).lower()] = str(key)
        if isinstance(svc, dict):
            label = svc.get("label")
            if isinstance(label, str) and label:
                ids.setdefault(label.strip().lower(), str(key))
                shown.setdefault(label.strip().lower(), label.strip())
                ids.setdefault(slug(label), str(key))
            if isinstance(svc.get("department"), str) and svc["department"]:
                departments.add(svc["department"].strip().lower())
    kept, problems = [], []
    for row in found:
        name = str(row.get("service", "")).strip()
        key = ids.get(name.lower()) or ids.get(slug(name))
        if key is not None:
            kept.append({**row, "service": key})
        elif not refuse:
            kept.append(row)
        elif name.lower() in departments:
            problems.append(
                f"row {row.get('row')}: {name!r} is a department or the total, not a service: "
                "remove the subtotal row (the tool adds up departments and the total itself)"
            )
        elif name:
            near = difflib.get_close_matches(name.lower(), list(shown), n=1, cutoff=0.6)
            hint = f" (did you mean {shown[near[0]]!r}?)" if near else ""
            problems.append(
                f"row {row.get('row')}: service {name!r} is not a service of this config{hint}: "
                "name it by its id or its label"
            )
        else:
            kept.append(row)  # an empty name: the reader has reported it
    return kept, list(dict.fromkeys(problems))  # a ledger row holds several months


def read_named_files(
    data: dict, base_dir: Path, source: str = "<config>", allow_outside: bool = False
) -> tuple[dict, FileRows]:
    """Replace ``snapshot.file`` and ``actuals.file`` by the rows they hold.

    Paths are relative to ``base_dir`` (the config's folder) and must stay inside
    it unless ``allow_outside``. The rows go into the config itself, so the
    resolved config reproduces the run without the files.

    Returns
    -------
    data : dict
        The config with the rows that could be read.
    files : FileRows
        Every problem found (a file that cannot be read names the config's
        field; a bad row names the file, row, column and value), for
        :func:`config_from_dict` to report with the config's own.
    """
    from simulator.config import casefiles

    problems: list[tuple[str, str]] = []
    rows: dict[str, tuple[int, ...]] = {}
    excused: set[tuple[str, str]] = set()
    unread: set[str] = set()
    for section, (key, reader) in _READERS.items():
        part = data.get(section)
        if not isinstance(part, dict) or part.get("file") is None:
            continue
        name = part["file"]
        if part.get(key):
            problems.append((source, f"{section}: give either file or {key}, not both"))
            continue
        path, why = _case_path(section, name, base_dir, allow_outside)
        if why is not None:
            problems.append((source, why))
            unread.add(section)
            data = {**data, section: {k: v for k, v in part.items() if k != "file"}}
            continue
        if section == "actuals":
            as_of = part.get("as_of")
            as_of = as_of if type(as_of) is dt.date else None
            ledger = _actuals_reader(path)
            found, bad = (ledger or casefiles.read_actuals)(path, as_of)
            # a ledger's unknown names are refused here, with a "did you mean"; the plain
            # CSV's are left to the config's checks, which list the services
            found, wrong = _services_by_id(found, data.get("services"), refuse=ledger is not None)
            bad = [*bad, *wrong]
            excused |= {(r["service"], r["month"]) for r in found if "unread" in r and "month" in r}
            found = [r for r in found if "unread" not in r]
        else:
            found, bad = getattr(casefiles, reader)(path)
            found, _ = _services_by_id(found, data.get("services"), refuse=False)
        problems += [(str(path), p) for p in bad]
        if bad and not found:
            unread.add(section)  # nothing to check the config against
        rows[section] = tuple(r.pop("row") for r in found)
        part = {k: v for k, v in part.items() if k != "file"}
        data = {**data, section: {**part, key: found, "source": name}}
    return data, FileRows(tuple(problems), rows, frozenset(excused), frozenset(unread))


def loads_config(
    text: str, source: str = "<config>", base_dir: Path | None = None, allow_outside: bool = False
) -> Config:
    """Parse and validate config TOML text (see :func:`config_from_dict`).

    ``base_dir`` is where files named in the config are looked for (default: the
    current folder); they must be inside it unless ``allow_outside``.
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(source, [f"not valid TOML: {exc}"]) from None
    except RecursionError:
        raise ConfigError(
            source, [f"arrays or tables are nested too deeply (at most {MAX_DEPTH} levels)"]
        ) from None
    base = Path(".") if base_dir is None else base_dir
    data, files = read_named_files(data, base, source, allow_outside)
    return config_from_dict(data, source, files)


def load_config(path: str | Path, allow_outside: bool = False) -> Config:
    """Read and validate a config file.

    Parameters
    ----------
    path : str or pathlib.Path
        A TOML file, or an input workbook (``.xlsx``, see ``docs/excel.md``).
    allow_outside : bool
        Let the config name case files (``snapshot.file``, ``actuals.file``)
        outside its own folder; by default they must be in it or below it.

    Returns
    -------
    Config

    Raises
    ------
    ConfigError
        When the file cannot be read or any field is invalid.
    """
    path = Path(path)
    if path.suffix.lower() in WORKBOOK_SUFFIXES and path.is_file():
        from simulator.config.workbook.read import load_workbook_config

        return load_workbook_config(path, allow_outside)
    if path.suffix.lower() in OLD_EXCEL_SUFFIXES:
        raise ConfigError(
            str(path),
            ["is an older Excel file: save it as an Excel Workbook (.xlsx) and give that file"],
        )
    try:
        if path.is_dir():
            raise IsADirectoryError
        if path.exists() and not path.is_file():
            raise ConfigError(str(path), ["is not a regular file (a device or pipe)"])
        with path.open("rb") as handle:
            raw = handle.read(MAX_CONFIG_BYTES + 1)
        if len(raw) > MAX_CONFIG_BYTES:
            raise ConfigError(
                str(path), [f"is larger than {MAX_CONFIG_BYTES // 2**20} MB: is it a config?"]
            )
        text = raw.decode("utf-8-sig")  # a byte-order mark from Windows editors is fine
    except FileNotFoundError:
        raise ConfigError(str(path), ["no such file"]) from None
    except IsADirectoryError:
        raise ConfigError(str(path), ["is a folder, not a config file"]) from None
    except UnicodeDecodeError:
        raise ConfigError(str(path), ["is not UTF-8 text: save it as UTF-8"]) from None
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise ConfigError(str(path), [f"cannot be read ({reason})"]) from None
    return loads_config(text, path.name, path.parent, allow_outside)


#: Files read as input workbooks; older Excel formats are refused with a hint.
WORKBOOK_SUFFIXES = (".xlsx", ".xlsm")
OLD_EXCEL_SUFFIXES = (".xls", ".xlsb", ".ods")

# Where configs read from a workbook came from, by the config object: a note the
# resolved config's text carries, so results record their workbook.
_ORIGINS: dict[int, tuple[weakref.ref, str]] = {}
ORIGIN_PREFIX = "# from "


def remember_origin(config: Config, origin: str) -> None:
    """Record where ``config`` came from (e.g. ``workbook council.xlsx sha256:...``)."""
    key = id(config)
    _ORIGINS[key] = (weakref.ref(config, lambda _: _ORIGINS.pop(key, None)), origin)


def config_origin(config: Config) -> str | None:
    """Where ``config`` came from when it was not TOML text (see :func:`remember_origin`)."""
    found = _ORIGINS.get(id(config))
    return found[1] if found is not None and found[0]() is config else None


def dumps_config(config: Config) -> str:
    """The resolved config (defaults filled in) as TOML text that loads back identically.

    A config read from a workbook starts with a comment naming the workbook and
    its SHA-256 (``# from workbook council.xlsx sha256:...``).
    """
    data = as_dict(config)
    origin = config_origin(config)
    head = f"{ORIGIN_PREFIX}{origin}\n" if origin else ""
    return head + tomli_w.dumps(data)


def resolve_run(
    config: Config | str | Path, draws: int | None = None, seed: int | None = None
) -> tuple[Config, int, int]:
    """A config (loaded when a path is given) and the draws and seed to run with.

    ``None`` takes the config's ``[run]`` values.

    Raises
    ------
    ValueError
        When draws is below 1.
    """
    if not isinstance(config, Config):
        config = load_config(config)
    draws = config.run.draws if draws is None else int(draws)
    seed = config.run.seed if seed is None else int(seed)
    if draws < 1:
        raise ValueError(f"draws = {draws}: must be at least 1")
    return config, draws, seed
