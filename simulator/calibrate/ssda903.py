"""Children-looked-after records in the DfE's SSDA903 layout -> placements.

The episodes table has one row per episode of care; a new episode starts
whenever the placement *or* the legal status changes. A council may give one
file per collection year (or a folder of them), or one extract with a YEAR
column: each file, or each YEAR of a file, is a *return*. Cleaning, in order:

1. drop rows without CHILD or DECOM, with a date that is not a date, or that
   end (DEC) before they start (DECOM);
2. stitch the returns and remove duplicate episodes: the same child and DECOM
   in two returns is one episode, whose end is the later return's; within one
   return the most complete report is kept; a zero-day episode (DEC = DECOM,
   REC X1) on the day another episode of the child starts is the duplicate;
3. map PLACE x PLACE_PROVIDER to a budget service (:mod:`.mapping`); drop
   episodes whose code no service takes (unknown placement codes); report a
   blank or invalid PLACE_PROVIDER where the provider decides the service;
4. truncate overlapping episodes: an episode that is still open, or ends after
   the child's next episode starts, is ended when the next one starts;
5. join continuation episodes into one placement: an episode starting the day
   the previous one ended with REC = X1 continues the same placement when its
   RNE is L (legal status change only), T or U (same carer), or when PLACE,
   PLACE_PROVIDER, URN and PL_POST are all unchanged; a placement whose first
   episode continues one that is not in the records is flagged (it started on
   or before its first DECOM);
6. flag placements still open in an earlier return whose child is in no later
   return (stale), and leave out services the mapping excludes.

Children are identified by CHILD, or by LA and CHILD when the table has an LA
column (extracts that pool councils reuse CHILD numbers).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from simulator.config.calendar import fy_label

from .ages import LEAVE_AT, whole_years
from .censor import censor_returns, known_day
from .mapping import Mapping, Rule, load_mapping
from .records import (
    ERROR,
    FIX,
    DataError,
    Problem,
    ProblemLog,
    Records,
    ServiceInfo,
    collection_year_end,
    date_problem,
    day_numbers,
    empty_placements,
    end_before_start_problem,
    from_day,
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
#: RNE codes of a change of placement (P), or of placement and legal status (B): after an
#: episode ending X1, a new placement in another service is then a move between services.
MOVE_RNE = frozenset({"P", "B"})
#: The PLACE_PROVIDER codes of the return: parent, own council, other council,
#: other public, private, voluntary.
PROVIDER_CODES = frozenset({"PR0", "PR1", "PR2", "PR3", "PR4", "PR5"})
# Files named in a label for a set of stitched files before it is shortened.
_LABEL_FILES = 3


# ------------------------------------------------------------------ files and returns


def _columns(path: Path) -> set[str]:
    """Column names of a CSV file (upper case), or none when it cannot be read."""
    try:
        head = pd.read_csv(path, nrows=0, dtype=str, encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError):
        return set()
    return {str(c).strip().upper() for c in head.columns}


def _as_list(paths) -> list[Path]:
    if paths is None:
        return []
    if isinstance(paths, str | Path):
        return [Path(paths)]
    return [Path(p) for p in paths]


def expand_inputs(
    episodes, header=None
) -> tuple[list[Path], list[Path], list[str]]:  # fmt: skip
    """The episodes and header files named, folders opened.

    A folder stands for every CSV file in it (in name order): those with the
    episodes table's columns are episodes, those with CHILD and DOB but no
    DECOM are header tables, and any other is ignored with a note.

    Returns
    -------
    episodes, headers : list of pathlib.Path
    notes : list of str
    """
    found: dict[str, list[Path]] = {"episodes": [], "header": []}
    notes: list[str] = []
    for kind, given in (("episodes", _as_list(episodes)), ("header", _as_list(header))):
        for path in given:
            if not path.is_dir():
                found[kind].append(path)
                continue
            csvs = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() == ".csv")
            usable = 0
            for csv in csvs:
                columns = _columns(csv)
                if all(c in columns for c in EPISODE_COLUMNS):
                    found["episodes"].append(csv)
                    usable += kind == "episodes"
                elif all(c in columns for c in HEADER_COLUMNS) and "DECOM" not in columns:
                    found["header"].append(csv)
                    usable += kind == "header"
                else:
                    notes.append(
                        f"{path.name}/{csv.name}: neither an episodes nor a header table "
                        "(its columns do not match): ignored"
                    )
            if not usable:
                what = "episodes" if kind == "episodes" else "header"
                columns = EPISODE_COLUMNS if kind == "episodes" else HEADER_COLUMNS
                raise DataError(
                    f"{path}: no SSDA903 {what} table in this folder (a CSV file with the "
                    f"columns {', '.join(columns)})"
                )
    unique = {k: list(dict.fromkeys(p.resolve() for p in v)) for k, v in found.items()}
    return unique["episodes"], unique["header"], notes


def display_names(paths: Iterable[Path]) -> dict[Path, str]:
    """Names for messages: the file name, with its folders where two files share a name."""
    paths = list(paths)
    names = {p: p.name for p in paths}
    for depth in range(2, 100):
        counts: dict[str, int] = {}
        for name in names.values():
            counts[name] = counts.get(name, 0) + 1
        clashes = [p for p, n in names.items() if counts[n] > 1]
        if not clashes:
            return names
        for p in clashes:
            names[p] = "/".join(p.parts[-depth:])
    return {p: str(p) for p in paths}


def set_label(names: list[str]) -> str:
    """One name for several files stitched together, e.g. ``'a.csv + b.csv + c.csv'``."""
    if len(names) <= _LABEL_FILES:
        return " + ".join(names)
    return f"{names[0]} + ... + {names[-1]} ({len(names)} files)"


@dataclass(frozen=True)
class Return:
    """One collection year's records: a file, or one YEAR of a file.

    Attributes
    ----------
    source : str
        File name (as in messages).
    year : str
        The YEAR value, '' when the file has no YEAR column.
    end : int
        Last day of its collection year (a 31 March), days since 1970-01-01.
    """

    source: str
    year: str
    end: int

    @property
    def label(self) -> str:
        """E.g. ``'2022/23 return (episodes_2023.csv)'``."""
        fy = fy_label(from_day(self.end).astype(object).year - 1)
        where = self.source + (f" YEAR {self.year}" if self.year else "")
        return f"{fy} return ({where})"


def _assign_returns(table: pd.DataFrame) -> tuple[pd.DataFrame, list[Return]]:
    """Rank each row's return by the end of its collection year (then file order, YEAR)."""
    year = table["YEAR"] if "YEAR" in table.columns else pd.Series("", index=table.index)
    found = []
    for (file_index, source, value), rows in table.groupby(
        [table["_file"], table["_source"], year], sort=False
    ):
        days = np.concatenate([day_numbers(rows["start"]), day_numbers(rows["end"])])
        end = collection_year_end(days)
        if end is None:
            end = int(np.nanmax(days))
        number = pd.to_numeric(pd.Series([value]), errors="coerce").fillna(-1).iloc[0]
        found.append(((end, file_index, number), Return(source, value, end), rows.index))
    found.sort(key=lambda f: f[0])
    rank = pd.Series(0, index=table.index, dtype=np.int64)
    for i, (_, _, index) in enumerate(found):
        rank[index] = i
    return table.assign(_return=rank), [f[1] for f in found]


