"""OR-Library facility-location readers: ``cap*`` (capacitated/uncapacitated) and ``pmed*``.

Formats (Beasley, OR-Library ``capinfo`` / ``pmedinfo``):

* ``cap41.txt`` ...: line 1 ``m n`` (candidate facilities, customers); then ``m`` lines
  ``capacity fixed_cost`` (the capacity may be the literal word ``capacity`` in capa/capb/capc,
  pass ``capacity=`` to substitute it); then per customer ``demand`` followed by ``m`` numbers,
  the cost of allocating **all** of that customer's demand to facility ``i`` (free layout:
  numbers may wrap across lines).
* ``pmed1.txt`` ...: line 1 ``n_vertices n_edges p``; then one line ``i j cost`` per undirected
  edge (1-based). If an edge appears more than once the **last** occurrence counts. The cost
  matrix is the all-pairs shortest-path matrix of that graph.

Malformed files raise :class:`~optimizer.errors.InstanceError` with a one-line message naming
the file, the line and the field.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import shortest_path

from optimizer.errors import InstanceError

#: files above this size are refused before reading (the largest OR-Library file is ~20 MB)
MAX_FILE_BYTES = 512 * 1024**2
#: the largest magnitude of a number (costs and demands summed over a model stay exact)
MAX_ABS = 1e12
#: the most facility x customer pairs of a cap file (dense cost matrix: 400 MB) and the most
#: vertices of a pmed file (dense shortest-path matrix: 800 MB)
MAX_PAIRS = 50_000_000
MAX_VERTICES = 10_000

__all__ = [
    "CapInstance",
    "PMedInstance",
    "read_orlib_cap",
    "read_orlib_pmed",
    "read_orlib_uncap",
]


@dataclass(frozen=True)
class CapInstance:
    """An OR-Library ``cap*`` instance (units as in the file: demand units, cost units).

    Attributes:
        name: file stem, e.g. ``"cap41"``.
        capacity: (m,) facility capacities in demand units (``inf`` for the uncapacitated view).
        open_cost: (m,) fixed cost of opening each facility.
        demand: (n,) customer demands.
        alloc_cost: (n, m) cost of allocating the **whole** demand of customer i to facility j.
    """

    name: str
    capacity: np.ndarray
    open_cost: np.ndarray
    demand: np.ndarray
    alloc_cost: np.ndarray

    @property
    def n_facilities(self) -> int:
        return int(self.open_cost.shape[0])

    @property
    def n_customers(self) -> int:
        return int(self.demand.shape[0])

    @property
    def unit_cost(self) -> np.ndarray:
        """(n, m) cost per unit of demand (``alloc_cost / demand``; 0 for zero-demand rows)."""
        d = self.demand[:, None]
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(d > 0, self.alloc_cost / np.where(d > 0, d, 1.0), 0.0)


@dataclass(frozen=True)
class PMedInstance:
    """An OR-Library ``pmed*`` instance.

    Attributes:
        name: file stem.
        n: number of vertices (every vertex is both a client and a candidate site).
        p: number of medians to open.
        edges: (k, 3) int array ``i, j, cost`` with 0-based vertices, after de-duplication
            (last occurrence wins), in first-appearance order.
        cost: (n, n) all-pairs shortest-path lengths (float; ``inf`` if disconnected).
    """

    name: str
    n: int
    p: int
    edges: np.ndarray
    cost: np.ndarray


class _Tokens:
    """Whitespace tokens of a text file, remembering their line numbers."""

    def __init__(self, path: Path) -> None:
        self.path = path
        if path.is_file() and path.stat().st_size > MAX_FILE_BYTES:
            raise InstanceError.at(path, None, f"file too large ({path.stat().st_size / 1e6:,.0f}"
                                   " MB)", fix=f"OR-Library files are under "
                                   f"{MAX_FILE_BYTES / 1e6:,.0f} MB")
        if path.exists() and not path.is_file():
            raise InstanceError.at(path, None, "not a regular file", fix="name the file itself")
        try:
            text = path.read_text(encoding="utf-8", errors="strict")
        except FileNotFoundError:
            raise InstanceError.at(path, None, "file not found") from None
        except (UnicodeDecodeError, OSError) as exc:
            raise InstanceError.at(path, None, f"cannot read file: {exc}") from None
        self.items: list[tuple[str, int]] = [
            (tok, lineno)
            for lineno, line in enumerate(text.splitlines(), start=1)
            for tok in line.split()
        ]
        self.pos = 0
        self.last_line = text.count("\n") + 1

    def _take(self, field: str) -> tuple[str, int]:
        if self.pos >= len(self.items):
            raise InstanceError.at(
                self.path,
                field,
                f"unexpected end of file after line {self.items[-1][1] if self.items else 0}",
                fix="the file looks truncated",
            )
        tok = self.items[self.pos]
        self.pos += 1
        return tok

    def number(self, field: str, *, integer: bool = False, allow: tuple[str, ...] = ()) -> float:
        tok, line = self._take(field)
        if tok.lower() in allow:
            return math.nan
        try:
            value = float(tok)
        except ValueError:
            raise InstanceError.at(
                self.path, f"line {line}: {field}", "not a number", got=tok
            ) from None
        if not math.isfinite(value):
            raise InstanceError.at(self.path, f"line {line}: {field}", "not finite", got=tok)
        if abs(value) > MAX_ABS:
            raise InstanceError.at(self.path, f"line {line}: {field}",
                                   f"must be at most {MAX_ABS:.0e} in size", got=tok,
                                   fix="rescale the file's numbers")
        if integer and value != int(value):
            raise InstanceError.at(self.path, f"line {line}: {field}", "not an integer", got=tok)
        return value

    def line_of_last(self) -> int:
        return self.items[self.pos - 1][1]

    def rest(self) -> list[tuple[str, int]]:
        return self.items[self.pos :]


def _nonneg(path: Path, line: int, field: str, value: float) -> None:
    if value < 0:
        raise InstanceError.at(path, f"line {line}: {field}", "must be >= 0", got=value)


def read_orlib_cap(path: str | Path, *, capacity: float | None = None) -> CapInstance:
    """Read an OR-Library capacitated facility-location file (``cap41.txt`` ...).

    Args:
        path: file path.
        capacity: value substituted for the literal word ``capacity`` (capa/capb/capc files);
            if given it also overrides numeric capacities. Required when the file has the word.
    """
    p = Path(path)
    tk = _Tokens(p)
    m = int(tk.number("m (number of facilities)", integer=True))
    if m <= 0:
        raise InstanceError.at(p, f"line {tk.line_of_last()}: m", "must be > 0", got=m)
    n = int(tk.number("n (number of customers)", integer=True))
    if n <= 0:
        raise InstanceError.at(p, f"line {tk.line_of_last()}: n", "must be > 0", got=n)
    if m * n > MAX_PAIRS:
        raise InstanceError.at(p, f"line {tk.line_of_last()}: n", f"m x n must be <= "
                               f"{MAX_PAIRS:,}", got=m * n, fix="split the instance")
    cap = np.empty(m)
    fixed = np.empty(m)
    for j in range(m):
        field = f"facility {j + 1} capacity"
        c = tk.number(field, allow=("capacity",))
        line = tk.line_of_last()
        if math.isnan(c):
            if capacity is None:
                raise InstanceError.at(
                    p,
                    f"line {line}: {field}",
                    "capacity is the literal word 'capacity'",
                    fix=("give it: coldchain locate --capacity 8000 (capa: 8000/10000/12000/"
                         "14000), in Python read_orlib_cap(path, capacity=8000)"),
                )
            c = capacity
        elif capacity is not None:
            c = capacity
        _nonneg(p, line, field, c)
        cap[j] = c
        f = tk.number(f"facility {j + 1} fixed cost")
        _nonneg(p, tk.line_of_last(), f"facility {j + 1} fixed cost", f)
        fixed[j] = f
    demand = np.empty(n)
    alloc = np.empty((n, m))
    for i in range(n):
        d = tk.number(f"customer {i + 1} demand")
        _nonneg(p, tk.line_of_last(), f"customer {i + 1} demand", d)
        demand[i] = d
        for j in range(m):
            field = f"customer {i + 1} cost to facility {j + 1}"
            c = tk.number(field)
            _nonneg(p, tk.line_of_last(), field, c)
            alloc[i, j] = c
    extra = tk.rest()
    if extra:
        tok, line = extra[0]
        raise InstanceError.at(
            p, f"line {line}", f"unexpected data after {n} customers", got=tok
        )
    return CapInstance(
        name=p.stem, capacity=cap, open_cost=fixed, demand=demand, alloc_cost=alloc
    )


def read_orlib_uncap(path: str | Path) -> CapInstance:
    """Read a ``cap*`` file as an uncapacitated instance (capacities set to ``inf``)."""
    inst = read_orlib_cap(path, capacity=math.inf)
    return inst


def read_orlib_pmed(path: str | Path) -> PMedInstance:
    """Read an OR-Library p-median file and compute all-pairs shortest paths (scipy csgraph).

    A repeated edge (in either direction) keeps the cost of its **last** occurrence.
    """
    pth = Path(path)
    tk = _Tokens(pth)
    n = int(tk.number("n (number of vertices)", integer=True))
    if n <= 0:
        raise InstanceError.at(pth, f"line {tk.line_of_last()}: n", "must be > 0", got=n)
    if n > MAX_VERTICES:
        raise InstanceError.at(pth, f"line {tk.line_of_last()}: n", f"must be <= "
                               f"{MAX_VERTICES:,}", got=n, fix="split the instance")
    k = int(tk.number("number of edges", integer=True))
    if k < 0:
        raise InstanceError.at(pth, f"line {tk.line_of_last()}: edges", "must be >= 0", got=k)
    p = int(tk.number("p", integer=True))
    if not 1 <= p <= n:
        raise InstanceError.at(
            pth, f"line {tk.line_of_last()}: p", f"must be in 1..{n}", got=p
        )
    last: dict[tuple[int, int], float] = {}
    for e in range(k):
        ends = []
        for end in ("i", "j"):
            v = int(tk.number(f"edge {e + 1} {end}", integer=True))
            if not 1 <= v <= n:
                raise InstanceError.at(
                    pth, f"line {tk.line_of_last()}: edge {e + 1} {end}",
                    f"vertex must be in 1..{n}", got=v,
                )
            ends.append(v - 1)
        c = tk.number(f"edge {e + 1} cost")
        _nonneg(pth, tk.line_of_last(), f"edge {e + 1} cost", c)
        a, b = ends
        if a != b:
            key = (min(a, b), max(a, b))
            last.pop(key, None)  # keep first-appearance order of the final value
            last[key] = c
    extra = tk.rest()
    if extra:
        tok, line = extra[0]
        raise InstanceError.at(pth, f"line {line}", f"unexpected data after {k} edges", got=tok)
    edges = np.array([(a, b, c) for (a, b), c in last.items()], dtype=float).reshape(-1, 3)
    cost = all_pairs_shortest_paths(n, edges)
    return PMedInstance(name=pth.stem, n=n, p=p, edges=edges.astype(np.int64), cost=cost)


def all_pairs_shortest_paths(n: int, edges: np.ndarray) -> np.ndarray:
    """(n, n) shortest-path lengths of an undirected graph given ``(i, j, cost)`` rows.

    Edges are de-duplicated by the caller; zero-cost edges are kept as explicit CSR entries,
    which csgraph treats as edges.
    """
    if edges.size == 0:
        out = np.full((n, n), np.inf)
        np.fill_diagonal(out, 0.0)
        return out
    i = edges[:, 0].astype(np.int64)
    j = edges[:, 1].astype(np.int64)
    w = edges[:, 2].astype(float)
    rows = np.concatenate([i, j])
    cols = np.concatenate([j, i])
    vals = np.concatenate([w, w])
    graph = csr_matrix((vals, (rows, cols)), shape=(n, n))
    return shortest_path(graph, method="D", directed=False)
