"""Lagrangian branch-and-bound for the p-median problem, on one or two cores.

The tree search of :func:`optimizer.location.pmedian.p_median` (Beasley 1985's tree search
with best-first node order, node fixing and a sorted-prefix evaluation of the relaxation).
Where the process may use two cores, the open nodes after ``SPLIT_NODES`` nodes are dealt
alternately, in bound order, to this process and to one worker process (``python -m
optimizer.location._pmedian_bnb IN OUT``: a fresh interpreter, so nothing of the caller's
``__main__`` is re-run and no threads are forked), which search their halves independently
from the current incumbent; whenever the worker is done while this process still has open
nodes, those are dealt again with a new worker. The parts are merged as for two MIP
branches: the better plan (this process's on ties), the smallest bound, finished only if
every part finished. When the incumbent is optimal from the start the nodes searched, and
so the plan, are the same as on one core; when the tree improves it, which of several
equally good plans is returned can depend on when the worker finished.
"""

from __future__ import annotations

import heapq
import logging
import math
import os
import pickle
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from optimizer._io import write_bytes

logger = logging.getLogger(__name__)

#: Nodes searched on one core before the open nodes are split between two processes.
SPLIT_NODES = 400
#: Seconds that must be left for a split: the worker takes about 1.3 s to start (imports).
SPLIT_MIN_S = 5.0
#: Seconds between checks, while this process searches its half, whether the worker is done.
POLL_S = 0.5
#: Extra seconds given to the worker process beyond the deadline before it is abandoned.
WORKER_GRACE_S = 10.0
#: Open nodes a process keeps at most (each holds its multipliers: about 5 KB at n=900, so
#: 0.5 GB); past that the search stops as if out of time. At about 200 nodes/s a process
#: needs at least 500 s to get there.
MAX_OPEN_NODES = 100_000

# heap entry: (parent's bound, creation number, multipliers, forced open mask, shut mask)
Node = tuple[float, int, np.ndarray, np.ndarray, np.ndarray]


def evaluate(c: np.ndarray, opened: np.ndarray) -> float:
    """Cost of serving every client from its nearest site in ``opened``."""
    return float(np.min(c[:, opened], axis=1).sum())