# ------------------------------------------------------------------ cleaning steps


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


def _ref(table: pd.DataFrame, i, j) -> str:
    """Row ``j`` as named from a message about row ``i``: with its file when that differs."""
    row = f"row {int(table.at[j, '_row'])}"
    same = table.at[i, "_source"] == table.at[j, "_source"]
    return row if same else f"{table.at[j, '_source']} {row}"


def _deduplicate(table: pd.DataFrame, returns: list[Return], log: ProblemLog) -> pd.DataFrame:
    """Step 2: one row per child and start date.

    Preferred, in order: not a zero-day episode ending with REC X1 (that is the
    duplicate of the episode starting the same day), the later return, a row
    with an end date, the later file given, the later row.
    """
    zero_day = table["end"].eq(table["start"]) & table["REC"].str.upper().eq(CONTINUES_REC)
    table = table.assign(_full=~zero_day, _closed=table["end"].notna())
    table = table.sort_values(
        ["_child", "start", "_full", "_return", "_closed", "_file", "_row"], kind="stable"
    )
    dup = table.duplicated(["_child", "start"], keep="last")
    index = pd.Series(table.index, index=table.index)
    kept = index.groupby([table["_child"], table["start"]], sort=False).transform("last")
    stitched = 0
    for i in table.index[dup]:
        k = kept[i]
        ref = _ref(table, i, k)
        if not table.at[i, "_full"] and table.at[k, "_full"]:
            column, action, kind = "DECOM", "row dropped", "duplicate episode"
            why = (
                f"duplicate episode: same CHILD and DECOM as {ref}; this one lasts no days "
                f"(DEC = DECOM, REC {CONTINUES_REC}), so {ref}, which continues, is kept"
            )
        elif table.at[i, "_return"] != table.at[k, "_return"]:
            stitched += 1
            column, action, kind = "DEC", "stitched", "episode in two returns"
            later = returns[int(table.at[k, "_return"])]
            end = table.at[k, "DEC"] or "still open"
            why = (
                f"the episode continues in the later {later.label}, {ref} (same CHILD and "
                f"DECOM): one episode, with that return's end ({end})"
            )
        else:
            column, action, kind = "DECOM", "row dropped", "duplicate episode"
            why = f"duplicate episode: same CHILD and DECOM as {ref}, which is kept as the latest report"
        source, row = table.at[i, "_source"], int(table.at[i, "_row"])
        log.add(Problem(source, row, column, table.at[i, column], why, action, FIX, kind))
    if len(returns) > 1:
        log.notes.append(
            f"{len(returns)} returns stitched: "
            + ", ".join(r.label for r in returns)
            + f"; {stitched:,} episodes in more than one return joined (the later return's end "
            "date kept)"
        )
    return table[~dup]


