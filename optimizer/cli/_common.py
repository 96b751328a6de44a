"""What the command modules share: the default instance, the INSTANCE argument, the console."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from optimizer.errors import InputError

DEFAULT_INSTANCE = Path("instances/xiuwen-kiwifruit")

InstanceArg = Annotated[
    Path | None,
    typer.Argument(help="Instance TOML file or its directory (default: the Xiuwen kiwifruit "
                   "instance).", show_default=False),
]

#: standard output: the tool's results only
out = Console(soft_wrap=True)


def default_instance(path: Path | None) -> Path:
    """``path``, or the Xiuwen default (from the working directory or the repository)."""
    if path is not None:
        return path
    here = Path.cwd() / DEFAULT_INSTANCE
    if here.exists():
        return here
    repo = Path(__file__).resolve().parents[2] / DEFAULT_INSTANCE
    if repo.exists():
        return repo
    raise InputError.at(DEFAULT_INSTANCE, "INSTANCE", "default instance not found",
                        fix="run from the repository root or pass an instance path")


__all__ = ["DEFAULT_INSTANCE", "InstanceArg", "default_instance", "out"]
