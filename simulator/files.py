"""Writing files and folders without losing anyone's work.

Every file and folder the tool writes goes through this module. Its rules:

* **Only what we wrote.** Each folder the tool makes carries a marker file,
  ``.overspend``, listing the entries it wrote there. A folder is replaced, and
  a file overwritten, only when the marker says the tool wrote it; a folder
  holding anything else is refused, ``--force`` or not, before any work starts.
* **Never the place you stand in.** An output folder may not be the current
  folder or one of its parents, nor a symbolic link.
* **Whole or nothing.** Work is written under a temporary name beside its
  target and swapped in only when complete (on Linux with one atomic exchange,
  elsewhere with two renames that the next run can undo); the replaced folder
  keeps its permissions.
* **One writer at a time.** A target is claimed with a lock file beside it for
  the whole command, so a second command writing to the same place is refused
  at once instead of silently losing one result.
* **Leftovers are cleared.** Temporary folders left by a killed command are
  removed (or, if a replacement was cut short, the old folder is put back) the
  next time that target is claimed, and the user is told.
* **Ctrl-C is clean.** Interrupts are held back while a netCDF file is written
  (the library would otherwise deadlock on its own lock) and during the final
  swap, then take effect.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import json
import os
import secrets
import shutil
import signal
import sys
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from simulator._version import __version__
from simulator.errors import UserError

#: The marker file in every folder the tool writes: which entries it wrote.
MARKER = ".overspend"
#: Put in a temporary folder when it is made, removed when it is complete.
PARTIAL_MARKER = ".overspend-partial"
LOCK_SUFFIX = ".overspend-lock"
#: Files by which an unfinished zarr store of ours is known.
ZARR_METADATA = frozenset({".zgroup", ".zattrs", ".zmetadata", "zarr.json"})

#: Paths written by this process, for the message after an interrupt.
WRITTEN: list[Path] = []


class OutputError(UserError):
    """An output path the tool must not or cannot write to."""


class ResultsExistError(OutputError):
    """The output exists and ``force`` was not given."""


def notice(message: str) -> None:
    """Tell the user what was tidied up (on standard error, so piped output stays clean)."""
    print(f"note: {message}", file=sys.stderr)


# ------------------------------------------------------------------ markers


def is_bookkeeping(name: str) -> bool:
    """Our own marker and lock files, which no check counts as content."""
    return name in (MARKER, PARTIAL_MARKER) or name.endswith(LOCK_SUFFIX)


def read_marker(folder: Path) -> set[str] | None:
    """The entries the tool wrote in ``folder``, or ``None`` if it carries no marker."""
    path = Path(folder) / MARKER
    if not path.is_file() or path.is_symlink():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return {str(name) for name in data["entries"]}
    except (OSError, ValueError, KeyError, TypeError):
        return None  # unreadable: treat the folder as not ours


def write_marker(folder: Path, entries: Iterable[str]) -> None:
    """Record (atomically) that the tool wrote ``entries`` in ``folder``."""
    folder = Path(folder)
    names = sorted({e for e in entries if not is_bookkeeping(e)})
    text = json.dumps({"written_by": f"overspend {__version__}", "entries": names}, indent=1)
    tmp = folder / f".{MARKER}.partial-{os.getpid()}-{secrets.token_hex(4)}"
    try:
        tmp.write_text(text + "\n", encoding="utf-8")
        os.replace(tmp, folder / MARKER)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def mark_tree(folder: Path) -> None:
    """Mark ``folder`` and its subfolders as written by the tool (zarr stores are one entry)."""
    folder = Path(folder)
    entries = [p.name for p in folder.iterdir() if not is_bookkeeping(p.name)]
    for name in entries:
        sub = folder / name
        if sub.is_dir() and not sub.is_symlink() and sub.suffix != ".zarr":
            mark_tree(sub)
    write_marker(folder, entries)


def foreign_entries(folder: Path, prefix: str = "") -> list[str]:
    """Entries of ``folder`` the tool did not write (relative paths; empty if all are ours).

    A folder without a marker is ours only when empty. Subfolders the marker
    lists are checked the same way when they carry a marker of their own; a
    listed folder without one (a zarr store) counts as one entry.
    """
    folder = Path(folder)
    names = sorted(p.name for p in folder.iterdir() if not is_bookkeeping(p.name))
    ours = read_marker(folder)
    if ours is None:
        return [prefix + n for n in names]
    found = []
    for name in names:
        path = folder / name
        if _is_leftover_of(name, ours):
            continue  # cleared when the folder is next claimed
        if name not in ours or path.is_symlink():
            found.append(prefix + name)
        elif path.is_dir() and read_marker(path) is not None:
            found += foreign_entries(path, f"{prefix}{name}/")
    return found


def _is_leftover_of(name: str, ours: set[str]) -> bool:
    """Whether ``name`` is an unfinished ``.ENTRY.partial-*`` file of one of ``ours``."""
    head, sep, _ = name.partition(".partial-")
    return bool(sep) and head.startswith(".") and head[1:] in ours | {MARKER}


def _list(names: list[str], most: int = 4) -> str:
    shown = ", ".join(names[:most])
    return shown + (f" and {len(names) - most} more" if len(names) > most else "")


# ------------------------------------------------------------------ checks


def _nearest_existing(path: Path) -> Path:
    place = path
    while not place.exists() and not place.is_symlink():
        if place.parent == place:
            break
        place = place.parent
    return place


def _check_place(path: Path, what: str) -> None:
    """Refuse a symlink, or a path whose nearest existing part is a file or not writable."""
    if path.is_symlink():
        raise OutputError(
            f"{what} {path} is a symbolic link: give the folder itself, or another path "
            "(the tool never writes through a link)"
        )
    place = _nearest_existing(path.parent)
    if not place.is_dir():
        raise OutputError(f"{what} {path}: {place} is a file, not a folder: choose another path")
    if not os.access(place, os.W_OK | os.X_OK):
        raise OutputError(f"{what} {path}: cannot write in {place}: choose another path")


def check_folder(
    out_dir: str | Path,
    force: bool,
    occupied: Callable[[Path], bool] | None = None,
    what: str = "--out",
    held: str = "already exists",
) -> None:
    """Refuse, before any work, an output folder the tool may not replace.

    Parameters
    ----------
    out_dir : str or pathlib.Path
        The folder to be written (replaced as a whole).
    force : bool
        Whether the user allowed replacing earlier output of the tool.
    occupied : callable, optional
        ``occupied(out_dir)`` is true when the folder holds earlier output that
        only ``force`` may replace (default: the folder exists and is not empty).
    what : str
        How the user named the path, for messages.
    held : str
        What the message says of an occupied folder.

    Raises
    ------
    OutputError
        The folder is the current folder or a parent of it, a symlink, a file,
        not writable, or holds files the tool did not write.
    ResultsExistError
        It holds earlier output and ``force`` is false.
    """
    out_dir = Path(out_dir)
    here = Path.cwd().resolve()
    full = out_dir.resolve()
    if full == here or full in here.parents:
        where = "the current folder" if full == here else "a parent of the current folder"
        raise OutputError(
            f"{what} {out_dir} is {where}: the tool replaces its output folder as a whole, "
            "so give a new folder, e.g. results/<name>"
        )
    _check_place(out_dir, what)
    if not out_dir.exists():
        return
    if not out_dir.is_dir():
        raise OutputError(f"{what} {out_dir} is a file, not a folder: choose another path")
    foreign = foreign_entries(out_dir)
    if foreign:
        raise OutputError(
            f"{what} {out_dir} holds files overspend did not write ({_list(foreign)}): it "
            "replaces only its own output, so move them out or choose another folder"
        )
    full_of = occupied or (lambda d: any(not is_bookkeeping(p.name) for p in d.iterdir()))
    if full_of(out_dir) and not force:
        raise ResultsExistError(
            f"{out_dir} {held}: use --force to replace it, or --out to write elsewhere"
        )


def check_file(path: str | Path, force: bool, what: str = "--out") -> None:
    """Refuse, before any work, to overwrite a file the tool did not write, or without ``force``.

    Raises
    ------
    OutputError
        ``path`` is a symlink or a folder, its folder cannot be written, or it
        exists and the tool did not write it (``force`` or not).
    ResultsExistError
        It is the tool's own earlier output and ``force`` is false.
    """
    path = Path(path)
    _check_place(path, what)
    if path.is_dir():
        raise OutputError(f"{what} {path} is a folder, not a file: choose another path")
    if not path.exists():
        return
    if path.name not in (read_marker(path.parent) or set()):
        raise OutputError(
            f"{path} exists and was not written by overspend: it is never overwritten, so move "
            "it or choose another --out"
        )
    if not force:
        raise ResultsExistError(
            f"{path} already exists: use --force to replace it, or --out to write elsewhere"
        )


# ------------------------------------------------------------------ locks


class _Busy(Exception):
    """Another process holds the lock."""


def _lock(path: Path) -> int:
    """Take an exclusive lock on a lock file at ``path`` without waiting; returns its descriptor.

    The file is removed on release, so no lock files are left about. That is
    safe because a lock counts only while the file it was taken on is still at
    ``path``: a process that locked a file just removed tries again.
    """
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            _lock_fd(fd)
        except OSError:
            os.close(fd)
            raise _Busy from None
        try:
            current = os.stat(path)
        except FileNotFoundError:
            os.close(fd)
            continue
        mine = os.fstat(fd)
        if (mine.st_ino, mine.st_dev) == (current.st_ino, current.st_dev):
            return fd
        os.close(fd)


def _lock_fd(fd: int) -> None:
    if os.name == "nt":  # pragma: no cover - Windows
        import msvcrt

        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
    else:
        import fcntl

        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)


def _unlock(path: Path, fd: int) -> None:
    # Removed while still locked, so no one can take the lock on a file about to vanish.
    if os.name != "nt":
        with contextlib.suppress(OSError):
            os.unlink(path)
    os.close(fd)
    if os.name == "nt":  # pragma: no cover - Windows cannot remove an open file
        with contextlib.suppress(OSError):
            os.unlink(path)


_held: dict[str, tuple[int, int]] = {}
_held_guard = threading.Lock()


def _lock_path(target: Path) -> Path:
    return target.parent / f".{target.name}{LOCK_SUFFIX}"


@contextlib.contextmanager
def claim(target: str | Path, what: str = "--out") -> Iterator[Path]:
    """Hold the lock on ``target`` for the ``with`` block (re-entrant within this process).

    On first claiming, leftovers of killed commands writing to ``target`` are
    cleared (see :func:`clear_leftovers`).

    Raises
    ------
    OutputError
        Another command holds the lock, or its folder cannot be made.
    """
    target = Path(target)
    key = str(target.parent.resolve() / target.name)
    with _held_guard:
        fd, count = _held.get(key, (-1, 0))
        if count:
            _held[key] = (fd, count + 1)
    if not count:
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd = _lock(_lock_path(target))
        except _Busy:
            raise OutputError(
                f"{what} {target}: another overspend command is writing there now: wait for it "
                "to finish, or choose another path"
            ) from None
        except OSError as exc:
            raise OutputError(f"{what} {target}: cannot write there ({exc.strerror})") from None
        with _held_guard:
            _held[key] = (fd, 1)
    try:
        if not count:
            clear_leftovers(target)
        yield target
    finally:
        with _held_guard:
            held_fd, depth = _held.pop(key)
            if depth > 1:
                _held[key] = (held_fd, depth - 1)
        if depth == 1:
            _unlock(_lock_path(target), held_fd)


def clear_leftovers(target: Path) -> list[str]:
    """Remove what killed commands left beside ``target``; put back a folder cut off mid-swap.

    Only called with the lock on ``target`` held, so no live command owns these.
    Removes ``.NAME.partial-*`` folders that carry the partial or complete
    marker (or are empty) and ``.NAME.partial-*`` files; restores
    ``.NAME.old-*/previous`` when ``target`` itself is missing.

    Returns
    -------
    list of str
        What was done, one line each (also printed as notes).
    """
    target = Path(target)
    done = []
    for leftover in sorted(target.parent.glob(f".{target.name}.old-*")):
        previous = leftover / "previous"
        if previous.exists() and not target.exists():
            os.replace(previous, target)
            done.append(f"put back {target}, which a killed command was replacing")
        if _remove_ours(leftover, ("previous",)):
            done.append(f"removed {leftover.name}, left by a killed command")
    for leftover in sorted(target.parent.glob(f".{target.name}.partial-*")):
        if leftover.is_dir() and not leftover.is_symlink():
            content = {p.name for p in leftover.iterdir()}
            signs = {MARKER, PARTIAL_MARKER}
            if target.suffix == ".zarr":  # zarr clears the folder it writes, marker included
                signs |= ZARR_METADATA
            if content and not content & signs:
                continue  # not a folder of ours: leave it alone
            remove_tree(leftover)
        elif leftover.is_file():
            leftover.unlink(missing_ok=True)
        else:
            continue
        done.append(f"removed {leftover.name}, left unfinished by a killed command")
    ours = read_marker(target) if target.is_dir() and not target.is_symlink() else None
    for name in sorted(ours or ()):
        for leftover in sorted(target.glob(f".{name}.partial-*")):
            if leftover.is_file() and not leftover.is_symlink():
                leftover.unlink(missing_ok=True)
                done.append(
                    f"removed {target.name}/{leftover.name}, left unfinished by a killed command"
                )
    for line in done:
        notice(line)
    return done


def _remove_ours(folder: Path, allowed: tuple[str, ...]) -> bool:
    """Remove a temporary folder if it holds nothing but ``allowed`` entries of ours."""
    if not folder.is_dir() or folder.is_symlink():
        return False
    if any(p.name not in allowed for p in folder.iterdir()):
        return False
    remove_tree(folder)
    return True


# ------------------------------------------------------------------ interrupts


@contextlib.contextmanager
def defer_interrupts() -> Iterator[None]:
    """Hold back Ctrl-C for the ``with`` block, then raise it if one came.

    Used around netCDF writes (an interrupt inside the HDF5 library's file lock
    deadlocks) and the final swap of a folder. Only the main thread can handle
    signals; elsewhere this does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: caught.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if caught:
        raise KeyboardInterrupt


