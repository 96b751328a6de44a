"""Shared helpers for the reliability tests: copy the tiny instance, run the CLI in-process.

``run_cli`` calls :func:`optimizer.cli.main` with stdout/stderr captured and returns
``(exit code, stdout, stderr)``; ``assert_clean_failure`` states the CLI contract for a
refused input: exit 2 or 3 and exactly one ``error: ...`` line, no traceback.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from hypothesis import HealthCheck, settings

from optimizer.cli import main

TINY = Path(__file__).resolve().parent.parent / "data" / "tiny"
ROOT = Path(__file__).resolve().parent.parent.parent

#: ``COLDCHAIN_FUZZ=long`` selects the long fuzzing profile (thousands of examples).
_F = TypeVar("_F", bound=Callable[..., Any])

LONG = os.environ.get("COLDCHAIN_FUZZ", "").lower() == "long"


def fuzz_settings(quick: int, long: int = 2000) -> Callable[[_F], _F]:
    """Hypothesis settings as a decorator: ``quick`` derandomized examples in CI, ``long``
    random ones with ``COLDCHAIN_FUZZ=long`` (``COLDCHAIN_FUZZ_EXAMPLES=N`` sets the count
    per test). The long count is kept on the test as ``_long_examples``."""
    n = int(os.environ.get("COLDCHAIN_FUZZ_EXAMPLES", "0")) or (long if LONG else quick)
    chosen = settings(
        max_examples=n,
        deadline=None,
        derandomize=not LONG,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                               HealthCheck.filter_too_much],
        print_blob=True,
    )

    def deco(test: _F) -> _F:
        out = chosen(test)
        out._long_examples = long  # type: ignore[attr-defined]
        return out

    return deco


def copy_tiny(dest: Path) -> Path:
    """Copy tests/data/tiny into ``dest`` (created) and return ``dest``."""
    shutil.copytree(TINY, dest, dirs_exist_ok=True)
    return dest


def run_cli(argv: list[str]) -> tuple[int, str, str]:
    """Run ``coldchain ARGV`` in-process; return (exit code, stdout, stderr)."""
    o, e = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(o), contextlib.redirect_stderr(e):
        rc = main(argv)
    return rc, o.getvalue(), e.getvalue()


def _is_log_line(line: str) -> bool:
    return line.split(" ", 1)[0] in ("DEBUG", "INFO", "WARNING")


def assert_clean_failure(rc: int, err: str, codes: tuple[int, ...] = (2, 3)) -> str:
    """The refusal contract: exit code in ``codes``, one ``error: `` line, no traceback."""
    assert "Traceback" not in err, err
    assert "internal error" not in err, err
    lines = [ln for ln in err.splitlines() if ln.strip() and not _is_log_line(ln)]
    assert rc in codes, (rc, err)
    assert len(lines) == 1, err
    assert lines[0].startswith("error: "), err
    return lines[0]
