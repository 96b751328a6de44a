"""What the benchmark scripts share: paths, best-known tables, gaps and the results CSV.

Each script starts with the same two lines, so that it runs from a checkout without an
install (``python benchmarks/NAME.py``), then imports from here::

    ROOT = Path(__file__).resolve().parents[1]
    sys.path.insert(0, str(ROOT))
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from optimizer._io import write_csv

ROOT = Path(__file__).resolve().parents[1]
#: public benchmark instances with best-known values (absent on some machines: skip)
BENCHDATA = ROOT.parent / "shared" / "benchdata"
#: where every script writes its CSV (not committed)
RESULTS = ROOT / "benchmarks" / "results"


def read_bks(path: Path) -> dict[str, float]:
    """A best-known table (CSV with ``instance`` and ``bks`` columns; empty cells skipped)."""
    with path.open(newline="", encoding="utf-8") as fh:
        return {row["instance"].strip(): float(row["bks"]) for row in csv.DictReader(fh)
                if (row.get("bks") or "").strip()}


def gap_pct(objective: float, bks: float | None) -> float | None:
    """100 x (objective - bks) / bks, or None without a best-known value or objective."""
    if bks is None or not math.isfinite(objective) or bks == 0:
        return None
    return 100.0 * (objective - bks) / bks


def write_results(path: Path, rows: Iterable[Mapping[str, Any]],
                  columns: Sequence[str] | None = None) -> Path:
    """Write ``rows`` as CSV to ``path`` atomically; columns: ``columns``, or every key in
    order of first appearance."""
    rows = list(rows)
    cols: list[str] = list(columns or [])
    if columns is None:
        for r in rows:
            cols += [k for k in r if k not in cols]
    return write_csv(path, cols, rows)


__all__ = ["BENCHDATA", "RESULTS", "ROOT", "gap_pct", "read_bks", "write_results"]