def branch_and_bound(c: np.ndarray, p: int, lam: np.ndarray, closed: np.ndarray,
                     forced: np.ndarray, best_open: np.ndarray, ub: float, *,
                     integral: bool, deadline: float, root_iter: int = 200,
                     node_iter: int = 15, cores: int = 1
                     ) -> tuple[np.ndarray, float, float, bool, int]:
    """Best-first Lagrangian branch-and-bound on the sites left open by the fixing.

    A node fixes some sites open and some shut; its bound is the relaxation of the
    assignment rows, ``sum_i lam_i + sum_{j in Y} rho_j(lam)`` with ``Y`` the forced sites
    plus the cheapest free ones up to ``p``, improved by ``node_iter`` subgradient steps
    towards ``ub`` warm-started at the parent's multipliers (15 steps: on a pmed36-sized
    instance, n=800, p=10, the bound after 35 s was 9,623 with 15, 9,619 with 40, 9,611
    with 8); every node's ``Y`` is priced as a plan. A node is cut when its bound cannot
    beat ``ub`` (rounded up for integral costs); reduced-cost fixing at the node shuts or
    forces sites for its subtree. Branches on the chosen free site with the most negative
    ``rho_j`` (forced open, shut); the node with the least bound goes next (ties: the older
    one), so the bound reported on a stop is the best the tree has proven. With
    ``cores >= 2`` the search continues in two processes after ``SPLIT_NODES`` nodes (if
    ``SPLIT_MIN_S`` or more are left; see the module docstring).

    Args:
        c: (clients, sites) weighted costs, finite.
        lam: (clients,) root multipliers.
        closed / forced: (sites,) masks from the root fixing.
        best_open / ub: incumbent sites and cost.
        deadline: ``time.perf_counter()`` value at which to stop.

    Returns ``(open sites, ub, bound, finished, nodes)``: ``bound`` is the least bound of
    the nodes left at the deadline (``ub`` if ``finished``). On one core deterministic apart
    from the deadline; on two, see the module docstring.
    """
    cand = np.flatnonzero(~closed)
    tree = _Tree(c, cand, p, integral=integral, root_iter=root_iter, node_iter=node_iter)
    heap: list[Node] = [(-math.inf, 0, lam, forced[cand].copy(), np.zeros(cand.size, bool))]
    best_open, ub = tree.run(heap, best_open, ub, deadline,
                             max_nodes=SPLIT_NODES if cores >= 2 else None)
    # Two processes: deal the open nodes between this one and a worker; whenever the worker
    # is done while this half still has nodes, deal this half again with a new worker.
    worker_nodes, left_bound, workers_done = 0, math.inf, True
    while (cores >= 2 and 2 <= len(heap) <= MAX_OPEN_NODES
           and deadline - time.perf_counter() >= SPLIT_MIN_S):
        theirs = _deal(heap)
        job = _start_worker(dict(c=c, cand=cand, p=p, integral=integral, root_iter=root_iter,
                                 node_iter=node_iter, heap=theirs, best_open=best_open, ub=ub,
                                 created=tree.created,
                                 wall_deadline=time.time() + deadline - time.perf_counter()))
        logger.debug("p-median branch-and-bound: %d nodes here, %d + %d open nodes split "
                     "between two processes", tree.nodes, len(heap), len(theirs))
        try:
            while (heap and len(heap) <= MAX_OPEN_NODES and time.perf_counter() < deadline
                   and (job is None or job[0].poll() is None)):
                best_open, ub = tree.run(heap, best_open, ub,
                                         min(deadline, time.perf_counter() + POLL_S))
        except BaseException:  # e.g. Ctrl-C: do not leave the worker running
            _stop_worker(job)
            raise
        other = _finish_worker(job, deadline)
        if other is None:  # the worker failed: its half comes back here
            for node in theirs:
                heapq.heappush(heap, node)
            break
        w_open, w_ub, w_bound, w_finished, w_nodes = other
        logger.debug("p-median branch-and-bound: the worker's half %s after %d nodes "
                     "(%d open here)", "finished" if w_finished else "stopped", w_nodes,
                     len(heap))
        worker_nodes += w_nodes
        if w_ub < ub:
            best_open, ub = w_open, w_ub
        if not w_finished:
            workers_done, left_bound = False, min(left_bound, w_bound)
    # the rest on this core: one core, too little time to split, or a failed worker
    best_open, ub = tree.run(heap, best_open, ub, deadline)
    return (best_open, ub, min(tree.bound(heap, ub), left_bound, ub),
            not heap and workers_done, tree.nodes + worker_nodes)


def _deal(heap: list[Node]) -> list[Node]:
    """Deal the nodes of ``heap`` alternately, in bound order, between ``heap`` (kept, the
    first, third, ...) and the list returned; both stay heaps (sorted lists)."""
    ordered = [heapq.heappop(heap) for _ in range(len(heap))]
    heap.extend(ordered[0::2])
    return ordered[1::2]