def _rule_text(rule: Rule) -> str:
    return rule.describe() + (" with any PLACE_PROVIDER" if rule.provider is None else "")


def _map_services(table: pd.DataFrame, mapping: Mapping, log: ProblemLog) -> pd.DataFrame:
    """Step 3: the budget service of each episode; drop codes no service takes."""
    pairs = table[["PLACE", "PLACE_PROVIDER"]].drop_duplicates()
    lookup = {}
    for place, provider in pairs.itertuples(index=False):
        lookup[(place, provider)] = mapping.service_of(place.upper(), provider.upper())
    rules = [lookup[p] for p in zip(table["PLACE"], table["PLACE_PROVIDER"], strict=True)]
    service = pd.Series([r.key if r else "" for r in rules], index=table.index, dtype=object)
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
                r["_source"],
                int(r["_row"]),
                column,
                value,
                message,
                "row dropped",
                ERROR,
                "unknown placement code",
            )
        )
    # Where the provider decides the service (fostering: in-house or agency), a blank
    # or invalid one falls to whichever rule takes any provider: say so, and which.
    by_provider = mapping.provider_places
    provider = table["PLACE_PROVIDER"].str.upper()
    decides = table["PLACE"].str.upper().isin(by_provider) | ("*" in by_provider)
    unclear = (service != "") & decides & ~provider.isin(PROVIDER_CODES)
    for i in table.index[unclear]:
        place, value = table.at[i, "PLACE"], table.at[i, "PLACE_PROVIDER"]
        what = (
            "no PLACE_PROVIDER given"
            if value == ""
            else f"{value!r} is not a PLACE_PROVIDER code (PR0 to PR5)"
        )
        rule = rules[table.index.get_loc(i)]
        log.add(
            Problem(
                table.at[i, "_source"],
                int(table.at[i, "_row"]),
                "PLACE_PROVIDER",
                value,
                f"{what} for PLACE {place!r}, whose service depends on it: mapped to "
                f"{rule.key} by {mapping.name}'s rule services.{rule.key} ({_rule_text(rule)})",
                "kept",
                ERROR,
                "provider unknown",
            )
        )
    return table.assign(service=service)[service != ""]


