"""Children-looked-after records in the DfE's SSDA903 layout -> placements.

The episodes table has one row per episode of care; a new episode starts
whenever the placement *or* the legal status changes. Cleaning, in order:

1. drop rows without CHILD or DECOM, with a date that is not a date, or that
   end (DEC) before they start (DECOM);
2. remove duplicate episodes (same child and DECOM, as when a multi-year extract
   repeats an episode open at a year end), keeping the latest report;
3. map PLACE x PLACE_PROVIDER to a budget service (:mod:`.mapping`); drop
   episodes whose code no service takes (unknown placement codes);
4. truncate overlapping episodes: an episode that is still open, or ends after
   the child's next episode starts, is ended when the next one starts;
5. join continuation episodes into one placement: an episode starting the day
   the previous one ended with REC = X1 continues the same placement when its
   RNE is L (legal status change only), T or U (same carer), or when PLACE,
   PLACE_PROVIDER, URN and PL_POST are all unchanged;
6. leave out services the mapping excludes.

Children are identified by CHILD, or by LA and CHILD when the table has an LA
column (extracts that pool councils reuse CHILD numbers).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .mapping import Mapping, load_mapping
from .records import (
    ERROR,
    FIX,
    DataError,
    Problem,
    ProblemLog,
    Records,
    ServiceInfo,
    date_problem,
    day_numbers,
    empty_placements,
    end_before_start_problem,
    parse_dates,
    read_table,
)

EPISODE_COLUMNS = ("CHILD", "DECOM", "RNE", "PLACE", "PLACE_PROVIDER", "DEC", "REC")
HEADER_COLUMNS = ("CHILD", "DOB")
#: RNE codes of an episode that continues the previous placement (legal status only; same carer).
CONTINUING_RNE = frozenset({"L", "T", "U"})
_CONTINUATION_WHY = {
    "L": "RNE 'L': change of legal status only",
    "T": "RNE 'T': same carer",
    "U": "RNE 'U': same carer",
}
#: REC code of an episode followed by another on the same day.
CONTINUES_REC = "X1"


def _child_key(table: pd.DataFrame) -> pd.Series:
    if "LA" in table.columns:
        return table["LA"] + "/" + table["CHILD"]
    return table["CHILD"]


def _select_la(table: pd.DataFrame, la: str | None, source: str, log: ProblemLog) -> pd.DataFrame:
    """Keep one council's rows when asked; say so when several are pooled."""
    if "LA" not in table.columns:
        if la is not None:
            raise DataError(f"{source}: no LA column, so --la {la!r} cannot pick a council")
        return table
    names = sorted(set(table["LA"]) - {""})
    if la is None:
        if len(names) > 1:
            log.notes.append(
                f"{source}: records of {len(names)} councils ({', '.join(names)}) calibrated "
                "together; use --la to pick one"
            )
        return table
    keep = table["LA"].str.casefold() == la.casefold()
    if not keep.any():
        raise DataError(f"{source}: no rows with LA {la!r} (found: {', '.join(names)})")
    log.notes.append(f"{source}: {int(keep.sum()):,} of {len(table):,} rows are LA {la!r}")
    return table[keep]


def _basic_checks(table: pd.DataFrame, source: str, log: ProblemLog) -> pd.DataFrame:
    """Step 1: rows without a child or start, unparseable dates, ends before starts."""
    for column in ("CHILD", "DECOM"):
        empty = table[column] == ""
        for row in table.loc[empty, "_row"]:
            log.add(
                Problem(
                    source,
                    int(row),
                    column,
                    "",
                    f"no {column} given",
                    "row dropped",
                    ERROR,
                    f"missing {column}",
                )
            )
        table = table[~empty]
    start, bad_start = parse_dates(table["DECOM"])
    end, bad_end = parse_dates(table["DEC"])
    for column, bad in (("DECOM", bad_start), ("DEC", bad_end)):
        for row, value in zip(table.loc[bad, "_row"], table.loc[bad, column], strict=True):
            log.add(date_problem(source, int(row), column, value, "row dropped"))
    table = table.assign(start=start, end=end)
    table = table[~(bad_start | bad_end)]
    backwards = table["end"] < table["start"]
    for _, r in table[backwards].iterrows():
        log.add(
            end_before_start_problem(source, int(r["_row"]), "DEC", r["DEC"], "DECOM", r["DECOM"])
        )
    return table[~backwards]