class _Tree:
    """The search state shared by the nodes of one process."""

    def __init__(self, c: np.ndarray, cand: np.ndarray, p: int, *, integral: bool,
                 root_iter: int, node_iter: int, created: int = 0) -> None:
        self.c, self.cand, self.p = c, cand, p
        self.cc = c[:, cand]
        self.k = cand.size
        self.rho_of = _SiteValues(self.cc)
        self.integral = integral
        self.root_iter, self.node_iter = root_iter, node_iter
        self.created = created
        self.nodes = 0
        self.ub = math.inf

    def cut(self, b: float) -> bool:
        """Whether a bound ``b`` shows a subtree cannot beat the incumbent."""
        if not math.isfinite(b):
            return b > 0
        if self.integral:
            return math.ceil(b - 1e-7) >= self.ub
        return b >= self.ub - 1e-9 * max(1.0, abs(self.ub))

    def cuts(self, b: np.ndarray) -> np.ndarray:
        """``cut`` on each of several bounds (``+inf`` allowed)."""
        if self.integral:
            return np.ceil(b - 1e-7) >= self.ub
        return b >= self.ub - 1e-9 * max(1.0, abs(self.ub))

    def bound(self, heap: list[Node], ub: float) -> float:
        """Least bound of the open nodes (``ub`` when none is left)."""
        return min(ub, heap[0][0]) if heap else ub

    def run(self, heap: list[Node], best_open: np.ndarray, ub: float, deadline: float,
            max_nodes: int | None = None) -> tuple[np.ndarray, float]:
        """Search ``heap`` (mutated; empty when finished) until ``deadline``, ``max_nodes``
        more nodes or ``MAX_OPEN_NODES`` open ones. Returns the incumbent ``(sites, cost)``."""
        self.ub = ub
        stop_at = None if max_nodes is None else self.nodes + max_nodes
        c, cand, p = self.c, self.cand, self.p
        while heap:
            if time.perf_counter() > deadline or (stop_at is not None
                                                  and self.nodes >= stop_at):
                break
            if len(heap) > MAX_OPEN_NODES:
                logger.debug("p-median branch-and-bound: %d open nodes, stopping", len(heap))
                break
            if self.cut(heap[0][0]):
                heap.clear()  # every node left has a bound this high
                break
            _, _, lam0, fo, cl = heapq.heappop(heap)
            self.nodes += 1
            b, lam_b, y, rho = self._node_bound(
                lam0, fo, cl, self.root_iter if self.nodes == 1 else self.node_iter)
            if y is None or self.cut(b):
                continue
            val = evaluate(c, cand[y])
            if val < self.ub:
                best_open, self.ub = np.sort(cand[y]), val
                if self.cut(b):
                    continue
            if int(fo.sum()) == p:
                continue
            fo, cl = _node_fixing(b, rho, y, fo, cl, self.cuts)
            if int(fo.sum()) == p:
                val = evaluate(c, cand[fo])
                if val < self.ub:
                    best_open, self.ub = np.sort(cand[fo]), val
                continue
            free_y = np.flatnonzero(y & ~fo)
            if free_y.size == 0:
                continue
            j = free_y[np.argmin(rho[free_y])]
            shut, opened = cl.copy(), fo.copy()
            shut[j], opened[j] = True, True
            heapq.heappush(heap, (b, self.created + 1, lam_b, opened, cl))
            heapq.heappush(heap, (b, self.created + 2, lam_b, fo, shut))
            self.created += 2
        return best_open, self.ub

    def _node_bound(self, lam0: np.ndarray, fo: np.ndarray, cl: np.ndarray, iters: int
                    ) -> tuple[float, np.ndarray, np.ndarray | None, np.ndarray]:
        """(bound, its multipliers, its chosen sites or None, its site values rho)."""
        cc, p, ub = self.cc, self.p, self.ub
        best, best_lam, best_y, best_rho = -math.inf, lam0, None, np.zeros(self.k)
        lam_, theta, stall = lam0, 1.0, 0
        need = p - int(fo.sum())
        free = np.flatnonzero(~fo & ~cl)
        if need < 0 or free.size < need:
            return math.inf, lam0, None, best_rho
        for _ in range(iters):
            rho = self.rho_of(lam_)
            y = fo.copy()
            if need:
                y[free[np.argpartition(rho[free], need - 1)[:need]]] = True
            val = float(lam_.sum() + rho[y].sum())
            if val > best + 1e-9 * max(1.0, abs(val)):
                best, best_lam, best_y, best_rho, stall = val, lam_, y, rho, 0
            else:
                stall += 1
                if stall >= 5:
                    theta, stall = theta / 2.0, 0
            if self.cut(best) or theta < 1e-3:
                break
            g = 1.0 - (cc[:, y] < lam_[:, None]).sum(axis=1)
            norm = float(g @ g)
            if norm == 0:
                break  # the relaxed plan is feasible: the bound is exact here
            lam_ = lam_ + theta * (ub - val) / norm * g
        return best, best_lam, best_y, best_rho