def _truncate_overlaps(table: pd.DataFrame, log: ProblemLog) -> pd.DataFrame:
    """Step 4: end each episode no later than the child's next episode starts."""
    table = table.sort_values(["_child", "start"], kind="stable")
    same_child = table["_child"].eq(table["_child"].shift(-1))
    next_start = table["start"].shift(-1)
    next_index = pd.Series(table.index, index=table.index).shift(-1)
    overlap = same_child & (table["end"].isna() | (table["end"] > next_start))
    for i in table.index[overlap]:
        new_end = next_start[i]
        text = new_end.strftime("%Y-%m-%d")
        was = table.at[i, "DEC"]
        what = "still open" if was == "" else f"ends {was}"
        log.add(
            Problem(
                table.at[i, "_source"],
                int(table.at[i, "_row"]),
                "DEC",
                was,
                f"{what}, after the child's next episode ({_ref(table, i, next_index[i])}) "
                f"starts {text}: ended {text}",
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
    """Step 5: join episodes that continue the previous placement into one placement.

    A placement whose first episode says it continues (RNE L, T or U) when no
    episode of the child ends the day it starts continues episodes that are not
    in the records: it started on or before its first DECOM (``start_censored``).
    """
    prev = table.shift(1)
    after_previous = table["_child"].eq(prev["_child"]) & table["start"].eq(prev["end"])
    follows = (
        after_previous
        & table["service"].eq(prev["service"])
        & (prev["REC"].fillna("").str.upper().eq(CONTINUES_REC) | prev["_truncated"].fillna(False))
    )
    by_rne = table["RNE"].str.upper().isin(CONTINUING_RNE)
    joins = follows & (by_rne | _same_placement(table))
    group = (~joins).cumsum()
    first_index = pd.Series(table.index, index=table.index).groupby(group).transform("first")
    for i in table.index[joins]:
        rne = table.at[i, "RNE"]
        why = _CONTINUATION_WHY.get(rne.upper(), "same PLACE, PLACE_PROVIDER, URN and postcode")
        log.add(
            Problem(
                table.at[i, "_source"],
                int(table.at[i, "_row"]),
                "RNE",
                rne,
                f"continues the placement that starts at {_ref(table, i, first_index[i])} ({why})",
                "joined",
                FIX,
                "continuation episode joined",
            )
        )
    censored = by_rne & ~joins & ~after_previous
    # Care continues (X1) into a new placement (P/B) in another service: a move, not an entry.
    moved_in = (
        after_previous
        & ~table["service"].eq(prev["service"])
        & prev["REC"].fillna("").str.upper().eq(CONTINUES_REC)
        & table["RNE"].str.upper().isin(MOVE_RNE)
    )
    for i in table.index[censored]:
        rne = table.at[i, "RNE"]
        log.add(
            Problem(
                table.at[i, "_source"],
                int(table.at[i, "_row"]),
                "RNE",
                rne,
                f"RNE {rne!r} continues an earlier episode that is not in the records (from "
                "before the first return, or missing): the placement started on or before "
                f"{table.at[i, 'start']:%Y-%m-%d}",
                "start left-censored",
                FIX,
                "continues an unrecorded episode",
            )
        )
    # Groups are runs of consecutive rows: a placement's first episode gives its
    # start and row, its last episode its end (NaT while still open).
    first = table[~joins]
    last = table[~joins.shift(-1, fill_value=False)]
    moved_from = np.where(moved_in[~joins], prev["service"][~joins].fillna(""), "")
    placements = pd.DataFrame(
        {
            "client": first["_child"].to_numpy(),
            "service": first["service"].to_numpy(),
            "start": first["start"].to_numpy(),
            "end": last["end"].to_numpy(),
            "weekly_cost": np.nan,
            "source": source,
            "row": first["_row"].to_numpy(dtype=np.int64),
            "file": first["_source"].to_numpy(),
            "start_censored": censored[~joins].to_numpy(dtype=bool),
            "last_seen": pd.Series(pd.NaT, index=range(len(first)), dtype="datetime64[s]"),
            "_last_row": last["_row"].to_numpy(dtype=np.int64),
            "_last_file": last["_source"].to_numpy(),
        }
    )
    return placements.assign(moved_from=moved_from.astype(object)).pipe(_link_moves)


def _link_moves(placements: pd.DataFrame) -> pd.DataFrame:
    """Name, on each placement a child moved out of, the service it moved to (``moved_to``).

    Placements are in child and start order, so a move's source is the row before it.
    """
    after = placements.shift(-1)
    moves_on = after["client"].eq(placements["client"]) & after["moved_from"].fillna("").ne("")
    moved_to = np.where(moves_on, after["service"].fillna(""), "")
    return placements.assign(moved_to=moved_to.astype(object))


def drop_moves_with(placements: pd.DataFrame, services: set[str]) -> pd.DataFrame:
    """Moves to or from ``services`` (left out of the config) taken as an end and an entry.

    The model cannot move a placement to or from a service it does not hold.
    """
    if "moved_from" not in placements.columns or not services:
        return placements
    return placements.assign(
        moved_from=placements["moved_from"].where(~placements["moved_from"].isin(services), ""),
        moved_to=placements["moved_to"].where(~placements["moved_to"].isin(services), ""),
    )


def _flag_stale(
    placements: pd.DataFrame, seen: pd.DataFrame, returns: list[Return], log: ProblemLog
) -> pd.DataFrame:
    """Step 6: flag placements still open in an earlier return whose child is in no later one.

    Their ``last_seen`` is the end of the child's last return: a return lists every
    episode open during its year, so the placement ended (unrecorded) by then.
    """
    if len(returns) < 2 or placements.empty:
        return placements
    ends = np.array([r.end for r in returns])
    child_end = pd.Series(ends[seen["_return"].to_numpy()]).groupby(seen["_child"].to_numpy()).max()
    latest = returns[int(np.argmax(ends))]
    end_of_child = placements["client"].map(child_end).to_numpy(dtype=np.float64)
    stale = placements["end"].isna().to_numpy() & (end_of_child < latest.end)
    last_seen = placements["last_seen"].to_numpy(dtype="datetime64[s]").copy()
    last_seen[stale] = end_of_child[stale].astype(np.int64).astype("datetime64[D]")
    for i in np.flatnonzero(stale):
        r = placements.iloc[i]
        seen_end = from_day(int(end_of_child[i]))
        log.add(
            Problem(
                r["_last_file"],
                int(r["_last_row"]),
                "DEC",
                "",
                f"still open at the end of the child's last return ({seen_end}), but the child "
                f"is in no later return (the latest is the {latest.label}): a stale open "
                "episode whose end was not recorded",
                "flagged stale",
                FIX,
                "stale open episode",
            )
        )
    return placements.assign(last_seen=last_seen)


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
            children=True,
        )
        for r in mapping.rules
        if r.key in present and not r.exclude
    }