def _year_rank(table: pd.DataFrame) -> pd.Series:
    if "YEAR" not in table.columns:
        return pd.Series(0, index=table.index)
    return pd.to_numeric(table["YEAR"], errors="coerce").fillna(-1)


def _deduplicate(table: pd.DataFrame, source: str, log: ProblemLog) -> pd.DataFrame:
    """Step 2: one row per child and start date, the latest and most complete report."""
    table = table.assign(_year=_year_rank(table), _closed=table["end"].notna())
    table = table.sort_values(["_child", "start", "_year", "_closed", "_row"], kind="stable")
    dup = table.duplicated(["_child", "start"], keep="last")
    kept_row = table.groupby(["_child", "start"], sort=False)["_row"].transform("last")
    for row, value, kept in zip(
        table.loc[dup, "_row"], table.loc[dup, "DECOM"], kept_row[dup], strict=True
    ):
        log.add(
            Problem(
                source,
                int(row),
                "DECOM",
                value,
                f"duplicate episode: same CHILD and DECOM as row {int(kept)}, "
                "which is kept as the latest report",
                "row dropped",
                FIX,
                "duplicate episode",
            )
        )
    return table[~dup]


def _map_services(
    table: pd.DataFrame, mapping: Mapping, source: str, log: ProblemLog
) -> pd.DataFrame:
    """Step 3: the budget service of each episode; drop codes no service takes."""
    pairs = table[["PLACE", "PLACE_PROVIDER"]].drop_duplicates()
    lookup = {}
    for place, provider in pairs.itertuples(index=False):
        rule = mapping.service_of(place.upper(), provider.upper())
        lookup[(place, provider)] = rule.key if rule else ""
    service = pd.Series(
        [lookup[p] for p in zip(table["PLACE"], table["PLACE_PROVIDER"], strict=True)],
        index=table.index,
        dtype=object,
    )
    known = mapping.known_places
    for _, r in table[service == ""].iterrows():
        place, provider = r["PLACE"], r["PLACE_PROVIDER"]
        if "*" in known or place.upper() in known:
            column, value = "PLACE_PROVIDER", provider
            message = (
                f"placement code PLACE {place!r} with PLACE_PROVIDER {provider!r} is not "
                f"in {mapping.name}"
            )
        else:
            column, value = "PLACE", place
            message = f"unknown placement code {place!r} (not in {mapping.name})"
        log.add(
            Problem(
                source,
                int(r["_row"]),
                column,
                value,
                message,
                "row dropped",
                ERROR,
                "unknown placement code",
            )
        )
    return table.assign(service=service)[service != ""]


def _truncate_overlaps(table: pd.DataFrame, source: str, log: ProblemLog) -> pd.DataFrame:
    """Step 4: end each episode no later than the child's next episode starts."""
    table = table.sort_values(["_child", "start"], kind="stable")
    same_child = table["_child"].eq(table["_child"].shift(-1))
    next_start = table["start"].shift(-1)
    next_row = table["_row"].shift(-1)
    overlap = same_child & (table["end"].isna() | (table["end"] > next_start))
    for i in table.index[overlap]:
        new_end = next_start[i]
        text = new_end.strftime("%Y-%m-%d")
        was = table.at[i, "DEC"]
        what = "still open" if was == "" else f"ends {was}"
        log.add(
            Problem(
                source,
                int(table.at[i, "_row"]),
                "DEC",
                was,
                f"{what}, after the child's next episode (row {int(next_row[i])}) starts "
                f"{text}: ended {text}",
                "end date changed",
                FIX,
                "overlapping episode",
            )
        )
    table = table.copy()
    table.loc[overlap, "end"] = next_start[overlap]
    table["_truncated"] = overlap
    return table


