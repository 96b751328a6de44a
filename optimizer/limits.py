"""Search limits shared by every stage (routing, location): time and solution counts."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Limits:
    """Search limits: wall-clock seconds (always honoured) and an optional solution count.

    A ``solution_limit`` makes the search deterministic for a given seed whatever the
    machine's speed (the time limit then only guards against runaway runs).
    """

    time_s: float = 60.0
    solution_limit: int | None = None


__all__ = ["Limits"]