def episodes_to_placements(
    table: pd.DataFrame,
    mapping: Mapping,
    source: str,
    log: ProblemLog,
    returns: list[Return] | None = None,
) -> tuple[pd.DataFrame, np.ndarray]:
    """Clean an episodes table into placements (steps 2 to 6).

    Parameters
    ----------
    table : pandas.DataFrame
        Text cells with ``_row``, ``_source`` (file name for messages), ``_file``
        (file order), ``_child`` and the parsed ``start`` and ``end`` (step 1
        done); the LA already selected. Without a ``_return`` column each file
        (or each YEAR of a file) is taken as one return.
    mapping : Mapping
    source : str
        Name of the file, or of the set of files, for the placements' ``source``.
    log : ProblemLog
        Added to.
    returns : list of Return, optional
        The returns ``_return`` numbers, when given.

    Returns
    -------
    placements : pandas.DataFrame
        The placements table (see :class:`~.records.Records`), excluded
        services included (the caller leaves them out).
    recorded_ends : numpy.ndarray
        End dates as recorded (days since 1970-01-01), before overlaps were truncated.
    """
    if returns is None:
        table, returns = _assign_returns(table)
    seen = table[["_child", "_return"]]
    table = _deduplicate(table, returns, log)
    table = _map_services(table, mapping, log)
    recorded_ends = day_numbers(table["end"].dropna())
    if table.empty:
        return empty_placements(), recorded_ends
    table = _truncate_overlaps(table, log)
    placements = _join_continuations(table, source, log)
    placements = _flag_stale(placements, seen, returns, log)
    return placements.drop(columns=["_last_row", "_last_file"]), recorded_ends