def _same_placement(table: pd.DataFrame) -> pd.Series:
    """Whether each episode is in the same placement as the one before (codes and place)."""
    prev = table.shift(1)
    same = (table["PLACE"] == prev["PLACE"]) & (table["PLACE_PROVIDER"] == prev["PLACE_PROVIDER"])
    evidence = pd.Series(False, index=table.index)
    for column in ("URN", "PL_POST"):
        if column in table.columns:
            both = (table[column] != "") & (prev[column].fillna("") != "")
            same &= ~both | (table[column] == prev[column])
            evidence |= both
    # Without a URN or postcode, equal codes alone do not show the carer is the same.
    return same & evidence


def _join_continuations(table: pd.DataFrame, source: str, log: ProblemLog) -> pd.DataFrame:
    """Step 5: join episodes that continue the previous placement into one placement."""
    prev = table.shift(1)
    follows = (
        table["_child"].eq(prev["_child"])
        & table["start"].eq(prev["end"])
        & table["service"].eq(prev["service"])
        & (prev["REC"].fillna("").str.upper().eq(CONTINUES_REC) | prev["_truncated"].fillna(False))
    )
    by_rne = table["RNE"].str.upper().isin(CONTINUING_RNE)
    joins = follows & (by_rne | _same_placement(table))
    group = (~joins).cumsum()
    first_row = table.groupby(group)["_row"].transform("first")
    for i in table.index[joins]:
        rne = table.at[i, "RNE"]
        why = _CONTINUATION_WHY.get(rne.upper(), "same PLACE, PLACE_PROVIDER, URN and postcode")
        log.add(
            Problem(
                source,
                int(table.at[i, "_row"]),
                "RNE",
                rne,
                f"continues the placement that starts at row {int(first_row[i])} ({why})",
                "joined",
                FIX,
                "continuation episode joined",
            )
        )
    # Groups are runs of consecutive rows: a placement's first episode gives its
    # start and row, its last episode its end (NaT while still open).
    first = table[~joins]
    last = table[~joins.shift(-1, fill_value=False)]
    return pd.DataFrame(
        {
            "client": first["_child"].to_numpy(),
            "service": first["service"].to_numpy(),
            "start": first["start"].to_numpy(),
            "end": last["end"].to_numpy(),
            "weekly_cost": np.nan,
            "source": source,
            "row": first["_row"].to_numpy(dtype=np.int64),
        }
    )


def _services(mapping: Mapping, present: set[str], source: str) -> dict[str, ServiceInfo]:
    return {
        r.key: ServiceInfo(
            key=r.key,
            label=r.label,
            department=r.department,
            origin=r.describe(),
            source=source,
            default_cost=r.unit_cost,
            default_cost_source=r.unit_cost_source,
        )
        for r in mapping.rules
        if r.key in present and not r.exclude
    }


def episodes_to_placements(
    table: pd.DataFrame, mapping: Mapping, source: str, log: ProblemLog
) -> tuple[pd.DataFrame, np.ndarray]:
    """Clean an episodes table (read by :func:`~.records.read_table`) into placements.

    Parameters
    ----------
    table : pandas.DataFrame
        Text cells with a ``_row`` column; the LA already selected.
    mapping : Mapping
    source : str
        File name for messages.
    log : ProblemLog
        Added to.

    Returns
    -------
    placements : pandas.DataFrame
        The placements table (see :class:`~.records.Records`), excluded services
        included (the caller leaves them out).
    recorded_ends : numpy.ndarray
        End dates as recorded (days since 1970-01-01), before overlaps were truncated.
    """
    table = table.assign(_child=_child_key(table))
    table = _basic_checks(table, source, log)
    table = _deduplicate(table, source, log)
    table = _map_services(table, mapping, source, log)
    recorded_ends = day_numbers(table["end"].dropna())
    if table.empty:
        return empty_placements(), recorded_ends
    table = _truncate_overlaps(table, source, log)
    return _join_continuations(table, source, log), recorded_ends


