"""Read and write ``plan.json``: a whole :class:`~optimizer.plans.PlanningResult`, machine-readable.

The file is deterministic: keys sorted, floats rounded to :data:`FLOAT_DECIMALS` decimals,
UTF-8, two-space indentation, a final newline, and no wall-clock figure at all (runtimes are
reported in ``report.md`` only), so the same instance, seed and solution limit give a
byte-identical file. ``DayPlan.runtime_s`` and ``PlanningResult.runtime_s`` read back as 0.

Numbers are numbers: a figure that does not exist (the cost per order of a day without
orders, the payback of a plan that saves nothing, the comparison fields of the baseline's own
year row) is written as ``null``, and the top-level ``null_values`` list says why, one entry
``{"path": JSON Pointer, "value": "inf" | "-inf" | "nan", "reason": text}`` per null, so
the file stays strict JSON and reads back exactly. The file's JSON Schema is
``optimizer/formats/plan.schema.json`` (:mod:`optimizer.formats.plan_schema`). Versions 1
and 2 wrote such values as the strings ``"inf"``, ``"-inf"``, ``"nan"``; they still read.

Units follow the field names: minutes from midnight (``*_min``), kg, km, yuan, percent.
Layout (``format_version`` 3; version 1 files, without the year, the budget, the leases and
the later KPI fields, are still read)::

    {"format_version": 3, "instance": str, "seed": int,
     "limits": {"time_s": float | null (null: the size rule), "solution_limit": int | null},
     "seasons": [{"season", "modules": {site: int}, "status", "objective_yuan", "bound_yuan"}],
     "pickup_points": [site], "pickup_status": str, "iterations": [{str: float}],
     "outcomes": [{"scenario", "plan", "robust_village_coverage_pct", "closed_edges",
                   "facilities": {"name", "status", "cold_stores", "modules", "pickup_points",
                                  "produce_to_store": {village: [{"store", "kg"}]},
                                  "village_pickup": {village: pickup},
                                  "leased": {season: {site: int}}, "bought_modules": int},
                   "day": {"routes": [{"vehicle_id", "vehicle_type", "trip", "depot",
                                       "start_min", "end_min", "distance_km", "cost_yuan",
                                       "stops": [{"stop_id", "site_id", "kind",
                                                  "arrival_min", "start_min", "pickup_kg",
                                                  "delivery_kg", "load_after_kg"}]}],
                           "dropped", "cost_yuan": {part: yuan}, "objective_yuan",
                           "solver_status", "engine", "checked"},
                   "kpis": {every Kpis field, "extra": {str: float}}}],
     "budget_yuan": float | null, "year": [{every YearFigures field}],
     "null_values": [{"path", "value", "reason"}]}

Vehicles are named ``TYPE#N`` (``N`` from 1 to the plan's fleet of that type, numbered
across depots; the route's ``depot`` says where it is based), and ``TYPE#N/tripK`` for trip
``K`` of a type that makes several; stops are ``collect:VILLAGE@STORE[#k]`` (produce lot k)
and ``deliver:PICKUP[#k]`` (parcel lot k), quantities in whole kg.

A planner may edit the file by hand (move a lot to another route, reorder stops, close a
site) and re-verify it with ``coldchain check`` (:mod:`optimizer.planning.verify`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import fields
from pathlib import Path
from typing import Any, TypeVar

from optimizer._io import write_text
from optimizer.errors import InputError, InstanceError
from optimizer.instance import Instance
from optimizer.plans import (
    DayPlan,
    FacilityPlan,
    Kpis,
    PlannedRoute,
    PlannedStop,
    PlanningResult,
    ScenarioOutcome,
    SeasonSites,
    YearFigures,
)

FORMAT_VERSION = 3
#: versions this reader accepts (version 1 lacks the year, the economics and the budget;
#: versions 1 and 2 write non-finite numbers as strings, version 3 as null + null_values)
READABLE_VERSIONS = (1, 2, 3)
#: decimals kept for every float in plan.json (1e-6 min, kg, km, yuan, %)
FLOAT_DECIMALS = 6
#: plan.json files above this size are refused before reading (a county plan is a few MB)
MAX_PLAN_BYTES = 1024 * 1024**2

#: the largest magnitude of a number read back (times in minutes, kg, yuan a year...):
#: beyond it a hand-edited value would overflow the checker's integer seconds
MAX_ABS = 1e15
_NONFINITE = {"inf": math.inf, "-inf": -math.inf, "nan": math.nan}
_FIX = "fix plan.json by hand or write it again with `coldchain solve --out DIR`"

T = TypeVar("T")


# ---- writing -------------------------------------------------------------------------------
def _num(x: float) -> float:
    """A float rounded for the file (no negative zero); non-finite values pass through and
    become null + a ``null_values`` entry in :func:`plan_document`."""
    x = float(x)
    if not math.isfinite(x):
        return x
    r = round(x, FLOAT_DECIMALS)
    return 0.0 if r == 0 else r


def _fnum(d: Mapping[str, float]) -> dict[str, float]:
    return {str(k): _num(v) for k, v in d.items()}


def _nonfinite_word(x: float) -> str:
    return "nan" if math.isnan(x) else ("inf" if x > 0 else "-inf")


#: year fields that compare a plan with today's baseline (NaN on the baseline's own row)
_COMPARISONS = ("saving_yuan", "payback_years", "npv_yuan", "budget_use_yuan")


def null_reason(path: tuple[str, ...], x: float) -> str:
    """Why the figure at ``path`` (JSON Pointer tokens) is ``x`` (non-finite), in words."""
    key = path[-1] if path else ""
    if path[:1] == ("year",) and key in _COMPARISONS and math.isnan(x):
        return "today's baseline is not compared with itself"
    if key == "payback_years" and x > 0:
        return "never pays back: the plan saves nothing a year against today"
    if "per_order" in key and not math.isnan(x):
        return "no orders, so there is no cost per order"
    if key == "robust_village_coverage_pct":
        return "not computed for this plan"
    if math.isnan(x):
        return "not defined for this plan (not computed, or 0 divided by 0)"
    return "unbounded (a division by zero)"


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def _unescape(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")


def _nulls(doc: Any, path: tuple[str, ...], found: list[dict[str, str]]) -> Any:
    """``doc`` with non-finite floats replaced by None; one ``null_values`` entry each."""
    if isinstance(doc, float) and not math.isfinite(doc):
        found.append({"path": "/" + "/".join(_escape(t) for t in path),
                      "value": _nonfinite_word(doc), "reason": null_reason(path, doc)})
        return None
    if isinstance(doc, dict):
        return {k: _nulls(v, (*path, str(k)), found) for k, v in doc.items()}
    if isinstance(doc, list):
        return [_nulls(v, (*path, str(i)), found) for i, v in enumerate(doc)]
    return doc


def _facilities_doc(f: FacilityPlan) -> dict[str, Any]:
    return {
        "name": f.name,
        "status": f.status,
        "cold_stores": list(f.cold_stores),
        "modules": {season: {sid: int(n) for sid, n in m.items()}
                    for season, m in f.modules.items()},
        "pickup_points": list(f.pickup_points),
        "produce_to_store": {
            vid: [{"store": store, "kg": _num(kg)} for store, kg in shares]
            for vid, shares in f.produce_to_store.items()
        },
        "village_pickup": dict(f.village_pickup),
        "leased": {season: {sid: int(n) for sid, n in m.items()}
                   for season, m in f.leased.items()},
        "bought_modules": int(f.bought_modules),
    }


def _stop_doc(s: PlannedStop) -> dict[str, Any]:
    return {
        "stop_id": s.stop_id, "site_id": s.site_id, "kind": s.kind,
        "arrival_min": _num(s.arrival_min), "start_min": _num(s.start_min),
        "pickup_kg": _num(s.pickup_kg), "delivery_kg": _num(s.delivery_kg),
        "load_after_kg": _num(s.load_after_kg),
    }


def _route_doc(r: PlannedRoute) -> dict[str, Any]:
    return {
        "vehicle_id": r.vehicle_id, "vehicle_type": r.vehicle_type, "trip": int(r.trip),
        "depot": r.depot, "start_min": _num(r.start_min), "end_min": _num(r.end_min),
        "distance_km": _num(r.distance_km), "cost_yuan": _num(r.cost_yuan),
        "stops": [_stop_doc(s) for s in r.stops],
    }


def _day_doc(d: DayPlan) -> dict[str, Any]:
    return {
        "routes": [_route_doc(r) for r in d.routes],
        "dropped": list(d.dropped),
        "cost_yuan": _fnum(d.cost_yuan),
        "objective_yuan": _num(d.objective_yuan),
        "solver_status": d.solver_status,
        "engine": d.engine,
        "checked": bool(d.checked),
    }


def _kpis_doc(k: Kpis) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in fields(Kpis):
        v = getattr(k, f.name)
        if f.name == "extra":
            out["extra"] = _fnum(v)
        elif isinstance(v, str):
            out[f.name] = v
        elif f.name in _KPI_INTS:
            out[f.name] = int(v)
        else:
            out[f.name] = _num(v)
    return out


def _year_doc(y: YearFigures) -> dict[str, Any]:
    return {f.name: (y.plan if f.name == "plan" else _num(getattr(y, f.name)))
            for f in fields(YearFigures)}


def _outcome_doc(o: ScenarioOutcome) -> dict[str, Any]:
    return {
        "scenario": o.scenario,
        "plan": o.plan,
        "robust_village_coverage_pct": None if o.robust_village_coverage_pct is None
        else _num(o.robust_village_coverage_pct),
        "closed_edges": list(o.closed_edges),
        "facilities": _facilities_doc(o.facilities),
        "day": _day_doc(o.day),
        "kpis": _kpis_doc(o.kpis),
    }


def plan_document(result: PlanningResult) -> dict[str, Any]:
    """The JSON document (plain dicts/lists) of ``result``; floats already rounded,
    non-finite ones as None with their ``null_values`` entries."""
    doc = {
        "format_version": FORMAT_VERSION,
        "instance": result.instance,
        "seed": int(result.seed),
        "limits": {"time_s": None if result.time_limit_s is None
                   else _num(result.time_limit_s),
                   "solution_limit": None if result.solution_limit is None
                   else int(result.solution_limit)},
        "seasons": [
            {"season": s.season, "modules": {k: int(v) for k, v in s.modules.items()},
             "status": s.status, "objective_yuan": _num(s.objective_yuan),
             "bound_yuan": _num(s.bound_yuan)}
            for s in result.seasons
        ],
        "pickup_points": list(result.pickup_points),
        "pickup_status": result.pickup_status,
        "iterations": [_fnum(it) for it in result.iterations],
        "outcomes": [_outcome_doc(o) for o in result.outcomes],
        "budget_yuan": None if result.budget_yuan is None else _num(result.budget_yuan),
        "year": [_year_doc(y) for y in result.year],
    }
    found: list[dict[str, str]] = []
    out: dict[str, Any] = _nulls(doc, (), found)
    out["null_values"] = sorted(found, key=lambda e: e["path"])
    return out


def dumps_plan(result: PlanningResult) -> str:
    """plan.json text of ``result`` (deterministic: sorted keys, rounded floats)."""
    return json.dumps(plan_document(result), sort_keys=True, indent=2, ensure_ascii=False,
                      allow_nan=False) + "\n"


def write_plan_json(path: str | Path, instance: Instance, result: PlanningResult) -> None:
    """Write ``result`` (planned on ``instance``) to ``path`` as plan.json, atomically.

    Raises :class:`InputError` when ``result`` belongs to another instance or the file
    cannot be written.
    """
    if result.instance != instance.name:
        raise InputError.at(path, "instance", f"result is for instance {result.instance!r}, "
                            f"not {instance.name!r}", fix="pass the instance that was solved")
    write_text(path, dumps_plan(result))


# ---- reading -------------------------------------------------------------------------------
class _Reader:
    """Typed access to the parsed document with one-line errors ``path: field: problem``."""

    def __init__(self, path: str | Path) -> None:
        self.path = path

    def fail(self, field: str, problem: str, got: object, fix: str = _FIX) -> InstanceError:
        return InstanceError.at(self.path, field, problem, got=_short(got), fix=fix)

    def obj(self, v: Any, field: str, keys: tuple[str, ...],
            optional: tuple[str, ...] = ()) -> dict[str, Any]:
        if not isinstance(v, dict):
            raise self.fail(field, "must be an object", type(v).__name__)
        missing = [k for k in keys if k not in v]
        if missing:
            raise self.fail(f"{field}.{missing[0]}" if field else missing[0], "missing key",
                            sorted(v), fix=f"add {missing[0]!r}; {_FIX}")
        unknown = sorted(set(v) - set(keys) - set(optional))
        if unknown:
            raise self.fail(f"{field}.{unknown[0]}" if field else unknown[0], "unknown key",
                            unknown[0], fix=f"remove it (known: {', '.join(keys + optional)})")
        return v

    def str_(self, v: Any, field: str) -> str:
        if not isinstance(v, str):
            raise self.fail(field, "must be a string", v)
        return v

    def int_(self, v: Any, field: str, *, minimum: int | None = None) -> int:
        if isinstance(v, bool) or not isinstance(v, int):
            raise self.fail(field, "must be an integer", v)
        if abs(v) > MAX_ABS:
            raise self.fail(field, f"must be at most {MAX_ABS:.0e} in size", v)
        if minimum is not None and v < minimum:
            raise self.fail(field, f"must be >= {minimum}", v)
        return v

    def float_(self, v: Any, field: str, *, finite: bool = False,
               minimum: float | None = None) -> float:
        if not finite and (v is None or isinstance(v, str) and v in _NONFINITE):
            return math.nan if v is None else _NONFINITE[v]  # null without a null_values entry
        if isinstance(v, bool) or not isinstance(v, int | float):
            raise self.fail(field, "must be a number", v)
        if isinstance(v, int) and abs(v) > MAX_ABS:
            raise self.fail(field, f"must be at most {MAX_ABS:.0e} in size", v)
        x = float(v)
        if finite and not math.isfinite(x):
            raise self.fail(field, "must be a finite number", v)
        if math.isfinite(x) and abs(x) > MAX_ABS:
            raise self.fail(field, f"must be at most {MAX_ABS:.0e} in size", v)
        if minimum is not None and x < minimum:
            raise self.fail(field, f"must be >= {minimum:g}", v)
        return x

    def bool_(self, v: Any, field: str) -> bool:
        if not isinstance(v, bool):
            raise self.fail(field, "must be true or false", v)
        return v

    def list_(self, v: Any, field: str, item: Callable[[Any, str], T]) -> list[T]:
        if not isinstance(v, list):
            raise self.fail(field, "must be a list", type(v).__name__)
        return [item(x, f"{field}[{i}]") for i, x in enumerate(v)]

    def dict_(self, v: Any, field: str, item: Callable[[Any, str], T]) -> dict[str, T]:
        if not isinstance(v, dict):
            raise self.fail(field, "must be an object", type(v).__name__)
        return {str(k): item(x, f"{field}.{k}") for k, x in v.items()}


def _short(v: object) -> object:
    s = repr(v)
    return v if len(s) <= 60 else s[:57] + "..."


def _read_facilities(r: _Reader, v: Any, at: str) -> FacilityPlan:
    d = r.obj(v, at, ("name", "status", "cold_stores", "modules", "pickup_points",
                      "produce_to_store", "village_pickup"), ("leased", "bought_modules"))

    def share(x: Any, f: str) -> tuple[str, float]:
        s = r.obj(x, f, ("store", "kg"))
        return r.str_(s["store"], f"{f}.store"), r.float_(s["kg"], f"{f}.kg", finite=True,
                                                         minimum=0.0)

    return FacilityPlan(
        name=r.str_(d["name"], f"{at}.name"),
        cold_stores=tuple(r.list_(d["cold_stores"], f"{at}.cold_stores", r.str_)),
        modules=r.dict_(d["modules"], f"{at}.modules",
                        lambda x, f: r.dict_(x, f, lambda y, g: r.int_(y, g, minimum=0))),
        pickup_points=tuple(r.list_(d["pickup_points"], f"{at}.pickup_points", r.str_)),
        produce_to_store=r.dict_(d["produce_to_store"], f"{at}.produce_to_store",
                                 lambda x, f: tuple(r.list_(x, f, share))),
        village_pickup=r.dict_(d["village_pickup"], f"{at}.village_pickup", r.str_),
        status=r.str_(d["status"], f"{at}.status"),
        leased=r.dict_(d.get("leased", {}), f"{at}.leased",
                       lambda x, f: r.dict_(x, f, lambda y, g: r.int_(y, g, minimum=0))),
        bought_modules=r.int_(d.get("bought_modules", 0), f"{at}.bought_modules", minimum=0),
    )


def _read_stop(r: _Reader, v: Any, at: str) -> PlannedStop:
    d = r.obj(v, at, ("stop_id", "site_id", "kind", "arrival_min", "start_min", "pickup_kg",
                      "delivery_kg", "load_after_kg"))
    kind = r.str_(d["kind"], f"{at}.kind")
    if kind not in ("pickup", "delivery"):
        raise r.fail(f"{at}.kind", "must be 'pickup' (produce lot) or 'delivery' (parcels)",
                     kind)
    return PlannedStop(
        stop_id=r.str_(d["stop_id"], f"{at}.stop_id"),
        site_id=r.str_(d["site_id"], f"{at}.site_id"),
        kind=kind,
        arrival_min=r.float_(d["arrival_min"], f"{at}.arrival_min", finite=True),
        start_min=r.float_(d["start_min"], f"{at}.start_min", finite=True),
        pickup_kg=r.float_(d["pickup_kg"], f"{at}.pickup_kg", finite=True, minimum=0.0),
        delivery_kg=r.float_(d["delivery_kg"], f"{at}.delivery_kg", finite=True, minimum=0.0),
        load_after_kg=r.float_(d["load_after_kg"], f"{at}.load_after_kg", finite=True),
    )


def _read_route(r: _Reader, v: Any, at: str) -> PlannedRoute:
    d = r.obj(v, at, ("vehicle_id", "vehicle_type", "trip", "depot", "start_min", "end_min",
                      "distance_km", "cost_yuan", "stops"))
    return PlannedRoute(
        vehicle_id=r.str_(d["vehicle_id"], f"{at}.vehicle_id"),
        vehicle_type=r.str_(d["vehicle_type"], f"{at}.vehicle_type"),
        trip=r.int_(d["trip"], f"{at}.trip", minimum=0),
        depot=r.str_(d["depot"], f"{at}.depot"),
        start_min=r.float_(d["start_min"], f"{at}.start_min", finite=True),
        end_min=r.float_(d["end_min"], f"{at}.end_min", finite=True),
        distance_km=r.float_(d["distance_km"], f"{at}.distance_km", finite=True, minimum=0.0),
        stops=tuple(r.list_(d["stops"], f"{at}.stops", lambda x, f: _read_stop(r, x, f))),
        cost_yuan=r.float_(d["cost_yuan"], f"{at}.cost_yuan", finite=True),
    )


def _read_day(r: _Reader, v: Any, at: str, scenario: str) -> DayPlan:
    d = r.obj(v, at, ("routes", "dropped", "cost_yuan", "objective_yuan", "solver_status",
                      "engine", "checked"))
    return DayPlan(
        scenario=scenario,
        routes=tuple(r.list_(d["routes"], f"{at}.routes", lambda x, f: _read_route(r, x, f))),
        dropped=tuple(r.list_(d["dropped"], f"{at}.dropped", r.str_)),
        cost_yuan=r.dict_(d["cost_yuan"], f"{at}.cost_yuan", r.float_),
        objective_yuan=r.float_(d["objective_yuan"], f"{at}.objective_yuan"),
        solver_status=r.str_(d["solver_status"], f"{at}.solver_status"),
        engine=r.str_(d["engine"], f"{at}.engine"),
        runtime_s=0.0,
        checked=r.bool_(d["checked"], f"{at}.checked"),
    )


_KPI_FIELDS = tuple(f.name for f in fields(Kpis))
#: the KPI fields of format version 1 (required); later ones are optional on reading
_KPI_V1 = _KPI_FIELDS[:_KPI_FIELDS.index("produce_dropped_kg") + 1] + ("extra",)
_KPI_INTS = ("vehicles_used", "hired_vehicles")


def _read_kpis(r: _Reader, v: Any, at: str) -> Kpis:
    d = r.obj(v, at, _KPI_V1, tuple(n for n in _KPI_FIELDS if n not in _KPI_V1))
    vals: dict[str, Any] = {}
    for name in _KPI_FIELDS:
        f = f"{at}.{name}"
        if name not in d:
            continue
        if name in ("scenario", "plan"):
            vals[name] = r.str_(d[name], f)
        elif name in _KPI_INTS:
            vals[name] = r.int_(d[name], f, minimum=0)
        elif name == "extra":
            vals[name] = r.dict_(d[name], f, r.float_)
        else:
            vals[name] = r.float_(d[name], f)
    return Kpis(**vals)


_YEAR_FIELDS = tuple(f.name for f in fields(YearFigures))


def _read_year(r: _Reader, v: Any, at: str) -> YearFigures:
    d = r.obj(v, at, _YEAR_FIELDS)
    figures = {n: r.float_(d[n], f"{at}.{n}") for n in _YEAR_FIELDS if n != "plan"}
    return YearFigures(r.str_(d["plan"], f"{at}.plan"), **figures)  # type: ignore[arg-type]


def _read_outcome(r: _Reader, v: Any, at: str) -> ScenarioOutcome:
    d = r.obj(v, at, ("scenario", "plan", "robust_village_coverage_pct", "closed_edges",
                      "facilities", "day", "kpis"))
    scenario = r.str_(d["scenario"], f"{at}.scenario")
    rc = d["robust_village_coverage_pct"]
    return ScenarioOutcome(
        scenario=scenario,
        plan=r.str_(d["plan"], f"{at}.plan"),
        facilities=_read_facilities(r, d["facilities"], f"{at}.facilities"),
        day=_read_day(r, d["day"], f"{at}.day", scenario),
        kpis=_read_kpis(r, d["kpis"], f"{at}.kpis"),
        robust_village_coverage_pct=None if rc is None
        else r.float_(rc, f"{at}.robust_village_coverage_pct"),
        closed_edges=tuple(r.list_(d["closed_edges"], f"{at}.closed_edges", r.str_)),
    )


def _read_season(r: _Reader, v: Any, at: str) -> SeasonSites:
    d = r.obj(v, at, ("season", "modules", "status", "objective_yuan", "bound_yuan"))
    return SeasonSites(
        season=r.str_(d["season"], f"{at}.season"),
        modules=r.dict_(d["modules"], f"{at}.modules", lambda x, f: r.int_(x, f, minimum=0)),
        status=r.str_(d["status"], f"{at}.status"),
        objective_yuan=r.float_(d["objective_yuan"], f"{at}.objective_yuan"),
        bound_yuan=r.float_(d["bound_yuan"], f"{at}.bound_yuan"),
    )


def parse_plan_document(doc: Any, *, path: str | Path = "plan.json") -> PlanningResult:
    """Validate a parsed plan.json document and build the :class:`PlanningResult`."""
    r = _Reader(path)
    d = r.obj(doc, "", ("format_version", "instance", "seed", "limits", "seasons",
                        "pickup_points", "pickup_status", "iterations", "outcomes"),
              ("budget_yuan", "year", "null_values"))
    version = d["format_version"]
    if version not in READABLE_VERSIONS or isinstance(version, bool):
        raise r.fail("format_version", "unsupported version (this tool reads "
                     f"{', '.join(map(str, READABLE_VERSIONS))})", version,
                     fix="write the plan again with this version of coldchain")
    if "null_values" in d:
        d = _restore_nulls(r, d)
    budget = d.get("budget_yuan")
    limits = r.obj(d["limits"], "limits", ("time_s", "solution_limit"))
    sl = limits["solution_limit"]
    outcomes = tuple(r.list_(d["outcomes"], "outcomes", lambda x, f: _read_outcome(r, x, f)))
    seen: set[tuple[str, str]] = set()
    for i, o in enumerate(outcomes):
        key = (o.scenario, o.plan)
        if key in seen:
            raise r.fail(f"outcomes[{i}]", "duplicate scenario/plan", "/".join(key),
                         fix="keep one outcome per scenario and plan")
        seen.add(key)
    return PlanningResult(
        instance=r.str_(d["instance"], "instance"),
        seed=r.int_(d["seed"], "seed"),
        time_limit_s=None if limits["time_s"] is None
        else r.float_(limits["time_s"], "limits.time_s", finite=True, minimum=0.0),
        solution_limit=None if sl is None else r.int_(sl, "limits.solution_limit", minimum=1),
        seasons=tuple(r.list_(d["seasons"], "seasons", lambda x, f: _read_season(r, x, f))),
        pickup_points=tuple(r.list_(d["pickup_points"], "pickup_points", r.str_)),
        pickup_status=r.str_(d["pickup_status"], "pickup_status"),
        outcomes=outcomes,
        iterations=tuple(r.list_(d["iterations"], "iterations",
                                 lambda x, f: r.dict_(x, f, r.float_))),
        runtime_s=0.0,
        budget_yuan=None if budget is None else r.float_(budget, "budget_yuan", minimum=0.0),
        year=tuple(r.list_(d.get("year", []), "year", lambda x, f: _read_year(r, x, f))),
    )


def _restore_nulls(r: _Reader, doc: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``doc`` with each null named in ``null_values`` set to its float."""
    import copy

    entries = r.list_(doc["null_values"], "null_values",
                      lambda x, f: r.obj(x, f, ("path", "value", "reason")))
    doc = copy.deepcopy({k: v for k, v in doc.items() if k != "null_values"})
    for i, e in enumerate(entries):
        at = f"null_values[{i}]"
        word, pointer = e["value"], r.str_(e["path"], f"{at}.path")
        if not isinstance(word, str) or word not in _NONFINITE:
            raise r.fail(f"{at}.value", "must be 'inf', '-inf' or 'nan'", word)
        slot = _pointer_slot(doc, pointer)
        if slot is None or slot[0][slot[1]] is not None:
            raise r.fail(f"{at}.path", "does not point at a null in the plan", pointer,
                         fix="point at a null number, e.g. /year/0/payback_years")
        slot[0][slot[1]] = _NONFINITE[word]
    return doc