# ------------------------------------------------------------------ header table


def _header_ages(
    paths: list[Path], names: dict[Path, str], la: str | None, log: ProblemLog, strict: bool,
    dated: HeaderDates | None = None,
) -> pd.DataFrame:  # fmt: skip
    """Date of birth of each child from the header tables (the latest report of each).

    With ``dated``, rows from returns made after its ``known_at`` are left out first
    (:meth:`HeaderDates.rows_known`): a date of birth corrected in a later return must not
    reach an earlier origin's forecast.
    """
    tables = []
    for order, path in enumerate(paths):
        source = names[path]
        table = read_table(path, HEADER_COLUMNS, "SSDA903 header table")
        log.name_columns(source, table)
        table = _select_la(table, la, source, ProblemLog())
        if dated is not None:
            table = dated.rows_known(table, source, log)
        dob, bad = parse_dates(table["DOB"])
        for row, value in zip(table.loc[bad, "_row"], table.loc[bad, "DOB"], strict=True):
            log.add(date_problem(source, int(row), "DOB", value, "row ignored"))
        log.raise_if_strict(strict, source)
        table = table.assign(
            client=_child_key(table), dob=dob, _year=_year_rank(table), _order=order, _source=source
        )
        tables.append(table[dob.notna()][["client", "dob", "_row", "_year", "_order", "_source"]])
    table = pd.concat(tables, ignore_index=True)
    table = table.sort_values(["client", "_year", "_order", "_row"], kind="stable")
    return table.drop_duplicates("client", keep="last")[["client", "dob", "_row", "_source"]]


@dataclass(frozen=True)
class HeaderDates:
    """Which header rows an extract made on ``known_at`` would have held.

    A header row has no date of its own but its YEAR: it belongs to the return of
    that YEAR, and is known when that return is (:func:`~.censor.censor_returns`
    keeps a return whose collection year started by ``known_at``). A YEAR no
    episodes return has is read by the episodes' YEAR convention (start or end
    year of the collection year), or, when that is unknown, as the start year: the
    later reading, so that nothing recorded after ``known_at`` gets in.

    Attributes
    ----------
    known : int
        ``known_at``, days since 1970-01-01.
    kept : frozenset of str
        YEAR values of the episodes returns kept.
    seen : frozenset of str
        YEAR values of every episodes return.
    offset : int
        Calendar year of a collection year's 31 March minus its YEAR value.
    """

    known: int
    kept: frozenset
    seen: frozenset
    offset: int

    @classmethod
    def of(cls, returns: list[Return], kept: list[Return], known_at) -> HeaderDates | None:
        """From the episodes returns before and after censoring (``None`` without ``known_at``)."""
        known = known_day(known_at)
        if known is None:
            return None
        offsets = {
            int(from_day(r.end).astype(object).year) - int(r.year)
            for r in returns
            if r.year.strip().isdigit()
        }
        offset = offsets.pop() if len(offsets) == 1 else 1
        return cls(
            known, frozenset(r.year for r in kept), frozenset(r.year for r in returns), offset
        )

    def rows_known(self, table: pd.DataFrame, source: str, log: ProblemLog) -> pd.DataFrame:
        """The rows of one header table from returns made by ``known_at``."""
        when = from_day(self.known)
        if "YEAR" not in table.columns:
            log.notes.append(
                f"{source}: no YEAR column, so its rows cannot be dated: all are used as known "
                f"on {when} (a date of birth corrected later would be used too; give YEAR)"
            )
            return table
        year = table["YEAR"].str.strip()
        numeric = year.str.isdigit()
        end_year = pd.to_numeric(year.where(numeric), errors="coerce") + self.offset
        started = end_year - 1 <= pd.Timestamp(when).year - (pd.Timestamp(when).month < 4)
        keep = year.isin(self.kept) | (~year.isin(self.seen) & (~numeric | started))
        undated = sorted(set(year[~numeric & ~year.isin(self.seen)]))
        if undated:
            log.notes.append(
                f"{source}: YEAR {', '.join(map(repr, undated))} matches no episodes return and "
                f"is not a year, so those rows cannot be dated: used as known on {when}"
            )
        if not keep.all():
            log.notes.append(
                f"{source}: {int((~keep).sum()):,} rows from returns after {when} left out "
                "(the records are read as known then)"
            )
        return table[keep.to_numpy()]