class _SiteValues:
    """``rho_j(lam) = sum_i min(0, c_ij - lam_i)`` from each client's nearest sites only.

    Only sites closer than ``lam_i`` count, a short prefix of each client's sites in order
    of cost (about 30 of 500 on a pmed36-sized instance): one binary search over the
    row-sorted costs, laid end to end with a per-row offset, finds every prefix length
    (with small integer costs, a table of prefix lengths per cost value instead), and the
    sum runs over those entries alone.
    """

    #: Largest prefix-length table kept for integer costs (entries, 4 bytes each).
    TABLE_MAX = 4_000_000

    def __init__(self, cost: np.ndarray) -> None:
        n, self.k = cost.shape
        order = np.argsort(cost, axis=1, kind="stable")
        srt = np.take_along_axis(cost, order, axis=1)
        self.lo, hi = float(srt[:, 0].min()), float(srt[:, -1].max())
        self.step = hi - self.lo + 2.0  # row i lives in [i*step, (i+1)*step)
        self.shift = np.arange(n) * self.step
        self.flat = (srt - self.lo + self.shift[:, None]).ravel()
        self.srt = srt.ravel()
        self.order = order.ravel()
        self.row = np.arange(n) * self.k
        self.table: np.ndarray | None = None
        width = int(hi) + 2
        if (self.lo >= 0 and n * width <= self.TABLE_MAX
                and np.array_equal(srt, np.round(srt))):
            # table[i, v] = number of sites with c_ij < v, v = 0 .. max cost + 1
            keys = (np.clip(np.arange(width) - self.lo, 0.0, self.step - 1.0)[None, :]
                    + self.shift[:, None]).ravel()
            self.table = (np.searchsorted(self.flat, keys, side="left").reshape(n, width)
                          - self.row[:, None]).astype(np.int32).ravel()
            self.width = width
            self.row_t = np.arange(n) * width

    def __call__(self, lam: np.ndarray) -> np.ndarray:
        if self.table is not None:  # integer costs: c < lam  <=>  c < ceil(lam)
            v = np.clip(np.ceil(lam), 0, self.width - 1).astype(np.int64)
            count = self.table[self.row_t + v].astype(np.int64)
        else:
            key = np.clip(lam - self.lo, 0.0, self.step - 1.0) + self.shift
            count = np.searchsorted(self.flat, key, side="left") - self.row
        total = int(count.sum())
        start = np.cumsum(count) - count
        pos = np.arange(total) + np.repeat(self.row - start, count)
        w = self.srt[pos] - np.repeat(lam, count)
        return np.bincount(self.order[pos], weights=w, minlength=self.k)


