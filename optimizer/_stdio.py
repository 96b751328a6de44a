"""File-descriptor plumbing for output that C libraries write behind Python's back."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress


@contextmanager
def fd1_to_stderr() -> Iterator[int]:
    """While inside, file descriptor 1 points at stderr, so writes by C libraries to stdout
    (HiGHS's banner and a stray debug line) land on stderr. Yields a duplicate of the
    original fd 1 (for a caller that wants to keep writing there; closed on exit).
    Python's ``sys.stdout`` is flushed first. Raises ``OSError`` if fd 1 cannot be
    duplicated (no stdout at all)."""
    with suppress(AttributeError, OSError, ValueError):
        sys.stdout.flush()
    saved = os.dup(1)
    try:
        os.dup2(2, 1)
        yield saved
    finally:
        os.dup2(saved, 1)
        os.close(saved)
