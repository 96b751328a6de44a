"""The ``coldchain`` application: the Typer app, error mapping and the entry point.

Each command lives in its own module of this package and adds itself with ``register``.
Exit codes (every command): 0 ok, 1 internal error, 2 input or write error, 3 infeasible (or a
plan that fails the checker), 4 some batch or generate tasks failed.
"""

from __future__ import annotations

import io
import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from rich.console import Console

from optimizer._stdio import fd1_to_stderr
from optimizer.cli._common import options
from optimizer.errors import ColdChainError

app = typer.Typer(
    name="coldchain",
    help="Plan cold-chain and last-mile logistics for mountain townships "
    "(facility location and vehicle routing on road networks with OR-Tools).\n\n"
    "Exit codes: 0 ok, 1 internal error, 2 input or write error, 3 infeasible or a plan "
    "that fails the checker, 4 some batch or generate tasks failed.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _print_version(value: bool) -> None:
    if value:
        from optimizer._version import package_version

        typer.echo(f"coldchain-optimizer {package_version()}")
        raise typer.Exit()


@app.callback()
def _global_options(
    version: Annotated[bool, typer.Option(
        "--version", callback=_print_version, is_eager=True,
        help="Print the version and exit.")] = False,
    verbose: Annotated[int, typer.Option(
        "--verbose", "-v", count=True,
        help="Log what the solvers do on stderr (-v: steps, -vv: debug).")] = 0,
    quiet: Annotated[bool, typer.Option(
        "--quiet", "-q", help="Only results and errors: no progress, notes or warnings.")
    ] = False,
) -> None:
    options.quiet = quiet
    if quiet:
        level = logging.ERROR
    else:
        level = (logging.WARNING, logging.INFO, logging.DEBUG)[min(verbose, 2)]
    logging.getLogger().setLevel(level)

_COMMANDS = ("validate", "network", "solve", "frontier", "check", "generate", "route",
             "locate", "lrp", "batch")


def _register() -> None:
    """Add every command (one module of this package each, in --help order) to ``app``."""
    import importlib

    for name in _COMMANDS:
        importlib.import_module(f"optimizer.cli.{name}").register(app)


_register()


def _usage_error(exc: BaseException) -> tuple[str, int] | None:
    """(message, exit code) for a command-line usage error (click's or typer's vendored
    ``ClickException``: unknown option, bad value, missing argument), else None."""
    fmt = getattr(exc, "format_message", None)
    code = getattr(exc, "exit_code", None)
    if not callable(fmt) or not isinstance(code, int):
        return None
    if type(exc).__name__ == "NoArgsIsHelpError":
        return "", 0
    return " ".join(str(fmt()).split()), code if code else 2


@contextmanager
def c_stdout_to_stderr() -> Iterator[None]:
    """While inside: writes by C libraries to file descriptor 1 (a stray HiGHS debug line
    such as ``HighsMipSolverData::transformNewIntegerFeasibleSolution tmpSolver.run();``)
    go to stderr, and Python's ``sys.stdout`` keeps writing to the original stdout, so
    stdout carries the tool's own output only (safe to pipe). A no-op when ``sys.stdout``
    is not file descriptor 1 (e.g. captured by a test harness)."""
    try:
        is_fd1 = sys.stdout.fileno() == 1
    except (AttributeError, OSError, ValueError):
        is_fd1 = False
    if not is_fd1:
        yield
        return
    old = sys.stdout
    with fd1_to_stderr() as saved:
        new = io.TextIOWrapper(io.FileIO(saved, "w", closefd=False), encoding=old.encoding,
                               errors=old.errors,
                               line_buffering=bool(getattr(old, "line_buffering", False)))
        sys.stdout = new
        try:
            yield
        finally:
            try:
                new.flush()
            finally:
                sys.stdout = old


def one_line(text: str) -> str:
    """``text`` on one line: characters that are not printable (line and record separators
    from a user's file included) are written as Python escapes (``\\x1c``)."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; return the exit code (0 ok, 1 internal, 2 input or write error,
    3 infeasible, 4 some batch/generate tasks failed)."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    options.quiet = False
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    if not (sys.argv[1:] if argv is None else argv):
        argv = ["--help"]
    try:
        with c_stdout_to_stderr():
            rc = app(args=argv, prog_name="coldchain", standalone_mode=False)
    except ColdChainError as exc:
        err.print(f"error: {one_line(str(exc))}", markup=False)
        return exc.exit_code
    except typer.Abort:
        err.print("error: aborted", markup=False)
        return 1
    except typer.Exit as exc:
        return int(getattr(exc, "exit_code", 0) or 0)
    except KeyboardInterrupt:
        err.print("error: interrupted", markup=False)
        return 1
    except MemoryError:
        err.print("error: out of memory; reduce the instance size or the limits", markup=False)
        return 1
    except Exception as exc:
        usage = _usage_error(exc)
        if usage is not None:
            message, code = usage
            if message:
                err.print(f"error: {one_line(message)}; see coldchain --help", markup=False)
            return code
        if os.environ.get("COLDCHAIN_DEBUG"):  # an internal bug: one line unless asked
            raise
        err.print(f"internal error: {type(exc).__name__}: {one_line(str(exc))} (please "
                  "report it; set "
                  "COLDCHAIN_DEBUG=1 to see the traceback)", markup=False)
        return 1
    return int(rc) if isinstance(rc, int) else 0


def run() -> None:  # pragma: no cover - console entry point
    """Console entry point."""
    sys.exit(main())


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