def _pointer_slot(doc: Any, pointer: str) -> tuple[Any, str | int] | None:
    """(container, key or index) that the JSON Pointer ``pointer`` names in ``doc``."""
    if not pointer.startswith("/"):
        return None
    node: Any = doc
    tokens = [_unescape(t) for t in pointer.split("/")[1:]]
    for i, t in enumerate(tokens):
        key: str | int = t
        if isinstance(node, list) and t.isdigit() and int(t) < len(node):
            key = int(t)
        elif not (isinstance(node, dict) and t in node):
            return None
        if i == len(tokens) - 1:
            return node, key
        node = node[key]
    return None


def validate_site_ids(result: PlanningResult, instance: Instance, *,
                      path: str | Path = "plan.json") -> None:
    """Raise :class:`InstanceError` on the first site, vehicle type, season or scenario id of
    ``result`` that ``instance`` does not define."""
    r = _Reader(path)
    stores = {s.id for s in instance.cold_store_sites}
    pickups = {p.id for p in instance.pickup_sites}
    villages = {v.id for v in instance.villages}
    vtypes = {vt.id for vt in instance.vehicle_types}
    seasons = {s.id for s in instance.seasons}
    scenarios = {s.id for s in instance.scenarios}

    def need(value: str, known: set[str], field: str, what: str) -> None:
        if value not in known:
            raise r.fail(field, f"unknown {what} id", value,
                         fix=f"use one of {sorted(known)[:6]} (instance {instance.name})")

    if result.instance != instance.name:
        raise r.fail("instance", "plan is for another instance", result.instance,
                     fix=f"check it against the instance it was made for (this is "
                     f"{instance.name!r})")
    for i, s in enumerate(result.seasons):
        need(s.season, seasons, f"seasons[{i}].season", "season")
        for sid in s.modules:
            need(sid, stores, f"seasons[{i}].modules.{sid}", "cold-store site")
    for i, p in enumerate(result.pickup_points):
        need(p, pickups, f"pickup_points[{i}]", "pickup site")
    for i, o in enumerate(result.outcomes):
        at = f"outcomes[{i}]"
        need(o.scenario, scenarios, f"{at}.scenario", "scenario")
        f = o.facilities
        for j, sid in enumerate(f.cold_stores):
            need(sid, stores, f"{at}.facilities.cold_stores[{j}]", "cold-store site")
        for season, mods in f.modules.items():
            need(season, seasons, f"{at}.facilities.modules.{season}", "season")
            for sid in mods:
                need(sid, stores, f"{at}.facilities.modules.{season}.{sid}", "cold-store site")
        for season, mods in f.leased.items():
            need(season, seasons, f"{at}.facilities.leased.{season}", "season")
            for sid in mods:
                need(sid, stores, f"{at}.facilities.leased.{season}.{sid}", "cold-store site")
        for j, p in enumerate(f.pickup_points):
            need(p, pickups, f"{at}.facilities.pickup_points[{j}]", "pickup site")
        for vid, shares in f.produce_to_store.items():
            need(vid, villages, f"{at}.facilities.produce_to_store.{vid}", "village")
            for k, (sid, _) in enumerate(shares):
                need(sid, stores, f"{at}.facilities.produce_to_store.{vid}[{k}].store",
                     "cold-store site")
        for vid, p in f.village_pickup.items():
            need(vid, villages, f"{at}.facilities.village_pickup.{vid}", "village")
            need(p, pickups, f"{at}.facilities.village_pickup.{vid}", "pickup site")
        for j, route in enumerate(o.day.routes):
            rat = f"{at}.day.routes[{j}]"
            need(route.vehicle_type, vtypes, f"{rat}.vehicle_type", "vehicle type")
            need(route.depot, stores, f"{rat}.depot", "cold-store site")
            for k, st in enumerate(route.stops):
                known = villages if st.kind == "pickup" else pickups
                need(st.site_id, known, f"{rat}.stops[{k}].site_id",
                     "village" if st.kind == "pickup" else "pickup site")