def _check_births(
    placements: pd.DataFrame, ages: pd.DataFrame, source: str, log: ProblemLog
) -> pd.DataFrame:
    """Report placements that start before the child was born or at 18 or over, and
    children with no header row.

    Returns
    -------
    pandas.DataFrame
        ``ages`` without the dates of birth that make a child 18 or over when a
        placement starts: no child is looked after at 18, so the date is wrong
        (often a mistyped year), and used, it would make every end of the child
        look like leaving at 18.
    """
    merged = placements.merge(ages, on="client", how="left")
    unborn = merged["start"] < merged["dob"]
    for _, r in merged[unborn].iterrows():
        log.add(_birth_problem(r, f"starts before the child's date of birth {r['dob']:%Y-%m-%d}"))
    start_age = whole_years(merged["dob"], day_numbers(merged["start"]))
    adult = start_age >= LEAVE_AT
    for (_, r), age in zip(merged[adult].iterrows(), start_age[adult], strict=True):
        log.add(
            _birth_problem(
                r,
                f"starts when the child is {age:.0f}, by the date of birth {r['dob']:%Y-%m-%d}: "
                f"no child is looked after at {LEAVE_AT} or over",
                "date of birth not used",
                f"starts at {LEAVE_AT} or over",
            )
        )
    missing = merged.loc[merged["dob"].isna(), "client"].nunique()
    if missing:
        headers = ", ".join(dict.fromkeys(ages["_source"])) or "the header table"
        log.notes.append(f"{headers}: no date of birth for {missing:,} children in {source}")
    return ages[~ages["client"].isin(set(merged.loc[adult, "client"]))]


def _birth_problem(
    r: pd.Series, message: str, action: str = "kept", reason: str = "starts before birth"
) -> Problem:
    """A problem with a placement's start (``r``: a placement merged with its header row)."""
    return Problem(
        r["file"],
        int(r["row"]),
        "DECOM",
        r["start"].strftime("%Y-%m-%d"),
        f"{message} ({r['_source']} row {int(r['_row'])})",
        action,
        ERROR,
        reason,
    )


# ------------------------------------------------------------------ loading