def _header_ages(path: str | Path, la: str | None, log: ProblemLog, strict: bool) -> pd.DataFrame:
    """Date of birth of each child from the header table (the latest report of each)."""
    source = Path(path).name
    table = read_table(path, HEADER_COLUMNS, "SSDA903 header table")
    table = _select_la(table, la, source, ProblemLog())
    dob, bad = parse_dates(table["DOB"])
    for row, value in zip(table.loc[bad, "_row"], table.loc[bad, "DOB"], strict=True):
        log.add(date_problem(source, int(row), "DOB", value, "row ignored"))
    log.raise_if_strict(strict, source)
    table = table.assign(client=_child_key(table), dob=dob, _year=_year_rank(table))
    table = table[dob.notna()].sort_values(["client", "_year", "_row"], kind="stable")
    return table.drop_duplicates("client", keep="last")[["client", "dob", "_row"]]


def _check_births(
    placements: pd.DataFrame, ages: pd.DataFrame, source: str, header: str, log: ProblemLog
) -> None:
    """Report placements that start before the child was born, and children with no header row."""
    merged = placements.merge(ages, on="client", how="left")
    unborn = merged["start"] < merged["dob"]
    for _, r in merged[unborn].iterrows():
        log.add(
            Problem(
                source,
                int(r["row"]),
                "DECOM",
                r["start"].strftime("%Y-%m-%d"),
                f"starts before the child's date of birth {r['dob']:%Y-%m-%d} "
                f"({header} row {int(r['_row'])})",
                "kept",
                ERROR,
                "starts before birth",
            )
        )
    missing = merged.loc[merged["dob"].isna(), "client"].nunique()
    if missing:
        log.notes.append(f"{header}: no date of birth for {missing:,} children in {source}")


def load_ssda903(
    episodes: str | Path,
    header: str | Path | None = None,
    mapping: str | Path | Mapping | None = None,
    la: str | None = None,
    strict: bool = False,
) -> Records:
    """Read and clean an SSDA903 episodes table (and optionally the header table).

    Parameters
    ----------
    episodes : str or pathlib.Path
        CSV with at least CHILD, DECOM, RNE, PLACE, PLACE_PROVIDER, DEC, REC;
        dates DD/MM/YYYY or YYYY-MM-DD; extra columns are allowed.
    header : str or pathlib.Path, optional
        CSV with CHILD and DOB: used to check dates of birth and to report the
        ages of children in the starting caseload.
    mapping : path or Mapping, optional
        PLACE x PLACE_PROVIDER -> service mapping (default: :data:`~.mapping.DEFAULT_MAPPING_TOML`).
    la : str, optional
        Keep only rows whose LA column equals this (case-insensitive).
    strict : bool
        Stop with :class:`~.records.DataError` at the first file with a bad row,
        instead of dropping the row and carrying on.

    Returns
    -------
    Records

    Raises
    ------
    DataError
        A missing file or column, or (in strict mode) any bad row.
    """
    source = Path(episodes).name
    rules = mapping if isinstance(mapping, Mapping) else load_mapping(mapping)
    log = ProblemLog()
    table = read_table(episodes, EPISODE_COLUMNS, "SSDA903 episodes table")
    table = _select_la(table, la, source, log)
    placements, recorded_ends = episodes_to_placements(table, rules, source, log)
    log.raise_if_strict(strict, source)
    excluded = {r.key for r in rules.rules if r.exclude}
    dropped = placements["service"].isin(excluded)
    if dropped.any():
        log.notes.append(
            f"{source}: {int(dropped.sum()):,} placements in excluded services "
            f"({', '.join(sorted(set(placements.loc[dropped, 'service'])))}) left out"
        )
    placements = placements[~dropped].reset_index(drop=True)
    ages = None
    sources = [source]
    if header is not None:
        ages = _header_ages(header, la, log, strict)
        _check_births(placements, ages, source, Path(header).name, log)
        log.raise_if_strict(strict, source)
        ages = ages[["client", "dob"]]
        sources.append(Path(header).name)
    services = _services(rules, set(placements["service"]), source)
    return Records(
        placements,
        services,
        log,
        ages=ages,
        sources=sources,
        recorded_ends={source: recorded_ends},
    )
