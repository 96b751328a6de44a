"""owned_before_hired: a hired vehicle's routes go to an owned vehicle of its type that
another depot left idle (depots are routed apart), at the owned vehicle's day cost."""

from __future__ import annotations

from dataclasses import replace

import pytest

from optimizer.planning.day import owned_before_hired
from optimizer.plans import DayPlan, PlannedRoute


def _hireable(tiny):  # type: ignore[no-untyped-def]
    """The tiny instance with reefers that can be hired at 300 yuan a day."""
    vts = tuple(replace(vt, hire_yuan_per_day=300.0, max_hired=2) if vt.id == "reefer" else vt
                for vt in tiny.vehicle_types)
    return replace(tiny, vehicle_types=vts)


def _route(vehicle: str, depot: str, trip: int, cost: float) -> PlannedRoute:
    return PlannedRoute(vehicle_id=vehicle, vehicle_type=vehicle.split("#")[0], trip=trip,
                        depot=depot, start_min=480.0, end_min=600.0, distance_km=10.0,
                        stops=(), cost_yuan=cost)


def _day(*routes: PlannedRoute) -> DayPlan:
    return DayPlan(scenario="peak", routes=routes, dropped=(),
                   cost_yuan={"fixed": 1000.0, "distance": 50.0}, objective_yuan=2000.0,
                   solver_status="ok", engine="test", runtime_s=0.0, checked=True)


def test_an_idle_owned_vehicle_drives_the_hired_ones_routes(tiny) -> None:
    inst = _hireable(tiny)
    vt = next(v for v in inst.vehicle_types if v.id == "reefer")
    hired = f"reefer#{vt.count + 1}"
    day = _day(_route("reefer#1/trip1", "cs-hub", 0, 400.0),
               _route(f"{hired}/trip1", "cs-b", 0, 420.0),
               _route(f"{hired}/trip2", "cs-b", 1, 90.0))
    # reefer #1 at the hub, #2 at cs-c (idle): the hire at cs-b becomes reefer #2
    out = owned_before_hired(inst, day, {"reefer": {"cs-hub": 1, "cs-c": 1}})
    ids = [r.vehicle_id for r in out.routes]
    assert ids == ["reefer#1/trip1", "reefer#2/trip1", "reefer#2/trip2"]
    saved = 300.0 - vt.fixed_cost_yuan_per_day
    assert out.routes[1].cost_yuan == pytest.approx(420.0 - saved)
    assert out.routes[2].cost_yuan == pytest.approx(90.0)  # later trips carry no day cost
    assert out.cost_yuan["fixed"] == pytest.approx(1000.0 - saved)
    assert out.cost_yuan["distance"] == 50.0
    assert out.objective_yuan == pytest.approx(2000.0 - saved)


def test_nothing_moves_when_every_owned_vehicle_is_used(tiny) -> None:
    inst = _hireable(tiny)
    vt = next(v for v in inst.vehicle_types if v.id == "reefer")
    day = _day(_route("reefer#1/trip1", "cs-hub", 0, 400.0),
               _route("reefer#2/trip1", "cs-c", 0, 400.0),
               _route(f"reefer#{vt.count + 1}/trip1", "cs-b", 0, 420.0))
    assert owned_before_hired(inst, day, {"reefer": {"cs-hub": 1, "cs-c": 1}}) == day
    # an owned vehicle the placement did not give out (a budget's smaller fleet) stays unused
    one = _day(_route("reefer#1/trip1", "cs-hub", 0, 400.0),
               _route(f"reefer#{vt.count + 1}/trip1", "cs-b", 0, 420.0))
    assert owned_before_hired(inst, one, {"reefer": {"cs-hub": 1}}) == one


def test_a_store_with_produce_and_no_vehicle_gets_a_hired_one(tiny) -> None:
    """Proportional placement gave a small store no vehicle at all (its lots were all
    dropped); it now gets one hired vehicle, taken from the store holding most of the
    pool; the pool is never exceeded and stores that have a vehicle keep their split."""
    from optimizer.planning.fleet import place_fleet
    from optimizer.plans import FacilityPlan

    inst = replace(_hireable(tiny), vehicle_types=tuple(
        replace(vt, hire_yuan_per_day=300.0, max_hired=5) if vt.id == "reefer" else vt
        for vt in tiny.vehicle_types))
    hub = inst.operations.hub
    fac = FacilityPlan(name="plan", cold_stores=(hub, "cs-b", "cs-c"), modules={},
                       pickup_points=(), village_pickup={},
                       produce_to_store={"v1": (("cs-b", 50_000.0),), "v2": (("cs-c", 10.0),)})
    owned = place_fleet(inst, fac, {"v1": 10.0})
    assert all(per.get("cs-c", 0) == 0 for per in owned.values())
    before = place_fleet(inst, fac, {"v1": 10.0}, hired=True)
    assert "cs-c" not in before["reefer"]  # proportional: 10 kg earns no vehicle
    hired = place_fleet(inst, fac, {"v1": 10.0}, hired=True, placed=owned)
    assert hired["reefer"]["cs-c"] == 1
    assert sum(hired["reefer"].values()) == 5
    assert hired["reefer"]["cs-b"] == before["reefer"]["cs-b"] - 1
    # a store that has an owned vehicle is left as it was
    owned_c = {k: dict(v) for k, v in owned.items()}
    owned_c["tricycle"]["cs-c"] = 1
    assert place_fleet(inst, fac, {"v1": 10.0}, hired=True, placed=owned_c) == before
