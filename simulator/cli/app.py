"""The ``overspend`` command line (also ``python -m simulator``): the parser and dispatch.

Each command's flags and handler live in a module of their own in this folder
(``run``, ``validate``, ``chart``, ``report``, ``sensitivity``, ``compare``,
``calibrate``, ``bench``), registered here; none imports this module back.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from simulator._version import __version__
from simulator.cli import run, validate
from simulator.errors import UserError

#: Exit status after Ctrl-C (128 + SIGINT, as shells report it).
INTERRUPTED = 130


#: The commands whose modules are imported only when needed: they load xarray, the
#: engine or the benchmarks, which a command that does not use them should not pay for.
OTHER_COMMANDS = (
    "sensitivity", "compare", "bench", "calibrate", "backtest", "chart", "report", "template",
    "serve",
)  # fmt: skip


def build_parser(core_only: bool = False, only: str | None = None) -> argparse.ArgumentParser:
    """The argument parser with every command.

    Only ``run`` and ``validate`` if ``core_only``; with ``only``, one of
    :data:`OTHER_COMMANDS`, just that command beside them (what parsing its own
    arguments needs: registering every command imports every command's module,
    about 1.3 s of CPU that ``overspend report`` would otherwise pay).
    """
    parser = argparse.ArgumentParser(
        prog="overspend",
        description=(
            "Monte Carlo risk simulator for council social care budgets: the probability "
            "distribution of overspend for each service, per month and financial year."
        ),
    )
    parser.add_argument("--version", action="version", version=f"overspend {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run.register(sub)
    validate.register(sub)
    if core_only:
        return parser
    # Imported only when needed: they load xarray and the engine, which
    # `overspend run` imports while its simulation runs instead.
    names = [only] if only in OTHER_COMMANDS else OTHER_COMMANDS
    for name in names:
        importlib.import_module(f"simulator.cli.{name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status (2 for input errors, 130 if interrupted)."""
    argv = sys.argv[1:] if argv is None else argv
    # The other commands' modules import xarray and the engine when registered;
    # `overspend run` starts sooner without them (see _simulate_in_background).
    command = next((a for a in argv if not a.startswith("-")), None)
    if not argv:  # `overspend` alone: say what the commands are, not just that one is missing
        build_parser().print_help(sys.stderr)
        return 2
    from simulator.files import WRITTEN

    WRITTEN.clear()  # what this command writes, for the message after an interrupt
    try:  # parsing imports the commands' modules, so a Ctrl-C may come here too
        core = command in ("run", "validate")
        # Help or `--` before the command: the top-level help lists every command.
        only = command if argv[0] == command else None
        args = build_parser(core_only=core and only is not None, only=only).parse_args(argv)
        return args.handler(args)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"interrupted: {_what_was_written()}", file=sys.stderr)
        return INTERRUPTED


def entry() -> None:
    """The ``overspend`` console script: :func:`main`, then exit with its status.

    A Ctrl-C after the command has finished (while Python shuts down) is ignored:
    everything is written by then, and it would only make the exit status look
    like a failure.
    """
    import os
    import signal

    sys.stdout = _QuietWhenClosed(sys.stdout)
    status = main()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if status == INTERRUPTED:
        # A Ctrl-C that passed through an extension module's own Python code
        # (while imports run) makes CPython end by killing itself with SIGINT
        # at exit, although the interrupt was handled; nothing is left to
        # finish, so end here with the status already reported.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)
    sys.exit(status)


class _QuietWhenClosed:
    """Standard output that goes quiet when its reader goes away (``overspend run | head``).

    The command carries on (a run still writes its results) instead of ending
    in BrokenPipeError; what it would have printed is dropped.
    """

    def __init__(self, stream) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except BrokenPipeError:
            self._go_quiet()
            return len(text)

    def flush(self) -> None:
        try:
            self._stream.flush()
        except BrokenPipeError:
            self._go_quiet()

    def _go_quiet(self) -> None:
        import os

        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, self._stream.fileno())  # also for the flush at exit
        os.close(devnull)

    def __getattr__(self, name: str):
        return getattr(self._stream, name)


def _what_was_written() -> str:
    """What the interrupted command had already finished writing, in words."""
    from simulator.files import WRITTEN

    if not WRITTEN:
        return "nothing was written"
    return "only these were written: " + ", ".join(str(p) for p in WRITTEN)