def _node_fixing(b: float, rho: np.ndarray, y: np.ndarray, fo: np.ndarray, cl: np.ndarray,
                 cuts: Callable[[np.ndarray], np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Reduced-cost fixing at a node: (forced open, shut) masks, enlarged.

    ``b`` is the node bound with site values ``rho`` and chosen sites ``y`` (the forced ones
    plus the cheapest free ones). Swapping a free site ``j`` in for the dearest chosen free
    site raises the bound by ``rho_j - rho_last``; swapping a chosen free site out for the
    cheapest unchosen one by ``rho_next - rho_j``. Where that alone cuts, the site is shut
    (forced open) for the whole subtree.
    """
    chosen = np.flatnonzero(y & ~fo)
    if chosen.size == 0:
        return fo, cl
    rest = np.flatnonzero(~y & ~cl)
    rho_last = float(rho[chosen].max())
    shut = rest[cuts(b + rho[rest] - rho_last)]
    rho_next = float(rho[rest].min()) if rest.size else math.inf
    force = chosen[cuts(b + rho_next - rho[chosen])]
    if shut.size == 0 and force.size == 0:
        return fo, cl
    fo, cl = fo.copy(), cl.copy()
    cl[shut] = True
    fo[force] = True
    return fo, cl


# --------------------------------------------------------------------------- worker process


def _search_part(job: dict[str, Any]) -> tuple[np.ndarray, float, float, bool, int]:
    """Search one half of the open nodes (run in the worker process)."""
    tree = _Tree(job["c"], job["cand"], job["p"], integral=job["integral"],
                 root_iter=job["root_iter"], node_iter=job["node_iter"],
                 created=job["created"])
    tree.nodes = 1  # the root was searched by the caller: nodes here use node_iter
    heap: list[Node] = job["heap"]
    deadline = time.perf_counter() + job["wall_deadline"] - time.time()
    best_open, ub = tree.run(heap, job["best_open"], job["ub"], deadline)
    return best_open, ub, tree.bound(heap, ub), not heap, tree.nodes - 1


def _start_worker(job: dict[str, Any]) -> tuple[subprocess.Popen[bytes], Path] | None:
    """Write ``job`` to a temporary folder and start the worker on it (None on failure)."""
    folder = Path(tempfile.mkdtemp(prefix="coldchain-bnb-"))
    try:
        with open(folder / "in.pkl", "wb") as fh:
            pickle.dump(job, fh, protocol=pickle.HIGHEST_PROTOCOL)
        root = str(Path(__file__).resolve().parents[2])
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(
            [root] + ([os.environ["PYTHONPATH"]] if os.environ.get("PYTHONPATH") else []))}
        proc = subprocess.Popen(
            [sys.executable, "-m", "optimizer.location._pmedian_bnb", str(folder / "in.pkl"),
             str(folder / "out.pkl")],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            env=env)
    except (OSError, pickle.PicklingError) as exc:
        logger.debug("p-median branch-and-bound: no worker process (%s)", exc)
        _remove(folder)
        return None
    return proc, folder


def _finish_worker(job: tuple[subprocess.Popen[bytes], Path] | None, deadline: float
                   ) -> tuple[np.ndarray, float, float, bool, int] | None:
    """Wait for the worker; its result, or None if it failed or overran."""
    if job is None:
        return None
    proc, folder = job
    try:
        wait_s = max(0.0, deadline - time.perf_counter()) + WORKER_GRACE_S
        try:
            _, err = proc.communicate(timeout=wait_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            logger.debug("p-median branch-and-bound: worker overran; searching its half here")
            return None
        if proc.returncode != 0:
            logger.debug("p-median branch-and-bound: worker failed (%s)",
                         err.decode(errors="replace").strip().splitlines()[-1:])
            return None
        with open(folder / "out.pkl", "rb") as fh:
            result: tuple[np.ndarray, float, float, bool, int] = pickle.load(fh)
        return result
    except (OSError, pickle.UnpicklingError, EOFError) as exc:
        logger.debug("p-median branch-and-bound: worker result unreadable (%s)", exc)
        return None
    finally:
        _remove(folder)


def _stop_worker(job: tuple[subprocess.Popen[bytes], Path] | None) -> None:
    if job is not None:
        job[0].kill()
        job[0].communicate()
        _remove(job[1])


def _remove(folder: Path) -> None:
    for f in folder.glob("*"):
        f.unlink(missing_ok=True)
    folder.rmdir()


def _main(argv: list[str]) -> int:
    """Worker entry point: ``IN.pkl OUT.pkl``."""
    with open(argv[0], "rb") as fh:
        job = pickle.load(fh)
    result = _search_part(job)
    write_bytes(argv[1], pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL))
    return 0


if __name__ == "__main__":  # pragma: no cover - run as the worker process
    sys.exit(_main(sys.argv[1:]))