def load_ssda903(
    episodes: str | Path | Iterable[str | Path],
    header: str | Path | Iterable[str | Path] | None = None,
    mapping: str | Path | Mapping | None = None,
    la: str | None = None,
    strict: bool = False,
    known_at: date | str | None = None,
) -> Records:
    """Read and clean SSDA903 episodes tables (and optionally header tables).

    Parameters
    ----------
    episodes : path, or list of paths
        CSV files with at least CHILD, DECOM, RNE, PLACE, PLACE_PROVIDER, DEC, REC;
        dates DD/MM/YYYY or YYYY-MM-DD; extra columns are allowed. Several files
        (one per collection year, say), or a folder of them, are stitched into
        one history. A folder's CSV files with CHILD and DOB but no DECOM are
        read as header tables.
    header : path, or list of paths, optional
        CSV files with CHILD and DOB: used to check dates of birth and to report
        the ages of children in the starting caseload.
    mapping : path or Mapping, optional
        PLACE x PLACE_PROVIDER -> service mapping (default: :data:`~.mapping.DEFAULT_MAPPING_TOML`).
    la : str, optional
        Keep only rows whose LA column equals this (case-insensitive).
    strict : bool
        Stop with :class:`~.records.DataError` at the first file with a bad row,
        instead of dropping the row and carrying on.
    known_at : date or str, optional
        Read the records as an extract made on this date would have held them
        (:func:`~.censor.censor_returns`: later returns left out, later starts
        dropped, later ends blanked) before cleaning them, and the header rows of
        later returns left out (:class:`HeaderDates`); for backtests.

    Returns
    -------
    Records

    Raises
    ------
    DataError
        A missing file or column, or (in strict mode) any bad row.
    """
    episode_paths, header_paths, notes = expand_inputs(episodes, header)
    if not episode_paths:
        raise DataError("no SSDA903 episodes table given")
    names = display_names(episode_paths + header_paths)
    files = [names[p] for p in episode_paths]
    source = files[0] if len(files) == 1 else set_label(files)
    rules = mapping if isinstance(mapping, Mapping) else load_mapping(mapping)
    log = ProblemLog(notes=list(notes))
    tables = []
    for order, path in enumerate(episode_paths):
        name = names[path]
        table = read_table(path, EPISODE_COLUMNS, "SSDA903 episodes table")
        log.name_columns(name, table)
        table = _select_la(table, la, name, log)
        table = table.assign(_child=_child_key(table), _source=name, _file=order)
        tables.append(_basic_checks(table, name, log))
    table = pd.concat(tables, ignore_index=True)
    text = [c for c in table.columns if table[c].dtype == object]
    table[text] = table[text].fillna("")
    table, every_return = _assign_returns(table)
    table, returns = censor_returns(table, every_return, known_at)
    placements, recorded_ends = episodes_to_placements(table, rules, source, log, returns)
    for name in files:
        log.raise_if_strict(strict, name)
    excluded = {r.key for r in rules.rules if r.exclude}
    dropped = placements["service"].isin(excluded)
    if dropped.any():
        log.notes.append(
            f"{source}: {int(dropped.sum()):,} placements in excluded services "
            f"({', '.join(sorted(set(placements.loc[dropped, 'service'])))}) left out"
        )
    placements = drop_moves_with(placements[~dropped].reset_index(drop=True), excluded)
    ages = None
    sources = list(files)
    if header_paths:
        dated = HeaderDates.of(every_return, returns, known_at)
        ages = _header_ages(header_paths, names, la, log, strict, dated)
        ages = _check_births(placements, ages, source, log)
        for name in files:
            log.raise_if_strict(strict, name)
        ages = ages[["client", "dob"]]
        sources += [names[p] for p in header_paths]
    services = _services(rules, set(placements["service"]), source)
    observed_from, observed_how = _complete_from(returns, source, log)
    return Records(
        placements,
        services,
        log,
        observed_from=observed_from,
        ages=ages,
        sources=sources,
        recorded_ends={source: recorded_ends},
        observed_how=observed_how,
    )


def _complete_from(
    returns: list[Return], source: str, log: ProblemLog
) -> tuple[dict[str, np.datetime64], dict[str, str]]:
    """From several returns, the first day of complete records: the start of the first of
    the last run of consecutive collection years (each return holds every episode open in
    its year). With one return, nothing (the calibration infers it)."""
    years = sorted({int(from_day(r.end).astype(object).year) for r in returns})
    if len(years) < 2:
        return {}, {}
    k = len(years) - 1
    while k > 0 and years[k - 1] == years[k] - 1:
        k -= 1
    first = np.datetime64(f"{years[k] - 1}-04-01", "D")
    run = len(years) - k
    how = (
        f"from the returns: the start of the {fy_label(years[k] - 1)} return, the first of "
        f"{run} consecutive collection years"
    )
    if k > 0:
        missing = [fy_label(y - 1) for y in range(years[0], years[-1]) if y not in years]
        log.notes.append(
            f"{source}: no return for {', '.join(missing)}: the records before {first} are "
            "taken as incomplete (only the placements still open then are used)"
        )
    return {source: first}, {source: how}