def write_netcdf(ds, path: Path, **kwargs) -> None:
    """``ds.to_netcdf(path)`` with Ctrl-C held back until the file is closed."""
    with defer_interrupts():
        ds.to_netcdf(path, **kwargs)


def write_dataset(ds, path: str | Path, force: bool = False) -> Path:
    """Write an xarray Dataset to a netCDF file atomically (see :func:`write_file`).

    Parameters
    ----------
    ds : xarray.Dataset
    path : str or pathlib.Path
    force : bool
        Replace a file the tool wrote there before (others never are).

    Returns
    -------
    pathlib.Path
    """
    return write_file(path, lambda tmp: write_netcdf(ds, tmp), force=force)


# ------------------------------------------------------------------ swapping


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux ``renameat2(RENAME_EXCHANGE)``); false if unsupported."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EPERM):
        return False  # a file system or kernel without exchange: fall back to renames
    raise OSError(code, os.strerror(code), str(b))


def swap_in(new: Path, target: Path) -> None:
    """Put the complete folder ``new`` at ``target``, removing the folder that was there.

    ``target`` is never missing to an observer on Linux; elsewhere it is for a
    moment, and a command killed in that moment leaves the old folder in
    ``.NAME.old-*/previous`` for :func:`clear_leftovers` to put back.
    """
    new, target = Path(new), Path(target)
    with defer_interrupts():
        if not target.exists():
            os.replace(new, target)
            return
        if _exchange(new, target):
            old = new  # now the replaced folder, markers and all
        else:
            old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
            os.replace(target, old / "previous")
            os.replace(new, target)
    remove_tree(old)