def read_plan_json(path: str | Path, *, instance: Instance | None = None) -> PlanningResult:
    """Read plan.json written by :func:`write_plan_json` (or edited by hand).

    With ``instance``, every site, vehicle-type, season and scenario id must exist in it.
    Raises :class:`InstanceError` with one line ``path: field: problem (got ...); fix`` for
    a file that is missing, not JSON, or has missing keys, wrong types or unknown ids.
    """
    p = Path(path)
    if p.is_file() and p.stat().st_size > MAX_PLAN_BYTES:
        raise InstanceError.at(p, None, f"file too large ({p.stat().st_size / 1e6:,.0f} MB)",
                               fix=f"a plan.json must be under {MAX_PLAN_BYTES / 1e6:,.0f} MB")
    if p.exists() and not p.is_file():
        raise InstanceError.at(p, None, "not a regular file",
                               fix="pass the plan.json written by `coldchain solve --out`")
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InstanceError.at(p, None, "file not found",
                               fix="pass the plan.json written by `coldchain solve --out`"
                               ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InstanceError.at(p, None, f"cannot read the file ({exc})",
                               fix="pass a readable UTF-8 plan.json") from None
    try:
        doc = json.loads(text, parse_constant=lambda c: _bad_constant(p, c))
    except json.JSONDecodeError as exc:
        raise InstanceError.at(p, f"line {exc.lineno} column {exc.colno}",
                               f"not valid JSON ({exc.msg})", fix="fix the JSON syntax") from None
    result = parse_plan_document(doc, path=p)
    if instance is not None:
        validate_site_ids(result, instance, path=p)
    return result


def _bad_constant(path: Path, c: str) -> float:
    raise InstanceError.at(path, None, f"non-standard JSON constant {c}",
                           fix="write a figure that does not exist as null (and say why in "
                           "null_values)")


__all__ = [
    "FLOAT_DECIMALS",
    "FORMAT_VERSION",
    "dumps_plan",
    "null_reason",
    "parse_plan_document",
    "plan_document",
    "read_plan_json",
    "validate_site_ids",
    "write_plan_json",
]
