"""The JSON Schema of ``plan.json`` (format version 3), generated from pydantic models of the
document that :func:`optimizer.formats.plan_json.plan_document` writes.

The KPI and year rows are built from the fields of the :class:`~optimizer.plans.Kpis` and
:class:`~optimizer.plans.YearFigures` dataclasses, so a new figure appears in the schema by
itself. The schema is published as ``optimizer/formats/plan.schema.json`` (shipped with the
package); ``tests/formats/test_plan_schema.py`` checks that the file equals what this module
generates and that every plan the tool writes validates against it. Regenerate it with::

    python -m optimizer.formats.plan_schema > optimizer/formats/plan.schema.json

Numbers that may not exist (a cost per order without orders, the comparison fields of the
baseline's year row) are ``number | null``; each null is explained in ``null_values``.
Quantities on routes and stops (minutes, kg, km, yuan) are always finite numbers.
"""

from __future__ import annotations

import json
from dataclasses import fields
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model

from optimizer.plans import Kpis, YearFigures

#: the published schema file (package data)
SCHEMA_PATH = Path(__file__).with_name("plan.schema.json")
SCHEMA_ID = "plan.schema.json"

NonNegative = Annotated[float, Field(ge=0)]
Count = Annotated[int, Field(ge=0)]
#: a figure that may not exist: null, explained in null_values
Figure = float | None


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Stop(_Strict):
    """One stop of a route: a produce lot collected or a parcel lot delivered."""

    stop_id: str = Field(description="collect:VILLAGE@STORE[#k] or deliver:PICKUP[#k]")
    site_id: str = Field(description="village (pickup) or pickup point (delivery)")
    kind: Literal["pickup", "delivery"]
    arrival_min: float = Field(description="minutes from midnight")
    start_min: float = Field(description="service start, minutes from midnight")
    pickup_kg: NonNegative
    delivery_kg: NonNegative
    load_after_kg: float


class Route(_Strict):
    """One trip of one vehicle from its depot and back."""

    vehicle_id: str = Field(description="TYPE#N or TYPE#N/tripK")
    vehicle_type: str
    trip: Count
    depot: str = Field(description="cold-store site the vehicle is based at")
    start_min: float
    end_min: float
    distance_km: NonNegative
    cost_yuan: float
    stops: list[Stop]


class Day(_Strict):
    """The routes of one scenario day."""

    routes: list[Route]
    dropped: list[str] = Field(description="stop ids not served")
    cost_yuan: dict[str, Figure] = Field(description="cost parts of the day, yuan")
    objective_yuan: Figure
    solver_status: str
    engine: str
    checked: bool = Field(description="passed the independent checker")


class Share(_Strict):
    """Produce of a village sent to one cold store."""

    store: str
    kg: NonNegative


class Facilities(_Strict):
    """Sites, modules and assignments of one plan."""

    name: str
    status: str
    cold_stores: list[str]
    modules: dict[str, dict[str, Count]] = Field(description="season -> site -> modules")
    pickup_points: list[str]
    produce_to_store: dict[str, list[Share]] = Field(description="village -> shares")
    village_pickup: dict[str, str] = Field(description="village -> pickup point")
    leased: dict[str, dict[str, Count]] = Field(description="season -> site -> leased modules")
    bought_modules: Count


def _row_model(name: str, cls: type, strings: tuple[str, ...], ints: tuple[str, ...],
               doc: str) -> type[BaseModel]:
    """A strict model with one field per dataclass field of ``cls``."""
    spec: dict[str, Any] = {}
    for f in fields(cls):
        if f.name in strings:
            spec[f.name] = (str, ...)
        elif f.name in ints:
            spec[f.name] = (Count, ...)
        elif f.name == "extra":
            spec[f.name] = (dict[str, Figure], ...)
        else:
            spec[f.name] = (Figure, ...)
    return create_model(name, __base__=_Strict, __doc__=doc, **spec)


KpiRow = _row_model("Kpis", Kpis, ("scenario", "plan"), ("vehicles_used", "hired_vehicles"),
                    "Key figures of one scenario day and plan (yuan, kg, km, %).")
YearRow = _row_model("YearFigures", YearFigures, ("plan",), (),
                     "One plan rolled up to a year (yuan, kg, %).")


class Outcome(_Strict):
    """One scenario day of one plan (today's baseline or the plan)."""

    scenario: str
    plan: str
    robust_village_coverage_pct: Figure
    closed_edges: list[str]
    facilities: Facilities
    day: Day
    kpis: KpiRow  # type: ignore[valid-type]


class SeasonSites(_Strict):
    """Cold-store modules per site in one season (location model)."""

    season: str
    modules: dict[str, Count]
    status: str
    objective_yuan: Figure
    bound_yuan: Figure


class Limits(_Strict):
    time_s: NonNegative | None = Field(
        description="routing seconds per scenario day and plan; null: set by the size rule "
        "(optimizer.limits.routing_time_s)")
    solution_limit: Annotated[int, Field(ge=1)] | None


class NullValue(_Strict):
    """Why the number at ``path`` is null."""

    path: str = Field(pattern=r"^/", description="JSON Pointer (RFC 6901) to the null")
    value: Literal["inf", "-inf", "nan"]
    reason: str


class PlanDocument(_Strict):
    """plan.json: a county plan from coldchain-optimizer (format version 3)."""

    format_version: Literal[3]
    instance: str
    seed: int
    limits: Limits
    seasons: list[SeasonSites]
    pickup_points: list[str]
    pickup_status: str
    iterations: list[dict[str, Figure]]
    outcomes: list[Outcome]
    budget_yuan: NonNegative | None = Field(description="yearly facility budget; null: none")
    year: list[YearRow]  # type: ignore[valid-type]
    null_values: list[NullValue]


def plan_json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of plan.json format version 3."""
    schema = PlanDocument.model_json_schema()
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID,
            **schema}


def schema_text() -> str:
    """The published schema file's text (deterministic)."""
    return json.dumps(plan_json_schema(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


if __name__ == "__main__":  # pragma: no cover - regenerates the published file
    import sys

    sys.stdout.write(schema_text())


__all__ = ["SCHEMA_PATH", "PlanDocument", "plan_json_schema", "schema_text"]
