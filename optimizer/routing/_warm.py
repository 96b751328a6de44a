"""Warm-start plumbing for the rich problem: multi-trip chains, chain-aware schedules, repair.

A relaxed engine (PyVRP) returns per-slot stop sequences that ignore some constraints of
:class:`RoutingProblem` (deadlines, spoilage, field waiting, soft windows, per-slot duration
limits). :func:`repair` turns them into a plan the checker accepts: trips of one physical
vehicle are compacted onto its chained slots in order, each slot departs no earlier than
its predecessor's end plus ``reload_s``, and stops that make a trip infeasible are dropped
(only optional stops; a mandatory one makes the repair fail).

No solver is imported here.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Mapping, Sequence

from optimizer.routing._schedule import RawResult, RawRoute, assemble, best_start, route_times
from optimizer.routing.problem import RoutingProblem, RoutingSolution

log = logging.getLogger(__name__)


def chains(problem: RoutingProblem) -> list[list[int]]:
    """Multi-trip chains: slot indices in trip order, each slot in at most one chain.

    A chain starts at a slot without ``after`` and follows the successor (the lowest slot
    index whose ``after`` points at the last slot). Slots that are a second successor of
    the same slot are in no chain (the relaxation leaves them unused).
    """
    succ: dict[int, list[int]] = defaultdict(list)
    for v, veh in enumerate(problem.vehicles):
        if veh.after is not None:
            succ[veh.after].append(v)
    seen: set[int] = set()
    out: list[list[int]] = []
    for v, veh in enumerate(problem.vehicles):
        if veh.after is not None:
            continue
        ch = [v]
        seen.add(v)
        while succ.get(ch[-1]):
            nxt = min(succ[ch[-1]])
            if nxt in seen:
                break
            ch.append(nxt)
            seen.add(nxt)
        out.append(ch)
    return out


def same_kind(problem: RoutingProblem, a: int, b: int) -> bool:
    """Whether slots ``a`` and ``b`` agree in everything but id, type, fixed cost and the
    multi-trip fields (depots, capacity, profile, rates, shift and route limits)."""
    va, vb = problem.vehicles[a], problem.vehicles[b]
    return (
        va.start,
        va.end,
        va.capacity_kg,
        va.profile,
        va.fen_per_km,
        va.fen_per_h,
        va.spoil_fen_per_kg_h,
        va.shift_start_s,
        va.shift_end_s,
        va.max_duration_s,
        va.max_distance_m,
    ) == (
        vb.start,
        vb.end,
        vb.capacity_kg,
        vb.profile,
        vb.fen_per_km,
        vb.fen_per_h,
        vb.spoil_fen_per_kg_h,
        vb.shift_start_s,
        vb.shift_end_s,
        vb.max_duration_s,
        vb.max_distance_m,
    )


def uniform_chains(problem: RoutingProblem) -> list[list[int]]:
    """Chains cut at the first slot that differs from the root in anything but fixed cost
    and reload time, so that one relaxed multi-trip vehicle maps onto them."""
    out = []
    for ch in chains(problem):
        k = 1
        while k < len(ch) and same_kind(problem, ch[0], ch[k]):
            if len({problem.vehicles[v].reload_s for v in ch[1 : k + 1]}) > 1:
                break
            k += 1
        out.append(ch[:k])
    return out


def schedule_slot(
    problem: RoutingProblem, v: int, stops: tuple[int, ...], earliest_s: int
) -> tuple[int, int, bool]:
    """(departure s, end s, feasible) of slot ``v`` serving ``stops``, departing at or after
    ``earliest_s`` at the cheapest schedule breakpoint."""
    start = best_start(problem, v, stops, earliest_s=earliest_s)
    _, end, ok, _ = route_times(problem, v, stops, start)
    return start, end, ok


def chain_routes(
    problem: RoutingProblem, chain: Sequence[int], trips: Sequence[Sequence[int]]
) -> list[RawRoute]:
    """Raw routes of one physical vehicle: its non-empty ``trips`` on the slots of
    ``chain`` in order, each departing at its earliest cheapest time after the previous
    slot's end plus ``reload_s`` (no stop is dropped; the checker judges the result).

    A single-slot chain gets no departure time (``assemble`` picks it). Raises ValueError
    when there are more non-empty trips than slots.
    """
    seqs = [tuple(t) for t in trips if t]
    if len(seqs) > len(chain):
        raise ValueError(f"{len(seqs)} trips for a chain of {len(chain)} slots")
    if len(chain) == 1:
        return [RawRoute(chain[0], seqs[0], None)] if seqs else []
    out: list[RawRoute] = []
    earliest = problem.vehicles[chain[0]].shift_start_s
    for k, seq in enumerate(seqs):
        v = chain[k]
        if k > 0:
            earliest += int(problem.vehicles[v].reload_s)
        start, end, _ = schedule_slot(problem, v, seq, earliest)
        out.append(RawRoute(v, seq, start))
        earliest = end
    return out


def solution_from_trips(
    problem: RoutingProblem, trips: Mapping[int, Sequence[Sequence[int]]], *,
    engine: str = "given",
) -> RoutingSolution:
    """A solution (earliest chain-aware schedules, the checker's objective) from the trips
    (stop indices in order) of each physical vehicle, keyed by its chain's first slot;
    stops in no trip are dropped. Not checked: pass it to ``verify``. Raises ValueError
    for a key that starts no chain or more trips than its chain has slots."""
    chain_of = {ch[0]: ch for ch in chains(problem)}
    routes: list[RawRoute] = []
    served: set[int] = set()
    for root, seqs in trips.items():
        if root not in chain_of:
            raise ValueError(f"slot {root} starts no vehicle's chain of trips")
        routes += chain_routes(problem, chain_of[root], seqs)
        served.update(i for seq in seqs for i in seq)
    dropped = tuple(i for i in range(len(problem.stops)) if i not in served)
    return assemble(problem, RawResult(tuple(routes), dropped, 0.0, engine), engine, 0.0)


def _fix_trip(
    problem: RoutingProblem, v: int, stops: list[int], earliest_s: int, dropped: list[int]
) -> tuple[list[int], int, int]:
    """Drop optional stops from one trip until it is feasible; return (stops, start, end).

    Removal rule: the stop whose removal gives a feasible trip with the smallest penalty,
    else the one whose removal ends the trip earliest. Mandatory stops are never removed;
    if only they remain infeasible the trip is returned as is (the checker will reject it).
    """
    while True:
        if not stops:
            return [], earliest_s, earliest_s
        start, end, ok = schedule_slot(problem, v, tuple(stops), earliest_s)
        if ok:
            return stops, start, end
        best: tuple[int, float, int] | None = None
        for k, i in enumerate(stops):
            pen = problem.stops[i].drop_penalty_fen
            if pen is None:
                continue
            rest = tuple(stops[:k] + stops[k + 1 :])
            if rest:
                _, e2, ok2 = schedule_slot(problem, v, rest, earliest_s)
            else:
                e2, ok2 = earliest_s, True
            key = (0, float(pen), k) if ok2 else (1, float(e2), k)
            if best is None or key < best:
                best = key
        if best is None:
            return stops, start, end
        dropped.append(stops.pop(best[2]))


def _allowed(problem: RoutingProblem, i: int, v: int) -> bool:
    al = problem.stops[i].allowed_vehicles
    return al is None or v in al


def repair(
    problem: RoutingProblem,
    trips: Mapping[int, Sequence[Sequence[int]]],
    *,
    status: str,
    solver_objective: float = 0.0,
) -> RawResult:
    """Map relaxed multi-trip routes onto chained slots and make them feasible.

    ``trips`` maps a chain root slot to the stop sequences of that physical vehicle's trips
    in order (empty trips are skipped); a trip goes to the next unused slot of the chain,
    and stops the slot may not serve (``allowed_vehicles``) are dropped. Stops in no trip
    are dropped. Returns raw routes with departure times respecting the chaining.
    """
    chain_of = {ch[0]: ch for ch in chains(problem)}
    routes: list[RawRoute] = []
    served: set[int] = set()
    dropped: list[int] = []
    for root, seqs in trips.items():
        ch = chain_of[root]
        k = 0
        earliest = problem.vehicles[root].shift_start_s
        for seq in seqs:
            if k >= len(ch):
                dropped.extend(seq)
                continue
            v = ch[k]
            if k > 0:
                earliest = max(earliest, problem.vehicles[v].shift_start_s)
            stops = [i for i in seq if i not in served]
            keep = [i for i in stops if _allowed(problem, i, v)]
            dropped.extend(i for i in stops if i not in keep)
            keep, start, end = _fix_trip(problem, v, keep, earliest, dropped)
            if not keep:
                continue
            routes.append(RawRoute(v, tuple(keep), start))
            served.update(keep)
            k += 1
            if k < len(ch):
                earliest = end + int(problem.vehicles[ch[k]].reload_s)
    dropped_set = {i for i in range(len(problem.stops)) if i not in served}
    if dropped:
        log.debug("repair dropped %d stops the relaxation served", len(set(dropped)))
    return RawResult(tuple(routes), tuple(sorted(dropped_set)), solver_objective, status)


__all__ = ["chain_routes", "chains", "repair", "same_kind", "schedule_slot",
           "solution_from_trips", "uniform_chains"]
