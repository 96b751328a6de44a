"""What the command modules share: the default instance, the INSTANCE argument, the consoles,
progress on stderr, exit codes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from optimizer.errors import InputError
from optimizer.instance import default_instance_dir

DEFAULT_INSTANCE = Path("instances/xiuwen-kiwifruit")

InstanceArg = Annotated[
    Path | None,
    typer.Argument(help="Instance TOML file or its directory (default: the Xiuwen kiwifruit "
                   "instance).", show_default=False),
]

#: standard output: the tool's results only
out = Console(soft_wrap=True)
#: standard error: progress, notes and errors
err = Console(stderr=True, highlight=False, soft_wrap=True)

#: exit codes of every command (documented in README.md and ``coldchain --help``)
EXIT_OK, EXIT_INTERNAL, EXIT_INPUT, EXIT_INFEASIBLE, EXIT_SOME_FAILED = 0, 1, 2, 3, 4


class _Options:
    """Global options set by ``coldchain -q/-v`` (one process runs one command)."""

    quiet: bool = False


options = _Options()


@contextmanager
def progress(message: str) -> Iterator[Callable[[str], None]]:
    """Show ``message`` with a spinner on stderr while inside, when stderr is a terminal and
    ``--quiet`` is not given; yields a function that replaces the message."""
    if options.quiet or not err.is_terminal:
        yield lambda _msg: None
        return
    with err.status(message) as status:
        yield lambda msg: status.update(msg)


def default_instance(path: Path | None) -> Path:
    """``path``, or the Xiuwen default: ``instances/xiuwen-kiwifruit`` in the working
    directory (a repository checkout, possibly edited), else the copy shipped in the
    package."""
    if path is not None:
        return path
    here = Path.cwd() / DEFAULT_INSTANCE
    if (here / "instance.toml").is_file():
        return here
    shipped = default_instance_dir()
    if (shipped / "instance.toml").is_file():
        return shipped
    raise InputError.at(shipped, "INSTANCE", "the default instance is missing from this "
                        "installation", fix="pass an instance path, or reinstall with "
                        "pip install coldchain-optimizer")


__all__ = ["DEFAULT_INSTANCE", "EXIT_INFEASIBLE", "EXIT_INPUT", "EXIT_INTERNAL", "EXIT_OK",
           "EXIT_SOME_FAILED", "InstanceArg", "default_instance", "err", "options", "out",
           "progress"]
