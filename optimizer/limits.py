"""Search limits shared by every stage (routing, location): time and solution counts, and
the size rule that sets the default times.

The size rule (what ``coldchain solve`` and ``coldchain batch`` use unless ``--time-limit`` /
``--location-time`` are given; :class:`Limits` with ``time_s=None``):

* **routing**, per scenario day and plan::

      T_route(stops, depots) = max(min(ROUTING_CAP_S, max(ROUTING_FLOOR_S,
                                                          ROUTING_S_PER_STOP * stops)),
                                   ROUTING_S_PER_DEPOT * depots)
                             = max(min(10, max(1, 0.065 * stops)), 0.2 * depots)   seconds

  where ``stops`` counts the day's routing stops over all its depots (produce lots to
  collect and parcel lots to deliver) and ``depots`` the depots with stops that day (each
  is its own routing problem); the day's time is then split over its depots in
  proportion to their stops, as a given ``--time-limit`` is. A day of 15 stops or fewer
  gets 1 s, a 70-village county's plan day (about 40 stops) 2.6 s and its baseline day
  (about 95 stops) 6.2 s, and a day of 154 stops or more (every day of Xiuwen, every
  larger county) the cap, 10 s: the old fixed default. The depot term only counts in
  very large counties: a day of more than 50 depots (Weining's peak plan, 61 depots:
  12.2 s; a 3,000-village county's peak plan, about 300 depots: 60 s), where 10 s split
  over hundreds of depots left a depot about 0.05 s, too little for a first solution
  (its stops were all dropped).

* **location**, per location model solve (pickup points, then cold stores in every
  location-routing round)::

      T_loc(villages, candidates) = min(LOCATION_CAP_S,
                                        max(LOCATION_FLOOR_S, villages * candidates / 1000))
                                  = min(20, max(2, villages * candidates / 1000))   seconds

  where ``candidates`` is the number of cold-store sites a village may send produce to
  (the instance's sites, at most 20). Xiuwen (126 x 18) gets 2.3 s, Weining (623 x 20)
  12.5 s, 1,000 villages and more the cap, 20 s. The models stop earlier when they prove
  their optimum (within 0.01 %).

Why these numbers (measured on Xiuwen and Weining depot problems, 2 cores shared with other
work): a depot problem of 40-70 stops is within 1 % of its 16-s result after 2 s, one of
150 stops (Xiuwen's off-season hub) averages 8 % worse with 2.4 s than with 7.7 s over 5
seeds and 1.6 % worse with 4.5 s; Xiuwen's 600-700-stop peak and stress days lose 1-4 %
with 3-5 s instead of 10 s. With 0.03 s per stop (3-6 s for Xiuwen's 156-195-stop days)
Xiuwen's year cost and spoilage came out 1.3 % worse than with the fixed 10 s (3 runs
each); with 0.065 s per stop they are within the run-to-run noise (-0.4 %). Days below
154 stops (counties of about 100 villages or fewer) get less time. The location models
reach 0.1 % of their bound within about ``villages * candidates / 1000`` seconds from
their LP-rounding start, and prove small counties' optimum sooner.
"""

from __future__ import annotations

from dataclasses import dataclass

#: routing seconds per stop of a scenario day (size rule)
ROUTING_S_PER_STOP = 0.065
#: least routing seconds of a scenario day (size rule)
ROUTING_FLOOR_S = 1.0
#: most routing seconds of a scenario day from its stops (size rule; the old fixed default)
ROUTING_CAP_S = 10.0
#: least routing seconds per depot of a scenario day (size rule; counts beyond 50 depots)
ROUTING_S_PER_DEPOT = 0.2
#: location seconds per village x candidate site pair (size rule)
LOCATION_S_PER_PAIR = 1e-3
#: least seconds of a location model solve (size rule)
LOCATION_FLOOR_S = 2.0
#: most seconds of a location model solve (size rule; the old fixed default)
LOCATION_CAP_S = 20.0


def routing_time_s(stops: int, depots: int = 1) -> float:
    """Routing seconds of one scenario day with ``stops`` stops over ``depots`` depots, by
    the size rule: ``max(min(ROUTING_CAP_S, max(ROUTING_FLOOR_S, ROUTING_S_PER_STOP *
    stops)), ROUTING_S_PER_DEPOT * depots)``."""
    by_stops = min(ROUTING_CAP_S, max(ROUTING_FLOOR_S, ROUTING_S_PER_STOP * max(int(stops), 0)))
    return max(by_stops, ROUTING_S_PER_DEPOT * max(int(depots), 0))


def location_time_s(villages: int, candidates: int) -> float:
    """Seconds of one location model solve for ``villages`` villages that may each use
    ``candidates`` cold-store sites, by the size rule: ``min(LOCATION_CAP_S,
    max(LOCATION_FLOOR_S, LOCATION_S_PER_PAIR * villages * candidates))``."""
    pairs = max(int(villages), 0) * max(int(candidates), 0)
    return min(LOCATION_CAP_S, max(LOCATION_FLOOR_S, LOCATION_S_PER_PAIR * pairs))


@dataclass(frozen=True, slots=True)
class Limits:
    """Search limits: wall-clock seconds (always honoured) and an optional solution count.

    ``time_s`` is the routing time of one scenario day (seconds, split over its depots);
    None (the default) takes it from the day's size (:func:`routing_time_s`). A
    ``solution_limit`` makes the search deterministic for a given seed whatever the
    machine's speed (the time limit then only guards against runaway runs).
    """

    time_s: float | None = None
    solution_limit: int | None = None

    def routing_s(self, stops: int, depots: int = 1) -> float:
        """Routing seconds of a scenario day with ``stops`` stops over ``depots`` depots:
        ``time_s``, or the size rule (:func:`routing_time_s`) when it is None."""
        return routing_time_s(stops, depots) if self.time_s is None else float(self.time_s)

    def describe(self) -> str:
        """``"10 s"`` or ``"size rule"``: the routing time in words (reports, progress)."""
        return "size rule" if self.time_s is None else f"{self.time_s:g} s"


__all__ = [
    "LOCATION_CAP_S",
    "LOCATION_FLOOR_S",
    "LOCATION_S_PER_PAIR",
    "ROUTING_CAP_S",
    "ROUTING_FLOOR_S",
    "ROUTING_S_PER_DEPOT",
    "ROUTING_S_PER_STOP",
    "Limits",
    "location_time_s",
    "routing_time_s",
]
