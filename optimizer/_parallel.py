"""The one process-pool helper: every worker process of the library starts here.

Workers are started by ``forkserver`` where the platform has it (Linux, macOS) and by
``spawn`` elsewhere (Windows); never by a plain ``fork``, which copies the parent's threads'
locks (a solver's or a host application's) and can deadlock a worker. ``preload`` names
modules the fork server imports once, so each worker starts in milliseconds with them
already loaded (e.g. a solver) instead of importing them again.

Functions submitted to a pool and its initializer must be module-level (picklable), and
their arguments picklable. Results never depend on the number of workers.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from multiprocessing.context import BaseContext
from typing import Any


def start_method() -> str:
    """``"forkserver"`` where available, else ``"spawn"``."""
    return "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"


def mp_context(preload: Sequence[str] = ()) -> BaseContext:
    """The multiprocessing context of every pool (see the module docstring)."""
    ctx = multiprocessing.get_context(start_method())
    if preload and start_method() == "forkserver":
        # only takes effect when the fork server starts (once per process); harmless later
        ctx.set_forkserver_preload(list(preload))  # type: ignore[attr-defined]
    return ctx


def usable_cores() -> int:
    """CPU cores this process may run on (its affinity mask where the OS has one)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def process_pool(
    workers: int,
    *,
    preload: Sequence[str] = (),
    initializer: Callable[..., Any] | None = None,
    initargs: tuple[Any, ...] = (),
) -> ProcessPoolExecutor:
    """A ``ProcessPoolExecutor`` of ``workers`` processes on :func:`mp_context`."""
    return ProcessPoolExecutor(max_workers=max(1, int(workers)), mp_context=mp_context(preload),
                               initializer=initializer, initargs=initargs)


__all__ = ["mp_context", "process_pool", "start_method", "usable_cores"]