def remove_tree(folder: Path) -> None:
    """Remove a folder of ours, its markers last.

    A command killed part way through leaves a folder that still carries its
    marker, so the next claim still knows it for ours and finishes the job.
    """
    folder = Path(folder)
    if not folder.is_dir() or folder.is_symlink():
        return
    entries = sorted(folder.iterdir(), key=lambda p: p.name in (MARKER, PARTIAL_MARKER))
    for entry in entries:
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
    with contextlib.suppress(OSError):
        folder.rmdir()


def _permissions_of(out_dir: Path) -> int:
    """The mode a new folder at ``out_dir`` gets: the old folder's, or the user's usual."""
    if out_dir.is_dir():
        return out_dir.stat().st_mode & 0o7777
    mask = os.umask(0)
    os.umask(mask)
    return 0o777 & ~mask


def _carry_over(old: Path, new: Path) -> None:
    """Link (or copy) the tool's earlier entries in ``old`` into ``new``, keeping ``old`` intact."""
    for item in old.iterdir():
        if is_bookkeeping(item.name) or (new / item.name).exists():
            continue
        if item.is_dir():
            shutil.copytree(item, new / item.name, copy_function=_link_or_copy)
        else:
            _link_or_copy(item, new / item.name)


def _link_or_copy(src, dst) -> None:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def write_folder(
    out_dir: str | Path,
    fill: Callable[[Path], None],
    *,
    force: bool = False,
    occupied: Callable[[Path], bool] | None = None,
    keep: Callable[[Path], bool] | None = None,
    what: str = "--out",
) -> list[Path]:
    """Fill a folder under a temporary name beside ``out_dir``, then swap it into place.

    An interrupted or failed ``fill`` leaves nothing that looks finished: the
    temporary folder is removed and ``out_dir`` is untouched.

    Parameters
    ----------
    out_dir : str or pathlib.Path
    fill : callable
        ``fill(tmp_dir)`` writes the folder's contents.
    force, occupied, what
        As for :func:`check_folder`, which is applied (again) under the lock.
    keep : callable, optional
        ``keep(out_dir)`` true means the tool's earlier entries in ``out_dir``
        are carried into the new folder (for example a sensitivity analysis
        beside which a first run is written).

    Returns
    -------
    list of pathlib.Path
        The folder's top-level entries, at their final paths.
    """
    out_dir = Path(out_dir)
    with claim(out_dir, what):
        check_folder(out_dir, force, occupied, what)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.partial-", dir=out_dir.parent))
        try:
            (tmp / PARTIAL_MARKER).touch()
            fill(tmp)
            names = sorted(p.name for p in tmp.iterdir() if not is_bookkeeping(p.name))
            if out_dir.is_dir() and keep is not None and keep(out_dir):
                _carry_over(out_dir, tmp)
            mark_tree(tmp)
            tmp.chmod(_permissions_of(out_dir))
            (tmp / PARTIAL_MARKER).unlink()
            swap_in(tmp, out_dir)
        except BaseException:
            remove_tree(tmp)
            raise
    WRITTEN.append(out_dir)
    return [out_dir / n for n in names]


def write_file(
    path: str | Path, write: Callable[[Path], object], *, force: bool = True, what: str = "--out"
) -> Path:
    """Write one file atomically: ``write(tmp)`` beside it, then rename over ``path``.

    The file is recorded in its folder's marker. An existing file is replaced
    only when the tool wrote it, and only with ``force`` (:func:`check_file`).
    The temporary name is made here rather than by ``mkstemp``, whose files are
    private (0600), so the file gets the user's usual permissions.
    """
    path = Path(path)
    with claim(path, what):
        check_file(path, force, what)
        tmp = path.with_name(f".{path.name}.partial-{os.getpid()}-{secrets.token_hex(4)}")
        try:
            write(tmp)
            with defer_interrupts():
                os.replace(tmp, path)
                write_marker(path.parent, (read_marker(path.parent) or set()) | {path.name})
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise OutputError(f"{what} {path}: cannot write it ({exc.strerror or exc})") from None
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
    WRITTEN.append(path)
    return path
